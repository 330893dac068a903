/**
 * One http check's exchange over either client (send.ts): the headers (credentials to the
 * configured origin only), the request, the digest round trip, and redirects (python-requests'
 * rules, at most MAX_REDIRECTS); it notes the redirects and any change of origin.
 */
import { safeUrl } from '../../secrets/url.js';
import { isCredentialHeaderName } from '../../secrets/rules.js';
import { VERSION } from '../../core/constants.js';
import { CheckError, type CheckContext } from '../../core/contract.js';
import { basicAuthorization, digestAuthorization, parseChallenges } from './auth.js';
import type { Options } from './options.js';
import { allHeaders, firstHeader, type Answer, type HttpClient } from './send.js';

const MAX_REDIRECTS = 10;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

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

/** Same scheme, host and port: credentials and bodies go to the configured origin only (an http→https upgrade is another origin too). */
function sameOrigin(a: URL, b: URL): boolean {
  return a.origin === b.origin;
}

/**
 * The headers of a check: the common ones and the credentials (for the configured origin only).
 * `common` undefined: the check sets none of its own (no headers, cookies or auth), the one
 * User-Agent is all (no maps built for it).
 */
interface HeaderSets {
  common: HeaderMap | undefined;
  credentialed: HeaderMap;
  original: URL;
}

const NO_HEADERS: HeaderMap = new Map();
const USER_AGENT = `conn-check/${VERSION}`;

/** One request with the headers for its URL: the common ones, and the credentials for the configured origin only. */
function send(client: Pick<HttpClient, 'send'>, h: HeaderSets, url: URL, method: string, body: string | undefined, extra?: Record<string, string>): Promise<Answer> {
  if (!h.common) return client.send({ url, method, headers: extra ? { 'User-Agent': USER_AGENT, ...extra } : { 'User-Agent': USER_AGENT }, body });
  let headers = h.common;
  if ((h.credentialed.size && sameOrigin(h.original, url)) || extra) {
    headers = new Map(h.common);
    if (sameOrigin(h.original, url)) for (const [k, v] of h.credentialed) headers.set(k, v);
    for (const [k, v] of Object.entries(extra ?? {})) headers.set(k.toLowerCase(), { name: k, values: [v] });
  }
  return client.send({ url, method, headers: headerObject(headers), body });
}

/** The check's headers (none of its own: no maps). */
function headerSets(o: Options, original: URL, viaProxy: boolean): HeaderSets {
  if (o.headers === undefined && !o.auth && o.bearer_token === undefined && !(o.cookies && Object.keys(o.cookies).length)) {
    return { common: undefined, credentialed: NO_HEADERS, original };
  }
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
  if (!common.has('user-agent')) addHeader(common, 'User-Agent', USER_AGENT);
  if (proxyAuthHeader !== undefined && !viaProxy) addHeader(credentialed, 'Proxy-Authorization', proxyAuthHeader);
  if (o.cookies && Object.keys(o.cookies).length) {
    addHeader(credentialed, 'Cookie', Object.entries(o.cookies).map(([k, v]) => `${k}=${v}`).join('; '));
    const cookie = credentialed.get('cookie')!;
    if (cookie.values.length > 1) cookie.values = [cookie.values.join('; ')];
  }
  if (o.auth) {
    credentialed.delete('authorization');
    addHeader(credentialed, 'Authorization', basicAuthorization(o.auth.username, o.auth.password));
  } else if (o.bearer_token !== undefined) {
    credentialed.delete('authorization');
    addHeader(credentialed, 'Authorization', `Bearer ${o.bearer_token}`);
  }

  return { common, credentialed, original };
}

/**
 * Sends the check's request to `original` (and on, through redirects when allowed); resolves
 * with the final answer, its body unread. `viaProxy`: a Proxy-Authorization header in the
 * options went to the proxy already.
 */
export async function exchange(client: Pick<HttpClient, 'send'>, o: Options, original: URL, viaProxy: boolean, ctx: CheckContext): Promise<Answer> {
  const headers = headerSets(o, original, viaProxy);
  const { credentialed } = headers;

  // (`original` is never changed: each redirect is a URL of its own)
  let url = original;
  let method = o.method;
  let body = o.body;
  let hops = 0;
  /** Origins other than the configured one that a redirect led to. */
  const crossed: string[] = [];
  let bodyDropped = false;
  // (each client's failures are its own: send rejects with the step and words already)
  const res = await ctx.step('request', async () => {
    for (;;) {
      let r = await send(client, headers, url, method, body);
      if (o.digest_auth && r.statusCode === 401 && sameOrigin(original, url)) {
        const challenges = parseChallenges(allHeaders(r.headers, 'www-authenticate'));
        const authorization = digestAuthorization(challenges, o.digest_auth, method, `${url.pathname}${url.search}`, body);
        if (authorization) {
          await r.discard().catch(() => {});
          r = await send(client, headers, url, method, body, { Authorization: authorization });
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
  });
  if (hops) ctx.note(`followed ${hops} redirect${hops > 1 ? 's' : ''} to ${safeUrl(url.href)}`);
  if (crossed.length) {
    const held = credentialed.size ? `credential headers${bodyDropped ? ' and the body' : ''}` : bodyDropped ? 'the body' : '';
    ctx.note(`a redirect changed origin (${original.origin} to ${crossed.join(', ')})${held ? `: ${held} not sent there` : ''}`);
  }
  return res;
}
