import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeError } from '../src/net/errors.js';

const err = (code: string, message = code, extra: object = {}) => Object.assign(new Error(message), { code, ...extra });

test('socket, DNS and TLS errors become short literal messages', () => {
  assert.equal(describeError(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')), 'connection refused');
  assert.equal(describeError(err('ENOTFOUND', 'getaddrinfo ENOTFOUND x.invalid')), 'dns resolution failed');
  assert.equal(describeError(err('CERT_HAS_EXPIRED')), 'certificate has expired');
  assert.equal(describeError(err('ERR_TLS_CERT_ALTNAME_INVALID', 'x', { reason: "Host: a. is not in the cert's altnames: DNS:b" })), "certificate does not match the host name: Host: a. is not in the cert's altnames: DNS:b");
  // wrapped errors: the innermost code wins (undici, drivers)
  assert.equal(describeError(Object.assign(new Error('fetch failed'), { cause: err('ECONNRESET') })), 'connection reset by peer');
  assert.equal(describeError(new AggregateError([err('ECONNREFUSED')], 'all failed')), 'connection refused');
});

test('EPROTO: OpenSSL text is translated, never passed through', () => {
  const openssl = (reason: string) => err('EPROTO', `write EPROTO 80FC1B2A8E7F0000:error:0A00042E:SSL routines:ssl3_read_bytes:${reason}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 70`);
  assert.equal(describeError(openssl('tlsv1 alert protocol version')), 'TLS handshake failed: no TLS version in common');
  assert.equal(describeError(openssl('sslv3 alert handshake failure')), 'TLS handshake failed: the server refused the handshake');
  assert.equal(describeError(openssl('wrong version number')), 'TLS handshake failed: the server did not answer with TLS (is this a plain-text port?)');
  assert.equal(describeError(openssl('something new')), 'TLS protocol error');
});

test("OpenSSL 3.5's codes (Node 24, the action's runtime): the same words as Node 20's, never OpenSSL's text", () => {
  // Node 24 names codes after OpenSSL 3.5's reasons: "ssl/tls alert handshake failure" where
  // Node 20 had "sslv3 alert handshake failure" (ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)
  const node24 = (reason: string, alert: number) =>
    err(`ERR_SSL_${reason.toUpperCase().replace(/ /g, '_')}`, `40CD2D55117F0000:error:0A000410:SSL routines:ssl3_read_bytes:${reason}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number ${alert}`);
  assert.equal(describeError(node24('ssl/tls alert handshake failure', 40)), 'TLS handshake failed: the server refused the handshake');
  assert.equal(describeError(node24('tlsv13 alert certificate required', 116)), 'TLS handshake failed: the server requires a client certificate');
  assert.equal(describeError(node24('tlsv1 alert unknown ca', 48)), 'TLS handshake failed: the server does not trust the client certificate');
  assert.equal(describeError(node24('ssl/tls alert bad certificate', 42)), 'TLS handshake failed: the server sent the alert "bad certificate"');
  assert.equal(describeError(node24('ssl/tls alert certificate expired', 45)), 'TLS handshake failed: the server sent the alert "certificate expired"');
  assert.equal(describeError(node24('tlsv1 alert internal error', 80)), 'TLS handshake failed: the server sent the alert "internal error"');
  assert.equal(describeError(err('ERR_SSL_SOMETHING_NEW', '40CD2D55117F0000:error:0A0000FF:SSL routines:ssl3_read_bytes:something new:../deps/x.c:1')), 'TLS protocol error');
  // and through EPROTO, the same
  assert.equal(describeError(err('EPROTO', 'write EPROTO 40CD2D55117F0000:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad certificate:../deps/x.c:918:SSL alert number 42')), 'TLS handshake failed: the server sent the alert "bad certificate"');
});
