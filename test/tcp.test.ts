import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { runOne, runYaml } from './helpers/check.js';
import { freePort } from './helpers/run.js';

function listen(host: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => s.destroy());
    server.once('error', reject);
    server.listen(0, host, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

test('tcp passes against a listener and names the address that answered', async () => {
  const { server, port } = await listen('127.0.0.1');
  try {
    const r = await runOne({ type: 'tcp', host: 'localhost', port });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `tcp:localhost:${port}`);
    assert.deepEqual(r.details, ['connected to 127.0.0.1']);
  } finally {
    server.close();
  }
});

test('tcp over IPv6 only: localhost passes when only ::1 listens', async () => {
  const { server, port } = await listen('::1');
  try {
    const r = await runOne({ type: 'tcp', host: '::1', port });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.target, `[::1]:${port}`);
  } finally {
    server.close();
  }
});

test('tcp: refused and unresolvable each say which', async () => {
  const closed = await freePort();
  // (the system resolver's NXDOMAIN for .invalid is what this waits for: it took over 5 s once
  // on a loaded CI machine, so the deadline is well past it; an answer ends the wait at once)
  const [refused, dns] = await runYaml(`- {type: tcp, host: 127.0.0.1, port: ${closed}}\n- {type: tcp, host: no-such-host.invalid, port: 80}\n`, {
    connectTimeoutS: 30,
  });
  assert.equal(refused!.status, 'failed');
  assert.equal(refused!.step, 'tcp');
  assert.equal(refused!.error, 'connection refused');
  assert.equal(dns!.step, 'resolve');
  assert.match(dns!.error!, /^dns resolution failed/);
});

test('all_addresses: every resolved address must accept; a half-broken dual stack fails', async () => {
  const { server, port } = await listen('127.0.0.1');
  try {
    // localhost resolves to 127.0.0.1 (and ::1 where the resolver says so): ::1 is not listening
    const { resolveHost } = await import('../src/net/dial.js');
    const addrs = await resolveHost('localhost', new AbortController().signal);
    const r = await runOne({ type: 'tcp', host: 'localhost', port, all_addresses: true });
    if (addrs.length > 1) {
      assert.equal(r.status, 'failed');
      assert.match(r.error!, /^\[::1\]: connection refused \(1 of 2 addresses failed\)$/);
    } else {
      assert.equal(r.status, 'passed', r.error);
    }
    const one = await runOne({ type: 'tcp', host: '127.0.0.1', port, all_addresses: true });
    assert.equal(one.status, 'passed');
    assert.deepEqual(one.details, ['127.0.0.1: connected']);
  } finally {
    server.close();
  }
  const closed = await freePort();
  const r = await runOne({ type: 'tcp', host: '127.0.0.1', port: closed, all_addresses: true });
  assert.deepEqual([r.status, r.step, r.error], ['failed', 'tcp', '127.0.0.1: connection refused (1 of 1 addresses failed)']);
});

test('disable_tls_verification marks the result; reports show it', async () => {
  const { renderSummary } = await import('../src/report/summary.js');
  const r = await runOne({ type: 'tls', host: '127.0.0.1', port: await freePort(), disable_tls_verification: true });
  assert.equal(r.tls_verification, 'disabled');
  assert.match(renderSummary([r], 1), /🔓 <b>TLS not verified<\/b>/);
  const plain = await runOne({ type: 'tcp', host: '127.0.0.1', port: await freePort() });
  assert.equal(plain.tls_verification, undefined);
});

test('a name the resolver does not answer for in time fails at resolve, not tcp (tcp, and a check on the kit)', async () => {
  // getaddrinfo runs on libuv's thread pool: four long key derivations occupy all of its threads
  // (4 by default), so the lookup of "localhost" waits past the 1 s deadline, as a stalled
  // resolver would make it wait.
  const { pbkdf2 } = await import('node:crypto');
  const checks = (host: string) => JSON.stringify([
    { type: 'tcp', host, port: 9, timeout: 1 },
    { type: 'redis', host, port: 9, timeout: 1 },
  ]);
  // Loaded first (a module load reads files on the same thread pool).
  await runYaml(checks('127.0.0.1'));
  const size = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const busy = Array.from({ length: size }, () => new Promise((r) => pbkdf2('p', 's', 4_000_000, 64, 'sha512', r)));
  const started = performance.now();
  const results = await runYaml(checks('localhost'));
  const blockedFor = performance.now() - started;
  await Promise.all(busy);
  assert.ok(blockedFor < 3000, `the run took ${Math.round(blockedFor)} ms: the deadline did not end the lookup`);
  for (const r of results) {
    assert.equal(r.status, 'failed', JSON.stringify(r));
    assert.equal(r.step, 'resolve', JSON.stringify(r));
    assert.equal(r.error, 'timed out after 1s', JSON.stringify(r));
  }
});
