/**
 * The http check's options: the schema (zod) and the shapes it produces (expected codes, body
 * and header matchers, credentials).
 */
import * as z from '../../core/z.js';
import { regexTest } from '../regex.js';
import { bool, host, integer, port, scalarString, secret, show, stringList, text, tlsOptionsShape, url } from '../../core/options.js';

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

const proxyUrlOption = url(['http:', 'https:']);

export const options = z
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
    ...tlsOptionsShape(),
  })
  .check(z.superRefine((o, ctx) => {
    const auths = (['auth', 'digest_auth', 'bearer_token'] as const).filter((k) => o[k] !== undefined);
    if (auths.length > 1) ctx.addIssue({ code: 'custom', path: [auths[1]!], message: `only one of auth, digest_auth and bearer_token may be set (${auths.join(' and ')} are)` });
    if (o.proxy_url !== undefined && o.proxy_host !== undefined) ctx.addIssue({ code: 'custom', path: ['proxy_host'], message: 'set proxy_url or proxy_host, not both' });
    if (o.all_addresses && (o.proxy_url !== undefined || o.proxy_host !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['all_addresses'], message: 'all_addresses cannot be used with a proxy (the proxy resolves the host)' });
    }
  }));

export type Options = z.output<typeof options>;
