import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { resultAssertions } from './helpers/results.js';
import { blackHole } from './helpers/listen.js';
import { assertChildExits, assertLeavesNothing, certDaysCases, runOne, silentServerCases } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { tlsMaterial } from './helpers/tls.js';
import { startRedis, type RedisInstance } from './helpers/redis.js';

const PASSWORD = 'redis-Secret-4k2z9';
const ACL_USER = 'alice';
const ACL_PASSWORD = 'alice-Acl-pw-77x1';
const DISABLED_USER = 'bob';
const DISABLED_PASSWORD = 'bob-Off-pw-55q3';
const WRONG = 'Wr0ng-redis-pw';

let auth: RedisInstance; // requirepass + ACL users
let open: RedisInstance; // no password at all
let tlsOnly: RedisInstance; // TLS only, requirepass
let tls: ReturnType<typeof tlsMaterial>;

before(async () => {
  tls = tlsMaterial();
  [auth, open, tlsOnly] = await Promise.all([
    startRedis({
      password: PASSWORD,
      users: [
        { name: ACL_USER, password: ACL_PASSWORD },
        { name: DISABLED_USER, password: DISABLED_PASSWORD, enabled: false },
      ],
    }),
    startRedis(),
    startRedis({ password: PASSWORD, tls: { certFile: tls.valid.certFile, keyFile: tls.valid.keyFile, caFile: tls.caFile } }),
  ]);
});

after(async () => {
  await Promise.all([auth?.stop(), open?.stop(), tlsOnly?.stop()]);
});

const { failed, passed, noSecrets } = resultAssertions([PASSWORD, ACL_PASSWORD, DISABLED_PASSWORD, WRONG]);

describe('redis against real servers', () => {
  test('no password: PING passes against an open server, with the version noted', async () => {
    const r = await runOne({ type: 'redis', host: '127.0.0.1', port: open.port });
    passed(r);
    assert.equal(r.name, `redis:127.0.0.1:${open.port}`);
    assert.equal(r.details?.[0], 'connected to 127.0.0.1');
    assert.match(r.details?.[1] ?? '', /^Redis \d+\.\d+\.\d+$/);
  });

  test('right password passes (host name, port as a string)', async () => {
    const r = await runOne({ type: 'redis', host: 'localhost', port: String(auth.port), password: PASSWORD });
    passed(r);
    assert.equal(r.name, `redis:localhost:${auth.port}`);
  });

  // The server binds ::1 too (as the tcp, tls and http tests do, this assumes a machine with IPv6
  // loopback): "connection refused" here is the failure this test exists to catch, not a skip.
  test('over IPv6 (::1)', async () => {
    const r = await runOne({ type: 'redis', host: '::1', port: open.port });
    passed(r);
    assert.equal(r.target, `[::1]:${open.port}`);
    assert.equal(r.details?.[0], 'connected to [::1]');
  });

  test('an ACL user with username + password passes (the ACL form, noted); db selects a database', async () => {
    const acl = await runOne({ type: 'redis', host: '127.0.0.1', port: auth.port, username: ACL_USER, password: ACL_PASSWORD });
    passed(acl);
    assert.ok(acl.details?.includes(`authenticated as user ${ACL_USER} (AUTH username password)`), String(acl.details));
    passed(await runOne({ type: 'redis', host: '127.0.0.1', port: auth.port, username: ACL_USER, password: ACL_PASSWORD, db: 3 }));
  });

  test('wrong password: "invalid password" at auth', async () => {
    failed(await runOne({ type: 'redis', host: '127.0.0.1', port: auth.port, password: WRONG }), 'auth', 'invalid password');
  });

  test('unknown user, wrong user password and disabled user: the pair is refused, then the password alone', async () => {
    // conn-check sent AUTH PASSWORD whatever the username: a user the server does not know, with
    // the server's requirepass, still authenticates (with the password alone), and says so
    const fallback = await runOne({ type: 'redis', host: '127.0.0.1', port: auth.port, username: 'nobody', password: PASSWORD });
    passed(fallback);
    assert.ok(
      fallback.details?.includes('authenticated with the password alone (AUTH password), as conn-check did; the username was not used: invalid username-password pair for user "nobody" (or the user is disabled)'),
      String(fallback.details),
    );
    failed(
      await runOne({ type: 'redis', host: '127.0.0.1', port: auth.port, username: ACL_USER, password: WRONG }),
      'auth',
      `invalid username-password pair for user "${ACL_USER}" (or the user is disabled); with the password alone: invalid password`,
    );
    failed(
      await runOne({ type: 'redis', host: '127.0.0.1', port: auth.port, username: DISABLED_USER, password: DISABLED_PASSWORD }),
      'auth',
      `invalid username-password pair for user "${DISABLED_USER}" (or the user is disabled); with the password alone: invalid password`,
    );
  });

  test('no password configured against a server that requires one: NOAUTH', async () => {
    failed(await runOne({ type: 'redis', host: '127.0.0.1', port: auth.port }), 'auth', 'the server requires a password (NOAUTH)');
  });

  test('a password against a server that has none: "the server has no password set"', async () => {
    failed(await runOne({ type: 'redis', host: '127.0.0.1', port: open.port, password: WRONG }), 'auth', 'the server has no password set');
  });

  test('db out of range fails at query', async () => {
    failed(await runOne({ type: 'redis', host: '127.0.0.1', port: open.port, db: 99 }), 'query', 'database 99 does not exist (DB index is out of range)');
  });

  test('an invalid db option is a config error, not a run', async () => {
    await assert.rejects(runOne({ type: 'redis', host: '127.0.0.1', port: open.port, db: -1 }), /db.*expected an integer 0-1000000, got -1/s);
  });

  test('refused port fails at tcp', async () => {
    failed(await runOne({ type: 'redis', host: '127.0.0.1', port: await freePort(), password: PASSWORD }), 'tcp', 'connection refused');
  });

  test('TLS: verify with the CA passes (with password); the version and TLS are noted (one line)', async () => {
    const r = await runOne({ type: 'redis', host: 'localhost', port: tlsOnly.port, tls: true, ca_file: tls.caFile, password: PASSWORD });
    passed(r);
    assert.match(r.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    assert.match(r.details?.[2] ?? '', /^Redis /);
  });

  test('TLS: without the CA the certificate is not trusted; disable_tls_verification passes', async () => {
    // redis-server sends its CA along with the leaf, so OpenSSL calls it a self-signed chain
    failed(await runOne({ type: 'redis', host: 'localhost', port: tlsOnly.port, tls: true, password: PASSWORD }), 'tls', 'self-signed certificate in the chain (untrusted root CA)');
    const r = await runOne({ type: 'redis', host: 'localhost', port: tlsOnly.port, tls: 'yes', disable_tls_verification: true, password: PASSWORD });
    passed(r);
    assert.match(r.details?.[1] ?? '', /; verification disabled \(would fail: self-signed certificate in the chain \(untrusted root CA\)\)$/);
  });

  test('TLS: a wrong password over TLS fails at auth', async () => {
    failed(await runOne({ type: 'redis', host: 'localhost', port: tlsOnly.port, tls: true, ca_file: tls.caFile, password: WRONG }), 'auth', 'invalid password');
  });

  test('tls: true against a plain port fails at tls, with a hint in the details', async () => {
    // redis-server reads the ClientHello as an inline command and waits for a newline (its
    // parser stops at the first NUL byte): it never answers, so the check times out at tls.
    const r = await runOne({ type: 'redis', host: '127.0.0.1', port: auth.port, tls: true, ca_file: tls.caFile, password: PASSWORD, timeout: 1 });
    failed(r, 'tls', 'timed out after 1s');
    assert.deepEqual(r.details, ['connected to 127.0.0.1', 'no answer to the TLS handshake (a plain-text Redis port never answers one: is tls: true right?)']);
  });

  test('tls: false against a TLS-only port says the server closed the connection and hints at tls', async () => {
    const r = await runOne({ type: 'redis', host: '127.0.0.1', port: tlsOnly.port, password: PASSWORD, timeout: 3 });
    failed(r, 'auth', 'the server closed the connection (is this a TLS port? set tls: true)');
  });

  test('a server that answers something other than Redis fails at protocol', async () => {
    const server = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      failed(await runOne({ type: 'redis', host: '127.0.0.1', port, timeout: 2 }), 'protocol', 'the server did not answer with the Redis protocol');
      failed(await runOne({ type: 'redis', host: '127.0.0.1', port, password: PASSWORD, timeout: 2 }), 'auth', 'the server did not answer with the Redis protocol');
    } finally {
      server.close();
    }
  });

  test('a server that accepts and never answers fails within timeout + margin, at the right step', async () => {
    await silentServerCases((port, extra) => ({ type: 'redis', host: '127.0.0.1', port, ...extra }), [
      [{}, 'protocol'],
      [{ password: PASSWORD }, 'auth'],
      [{ tls: true }, 'tls'],
    ], noSecrets, { leaks: true });
  });

  test('no timer or socket is left in this process after passing and failing checks', async () => {
    await assertLeavesNothing([
      { type: 'redis', host: '127.0.0.1', port: auth.port, password: PASSWORD },
      { type: 'redis', host: '127.0.0.1', port: auth.port, password: WRONG },
      { type: 'redis', host: '127.0.0.1', port: auth.port },
      { type: 'redis', host: 'localhost', port: tlsOnly.port, tls: true, ca_file: tls.caFile, password: PASSWORD },
    ]);
  });

  test('a child process running redis checks exits on its own (no reconnect timer survives)', async () => {
    const hole = await blackHole();
    try {
      const out = await assertChildExits([
        [{ type: 'redis', host: '127.0.0.1', port: auth.port, password: PASSWORD }, ['passed', null]],
        [{ type: 'redis', host: '127.0.0.1', port: auth.port, password: WRONG }, ['failed', 'auth']],
        [{ type: 'redis', host: '127.0.0.1', port: auth.port }, ['failed', 'auth']],
        [{ type: 'redis', host: '127.0.0.1', port: open.port, password: WRONG }, ['failed', 'auth']],
        [{ type: 'redis', host: 'localhost', port: tlsOnly.port, tls: true, ca_file: tls.caFile, password: PASSWORD }, ['passed', null]],
        [{ type: 'redis', host: '127.0.0.1', port: tlsOnly.port, password: PASSWORD }, ['failed', 'auth']],
        [{ type: 'redis', host: '127.0.0.1', port: hole.port, timeout: 1 }, ['failed', 'protocol']],
      ]);
      assert.equal(out.stderr, '', 'ioredis printed warnings');
    } finally {
      hole.server.close();
    }
  });
});

// ---------- the shared TLS assertions (issue 5) ----------

import { startTlsServer } from './helpers/peers.js';

describe('redis: min_cert_days and min_tls_version', () => {
  test('min_cert_days 60 fails at cert against the 30-day certificate; 7 passes and the details show the days left', async () => {
    const base = { type: 'redis', host: 'localhost', port: tlsOnly.port, tls: true, ca_file: tls.caFile, password: PASSWORD };
    await certDaysCases((extra) => ({ ...base, ...extra }), { failed, passed });
    // verification off: the would-be failure is noted, the days still checked
    const insecure = await runOne({ ...base, ca_file: undefined, disable_tls_verification: true, min_cert_days: 60 });
    failed(insecure, 'cert', 'certificate expires in 29 days (minimum 60)');
    assert.match(insecure.details?.[1] ?? '', /expires in 29 days; verification disabled \(would fail: self-signed certificate in the chain \(untrusted root CA\)\)$/);
  });

  test('min_tls_version TLSv1.3 fails at tls against a TLS 1.2-only server; TLSv1.2 passes against redis-server', async () => {
    const tls12 = await startTlsServer({ cert: tls.valid.cert, key: tls.valid.key, maxVersion: 'TLSv1.2' });
    try {
      const r = await runOne({ type: 'redis', host: 'localhost', port: tls12.port, tls: true, ca_file: tls.caFile, min_tls_version: 'TLSv1.3' });
      failed(r, 'tls', 'TLS handshake failed: the server does not offer TLSv1.3 or later (min_tls_version)');
    } finally {
      await tls12.close();
    }
    passed(await runOne({ type: 'redis', host: 'localhost', port: tlsOnly.port, tls: true, ca_file: tls.caFile, password: PASSWORD, min_tls_version: 'TLSv1.2' }));
  });
});
