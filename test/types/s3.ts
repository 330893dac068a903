/** The s3 check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { startGarbage } from '../helpers/peers.js';
import { startS3 } from '../helpers/s3.js';

const KEY_ID = 'AKIAFAULTUSER0000001';

export default defineTypeTest({
  examples: `
- type: s3
  endpoint: http://minio.internal:9000
  bucket: uploads
  region: eu-west-1
  access_key_id: ci-reader
  secret_access_key: reader-s3-secret
- type: s3
  url: s3://public-datasets/2024/
  region: us-west-2
`,
  // (a marker that mongodb's own AWS authentication, which also signs with SigV4, does not share)
  driver: { module: 'aws4', marker: 'extraHeadersToIgnore', options: 'access_key_id: a, secret_access_key: b', loadedOnFailure: true },
  credentials: (t, s) => ({ host: t.host, port: t.port, bucket: 'b', access_key_id: 'AKIASECRETSTEST00001', secret_access_key: s.secret('s3-secret-key'), session_token: s.secret('s3-session-token') }),
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, peer, drip, server, add, urlOf } = k;
    // the verifier over s3rver (test/helpers/s3.ts): it checks SigV4 signatures as S3 does
    const s3Server = await server(() => startS3({ users: [{ accessKeyId: KEY_ID, secretAccessKey: PASSWORD, buckets: '*' }], buckets: { fault: {} } }), (s) => s.close());
    // an http:// endpoint; TLS cells with https:// and the test CA
    const keys = { bucket: 'fault', access_key_id: KEY_ID, secret_access_key: PASSWORD };
    const at = (scheme: string, p: { port: number } | number, host?: string) => ({ endpoint: urlOf(scheme, p, host), ...keys });
    add('refused', at('http', refusedPort), fail('tcp', REFUSED));
    add('blackhole', at('http', blackHole), fail('auth', TIMED_OUT));
    add('closer', at('http', closer), fail('auth', /^the server closed the connection without answering \(is this an https:\/\/ endpoint\?\)$/));
    add('garbage', at('http', garbage), fail('protocol', /^the server did not answer with HTTP$/));
    add('banner', at('http', banner), fail('protocol', /^the server did not answer with HTTP$/));
    add('drip', at('http', await drip('HTTP/1.1 200 OK\r\nX-Drip: ', 'a')), fail('auth', TIMED_OUT, { how: 'a header line that never ends' }));
    add('tlsStall', { ...at('https', blackHole), ...caFile }, fail('tls', TIMED_OUT));
    add('expired', { ...at('https', tlsExpired, 'localhost'), ...caFile }, fail('tls', EXPIRED));
    add('wronghost', { ...at('https', tlsWrongHost, 'localhost'), ...caFile }, fail('tls', WRONG_HOST));
    add('unresolvable', at('http', 80, BAD), fail('resolve', NXDOMAIN));
    if (s3Server) add('creds', { ...at('http', s3Server), secret_access_key: WRONG }, fail('auth', new RegExp(`^the signature does not match: wrong secret_access_key for access key "${KEY_ID}" \\(SignatureDoesNotMatch\\)$`), { how: 's3rver behind a SigV4 verifier, a wrong secret key' }));
    add('midway', at('http', await peer(startGarbage(H, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n<ListBucketResult>'))), fail('auth', TIMED_OUT, { how: 'headers and 18 of 100 body bytes, then silence' }));
    add('midwayTls', { ...at('https', tlsQuiet, 'localhost'), ...caFile }, fail('auth', TIMED_OUT));
    // hostile peers: the answer is read up to 64 KiB
    add('flood', at('http', await peer(hostile.startHttpEndless())), fail('protocol', /^the server answered 200 without a bucket listing \(is http:\/\/127\.0\.0\.1:\d+ an S3 endpoint\?\)$/, { how: 'a chunked body that never ends (64 KiB of it read)' }));
    add(
      'inject',
      at('http', await peer(hostile.startHttpAnswer('HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n\r\n', `<Error><Code>SlowDown</Code><Message>${hostile.INJECT_LINE}</Message></Error>`))),
      fail('query', /^the server refused the listing \(503\): .*\(SlowDown\)$/s, { how: 'an S3 error whose Message carries CR and ::commands' }),
    );
  },
});
