import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeaks, liveHandles, runOne, runYaml, silentServerCases } from './helpers/check.js';
import { assertNoSecrets, resultAssertions } from './helpers/results.js';
import { freePort } from './helpers/run.js';
import { rabbitAvailable, startRabbit, type Rabbit } from './helpers/rabbitmq.js';
import { tlsMaterial } from './helpers/tls.js';
import { listen, close } from './helpers/listen.js';

describe('amqp against a real RabbitMQ node', { skip: rabbitAvailable() ? false : 'rabbitmq-server is not installed' }, () => {
  let rmq: Rabbit;
  const tls = tlsMaterial();
  before(async () => {
    rmq = await startRabbit();
  });
  after(async () => {
    await rmq?.stop();
  });

  const check = (extra: Record<string, unknown>) => ({
    type: 'amqp',
    host: '127.0.0.1',
    port: rmq.port,
    username: rmq.user,
    password: rmq.password,
    vhost: rmq.vhost,
    use_tls: false,
    ...extra,
  });

  test('plain AMQP: right credentials pass; server and address noted; port as a string works', async () => {
    const handles = liveHandles();
    const r = await runOne(check({ port: String(rmq.port) }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `amqp:127.0.0.1:${rmq.port}`);
    assert.equal(r.details!.length, 2);
    assert.equal(r.details![0], 'connected to 127.0.0.1');
    assert.match(r.details![1]!, /^RabbitMQ \d+\.\d+\.\d+$/);
    assertNoSecrets(r, [rmq.password]);
    await assertNoLeaks(handles);
  });

  test('a user and password that need URL escaping pass', async () => {
    const r = await runOne(check({ username: rmq.oddUser, password: rmq.oddPassword }));
    assert.equal(r.status, 'passed', r.error);
    assertNoSecrets(r, [rmq.oddPassword]);
  });

  test('TLS (use_tls: true): the whole session runs over TLS, verified with ca_file', async () => {
    const handles = liveHandles();
    const [byName, byIp] = await runYaml(
      `- {type: amqp, host: localhost, port: ${rmq.tlsPort}, username: ${rmq.user}, password: "${rmq.password}", vhost: ${rmq.vhost}, use_tls: true, ca_file: "${tls.caFile}"}\n` +
        `- {type: amqp, host: 127.0.0.1, port: ${rmq.tlsPort}, username: ${rmq.user}, password: "${rmq.password}", vhost: ${rmq.vhost}, use_tls: true, ca_file: "${tls.caFile}"}\n`,
    );
    for (const r of [byName, byIp]) {
      assert.equal(r!.status, 'passed', r!.error);
      assert.equal(r!.details![0], 'connected to 127.0.0.1');
      assert.match(r!.details![1]!, /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
      assert.match(r!.details![2]!, /^RabbitMQ /);
      assertNoSecrets(r, [rmq.password]);
    }
    await assertNoLeaks(handles);
  });

  test('TLS with an untrusted certificate fails at tls; disable_tls_verification passes', async () => {
    const [untrusted, unverified] = await runYaml(
      `- {type: amqp, host: localhost, port: ${rmq.tlsPort}, username: ${rmq.user}, password: "${rmq.password}", vhost: ${rmq.vhost}, use_tls: true}\n` +
        `- {type: amqp, host: localhost, port: ${rmq.tlsPort}, username: ${rmq.user}, password: "${rmq.password}", vhost: ${rmq.vhost}, use_tls: true, disable_tls_verification: true}\n`,
    );
    assert.equal(untrusted!.status, 'failed');
    assert.equal(untrusted!.step, 'tls');
    // RabbitMQ sends its CA in the chain: Node calls that a self-signed certificate in the chain
    assert.equal(untrusted!.error, 'self-signed certificate in the chain (untrusted root CA)');
    assert.equal(unverified!.status, 'passed', unverified!.error);
    assertNoSecrets(untrusted, [rmq.password]);
  });

  test('wrong password and unknown user: authentication failed, no password in the result', async () => {
    const handles = liveHandles();
    const wrongPassword = `${rmq.password}-wrong`;
    const [wrong, unknown] = await runYaml(
      JSON.stringify([check({ password: wrongPassword }), check({ username: 'ghost', password: rmq.password })]),
    );
    assert.equal(wrong!.status, 'failed');
    assert.equal(wrong!.step, 'auth');
    assert.equal(wrong!.error, `authentication failed for user ${rmq.user}`);
    assert.equal(unknown!.step, 'auth');
    assert.equal(unknown!.error, 'authentication failed for user ghost');
    assertNoSecrets(wrong, [wrongPassword, rmq.password]);
    assertNoSecrets(unknown, [rmq.password]);
    await assertNoLeaks(handles);
  });

  test('a vhost the user may not use, and one that does not exist: access refused', async () => {
    const handles = liveHandles();
    const [denied, missing] = await runYaml(JSON.stringify([check({ vhost: rmq.deniedVhost }), check({ vhost: 'no-such-vhost' })]));
    assert.equal(denied!.status, 'failed');
    assert.equal(denied!.step, 'auth');
    assert.equal(denied!.error, `access to vhost ${rmq.deniedVhost} refused for user ${rmq.user} (no such vhost, or no permissions on it)`);
    assert.equal(missing!.step, 'auth');
    assert.equal(missing!.error, `access to vhost no-such-vhost refused for user ${rmq.user} (no such vhost, or no permissions on it)`);
    assertNoSecrets(denied, [rmq.password]);
    await assertNoLeaks(handles);
  });

  test('use_tls: true against the plain AMQP port fails at tls', async () => {
    const r = await runOne(check({ use_tls: true, ca_file: tls.caFile }));
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'tls');
    assert.equal(r.error, 'TLS handshake failed: the server did not answer with TLS (is this a plain-text port?)');
    assertNoSecrets(r, [rmq.password]);
  });

  test('use_tls: false against the TLS port fails at auth with a hint', async () => {
    const r = await runOne(check({ port: rmq.tlsPort, timeout: 5 }));
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'auth');
    assert.equal(r.error, 'the server closed the connection during the AMQP handshake (if this is a TLS port, set use_tls: true)');
    assertNoSecrets(r, [rmq.password]);
  });
});

describe('amqp failures without a broker', () => {
  const PASSWORD = 'amqp-Secret-5521';
  const { failed, noSecrets } = resultAssertions([PASSWORD]);
  const amqp = (port: number, extra: Record<string, unknown> = {}) => ({ type: 'amqp', host: '127.0.0.1', port, username: 'u', password: PASSWORD, ...extra });

  test('refused port', async () => {
    failed(await runOne(amqp(await freePort())), 'tcp', 'connection refused');
  });

  test('a server that accepts and never speaks: timed out within the deadline, at tls or auth', async () => {
    await silentServerCases(amqp, [[{ use_tls: true }, 'tls'], [{ use_tls: false }, 'auth']], noSecrets, { leaks: true });
  });

  test('a server that answers something else: not an AMQP server', async () => {
    const http = await listen((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    try {
      failed(await runOne(amqp(http.port, { use_tls: false, timeout: 3 })), 'auth', 'not an AMQP 0-9-1 server (unexpected reply to the protocol header)');
    } finally {
      await close(http);
    }
  });
});

