/**
 * Collects every credential-bearing value of a check once, after interpolation, so that the
 * entries can mask them (core.setSecret) and the reporters can scrub them (report/redact.ts).
 */

/** Option keys whose values are credentials, whatever the check type. */
const CREDENTIAL_KEY =
  /^(password|passwd|pass|pwd|secret|token|bearer_token|api_key|apikey|auth|digest_auth|passphrase|credentials?|.*_(password|passwd|secret|token|passphrase))$/i;

/** Header names whose values are credentials. */
const SENSITIVE_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie)$|token|secret|api[-_]?key|password|passwd|session|signature|credential|auth/i;

/** Query-string or form keys whose values are credentials. */
const SENSITIVE_PARAM = /token|secret|key|password|passwd|pass|auth|sig|signature|session|credential|code/i;

/** Values shorter than this are not scrubbed from text (they would wreck every report). */
export const MIN_SECRET_LENGTH = 3;

function addValue(out: Set<string>, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'string' || typeof value === 'number') {
    const s = String(value);
    if (s.length >= MIN_SECRET_LENGTH) out.add(s);
    // A multi-line secret (a PEM private key) is masked line by line too: output is split into lines.
    if (s.includes('\n')) for (const line of s.split(/\r?\n/)) if (line.trim().length >= 8) out.add(line.trim());
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) addValue(out, v);
    // [user, password] pairs: the basic-auth header carries base64("user:password").
    if (value.length === 2 && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
      addPair(out, String(value[0]), String(value[1]));
    }
    return;
  }
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const user = obj.username ?? obj.user;
    const pass = obj.password ?? obj.pass;
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'username' || k === 'user') continue;
      addValue(out, v);
    }
    if (user !== undefined && pass !== undefined) addPair(out, String(user), String(pass));
  }
}

function addPair(out: Set<string>, user: string, pass: string): void {
  if (pass.length >= MIN_SECRET_LENGTH) out.add(pass);
  out.add(Buffer.from(`${user}:${pass}`).toString('base64'));
}

/** Secrets inside a URL: its userinfo and the values of credential-looking query keys. */
export function urlSecrets(raw: string, out: Set<string> = new Set()): Set<string> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // Not a URL (a bad port, a space): its userinfo is still a credential, and the config error
    // that follows may show the value.
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\s]*)@/i.exec(raw);
    if (m) {
      const colon = m[1]!.indexOf(':');
      const [user, pass] = colon === -1 ? [m[1]!, ''] : [m[1]!.slice(0, colon), m[1]!.slice(colon + 1)];
      if (pass) {
        addPair(out, safeDecode(user), safeDecode(pass));
        addValue(out, pass);
      } else addValue(out, safeDecode(user));
      addValue(out, m[1]);
    }
    return out;
  }
  const user = safeDecode(u.username);
  const pass = safeDecode(u.password);
  if (pass) addPair(out, user, pass);
  else if (user.length >= MIN_SECRET_LENGTH) out.add(user); // https://TOKEN@host
  if (u.password && u.password.length >= MIN_SECRET_LENGTH) out.add(u.password);
  for (const [k, v] of u.searchParams) {
    if (SENSITIVE_PARAM.test(k)) addValue(out, v);
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function headerSecrets(headers: unknown, out: Set<string>): void {
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (!SENSITIVE_HEADER.test(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined || v === null) continue;
      const s = String(v);
      addValue(out, s);
      // Cookie: a=1; b=2 — each session-like value on its own (a server may echo one alone);
      // short values of harmless names (theme=dark) would only wreck the reports.
      if (/^(set-)?cookie$/i.test(name)) {
        for (const part of s.split(';')) {
          const eq = part.indexOf('=');
          if (eq <= 0) continue;
          const [k, val] = [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
          if (val.length >= 8 || SENSITIVE_PARAM.test(k) || /sid|sess/i.test(k)) addValue(out, val);
        }
      }
      // "Basic xxx", "Bearer xxx": the credential part on its own too.
      const m = /^\s*\w+\s+(\S.*)$/.exec(s);
      if (m) {
        addValue(out, m[1]);
        if (/^basic$/i.test(s.trim().split(/\s+/)[0] ?? '')) {
          const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          if (colon > 0) addValue(out, decoded.slice(colon + 1));
        }
      }
    }
  }
}

/** Every credential in one check's options (raw mapping, after interpolation). */
export function collectSecrets(options: Record<string, unknown>, extraKeys: readonly string[] = []): Set<string> {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(options)) {
    if (CREDENTIAL_KEY.test(key) || extraKeys.includes(key)) addValue(out, value);
    else if (key === 'headers') headerSecrets(value, out);
    else if (key === 'cookies' && value && typeof value === 'object') addValue(out, Object.values(value));
    else if (key === 'params' && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (SENSITIVE_PARAM.test(k)) addValue(out, v);
    } else if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) urlSecrets(value, out);
  }
  return out;
}

/** The forms a secret can take in output: as is, URL-encoded, base64, JSON-escaped. */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret]);
  forms.add(encodeURIComponent(secret));
  forms.add(encodeURIComponent(secret).replace(/%20/g, '+'));
  forms.add(Buffer.from(secret).toString('base64'));
  forms.add(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
  forms.add(JSON.stringify(secret).slice(1, -1));
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** A URL as it may be shown: no userinfo, query values hidden. */
export function safeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return raw.replace(/\/\/[^/@\s]*@/, '//***@').replace(/\?.*$/, '?***');
  }
  if (u.username || u.password) {
    u.username = u.username ? '***' : '';
    u.password = '';
  }
  const keys = [...u.searchParams.keys()];
  if (keys.length) u.search = '?' + keys.map((k) => `${encodeURIComponent(k)}=***`).join('&');
  return u.toString().replace('%2A%2A%2A', '***');
}
