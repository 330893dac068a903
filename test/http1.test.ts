/**
 * net/http1.ts, the direct client's one exchange over a given socket: the answer's headers
 * (lower-case names, a repeated header as a list, in order), and dropping a body: all of it,
 * at most `limit` bytes (then the connection is closed), or the stream's failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request1 } from '../src/net/http1.js';
import { listen } from './helpers/listen.js';

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
