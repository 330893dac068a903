/**
 * Which values are credentials, by rule: the rules an option builder declares (`secret()` in
 * core/options.ts marks a schema with a kind), and the name rules for headers, query
 * parameters and option keys. Used by config (to collect), checks (to drop credential headers on
 * a cross-origin redirect) and reporters. Imports nothing from src/.
 */

/**
 * Shorter values are not masked: masking a 1-3 character value would wreck every report (every
 * "a", "on", "200"). They are reported once as a warning that names the option instead.
 */
export const MIN_MASK_LENGTH = 4;

/**
 * How an option carries credentials:
 * - `value`: the whole value ([user, password] and {username, password} pairs: the password
 *   and the pair's encodings; the user name is not a secret);
 * - `headers`: a mapping of header names to values, credential headers by name;
 * - `params`: a mapping of query parameters to values, credential parameters by name;
 * - `cookies`: a mapping of cookie names to values, every value;
 * - `url`: a URL's userinfo and credential query parameters;
 * - `request`: request content (a body): only the `${VAR}` values placed in it;
 * - `mapping`: a mapping of settings (kafka's `sasl`): its keys named like credentials
 *   (`password`, `token`...), a password with the mapping's `username` as a pair.
 * In every kind, the values that `${VAR}` put into the option are credentials too.
 */
export type SecretKind = 'value' | 'headers' | 'params' | 'cookies' | 'url' | 'request' | 'mapping';

const declared = new WeakMap<object, SecretKind>();

/** Marks an option schema as credential-bearing (core/options.ts `secret()` calls this). */
export function declareSecret<T extends object>(schema: T, kind: SecretKind): T {
  declared.set(schema, kind);
  return schema;
}

/** The kind a schema was declared with, if any. */
export function declaredKind(schema: object): SecretKind | undefined {
  return declared.get(schema);
}

/** Words that make a header name a credential header, wherever they appear in it. */
const CREDENTIAL_HEADER_WORDS = /key|token|secret|auth|password|passwd|credential|session|signature|cookie/i;

/**
 * True for a header whose value is a credential: any name containing key, token, secret, auth,
 * password, passwd, credential, session, signature or cookie (case-insensitive: `Authorization`,
 * `X-Api-Key`, `X-Functions-Key`, `Ocp-Apim-Subscription-Key`, `Private-Token`, `Set-Cookie`,
 * `Proxy-Authorization`), or one of the names the user listed in `extra`.
 */
export function isCredentialHeaderName(name: string, extra: readonly string[] = []): boolean {
  if (CREDENTIAL_HEADER_WORDS.test(name)) return true;
  const lower = name.trim().toLowerCase();
  return extra.some((e) => e.trim().toLowerCase() === lower);
}

/** Query-string and form keys whose values are credentials (`code`: OAuth codes). */
const CREDENTIAL_PARAM = /token|secret|key|password|passwd|pass|auth|sig|session|credential|code/i;
export function isCredentialParamName(name: string): boolean {
  return CREDENTIAL_PARAM.test(name);
}

/** Cookie names that hold sessions, whatever their value looks like. */
const SESSION_COOKIE = /sid|sess|token|auth|key|secret/i;
export function isSessionCookieName(name: string): boolean {
  return SESSION_COOKIE.test(name);
}

/**
 * Option keys that are credentials by name, for options no builder declared (a type written
 * before `secret()`, an option added without it): a backstop, not the rule.
 */
const CREDENTIAL_OPTION = /^(password|passwd|pass|pwd|secret|token|api_?key|passphrase|credentials?|private_key|.*_(password|passwd|secret|token|passphrase|key))$/i;
/**
 * The endings a name that CREDENTIAL_OPTION matches must have (it ends in one of its words): a
 * name with none (`type`, `host`, `port`: most) is answered without running, or compiling, it.
 */
const CREDENTIAL_OPTION_ENDINGS = ['pass', 'passwd', 'password', 'pwd', 'secret', 'token', 'key', 'passphrase', 'credential', 'credentials'];
function mayBeCredentialOptionName(name: string): boolean {
  // (lowercasing can only add characters before the ASCII letters a match ends with: they stay at the end)
  const tail = name.slice(-11).toLowerCase();
  for (let i = 0; i < CREDENTIAL_OPTION_ENDINGS.length; i++) if (tail.endsWith(CREDENTIAL_OPTION_ENDINGS[i]!)) return true;
  return false;
}
export function isCredentialOptionName(name: string): boolean {
  return mayBeCredentialOptionName(name) && CREDENTIAL_OPTION.test(name) && !/^(client_key|host_key|.*_file)$/i.test(name); // host_key: a public fingerprint
}

/**
 * A value found by a name heuristic (a query parameter, a cookie) that is a short number is not
 * masked: `code=200` must not hide every "200" in the reports.
 */
export function isIncidentalNumber(value: string): boolean {
  return /^\d{1,7}$/.test(value);
}
