/**
 * The bare-Node floor: the same connections as a benchmark case, with no framework. Reads a
 * plan (JSON file given as the only argument), runs its items at most `concurrency` at a time,
 * each under its own timeout, prints one line, and exits 0 if all succeeded (else 1).
 * tcp: connect, close. http: GET, read the body, check the status. udp: send, await the reply. Services: the same drivers
 * conn-check uses, straight from node_modules (memcached: the text `version` command, as
 * conn-check's memcache check speaks the protocol itself).
 * CommonJS, and every module required only when an item needs it: a floor pays for nothing
 * it does not use.
 */
'use strict';
const plan = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));

function withTimeout(ms, fn) {
  const ac = new AbortController();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new Error('timed out'));
    }, ms);
  });
  return Promise.race([fn(ac.signal), timeout]).finally(() => clearTimeout(timer));
}

function tcp(it, signal) {
  return new Promise((resolve, reject) => {
    const s = require('net').connect({ host: it.host, port: it.port, signal });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

function http(it, signal) {
  return new Promise((resolve, reject) => {
    const req = require('http').get(it.url, { agent: false, signal }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
}

function udp(it, signal) {
  return new Promise((resolve, reject) => {
    const s = require('dgram').createSocket('udp4');
    const done = (err) => {
      s.close();
      err ? reject(err) : resolve();
    };
    signal.addEventListener('abort', () => done(new Error('aborted')), { once: true });
    s.once('error', done);
    s.once('message', (m) => done(m.toString() === it.expect ? undefined : new Error('unexpected reply')));
    s.send(it.send, it.port, it.host, (err) => err && done(err));
  });
}

async function postgres(it) {
  const pg = require('pg');
  const c = new pg.Client({ host: it.host, port: it.port, user: it.username, password: it.password, database: it.database });
  try {
    await c.connect();
    await c.query('SELECT 1 AS ok');
  } finally {
    await c.end().catch(() => {});
  }
}

async function redis(it) {
  const Redis = require('ioredis');
  const c = new Redis({ host: it.host, port: it.port, password: it.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.call('PING');
  } finally {
    c.disconnect();
  }
}

function memcached(it, signal) {
  return new Promise((resolve, reject) => {
    const s = require('net').connect({ host: it.host, port: it.port, signal });
    let buf = '';
    s.once('connect', () => s.write('version\r\n'));
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n')) {
        s.destroy();
        if (buf.startsWith('VERSION ')) resolve();
        else reject(new Error(buf));
      }
    });
    s.once('error', reject);
  });
}

async function amqp(it) {
  const amqplib = require('amqplib');
  const conn = await amqplib.connect({ hostname: it.host, port: it.port, username: it.username, password: it.password, vhost: it.vhost });
  try {
    const ch = await conn.createChannel();
    await ch.close();
  } finally {
    await conn.close().catch(() => {});
  }
}

async function mongodb(it) {
  const { MongoClient } = require('mongodb');
  const c = new MongoClient(`mongodb://${it.host}:${it.port}/`, {
    auth: { username: it.username, password: it.password },
    authSource: 'admin',
    directConnection: true,
    retryReads: false,
    retryWrites: false,
    serverSelectionTimeoutMS: it.timeoutMs ?? 10_000,
  });
  try {
    await c.connect();
    await c.db('test').listCollections({}, { nameOnly: true }).toArray();
  } finally {
    await c.close().catch(() => {});
  }
}

const kinds = { tcp, http, udp, postgres, redis, memcached, amqp, mongodb };
let ok = 0;
let failed = 0;
let next = 0;
async function worker() {
  while (next < plan.items.length) {
    const it = plan.items[next++];
    try {
      await withTimeout(it.timeoutMs ?? 10_000, (signal) => kinds[it.kind](it, signal));
      ok++;
    } catch {
      failed++;
    }
  }
}
Promise.all(Array.from({ length: Math.min(plan.concurrency, plan.items.length) }, worker)).then(() => {
  process.stdout.write(`floor: ${ok} ok, ${failed} failed\n`, () => process.exit(failed ? 1 : 0));
});
