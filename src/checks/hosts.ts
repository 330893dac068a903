/**
 * Several servers for one check, where the protocol's own URL has them: libpq's host list
 * (`postgres://h1:5432,h2:5433/db`), a MongoDB seed list, a NATS server list. The `hosts` option
 * holds them as `HOST[:PORT]` entries (IPv6 in brackets); `eachHost` tries them in order, the
 * first that passes passes the check, and says which one answered.
 */
import * as z from '../core/z.js';
import { setReadBudgetOf } from '../net/bounded.js';
import { hostPort, type Endpoint } from '../net/dial.js';
import { describeError } from '../net/errors.js';
import { stringList } from '../core/options.js';
import { CheckError, type CheckContext, type StepName } from '../core/contract.js';

export type { Endpoint };

// eslint-disable-next-line no-control-regex
const BAD = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\s,/?#@]/;

/** One `HOST[:PORT]` entry: `db1`, `db1:5433`, `[::1]:5433`, `[::1]`; undefined when malformed. */
export function parseEndpoint(entry: string, defaultPort: number): Endpoint | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry.trim());
  if (!m) return undefined;
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  if (BAD.test(host.replace(/^\[|\]$/g, ''))) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!(port >= 1 && port <= 65535)) return undefined;
  return { host, port };
}

/** The `hosts` option: a list (or a comma-separated string) of `HOST[:PORT]`. */
export function hostList() {
  const what = 'a list of HOST[:PORT] (IPv6 in brackets), or one comma-separated string of them';
  return stringList(what).check(
    z.refine((l) => l.length > 0 && l.every((e) => parseEndpoint(e, 1) !== undefined), { message: `expected ${what}` }),
  );
}

type HostFields = { host?: unknown; hosts?: unknown };
/**
 * Runs a refinement of the whole options object even when other options have problems (zod skips
 * object refinements then), so that every problem of a check is reported at once.
 */
export const always = { when: (p: { value: unknown }) => typeof p.value === 'object' && p.value !== null } as const;
/** The refinements a schema with both `host` and `hosts` needs (exactly one of them): `.check(...hostOrHosts())`. */
export function hostOrHosts<T extends HostFields>() {
  return [
    z.refine<T>((o) => o.host !== undefined || o.hosts !== undefined, { message: 'expected host (or hosts, a list of servers), got nothing', path: ['host'], ...always }),
    z.refine<T>((o) => o.host === undefined || o.hosts === undefined, { message: 'expected host or hosts, got both', path: ['hosts'], ...always }),
  ] as const;
}

/** The servers the options name: `hosts` (entries without a port get `port`), else `host:port`. */
export function endpointsOf(o: { host?: string; port?: number; hosts?: readonly string[] }, defaultPort: number): Endpoint[] {
  const port = o.port ?? defaultPort;
  if (o.hosts?.length) return o.hosts.map((e) => parseEndpoint(e, port)!);
  return [{ host: o.host!, port }];
}

/** `h1:5432,h2:5433`, for names and targets. */
export function showEndpoints(list: readonly Endpoint[]): string {
  return list.map((e) => hostPort(e.host, e.port)).join(',');
}

export interface EachHostOptions {
  /** Failures at these steps end the list (libpq stops at a failed login: the next host would refuse it too). */
  final?: readonly StepName[];
}

/**
 * Runs `fn` for each server in turn, until one passes. With one server it is just `fn`. With
 * several, each gets an equal share of the time that is left (so a server that does not answer
 * leaves time to the next, as libpq's connect_timeout does per host), and all share the check's
 * read budget. A failure is noted (`h1:5432: tcp: connection refused`) and the next one tried;
 * the server that passed is noted; when none passes, the check fails at the last failure's step
 * with every server's reason.
 */
export async function eachHost(list: readonly Endpoint[], ctx: CheckContext, fn: (ep: Endpoint, ctx: CheckContext) => Promise<void>, opts: EachHostOptions = {}): Promise<void> {
  if (list.length === 1) return fn(list[0]!, ctx);
  const deadline = performance.now() + ctx.timeoutMs;
  const failures: string[] = [];
  let last: CheckError | undefined;
  for (const [i, ep] of list.entries()) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const shareMs = Math.max(1, (deadline - performance.now()) / (list.length - i));
    const own = new AbortController();
    const timer = setTimeout(() => own.abort(new CheckError('run', 'timed out')), shareMs);
    const signal = AbortSignal.any([ctx.signal, own.signal]);
    setReadBudgetOf(signal, ctx.signal);
    let current: StepName = 'run';
    const sub: CheckContext = {
      signal,
      timeoutMs: shareMs,
      extraCa: ctx.extraCa,
      env: ctx.env,
      step: (name, f) => {
        current = name;
        return ctx.step(name, f);
      },
      note: (d) => ctx.note(d),
    };
    const name = hostPort(ep.host, ep.port);
    try {
      const running = fn(ep, sub);
      running.catch(() => {});
      // a driver that does not watch the signal closely still ends at its share
      await Promise.race([running, new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))]);
      ctx.note(`${name} answered (server ${i + 1} of ${list.length})`);
      return;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const timedOut = own.signal.aborted;
      last =
        timedOut ? new CheckError(current, `timed out after ${(shareMs / 1000).toFixed(1)}s (its share of the timeout)`)
        : err instanceof CheckError ? err
        : new CheckError(current, describeError(err));
      failures.push(`${name}: ${last.step}: ${last.message}`);
      ctx.note(`${name} failed at ${last.step}: ${last.message}`);
      if (opts.final?.includes(last.step)) break;
    } finally {
      clearTimeout(timer);
      own.abort();
    }
  }
  const left = list.length - failures.length;
  if (left > 0) {
    throw new CheckError(last!.step, `${failures.join('; ')} (${left === 1 ? 'the other server was' : `the other ${left} servers were`} not tried: a failure at ${last!.step} ends the list)`);
  }
  throw new CheckError(last!.step, `none of the ${list.length} servers passed (${failures.join('; ')})`);
}
