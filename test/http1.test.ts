/**
 * net/http1.ts, the direct client's one exchange over a given socket: the answer's headers
 * (lower-case names, a repeated header as a list, in order), and dropping a body: all of it,
 * at most `limit` bytes (then the connection is closed), or the stream's failure. And what an
 * http check loads: not node:perf_hooks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request1 } from '../src/net/http1.js';
import { listen } from './helpers/listen.js';
import { ROOT, spawnNode } from './helpers/run.js';

/** A server that answers every request with `raw` (then, with `hangUp`, closes at once). */
async function rawServer(raw: string | Buffer, hangUp = false) {
  return listen((s) => {
    s.on('error', () => {});
    s.once('data', () => {
      if (hangUp) s.end(raw);
      else s.write(raw);
    });
  });
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

test('headers: lower-case names in order, a repeated header as a list, names of Object.prototype kept, __proto__ dropped', async () => {
  const srv = await rawServer(
    'HTTP/1.1 200 OK\r\nX-One: a\r\nSet-Cookie: s=1\r\nconstructor: c\r\n__proto__: p\r\nSET-COOKIE: s=2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
  );
  try {
    const socket = await dial(srv.port);
    const answer = await request1({ url: new URL(`http://127.0.0.1:${srv.port}/x?y=1`), method: 'GET', headers: {}, socket });
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(Object.entries(answer.headers), [
      ['x-one', 'a'],
      ['set-cookie', ['s=1', 's=2']],
      ['constructor', 'c'],
      ['content-length', '2'],
      ['connection', 'close'],
    ]);
    assert.equal(Object.getPrototypeOf(answer.headers), Object.prototype);
    await answer.discard(1024);
    socket.destroy();
  } finally {
    await srv.close();
  }
});

test('discard: the whole body when it is within the limit; at the limit the connection is closed', async () => {
  const body = 'x'.repeat(64 * 1024);
  const srv = await rawServer(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  try {
    const all = await dial(srv.port);
    const a = await request1({ url: new URL(`http://127.0.0.1:${srv.port}/`), method: 'GET', headers: {}, socket: all });
    await a.discard(1024 * 1024);
    const cut = await dial(srv.port);
    const b = await request1({ url: new URL(`http://127.0.0.1:${srv.port}/`), method: 'GET', headers: {}, socket: cut });
    await b.discard(1024);
    assert.equal(cut.destroyed, true, 'a body over the limit closes its connection');
    all.destroy();
  } finally {
    await srv.close();
  }
});

test('discard: a message already complete is not read; within the limit its connection stays (closed by its owner), over it the connection is closed', async () => {
  const body = 'x'.repeat(4 * 1024); // (within what a response buffers unread: a longer one waits to be read)
  const srv = await rawServer(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  /** Until the whole message is in (the answer's response is complete). */
  const complete = async (answer: object) => {
    const done = () => (answer as { res?: { complete?: boolean } }).res?.complete === true;
    for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(done(), 'the whole message came in');
  };
  try {
    const within = await dial(srv.port);
    const a = await request1({ url: new URL(`http://127.0.0.1:${srv.port}/`), method: 'GET', headers: {}, socket: within });
    await complete(a);
    await a.discard(1024 * 1024);
    assert.equal(within.destroyed, false, 'within the limit: the connection is its owner\'s to close');
    within.destroy();
    const over = await dial(srv.port);
    const b = await request1({ url: new URL(`http://127.0.0.1:${srv.port}/`), method: 'GET', headers: {}, socket: over });
    await complete(b);
    await b.discard(1024);
    assert.equal(over.destroyed, true, 'a body over the limit closes its connection');
  } finally {
    await srv.close();
  }
});

test('discard: a body cut short by the server is the stream failure, not a pass', async () => {
  const srv = await rawServer('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part', true);
  try {
    const socket = await dial(srv.port);
    const a = await request1({ url: new URL(`http://127.0.0.1:${srv.port}/`), method: 'GET', headers: {}, socket });
    await assert.rejects(a.discard(1024 * 1024), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE');
  } finally {
    await srv.close();
  }
});

test('a request with a body says its length; the requests made are handed over as they are made', async () => {
  let seen = '';
  const srv = await listen((s) => {
    s.on('data', (d) => {
      seen += d.toString('latin1');
      if (seen.endsWith('hello')) s.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
    });
  });
  try {
    const socket = await dial(srv.port);
    const live = new Set<unknown>();
    const a = await request1({ url: new URL(`http://127.0.0.1:${srv.port}/p`), method: 'POST', headers: { 'X-A': 'b' }, body: 'hello', socket, live });
    assert.equal(a.statusCode, 204);
    assert.equal(live.size, 1);
    assert.match(seen, /^POST \/p HTTP\/1\.1\r\n/);
    assert.match(seen, /\r\nContent-Length: 5\r\n/i);
    assert.match(seen, /\r\nX-A: b\r\n/);
    socket.destroy();
  } finally {
    await srv.close();
  }
});

test('an http check does not load node:perf_hooks (the kit and the check time with process.hrtime)', async () => {
  const tcp = await listen((s) => s.destroy());
  const http = createHttpServer((_q, res) => res.end('ok'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const httpPort = (http.address() as { port: number }).port;
  try {
    const script = join(mkdtempSync(join(tmpdir(), 'conn-check-perf-')), 'probe.mts');
    writeFileSync(
      script,
      [
        `import { parseConfig } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/config/load.ts')).href)};`,
        `import { runChecks } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/runner/run.ts')).href)};`,
        `const text = '- {type: http, url: "http://127.0.0.1:${httpPort}/"}\\n- {type: tcp, host: 127.0.0.1, port: ${tcp.port}}\\n';`,
        `const { checks } = await parseConfig({ file: 't.yaml', text }, {});`,
        `const out = await runChecks(checks, { connectTimeoutS: 5 });`,
        `console.log(JSON.stringify({ statuses: out.results.map((r) => r.status), perf: process.moduleLoadList.filter((m) => /perf_hooks/.test(m)) }));`,
      ].join('\n'),
    );
    const r = await spawnNode(['--import', 'tsx', script], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { statuses: ['passed', 'passed'], perf: [] });
  } finally {
    await tcp.close();
    await new Promise((r) => http.close(r));
  }
});
