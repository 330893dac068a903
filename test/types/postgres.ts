/** The postgres check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { PG_AUTH_CLEARTEXT, startReplyOnce } from '../helpers/faults.js';

export default defineTypeTest({
  driver: { module: 'pg', marker: 'SCRAM-SERVER-FIRST-MESSAGE', options: 'username: u, password: p, database: d', loadedOnFailure: true },
  credentials: (t, s) => {
    s.env[`CC_PG_PASSWORD_${t.mode}`] = s.pair('app', s.secret('postgres-env'))[1];
    return { host: t.host, port: t.port, username: 'app', password: `\${CC_PG_PASSWORD_${t.mode}}`, database: 'app' };
  },
  credsTest: 'test/postgres.test.ts (wrong password, unknown user)',
  async faults(k) {
    const { H, BAD, PASSWORD, refusedPort, blackHole, closer, garbage, banner, caFile, at, peer, drip, upgrade, add } = k;
    const pgTls = { readBytes: 8, reply: 'S' };
    /** 'N' to an SSLRequest (so prefer falls back to plain), a password request to the startup. */
    const pgMidway = (d: Buffer) => (d.length === 8 && d.readUInt32BE(4) === 80877103 ? 'N' : PG_AUTH_CLEARTEXT);
    // default sslmode prefer; TLS cells with verify-full
    const pg = { username: 'faultuser', password: PASSWORD, database: 'faultdb' };
    const pgFull = { ...pg, sslmode: 'verify-full', ...caFile };
    add('refused', { host: H, port: refusedPort, ...pg }, fail('tcp', REFUSED));
    add('blackhole', { ...at(blackHole), ...pg }, fail('protocol', TIMED_OUT, { how: 'no first byte: the login was never reached' }));
    add('closer', { ...at(closer), ...pg }, fail('auth', /^the server closed the connection$/));
    add('garbage', { ...at(garbage), ...pg }, fail('protocol', /^the server does not speak PostgreSQL: its first bytes are "/, { how: 'sslmode prefer: the first byte answers the SSLRequest' }));
    add('banner', { ...at(banner), ...pg }, fail('protocol', /^the server does not speak PostgreSQL: its first bytes are "SSH-2\.0-/, { how: 'sslmode prefer: the first byte answers the SSLRequest' }));
    add('drip', { ...at(await drip(Buffer.from([0x52, 0, 0, 0x10, 0]), Buffer.from([0]))), ...pg, sslmode: 'disable' }, fail('auth', TIMED_OUT, { how: 'sslmode disable; a message header announcing 4 KiB, then zeros' }));
    add('tlsStall', { ...at(await upgrade(pgTls, 'silent')), ...pgFull }, fail('tls', TIMED_OUT, { how: "answers the SSLRequest with 'S', then silence" }));
    add('expired', { host: 'localhost', port: (await upgrade(pgTls, 'expired')).port, ...pgFull }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: (await upgrade(pgTls, 'wrong')).port, ...pgFull }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 5432, ...pg }, fail('resolve', NXDOMAIN));
    add('midway', { ...at(await peer(startReplyOnce(pgMidway))), ...pg }, fail('auth', TIMED_OUT, { how: "'N' to the SSLRequest, a password request, then silence" }));
    add('midwayTls', { host: 'localhost', port: (await upgrade(pgTls, 'valid')).port, ...pgFull }, fail('auth', TIMED_OUT));

    add('zero', { ...at(await peer(hostile.startPgZero())), ...pg }, fail('protocol', /^the server sent a message the client could not read/, { how: 'a message whose length (0) is shorter than its header' }));
    add('huge', { ...at(await peer(hostile.startPgHuge())), ...pg }, fail('protocol', /^the server announced a PostgreSQL message of 2147483647 bytes \(more than the 30000 bytes libpq accepts for one of type "R"\)$/, { how: 'a 2 GiB message header, then zeros forever' }));
    add('inject', { ...at(await peer(hostile.startPgInject())), ...pg }, fail('auth', /./, { how: 'an ErrorResponse whose message and detail carry CR/LF and ::commands' }));
  },
});
