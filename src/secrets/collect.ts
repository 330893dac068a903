/**
 * Collects every credential-bearing value of one check's options (the raw mapping, after
 * interpolation, before validation: an invalid config is masked too). What an option carries is
 * declared by its builder (`secret()` in core/options.ts, see rules.ts); option keys named like
 * credentials and URL-looking strings are collected by rule as a backstop.
 */
import { pairBlobs } from './forms.js';
import {
  declaredKind,
  isCredentialHeaderName,
  isCredentialOptionName,
  isCredentialParamName,
  isIncidentalNumber,
  isSessionCookieName,
  MIN_MASK_LENGTH,
  type SecretKind,
} from './rules.js';

export interface Collected {
  /** Values to mask (each in all its forms, see forms.ts). */
  secrets: ReadonlySet<string>;
  /** Options holding a credential too short to mask (1-3 characters): warned about, not masked. */
  tooShort: ReadonlySet<string>;
}

export interface CollectOptions {
  /** Each option's declared kind (from its schema). */
  kinds?: Readonly<Record<string, SecretKind>>;
  /** The values `${VAR}` put into each option (top-level key → values). */
  interpolated?: Readonly<Record<string, readonly string[]>>;
  /** Header names the user listed as credentials. */
  extraHeaders?: readonly string[];
}

/** The secret kinds of a schema shape: each key's declared kind (wrappers looked through). */
export function kindsOf(shape: Readonly<Record<string, unknown>>): Record<string, SecretKind> {
  const out: Record<string, SecretKind> = {};
  for (const [key, schema] of Object.entries(shape)) {
    const kind = findKind(schema, 0);
    if (kind) out[key] = kind;
  }
  return out;
}

/** The builders that wrap a schema (core/z.ts records keep it among their arguments). */
const WRAPPERS = new Set(['optional', 'nullable', '_default', 'pipe']);
/** Looks through optional/default/pipe wrappers. */
function findKind(schema: unknown, depth: number): SecretKind | undefined {
  if (!schema || typeof schema !== 'object' || depth > 8) return undefined;
  const own = declaredKind(schema);
  if (own) return own;
  const { kind, args } = schema as { kind?: unknown; args?: unknown };
  if (typeof kind !== 'string' || !WRAPPERS.has(kind) || !Array.isArray(args)) return undefined;
  for (const arg of args) {
    const found = findKind(arg, depth + 1);
    if (found) return found;
  }
  return undefined;
}

class Collector {
  readonly secrets = new Set<string>();
  readonly tooShort = new Set<string>();
  constructor(private readonly extraHeaders: readonly string[]) {}

  add(option: string, value: unknown): void {
    if (value === undefined || value === null || value === '') return;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      const s = String(value);
      if (s.length >= MIN_MASK_LENGTH) this.secrets.add(s);
      else this.tooShort.add(option);
      // A multi-line secret (a PEM private key) is masked line by line too: output is split into lines.
      if (s.includes('\n')) for (const line of s.split(/\r?\n/)) if (line.trim().length >= 8) this.secrets.add(line.trim());
      return;
    }
    if (Array.isArray(value)) {
      // [user, password]: the user name is not a secret, the password and the pair's blobs are.
      if (value.length === 2 && value.every((v) => typeof v === 'string' || typeof v === 'number')) return this.pair(option, String(value[0]), String(value[1]));
      for (const v of value) this.add(option, v);
      return;
    }
    if (typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const user = obj.username ?? obj.user;
      const pass = obj.password ?? obj.pass;
      for (const [k, v] of Object.entries(obj)) if (!['username', 'user', 'password', 'pass'].includes(k)) this.add(option, v);
      if (pass !== undefined && pass !== null && typeof pass !== 'object') {
        if (user !== undefined && user !== null && typeof user !== 'object') this.pair(option, String(user), String(pass));
        else this.add(option, pass);
      } else if (pass !== undefined) this.add(option, pass);
    }
  }

  pair(option: string, user: string, pass: string): void {
    this.add(option, pass);
    if (pass !== '') for (const b of pairBlobs(user, pass)) this.secrets.add(b);
  }

  /** A value found by a name heuristic: short numbers (`code=200`) are incidental, not masked. */
  addByName(option: string, value: unknown): void {
    for (const v of Array.isArray(value) ? value : [value]) {
      if ((typeof v === 'string' || typeof v === 'number') && isIncidentalNumber(String(v))) continue;
      this.add(option, v);
    }
  }

  url(option: string, raw: string): void {
    // Userinfo needs an `@` and query parameters a `?`, parsed or not: a URL with neither (most)
    // holds no credential of its own, and is not parsed here.
    if (!raw.includes('@') && !raw.includes('?')) return;
    let u: URL | undefined;
    try {
      u = new URL(raw);
    } catch {
      u = undefined;
    }
    if (!u) {
      // Does not parse (a password with #, / or ? in it, a bad port): the userinfo as written is
      // everything between :// and the last @, and the error that follows may quote it.
      const m = /^[a-z][a-z0-9+.-]*:\/\/(\S*)@/i.exec(raw);
      if (!m) return;
      const info = m[1]!;
      const colon = info.indexOf(':');
      if (colon === -1) this.add(option, decode(info)); // https://TOKEN@host
      else {
        this.pair(option, decode(info.slice(0, colon)), decode(info.slice(colon + 1)));
        this.add(option, info.slice(colon + 1));
      }
      this.add(option, info);
      return;
    }
    const [user, pass] = [decode(u.username), decode(u.password)];
    if (pass) {
      this.pair(option, user, pass);
      this.add(option, u.password);
    } else if (user) this.add(option, user); // https://TOKEN@host
    if (u.search) for (const [k, v] of u.searchParams) if (isCredentialParamName(k)) this.addByName(option, v);
  }

  headers(option: string, value: unknown): void {
    if (typeof value === 'string') {
      // headers mistyped as a string ("Authorization: Bearer x"): all of it, and each value.
      this.add(option, value);
      for (const line of value.split(/\r?\n|,/)) {
        const colon = line.indexOf(':');
        if (colon > 0) this.header(option, line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) return this.add(option, value);
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
      for (const one of Array.isArray(v) ? v : [v]) this.header(option, name, one);
    }
  }

  private header(option: string, name: string, value: unknown): void {
    if (!isCredentialHeaderName(name, this.extraHeaders) || value === undefined || value === null) return;
    const s = String(value);
    this.add(option, s);
    if (/^(set-)?cookie$/i.test(name)) this.cookieString(option, s);
    // "Basic xxx", "Bearer xxx": the credential part on its own too.
    const m = /^\s*(\w+)\s+(\S.*)$/.exec(s);
    if (m) {
      this.add(option, m[2]);
      if (/^basic$/i.test(m[1]!)) {
        const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) this.pair(option, decoded.slice(0, colon), decoded.slice(colon + 1));
      }
    }
  }

  /** `a=1; b=2`: each session-like value on its own (a server may echo one alone). */
  private cookieString(option: string, s: string): void {
    for (const part of s.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const [k, val] = [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
      if (val.length >= 8 || isCredentialParamName(k) || isSessionCookieName(k)) this.addByName(option, val);
    }
  }

  /** A mapping of settings: its credential-named keys (a password paired with the mapping's username). */
  mapping(option: string, value: unknown): void {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return this.add(option, value); // mistyped: all of it
    const obj = value as Record<string, unknown>;
    const user = obj.username ?? obj.user;
    for (const [k, v] of Object.entries(obj)) {
      if (!isCredentialOptionName(k)) continue;
      if (/^(password|passwd|pass|pwd)$/i.test(k) && (typeof user === 'string' || typeof user === 'number') && (typeof v === 'string' || typeof v === 'number')) this.pair(option, String(user), String(v));
      else this.add(option, v);
    }
  }

  params(option: string, value: unknown): void {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return this.add(option, value); // mistyped: all of it
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (isCredentialParamName(k)) this.addByName(option, v);
  }

  cookies(option: string, value: unknown): void {
    if (typeof value === 'string') {
      this.add(option, value);
      return this.cookieString(option, value);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) return this.add(option, value);
    for (const v of Object.values(value as Record<string, unknown>)) this.add(option, v);
  }
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** (`://` first: most values have none, and need not run the expression) */
const looksLikeUrl = (v: unknown): v is string => typeof v === 'string' && v.includes('://') && /^[a-z][a-z0-9+.-]*:\/\//i.test(v);

/** A `${VAR}` value that is only the URL's scheme, host, port or origin is not a secret. */
function isUrlLocation(raw: unknown, inserted: string): boolean {
  if (typeof raw !== 'string') return false;
  try {
    const u = new URL(raw);
    return [u.hostname, u.host, u.port, u.origin, u.protocol, `${u.protocol}//${u.host}`].includes(inserted.replace(/\/+$/, ''));
  } catch {
    return false;
  }
}

/** isCredentialOptionName of the option names met so far (the same few on every check); at most NAMES_KEPT. */
const credentialNames = new Map<string, boolean>();
export const NAMES_KEPT = 512;
/** isCredentialOptionName, remembered for the first NAMES_KEPT names. */
export function credentialName(key: string): boolean {
  let is = credentialNames.get(key);
  if (is === undefined) {
    is = isCredentialOptionName(key);
    if (credentialNames.size < NAMES_KEPT) credentialNames.set(key, is);
  }
  return is;
}
/** How many names credentialName remembers (for the test that it stays bounded). */
export const credentialNamesKept = (): number => credentialNames.size;

/** What a check without credentials has (most): shared, and read-only for everyone. */
const NOTHING: Collected = { secrets: new Set(), tooShort: new Set() };

/** Every credential in one check's options. */
export function collectSecrets(options: Readonly<Record<string, unknown>>, o: CollectOptions = {}): Collected {
  let collector: Collector | undefined;
  const kinds = o.kinds ?? {};
  const keys = Object.keys(options);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const value = options[key];
    const kind = kinds[key] ?? (credentialName(key) ? 'value' : looksLikeUrl(value) ? 'url' : undefined);
    if (!kind) continue;
    const inserted = o.interpolated?.[key];
    // (a URL with neither @ nor ? and nothing from \${VAR} in it: nothing to collect, see Collector.url)
    if (kind === 'url' && !inserted && typeof value === 'string' && !value.includes('@') && !value.includes('?')) continue;
    const c = (collector ??= new Collector(o.extraHeaders ?? []));
    if (kind === 'value') c.add(key, value);
    else if (kind === 'url') {
      if (typeof value === 'string') c.url(key, value);
      else c.add(key, value);
    } else if (kind === 'headers') c.headers(key, value);
    else if (kind === 'params') c.params(key, value);
    else if (kind === 'cookies') c.cookies(key, value);
    else if (kind === 'mapping') c.mapping(key, value);
    // 'request': only what ${VAR} put in (below)
    if (inserted) for (const v of inserted) {
      if (kind === 'url' && isUrlLocation(value, v)) continue;
      c.add(key, v);
    }
  }
  return collector ? { secrets: collector.secrets, tooShort: collector.tooShort } : NOTHING;
}
