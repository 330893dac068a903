/**
 * dns (new, not in conn-check): resolve `host` as a `record_type` record, with a given DNS
 * server (`server`, "host" or "host:port") or the system's resolver, and optionally require
 * some answers (`expect`). Without `server`, A and AAAA go through getaddrinfo (dns.lookup, as
 * every other check resolves host names: /etc/hosts, nsswitch) and the other types through
 * c-ares with the system's name servers.
 */
import * as z from '../core/z.js';
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { bareHost, hostPort, resolveHost, untilAborted } from '../net/dial.js';
import { lookupAll } from '../net/lookup.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { alsoAccepts, oneOf, preprocess, scalarString, show, text } from '../core/options.js';
import { UrlError, defined, parseGeneric } from './url.js';
import { timeLeft } from './kit/index.js';

const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'NS'] as const;
type RecordType = (typeof RECORD_TYPES)[number];

interface Server {
  host: string;
  port: number;
}

/** "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address; undefined when malformed. */
export function parseServer(value: string): Server | undefined {
  const s = value.trim();
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
    if (isIP(host) !== 6) return undefined;
  } else if (isIP(s) === 6) {
    host = s;
  } else {
    const m = /^([^:\s/]+)(?::(\d+))?$/.exec(s);
    if (!m) return undefined;
    host = m[1]!;
    portText = m[2];
  }
  const port = portText === undefined ? 53 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

export const serverOption = () => {
  const what = 'a DNS server as host or host:port';
  return z.string({ error: (i) => `expected ${what}, got ${show(i.input)}` }).check(z.refine((v) => parseServer(v) !== undefined, {
    error: (i) => `expected ${what}, got ${show(i.input)}`,
  }));
};

/** A string or a list of strings (not split at commas: TXT records have commas). */
const expectOption = () => {
  const what = 'a string or a list of strings';
  const schema = preprocess(
    (v) => (typeof v === 'string' || typeof v === 'number' ? [String(v)] : v),
    z.array(scalarString(what), { error: (i) => `expected ${what}, got ${show(i.input)}` }).check(z.minLength(1, { error: `expected ${what}, got an empty list` })),
  );
  alsoAccepts.set(schema, [{ type: 'string' }, { type: 'number' }]);
  return schema;
};

/** The record type, in any case. */
const recordType = () => {
  const schema = preprocess((v) => (typeof v === 'string' ? v.trim().toUpperCase() : v), oneOf(RECORD_TYPES));
  alsoAccepts.set(schema, [{ enum: RECORD_TYPES.map((t) => t.toLowerCase()) }]);
  return schema;
};

const options = z.object({
  /** The name to resolve (`name` is every check's display name, so the option is `host`). */
  host: text('a host name'),
  record_type: z._default(recordType(), 'A'),
  server: z.optional(serverOption()),
  expect: z.optional(expectOption()),
});
type Options = z.output<typeof options>;

/** A name as compared: lower case, without the root dot. */
function canonicalName(s: string): string {
  return s.trim().toLowerCase().replace(/\.$/, '');
}

function canonicalAddress(s: string): string {
  const a = s.trim();
  if (isIP(a) === 6) {
    try {
      return new URL(`http://[${a}]/`).hostname.slice(1, -1);
    } catch {
      return a.toLowerCase();
    }
  }
  return a;
}

/** How answers of a type are compared with `expect`. */
function canonical(type: RecordType, s: string): string {
  if (type === 'A' || type === 'AAAA') return canonicalAddress(s);
  if (type === 'TXT') return s;
  if (type === 'SRV') {
    const m = /^(.*):(\d+)$/.exec(s.trim());
    return m ? `${canonicalName(m[1]!)}:${m[2]}` : canonicalName(s);
  }
  return canonicalName(s);
}

function list(values: readonly string[], max = 10): string {
  const shown = values.slice(0, max).map((v) => (v.length > 80 ? `${v.slice(0, 77)}...` : v));
  return values.length > max ? `${shown.join(', ')} (and ${values.length - max} more)` : shown.join(', ');
}

function queryError(err: unknown, o: Options, where: string): CheckError {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case 'ENOTFOUND':
      return new CheckError('resolve', where === 'the system resolver' ? 'name not found' : 'name not found (NXDOMAIN)');
    case 'ENODATA':
    case 'EAI_NODATA':
      return new CheckError('resolve', `no ${o.record_type} records`);
    case 'ETIMEOUT':
    case 'ETIMEDOUT':
      return new CheckError('resolve', `timed out (no answer from ${where})`);
    case 'ECONNREFUSED':
      return new CheckError('resolve', `connection refused (no DNS server at ${where})`);
    case 'EREFUSED':
      return new CheckError('resolve', 'the server refused the query (REFUSED)');
    case 'ESERVFAIL':
      return new CheckError('resolve', 'the server failed to answer (SERVFAIL)');
    case 'EFORMERR':
      return new CheckError('resolve', 'the server could not read the query (FORMERR)');
    case 'ENOTIMP':
      return new CheckError('resolve', 'the server does not support this query (NOTIMP)');
    case 'EBADRESP':
      return new CheckError('resolve', 'the server sent a malformed answer');
    case 'EBADNAME':
      return new CheckError('resolve', `not a valid name: ${o.host}`);
    case 'EAI_AGAIN':
      return new CheckError('resolve', 'temporary failure in name resolution (no DNS server reachable?)');
    default:
      return new CheckError('resolve', describeError(err));
  }
}

/** The answers of one query as strings (MX: the exchange, TXT: the joined strings, SRV: target:port). */
async function query(resolver: dnsPromises.Resolver, type: RecordType, name: string): Promise<{ answers: string[]; shown: string[] }> {
  switch (type) {
    case 'A':
    case 'AAAA': {
      // sorted: servers rotate their answers, the report should not
      const answers = (type === 'A' ? await resolver.resolve4(name) : await resolver.resolve6(name)).sort();
      return { answers, shown: answers };
    }
    case 'CNAME':
    case 'NS': {
      const answers = (type === 'CNAME' ? await resolver.resolveCname(name) : await resolver.resolveNs(name)).sort();
      return { answers, shown: answers };
    }
    case 'MX': {
      const mx = (await resolver.resolveMx(name)).sort((a, b) => a.priority - b.priority);
      return { answers: mx.map((r) => r.exchange), shown: mx.map((r) => `${r.priority} ${r.exchange}`) };
    }
    case 'TXT': {
      const answers = (await resolver.resolveTxt(name)).map((parts) => parts.join('')).sort();
      return { answers, shown: answers.map((t) => JSON.stringify(t)) };
    }
    case 'SRV': {
      const srv = (await resolver.resolveSrv(name)).sort((a, b) => a.priority - b.priority || b.weight - a.weight);
      return { answers: srv.map((r) => `${r.name}:${r.port}`), shown: srv.map((r) => `${r.name}:${r.port} (priority ${r.priority}, weight ${r.weight})`) };
    }
  }
}

export const dns = defineCheck({
  type: 'dns',
  summary: 'a DNS name resolves (as a given record type, through a given server) to the expected answers',
  url: { schemes: ['dns'], options: fromUrl },
  options,
  name: (o) => `dns:${o.host.trim()}:${o.record_type}${o.server ? `@${o.server.trim()}` : ''}`,
  target: (o) => {
    const s = o.server ? parseServer(o.server) : undefined;
    return s ? hostPort(s.host, s.port) : 'system resolver';
  },
  egress: (o) => {
    const s = o.server ? parseServer(o.server) : undefined;
    // DNS answers too large for a datagram are retried over TCP: a firewall must allow both.
    return s ? [{ protocol: 'udp', host: s.host, port: s.port }, { protocol: 'tcp', host: s.host, port: s.port }] : [];
  },
  async run(o, ctx) {
    const remaining = timeLeft(ctx);
    const name = o.host.trim();
    const server = o.server ? parseServer(o.server)! : undefined;

    const { answers, shown } = await ctx.step('resolve', async () => {
      // getaddrinfo for A/AAAA without a server: the answer every other check would get.
      if (!server && (o.record_type === 'A' || o.record_type === 'AAAA')) {
        const family = o.record_type === 'A' ? 4 : 6;
        let found: { address: string }[];
        try {
          found = await lookupAll(name, family, ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw queryError(err, o, 'the system resolver');
        }
        const addresses = [...new Set(found.map((a) => a.address))].sort();
        if (!addresses.length) throw new CheckError('resolve', `no ${o.record_type} records`);
        ctx.note('asked the system resolver (getaddrinfo)');
        return { answers: addresses, shown: addresses };
      }

      // c-ares: a bounded single try; the deadline (ctx.signal) comes first and cancels it.
      const resolver = new dnsPromises.Resolver({ timeout: remaining(), tries: 1 });
      let where = 'the system name servers';
      if (server) {
        let addresses: { address: string }[];
        try {
          addresses = await resolveHost(server.host, ctx.signal);
        } catch (err) {
          if (err instanceof CheckError) throw new CheckError('resolve', `DNS server ${server.host}: ${err.message}`);
          throw err;
        }
        const address = addresses[0]!.address;
        const entry = hostPort(address, server.port);
        resolver.setServers([entry]);
        where = entry;
      } else if (!resolver.getServers().length) {
        throw new CheckError('resolve', 'no system name servers configured (set server)');
      }
      const cancel = () => resolver.cancel();
      ctx.signal.addEventListener('abort', cancel, { once: true });
      try {
        const result = await untilAborted(query(resolver, o.record_type, name), ctx.signal);
        ctx.note(`asked ${server ? where : `${where} (${list(resolver.getServers(), 3)})`}`);
        return result;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw queryError(err, o, where);
      } finally {
        ctx.signal.removeEventListener('abort', cancel);
        resolver.cancel();
      }
    });
    ctx.note(`answers: ${list(shown)}`);

    if (o.expect) {
      const expected = o.expect;
      await ctx.step('expect', () => {
        const have = new Set(answers.map((a) => canonical(o.record_type, a)));
        const missing = expected.filter((e) => !have.has(canonical(o.record_type, e)));
        if (missing.length) {
          const quote = (v: string[]) => (o.record_type === 'TXT' ? v.map((t) => JSON.stringify(t)) : v);
          throw new CheckError('expect', `expected ${list(quote(missing))} among the answers, got ${list(quote(answers))}`);
        }
      });
    }
  },
});

/**
 * RFC 4501: `dns://[server[:port]]/name[?type=MX]`: the name to resolve is the path, the
 * authority (when given) the server to ask.
 */
function fromUrl(raw: string): Record<string, unknown> {
  const u = parseGeneric(raw);
  if (u.path.length !== 1) throw new UrlError('path: expected the name to resolve (dns://[server]/NAME?type=A)');
  let type: string | undefined;
  for (const [k, v] of u.params) if (k.toLowerCase() === 'type') type = v;
  const server = u.host ? hostPort(u.host, u.port ?? 53) : undefined;
  return defined({ host: u.path[0], record_type: type, server });
}
