/** net/bounded.ts: the read budget on real sockets, and the frame rules across chunk boundaries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { attemptBudget, capReads, decompressCapped, lengthPrefixedFrames, readLimitTripped, respFrames, setReadBudget, type ReadLimitError } from '../src/net/bounded.js';
import { connectTcp } from '../src/net/dial.js';
import { pgFrames } from '../src/net/pg-wire.js';
import { startFlood } from './helpers/hostile.js';

test('a socket stops at the budget: the check is told once, the stream is destroyed, nothing past the cap is delivered', async () => {
  const peer = await startFlood('', 'x');
  try {
    const ac = new AbortController();
    const trips: ReadLimitError[] = [];
    setReadBudget(ac.signal, 256 * 1024, (err) => trips.push(err));
    const s = capReads(connect(peer.port, '127.0.0.1'), ac.signal);
    let got = 0;
    s.on('data', (d: Buffer) => (got += d.length));
    await new Promise((r) => s.once('close', r));
    assert.ok(got <= 256 * 1024, `delivered ${got} bytes`);
    assert.equal(trips.length, 1);
    assert.equal(trips[0]!.message, 'the server sent more than 256 KiB (the read limit for this check)');
    assert.equal(readLimitTripped(ac.signal), trips[0]);
  } finally {
    await peer.close();
  }
});

/** Feeds `bytes` to an inspector in every split into two chunks; returns the distinct verdicts. */
function everySplit(inspect: () => (b: Buffer) => string | undefined, bytes: Buffer): Set<string | undefined> {
  const seen = new Set<string | undefined>();
  for (let i = 0; i <= bytes.length; i++) {
    const f = inspect();
    seen.add(f(bytes.subarray(0, i)) ?? f(bytes.subarray(i)));
  }
  return seen;
}

test('MongoDB framing: a zero or huge length is caught wherever the chunks split; well-formed messages pass', () => {
  const rule = () => lengthPrefixedFrames({ protocol: 'MongoDB', min: 16, max: 1024 });
  const msg = (len: number) => {
    const b = Buffer.alloc(Math.max(len, 4));
    b.writeUInt32LE(len);
    return b;
  };
  assert.deepEqual(everySplit(rule, Buffer.concat([msg(20), msg(16), msg(0)])), new Set(['the server sent a malformed MongoDB message (length 0)']));
  assert.deepEqual(everySplit(rule, Buffer.concat([msg(20), msg(2000)])), new Set(['the server announced a MongoDB message of 2000 bytes (more than 1 KiB)']));
  assert.deepEqual(everySplit(rule, Buffer.concat([msg(20), msg(16), msg(1024)])), new Set([undefined]));
});

test("PostgreSQL framing (libpq's rules): a length below 4, a short-type message over 30000 bytes, any over the read limit; what a server answers first", () => {
  const msg = (type: string, length: number, body = Math.max(0, Math.min(length, 64) - 4)) => Buffer.concat([Buffer.from(type), Buffer.from([length >>> 24, (length >>> 16) & 255, (length >>> 8) & 255, length & 255]), Buffer.alloc(body)]);
  const plain = () => pgFrames(false, 1024 * 1024);
  const ssl = () => pgFrames(true, 1024 * 1024);
  // a login's worth: AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery, then a long DataRow
  const login = Buffer.concat([msg('R', 8), msg('S', 20), msg('K', 12), msg('Z', 5), msg('T', 40), msg('D', 20), msg('C', 13), msg('Z', 5)]);
  assert.deepEqual(everySplit(plain, login), new Set([undefined]));
  assert.deepEqual(everySplit(plain, Buffer.concat([msg('R', 8), msg('R', 2147483647)])), new Set(['the server announced a PostgreSQL message of 2147483647 bytes (more than the 30000 bytes libpq accepts for one of type "R")']));
  assert.deepEqual(everySplit(plain, Buffer.concat([msg('R', 8), msg('S', 0)])), new Set(['the server sent a message the client could not read (a message length of 0)']));
  // the seven long types may be longer, up to the read limit
  const bigRow = msg('D', 40000, 39996);
  assert.deepEqual(everySplit(plain, Buffer.concat([msg('R', 8), bigRow])), new Set([undefined]));
  assert.equal(plain()(Buffer.concat([msg('R', 8), msg('E', 2 * 1024 * 1024)])), 'the server announced a PostgreSQL message of 2097152 bytes (more than the 1 MiB read limit for this check)');
  // the first bytes: an HTTP or SSH port is no PostgreSQL server
  assert.equal(plain()(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), 'the server does not speak PostgreSQL: its first bytes are "HTTP/1.1 400 Bad Request\\r\\n"');
  assert.equal(ssl()(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')), 'the server does not speak PostgreSQL: its first bytes are "SSH-2.0-OpenSSH_9.2\\r\\n"');
  // after an 'S', TLS: not PostgreSQL's messages (its plain text gets an inspector of its own)
  const s = ssl();
  assert.equal(s(Buffer.from('S')), undefined);
  assert.equal(s(Buffer.from([0x16, 0x03, 0x03, 0xff, 0xff, 0xff, 0xff])), undefined);
  // 'N' alone, or an ErrorResponse, answers an SSLRequest; 'N' with more in the same chunk does not
  assert.equal(ssl()(Buffer.from('N')), undefined);
  assert.deepEqual(everySplit(ssl, msg('E', 30)), new Set([undefined]));
  assert.equal(ssl()(Buffer.from('NR')), 'the server does not speak PostgreSQL: its first bytes are "NR"');
});

test('RESP: element counts, string lengths and line lengths are caught wherever the chunks split', () => {
  const rule = () => respFrames({ maxElements: 10, maxBulk: 100, maxLine: 50 });
  const ok = Buffer.from(`*2\r\n$5\r\nhello\r\n:1\r\n+PONG\r\n$-1\r\n*-1\r\n%1\r\n+a\r\n+b\r\n`);
  assert.deepEqual(everySplit(rule, ok), new Set([undefined]));
  assert.deepEqual(everySplit(rule, Buffer.from('+OK\r\n*1000000000\r\n:1\r\n')), new Set(['the server announced a Redis reply of 1000000000 elements (more than 10)']));
  assert.deepEqual(everySplit(rule, Buffer.from('$101\r\n')), new Set(['the server announced a Redis string of 101 bytes (more than 100 bytes)']));
  // a bulk payload may hold CRLF and '*' without being read as headers
  assert.deepEqual(everySplit(rule, Buffer.from('$12\r\n*99999\r\n$999\r\n+OK\r\n')), new Set([undefined]));
  assert.deepEqual(everySplit(rule, Buffer.from(`-ERR ${'x'.repeat(60)}`)), new Set(['the server sent a Redis reply line longer than 50 bytes']));
});

test('decompression stops at the limit of decoded bytes (1 MiB of gzip that decodes to 1 GiB)', async () => {
  const member = gzipSync(Buffer.alloc(16 << 20), { level: 9 });
  const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
  const t0 = performance.now();
  const { data, truncated } = await decompressCapped(bomb, 'gzip', 1024 * 1024, new AbortController().signal);
  assert.equal(data.length, 1024 * 1024);
  assert.equal(truncated, true);
  // (a hang guard, not a benchmark: decoding all of it takes seconds and a gigabyte)
  assert.ok(performance.now() - t0 < 5000);
  const plain = await decompressCapped(gzipSync('hello'), 'gzip', 1024, new AbortController().signal);
  assert.deepEqual([plain.data.toString(), plain.truncated], ['hello', false]);
  const notGzip = await decompressCapped(Buffer.from('not gzip'), 'gzip', 1024, new AbortController().signal);
  assert.equal(notGzip.data.toString(), 'not gzip');
});

test("a connection being opened hears an attempt's abort through the attempt's budget (no listener on its signal), any other signal's through a listener", async () => {
  const server = createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const reason = new Error('timed out');
    const attempt = new AbortController();
    const budget = attemptBudget(attempt.signal, 1024, () => {});
    const opening = connectTcp('127.0.0.1', port, attempt.signal);
    assert.equal(getEventListeners(attempt.signal, 'abort').length, 0);
    attempt.abort(reason);
    budget.aborted();
    await assert.rejects(opening, (err) => err === reason);

    const other = new AbortController();
    const opening2 = connectTcp('127.0.0.1', port, other.signal);
    assert.equal(getEventListeners(other.signal, 'abort').length, 1);
    other.abort(reason);
    await assert.rejects(opening2, (err) => err === reason);

    // connected: nothing is left watching, and a later abort changes nothing
    const third = new AbortController();
    const budget3 = attemptBudget(third.signal, 1024, () => {});
    const { socket } = await connectTcp('127.0.0.1', port, third.signal);
    socket.destroy();
    third.abort(reason);
    budget3.aborted();
  } finally {
    server.close();
  }
});
