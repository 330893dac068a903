/** The memcache check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { memcacheBinaryOk, startReplyOnce } from '../helpers/faults.js';
import { saslAvailable, startMemcached } from '../helpers/memcached.js';

export default defineTypeTest({
  credentials: (t, s) => ({ host: t.host, port: t.port, username: 'mc', password: s.pair('mc', s.secret('memcache'))[1] }),
  credsTest: 'test/memcache.test.ts (wrong password and unknown user)',
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, at, peer, drip, server, add } = k;
    const memcachedServer = saslAvailable() ? await server(() => startMemcached({ sasl: { faultuser: PASSWORD } }), (s) => s.stop()) : undefined;
    // no TLS option
    add('refused', { host: H, port: refusedPort }, fail('tcp', REFUSED));
    add('blackhole', at(blackHole), fail('protocol', TIMED_OUT));
    add('closer', at(closer), fail('protocol', /^the server closed the connection without answering/));
    add('garbage', at(garbage), fail('protocol', TIMED_OUT, { how: 'random bytes without CRLF: the line never ends' }));
    add('banner', at(banner), fail('protocol', /^not a memcached server \(unexpected reply "SSH-2\.0-OpenSSH_9\.6 fault"\)$/));
    add('drip', at(await drip('VERSION ', '1')), fail('protocol', TIMED_OUT, { how: 'a VERSION line that never ends' }));
    add('unresolvable', { host: BAD, port: 11211 }, fail('resolve', NXDOMAIN));
    if (memcachedServer) add('creds', { host: H, port: memcachedServer.port, username: 'faultuser', password: WRONG }, fail('auth', /^authentication failed for user faultuser$/));
    add('midway', { ...at(await peer(startReplyOnce(memcacheBinaryOk))), username: 'faultuser', password: PASSWORD }, fail('protocol', TIMED_OUT, { how: 'SASL auth accepted, then silence' }));

    add('flood', at(await peer(hostile.startMemcacheEndless())), fail('protocol', /^not a memcached server \(unexpected reply "VERSION 1+/, { how: 'a VERSION line that never ends, at full speed' }));
    add('inject', at(await peer(hostile.startMemcacheInject())), fail('protocol', /^not a memcached server \(unexpected reply "SERVER_ERROR /, { how: 'SERVER_ERROR carrying CR and ::commands' }));
  },
});
