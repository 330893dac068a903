/** The mongodb check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { startMongoServer } from '../helpers/mongo-server.js';

export default defineTypeTest({
  driver: { module: 'mongodb', marker: 'mongodb-js', loadedOnFailure: true },
  credentials: (t, s) => ({ host: t.host, port: t.port, username: 'root', password: s.pair('root', s.secret('mongodb'))[1], database: 'admin' }),
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, at, peer, drip, server, add } = k;
    const mongoServer = (await server(() => startMongoServer({ users: [{ user: 'faultuser', password: PASSWORD }] }), (s) => s.close()))!;
    const mongoStall = (await server(() => startMongoServer({ mode: 'stall-after-hello' }), (s) => s.close()))!;
    const mongoTls = { tls: true, ...caFile };
    add('refused', { host: H, port: refusedPort }, fail('tcp', REFUSED));
    add('blackhole', at(blackHole), fail('protocol', TIMED_OUT));
    add('closer', at(closer), fail('protocol', /^connection closed by the server during the MongoDB handshake/));
    add('garbage', at(garbage), fail('protocol', /^the server announced a MongoDB message of \d+ bytes \(more than 45\.8 MiB\)$/, { how: 'the first 4 bytes announce a 900 MB message' }));
    add('banner', at(banner), fail('protocol', /^the server announced a MongoDB message of \d+ bytes \(more than 45\.8 MiB\)$/, { how: '"SSH-" announces a 760 MB message' }));
    add('drip', at(await drip(Buffer.from([0, 0x10, 0, 0]), Buffer.from([0]))), fail('protocol', TIMED_OUT, { how: 'a message header announcing 4 KiB, then zeros' }));
    add('tlsStall', { ...at(blackHole), ...mongoTls }, fail('tls', TIMED_OUT));
    add('expired', { host: 'localhost', port: tlsExpired.port, ...mongoTls }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: tlsWrongHost.port, ...mongoTls }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 27017 }, fail('resolve', NXDOMAIN));
    add('creds', { host: H, port: mongoServer.port, username: 'faultuser', password: WRONG }, fail('auth', /^authentication failed for user faultuser \(auth_source admin\)$/));
    add('midway', at(mongoStall), fail('query', TIMED_OUT, { how: 'answers hello, then nothing else' }));
    add('midwayTls', { host: 'localhost', port: tlsQuiet.port, ...mongoTls }, fail('protocol', TIMED_OUT));

    add('zero', at(await peer(hostile.startMongoZero())), fail('protocol', /^the server sent a malformed MongoDB message \(length 0\)$/, { how: '4 zero bytes (the driver loops forever on them)' }));
    add('huge', at(await peer(hostile.startMongoHuge())), fail('protocol', /^the server announced a MongoDB message of 2147483647 bytes/, { how: 'a 2 GiB message header, then zeros forever' }));
    add('inject', at(await peer(hostile.startMongoInject())), fail('protocol', /^server error BadValue \(2\): /, { how: 'hello answered with an errmsg carrying CR/LF and ::commands' }));
  },
});
