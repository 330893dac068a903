/**
 * The http check's failures as tables: each client (direct.ts: node:http, proxied.ts: undici)
 * has its own rows for its own errors, and both say the same things at the same steps
 * ("connection closed by peer", "the server did not answer with HTTP", a TLS failure at step
 * tls, a proxy's refusal at step proxy). An error no row covers is said by net/errors.ts at the
 * step the caller names.
 */
import { CheckError, type StepName } from '../../core/contract.js';
import { describeError } from '../../net/errors.js';
import { minVersionFailure } from '../../net/tls.js';

/** Error codes of TLS failures, Node's, OpenSSL's and undici's. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_OSSL_|HOSTNAME_MISMATCH|UND_ERR_PRX_TLS)/;
const TLS_TEXT = /socket disconnected before secure TLS connection|wrong version number|packet length too long/i;
const CLOSED = 'connection closed by peer';

/** One error of a cause chain (undici wraps socket and TLS errors in `cause`). */
export interface Link {
  code?: unknown;
  message?: unknown;
  reason?: unknown;
}

/** What a row needs beyond the error: the step of the phase that failed, the check's min_tls_version. */
export interface Phase {
  step: StepName;
  minVersion?: string;
}

/** A row: which errors it covers (any link of the chain matching) and the failure it makes of them. */
export interface Row {
  when(link: Link): boolean;
  then(err: unknown, link: Link, phase: Phase): CheckError;
}

function chain(err: unknown): Link[] {
  const out: Link[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    out.push(cur as Link);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

const code = (l: Link) => (typeof l.code === 'string' ? l.code : '');
const text = (l: Link) => (typeof l.message === 'string' ? l.message : '');

/** The failure for `err`: the first row (in table order) that covers a link of its chain, else net/errors.ts' words at the phase's step. */
export function classify(err: unknown, table: readonly Row[], phase: Phase): CheckError {
  if (err instanceof CheckError) return err;
  const links = chain(err);
  for (const row of table) {
    for (const link of links) if (row.when(link)) return row.then(err, link, phase);
  }
  return new CheckError(phase.step, describeError(err));
}

// ---------- rows ----------

/** The HTTP/1.1 parse errors net/errors.ts has words for; the others are said with the parser's reason. */
const KNOWN_PARSE_ERRORS = new Set(['HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION', 'HPE_INVALID_STATUS', 'HPE_INVALID_HEADER_TOKEN']);

/** An answer that is not HTTP/1.1 ("the server did not answer with HTTP"). */
const notHttp: Row = {
  when: (l) => code(l).startsWith('HPE_'),
  then: (_err, l, { step }) => {
    if (KNOWN_PARSE_ERRORS.has(code(l))) return new CheckError(step, describeError({ code: l.code }));
    const reason = typeof l.reason === 'string' ? l.reason : text(l).replace(/^Parse Error:\s*/, '');
    return new CheckError(step, describeError({ code: l.code, message: `Response does not match the HTTP/1.1 protocol (${reason})` }));
  },
};

/** node:http: the server closed or reset the connection before or during the answer ("socket hang up", "aborted"). */
const resetByServer: Row = { when: (l) => code(l) === 'ECONNRESET', then: (_e, _l, { step }) => new CheckError(step, CLOSED) };

/**
 * node:http on an https connection whose handshake passed: a TLS alert now (a TLS 1.3 server
 * refusing the client's certificate, a round trip behind) ends the connection under the request.
 */
const alertAfterHandshake: Row = {
  when: (l) => code(l) === 'EPROTO' || TLS_CODE.test(code(l)),
  then: (_e, _l, { step }) => new CheckError(step, CLOSED),
};

/** undici: the proxy answered CONNECT with something else than 200. */
const proxyRefused: Row = {
  when: (l) => /Proxy response \((\d+)\) !== 200/.test(text(l)),
  then: (_e, l) => {
    const status = /Proxy response \((\d+)\)/.exec(text(l))![1];
    return new CheckError('proxy', status === '407' ? 'proxy authentication required (407)' : `the proxy refused the connection (${status})`);
  },
};

/** undici: a plain request through the proxy got 407. */
const proxyAuth: Row = {
  when: (l) => /Proxy Authentication Required \((\d+)\)/i.test(text(l)),
  then: () => new CheckError('proxy', 'proxy authentication required (407)'),
};

/** undici: the TLS connection to an https proxy failed. */
const proxyTls: Row = {
  when: (l) => code(l) === 'UND_ERR_PRX_TLS',
  then: (err) => new CheckError('tls', `proxy: ${describeError(err)}`),
};

/** undici: a TLS failure with the server (inside a tunnel, or after a redirect). */
const serverTls: Row = {
  when: (l) => TLS_CODE.test(code(l)) || TLS_TEXT.test(text(l)),
  then: (err, _l, { minVersion }) => minVersionFailure(err, minVersion) ?? new CheckError('tls', describeError(err)),
};

// ---------- the tables ----------

/** node:http, sending a request and waiting for its head (the connection and handshake fail as CheckErrors already). */
export const DIRECT_REQUEST: readonly Row[] = [resetByServer, alertAfterHandshake, notHttp];
/** node:http, reading a body. */
export const DIRECT_BODY: readonly Row[] = [resetByServer, notHttp];
/** undici through a proxy, sending a request and waiting for its head. */
export const PROXIED_REQUEST: readonly Row[] = [proxyRefused, proxyAuth, proxyTls, serverTls];
/** undici, reading a body (its errors carry undici's codes, which net/errors.ts knows). */
export const PROXIED_BODY: readonly Row[] = [];
