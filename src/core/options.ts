/**
 * Option types shared by the check definitions: each one validates, coerces the way
 * conn-check did (`"5432"` → 5432) and says in one short phrase what it expected.
 */
import * as z from './z.js';
import { MAX_TIMEOUT_S } from './constants.js';
import { declareSecret, type SecretKind } from '../secrets/rules.js';

/** A value as it appears in an error message: strings quoted, long values cut. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (Array.isArray(value)) text = 'a list';
  else if (typeof value === 'object') text = 'a mapping';
  else text = String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * What a coercing option also accepts besides its JSON type, for the generated JSON Schema
 * (config/schema.ts): `"5432"` for a port, `"yes"` for a boolean, and so on.
 */
export const alsoAccepts = new WeakMap<object, object[]>();
function accepting<T extends object>(schema: T, ...alternatives: object[]): T {
  alsoAccepts.set(schema, alternatives);
  return schema;
}
const INT_STRING = { type: 'string', pattern: '^\\s*[+-]?\\d+\\s*$' };
const NUM_STRING = { type: 'string', pattern: '^\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)\\s*$' };

const intString = /^\s*[+-]?\d+\s*$/;
const numString = /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/;
const toInt = (v: unknown) => (typeof v === 'string' && intString.test(v) ? Number(v) : v);
const toNum = (v: unknown) => (typeof v === 'string' && numString.test(v) ? Number(v) : v);

function expected(what: string) {
  return { error: (issue: { input?: unknown }) => `expected ${what}, got ${show(issue.input)}` };
}

/** What classic zod's `z.preprocess` is: `fn` on the raw value, then `schema`. */
export function preprocess<S extends z.core.SomeType>(fn: (value: unknown) => unknown, schema: S): z.ZodMiniPipe<z.ZodMiniTransform<unknown, unknown>, S> {
  return z.pipe(z.transform(fn), schema as never) as unknown as z.ZodMiniPipe<z.ZodMiniTransform<unknown, unknown>, S>;
}

/**
 * `null` (a key written with no value, as conn-check's files and generators do) taken as
 * `value`: `''` for udp's `expect:`, absent for redis' `username: null`.
 */
export function nullMeans<S extends z.core.SomeType>(value: unknown, schema: S) {
  return accepting(preprocess((v) => (v === null ? value : v), schema), { type: 'null' });
}

/**
 * Declares that an option carries credentials, and how (see secrets/rules.ts): the config layer
 * collects, masks and scrubs its value because this builder says so, whatever the option's name.
 * `password: secret(scalarString('a password'))`, `headers: secret(map, 'headers')`.
 */
export function secret<T extends object>(schema: T, kind: SecretKind = 'value'): T {
  return declareSecret(schema, kind);
}

/** A non-empty string. */
export function text(what = 'a non-empty string') {
  const e = expected(what);
  return z.string(e).check(z.minLength(1, e));
}

/** Control characters (C0, DEL, C1, line and paragraph separators, bidi controls): never part of a host. */
// eslint-disable-next-line no-control-regex
const HOST_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/;

/** A host name or address: no control characters (a NUL would cut the name the resolver sees). */
export const host = () =>
  text('a host name or address').check(
    z.refine((v) => !HOST_CONTROL.test(v), {
      error: (i) => {
        const c = HOST_CONTROL.exec(String(i.input))![0].charCodeAt(0);
        return `expected a host name or address, got one with the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
      },
    }),
  );

/** A TCP/UDP port; strings of digits are accepted, as conn-check 1.3.1 did. */
export function port() {
  const e = expected('an integer 1-65535');
  return accepting(preprocess(toInt, z.int(e).check(z.minimum(1, e), z.maximum(65535, e))), INT_STRING);
}

/** An integer in a range; strings of digits are accepted. */
export function integer(min: number, max: number) {
  const e = expected(`an integer ${min}-${max}`);
  return accepting(preprocess(toInt, z.int(e).check(z.minimum(min, e), z.maximum(max, e))), INT_STRING);
}

/** Seconds: a number > 0 and at most a day. */
export function seconds() {
  const e = expected(`a number of seconds > 0 and <= ${MAX_TIMEOUT_S}`);
  return accepting(preprocess(toNum, z.number(e).check(z.gt(0, e), z.maximum(MAX_TIMEOUT_S, e))), NUM_STRING);
}

const truthy = new Set(['true', 'yes', 'on', '1']);
const falsy = new Set(['false', 'no', 'off', '0']);
/** A boolean; the strings true/false/yes/no/on/off/1/0 are accepted too. */
export function bool() {
  const e = expected('true or false');
  return accepting(preprocess((v) => {
    if (typeof v === 'string') {
      const s = v.trim().toLowerCase();
      if (truthy.has(s)) return true;
      if (falsy.has(s)) return false;
    }
    if (v === 0 || v === 1) return v === 1;
    return v;
  }, z.boolean(e)), { enum: [...truthy, ...falsy, 0, 1] });
}

/** Any scalar rendered as a string (a password of digits is still a password). */
export function scalarString(what = 'a string') {
  const e = expected(what);
  return accepting(preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string(e)), { type: ['number', 'boolean'] });
}

/** A list of strings; a single string is a list of one, a comma-separated string is split. */
export function stringList(what = 'a list of strings') {
  const e = expected(what);
  return accepting(preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(scalarString(what), e),
  ), { type: 'string', description: 'comma-separated' });
}

/** One of a fixed set of words. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, expected(`one of ${values.join(', ')}`));
}

/** An absolute http(s) URL. */
export function url(schemes: readonly string[] = ['http:', 'https:']) {
  const what = `an absolute URL (${schemes.map((s) => s.replace(':', '')).join(' or ')})`;
  const e = expected(what);
  return z.string(e).check(
    z.refine((v) => {
      // The scheme as written (`HTTP:` is http:) when the value starts with one, which is then
      // the parsed URL's protocol: the URL is not built, only checked.
      const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(v);
      if (scheme) return schemes.includes(scheme[0].toLowerCase()) && URL.canParse(v);
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, e),
  );
}

/**
 * TLS options shared by every TLS-capable check (tls, https, and the services' TLS modes).
 * net/tls.ts turns them into Node's connection options. Built on first use (a tcp run never
 * builds them) and then shared: every check that spreads them gets the same schemas.
 */
export function tlsOptionsShape(): TlsOptionsShape {
  return (tlsShape ??= buildTlsShape());
}
type TlsOptionsShape = ReturnType<typeof buildTlsShape>;
let tlsShape: TlsOptionsShape | undefined;
function buildTlsShape() {
  return {
    disable_tls_verification: z._default(bool(), false),
    ca_file: z.optional(text('a path to a PEM file')),
    client_cert: z.optional(text('a path to a PEM certificate')),
    client_key: z.optional(text('a path to a PEM key')),
    server_name: z.optional(text('a host name')),
    /** The oldest TLS version the check accepts (the handshake offers nothing older). */
    min_tls_version: z.optional(oneOf(['TLSv1.2', 'TLSv1.3'])),
    /** Fail (step cert) when the server's certificate expires in fewer days than this. */
    min_cert_days: z.optional(integer(0, 36_500)),
  };
}
export type TlsOptions = {
  disable_tls_verification: boolean;
  ca_file?: string;
  client_cert?: string;
  client_key?: string;
  server_name?: string;
  min_tls_version?: 'TLSv1.2' | 'TLSv1.3';
  min_cert_days?: number;
};

// ---- option groups a service check's options are made of ------------------------------------

/** `host`, and `port` with the service's standard port when none is given. */
export function endpoint(standardPort: number) {
  return { host: host(), port: z._default(port(), standardPort) };
}

/**
 * `tls` (off unless set) and the TLS options: a service that speaks TLS when asked to. Built on
 * first use, then shared, as tlsOptionsShape().
 */
export function tlsSwitch(): TlsSwitchShape {
  return (tlsSwitchShape ??= buildTlsSwitch());
}
type TlsSwitchShape = ReturnType<typeof buildTlsSwitch>;
let tlsSwitchShape: TlsSwitchShape | undefined;
function buildTlsSwitch() {
  return { tls: z._default(bool(), false), ...tlsOptionsShape() };
}

/** `username` and `password` (a credential) for a login; `who` is what a username is said to be. */
export function login(who = 'a non-empty user name') {
  return { username: z.optional(text(who)), password: z.optional(secret(scalarString('a password'))) };
}

/** The refinement for a login whose password needs a username, reported at username. */
export function passwordNeedsUsername(why = '') {
  return z.refine<{ username?: string; password?: string }>((o) => o.password === undefined || o.username !== undefined, {
    message: `expected a username with password${why}, got nothing`,
    path: ['username'],
  });
}
