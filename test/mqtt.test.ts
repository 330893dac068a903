import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Socket } from 'node:net';
import { resultAssertions } from './helpers/results.js';
import { certDaysCases, otherProtocolCase, runOne, runYaml, settledHandles, silentServerCases, SSH_BANNER } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { tlsMaterial } from './helpers/tls.js';
import { startMosquitto, type MosquittoInstance } from './helpers/mosquitto.js';
import { listen as listenTracked, assertClientsClosed } from './helpers/listen.js';

const USER = 'alice';
const PASSWORD = 'mqtt-Secret-2h7d4';
const LIMITED = 'limited';
const LIMITED_PASSWORD = 'mqtt-Limited-6t1p8';
const WRONG = 'Wr0ng-mqtt-pw';

let broker: MosquittoInstance;
let tls: ReturnType<typeof tlsMaterial>;

before(async () => {
  tls = tlsMaterial();
  broker = await startMosquitto({
    users: [
      { name: USER, password: PASSWORD },
      { name: LIMITED, password: LIMITED_PASSWORD },
    ],
    // alice may do anything; limited may only read sensors/# (its publishes are dropped)
    acl: `user ${USER}\ntopic readwrite #\nuser ${LIMITED}\ntopic read sensors/#\n`,
    tls: { certFile: tls.valid.certFile, keyFile: tls.valid.keyFile },
  });
});

after(async () => {
  await broker?.stop();
});

/** Reads (and drops) what arrives, so that the client's close is noticed. */
const listen = (onSocket: (s: Socket) => void) =>
  listenTracked((s) => {
    s.resume();
    onSocket(s);
  });

const { failed, passed, noSecrets } = resultAssertions([PASSWORD, LIMITED_PASSWORD, WRONG]);

const alice = (port: number, extra: Record<string, unknown> = {}) => ({ type: 'mqtt', host: '127.0.0.1', port, username: USER, password: PASSWORD, ...extra });

describe('mqtt against a real mosquitto', () => {
  test('right credentials pass: CONNACK, then a message published and received', async () => {
    const r = await runOne(alice(broker.port));
    passed(r);
    assert.equal(r.name, `mqtt:127.0.0.1:${broker.port}`);
    assert.equal(r.details?.[0], 'connected to 127.0.0.1');
    assert.match(r.details?.[1] ?? '', /^published and received a message on conn-check\/conn-check-[0-9a-f]{12}\/[0-9a-f]{12} in \d+ ms$/);
  });

  test('client_id and topic are used as given (host name, port as a string)', async () => {
    const r = await runOne(alice(broker.port, { host: 'localhost', port: String(broker.port), client_id: 'ci-probe-1', topic: 'health/ci' }));
    passed(r);
    assert.match(r.details?.[1] ?? '', /^published and received a message on health\/ci in \d+ ms$/);
  });

  test('wrong password: the broker refuses the CONNECT (mosquitto answers "not authorized")', async () => {
    failed(await runOne(alice(broker.port, { password: WRONG })), 'auth', `not authorized (user "${USER}": wrong password, unknown user or not allowed)`);
  });

  test('unknown user and no credentials fail at auth', async () => {
    failed(await runOne(alice(broker.port, { username: 'mallory' })), 'auth', 'not authorized (user "mallory": wrong password, unknown user or not allowed)');
    failed(await runOne({ type: 'mqtt', host: '127.0.0.1', port: broker.port }), 'auth', 'not authorized (the broker requires credentials)');
  });

  test('a user whose publishes the ACL drops fails at query, with a hint', async () => {
    const r = await runOne({ type: 'mqtt', host: '127.0.0.1', port: broker.port, username: LIMITED, password: LIMITED_PASSWORD, topic: 'sensors/t1', timeout: 1 });
    failed(r, 'query', 'timed out after 1s');
    assert.equal(r.details?.[1], 'the message published to sensors/t1 never came back (may this user publish to it?)');
  });

  test('refused port fails at tcp', async () => {
    failed(await runOne(alice(await freePort())), 'tcp', 'connection refused');
  });

  test('TLS with the CA passes (by IP and by name); TLS is noted', async () => {
    const r = await runOne(alice(broker.tlsPort, { tls: true, ca_file: tls.caFile }));
    passed(r);
    assert.match(r.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    passed(await runOne(alice(broker.tlsPort, { host: 'localhost', tls: 'true', ca_file: tls.caFile })));
  });

  test('TLS without the CA is not trusted; disable_tls_verification passes', async () => {
    failed(await runOne(alice(broker.tlsPort, { tls: true })), 'tls', /^certificate not trusted: (unable to verify its issuer|unknown issuer)/);
    const r = await runOne(alice(broker.tlsPort, { tls: true, disable_tls_verification: true }));
    passed(r);
    assert.equal(r.details?.[1]?.includes('; verification disabled (would fail: '), true, JSON.stringify(r.details));
  });

  test('TLS checks the host name', async () => {
    failed(await runOne(alice(broker.tlsPort, { tls: true, ca_file: tls.caFile, server_name: 'wrong.example' })), 'tls', /^certificate does not match the host name/);
  });

  test('wrong password over TLS fails at auth', async () => {
    failed(await runOne(alice(broker.tlsPort, { tls: true, ca_file: tls.caFile, password: WRONG })), 'auth', `not authorized (user "${USER}": wrong password, unknown user or not allowed)`);
  });

  test('tls: true against the plain listener fails at tls; tls: false against the TLS listener fails at auth with a hint', async () => {
    failed(await runOne(alice(broker.port, { tls: true, ca_file: tls.caFile, timeout: 3 })), 'tls', /^connection (reset by peer|closed during the TLS handshake) \(is this a plain MQTT port\? set tls: false\)$/);
    failed(
      await runOne(alice(broker.tlsPort, { timeout: 3 })),
      'auth',
      /^(the server closed the connection|connection reset by peer) before CONNACK \(is this a TLS port\? set tls: true\)$/,
    );
  });

  test('a server that accepts and never speaks fails within timeout + margin (auth; tls when tls is set)', async () => {
    await silentServerCases(alice, [
      [{}, 'auth'],
      [{ tls: true }, 'tls'],
    ], noSecrets, { leaks: true });
  });

  test('a server that speaks another protocol fails at auth: not MQTT', async () => {
    await otherProtocolCase(alice, SSH_BANNER, (r) => failed(r, 'auth', 'the server did not answer with the MQTT protocol'));
  });

  test('invalid options are config errors; the default port is 1883', async () => {
    await assert.rejects(runOne({ type: 'mqtt', host: '127.0.0.1', password: PASSWORD }), /username: missing \(expected a username with password\)/);
    await assert.rejects(runOne({ type: 'mqtt', host: '127.0.0.1', topic: 'a/#' }), /topic: expected a topic name without wildcards/);
    const [r] = await runYaml('- type: mqtt\n  host: 127.0.0.1\n', { dryRun: true });
    assert.equal(r!.name, 'mqtt:127.0.0.1:1883');
  });

  test('nothing of the checks keeps the process alive', async () => {
    passed(await runOne(alice(broker.tlsPort, { tls: true, ca_file: tls.caFile })));
    failed(await runOne(alice(broker.port, { password: WRONG })), 'auth', /^not authorized/);
    assert.deepEqual(await settledHandles(), []);
  });
});

// ---------- the shared TLS assertions (issue 5) ----------

describe('mqtt: min_cert_days and min_tls_version', () => {
  test('min_cert_days 60 fails at cert before CONNECT; 7 passes and the details show the days left', async () => {
    await certDaysCases((extra) => alice(broker.tlsPort, { tls: true, ca_file: tls.caFile, min_tls_version: 'TLSv1.2', ...extra }), { failed, passed });
  });
});
