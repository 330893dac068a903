/** A URL as reports may show it: no userinfo, query values hidden. */
export function safeUrl(raw: string): string {
  // A check's name and its target are the same URL, asked for one after the other.
  if (raw === last.raw) return last.safe;
  const safe = safeUrlOf(raw);
  last.raw = raw;
  last.safe = safe;
  return safe;
}

/** The last answer of safeUrl (one entry: a cache that cannot grow). */
const last: { raw: string | undefined; safe: string } = { raw: undefined, safe: '' };

function safeUrlOf(raw: string): string {
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
