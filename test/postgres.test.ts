import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resultAssertions } from './helpers/results.js';
import { assertClientsClosed, blackHole, forwarder } from './helpers/listen.js';
import { assertChildExits, certDaysCases, runOne } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tlsMaterial } from './helpers/tls.js';
import { PG, startPostgres, type PgServers } from './helpers/postgres.js';

let pg: PgServers;
let tls: ReturnType<typeof tlsMaterial>;

before(async () => {
  tls = tlsMaterial();
  pg = await startPostgres();
});

after(async () => {
  await pg?.stop();
});

function check(extra: Record<string, unknown> = {}, port = pg.tls.port): Record<string, unknown> {
  return { type: 'postgres', host: '127.0.0.1', port, username: PG.user, password: PG.password, database: PG.database, ...extra };
}

/** No password (right or wrong) anywhere in the result. */
const { failed, passed, noSecrets } = resultAssertions([PG.password, PG.sslOnlyPassword]);

describe('postgres against real servers', () => {
  test('right credentials pass (default sslmode prefer uses TLS when offered), with version and TLS noted', async () => {
    const r = await runOne(check());
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `postgres:127.0.0.1:${pg.tls.port}`);
    assert.equal(r.details?.[0], 'connected to 127.0.0.1');
    assert.match(r.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days; verification disabled \(would fail: /);
    assert.match(r.details?.[2] ?? '', new RegExp(`^PostgreSQL ${pg.version}\\.\\d+`));
    assert.equal(r.tls_verification, 'disabled', 'sslmode prefer does not verify: the result says so');
    noSecrets(r);
  });

  test('the postgresql alias, a host name and a port given as a string work', async () => {
    const r = await runOne(check({ type: 'postgresql', host: 'localhost', port: String(pg.tls.port) }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `postgres:localhost:${pg.tls.port}`);
  });

  test('over IPv6 (::1)', async (t) => {
    if (!pg.tls.ipv6) return t.skip('::1 not available');
    const r = await runOne(check({ host: '::1', sslmode: 'verify-full', ca_file: tls.caFile }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.target, `[::1]:${pg.tls.port}`);
  });

  test('prefer falls back to a plain connection when the server has no TLS', async () => {
    const r = await runOne(check({}, pg.plain.port));
    assert.equal(r.status, 'passed', r.error);
    assert.deepEqual(r.details?.slice(0, 2), ['connected to 127.0.0.1', 'without TLS']);
  });

  test('one TCP connection per check: pg logs in on the tcp step\'s connection (through the kit\'s relay); only prefer\'s fallback after an N opens a second', async () => {
    const cases: [string, Record<string, unknown>, number, number][] = [
      ['prefer', {}, pg.tls.port, 1],
      ['require', { sslmode: 'require' }, pg.tls.port, 1],
      ['verify-full', { host: 'localhost', sslmode: 'verify-full', ca_file: tls.caFile }, pg.tls.port, 1],
      ['disable', { sslmode: 'disable' }, pg.tls.port, 1],
      ['disable, server without TLS', { sslmode: 'disable' }, pg.plain.port, 1],
      ['prefer, server without TLS', {}, pg.plain.port, 2],
    ];
    for (const [label, extra, target, expected] of cases) {
      const fwd = await forwarder(target);
      try {
        const r = await runOne(check({ ...extra }, fwd.port));
        assert.equal(r.status, 'passed', `${label}: ${r.error}`);
        assert.equal(fwd.accepted, expected, `${label}: TCP connections to the server`);
        await assertClientsClosed(fwd.sockets);
      } finally {
        await fwd.close();
      }
    }
  });

  test('sslmode disable connects without TLS even when the server offers it', async () => {
    const r = await runOne(check({ sslmode: 'disable' }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.details?.[1], 'without TLS');
  });

  test('prefer really uses TLS: a hostssl-only user passes with prefer and is refused (28000) with disable', async () => {
    const creds = { username: PG.sslOnlyUser, password: PG.sslOnlyPassword };
    const ok = await runOne(check({ ...creds }));
    assert.equal(ok.status, 'passed', ok.error);
    const refused = await runOne(check({ ...creds, sslmode: 'disable' }));
    failed(refused, 'auth', `the server does not allow this login: pg_hba.conf rejects connection for host "127.0.0.1", user "${PG.sslOnlyUser}", database "${PG.database}", no encryption`);
    noSecrets(refused);
  });

  test('wrong password fails at auth without showing either password', async () => {
    const wrong = 'Wr0ng-pass-zq81';
    const r = await runOne(check({ password: wrong }));
    failed(r, 'auth', `authentication failed for user "${PG.user}" (wrong password or unknown user)`);
    noSecrets(r, wrong);
  });

  test('unknown user fails at auth (SCRAM makes it look like a wrong password)', async () => {
    const r = await runOne(check({ username: 'nobody_here' }));
    failed(r, 'auth', 'authentication failed for user "nobody_here" (wrong password or unknown user)');
    noSecrets(r);
  });

  test('unknown database fails at auth with its name', async () => {
    const r = await runOne(check({ database: 'no_such_db' }));
    failed(r, 'auth', 'database "no_such_db" does not exist');
    noSecrets(r);
  });

  test('sslmode require against a server without TLS: "the server does not support TLS"', async () => {
    const r = await runOne(check({ sslmode: 'require' }, pg.plain.port));
    failed(r, 'tls', 'the server does not support TLS (sslmode require)');
    noSecrets(r);
  });

  test('verify-full with the CA passes; without it the chain is not trusted', async () => {
    const ok = await runOne(check({ host: 'localhost', sslmode: 'verify-full', ca_file: tls.caFile }));
    assert.equal(ok.status, 'passed', ok.error);
    assert.match(ok.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    assert.equal(ok.tls_verification, undefined);
    const bad = await runOne(check({ host: 'localhost', sslmode: 'verify-full' }));
    failed(bad, 'tls', /^certificate not trusted/);
    noSecrets(bad);
  });

  test('verify-ca with the CA passes; verify-full fails on a name the certificate does not hold', async (t) => {
    if (!pg.tls.alt) return t.skip('127.0.0.2 not available');
    // 127.0.0.2 is not in the certificate (localhost, 127.0.0.1, ::1): verify-ca ignores the
    // name, verify-full does not. Use a tls-certs-path style extra CA here to cover that path.
    const ok = await runOne(check({ host: '127.0.0.2', sslmode: 'verify-ca' }), { extraCa: [tls.ca] });
    assert.equal(ok.status, 'passed', ok.error);
    assert.match(ok.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    const bad = await runOne(check({ host: '127.0.0.2', sslmode: 'verify-full' }), { extraCa: [tls.ca] });
    failed(bad, 'tls', /^certificate does not match the host name/);
  });

  test('require does not verify the certificate (no CA given) but does encrypt', async () => {
    const r = await runOne(check({ host: 'localhost', sslmode: 'require' }));
    assert.equal(r.status, 'passed', r.error);
    assert.match(r.details?.[1] ?? '', /; verification disabled( \(would fail: .*\))?$/);
    assert.equal(r.tls_verification, 'disabled');
  });

  test('require with a ca_file verifies the chain, as libpq does with a root certificate', async () => {
    const ok = await runOne(check({ sslmode: 'require', ca_file: tls.caFile }));
    assert.equal(ok.status, 'passed', ok.error);
    assert.match(ok.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    assert.equal(ok.tls_verification, undefined);
    // a CA file that did not sign the server's certificate
    const bad = await runOne(check({ sslmode: 'require', ca_file: tls.selfSigned.certFile }));
    failed(bad, 'tls', /^certificate not trusted/);
    const missing = await runOne(check({ sslmode: 'verify-ca', ca_file: '/nonexistent/ca.pem' }));
    failed(missing, 'tls', 'cannot read ca_file /nonexistent/ca.pem (ENOENT)');
  });

  test('a Unix-socket directory as host: no TCP pre-check, no TLS, password auth', async () => {
    const r = await runOne(check({ host: pg.tls.socketDir }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `postgres:${pg.tls.socketDir}:${pg.tls.port}`);
    assert.equal(r.details?.[0], `Unix socket ${pg.tls.socketDir}/.s.PGSQL.${pg.tls.port}, without TLS`);
    const wrong = await runOne(check({ host: pg.tls.socketDir, password: 'nope-nope' }));
    failed(wrong, 'auth', `authentication failed for user "${PG.user}" (wrong password or unknown user)`);
    const missing = await runOne(check({ host: pg.tls.socketDir, port: 1 }));
    failed(missing, 'auth', 'no such file or socket');
  });

  test('refused port fails at tcp', async () => {
    const r = await runOne(check({}, await freePort()));
    failed(r, 'tcp', 'connection refused');
  });

  test('a server that accepts and never answers fails at protocol (not auth: no credential was asked for) within timeout + margin', async () => {
    const hole = await blackHole();
    try {
      for (const sslmode of ['prefer', 'disable']) {
        const t0 = performance.now();
        const r = await runOne(check({ sslmode, timeout: 1 }, hole.port));
        const ms = performance.now() - t0;
        failed(r, 'protocol', 'timed out after 1s');
        assert.ok(ms < 3000, `took ${ms} ms`);
      }
      // the check closed its connections (the server notices within moments)
      for (let i = 0; i < 20 && hole.sockets.size; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual([...hole.sockets].map((s) => [s.remotePort, s.destroyed, s.readyState]), []);
    } finally {
      hole.server.close();
    }
  });

  test('an HTTP port: the server does not speak PostgreSQL, at protocol, with its first bytes (nothing about credentials)', async () => {
    const web = createHttpServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    try {
      for (const sslmode of ['prefer', 'disable', 'require']) {
        const r = await runOne(check({ sslmode, timeout: 5 }, (web.address() as AddressInfo).port));
        failed(r, 'protocol', /^the server does not speak PostgreSQL: its first bytes are "HTTP\/1\.1 400 Bad Request\\r\\n/);
      }
    } finally {
      web.close();
    }
  });

  test('no handles are left behind: a child process running passing and failing checks exits on its own', async () => {
    const hole = await blackHole();
    try {
      await assertChildExits([
        [check(), ['passed', null]],
        [check({ password: 'bad-bad-bad' }), ['failed', 'auth']],
        [check({ sslmode: 'require' }, pg.plain.port), ['failed', 'tls']],
        [check({ host: pg.tls.socketDir }), ['passed', null]],
        [check({ timeout: 1 }, hole.port), ['failed', 'protocol']],
      ]);
    } finally {
      hole.server.close();
    }
  });
});

// ---------- the shared TLS assertions and client certificates (issue 5) ----------

import { readFileSync as readFileSyncPg, writeFileSync as writeFileSyncPg } from 'node:fs';
import { join as joinPg } from 'node:path';

describe('postgres: min_cert_days, min_tls_version and client certificates', () => {

  test('min_cert_days 60 fails at cert against the 30-day certificate; 7 passes and the details show the days left', async () => {
    await certDaysCases((extra) => check({ sslmode: 'verify-full', host: 'localhost', ca_file: tls.caFile, ...extra }), { failed, passed });
    // sslmode prefer (no verification): the days are still checked
    failed(await runOne(check({ min_cert_days: 60 })), 'cert', 'certificate expires in 29 days (minimum 60)');
  });

  test('prefer falling back to plain text cannot meet min_cert_days: fails at tls', async () => {
    const r = await runOne(check({ min_cert_days: 7 }, pg.plain.port));
    failed(r, 'tls', 'the server does not support TLS (sslmode prefer fell back to plain text; min_cert_days and min_tls_version need TLS)');
    // sslmode disable: no TLS wanted, nothing to check
    assert.equal((await runOne(check({ sslmode: 'disable', min_cert_days: 7 }, pg.plain.port))).status, 'passed');
  });

  describe('with the TLS server reconfigured (ssl_ca_file, a clientcert=verify-ca rule, TLS 1.2 only)', () => {
    let hba = '';
    let conf = '';
    const hbaFile = () => joinPg(pg.tls.dataDir, 'pg_hba.conf');
    const confFile = () => joinPg(pg.tls.dataDir, 'postgresql.conf');
    /** SIGHUP to the postmaster: pg_hba.conf and the ssl settings are read again. */
    const reload = () => process.kill(Number(readFileSyncPg(joinPg(pg.tls.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGHUP');
    /** Retries `probe` until it says the reload took effect (the postmaster reloads asynchronously). */
    const until = async (probe: () => Promise<boolean>) => {
      for (let i = 0; i < 100; i++) {
        if (await probe()) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the PostgreSQL reload did not take effect');
    };
    // connections to the database `postgres` need a client certificate signed by the test CA
    const toPostgresDb = (extra: Record<string, unknown> = {}) => check({ database: 'postgres', sslmode: 'require', ...extra });

    before(async () => {
      hba = readFileSyncPg(hbaFile(), 'utf8');
      conf = readFileSyncPg(confFile(), 'utf8');
      writeFileSyncPg(hbaFile(), `hostssl postgres all 127.0.0.0/8 scram-sha-256 clientcert=verify-ca\n${hba}`);
      writeFileSyncPg(confFile(), `${conf}\nssl_ca_file = '${tls.caFile}'\n`);
      reload();
      await until(async () => (await runOne(toPostgresDb())).status === 'failed');
    });

    after(async () => {
      writeFileSyncPg(hbaFile(), hba);
      writeFileSyncPg(confFile(), conf);
      reload();
      await until(async () => (await runOne(toPostgresDb())).status === 'passed');
    });

    test('client_cert/client_key (new for postgres): refused without a client certificate, passes with one', async () => {
      const without = await runOne(toPostgresDb());
      failed(without, 'auth', 'the server does not allow this login: connection requires a valid client certificate');
      noSecrets(without);
      const withCert = await runOne(toPostgresDb({ client_cert: tls.client.certFile, client_key: tls.client.keyFile, min_cert_days: 7 }));
      assert.equal(withCert.status, 'passed', withCert.error);
      // (sslmode require without a CA: the days are checked, the chain is not)
      assert.match(withCert.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in 29 days; verification disabled/);
      noSecrets(withCert);
      // verify-full with server_name (new): SNI and the name checked
      const named = await runOne(toPostgresDb({ sslmode: 'verify-full', ca_file: tls.caFile, server_name: 'localhost', client_cert: tls.client.certFile, client_key: tls.client.keyFile }));
      assert.equal(named.status, 'passed', named.error);
      const wrongName = await runOne(toPostgresDb({ sslmode: 'verify-full', ca_file: tls.caFile, server_name: 'wrong.example', client_cert: tls.client.certFile, client_key: tls.client.keyFile }));
      failed(wrongName, 'tls', "certificate does not match the host name: Host: wrong.example. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
      failed(await runOne(toPostgresDb({ client_cert: tls.client.certFile })), 'tls', 'client_cert and client_key go together');
      // the other database is not affected
      assert.equal((await runOne(check({ sslmode: 'require' }))).status, 'passed');
    });

    test('min_tls_version TLSv1.3 against the server limited to TLS 1.2 fails at tls; TLSv1.2 passes', async () => {
      writeFileSyncPg(confFile(), `${conf}\nssl_ca_file = '${tls.caFile}'\nssl_max_protocol_version = 'TLSv1.2'\n`);
      reload();
      await until(async () => (await runOne(check({ sslmode: 'require' }))).details?.some((d) => d.startsWith('TLSv1.2, cert')) ?? false);
      const v13 = await runOne(check({ sslmode: 'require', min_tls_version: 'TLSv1.3' }));
      failed(v13, 'tls', 'TLS handshake failed: the server does not offer TLSv1.3 or later (min_tls_version)');
      noSecrets(v13);
      const v12 = await runOne(check({ sslmode: 'require', min_tls_version: 'TLSv1.2' }));
      assert.equal(v12.status, 'passed', v12.error);
      assert.match(v12.details?.[1] ?? '', /^TLSv1\.2, cert CN=localhost .*; verification disabled/);
    });
  });
});
