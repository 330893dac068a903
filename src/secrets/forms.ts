/**
 * Every encoding a secret takes on the wire or in output: as is, percent-encoded the ways URLs
 * and query strings encode it (URLSearchParams turns `!'()~` into `%21`...), in URL userinfo,
 * base64 (padded, unpadded, base64url), JSON-escaped; and the blobs a pair makes: basic auth's
 * base64("user:password"), SMTP AUTH PLAIN's base64("\0user\0password"), with and without `=`.
 */

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function userinfoEncoded(s: string): string | undefined {
  try {
    const u = new URL('http://h/');
    u.password = s;
    return u.password;
  } catch {
    return undefined;
  }
}

/** Percent-encodings with lower-case hex too (servers echo either). */
function withLowerHex(s: string): string[] {
  const lower = s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
  return lower === s ? [s] : [s, lower];
}

/** Each form of one secret (the secret first). */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const add = (f: string | undefined) => {
    if (f) for (const x of withLowerHex(f)) forms.add(x);
  };
  add(encodeURIComponent(secret));
  add(encodeURIComponent(secret).replace(/%20/g, '+'));
  add(new URLSearchParams({ x: secret }).toString().slice(2));
  add(encodeURI(secret));
  add(userinfoEncoded(secret));
  const base64 = b64(secret);
  forms.add(base64);
  forms.add(base64.replace(/=+$/, ''));
  forms.add(Buffer.from(secret, 'utf8').toString('base64url'));
  forms.add(JSON.stringify(secret).slice(1, -1));
  return [...forms];
}

/** The blobs a user name and password make on the wire (basic auth, SASL/AUTH PLAIN). */
export function pairBlobs(user: string, password: string): string[] {
  const blobs = [b64(`${user}:${password}`), b64(`\0${user}\0${password}`), b64(`${user}\0${user}\0${password}`)];
  return [...new Set(blobs.flatMap((b) => [b, b.replace(/=+$/, '')]))];
}
