import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resultAssertions } from './helpers/results.js';
import { certDaysCases, TEST_CERT_LINE, otherProtocolCase, runOne, runYaml, settledHandles, silentServerCases, SSH_BANNER } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { tlsMaterial } from './helpers/tls.js';
import { startMariadb, type MariadbInstance } from './helpers/mysql.js';
import { listen, assertClientsClosed } from './helpers/listen.js';

const PASSWORD = 'mysql-Secret-8q2w7';
const DBA_PASSWORD = 'dba-Secret-3k9x1';
const SEC_PASSWORD = 'sec-Secret-1m4r6';
const WRONG = 'Wr0ng-mysql-pw';
const SETUP = `
  CREATE USER 'app'@'%' IDENTIFIED BY '${PASSWORD}';
  CREATE DATABASE appdb;
  GRANT ALL ON appdb.* TO 'app'@'%';
  CREATE USER 'dba'@'%' IDENTIFIED BY '${DBA_PASSWORD}';
  GRANT ALL ON *.* TO 'dba'@'%';
  CREATE USER 'sec'@'%' IDENTIFIED BY '${SEC_PASSWORD}' REQUIRE SSL;
`;

let withTls: MariadbInstance; // ssl_cert/ssl_key/ssl_ca set: TLS optional
let plain: MariadbInstance; // no TLS configured (this MariaDB's default)
let tls: ReturnType<typeof tlsMaterial>;

before(async () => {
  tls = tlsMaterial();
  [withTls, plain] = await Promise.all([
    startMariadb({ tls: { certFile: tls.valid.certFile, keyFile: tls.valid.keyFile, caFile: tls.caFile }, setup: SETUP }),
    startMariadb({ setup: SETUP }),
  ]);
});

after(async () => {
  await Promise.all([withTls?.stop(), plain?.stop()]);
});

const { failed, passed, noSecrets } = resultAssertions([PASSWORD, DBA_PASSWORD, SEC_PASSWORD, WRONG]);

const app = (port: number, extra: Record<string, unknown> = {}) => ({ type: 'mysql', host: '127.0.0.1', port, username: 'app', password: PASSWORD, ...extra });

describe('mysql against real MariaDB servers', () => {
  test('right credentials pass, with and without a database; the version is noted', async () => {
    const r = await runOne(app(plain.port));
    passed(r);
    assert.equal(r.name, `mysql:127.0.0.1:${plain.port}`);
    assert.equal(r.details?.[0], 'connected to 127.0.0.1');
    assert.match(r.details?.[1] ?? '', /^server version 10\.\d+\.\d+-MariaDB/);
    assert.equal(r.details?.length, 2);
    passed(await runOne(app(plain.port, { database: 'appdb', host: 'localhost' })));
  });

  test('a conn-check-configs entry (port as a string, the mariadb alias) validates and passes', async () => {
    const yaml = [
      '- type: mysql',
      '  database: appdb',
      '  host: 127.0.0.1',
      `  port: "${plain.port}"`,
      '  username: app',
      `  password: ${PASSWORD}`,
      '- type: mariadb',
      '  host: localhost',
      `  port: ${plain.port}`,
      '  username: app',
      `  password: ${PASSWORD}`,
    ].join('\n');
    const [a, b] = await runYaml(yaml);
    passed(a!);
    passed(b!);
    assert.equal(b!.type, 'mysql');
  });

  test('wrong password fails at auth without the password; the details mention TLS as another cause', async () => {
    const r = await runOne(app(plain.port, { password: WRONG }));
    failed(r, 'auth', 'access denied for user "app" (wrong password or unknown user)');
    assert.equal(
      r.details?.[2],
      'MySQL and MariaDB also deny access like this when the user or the server requires TLS (REQUIRE SSL, require_secure_transport): try tls: true',
    );
  });

  test('a user that must use TLS (REQUIRE SSL): denied without TLS, passes with it', async () => {
    const sec = { type: 'mysql', host: '127.0.0.1', port: withTls.port, username: 'sec', password: SEC_PASSWORD };
    failed(await runOne(sec), 'auth', 'access denied for user "sec" (wrong password or unknown user)');
    passed(await runOne({ ...sec, tls: true, ca_file: tls.caFile }));
  });

  test('unknown user fails at auth like a wrong password (the server does not tell them apart)', async () => {
    failed(await runOne(app(plain.port, { username: 'nobody' })), 'auth', 'access denied for user "nobody" (wrong password or unknown user)');
  });

  test('no password for a user that has one fails at auth', async () => {
    failed(await runOne({ type: 'mysql', host: '127.0.0.1', port: plain.port, username: 'app' }), 'auth', 'access denied for user "app" (wrong password or unknown user)');
  });

  test('unknown database: ER_BAD_DB_ERROR for a user with global privileges, ER_DBACCESS_DENIED_ERROR otherwise', async () => {
    failed(
      await runOne({ type: 'mysql', host: '127.0.0.1', port: plain.port, username: 'dba', password: DBA_PASSWORD, database: 'nodb' }),
      'auth',
      'database "nodb" does not exist',
    );
    failed(
      await runOne(app(plain.port, { database: 'nodb' })),
      'auth',
      'access denied for user "app" to database "nodb" (no privileges on it, or it does not exist)',
    );
  });

  test('refused port fails at tcp', async () => {
    failed(await runOne(app(await freePort())), 'tcp', 'connection refused');
  });

  test('TLS with the CA passes (by IP and by name); TLS is noted', async () => {
    const r = await runOne(app(withTls.port, { tls: true, ca_file: tls.caFile, database: 'appdb' }));
    passed(r);
    assert.match(r.details?.[2] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    passed(await runOne(app(withTls.port, { host: 'localhost', tls: 'yes', ca_file: tls.caFile })));
  });

  test('TLS without the CA is not trusted; disable_tls_verification passes and says so', async () => {
    failed(await runOne(app(withTls.port, { tls: true })), 'tls', 'self-signed certificate in the chain (untrusted root CA)');
    const r = await runOne(app(withTls.port, { tls: true, disable_tls_verification: true }));
    passed(r);
    assert.match(r.details?.[2] ?? '', /^TLSv1\.[23], cert CN=localhost .*; verification disabled \(would fail: /);
  });

  test('TLS checks the host name (server_name that the certificate does not have)', async () => {
    failed(
      await runOne(app(withTls.port, { tls: true, ca_file: tls.caFile, server_name: 'wrong.example' })),
      'tls',
      /^certificate does not match the host name: Host: wrong\.example\. is not in the cert's altnames/,
    );
  });

  test('wrong password over TLS fails at auth', async () => {
    failed(await runOne(app(withTls.port, { tls: true, ca_file: tls.caFile, password: WRONG })), 'auth', 'access denied for user "app" (wrong password or unknown user)');
  });

  test('tls: true against a server without TLS fails at tls', async () => {
    failed(await runOne(app(plain.port, { tls: true, ca_file: tls.caFile })), 'tls', 'the server does not support TLS (tls: true)');
  });

  test('a server that accepts and never speaks fails at protocol within timeout + margin', async () => {
    await silentServerCases(app, [
      [{}, 'protocol'],
      [{ tls: true }, 'protocol'],
    ], noSecrets, { leaks: true });
  });

  test('a server that speaks another protocol fails at protocol', async () => {
    await otherProtocolCase(app, SSH_BANNER, (r) => failed(r, 'protocol', 'the server did not answer with the MySQL protocol'));
  });

  test('a server that closes the connection at once fails at protocol', async () => {
    const closer = await listen((s) => s.end());
    try {
      failed(await runOne(app(closer.port, { timeout: 2 })), 'protocol', 'the server closed the connection before its greeting');
    } finally {
      closer.server.close();
    }
  });

  test('the server closes the connection after COM_QUIT: no connection of the check is left', async () => {
    passed(await runOne(app(plain.port)));
    for (let i = 0; i < 40; i++) {
      const out = await plain.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER='app'");
      if (out.trim().endsWith('\n0') || out.trim().split('\n').pop() === '0') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('the app connection is still open on the server');
  });

  test('nothing of the checks keeps the process alive', async () => {
    passed(await runOne(app(withTls.port, { tls: true, ca_file: tls.caFile })));
    failed(await runOne(app(plain.port, { password: WRONG })), 'auth', /^access denied/);
    assert.deepEqual(await settledHandles(), []);
  });
});

// ---------- the shared TLS assertions and client certificates (issue 5) ----------

describe('mysql: min_cert_days, min_tls_version and client certificates (REQUIRE X509)', () => {
  const CERT_PASSWORD = 'x509-Secret-5t7u1';

  before(async () => {
    // a user that must present a client certificate signed by the server's CA (ssl_ca)
    const { createConnection } = await import('mysql2/promise');
    const dba = await createConnection({ host: '127.0.0.1', port: withTls.port, user: 'dba', password: DBA_PASSWORD });
    try {
      await dba.query(`CREATE USER 'certuser'@'%' IDENTIFIED BY '${CERT_PASSWORD}' REQUIRE X509`);
    } finally {
      await dba.end();
    }
  });

  test('min_cert_days 60 fails at cert against the 30-day certificate; 7 passes and the details show the days left', async () => {
    await certDaysCases((extra) => app(withTls.port, { host: 'localhost', tls: true, ca_file: tls.caFile, ...extra }), { failed, passed });
  });

  test('min_tls_version: TLSv1.2 and TLSv1.3 pass against MariaDB (which offers TLS 1.3); the negotiated version is noted', async () => {
    for (const v of ['TLSv1.2', 'TLSv1.3']) {
      const r = await runOne(app(withTls.port, { tls: true, ca_file: tls.caFile, min_tls_version: v }));
      passed(r);
      assert.match(r.details?.[2] ?? '', /^TLSv1\.3, cert CN=localhost/);
    }
  });

  test('client_cert/client_key: a REQUIRE X509 user is denied without a client certificate and passes with one', async () => {
    const user = { username: 'certuser', password: CERT_PASSWORD };
    const without = await runOne(app(withTls.port, { ...user, tls: true, ca_file: tls.caFile }));
    failed(without, 'auth', 'access denied for user "certuser" (wrong password or unknown user)');
    assert.ok(!JSON.stringify(without).includes(CERT_PASSWORD));
    const withCert = await runOne(app(withTls.port, { ...user, tls: true, ca_file: tls.caFile, client_cert: tls.client.certFile, client_key: tls.client.keyFile, min_cert_days: 7 }));
    assert.equal(withCert.status, 'passed', JSON.stringify(withCert));
    assert.match(withCert.details?.[2] ?? '', TEST_CERT_LINE);
    assert.ok(!JSON.stringify(withCert).includes(CERT_PASSWORD));
  });
});
