/** The http check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { BASIC_USER, startHttpServer } from '../helpers/http-servers.js';
import { startGarbage } from '../helpers/peers.js';

export default defineTypeTest({
  credentials: (t, s) => {
    const [user, pw] = s.pair('http-user', s.secret('http-userinfo'));
    const token = s.secret('http-query-token');
    s.env[`CC_HTTP_BEARER_${t.mode}`] = s.secret('http-bearer-env');
    return {
      url: `http://${user}:${encodeURIComponent(pw)}@${t.host}:${t.port}/x?token=${encodeURIComponent(token)}&page=2`,
      headers: { 'X-Api-Key': s.secret('http-api-key'), Cookie: `sid=${s.secret('http-cookie')}` },
      bearer_token: `\${CC_HTTP_BEARER_${t.mode}}`,
    };
  },
  async faults(k) {
    const { H, BAD, WRONG, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, peer, drip, server, add, urlOf } = k;
    const NOT_IN_BODY = /^the body does not contain "needle" \(first 1 MiB read\)$/;
    const httpServer = (await server(() => startHttpServer(), (s) => s.close()))!;

    const url = (scheme: string, p: { port: number } | number, host?: string) => ({ url: `${urlOf(scheme, p, host)}/` });
    add('refused', url('http', refusedPort), fail('tcp', REFUSED));
    add('blackhole', url('http', blackHole), fail('request', TIMED_OUT));
    add('closer', url('http', closer), fail('request', /^connection closed by peer$/));
    add('garbage', url('http', garbage), fail('request', /^the server did not answer with HTTP$/));
    add('banner', url('http', banner), fail('request', /^the server did not answer with HTTP$/));
    add('drip', url('http', await drip('HTTP/1.1 200 OK\r\nX-Drip: ', 'a')), fail('request', TIMED_OUT, { how: 'a header line that never ends' }));
    add('tlsStall', { ...url('https', blackHole), ...caFile }, fail('tls', TIMED_OUT));
    add('expired', { ...url('https', tlsExpired, 'localhost'), ...caFile }, fail('tls', EXPIRED));
    add('wronghost', { ...url('https', tlsWrongHost, 'localhost'), ...caFile }, fail('tls', WRONG_HOST));
    add('unresolvable', url('http', 80, BAD), fail('resolve', NXDOMAIN));
    add('creds', { url: `http://${H}:${httpServer.port}/basic`, auth: [BASIC_USER, WRONG] }, fail('status', /^Unexpected response code: 401$/, { how: 'basic auth with a wrong password' }));
    add('midway', url('http', await peer(startGarbage(H, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'))), fail('body', TIMED_OUT, { how: 'headers and 7 of 100 body bytes, then silence' }));
    add('midwayTls', { ...url('https', tlsQuiet, 'localhost'), ...caFile }, fail('request', TIMED_OUT));

    add('flood', { ...url('http', await peer(hostile.startHttpEndless())), expected_body: 'needle' }, fail('body', NOT_IN_BODY, { how: 'a chunked body that never ends' }));
    add('bomb', { ...url('http', await peer(hostile.startHttpBomb('gzip', hostile.gzipBomb(64)))), expected_body: 'needle' }, fail('body', NOT_IN_BODY, { how: '1 MiB of gzip that decodes to 1 GiB' }));
    add('bombBr', { ...url('http', await peer(hostile.startHttpBomb('br', hostile.brotliBomb()))), expected_body: 'needle' }, fail('body', NOT_IN_BODY, { how: '6 KB of brotli that decodes to 8 GiB' }));
    add('regex', { ...url('http', await peer(hostile.startHttpAnswer('HTTP/1.1 200 OK\r\nContent-Length: 41\r\n\r\n', `${'a'.repeat(40)}!`))), expected_body: '/^(a+)+$/' }, fail('body', TIMED_OUT, { how: 'expected_body /^(a+)+$/ on 41 bytes (backtracks for minutes)' }));
    add('inject', { ...url('http', await peer(hostile.startHttpInject())), expected_code: 500, expected_headers: { 'X-Inject': 'zzz' } }, fail('headers', /^header X-Inject: .* does not contain "zzz"$/s, { how: 'reason phrase, header and body carry CR/LF and ::commands' }));
  },
});
