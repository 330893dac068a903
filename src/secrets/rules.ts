/**
 * Which names carry credentials, by rule. Used by config (to collect), checks (to drop
 * credential headers on a cross-origin redirect) and reporters. Imports nothing from src/.
 */

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
