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
