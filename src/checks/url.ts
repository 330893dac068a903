/**
 * Reading connection URLs into a check's options: the helpers each check type's `url` mapping
 * (in its own file) builds on. WHATWG URL parses the generic form; userinfo, host and path are
 * percent-decoded here; postgres and mongodb use their ecosystems' own parsers in their files.
 * Messages never contain the URL (it may hold a password).
 */

import { hostPort } from '../net/dial.js';
import { parseEndpoint } from './hosts.js';

/** A URL that cannot stand for a check: the message says why, without the URL itself. */
export class UrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlError';
  }
}

/** `scheme` of `scheme://...`, lower case, or undefined when the value is not a URL. */
export function schemeOf(raw: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(raw.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/** Percent-decodes one URL part, or says which part is malformed. */
export function decodePart(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new UrlError(`the ${what} has a malformed %-escape`);
  }
}

/** The authority (between `//` and the path) of a URL, raw. */
function authorityOf(raw: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(raw.trim());
  return m ? m[1] : undefined;
}

/**
 * The host list of a URL whose authority has several (`h1:5432,h2:5433`, as libpq, MongoDB and
 * NATS write them): `hosts` as `HOST:PORT` entries (%-decoded, `defaultPort` where an entry has
 * none), and `single`, the URL with only the first host, for a parser that takes one. Without a
 * list: the URL as it is, and no `hosts`.
 */
export function hostListOf(raw: string, defaultPort: number): { single: string; hosts?: string[] } {
  const authority = authorityOf(raw);
  if (authority === undefined) return { single: raw };
  const at = authority.lastIndexOf('@');
  const hostPart = authority.slice(at + 1);
  if (!hostPart.includes(',')) return { single: raw };
  const hosts = hostPart.split(',').map((entry) => {
    const ep = parseEndpoint(decodePart(entry, 'host'), defaultPort);
    if (!ep || !entry) throw new UrlError(`has a host list with an entry that is not HOST[:PORT] (${entry.length > 40 ? 'a long one' : JSON.stringify(entry)})`);
    return hostPort(ep.host, ep.port);
  });
  const start = raw.indexOf('//') + 2 + at + 1;
  return { single: raw.slice(0, start) + hostPart.split(',')[0] + raw.slice(start + hostPart.length), hosts };
}

/** Refuses a URL with several hosts (`h1:1,h2:2`) for a type whose protocol has no host list. */
export function oneHost(raw: string): void {
  const authority = authorityOf(raw) ?? '';
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPart.includes(',')) {
    throw new UrlError(`has several hosts (${hostPart}); this protocol's URLs name one server: write one check per host`);
  }
}

export interface GenericUrl {
  scheme: string;
  /** Percent-decoded; undefined when the URL has none. */
  username?: string;
  password?: string;
  /** Percent-decoded, without IPv6 brackets; '' when the URL has no host. */
  host: string;
  port?: number;
  /** Percent-decoded path segments (empty ones dropped). */
  path: string[];
  /** The raw path after the first `/` (still encoded), for vhost-like single segments. */
  rawPath: string;
  params: URLSearchParams;
}

/**
 * Parses `scheme://[user[:password]@]host[:port][/path][?query]` as WHATWG URL does, refusing
 * several hosts (`h1,h2`: conn-check checks one server per entry) with a message that says so.
 */
export function parseGeneric(raw: string): GenericUrl {
  const value = raw.trim();
  const authority = authorityOf(value);
  if (authority === undefined) throw new UrlError('expected scheme://host[:port]');
  oneHost(value);
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UrlError('cannot be parsed (look at its host, port and %-escapes)');
  }
  const host = decodePart(u.hostname, 'host').replace(/^\[(.*)\]$/, '$1');
  const port = u.port === '' ? undefined : Number(u.port);
  if (port === 0) throw new UrlError('has port 0');
  const rawPath = u.pathname.replace(/^\//, '');
  return {
    scheme: u.protocol.slice(0, -1).toLowerCase(),
    username: u.username ? decodePart(u.username, 'user name') : undefined,
    password: u.password ? decodePart(u.password, 'password') : undefined,
    host,
    port,
    path: rawPath.split('/').filter(Boolean).map((s) => decodePart(s, 'path')),
    rawPath,
    params: u.searchParams,
  };
}

/** A host is required (not `scheme:///path`). */
export function requireHost(u: { host: string }): string {
  if (!u.host) throw new UrlError('has no host');
  return u.host;
}

/** A port is required (`tcp://host` says nothing about where to connect). */
export function requirePort(u: { port?: number }): number {
  if (u.port === undefined) throw new UrlError('has no port (scheme://host:PORT)');
  return u.port;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** A boolean query parameter (the first of `names` present); undefined when absent. */
export function flag(params: URLSearchParams, ...names: string[]): boolean | undefined {
  for (const name of names) {
    const v = params.get(name);
    if (v === null) continue;
    const s = v.trim().toLowerCase();
    if (TRUE.has(s) || s === '') return true;
    if (FALSE.has(s)) return false;
    throw new UrlError(`query parameter ${name}: expected true or false, got ${JSON.stringify(v.slice(0, 20))}`);
  }
  return undefined;
}

/** The TLS file parameters most drivers take, as the shared TLS options. */
export function tlsParams(params: URLSearchParams, names: { ca?: string[]; cert?: string[]; key?: string[]; insecure?: string[] }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const first = (list: string[] = []) => list.map((n) => params.get(n)).find((v) => v !== null && v !== '') ?? undefined;
  const ca = first(names.ca);
  const cert = first(names.cert);
  const key = first(names.key);
  if (ca) out.ca_file = ca;
  if (cert) out.client_cert = cert;
  if (key) out.client_key = key;
  for (const n of names.insecure ?? []) {
    const v = flag(params, n);
    if (v !== undefined) out.disable_tls_verification = v;
  }
  return out;
}

/** Drops undefined values, so that only what the URL says reaches the options. */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The usual `scheme://user:password@host:port` mapping, with a default port. */
export function hostAndLogin(u: GenericUrl, defaultPort?: number): Record<string, unknown> {
  return defined({ host: requireHost(u), port: u.port ?? defaultPort, username: u.username, password: u.password });
}
