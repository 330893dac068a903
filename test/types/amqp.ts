/** The amqp check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST, CAPPED } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { startReplyOnce } from '../helpers/faults.js';

export default defineTypeTest({
  driver: { module: 'amqplib', marker: 'AMQPLAIN', options: 'username: u, password: p, use_tls: false' },
  credentials: (t, s) => ({ host: t.host, port: t.port, username: 'guest', password: s.pair('guest', s.secret('amqp'))[1], use_tls: false }),
  credsTest: 'test/amqp.test.ts (wrong password and unknown user)',
  async faults(k) {
    const { H, BAD, PASSWORD, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, at, peer, drip, add } = k;
    // plain cells with use_tls: false; TLS cells with use_tls: true, as these ports are not 5671
    const amqp = { username: 'faultuser', password: PASSWORD, use_tls: false };
    const amqps = { username: 'faultuser', password: PASSWORD, use_tls: true, ...caFile };
    add('refused', { host: H, port: refusedPort, ...amqp }, fail('tcp', REFUSED));
    add('blackhole', { ...at(blackHole), ...amqp }, fail('auth', TIMED_OUT));
    add('closer', { ...at(closer), ...amqp }, fail('auth', /^the server closed the connection during the AMQP handshake/));
    add('garbage', { ...at(garbage), ...amqp }, fail('auth', /^not an AMQP 0-9-1 server/));
    add('banner', { ...at(banner), ...amqp }, fail('auth', /^not an AMQP 0-9-1 server/));
    add('drip', { ...at(await drip(Buffer.from([1, 0, 0, 0, 0, 0x10, 0]), Buffer.from([0]))), ...amqp }, fail('auth', TIMED_OUT, { how: 'a frame header announcing 4 KiB, then zeros' }));
    add('tlsStall', { ...at(blackHole), ...amqps }, fail('tls', TIMED_OUT));
    add('expired', { host: 'localhost', port: tlsExpired.port, ...amqps }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: tlsWrongHost.port, ...amqps }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 5672, ...amqp }, fail('resolve', NXDOMAIN));
    add('midway', { ...at(await peer(startReplyOnce(hostile.amqpConnectionStart()))), ...amqp }, fail('auth', TIMED_OUT, { how: 'Connection.Start, then silence' }));
    add('midwayTls', { host: 'localhost', port: tlsQuiet.port, ...amqps }, fail('auth', TIMED_OUT));

    add('flood', { ...at(await peer(hostile.startAmqpBigFrame())), ...amqp }, fail('auth', CAPPED, { how: 'Connection.Start, then a frame header announcing 64 MiB (amqplib waits for all of it), then zeros forever' }));
    add('huge', { ...at(await peer(hostile.startAmqpHuge())), ...amqp }, fail('auth', /^not an AMQP 0-9-1 server/, { how: 'a frame header announcing 4 GiB, then zeros forever' }));
    add('inject', { ...at(await peer(hostile.startAmqpInject())), ...amqp }, fail('auth', /./, { how: 'Connection.Close whose reply text carries CR/LF and ::commands' }));
  },
});
