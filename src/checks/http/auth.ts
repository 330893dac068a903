/** Authentication headers: basic (auth, URL userinfo, proxy credentials) and digest (RFC 7616). */
import { nodeCrypto } from '../../net/builtins.js';
import { CheckError } from '../../core/contract.js';
import { show } from '../../core/options.js';
import type { Credentials } from './options.js';

/** `Basic base64(user:password)`. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export interface Challenge {
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
