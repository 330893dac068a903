/**
 * The http check's failures as error tables (checks/kit/errors.ts): each client (direct.ts:
 * node:http, proxied.ts: undici) has its own rules for its own errors, matched against the
 * error and the errors it wraps (undici wraps socket and TLS errors in `cause`), and both say
 * the same things at the same steps ("connection closed by peer", "the server did not answer
 * with HTTP", a TLS failure at step tls, a proxy's refusal at step proxy). An error no rule
 * covers is said by net/errors.ts at the step the caller names.
 */
import { describeError, isTlsError } from '../../net/errors.js';
import { minVersionFailure } from '../../net/tls.js';
import { errorTable, type DriverError, type ErrorRule } from '../kit/index.js';

/** What a rule needs beyond the error and the step: the check's min_tls_version. */
export interface Phase {
  minVersion?: string;
}

const CLOSED = 'connection closed by peer';
/** The whole message of the error a rule matched. */
const text = (e: DriverError) => {
  const m = (e.link as { message?: unknown }).message;
  return typeof m === 'string' ? m : '';
};
const tlsCode = (e: DriverError) => typeof e.code === 'string' && isTlsError({ code: e.code });

/** The HTTP/1.1 parse errors net/errors.ts has words for; the others are said with the parser's reason. */
const KNOWN_PARSE_ERRORS = new Set(['HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION', 'HPE_INVALID_STATUS', 'HPE_INVALID_HEADER_TOKEN']);

/** An answer that is not HTTP/1.1 ("the server did not answer with HTTP"). */
const notHttp: ErrorRule<Phase> = {
  when: (e) => typeof e.code === 'string' && e.code.startsWith('HPE_'),
  say: (e) => {
    if (KNOWN_PARSE_ERRORS.has(e.code as string)) return describeError({ code: e.code });
    const r = (e.link as { reason?: unknown }).reason;
    const reason = typeof r === 'string' ? r : text(e).replace(/^Parse Error:\s*/, '');
    return describeError({ code: e.code, message: `Response does not match the HTTP/1.1 protocol (${reason})` });
  },
};

/** node:http: the server closed or reset the connection before or during the answer ("socket hang up", "aborted"). */
const resetByServer: ErrorRule<Phase> = { code: 'ECONNRESET', say: CLOSED };

/**
 * node:http on an https connection whose handshake passed: a TLS alert now (a TLS 1.3 server
 * refusing the client's certificate, a round trip behind) ends the connection under the request.
 */
const alertAfterHandshake: ErrorRule<Phase> = { when: (e) => e.code === 'EPROTO' || tlsCode(e), say: CLOSED };

/** undici: the proxy answered CONNECT with something else than 200. */
const proxyRefused: ErrorRule<Phase> = {
  message: /Proxy response \((\d+)\) !== 200/,
  step: 'proxy',
  say: (e) => (e.match![1] === '407' ? 'proxy authentication required (407)' : `the proxy refused the connection (${e.match![1]})`),
};

/** undici: a plain request through the proxy got 407. */
const proxyAuth: ErrorRule<Phase> = { message: /Proxy Authentication Required \((\d+)\)/i, step: 'proxy', say: 'proxy authentication required (407)' };

/** undici: the TLS connection to an https proxy failed (undici's own code: the one TLS code kept here). */
const proxyTls: ErrorRule<Phase> = { code: 'UND_ERR_PRX_TLS', step: 'tls', say: (e) => `proxy: ${describeError(e.err)}` };

/** undici: a TLS failure with the server (inside a tunnel, or after a redirect). */
const serverTls: ErrorRule<Phase> = {
  when: (e) => isTlsError(e.link),
  step: 'tls',
  say: (e, { minVersion }) => minVersionFailure(e.err, minVersion) ?? describeError(e.err),
};

// ---------- the tables ----------

/** node:http, sending a request and waiting for its head (the connection and handshake fail as CheckErrors already). */
export const directRequest = errorTable([resetByServer, alertAfterHandshake, notHttp], { causes: true });
/** node:http, reading a body. */
export const directBody = errorTable([resetByServer, notHttp], { causes: true });
/** undici through a proxy, sending a request and waiting for its head. */
export const proxiedRequest = errorTable([proxyRefused, proxyAuth, proxyTls, serverTls], { causes: true });
/** undici, reading a body (its errors carry undici's codes, which net/errors.ts knows). */
export const proxiedBody = errorTable<Phase>([]);
