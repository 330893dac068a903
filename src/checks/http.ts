/**
 * http (alias https): a TCP pre-check to the URL's host:port (or to the proxy's, as conn-check
 * did), then one HTTP(S) request, with node:http (or, through a proxy, with undici); passes when
 * the status is the expected one (and, when asked, the body contains a text and the answer came
 * in time).
 */
import * as z from 'zod/mini';
import type { Dispatcher } from 'undici';
import { safeUrl } from '../secrets/url.js';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { nodeCrypto, nodeDns } from '../net/builtins.js';
import { readCapped, request1 } from '../net/http1.js';
import { capReads, decompressCapped } from '../net/bounded.js';
import { regexTest } from './regex.js';
import { isCredentialHeaderName } from '../secrets/rules.js';
import { createConnection, isIP, type LookupFunction, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { bareHost, connectAddress, connectTcp, hostPort, resolveHost, showAddress, type Address } from '../net/dial.js';
import { describeError } from '../net/errors.js';
import { envProxyFor, parseProxyUrl } from '../net/proxy.js';
import { assertCertificate, handshake, minVersionFailure, secureOptions } from '../net/tls.js';
import { eachAddress } from './tls.js';
import { VERSION } from '../core/constants.js';
import { CheckError, defineCheck, type CheckContext, type StepName } from '../core/contract.js';
import { bool, host, integer, port, scalarString, secret, show, stringList, text, tlsOptionsShape, url } from '../core/options.js';

/** How much of a body is read: enough for expected_body, bounded for huge downloads. */
const BODY_LIMIT = 1024 * 1024;
const MAX_REDIRECTS = 10;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

// ---------- options ----------

interface CodeRange {
  lo: number;
  hi: number;
  label: string;
}
export interface ExpectedCodes {
  ranges: CodeRange[];
  /** True for a single plain code: the message is then conn-check's, without "(expected ...)". */
  single: boolean;
  label: string;
}

function parseCodeItem(v: unknown): CodeRange | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599) return { lo: v, hi: v, label: String(v) };
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (/^\d{3}$/.test(s)) return parseCodeItem(Number(s));
  let m = /^([1-5])xx$/.exec(s);
  if (m) return { lo: Number(m[1]) * 100, hi: Number(m[1]) * 100 + 99, label: `${m[1]}xx` };
  m = /^(\d{3})\s*-\s*(\d{3})$/.exec(s);
  if (m) {
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    if (lo >= 100 && hi <= 599 && lo <= hi) return { lo, hi, label: `${lo}-${hi}` };
  }
  return undefined;
}

const EXPECTED_CODE_WHAT = 'a status code (200), a list of them, a class ("2xx") or a range ("200-399")';

/** expected_code: 200, "200", [200, 204], "2xx", "200-399", or a list mixing them. */
function expectedCode() {
  return z.pipe(
    z.optional(z.unknown()),
    z.transform((v, ctx): ExpectedCodes => {
    if (v === undefined || v === null) return { ranges: [{ lo: 200, hi: 200, label: '200' }], single: true, label: '200' };
    const items = Array.isArray(v) ? v : typeof v === 'string' && v.includes(',') ? v.split(',') : [v];
    const ranges: CodeRange[] = [];
    for (const item of items) {
      const r = parseCodeItem(item);
      if (!r) {
        ctx.issues.push({ code: 'custom', message: `expected ${EXPECTED_CODE_WHAT}, got ${show(item)}`, input: v });
        return z.NEVER;
      }
      ranges.push(r);
    }
    if (!ranges.length) {
      ctx.issues.push({ code: 'custom', message: `expected ${EXPECTED_CODE_WHAT}, got an empty list`, input: v });
      return z.NEVER;
    }
    const single = ranges.length === 1 && ranges[0]!.lo === ranges[0]!.hi;
    return { ranges, single, label: ranges.map((r) => r.label).join(', ') };
    }),
  );
}

/** A mapping of names to a scalar or a list of scalars (a list repeats the header / parameter). */
function multiMap(what: string) {
  const value = z.union([scalarString(what), z.array(scalarString(what))], {
    error: (issue) => `expected ${what}, got ${show(issue.input)}`,
  });
  return z.record(z.string(), value, { error: (issue) => `expected ${what}, got ${show(issue.input)}` });
}

export interface Credentials {
  username: string;
  password: string;
}

/** auth / digest_auth: `[user, password]` or `{username, password}`. */
function credentials() {
  const what = 'a [username, password] list or a {username, password} mapping';
  const e = { error: (issue: { input?: unknown }) => `expected ${what}, got ${show(issue.input)}` };
  return z.union(
    [
      z.pipe(z.tuple([scalarString(), scalarString()], e), z.transform(([username, password]): Credentials => ({ username, password }))),
      z.pipe(z.object({ username: scalarString(), password: scalarString() }, e), z.transform((o): Credentials => ({ username: o.username, password: o.password }))),
    ],
    e,
  );
}

export interface BodyMatcher {
  label: string;
  /** A regex runs in a worker that the signal stops (checks/regex.ts). */
  test(body: string, signal: AbortSignal): Promise<boolean>;
  regex: boolean;
}

/** expected_body: a substring, or a regular expression written /like this/ (flags allowed). */
function expectedBody() {
  return z.pipe(
    text('a text, or a /regular expression/'),
    z.transform((s, ctx): BodyMatcher => {
    const m = /^\/(.+)\/([dgimsuvy]*)$/s.exec(s);
    if (m) {
      try {
        const re = new RegExp(m[1]!, m[2]!.replace(/[gy]/g, ''));
        return { label: s.length > 40 ? `${s.slice(0, 37)}...` : s, test: (b, signal) => regexTest(re, b, signal), regex: true };
      } catch {
        ctx.issues.push({ code: 'custom', message: `expected a valid regular expression, got ${show(s)}`, input: s });
        return z.NEVER;
      }
    }
    return { label: show(s), test: (b) => Promise.resolve(b.includes(s)), regex: false };
    }),
  );
}

/** expected_headers: header name → a text the value must contain, or a /regular expression/. */
function expectedHeaders() {
  return z.record(z.string(), expectedBody(), { error: (i) => `expected a mapping of header names to texts or /regular expressions/, got ${show(i.input)}` });
}

/**
 * expected_json: dotted paths (`status`, `checks.db.status`, `items[0].id`, an optional
 * leading `$.`) mapped to the JSON value expected there.
 */
function expectedJson() {
  return z
    .record(z.string(), z.unknown(), { error: (i) => `expected a mapping of JSON paths to values, got ${show(i.input)}` })
    .check(z.superRefine((m, ctx) => {
      for (const path of Object.keys(m)) {
        if (!jsonPath(path)) ctx.addIssue({ code: 'custom', path: [path], message: `expected a JSON path like status or checks.db[0].state, got ${show(path)}` });
      }
    }));
}

/** `$.a.b[0]["c d"]` → ['a', 'b', 0, 'c d']; undefined when malformed. */
export function jsonPath(path: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  const re = /\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/y;
  let s = path.startsWith('$') ? path.slice(1) : path;
  if (s.startsWith('.')) s = s.slice(1);
  let i = 0;
  re.lastIndex = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || (i === 0 && s[0] === '.')) return undefined;
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : JSON.parse(`"${m[3]}"`)));
    i = re.lastIndex;
  }
  return out.length ? out : undefined;
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => isDeepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function showJson(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const proxyUrlOption = url(['http:', 'https:']);

const options = z
  .object({
    url: secret(url(), 'url'),
    method: z._default(
      z.pipe(
        text('an HTTP method').check(z.regex(/^[A-Za-z!#$%&'*+.^_`|~0-9-]+$/, { error: (i) => `expected an HTTP method, got ${show(i.input)}` })),
        z.transform((m: string) => m.toUpperCase()),
      ),
      'GET',
    ),
    expected_code: expectedCode(),
    headers: z.optional(secret(multiMap('a mapping of header names to values'), 'headers')),
    /** More header names whose values are credentials (masked; not sent across origins), beyond the rule. */
    credential_headers: z._default(stringList('a list of header names'), []),
    body: z.optional(secret(scalarString('a request body (a string)'), 'request')),
    params: z.optional(secret(multiMap('a mapping of query parameters to values'), 'params')),
    cookies: z.optional(secret(z.record(z.string(), scalarString('a cookie value'), { error: (i) => `expected a mapping of cookie names to values, got ${show(i.input)}` }), 'cookies')),
    auth: z.optional(secret(credentials())),
    digest_auth: z.optional(secret(credentials())),
    bearer_token: z.optional(secret(scalarString('a token'))),
    proxy_url: z.optional(secret(proxyUrlOption, 'url')),
    proxy_host: z.optional(host()),
    proxy_port: z._default(port(), 8000),
    allow_redirects: z._default(bool(), false),
    expected_body: z.optional(expectedBody()),
    expected_json: z.optional(expectedJson()),
    expected_headers: z.optional(expectedHeaders()),
    max_response_time: z.optional(integer(1, 86_400_000)),
    all_addresses: z._default(bool(), false),
    ...tlsOptionsShape,
  })
  .check(z.superRefine((o, ctx) => {
    const auths = (['auth', 'digest_auth', 'bearer_token'] as const).filter((k) => o[k] !== undefined);
    if (auths.length > 1) ctx.addIssue({ code: 'custom', path: [auths[1]!], message: `only one of auth, digest_auth and bearer_token may be set (${auths.join(' and ')} are)` });
    if (o.proxy_url !== undefined && o.proxy_host !== undefined) ctx.addIssue({ code: 'custom', path: ['proxy_host'], message: 'set proxy_url or proxy_host, not both' });
    if (o.all_addresses && (o.proxy_url !== undefined || o.proxy_host !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['all_addresses'], message: 'all_addresses cannot be used with a proxy (the proxy resolves the host)' });
    }
  }));

type Options = z.output<typeof options>;

// ---------- requests ----------

/** Header name (lower case) → [name as written, values]. */
type HeaderMap = Map<string, { name: string; values: string[] }>;

function addHeader(map: HeaderMap, name: string, value: string | string[]): void {
  const key = name.toLowerCase();
  const values = Array.isArray(value) ? value : [value];
  const cur = map.get(key);
  if (cur) cur.values.push(...values);
  else map.set(key, { name, values: [...values] });
}

function headerObject(map: HeaderMap): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const { name, values } of map.values()) out[name] = values.length === 1 ? values[0]! : values;
  return out;
}

function firstHeader(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function allHeaders(headers: Record<string, string | string[] | undefined>, name: string): string[] {
  const v = headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Same host and port, or the same host going from http:80 to https:443 (as python-requests allows). */
/** Same scheme, host and port: credentials and bodies go to the configured origin only (an http→https upgrade is another origin too). */
function sameOrigin(a: URL, b: URL): boolean {
  return a.origin === b.origin;
}

// ---------- digest ----------

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses WWW-Authenticate values into challenges (several may share one header). */
export function parseChallenges(values: readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values) {
    const re = /\s*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s+(?=[^\s,=]+\s*=)|\s*(?=,|$)|\s+(?=[^\s,=]+\s*(?:,|$))))|\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*|\s*,\s*/y;
    let pos = 0;
    let current: Challenge | undefined;
    while (pos < value.length) {
      re.lastIndex = pos;
      const m = re.exec(value);
      if (!m || m[0].length === 0) break;
      pos = re.lastIndex;
      if (m[1]) {
        current = { scheme: m[1].toLowerCase(), params: {} };
        out.push(current);
      } else if (m[2] && current) {
        let v = m[3] ?? '';
        if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
        current.params[m[2].toLowerCase()] = v;
      }
    }
  }
  return out;
}

const DIGEST_HASHES: Record<string, string> = { 'md5': 'md5', 'sha-256': 'sha256', 'sha-512-256': 'sha512-256' };
const DIGEST_PREFERENCE = ['sha-512-256', 'sha-256', 'md5'];

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** The Authorization header answering a Digest challenge (RFC 7616: MD5, SHA-256, -sess, qop auth/auth-int). */
export function digestAuthorization(challenges: Challenge[], creds: Credentials, method: string, uri: string, body: string | undefined): string | undefined {
  const digests = challenges.filter((c) => c.scheme === 'digest' && c.params.nonce !== undefined);
  const usable = digests
    .map((c) => ({ c, alg: (c.params.algorithm ?? 'MD5').toLowerCase() }))
    .filter(({ alg }) => DIGEST_HASHES[alg.replace(/-sess$/, '')] !== undefined)
    .sort((a, b) => DIGEST_PREFERENCE.indexOf(a.alg.replace(/-sess$/, '')) - DIGEST_PREFERENCE.indexOf(b.alg.replace(/-sess$/, '')));
  const chosen = usable[0];
  if (!chosen) {
    if (digests.length) throw new CheckError('auth', `unsupported digest algorithm ${show(digests[0]!.params.algorithm ?? '')}`);
    return undefined;
  }
  const { c, alg } = chosen;
  const hashName = DIGEST_HASHES[alg.replace(/-sess$/, '')]!;
  const H = (s: string) => nodeCrypto().createHash(hashName).update(s, 'utf8').digest('hex');
  const realm = c.params.realm ?? '';
  const nonce = c.params.nonce!;
  const qops = (c.params.qop ?? '')
    .split(',')
    .map((q) => q.trim().toLowerCase())
    .filter(Boolean);
  const qop = qops.includes('auth') ? 'auth' : qops.includes('auth-int') ? 'auth-int' : undefined;
  if (qops.length && !qop) throw new CheckError('auth', `unsupported digest qop ${show(c.params.qop)}`);
  const cnonce = nodeCrypto().randomBytes(16).toString('hex');
  const nc = '00000001';
  let ha1 = H(`${creds.username}:${realm}:${creds.password}`);
  if (alg.endsWith('-sess')) ha1 = H(`${ha1}:${nonce}:${cnonce}`);
  const ha2 = qop === 'auth-int' ? H(`${method}:${uri}:${H(body ?? '')}`) : H(`${method}:${uri}`);
  const response = qop ? H(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : H(`${ha1}:${nonce}:${ha2}`);
  const parts = [
    `username=${quote(creds.username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${c.params.algorithm ?? 'MD5'}`,
    `response=${quote(response)}`,
  ];
  if (c.params.opaque !== undefined) parts.push(`opaque=${quote(c.params.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}

// ---------- failures ----------

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_OSSL_|HOSTNAME_MISMATCH|UND_ERR_PRX_TLS)/;

function errorChain(err: unknown): Array<{ code?: unknown; message?: unknown }> {
  const out: Array<{ code?: unknown; message?: unknown; cause?: unknown }> = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    out.push(cur as { code?: unknown; message?: unknown });
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

/** undici's error for a connection the server closed ("connection closed by peer"). */
const closedByPeer = () => Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });

/** The HTTP/1.1 parse errors errors.ts has words for; the others are said as undici said them. */
const KNOWN_PARSE_ERRORS = new Set(['HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION', 'HPE_INVALID_STATUS', 'HPE_INVALID_HEADER_TOKEN']);

/**
 * node:http's failures in the words undici's got (errors.ts knows undici's codes): the server
 * closing or resetting the connection before or during the answer ("socket hang up",
 * "aborted", ECONNRESET) is "connection closed by peer"; a parse error keeps its HPE_ code
 * (HPE_INVALID_CONSTANT: "the server did not answer with HTTP"). TLS failures pass unchanged.
 */
function fromNodeHttp(err: unknown): unknown {
  if (!err || typeof err !== 'object' || err instanceof CheckError) return err;
  const e = err as { code?: unknown; message?: unknown; reason?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (/socket disconnected before secure TLS connection/i.test(message)) return err;
  if (code === 'ECONNRESET') return closedByPeer();
  if (code.startsWith('HPE_')) {
    if (KNOWN_PARSE_ERRORS.has(code)) return { code, message };
    const reason = typeof e.reason === 'string' ? e.reason : message.replace(/^Parse Error:\s*/, '');
    return { code, message: `Response does not match the HTTP/1.1 protocol (${reason})` };
  }
  return err;
}

/** Turns an undici or node:http failure into the step it belongs to (tls, proxy or request). */
function requestFailure(err: unknown, viaProxy: boolean, minVersion?: string): CheckError {
  if (err instanceof CheckError) return err;
  if (!viaProxy) err = fromNodeHttp(err);
  const chain = errorChain(err);
  for (const e of chain) {
    const msg = typeof e.message === 'string' ? e.message : '';
    let m = /Proxy response \((\d+)\) !== 200/.exec(msg);
    if (m) return new CheckError('proxy', m[1] === '407' ? 'proxy authentication required (407)' : `the proxy refused the connection (${m[1]})`);
    m = /Proxy Authentication Required \((\d+)\)/i.exec(msg);
    if (m) return new CheckError('proxy', 'proxy authentication required (407)');
  }
  const tls = chain.some(
    (e) =>
      (typeof e.code === 'string' && TLS_CODE.test(e.code)) ||
      (typeof e.message === 'string' && /socket disconnected before secure TLS connection|wrong version number|packet length too long/i.test(e.message)),
  );
  const message = describeError(err);
  const viaProxyTls = viaProxy && chain.some((e) => e.code === 'UND_ERR_PRX_TLS');
  if (tls && !viaProxyTls && minVersion) {
    const versionFailure = minVersionFailure(err, minVersion);
    if (versionFailure) return versionFailure;
  }
  if (tls) return new CheckError('tls', viaProxyTls ? `proxy: ${message}` : message);
  return new CheckError('request', message);
}

// ---------- bodies ----------

/** Reads and drops a body (up to BODY_LIMIT; beyond that the connection is closed). */
function discard(body: Dispatcher.ResponseData['body'], signal: AbortSignal): Promise<unknown> {
  // undici 6 accepts `signal` here; its typings do not say so.
  return body.dump({ limit: BODY_LIMIT, signal } as { limit: number });
}

/** The body as text: decompressed (at most BODY_LIMIT decoded bytes: net/bounded.ts) and decoded by its charset. */
async function decodeBody(data: Buffer, headers: Record<string, string | string[] | undefined>, signal: AbortSignal): Promise<{ text: string; truncated: boolean }> {
  const encoding = (firstHeader(headers, 'content-encoding') ?? '').trim().toLowerCase();
  const { data: bytes, truncated } = await decompressCapped(data, encoding, BODY_LIMIT, signal);
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(firstHeader(headers, 'content-type') ?? '')?.[1];
  try {
    return { text: new TextDecoder(charset ?? 'utf-8').decode(bytes), truncated };
  } catch {
    return { text: new TextDecoder('utf-8').decode(bytes), truncated };
  }
}

// ---------- the check ----------

interface Route {
  /** The proxy URL without userinfo, or undefined for a direct connection. */
  proxy?: URL;
  /** `Basic ...` from the proxy URL's userinfo. */
  proxyAuth?: string;
  /** Where the proxy setting came from, for notes. */
  source?: string;
}

function routeFor(o: Options, target: URL, env: NodeJS.ProcessEnv): Route {
  let raw: string | undefined;
  let source: string | undefined;
  if (o.proxy_url !== undefined) [raw, source] = [o.proxy_url, 'proxy_url'];
  else if (o.proxy_host !== undefined) [raw, source] = [`http://${hostPort(o.proxy_host, o.proxy_port)}`, 'proxy_host'];
  else {
    const fromEnv = envProxyFor(target, env);
    if (fromEnv) [raw, source] = [fromEnv.url, fromEnv.variable];
  }
  if (raw === undefined) return {};
  let proxy: URL;
  try {
    proxy = parseProxyUrl(raw);
  } catch {
    throw new CheckError('proxy', `${source} is not a valid proxy URL`);
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new CheckError('proxy', `${source}: unsupported proxy scheme ${proxy.protocol.replace(':', '')} (http or https proxies only)`);
  }
  let proxyAuth: string | undefined;
  if (proxy.username || proxy.password) {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    proxyAuth = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    proxy.username = '';
    proxy.password = '';
  }
  return { proxy, proxyAuth, source };
}

function defaultPort(u: URL): number {
  return Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
}

/**
 * undici, loaded only for a check that goes through a proxy (requests without one use
 * node:http): at its first use, or before the deadlines start when the environment names a
 * proxy (the runner calls `load` then).
 */
const importUndici = () => import('undici');
type Undici = Awaited<ReturnType<typeof importUndici>>;
let loading: Promise<Undici> | undefined;
const driver = () => (loading ??= importUndici().then(async (undici) => (await parserReady(undici), undici)));
const PROXY_VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'];
const preload = async (): Promise<void> => {
  if (PROXY_VARIABLES.some((v) => process.env[v])) await driver();
};

/**
 * Waits until undici's HTTP parser (llhttp, WebAssembly compiled when undici loads) is ready.
 * undici 6 awaits that compile after a new connection's socket is handed over, with no listener
 * on it yet: a server that closes the connection meanwhile (the first one in a process, about
 * 1 run in 3 on this machine) is never noticed and the request waits for its deadline. A
 * request on a client whose connector hands over an unconnected socket (no network) passes the
 * same await; its 'connect' event says the parser is there.
 */
async function parserReady(undici: Undici): Promise<void> {
  const { Socket } = await import('node:net');
  const client = new undici.Client('http://parser.invalid', { connect: (_opts, callback) => callback(null, new Socket()) });
  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.request({ path: '/', method: 'GET' }).catch(() => {});
  await connected;
  await client.destroy().catch(() => {});
}

export const http = defineCheck({
  load: preload,
  type: 'http',
  summary: 'an HTTP(S) request gets the expected status',
  url: { schemes: ['http', 'https'], options: (raw) => ({ url: raw }) },
  // a body (1 MiB) per hop, redirects included, and their headers
  maxReadBytes: 16 * 1024 * 1024,
  options,
  // (URL userinfo, credential-looking query values, sensitive headers and proxy_url's userinfo
  // are covered by the generic rules in config/secrets.ts)
  name: (o) => `http:${safeUrl(o.url)}`,
  // conn-check's steps: a TCP pre-check (to the proxy when proxy_host is set), then the request
  // (its name ends with a colon); the URL as written, query string included
  usesTls: () => true, // its TLS options are prepared for every request (a redirect may lead to https)
  legacyNames: (o) => {
    const u = new URL(o.url);
    const tcp = o.proxy_host !== undefined ? `${o.proxy_host}:${o.proxy_port}` : `${u.hostname.replace(/^\[|\]$/g, '')}:${defaultPort(u)}`;
    return [`http:${o.url}:tcp:${tcp}`, `http:${o.url}:`];
  },
  target: (o) => safeUrl(o.url),
  // The first connection: to the proxy when one is set in the options (a proxy from the
  // environment, and redirect targets, are only known at run time).
  egress(o) {
    if (o.proxy_url !== undefined) {
      const p = parseProxyUrl(o.proxy_url);
      return [{ protocol: 'tcp', host: bareHost(p.hostname), port: defaultPort(p) }];
    }
    if (o.proxy_host !== undefined) return [{ protocol: 'tcp', host: bareHost(o.proxy_host), port: o.proxy_port }];
    const u = new URL(o.url);
    return [{ protocol: 'tcp', host: bareHost(u.hostname), port: defaultPort(u) }];
  },
  async run(o, ctx) {
    const original = new URL(o.url);
    if (original.username || original.password) {
      // URL userinfo is basic auth (as curl and python-requests do), unless another auth is set.
      if (!o.auth && !o.digest_auth && !o.bearer_token) {
        o = { ...o, auth: { username: decodeURIComponent(original.username), password: decodeURIComponent(original.password) } };
      }
      original.username = '';
      original.password = '';
    }
    for (const [k, v] of Object.entries(o.params ?? {})) {
      for (const value of Array.isArray(v) ? v : [v]) original.searchParams.append(k, value);
    }

    // The pre-check: conn-check opened a TCP connection first, to the proxy when there is one.
    const route = routeFor(o, original, ctx.env);
    if (o.all_addresses && route.proxy) {
      throw new CheckError('proxy', `all_addresses cannot be used through a proxy (${route.source} is set: add the host to NO_PROXY)`);
    }
    const preHost = route.proxy ? route.proxy.hostname : original.hostname;
    const prePort = route.proxy ? defaultPort(route.proxy) : defaultPort(original);
    if (!o.all_addresses) {
      const pre = await (async () => {
        try {
          return await ctx.step('tcp', () => connectTcp(preHost, prePort, ctx.signal));
        } catch (err) {
          if (route.proxy && err instanceof CheckError) throw new CheckError(err.step, `proxy ${hostPort(preHost, prePort)}: ${err.message}`);
          throw err;
        }
      })();
      pre.socket.destroy();
      if (route.proxy) ctx.note(`via proxy ${hostPort(preHost, prePort)} (${route.source})`);
      else ctx.note(`connected to ${showAddress(pre.address)}`);
    }

    const tlsOpts = await ctx.step('tls', () => secureOptions(o, original.hostname, ctx));
    if (!route.proxy) {
      if (!o.all_addresses) return direct(o, original, route, tlsOpts, ctx);
      // The request at every resolved address of the URL's host, each over its own connection
      // pinned to that address (SNI, verification and the Host header stay the host name's).
      const addresses = await ctx.step('resolve', () => resolveHost(original.hostname, ctx.signal));
      const port = defaultPort(original);
      await eachAddress(addresses, ctx, async (address, note) => {
        let socket: Socket;
        try {
          socket = await connectAddress(address, port, ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw new CheckError('tcp', describeError(err));
        }
        socket.destroy();
        await direct(o, original, route, tlsOpts, { ...ctx, note }, pinnedLookup(original.hostname, address));
      });
      return;
    }

    // Through a proxy: undici's ProxyAgent.
    // A Proxy-Authorization header given in `headers` goes to the proxy (undici refuses it on requests).
    if (!route.proxyAuth) {
      const given = Object.entries(o.headers ?? {}).find(([k]) => k.toLowerCase() === 'proxy-authorization')?.[1];
      if (given !== undefined) route.proxyAuth = Array.isArray(given) ? given[0] : given;
    }
    const undici = await driver();
    // undici's own timeouts are a backstop, a little after the deadline: at the deadline the
    // runner reports "timed out after Ns" and ctx.signal tears the dispatcher down.
    const timeout = Math.max(1, Math.round(ctx.timeoutMs)) + 500;
    // undici derives SNI and the name to verify from each request's host (redirects may change
    // it); a fixed servername only when server_name asks for one.
    const requestTls = { ...tlsOpts, servername: o.server_name, timeout };
    const timeouts = { headersTimeout: timeout, bodyTimeout: timeout };

    type Connector = import('undici').buildConnector.connector;
    /**
     * A connector that makes the shared TLS assertions (min_tls_version, min_cert_days, the
     * certificate noted with its days left) on every connection to an https origin, before
     * anything is sent on it. Connections to the proxy (plain requests through it, or the
     * socket a tunnel runs in) are not the server's and are left alone.
     */
    const asserting = (connect: Connector): Connector =>
      ((opts, callback) => {
        const finish = (err: Error | null, socket: Parameters<Parameters<Connector>[1]>[1]) => {
          if (err || !socket || opts.protocol !== 'https:' || !('getPeerCertificate' in socket)) return (callback as (...a: unknown[]) => void)(err, socket);
          try {
            assertCertificate(socket as TLSSocket, o, ctx, o.server_name ?? bareHost(opts.hostname));
          } catch (failure) {
            socket.destroy();
            return callback(failure as Error, null);
          }
          callback(null, socket);
        };
        if (opts.protocol !== 'https:') return connect(opts, finish as never);
        // The connection and its TLS handshake are the tls step: a handshake that never
        // completes is reported there, not as a request that timed out.
        void ctx
          .step('tls', () => new Promise<void>((done) => connect(opts, ((err: Error | null, socket: never) => (done(), finish(err, socket))) as never)))
          .catch(() => {});
      }) as Connector;

    const proxyTls = {
      ...(await ctx.step('tls', () => secureOptions({ disable_tls_verification: o.disable_tls_verification, ca_file: o.ca_file }, route.proxy!.hostname, ctx))),
      timeout,
    };
    /**
     * A connector whose sockets are under the check's read budget (net/bounded.ts) from their
     * first byte: the connections to the proxy, both the one a CONNECT tunnel runs in and the one
     * plain requests go through. `tunnelTls: false` leaves out TLS sockets, which in the factory
     * below are only ever TLS to the server inside a tunnel whose socket is counted already.
     */
    const counted = (connect: Connector, tunnelTls: boolean): Connector =>
      ((opts, callback) =>
        connect(opts, ((err: Error | null, socket: Parameters<Parameters<Connector>[1]>[1]) => {
          if (socket && (tunnelTls || (socket as { encrypted?: boolean }).encrypted !== true)) capReads(socket, ctx.signal);
          (callback as (...a: unknown[]) => void)(err, socket);
        }) as never)) as Connector;
    const base = undici.buildConnector(requestTls);
    const factory = (origin: string | URL, opts: object) => {
      const given = (opts as { connect?: unknown }).connect;
      return new undici.Pool(origin, { ...opts, ...timeouts, connect: asserting(typeof given === 'function' ? counted(given as Connector, false) : base) });
    };
    const dispatcher = new undici.ProxyAgent({
      uri: route.proxy.href,
      token: route.proxyAuth,
      proxyTunnel: false, // plain http:// requests go to an http proxy as absolute-URI requests, as curl does
      requestTls,
      proxyTls,
      factory,
      // the proxy connection CONNECT tunnels run in
      clientFactory: (origin: string | URL, opts: { connect: Connector }) => new undici.Pool(origin, { ...opts, connect: counted(opts.connect, true) }),
      ...timeouts,
    } as ConstructorParameters<typeof undici.ProxyAgent>[0]);
    // At the deadline, tear everything down: pending requests and body reads fail at once.
    const onAbort = () => void dispatcher.destroy().catch(() => {});
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const send: Send = async (target, method, headers, body) => {
        const r = await undici.request(target, { dispatcher, method: method as Dispatcher.HttpMethod, headers, body, signal: ctx.signal });
        return { statusCode: r.statusCode, headers: r.headers, read: (limit) => readCapped(r.body as AsyncIterable<Buffer>, limit), discard: () => discard(r.body, ctx.signal) };
      };
      await exchange(send, o, original, route, ctx);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await dispatcher.destroy().catch(() => {});
    }
  },
});

/** An answer's status, headers and body, whichever client got it. */
interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** Reads the body, at most `limit` bytes. */
  read(limit: number): Promise<{ data: Buffer; truncated: boolean }>;
  /** Reads and drops the body (up to BODY_LIMIT; beyond that the connection is closed). */
  discard(): Promise<unknown>;
}
type Send = (target: URL, method: string, headers: Record<string, string | string[]>, body: string | undefined) => Promise<Answer>;

/**
 * The request without a proxy, with node:http: one connection per request (redirects and the
 * digest round trip open their own), made here so that an https connection's handshake is the
 * tls step and its certificate is asserted before anything is sent on it. Every connection is
 * destroyed at the deadline and when the check ends.
 */
async function direct(o: Options, original: URL, route: Route, tlsOpts: ConnectionOptions, ctx: CheckContext, lookup?: LookupFunction): Promise<void> {
  const live = new Set<{ destroy(): void }>();
  const onAbort = () => {
    for (const x of live) x.destroy();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const send: Send = async (target, method, headers, body) => {
    const host = bareHost(target.hostname);
    const port = defaultPort(target);
    let socket: Socket;
    if (target.protocol === 'https:') {
      const servername = o.server_name ?? (isIP(host) ? undefined : host);
      // The connection and its handshake are the tls step: a handshake that never completes is
      // reported there, and its failures in the words every TLS check uses (net/tls.ts).
      const secure = await ctx.step('tls', () => handshake(undefined, { ...tlsOpts, host, port, servername, lookup }, ctx.signal));
      live.add(secure);
      try {
        assertCertificate(secure, o, ctx, o.server_name ?? host);
      } catch (err) {
        secure.destroy();
        throw err;
      }
      socket = secure;
    } else {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      socket = capReads(createConnection({ host, port, lookup }), ctx.signal);
      live.add(socket);
    }
    const answer = await request1({ url: target, method, headers, body, socket, onRequest: (req) => live.add(req) }).catch((err: unknown) => {
      // A TLS alert once the handshake is done (a TLS 1.3 server refusing the client's
      // certificate, a step behind) ends the connection under the request: undici said that
      // the peer closed it, and so does this.
      const code = (err as { code?: unknown })?.code;
      if (target.protocol === 'https:' && typeof code === 'string' && (code === 'EPROTO' || TLS_CODE.test(code))) throw closedByPeer();
      throw err;
    });
    return {
      statusCode: answer.statusCode,
      headers: answer.headers,
      read: (limit) => answer.read(limit).catch((err: unknown) => Promise.reject(fromNodeHttp(err))),
      discard: () => answer.discard(BODY_LIMIT).catch((err: unknown) => Promise.reject(fromNodeHttp(err))),
    };
  };
  try {
    await exchange(send, o, original, route, ctx);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    onAbort();
  }
}

/**
 * A `lookup` for net/tls.connect that answers `host` with one fixed address (other names, such
 * as redirect targets, are resolved as usual).
 */
function pinnedLookup(host: string, address: Address) {
  const pinned = bareHost(host).toLowerCase();
  return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    if (bareHost(hostname).toLowerCase() !== pinned) return nodeDns().lookup(hostname, options, callback as never);
    if (options?.all) return callback(null, [{ address: address.address, family: address.family }]);
    return callback(null, address.address, address.family);
  };
}

async function exchange(
  sendRequest: Send,
  o: Options,
  original: URL,
  route: Route,
  ctx: CheckContext,
): Promise<void> {
  // Headers sent to the original host (and hosts sharing its authority) only.
  const common: HeaderMap = new Map();
  const credentialed: HeaderMap = new Map();
  let proxyAuthHeader: string | undefined;
  for (const [name, value] of Object.entries(o.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'proxy-authorization') {
      // undici sends this one through the ProxyAgent, never with the request
      proxyAuthHeader = Array.isArray(value) ? value[0] : value;
      continue;
    }
    // Credential headers by the one rule (secrets/rules.ts): Authorization, Cookie, X-Api-Key,
    // Private-Token, X-Functions-Key, Proxy-Authorization...: never sent to another origin.
    addHeader(isCredentialHeaderName(name, o.credential_headers) ? credentialed : common, name, value);
  }
  if (!common.has('user-agent')) addHeader(common, 'User-Agent', `conn-check/${VERSION}`);
  if (proxyAuthHeader !== undefined && !route.proxy) addHeader(credentialed, 'Proxy-Authorization', proxyAuthHeader);
  if (o.cookies && Object.keys(o.cookies).length) {
    addHeader(credentialed, 'Cookie', Object.entries(o.cookies).map(([k, v]) => `${k}=${v}`).join('; '));
    const cookie = credentialed.get('cookie')!;
    if (cookie.values.length > 1) cookie.values = [cookie.values.join('; ')];
  }
  if (o.auth) {
    credentialed.delete('authorization');
    addHeader(credentialed, 'Authorization', `Basic ${Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64')}`);
  } else if (o.bearer_token !== undefined) {
    credentialed.delete('authorization');
    addHeader(credentialed, 'Authorization', `Bearer ${o.bearer_token}`);
  }

  const send = async (target: URL, method: string, body: string | undefined, extra?: Record<string, string>) => {
    const headers: HeaderMap = new Map(common);
    if (sameOrigin(original, target)) for (const [k, v] of credentialed) headers.set(k, v);
    for (const [k, v] of Object.entries(extra ?? {})) headers.set(k.toLowerCase(), { name: k, values: [v] });
    return sendRequest(target, method, headerObject(headers), body);
  };

  const started = performance.now();
  let url = new URL(original);
  let method = o.method;
  let body = o.body;
  let hops = 0;
  /** Origins other than the configured one that a redirect led to. */
  const crossed: string[] = [];
  let bodyDropped = false;
  const res = await ctx.step('request', async () => {
    try {
      for (;;) {
        let r = await send(url, method, body);
        if (o.digest_auth && r.statusCode === 401 && sameOrigin(original, url)) {
          const challenges = parseChallenges(allHeaders(r.headers, 'www-authenticate'));
          const authorization = digestAuthorization(challenges, o.digest_auth, method, `${url.pathname}${url.search}`, body);
          if (authorization) {
            await r.discard().catch(() => {});
            r = await send(url, method, body, { Authorization: authorization });
          }
        }
        const location = firstHeader(r.headers, 'location');
        if (!o.allow_redirects || !REDIRECT_CODES.has(r.statusCode) || !location) return r;
        if (hops >= MAX_REDIRECTS) {
          await r.discard().catch(() => {});
          throw new CheckError('request', `too many redirects (more than ${MAX_REDIRECTS})`);
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new CheckError('request', `redirected to an invalid URL`);
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new CheckError('request', `redirected to an unsupported URL scheme (${next.protocol.replace(':', '')})`);
        await r.discard().catch(() => {});
        hops++;
        // python-requests' rules: 303 turns anything but HEAD into GET; 301/302 turn POST into GET.
        if ((r.statusCode === 303 && method !== 'HEAD') || ((r.statusCode === 301 || r.statusCode === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        next.hash = '';
        if (!sameOrigin(original, next) && !crossed.includes(next.origin)) {
          crossed.push(next.origin);
          // 307/308 repeat the request, body included: not to another origin.
          if (body !== undefined) {
            body = undefined;
            bodyDropped = true;
          }
        }
        url = next;
      }
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw requestFailure(err, route.proxy !== undefined, o.min_tls_version);
    }
  });
  if (hops) ctx.note(`followed ${hops} redirect${hops > 1 ? 's' : ''} to ${safeUrl(url.href)}`);
  if (crossed.length) {
    const held = credentialed.size ? `credential headers${bodyDropped ? ' and the body' : ''}` : bodyDropped ? 'the body' : '';
    ctx.note(`a redirect changed origin (${original.origin} to ${crossed.join(', ')})${held ? `: ${held} not sent there` : ''}`);
  }

  const status = res.statusCode;
  const matches = o.expected_code.ranges.some((r) => status >= r.lo && status <= r.hi);
  if (!matches) {
    ctx.note(`status ${status} after ${Math.round(performance.now() - started)} ms`);
    throw new CheckError('status', o.expected_code.single ? `Unexpected response code: ${status}` : `Unexpected response code: ${status} (expected ${o.expected_code.label})`);
  }

  for (const [name, expected] of Object.entries(o.expected_headers ?? {})) {
    const values = allHeaders(res.headers, name.toLowerCase());
    if (!values.length) throw new CheckError('headers', `the response has no ${name} header`);
    const value = values.join(', ');
    if (!(await ctx.step('headers', () => expected.test(value, ctx.signal)))) {
      throw new CheckError('headers', `header ${name}: ${show(value)} ${expected.regex ? 'does not match' : 'does not contain'} ${expected.label}`);
    }
  }

  let text: string | undefined;
  let truncated = false;
  const readBody = o.expected_body !== undefined || o.expected_json !== undefined;
  // 'body' is not in StepName yet: a step of its own so that a stalled body is reported there.
  await ctx.step('body' as StepName, async () => {
    if (readBody) {
      const read = await res.read(BODY_LIMIT);
      const decoded = await decodeBody(read.data, res.headers, ctx.signal);
      truncated = read.truncated || decoded.truncated;
      text = decoded.text;
    } else {
      await res.discard();
    }
  });
  const elapsed = Math.round(performance.now() - started);
  ctx.note(`status ${status} in ${elapsed} ms`);
  if (o.expected_body && text !== undefined) {
    const expected = o.expected_body;
    if (!(await ctx.step('body' as StepName, () => expected.test(text!, ctx.signal)))) {
      const what = expected.regex ? `does not match ${expected.label}` : `does not contain ${expected.label}`;
      throw new CheckError('body', `the body ${what}${truncated ? ` (first ${BODY_LIMIT / 1024 / 1024} MiB read)` : ''}`);
    }
  }
  if (o.expected_json && text !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new CheckError('body', `the body is not JSON${truncated ? ` (first ${BODY_LIMIT / 1024 / 1024} MiB read)` : ''}`);
    }
    for (const [path, expected] of Object.entries(o.expected_json)) {
      let cur: unknown = doc;
      for (const key of jsonPath(path)!) {
        if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) throw new CheckError('body', `the JSON has nothing at ${path}`);
        cur = (cur as Record<string | number, unknown>)[key];
      }
      if (!isDeepEqual(cur, expected)) throw new CheckError('body', `the JSON at ${path} is ${showJson(cur)}, expected ${showJson(expected)}`);
    }
  }
  if (o.max_response_time !== undefined && elapsed > o.max_response_time) {
    throw new CheckError('time', `the response took ${elapsed} ms (max_response_time ${o.max_response_time} ms)`);
  }
}
