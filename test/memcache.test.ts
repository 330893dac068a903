import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { assertNoLeaks, liveHandles, runOne, runYaml } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { existsSync } from 'node:fs';
import { MEMCACHED, saslAvailable, startMemcached, type Memcached } from './helpers/memcached.js';
import { tlsMaterial } from './helpers/tls.js';
import { listen, close, assertClientsClosed } from './helpers/listen.js';

const PASSWORD = 'mc-Secret-9431';
/** The handles a memcache check must not leave open (TLSWrap is not counted: memcache has no TLS). */
const PLAIN_KINDS = ['TCPSocketWrap', 'Timeout', 'ConnectWrap'];

/** A TCP server: `mode` says what it does with each connection. */
/** The black hole must see each connection closed by the check (not by the server). */
const noMemcached = existsSync(MEMCACHED) ? false : `${MEMCACHED} is not installed`;

describe('memcache against a real memcached (no auth)', { skip: noMemcached }, () => {
  let mc: Memcached;
  before(async () => {
    mc = await startMemcached();
  });
  after(async () => {
    await mc?.stop();
  });

  test('passes, notes the version; the memcached alias works', async () => {
    const handles = liveHandles();
    const [a, b] = await runYaml(`- {type: memcache, host: 127.0.0.1, port: ${mc.port}}\n- {type: memcached, host: localhost, port: "${mc.port}"}\n`);
    assert.equal(a!.status, 'passed', a!.error);
    assert.equal(a!.name, `memcache:127.0.0.1:${mc.port}`);
    assert.equal(a!.details!.length, 2);
    assert.equal(a!.details![0], 'connected to 127.0.0.1');
    assert.match(a!.details![1]!, /^memcached \d+\.\d+\.\d+$/);
    assert.equal(b!.status, 'passed', b!.error);
    assert.equal(b!.type, 'memcache');
    await assertNoLeaks(handles, PLAIN_KINDS);
  });

  test('credentials against a server without SASL: fails at auth', async () => {
    const r = await runOne({ type: 'memcache', host: '127.0.0.1', port: mc.port, username: 'u', password: PASSWORD });
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'auth');
    assert.equal(r.error, 'the server does not support SASL authentication (started without -S?)');
    assert.ok(!JSON.stringify(r).includes(PASSWORD));
  });
});

describe('memcache with SASL (memcached -S)', { skip: noMemcached || (saslAvailable() ? false : 'perl DB_File missing: cannot write a sasldb') }, () => {
  let mc: Memcached;
  before(async () => {
    mc = await startMemcached({ sasl: { checker: PASSWORD } });
  });
  after(async () => {
    await mc?.stop();
  });

  test('right credentials pass and the version is noted', async () => {
    const handles = liveHandles();
    const r = await runOne({ type: 'memcache', host: 'localhost', port: mc.port, username: 'checker', password: PASSWORD });
    assert.equal(r.status, 'passed', r.error);
    assert.match(r.details![1]!, /^memcached \d+\.\d+\.\d+/);
    await assertNoLeaks(handles, PLAIN_KINDS);
  });

  test('wrong password and unknown user fail at auth without the password', async () => {
    const handles = liveHandles();
    const [wrong, unknown] = await runYaml(
      `- {type: memcache, host: 127.0.0.1, port: ${mc.port}, username: checker, password: "${PASSWORD}x"}\n` +
        `- {type: memcache, host: 127.0.0.1, port: ${mc.port}, username: nobody, password: "${PASSWORD}"}\n`,
    );
    assert.equal(wrong!.status, 'failed');
    assert.equal(wrong!.step, 'auth');
    assert.equal(wrong!.error, 'authentication failed for user checker');
    assert.equal(unknown!.step, 'auth');
    assert.equal(unknown!.error, 'authentication failed for user nobody');
    for (const r of [wrong, unknown]) assert.ok(!JSON.stringify(r).includes(PASSWORD));
    await assertNoLeaks(handles, PLAIN_KINDS);
  });

  test('no credentials against a SASL server: says SASL is needed', async () => {
    const r = await runOne({ type: 'memcache', host: '127.0.0.1', port: mc.port });
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'protocol');
    assert.equal(r.error, 'the server closed the connection without answering (a memcached with SASL needs username and password)');
  });
});

describe('memcache failures without a memcached', () => {
  test('refused port', async () => {
    const r = await runOne({ type: 'memcache', host: '127.0.0.1', port: await freePort(), username: 'u', password: PASSWORD });
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'tcp');
    assert.equal(r.error, 'connection refused');
    assert.ok(!JSON.stringify(r).includes(PASSWORD));
  });

  test('a server that never speaks: times out within the deadline, at protocol (or auth)', async () => {
    const hole = await listen((s) => s.resume()); // reads (so it sees the close), never answers
    try {
      for (const [opts, step] of [
        [{}, 'protocol'],
        [{ username: 'u', password: PASSWORD }, 'auth'],
      ] as const) {
        const t0 = performance.now();
        const r = await runOne({ type: 'memcache', host: '127.0.0.1', port: hole.port, timeout: 1, ...opts });
        const ms = performance.now() - t0;
        assert.equal(r.status, 'failed');
        assert.equal(r.step, step);
        assert.equal(r.error, 'timed out after 1s');
        assert.ok(ms < 3000, `took ${ms} ms`);
        assert.ok(!JSON.stringify(r).includes(PASSWORD));
        await assertClientsClosed(hole.sockets);
      }
    } finally {
      await close(hole);
    }
  });

  test('a server answering something else: not a memcached server', async () => {
    const http = await listen((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    try {
      const [text, bin] = await runYaml(
        `- {type: memcache, host: 127.0.0.1, port: ${http.port}}\n- {type: memcache, host: 127.0.0.1, port: ${http.port}, username: u, password: "${PASSWORD}"}\n`,
      );
      assert.equal(text!.step, 'protocol');
      assert.equal(text!.error, 'not a memcached server (unexpected reply "HTTP/1.1 400 Bad Request")');
      assert.equal(bin!.step, 'auth');
      assert.equal(bin!.error, 'not a memcached server (unexpected reply "HTTP/1.1 400 Bad Request\\r\\nContent-Length...")');
      assert.ok(!JSON.stringify(bin).includes(PASSWORD));
    } finally {
      await close(http);
    }
  });

  test('a TLS-only port (no TLS option for memcache): not a memcached server or closed, at protocol', async () => {
    const { valid } = tlsMaterial();
    const { createServer: createTlsServer } = await import('node:tls');
    const server = createTlsServer({ cert: valid.cert, key: valid.key });
    server.on('tlsClientError', () => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await runOne({ type: 'memcache', host: '127.0.0.1', port, timeout: 2 });
      assert.equal(r.status, 'failed');
      assert.equal(r.step, 'protocol');
      assert.match(r.error!, /^not a memcached server \(unexpected reply "\\x15\\x03|^the server closed the connection without answering/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('username without password is a config error', async () => {
    await assert.rejects(runOne({ type: 'memcache', host: '127.0.0.1', port: 11211, username: 'u' }), /password: missing \(expected a password with username/);
    await assert.rejects(runOne({ type: 'memcache', host: '127.0.0.1', port: 11211, password: PASSWORD }), /username: missing/);
  });
});
