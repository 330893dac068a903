import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { liveHandles, runOne, runYaml } from './helpers/check.js';
import { freeUdpPort, startSilentUdp, startUdp, type UdpPeer } from './helpers/peers.js';
import { keptPeers } from './helpers/peers.js';
import { printable } from '../src/net/printable.js';

let pong: UdpPeer;
let pong6: UdpPeer;
let wrong: UdpPeer;

const keep = keptPeers();

const pingPong = (msg: Buffer) => (msg.toString() === 'ping' ? 'pong' : 'what?');

before(async () => {
  pong = await keep(startUdp('127.0.0.1', pingPong));
  pong6 = await keep(startUdp('::1', pingPong));
  wrong = await keep(startUdp('127.0.0.1', () => Buffer.concat([Buffer.from('PONG\n\t\\'), Buffer.from([0, 0xff]), Buffer.alloc(80, 'z')])));
});

test('udp passes when the reply equals expect, names the check and the address that answered', async () => {
  const r = await runOne({ type: 'udp', host: 'localhost', port: pong.port, send: 'ping', expect: 'pong' });
  assert.equal(r.status, 'passed', r.error);
  assert.equal(r.name, `udp:localhost:${pong.port}`);
  assert.deepEqual(r.details, ['reply from 127.0.0.1 matched (4 bytes)']);
});

test('udp over IPv6 ::1', async () => {
  const r = await runOne({ type: 'udp', host: '::1', port: pong6.port, send: 'ping', expect: 'pong' });
  assert.equal(r.status, 'passed', r.error);
  assert.equal(r.name, `udp:[::1]:${pong6.port}`);
  assert.deepEqual(r.details, ['reply from [::1] matched (4 bytes)']);
});

test('udp fails on a different reply and shows its first 60 bytes, escaped', async () => {
  const [other, asked] = await runYaml(
    `- {type: udp, host: 127.0.0.1, port: ${wrong.port}, send: ping, expect: pong}\n- {type: udp, host: 127.0.0.1, port: ${pong.port}, send: hello, expect: pong}\n`,
  );
  assert.equal(other!.status, 'failed');
  assert.equal(other!.step, 'udp');
  assert.equal(other!.error, `unexpected reply: PONG\\n\\t\\\\\\x00\\xff${'z'.repeat(51)}...`);
  assert.equal(asked!.step, 'udp');
  assert.equal(asked!.error, 'unexpected reply: what?');
});

test('udp: a silent peer is a failure ("timed out"), never a pass, and on time', async () => {
  const silent = await keep(startSilentUdp());
  const t0 = performance.now();
  const r = await runOne({ type: 'udp', host: '127.0.0.1', port: silent.port, send: 'ping', expect: 'pong', timeout: 1 });
  const ms = performance.now() - t0;
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'udp');
  assert.equal(r.error, 'timed out after 1s');
  assert.ok(ms < 3000, `took ${ms} ms`);
  assert.deepEqual(silent.received.map(String), ['ping']);
});

test('udp with a reply expected to a closed port fails at once: refused', async () => {
  const closed = await freeUdpPort();
  const t0 = performance.now();
  const r = await runOne({ type: 'udp', host: '127.0.0.1', port: closed, send: 'ping', expect: 'pong', timeout: 5 });
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'udp');
  assert.equal(r.error, 'connection refused (ICMP port unreachable)');
  assert.ok(performance.now() - t0 < 2000);
});

test('send-only (expect ""): passes when the datagram goes out to a bound, silent socket', async () => {
  const statsd = await keep(startSilentUdp());
  const r = await runOne({ type: 'udp', host: 'localhost', port: statsd.port, send: 'conncheck.test:1|c', expect: '', timeout: 2 });
  assert.equal(r.status, 'passed', r.error);
  assert.deepEqual(r.details, ['sent 18 bytes to 127.0.0.1; no ICMP port unreachable within 500 ms (send-only: delivery is not confirmed)']);
  assert.deepEqual(statsd.received.map(String), ['conncheck.test:1|c']);
});

test('send-only: the grace is half the timeout when that is shorter', async () => {
  const statsd = await keep(startSilentUdp('::1'));
  const r = await runOne({ type: 'udp', host: '::1', port: statsd.port, send: 'x', expect: '', timeout: 0.2 });
  assert.equal(r.status, 'passed', r.error);
  assert.deepEqual(r.details, ['sent 1 bytes to [::1]; no ICMP port unreachable within 100 ms (send-only: delivery is not confirmed)']);
});

test('send-only to a closed port fails: refused (IPv4 and IPv6)', async () => {
  const closed4 = await freeUdpPort('127.0.0.1');
  const closed6 = await freeUdpPort('::1');
  const [v4, v6] = await runYaml(
    `- {type: udp, host: 127.0.0.1, port: ${closed4}, send: "conncheck.test:1|c", expect: ""}\n- {type: udp, host: "::1", port: ${closed6}, send: "x", expect: ""}\n`,
  );
  assert.equal(v4!.status, 'failed');
  assert.equal(v4!.step, 'udp');
  assert.equal(v4!.error, 'connection refused (ICMP port unreachable)');
  assert.equal(v6!.status, 'failed');
  assert.equal(v6!.error, 'connection refused (ICMP port unreachable)');
});

test('udp: numbers in send/expect are text, as conn-check read them; expect is required', async () => {
  const echo = await keep(startUdp('127.0.0.1', (m) => m));
  const r = await runOne({ type: 'udp', host: '127.0.0.1', port: echo.port, send: 42, expect: 42 });
  assert.equal(r.status, 'passed', r.error);
  await assert.rejects(runOne({ type: 'udp', host: '127.0.0.1', port: echo.port, send: 'x' }), /expect/);
});

test('udp: an unresolvable host fails at step resolve', async () => {
  const r = await runOne({ type: 'udp', host: 'no-such-host.invalid', port: 8125, send: 'x', expect: '' });
  assert.equal(r.step, 'resolve');
  assert.match(r.error!, /^dns resolution failed/);
});

test('printable escapes control and non-ASCII bytes and cuts at 60', () => {
  assert.equal(printable(Buffer.from('a\r\n\t\\b')), 'a\\r\\n\\t\\\\b');
  assert.equal(printable(Buffer.from('é')), '\\xc3\\xa9');
  assert.equal(printable(Buffer.alloc(61, 'a')), `${'a'.repeat(60)}...`);
  assert.equal(printable(Buffer.alloc(60, 'a')), 'a'.repeat(60));
});

test('nothing of a udp check stays alive after it: passed, refused, timed out, send-only', async () => {
  const silent = await startSilentUdp();
  const closed = await freeUdpPort();
  const results = await runYaml(
    [
      `- {type: udp, host: 127.0.0.1, port: ${pong.port}, send: ping, expect: pong}`,
      `- {type: udp, host: 127.0.0.1, port: ${closed}, send: ping, expect: pong}`,
      `- {type: udp, host: 127.0.0.1, port: ${silent.port}, send: ping, expect: pong, timeout: 0.3}`,
      `- {type: udp, host: 127.0.0.1, port: ${silent.port}, send: ping, expect: "", timeout: 0.3}`,
    ].join('\n'),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    ['passed', 'failed', 'failed', 'passed'],
  );
  await silent.close();
  await sleep(50);
  const udpHandles = liveHandles().filter((h) => h === 'UDPWrap');
  // only the peers started in before() are left
  assert.equal(udpHandles.length, keep.all.length, `live: ${liveHandles().join(', ')}`);
  assert.ok(!liveHandles().includes('Timeout'), `live: ${liveHandles().join(', ')}`);
});
