/** The redis check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { existsSync } from 'node:fs';
import { startRedis } from '../helpers/redis.js';
import { startReplyOnce } from '../helpers/faults.js';

export default defineTypeTest({
  driver: { module: 'ioredis', marker: 'Too many Cluster redirections' },
  credentials: (t, s) => ({ host: t.host, port: t.port, username: 'default', password: s.pair('default', s.secret('redis'))[1] }),
  credsTest: 'test/redis.test.ts (wrong password, unknown user)',
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, at, peer, drip, server, add } = k;
    const redisServer = existsSync('/usr/bin/redis-server') ? await server(() => startRedis({ password: PASSWORD }), (s) => s.stop()) : undefined;
    const redisTls = { tls: true, ...caFile };
    add('refused', { host: H, port: refusedPort }, fail('tcp', REFUSED));
    add('blackhole', at(blackHole), fail('protocol', TIMED_OUT));
    add('closer', at(closer), fail('protocol', /^the server closed the connection \(is this a TLS port\? set tls: true\)$/));
    add('garbage', at(garbage), fail('protocol', /^the server did not answer with the Redis protocol$/));
    add('banner', at(banner), fail('protocol', /^the server did not answer with the Redis protocol$/));
    add('drip', at(await drip('+', 'a')), fail('protocol', TIMED_OUT, { how: 'a status reply that never ends' }));
    add('tlsStall', { ...at(blackHole), ...redisTls }, fail('tls', TIMED_OUT));
    add('expired', { host: 'localhost', port: tlsExpired.port, ...redisTls }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: tlsWrongHost.port, ...redisTls }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 6379 }, fail('resolve', NXDOMAIN));
    if (redisServer) add('creds', { host: H, port: redisServer.port, password: WRONG }, fail('auth', /^invalid password$/));
    add('midway', { ...at(await peer(startReplyOnce('+OK\r\n'))), password: PASSWORD }, fail('protocol', TIMED_OUT, { how: '+OK to AUTH, then silence' }));
    add('midwayTls', { host: 'localhost', port: tlsQuiet.port, ...redisTls }, fail('protocol', TIMED_OUT));

    add('flood', at(await peer(hostile.startRedisEndlessLine())), fail('protocol', /^the server sent a Redis reply line longer than 64 KiB$/, { how: 'a status line that never ends' }));
    add('huge', at(await peer(hostile.startRedisHugeArray())), fail('protocol', /^the server announced a Redis reply of 1000000000 elements \(more than 1024\)$/, { how: '*1000000000, then integers forever' }));
    add('inject', at(await peer(hostile.startRedisInject())), fail('protocol', /^ERR/, { how: 'an error reply carrying CR and ::commands' }));
  },
});
