/** The tls check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, pass, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { TLS_RECORD_PREFIX } from '../helpers/faults.js';

export default defineTypeTest({
  credentials: (t) => ({ host: t.host, port: t.port }),
  async faults(k) {
    const { H, BAD, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, at, peer, drip, add } = k;
    add('refused', { host: H, port: refusedPort }, fail('tcp', REFUSED));
    add('blackhole', at(blackHole), fail('tls', TIMED_OUT));
    add('closer', at(closer), fail('tls', /^connection reset by peer$/));
    add('garbage', at(garbage), fail('tls', /did not answer with TLS \(is this a plain-text port\?\)/));
    add('banner', at(banner), fail('tls', /did not answer with TLS \(is this a plain-text port\?\)/));
    add('drip', at(await drip(TLS_RECORD_PREFIX, Buffer.from([0]))), fail('tls', TIMED_OUT));
    add('expired', { host: 'localhost', port: tlsExpired.port, ...caFile }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: tlsWrongHost.port, ...caFile }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 443 }, fail('resolve', NXDOMAIN));
    add('midwayTls', { host: 'localhost', port: tlsQuiet.port, ...caFile }, pass('the handshake and certificate are all tls checks'));

    add('inject', { host: 'localhost', port: (await peer(hostile.startTlsInjectCert(hostile.injectCert()))).port }, fail('tls', /^self-signed certificate \(not trusted\): CN=a/, { how: 'a certificate whose CN, O and SAN carry CR/LF and ::commands' }));
  },
});
