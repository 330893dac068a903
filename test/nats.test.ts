import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resultAssertions } from './helpers/results.js';
import { certDaysCases, otherProtocolCase, runOne, runYaml, settledHandles, silentServerCases, SMTP_BANNER } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { tlsMaterial } from './helpers/tls.js';
import { startNats, type NatsInstance } from './helpers/nats.js';
import { listen, assertClientsClosed } from './helpers/listen.js';

const USER = 'alice';
const PASSWORD = 'nats-Secret-5v8n2';
const TOKEN = 'nats-Token-9c4m1x';
const WRONG = 'Wr0ng-nats-pw';

let userAuth: NatsInstance; // --user/--pass
let tokenAuth: NatsInstance; // --auth TOKEN
let tlsAuth: NatsInstance; // --tls, --user/--pass
let open: NatsInstance; // no auth
let tls: ReturnType<typeof tlsMaterial>;

before(async () => {
  tls = tlsMaterial();
  [userAuth, tokenAuth, tlsAuth, open] = await Promise.all([
    startNats({ user: { name: USER, password: PASSWORD } }),
    startNats({ token: TOKEN }),
    startNats({ user: { name: USER, password: PASSWORD }, tls: { certFile: tls.valid.certFile, keyFile: tls.valid.keyFile } }),
    startNats(),
  ]);
});

after(async () => {
  await Promise.all([userAuth?.stop(), tokenAuth?.stop(), tlsAuth?.stop(), open?.stop()]);
});

const { failed, passed, noSecrets } = resultAssertions([PASSWORD, TOKEN, WRONG]);

const user = (port: number, extra: Record<string, unknown> = {}) => ({ type: 'nats', host: '127.0.0.1', port, username: USER, password: PASSWORD, ...extra });

describe('nats against real nats-servers', () => {
  test('right user and password pass; version and round trip are noted', async () => {
    const r = await runOne(user(userAuth.port));
    passed(r);
    assert.equal(r.name, `nats:127.0.0.1:${userAuth.port}`);
    assert.equal(r.details?.[0], 'connected to 127.0.0.1');
    assert.match(r.details?.[1] ?? '', /^NATS server 2\.\d+\.\d+/);
    assert.match(r.details?.[2] ?? '', /^PING\/PONG round trip \d+ ms$/);
  });

  test('right token passes; no credentials against an open server passes (host name, port as a string)', async () => {
    passed(await runOne({ type: 'nats', host: 'localhost', port: String(tokenAuth.port), token: TOKEN }));
    passed(await runOne({ type: 'nats', host: 'localhost', port: open.port }));
  });

  test('wrong password: authentication failed at auth', async () => {
    failed(await runOne(user(userAuth.port, { password: WRONG })), 'auth', `authentication failed for user "${USER}" (wrong password or unknown user)`);
  });

  test('unknown user: authentication failed at auth', async () => {
    failed(await runOne(user(userAuth.port, { username: 'mallory' })), 'auth', 'authentication failed for user "mallory" (wrong password or unknown user)');
  });

  test('wrong token, and no credentials where they are required', async () => {
    failed(await runOne({ type: 'nats', host: '127.0.0.1', port: tokenAuth.port, token: WRONG }), 'auth', 'authentication failed (wrong token)');
    failed(
      await runOne({ type: 'nats', host: '127.0.0.1', port: userAuth.port }),
      'auth',
      'authentication failed (the server requires credentials: set username and password, or token)',
    );
  });

  test('refused port fails at tcp', async () => {
    failed(await runOne(user(await freePort())), 'tcp', 'connection refused');
  });

  test('TLS with the CA passes (by IP and by name); TLS is noted', async () => {
    const r = await runOne(user(tlsAuth.port, { tls: true, ca_file: tls.caFile }));
    passed(r);
    assert.match(r.details?.[2] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    passed(await runOne(user(tlsAuth.port, { host: 'localhost', tls: true, ca_file: tls.caFile })));
  });

  test('TLS without the CA is not trusted; disable_tls_verification passes', async () => {
    failed(await runOne(user(tlsAuth.port, { tls: true })), 'tls', /^certificate not trusted: (unable to verify its issuer|unknown issuer)/);
    const r = await runOne(user(tlsAuth.port, { tls: true, disable_tls_verification: true }));
    passed(r);
    assert.match(r.details?.[2] ?? '', /; verification disabled \(would fail: /);
  });

  test('TLS checks the host name', async () => {
    failed(await runOne(user(tlsAuth.port, { tls: true, ca_file: tls.caFile, server_name: 'wrong.example' })), 'tls', /^certificate does not match the host name/);
  });

  test('wrong password over TLS fails at auth', async () => {
    failed(await runOne(user(tlsAuth.port, { tls: true, ca_file: tls.caFile, password: WRONG })), 'auth', `authentication failed for user "${USER}" (wrong password or unknown user)`);
  });

  test('tls: true against a plain server fails at tls; tls: false against a TLS server says it requires TLS', async () => {
    failed(await runOne(user(userAuth.port, { tls: true, ca_file: tls.caFile })), 'tls', 'the server does not support TLS (tls: true)');
    failed(await runOne(user(tlsAuth.port)), 'tls', 'the server requires TLS (set tls: true)');
  });

  test('a server that accepts and never speaks fails at protocol within timeout + margin', async () => {
    await silentServerCases(user, [
      [{}, 'protocol'],
      [{ tls: true }, 'protocol'],
    ], noSecrets, { leaks: true });
  });

  test('a server that speaks another protocol fails at protocol', async () => {
    await otherProtocolCase(user, SMTP_BANNER, (r) => failed(r, 'protocol', 'the server did not answer with the NATS protocol'));
  });

  test('a server that sends INFO and then never answers CONNECT/PING times out at auth', async () => {
    const mute = await listen((s) => {
      s.resume();
      s.write('INFO {"server_id":"X","version":"9.9.9","proto":1,"max_payload":1048576}\r\n');
    });
    try {
      const t0 = performance.now();
      const r = await runOne(user(mute.port, { timeout: 1 }));
      failed(r, 'auth', 'timed out after 1s');
      assert.ok(performance.now() - t0 < 3000);
      assert.equal(r.details?.[1], 'NATS server 9.9.9');
      await assertClientsClosed(mute.sockets);
    } finally {
      mute.server.close();
    }
  });

  test('invalid option combinations are config errors', async () => {
    await assert.rejects(runOne({ type: 'nats', host: '127.0.0.1', password: PASSWORD }), /username: missing \(expected a username with password\)/);
    await assert.rejects(runOne({ type: 'nats', host: '127.0.0.1', username: USER, token: TOKEN }), /token: expected either token or username\/password, got both/);
  });

  test('the default port is 4222 (checked against a refused port only through the name)', async () => {
    const [r] = await runYaml('- type: nats\n  host: 127.0.0.1\n  timeout: 1\n', { dryRun: true });
    assert.equal(r!.name, 'nats:127.0.0.1:4222');
  });

  test('nothing of the checks keeps the process alive', async () => {
    passed(await runOne(user(tlsAuth.port, { tls: true, ca_file: tls.caFile })));
    failed(await runOne(user(userAuth.port, { password: WRONG })), 'auth', /^authentication failed/);
    assert.deepEqual(await settledHandles(), []);
  });
});

// ---------- the shared TLS assertions (issue 5) ----------

describe('nats: min_cert_days and min_tls_version', () => {
  test('min_cert_days 60 fails at cert before the login; 7 passes and the details show the days left', async () => {
    await certDaysCases((extra) => user(tlsAuth.port, { tls: true, ca_file: tls.caFile, min_tls_version: 'TLSv1.2', ...extra }), { failed, passed });
  });
});
