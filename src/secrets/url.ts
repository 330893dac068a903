/** A URL as reports may show it: no userinfo, query values hidden. */
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
