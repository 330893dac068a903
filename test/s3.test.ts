/**
 * The s3 check against a real S3 implementation: s3rver behind a SigV4 verifier of our own
 * (test/helpers/s3.ts), or, when CONN_CHECK_S3_ENDPOINT is set (the workflow's MinIO job), a
 * real MinIO: then the root keys come from CONN_CHECK_S3_ACCESS_KEY / CONN_CHECK_S3_SECRET_KEY,
 * its region from CONN_CHECK_S3_REGION, and a key that may list conncheck-full and
 * conncheck-empty only from CONN_CHECK_S3_READER_KEY / CONN_CHECK_S3_READER_SECRET (the workflow
 * makes that user and its policy with mc, and conncheck-public, which anyone may list). The
 * other buckets and the objects are made here with the root keys.
 * The cases a real server cannot stage here (its clock set off, temporary keys, TLS) run
 * against the verifier only, and say so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parsedOptions } from './helpers/options.js';
import { liveHandles, runOne, silentServerCases } from './helpers/check.js';
import { CLI, freePort, runCli, tempConfig } from './helpers/run.js';
import { tlsMaterial, type TlsMaterial } from './helpers/tls.js';
import { resultAssertions } from './helpers/results.js';
import { signRequest, startS3, type S3Instance } from './helpers/s3.js';
import { GARBAGE, startBlackHole, startCloser, startGarbage, type Peer } from './helpers/peers.js';
import * as hostile from './helpers/hostile.js';
import { formatSkew } from '../src/checks/s3.js';

const REAL = process.env.CONN_CHECK_S3_ENDPOINT;
const REGION = REAL ? (process.env.CONN_CHECK_S3_REGION ?? 'us-east-1') : 'eu-central-1';
const ADMIN = REAL
  ? { id: process.env.CONN_CHECK_S3_ACCESS_KEY ?? '', secret: process.env.CONN_CHECK_S3_SECRET_KEY ?? '' }
  : { id: 'AKIACONNCHECKADMIN01', secret: 'wJalrXUtnFEMI/K7MDENG/s3-Admin-Secret-9q' };
const READER = REAL
  ? { id: process.env.CONN_CHECK_S3_READER_KEY ?? '', secret: process.env.CONN_CHECK_S3_READER_SECRET ?? '' }
  : { id: 'AKIACONNCHECKREADER1', secret: 'Rd3r/s3-Reader-Secret+xYz0123456789abcd' };
const TEMP = { id: 'ASIACONNCHECKTEMP001', secret: 'Tmp/s3-Temp-Secret+0123456789abcdefgh', token: 'FwoGZXIvYXdzEXAMPLEsessionTOKEN/s3+conncheck==' };
const WRONG = 'Wr0ng/s3-Secret+Key-0000000000000000000';
const FULL = 'conncheck-full';
const EMPTY = 'conncheck-empty';
const DENIED = 'conncheck-denied';
const PUBLIC = 'conncheck-public'; // anyone may list it

const { failed, passed, noSecrets } = resultAssertions([ADMIN.secret, READER.secret, TEMP.secret, TEMP.token, WRONG]);

let server: S3Instance | undefined; // the verifier over s3rver (not with a real endpoint)
let tlsServer: S3Instance | undefined;
let tls: TlsMaterial;
let endpoint: string;
const peers: Peer[] = [];

/** PUT with the root keys on the real server (a bucket, an object); 409 for a bucket that is there already is fine. */
function put(path: string, body = ''): Promise<number> {
  const url = new URL(path, REAL);
  const headers = signRequest('PUT', url, REGION, ADMIN.id, ADMIN.secret, body);
  return new Promise((resolve, reject) => {
    const r = request(url, { method: 'PUT', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.end(body);
  });
}

before(async () => {
  tls = tlsMaterial();
  if (REAL) {
    assert.ok(ADMIN.id && ADMIN.secret && READER.id && READER.secret, 'CONN_CHECK_S3_ENDPOINT is set: CONN_CHECK_S3_ACCESS_KEY, _SECRET_KEY, _READER_KEY and _READER_SECRET must be too');
    endpoint = REAL;
    for (const b of [FULL, EMPTY, DENIED, PUBLIC]) assert.ok([200, 409].includes(await put(`/${b}`)), `cannot make bucket ${b}`);
    assert.equal(await put(`/${FULL}/hello.txt`, 'hello'), 200);
    assert.equal(await put(`/${PUBLIC}/docs/readme.txt`, 'read me'), 200);
    return;
  }
  const users = [
    { accessKeyId: ADMIN.id, secretAccessKey: ADMIN.secret, buckets: '*' as const },
    { accessKeyId: READER.id, secretAccessKey: READER.secret, buckets: [FULL, EMPTY] },
    { accessKeyId: TEMP.id, secretAccessKey: TEMP.secret, sessionToken: TEMP.token, buckets: '*' as const },
  ];
  const buckets = { [FULL]: { 'hello.txt': 'hello', 'two.txt': 'two' }, [EMPTY]: {}, [DENIED]: { 'secret.txt': 'x' }, [PUBLIC]: { 'docs/readme.txt': 'read me' } };
  const publicBuckets = [PUBLIC];
  [server, tlsServer] = await Promise.all([startS3({ users, buckets, publicBuckets, region: REGION }), startS3({ users, buckets, publicBuckets, region: REGION, tls: { cert: tls.valid.cert, key: tls.valid.key } })]);
  endpoint = server.endpoint;
});

after(async () => {
  await Promise.all([server?.close(), tlsServer?.close(), ...peers.map((p) => p.close())]);
});

const check = (extra: Record<string, unknown> = {}) => ({ type: 's3', endpoint, region: REGION, bucket: FULL, access_key_id: ADMIN.id, secret_access_key: ADMIN.secret, ...extra });
const reader = (extra: Record<string, unknown> = {}) => check({ access_key_id: READER.id, secret_access_key: READER.secret, ...extra });
const onlyVerifier = REAL ? 'a real server: its clock, temporary keys and TLS are staged by the verifier over s3rver only' : false;

describe(`s3 against ${REAL ? `a real server (${REAL})` : 's3rver behind a SigV4 verifier'}`, () => {
  test('the right keys list the bucket: not empty, empty; without a bucket, the buckets are listed', async () => {
    const r = await runOne(check());
    passed(r);
    const at = new URL(endpoint);
    assert.equal(r.name, `s3:${at.hostname}:${at.port}/${FULL}`);
    assert.equal(r.target, `${at.origin}/${FULL}`);
    assert.deepEqual(r.details, ['connected to 127.0.0.1', `listed bucket "${FULL}" in ${REGION} as ${ADMIN.id} (not empty)`]);
    const empty = await runOne(reader({ bucket: EMPTY }));
    passed(empty);
    assert.equal(empty.details?.[1], `listed bucket "${EMPTY}" in ${REGION} as ${READER.id} (empty)`);
    const all = await runOne(check({ bucket: undefined }));
    passed(all);
    assert.equal(all.details?.[1], `listed the buckets in ${REGION} as ${ADMIN.id}`);
  });

  test('url: s3://BUCKET picks the type and the bucket; host and port stand for an http endpoint', async () => {
    const { type: _t, bucket: _b, ...rest } = check();
    passed(await runOne({ ...rest, url: `s3://${FULL}` }));
    const at = new URL(endpoint);
    const { endpoint: _e, ...noEndpoint } = check();
    passed(await runOne({ ...noEndpoint, host: at.hostname, port: Number(at.port) }));
  });

  test('prefix: the listing under it; s3://BUCKET/PREFIX gives both', async () => {
    const r = await runOne(check({ prefix: 'hello' }));
    passed(r);
    assert.equal(r.details?.[1], `listed bucket "${FULL}" under "hello" in ${REGION} as ${ADMIN.id} (not empty)`);
    const none = await runOne(check({ prefix: 'nothing/' }));
    passed(none);
    assert.match(none.details?.[1] ?? '', /under "nothing\/" .* \(empty\)$/);
    const { type: _t, bucket: _b, ...rest } = check();
    const fromUrl = await runOne({ ...rest, url: `s3://${PUBLIC}/docs/` });
    passed(fromUrl);
    assert.equal(fromUrl.details?.[1], `listed bucket "${PUBLIC}" under "docs/" in ${REGION} as ${ADMIN.id} (not empty)`);
  });

  test('without keys the request is anonymous: a public bucket lists, a private one is AccessDenied', async () => {
    const anonymous = { type: 's3', endpoint, region: REGION };
    const r = await runOne({ ...anonymous, bucket: PUBLIC });
    passed(r);
    assert.equal(r.details?.[1], `listed bucket "${PUBLIC}" in ${REGION} anonymously (not empty)`);
    passed(await runOne({ ...anonymous, url: `s3://${PUBLIC}` }));
    failed(await runOne({ ...anonymous, bucket: FULL }), 'query', `access denied: an anonymous request may not list bucket "${FULL}" (set access_key_id and secret_access_key) (AccessDenied)`);
  });

  test('a wrong secret fails at auth: SignatureDoesNotMatch', async () => {
    failed(await runOne(check({ secret_access_key: WRONG })), 'auth', `the signature does not match: wrong secret_access_key for access key "${ADMIN.id}" (SignatureDoesNotMatch)`);
  });

  test('an unknown key fails at auth: InvalidAccessKeyId', async () => {
    failed(await runOne(check({ access_key_id: 'AKIANOSUCHKEY0000000' })), 'auth', 'unknown access key "AKIANOSUCHKEY0000000": the server has no such access_key_id (InvalidAccessKeyId)');
  });

  test('a missing bucket fails at query: NoSuchBucket', async () => {
    failed(await runOne(check({ bucket: 'conncheck-missing' })), 'query', 'no such bucket "conncheck-missing" (NoSuchBucket)');
  });

  test('a bucket the key may not list fails at query: AccessDenied', async () => {
    failed(await runOne(reader({ bucket: DENIED })), 'query', `access denied: access key "${READER.id}" may not list bucket "${DENIED}" (AccessDenied)`);
    failed(await runOne(reader({ bucket: DENIED, prefix: 'x/' })), 'query', `access denied: access key "${READER.id}" may not list bucket "${DENIED}" (prefix "x/") (AccessDenied)`);
  });

  test('the wrong region fails at auth and says the right one', async () => {
    const { region: _r, ...unset } = check();
    const r = await runOne(unset); // the default: us-east-1
    // (MinIO may say it with another code, or without naming its region)
    if (REAL) failed(r, 'auth', /^wrong region: .*\((AuthorizationHeaderMalformed|InvalidRegion)\)$/);
    else failed(r, 'auth', `wrong region: the bucket is in ${REGION}, not us-east-1 (set region: ${REGION}) (AuthorizationHeaderMalformed)`);
  });

  test('a clock 20 minutes off fails at auth: RequestTimeTooSkewed, with the skew', { skip: onlyVerifier }, async () => {
    server!.clockOffsetMs = 20 * 60_000;
    try {
      failed(await runOne(check()), 'auth', /^this machine's clock is (19 min 5\d s|20 min|20 min [0-2] s) behind the server's \(S3 allows 15 min\) \(RequestTimeTooSkewed\)$/);
      server!.clockOffsetMs = -(61 * 60_000);
      failed(await runOne(check()), 'auth', /^this machine's clock is 1 h( 1 min)? ahead of the server's \(S3 allows 15 min\) \(RequestTimeTooSkewed\)$/);
      server!.clockOffsetMs = 10 * 60_000; // within S3's 15 minutes
      passed(await runOne(check()));
    } finally {
      server!.clockOffsetMs = 0;
    }
    assert.equal(formatSkew(45_400), '45 s');
    assert.equal(formatSkew(-(20 * 60_000 + 3000)), '20 min 3 s');
    assert.equal(formatSkew(2 * 3600_000 + 5 * 60_000), '2 h 5 min');
  });

  test('temporary keys: the session token is sent; a wrong one fails at auth: InvalidToken', { skip: onlyVerifier }, async () => {
    const temp = check({ access_key_id: TEMP.id, secret_access_key: TEMP.secret, session_token: TEMP.token });
    passed(await runOne(temp));
    failed(await runOne({ ...temp, session_token: `${TEMP.token}x` }), 'auth', `the server refused the session_token for access key "${TEMP.id}" (InvalidToken)`);
    failed(await runOne({ ...temp, session_token: undefined }), 'auth', /\(InvalidToken\)$/);
  });

  test('an https endpoint: with the CA it passes (the certificate noted); without it, not trusted', { skip: onlyVerifier }, async () => {
    const secure = check({ endpoint: tlsServer!.endpoint, ca_file: tls.caFile });
    const r = await runOne(secure);
    passed(r);
    assert.match(r.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    failed(await runOne({ ...secure, ca_file: undefined }), 'tls', /^self-signed certificate in the chain|^certificate not trusted/);
    failed(await runOne({ ...secure, ca_file: undefined, secret_access_key: WRONG, disable_tls_verification: true }), 'auth', /\(SignatureDoesNotMatch\)$/);
    // http:// against the TLS port: the server answers the plain request with a TLS alert, or closes
    failed(await runOne(check({ endpoint: tlsServer!.endpoint.replace('https://localhost', 'http://127.0.0.1'), timeout: 3 })), 'auth', /^the server closed the connection without answering \(is this an https:\/\/ endpoint\?\)$|did not answer with HTTP/);
  });

  test('config errors', async () => {
    const bad = async (o: Record<string, unknown>, re: RegExp) => assert.rejects(runOne({ type: 's3', access_key_id: 'a', secret_access_key: 'b', ...o }), re);
    await bad({ endpoint: 'http://127.0.0.1:9000', host: '127.0.0.1', bucket: 'b' }, /host: expected endpoint or host, got both/);
    await bad({ endpoint: 'http://127.0.0.1:9000/b', bucket: 'b' }, /endpoint: expected an endpoint such as https:\/\/HOST\[:PORT\], without a path/);
    await bad({ endpoint: 'http://u:p@127.0.0.1:9000' }, /without a path, query or user name/);
    await bad({ endpoint: 'ftp://127.0.0.1' }, /endpoint: expected an absolute URL/);
    await bad({ bucket: 'Under_Score', path_style: false }, /cannot be a host name: set path_style: true/);
    await bad({ port: 9000 }, /port and tls go with host/);
    // found by test/property.test.ts: a host no URL can hold crashed the check's name (new URL)
    await bad({ host: '%$qy' }, /host: expected a host name or address, got "%\$qy"/);
    await bad({ host: 'a b', port: 9000 }, /host: expected a host name or address, got "a b"/);
    await bad({ bucket: 'b', secret_access_key: undefined }, /secret_access_key: missing \(expected a secret_access_key with access_key_id \(without both, the request is anonymous\)\)/);
    await bad({ bucket: 'b', access_key_id: undefined }, /access_key_id: missing \(expected an access_key_id with secret_access_key/);
    await bad({ bucket: 'b', access_key_id: undefined, secret_access_key: undefined, session_token: 't' }, /session_token goes with access_key_id and secret_access_key/);
    await bad({ prefix: 'logs/' }, /prefix needs a bucket/);
    await bad({ url: 's3://bucket?region=eu-west-1' }, /has a query: write s3:\/\/BUCKET\[\/PREFIX\]/);
  });

  test('the default endpoint is AWS\'s, virtual-hosted, and the region follows an AWS endpoint\'s host name', async () => {
    const { loadCheckTypes } = await import('../src/checks/registry.js');
    const def = (await loadCheckTypes()).find((t) => t.type.type === 's3')!.definition;
    const opts = (o: Record<string, unknown>) => parsedOptions(def.options, { access_key_id: 'a', secret_access_key: 'b', ...o });
    assert.equal(def.target(opts({ bucket: 'logs' })), 'https://logs.s3.us-east-1.amazonaws.com');
    assert.equal(def.target(opts({ bucket: 'logs', region: 'eu-west-1' })), 'https://logs.s3.eu-west-1.amazonaws.com');
    assert.equal(def.target(opts({ bucket: 'my.logs' })), 'https://s3.us-east-1.amazonaws.com/my.logs'); // dots: path style
    assert.equal(def.target(opts({ bucket: 'logs', endpoint: 'https://minio.internal:9000' })), 'https://minio.internal:9000/logs');
    assert.equal(def.target(opts({ bucket: 'logs', endpoint: 'https://minio.internal', path_style: false })), 'https://logs.minio.internal');
    assert.deepEqual(def.egress!(opts({ bucket: 'logs' })), [{ protocol: 'tcp', host: 'logs.s3.us-east-1.amazonaws.com', port: 443 }]);
  });
});

describe('s3: region answers of AWS that the servers here do not give, staged by a peer', () => {
  const answer = async (head: string, body = '') => {
    const p = await hostile.startHttpAnswer(head, body);
    peers.push(p);
    return runOne(check({ endpoint: `http://127.0.0.1:${p.port}`, timeout: 3 }));
  };
  test('PermanentRedirect (a bucket in another region) says the bucket\'s region, from x-amz-bucket-region', async () => {
    const r = await answer(
      'HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: eu-west-1\r\nContent-Type: application/xml\r\n\r\n',
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>conncheck-full.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>conncheck-full</Bucket></Error>',
    );
    failed(r, 'auth', `wrong region: the bucket is in eu-west-1, not ${REGION} (set region: eu-west-1) (PermanentRedirect)`);
  });
  test('a bare 301 with x-amz-bucket-region (what S3 answers a HEAD with)', async () => {
    failed(await answer('HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: ap-south-1\r\nContent-Length: 0\r\n\r\n'), 'auth', `wrong region: the bucket is in ap-south-1, not ${REGION} (set region: ap-south-1) (301)`);
  });
  test('AuthorizationHeaderMalformed without <Region>: the region is read from the message', async () => {
    const r = await answer(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\n\r\n',
      `<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region '${REGION}' is wrong; expecting 'us-west-2'</Message></Error>`,
    );
    failed(r, 'auth', `wrong region: the bucket is in us-west-2, not ${REGION} (set region: us-west-2) (AuthorizationHeaderMalformed)`);
  });
  test('ExpiredToken and an unknown code with its status', async () => {
    failed(await answer('HTTP/1.1 400 Bad Request\r\n\r\n', '<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>'), 'auth', 'the session_token has expired (ExpiredToken)');
    failed(await answer('HTTP/1.1 500 Internal Server Error\r\n\r\n', '<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>'), 'query', 'the server refused the listing (500): We encountered an internal error. Please try again. (InternalError)');
  });
});

describe('s3 against peers that are not S3', () => {
  test('the TLS material is read before the tcp step: a readable ca_file and a refused port fail at tcp; an unreadable one fails at tls with no connection made', async () => {
    const refused = await freePort();
    failed(await runOne(check({ endpoint: `https://127.0.0.1:${refused}`, ca_file: tls.caFile })), 'tcp', 'connection refused');
    const unreadable = '/nonexistent/conn-check/ca.pem';
    const cannot = `cannot read ca_file ${unreadable} (ENOENT)`;
    failed(await runOne(check({ endpoint: `https://127.0.0.1:${refused}`, ca_file: unreadable })), 'tls', cannot);
    const listener = await startBlackHole();
    peers.push(listener);
    failed(await runOne(check({ endpoint: `https://127.0.0.1:${listener.port}`, ca_file: unreadable, timeout: 3 })), 'tls', cannot);
    assert.equal(listener.accepted, 0);
  });

  test('a refused port fails at tcp; garbage and a plain HTTP server fail at protocol', async () => {
    failed(await runOne(check({ endpoint: `http://127.0.0.1:${await freePort()}` })), 'tcp', 'connection refused');
    const garbage = await startGarbage('127.0.0.1', GARBAGE);
    peers.push(garbage);
    failed(await runOne(check({ endpoint: `http://127.0.0.1:${garbage.port}`, timeout: 3 })), 'protocol', 'the server did not answer with HTTP');
    const web = await hostile.startHttpAnswer('HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n', '<h1>x</h1');
    peers.push(web);
    failed(await runOne(check({ endpoint: `http://127.0.0.1:${web.port}`, timeout: 3 })), 'protocol', `the server answered 404 without an S3 error code (is http://127.0.0.1:${web.port} an S3 endpoint?)`);
  });

  test('a server that accepts and hangs up at once fails at auth at once, however early its close comes (20 times)', async () => {
    // (node:http waited forever on a socket closed before the request was handed to it: half of these timed out)
    const hangUp = await startCloser();
    peers.push(hangUp);
    for (let i = 0; i < 20; i++) {
      failed(await runOne(check({ endpoint: `http://127.0.0.1:${hangUp.port}`, timeout: 3 })), 'auth', 'the server closed the connection without answering (is this an https:// endpoint?)');
    }
  });

  test('a server that never answers fails at auth at the deadline; a TLS one that never shakes hands, at tls', async () => {
    await silentServerCases((port, extra) => check({ endpoint: `http://127.0.0.1:${port}`, ...extra }), [[{}, 'auth']]);
    await silentServerCases((port, extra) => check({ endpoint: `https://127.0.0.1:${port}`, ...extra }), [[{}, 'tls']]);
  });

  test('an endless body is cut at 64 KiB: the check ends at once, with a bounded read', async () => {
    const flood = await hostile.startHttpEndless();
    peers.push(flood);
    const t0 = performance.now();
    failed(await runOne(check({ endpoint: `http://127.0.0.1:${flood.port}`, timeout: 10 })), 'protocol', `the server answered 200 without a bucket listing (is http://127.0.0.1:${flood.port} an S3 endpoint?)`);
    assert.ok(performance.now() - t0 < 5000);
  });

  test('a server that echoes the Authorization header in its error: the signature never reaches the result', async () => {
    let signature = '';
    const { createServer } = await import('node:http');
    const echo = createServer((req, res) => {
      const auth = String(req.headers.authorization ?? '');
      signature = /Signature=([0-9a-f]+)/.exec(auth)?.[1] ?? '';
      const body = `<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>got ${auth} \u001b[31m::error::x</Message></Error>`;
      res.writeHead(503, { 'Content-Type': 'application/xml' });
      res.end(body);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    try {
      const r = await runOne(check({ endpoint: `http://127.0.0.1:${(echo.address() as { port: number }).port}` }));
      failed(r, 'query', /^the server refused the listing \(503\): got AWS4-HMAC-SHA256 Credential=.*Signature=\[signature\].*\(SlowDown\)$/);
      assert.ok(signature.length === 64);
      noSecrets(r, signature);
    } finally {
      echo.close();
    }
  });

  test('no timer or socket is left in this process after passing and failing checks', async () => {
    const count = () => liveHandles().filter((h) => h === 'Timeout' || h === 'TCPSocketWrap' || h === 'TLSWrap').length;
    const before = count();
    await runOne(check());
    await runOne(check({ secret_access_key: WRONG }));
    await runOne(check({ bucket: 'conncheck-missing' }));
    if (tlsServer) await runOne(check({ endpoint: tlsServer.endpoint, ca_file: tls.caFile }));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(count() <= before, `left behind: ${liveHandles().join(', ')}`);
  });
});

describe('s3 through the CLI bundle', { skip: !existsSync(join(CLI, '../../dist/cli/index.js')) && 'dist/ not built (npm run build)' }, () => {
  test('passing and failing checks: the right lines, no secret in any output', async () => {
    const config = tempConfig(
      JSON.stringify([
        { ...check(), name: 's3-ok' },
        { ...reader({ bucket: EMPTY }), name: 's3-empty' },
        { ...check({ secret_access_key: WRONG }), name: 's3-wrong-secret' },
        { ...check({ access_key_id: 'AKIANOSUCHKEY0000000' }), name: 's3-unknown-key' },
        { ...check({ bucket: 'conncheck-missing' }), name: 's3-missing' },
        { ...reader({ bucket: DENIED }), name: 's3-denied' },
        { ...check({ region: 'us-east-1' }), name: 's3-region' },
      ]),
    );
    for (const format of ['text', 'json']) {
      const ran = await runCli(['-v', '--format', format, config]);
      const all = ran.stdout + ran.stderr;
      assert.equal(ran.code, 2, all);
      for (const s of [ADMIN.secret, READER.secret, WRONG]) {
        for (const form of [s, encodeURIComponent(s), Buffer.from(s).toString('base64')]) assert.ok(!all.includes(form), `secret in the ${format} output`);
      }
      assert.ok(!/Signature=|AWS4-HMAC-SHA256/.test(all), `the Authorization header in the ${format} output`);
      if (format === 'text') {
        assert.match(ran.stdout, /^s3-ok OK /m);
        assert.match(ran.stdout, /^s3-empty OK /m);
        assert.match(ran.stdout, /^s3-wrong-secret FAILED - auth: the signature does not match: .*\(SignatureDoesNotMatch\)/m);
        assert.match(ran.stdout, /^s3-unknown-key FAILED - auth: unknown access key .*\(InvalidAccessKeyId\)/m);
        assert.match(ran.stdout, /^s3-missing FAILED - query: no such bucket "conncheck-missing" \(NoSuchBucket\)/m);
        assert.match(ran.stdout, /^s3-denied FAILED - query: access denied: .*\(AccessDenied\)/m);
        assert.match(ran.stdout, /^s3-region FAILED - auth: wrong region: .*\((AuthorizationHeaderMalformed|InvalidRegion)\)/m);
      }
    }
  });
});
