/** The mysql check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST, CAPPED } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { MYSQL_SSL_REQUEST_BYTES, mysqlGreeting } from '../helpers/faults.js';
import { startGarbage } from '../helpers/peers.js';

export default defineTypeTest({
  examples: `
- type: mariadb
  host: mariadb.internal
  username: app
  password: secret
`,
  driver: { module: 'mysql2', marker: 'ER_ACCESS_DENIED_ERROR', options: 'username: u, password: p' },
  credentials: (t, s) => ({ host: t.host, port: t.port, username: 'root', password: s.pair('root', s.secret('mysql'))[1] }),
  credsTest: 'test/mysql.test.ts (wrong password, unknown user, over TLS)',
  async faults(k) {
    const { H, BAD, PASSWORD, refusedPort, blackHole, closer, garbage, banner, caFile, at, peer, drip, upgrade, add } = k;
    const mysqlTls = { greeting: mysqlGreeting(true), readBytes: MYSQL_SSL_REQUEST_BYTES };
    const my = { username: 'faultuser', password: PASSWORD };
    const myTls = { ...my, tls: true, ...caFile };
    add('refused', { host: H, port: refusedPort, ...my }, fail('tcp', REFUSED));
    add('blackhole', { ...at(blackHole), ...my }, fail('protocol', TIMED_OUT));
    add('closer', { ...at(closer), ...my }, fail('protocol', /^the server closed the connection before its greeting$/));
    add('garbage', { ...at(garbage), ...my }, fail('protocol', /^the server did not answer with the MySQL protocol$/));
    add('banner', { ...at(banner), ...my }, fail('protocol', /^the server did not answer with the MySQL protocol$/));
    add('drip', { ...at(await drip(Buffer.from([0, 0x10, 0, 0, 0x0a]), 'x')), ...my }, fail('protocol', TIMED_OUT, { how: 'a greeting header announcing 4 KiB, then one byte at a time' }));
    add('tlsStall', { ...at(await upgrade(mysqlTls, 'silent')), ...myTls }, fail('tls', TIMED_OUT, { how: 'a greeting offering TLS, then silence after the SSL request' }));
    add('expired', { host: 'localhost', port: (await upgrade(mysqlTls, 'expired')).port, ...myTls }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: (await upgrade(mysqlTls, 'wrong')).port, ...myTls }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 3306, ...my }, fail('resolve', NXDOMAIN));
    add('midway', { ...at(await peer(startGarbage(H, mysqlGreeting(false)))), ...my }, fail('auth', TIMED_OUT, { how: 'the greeting, then silence' }));
    add('midwayTls', { host: 'localhost', port: (await upgrade(mysqlTls, 'valid')).port, ...myTls }, fail('auth', TIMED_OUT));

    add('huge', { ...at(await peer(hostile.startMysqlHuge())), ...my }, fail('protocol', CAPPED, { how: '16 MiB packets ("more follows"), forever' }));
    add('inject', { ...at(await peer(hostile.startMysqlInject())), ...my }, fail('auth', /./, { how: 'an ERR packet as greeting, its message carrying CR/LF and ::commands' }));
  },
});
