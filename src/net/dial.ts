/** Name resolution and TCP connections that obey an AbortSignal and say what went wrong. */
import { isIP, Socket } from 'node:net';
import { lookupAll, shared } from './lookup.js';
import { explainLookupFailure } from './dns-reason.js';
import { CheckError } from '../core/contract.js';
import { describeError } from './errors.js';
import { capReads, unwatchAbort, watchAbort, type AttemptBudget } from './bounded.js';

export interface Address {
  address: string;
  family: 4 | 6;
}

/** Rejects with the signal's reason as soon as it aborts; the promise itself is left to settle. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** `[::1]` → `::1`; other hosts as they are. */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The address a host that is an IP literal (`[::1]` too) stands for; undefined for a name. */
export function literalAddress(host: string): Address | undefined {
  const h = bareHost(host);
  const family = isIP(h);
  return family ? { address: h, family: family as 4 | 6 } : undefined;
}

/** Resolves a host to all its addresses (the system resolver, as curl and conn-check did). */
export async function resolveHost(host: string, signal: AbortSignal): Promise<Address[]> {
  const literal = literalAddress(host);
  if (literal) return [literal];
  const h = bareHost(host);
  try {
    // (one lookup per name in flight for the whole run, bounded: net/lookup.ts)
    const found = await lookupAll(h, 0, signal);
    if (!found.length) throw new CheckError('resolve', 'dns resolution failed (no address)');
    return found.map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof CheckError) throw err;
    const msg = describeError(err);
    if (!msg.startsWith('dns resolution failed')) throw new CheckError('resolve', `dns resolution failed (${msg})`);
    // (asked once for every check of this name that failed meanwhile)
    const code = (err as NodeJS.ErrnoException).code;
    const why = await shared(`explain ${code} ${h}`, (abandoned) => explainLookupFailure(h, code, abandoned), signal);
    if (signal.aborted) throw signal.reason;
    throw new CheckError('resolve', why);
  }
}

/** Opens one TCP connection to one address. */
export function connectAddress(addr: Address, port: number, signal: AbortSignal): Promise<Socket> {
  return openSocket({ host: addr.address, port, family: addr.family }, signal);
}

/**
 * A connection being opened: what the shared listeners of its socket settle. With an `address`
 * (connectTcp's), it settles as the check needs it: the socket under the check's read budget
 * with its address, or the failure as CheckError('tcp', ...); a `probe` (probeTcp's) closes the
 * socket as it connects and settles with the address.
 */
class Opening {
  readonly onAbort: () => void;
  /** What watchAbort() returned. */
  watched: AttemptBudget | undefined = undefined;
  constructor(
    socket: Socket,
    readonly signal: AbortSignal,
    readonly resolve: (value: Socket | Connected | Address) => void,
    readonly reject: (reason: unknown) => void,
    readonly address: Address | undefined,
    readonly probe: boolean,
  ) {
    // (assigned, not a class field: the bundle would name a field's function anew at each call)
    this.onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
  }
}

const OPENING = Symbol('conn-check.opening');

type Opened = Socket & { [OPENING]?: Opening };

/** Opens one connection (TCP to an address, or a Unix socket's `path`); a failure is the socket's error. */
export function openSocket(to: { host: string; port: number; family: number } | { path: string }, signal: AbortSignal): Promise<Socket> {
  return open(to, signal, undefined, false) as Promise<Socket>;
}

/** connectTcp to one address. */
function connectOne(address: Address, port: number, signal: AbortSignal): Promise<Connected> {
  return open({ host: address.address, port, family: address.family }, signal, address, false) as Promise<Connected>;
}

// A promise's resolve and reject, handed over by one shared executor (no closure per promise).
let resolved: (value: Socket | Connected | Address) => void;
let rejected: (reason: unknown) => void;
function settlers(resolve: (value: Socket | Connected | Address) => void, reject: (reason: unknown) => void): void {
  resolved = resolve;
  rejected = reject;
}

function open(
  to: { host: string; port: number; family: number } | { path: string },
  signal: AbortSignal,
  address: Address | undefined,
  probe: boolean,
): Promise<Socket | Connected | Address> {
  const promise = new Promise(settlers);
  if (signal.aborted) {
    rejected(signal.reason);
    return promise;
  }
  const socket: Opened = new Socket();
  const o = new Opening(socket, signal, resolved, rejected, address, probe);
  o.watched = watchAbort(signal, o.onAbort);
  socket[OPENING] = o;
  socket.on('error', openFailed);
  socket.on('connect', opened);
  try {
    socket.connect(to);
  } catch (err) {
    // (a port out of range): a failure like the socket's own
    openFailed.call(socket, err as Error);
  }
  return promise;
}

/** The socket's error while it connects; once connected, errors are ignored: a reset between the
 * connect and whoever uses the socket next must not crash the process. */
function openFailed(this: Opened, err: Error): void {
  const o = this[OPENING];
  if (!o) return;
  this[OPENING] = undefined;
  unwatchAbort(o.signal, o.onAbort, o.watched);
  this.destroy();
  if (!o.address) o.reject(err);
  else o.reject(o.signal.aborted ? o.signal.reason : new CheckError('tcp', describeError(err)));
}

function opened(this: Opened): void {
  const o = this[OPENING];
  if (!o) return;
  this[OPENING] = undefined;
  unwatchAbort(o.signal, o.onAbort, o.watched);
  if (!o.address) return o.resolve(this);
  if (o.probe) {
    this.destroy();
    return o.resolve(o.address);
  }
  // Whatever reads from this socket (a check, a driver) reads within the check's budget.
  capReads(this, o.signal);
  o.resolve({ socket: this, address: o.address });
}

export interface Connected {
  socket: Socket;
  address: Address;
}

/**
 * Connects to every resolved address at once and keeps the first that accepts (a name that
 * resolves to `::1` and `127.0.0.1` passes if either listens); the others are closed.
 * Fails with the reason per address when none accepts.
 */
export function connectTcp(host: string, port: number, signal: AbortSignal, addresses?: Address[]): Promise<Connected> {
  // One address (every IP literal, most names): connected under the check's own signal, with
  // nothing to race and no other attempt to close.
  try {
    const one = addresses ? (addresses.length === 1 ? addresses[0] : undefined) : literalAddress(host);
    return one ? connectOne(one, port, signal) : connectAny(host, port, signal, addresses);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Connects as connectTcp does and closes the connection at once, unread (the tcp check): the
 * address that accepted. (A connection closed as it opens, which nothing can read from, needs
 * no read budget: one to a single address is closed in its connect event.)
 */
export function probeTcp(host: string, port: number, signal: AbortSignal, addresses?: Address[]): Promise<Address> {
  try {
    const one = addresses ? (addresses.length === 1 ? addresses[0] : undefined) : literalAddress(host);
    if (one) return open({ host: one.address, port, family: one.family }, signal, one, true) as Promise<Address>;
    return connectAny(host, port, signal, addresses).then(closed);
  } catch (err) {
    return Promise.reject(err);
  }
}

function closed(c: Connected): Address {
  c.socket.destroy();
  return c.address;
}

async function connectAny(host: string, port: number, signal: AbortSignal, addresses: Address[] | undefined): Promise<Connected> {
  const addrs = addresses ?? (await resolveHost(host, signal));
  if (addrs.length === 1) return connectOne(addrs[0]!, port, signal);
  const local = new AbortController();
  const onAbort = () => local.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const attempts = addrs.map((a) => connectAddress(a, port, local.signal).then((socket) => ({ socket, address: a })));
  try {
    const winner = await Promise.any(attempts);
    // close any other attempt that also connected
    for (const p of attempts) p.then((c) => c.socket !== winner.socket && c.socket.destroy(), () => {});
    local.abort(new Error('another address answered'));
    // Whatever reads from this socket (a check, a driver) reads within the check's budget.
    capReads(winner.socket, signal);
    return winner;
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    const errors = (err as AggregateError).errors ?? [err];
    const messages = errors.map((e: unknown) => describeError(e));
    const distinct = [...new Set(messages)];
    const text =
      distinct.length === 1 ? distinct[0]! : addrs.map((a, i) => `${a.family === 6 ? `[${a.address}]` : a.address}: ${messages[i]}`).join('; ');
    throw new CheckError('tcp', text);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export interface Endpoint {
  host: string;
  port: number;
}

/**
 * Connects to every endpoint at once (a cluster's bootstrap list) and keeps the first that
 * accepts (a client that tries them in turn lets one that drops packets use up the deadline).
 * Each attempt runs under the check's own signal (so its reads count against the check's
 * budget); an attempt that connects after the first is closed at once. When none accepts:
 * each one's reason, at step resolve when no name resolved, else tcp.
 */
export async function connectFirst<E extends Endpoint>(endpoints: readonly E[], signal: AbortSignal): Promise<Connected & { endpoint: E }> {
  const attempts = endpoints.map((e) => connectTcp(e.host, e.port, signal).then((c) => ({ ...c, endpoint: e })));
  try {
    const winner = await Promise.any(attempts);
    for (const p of attempts) p.then((c) => c.socket !== winner.socket && c.socket.destroy(), () => {});
    return winner;
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    const errors = (err as AggregateError).errors ?? [err];
    if (errors.length === 1) throw errors[0];
    const steps = errors.map((e: unknown) => (e instanceof CheckError ? e.step : 'tcp'));
    const text = errors.map((e: unknown, i: number) => `${hostPort(endpoints[i]!.host, endpoints[i]!.port)}: ${e instanceof CheckError ? e.message : describeError(e)}`).join('; ');
    throw new CheckError(steps.every((s: string) => s === 'resolve') ? 'resolve' : 'tcp', text);
  }
}

/** host:port with brackets around IPv6 literals. */
export function hostPort(host: string, port: number | string): string {
  const h = bareHost(host);
  return isIP(h) === 6 ? `[${h}]:${port}` : `${h}:${port}`;
}

/** An address as shown in results. */
export function showAddress(a: Address): string {
  return a.family === 6 ? `[${a.address}]` : a.address;
}
