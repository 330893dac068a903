/**
 * Turns socket, DNS, TLS and driver errors into the short literal messages conn-check users
 * know ("connection refused", "timed out", "dns resolution failed"). Messages never include
 * credentials: callers pass them through the Redactor as well, since driver text is untrusted.
 */

const CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'connection closed by peer',
  ETIMEDOUT: 'timed out',
  ESOCKETTIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the response body',
  UND_ERR_SOCKET: 'connection closed by peer',
  UND_ERR_CLOSED: 'connection closed by peer',
  HPE_INVALID_CONSTANT: 'the server did not answer with HTTP',
  HPE_INVALID_VERSION: 'the server did not answer with HTTP',
  HPE_INVALID_STATUS: 'the server sent an invalid HTTP status line',
  HPE_INVALID_HEADER_TOKEN: 'the server sent an invalid HTTP header',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'dns resolution failed',
  EAI_AGAIN: 'dns resolution failed (temporary failure)',
  EAI_NONAME: 'dns resolution failed',
  EAI_NODATA: 'dns resolution failed (no address)',
  ENODATA: 'dns resolution failed (no address)',
  ENOENT: 'no such file or socket',
  EMFILE: 'too many open files: lower --concurrency (the concurrency input) or raise ulimit -n',
  ENFILE: 'too many open files on this machine: lower --concurrency',
  EACCES: 'permission denied',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate (not trusted)',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain (untrusted root CA)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not trusted: unable to verify its issuer (add the CA with tls-certs-path or ca_file)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate not trusted: unknown issuer (add the CA with tls-certs-path or ca_file)',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate not trusted: unknown issuer',
  CERT_REVOKED: 'certificate has been revoked',
  CERT_SIGNATURE_FAILURE: 'certificate signature is invalid',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS handshake failed: the server did not answer with TLS (is this a plain-text port?)',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'TLS handshake failed: the server did not answer with TLS (is this a plain-text port?)',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'TLS handshake failed: no TLS version in common',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'TLS handshake failed: no TLS version in common',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'TLS handshake failed: the server refused the handshake',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'TLS handshake failed: the server requires a client certificate',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'TLS handshake failed: the server does not trust the client certificate',
};

interface ErrLike {
  code?: unknown;
  message?: unknown;
  reason?: unknown;
  cause?: unknown;
  errors?: unknown;
  name?: unknown;
}

function codeOf(err: ErrLike): string | undefined {
  return typeof err.code === 'string' ? err.code : undefined;
}

/** The innermost useful error: undici and drivers wrap socket errors in `cause`. */
function chain(err: unknown): ErrLike[] {
  const out: ErrLike[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    out.push(cur as ErrLike);
    const e = cur as ErrLike;
    if (Array.isArray(e.errors) && e.errors.length) cur = e.errors[0];
    else cur = e.cause;
  }
  return out;
}

/** A short message for any error a check can meet. */
export function describeError(err: unknown): string {
  if (err === undefined || err === null) return 'failed';
  if (typeof err !== 'object') return String(err);
  const links = chain(err);
  for (const e of links.slice().reverse()) {
    const code = codeOf(e);
    if (!code) continue;
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      const reason = typeof e.reason === 'string' ? e.reason : '';
      return `certificate does not match the host name${reason ? `: ${reason}` : ''}`;
    }
    if (code === 'EPROTO') return openSslFailure(typeof e.message === 'string' ? e.message : '');
    if (CODES[code]) return CODES[code]!;
    // Node names these after OpenSSL's reasons, which OpenSSL renames between versions (Node
    // 24's ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE was Node 20's ERR_SSL_SSLV3_...): read the reason.
    if (code.startsWith('ERR_SSL_')) return openSslFailure(`${typeof e.message === 'string' ? e.message : ''} ${code.replace(/_/g, ' ')}`);
  }
  for (const e of links) {
    const m = typeof e.message === 'string' ? e.message : '';
    if (/wrong version number|packet length too long|unknown protocol/i.test(m)) return CODES.ERR_SSL_WRONG_VERSION_NUMBER!;
    if (/socket disconnected before secure TLS connection/i.test(m)) return 'connection closed during the TLS handshake';
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  }
  const first = links.find((e) => typeof e.message === 'string' && e.message) ?? links[0]!;
  const message = String(first.message ?? 'failed').split('\n')[0]!;
  const code = codeOf(first);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * What OpenSSL's own text ("write EPROTO 80FC...:error:0A00042E:SSL routines:...:tlsv1 alert
 * protocol version") means, in words: it is not for people, and never passed through.
 */
function openSslFailure(m: string): string {
  if (/wrong version number|packet length too long|unknown protocol/i.test(m)) return CODES.ERR_SSL_WRONG_VERSION_NUMBER!;
  if (/protocol version|unsupported protocol|no protocols available/i.test(m)) return CODES.ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION!;
  if (/certificate required/i.test(m)) return CODES.ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED!;
  if (/unknown ca/i.test(m)) return CODES.ERR_SSL_TLSV1_ALERT_UNKNOWN_CA!;
  if (/handshake failure/i.test(m)) return CODES.ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE!;
  // any other alert the server sent: its name (OpenSSL's words for the TLS alert)
  const alert = /\balert ([a-z][a-z ]*[a-z])\s*(?::|$)/i.exec(m);
  if (alert) return `TLS handshake failed: the server sent the alert "${alert[1]!.toLowerCase()}"`;
  return 'TLS protocol error';
}

/**
 * Node's certificate verification codes (from OpenSSL) and TLS error code prefixes: a TLS
 * failure, whatever the driver that met it.
 */
const TLS_CODE =
  /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|HOSTNAME_MISMATCH$|INVALID_CA$|PATH_LENGTH_EXCEEDED$|INVALID_PURPOSE$|CERT_UNTRUSTED$|CERT_REJECTED$)/;

/** Whether an error is a TLS failure: by its code, or by OpenSSL's text where a driver kept only that. */
export function isTlsError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  if (typeof e?.code === 'string' && TLS_CODE.test(e.code)) return true;
  return typeof e?.message === 'string' && /before secure TLS connection|wrong version number|packet length too long|ssl3_|tls_/i.test(e.message);
}
