/**
 * Proxy selection from the environment, as curl does it: `https_proxy`/`HTTPS_PROXY` for
 * https URLs, `http_proxy`/`HTTP_PROXY` for http URLs (lower case first), and
 * `no_proxy`/`NO_PROXY` to bypass them. Always from the environment the runner hands over
 * (ctx.env), never from process.env directly.
 */
import { isIP } from 'node:net';
import { bareHost } from './dial.js';

/**
 * node:net's BlockList, read when a NO_PROXY entry is an address or a CIDR block: reading it
 * loads Node's blocklist modules, which nothing else in a run needs (an http check loaded them
 * at start-up for this).
 */
const blockList = () => new (process.getBuiltinModule('node:net').BlockList)();

export interface EnvProxy {
  /** The proxy URL as written in the variable (may carry credentials: never show it). */
  url: string;
  /** The variable it came from, e.g. `HTTPS_PROXY`. */
  variable: string;
}

function firstSet(env: NodeJS.ProcessEnv, names: readonly string[]): { value: string; name: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { value, name };
  }
  return undefined;
}

/** The proxy the environment asks for this URL, or undefined (none set, or NO_PROXY matches). */
export function envProxyFor(target: URL, env: NodeJS.ProcessEnv): EnvProxy | undefined {
  const names = target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
  const proxy = firstSet(env, names);
  if (!proxy) return undefined;
  const noProxy = firstSet(env, ['no_proxy', 'NO_PROXY']);
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  if (noProxy && bypassesProxy(noProxy.value, target.hostname, port)) return undefined;
  return { url: proxy.value, variable: proxy.name };
}

/**
 * A proxy URL as given (`proxy:3128` means `http://proxy:3128`, as in curl), with the port
 * made explicit (80 for http, 443 for https proxies, as the URL standard has it).
 */
export function parseProxyUrl(raw: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  const u = new URL(text);
  if (!u.port) u.port = u.protocol === 'https:' ? '443' : '80';
  return u;
}

interface Entry {
  host: string;
  port?: number;
}

function parseEntry(raw: string): Entry {
  let m = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw); // [::1] or [::1]:8080
  if (m) return { host: m[1]!, port: m[2] ? Number(m[2]) : undefined };
  m = /^([^:]+):(\d+)$/.exec(raw); // host:port, 10.0.0.1:8080
  if (m) return { host: m[1]!, port: Number(m[2]) };
  return { host: raw }; // name, IPv4, bare IPv6, CIDR
}

/**
 * Whether a NO_PROXY list sends this host:port direct. Entries are separated by commas (or
 * spaces); `*` matches everything; a name matches itself and its subdomains (a leading `.`
 * or `*.` is ignored: `example.com`, `.example.com` and `*.example.com` all match
 * `example.com` and `a.example.com`, never `notexample.com`); an IP address matches itself,
 * a CIDR block (`10.0.0.0/8`, `fd00::/8`) the addresses in it; `host:port` (or `[v6]:port`)
 * matches only that port. Case-insensitive; a trailing dot on the host is ignored.
 */
export function bypassesProxy(noProxy: string, host: string, port: number): boolean {
  const h = bareHost(host).toLowerCase().replace(/\.$/, '');
  const hostFamily = isIP(h);
  for (const raw of noProxy.split(/[,\s]+/)) {
    const text = raw.trim().toLowerCase();
    if (!text) continue;
    if (text === '*') return true;
    const entry = parseEntry(text);
    if (entry.port !== undefined && entry.port !== port) continue;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry.host);
    if (cidr && isIP(cidr[1]!)) {
      const family = isIP(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (hostFamily !== family || prefix > (family === 4 ? 32 : 128)) continue;
      const list = blockList();
      list.addSubnet(cidr[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
      if (list.check(h, family === 4 ? 'ipv4' : 'ipv6')) return true;
      continue;
    }
    const entryFamily = isIP(entry.host);
    if (entryFamily) {
      if (hostFamily !== entryFamily) continue;
      const list = blockList();
      list.addAddress(entry.host, entryFamily === 4 ? 'ipv4' : 'ipv6');
      if (list.check(h, entryFamily === 4 ? 'ipv4' : 'ipv6')) return true;
      continue;
    }
    const name = entry.host.replace(/^\*?\.+/, '').replace(/\.$/, '');
    if (!name) continue;
    if (h === name || h.endsWith(`.${name}`)) return true;
  }
  return false;
}
