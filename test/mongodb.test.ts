/**
 * mongodb check. The same cases run against either
 *  - the wire-protocol server in helpers/mongo-server.ts (the default: no mongod can be
 *    installed on the development machines), or
 *  - a real mongod, when the environment names one:
 *      CONN_CHECK_TEST_MONGODB=127.0.0.1:27017        a mongod with authentication on
 *      CONN_CHECK_TEST_MONGODB_USER / _PASSWORD       a root user in the admin database
 *                                                     (MONGO_INITDB_ROOT_USERNAME/PASSWORD)
 *      CONN_CHECK_TEST_MONGODB_NOAUTH=127.0.0.1:27018 optional: a mongod without authentication
 *                                                     (else the wire server stands in for it)
 *    The tests create the database `conncheck` (collections a, b) and a SCRAM-SHA-1 user in it
 *    on those servers, and remove them afterwards.
 * Peers that misbehave (black hole, stalls, TLS) are always local fakes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { blackHole } from './helpers/listen.js';
import { resultAssertions } from './helpers/results.js';
import { assertChildExits, liveHandles, runOne, runYaml } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { tlsMaterial } from './helpers/tls.js';
import { startMongoServer, type MongoWireServer } from './helpers/mongo-server.js';

interface Target {
  host: string;
  port: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function parseTarget(name: string, value: string): Target {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value.trim());
  if (!m) throw new Error(`${name} must be host:port, got ${JSON.stringify(value)}`);
  if (!LOOPBACK.has(m[1]!)) throw new Error(`${name} must be a loopback address (127.0.0.1, ::1, localhost)`);
  return { host: m[1]!, port: Number(m[2]) };
}

const env = process.env;
const REAL = env.CONN_CHECK_TEST_MONGODB?.trim() ? parseTarget('CONN_CHECK_TEST_MONGODB', env.CONN_CHECK_TEST_MONGODB) : undefined;
const REAL_NOAUTH = env.CONN_CHECK_TEST_MONGODB_NOAUTH?.trim() ? parseTarget('CONN_CHECK_TEST_MONGODB_NOAUTH', env.CONN_CHECK_TEST_MONGODB_NOAUTH) : undefined;
const MODE = REAL ? 'real mongod' : 'wire server';

const APP_DB = 'conncheck';
const APP_COLLECTIONS = ['a', 'b'];
const ROOT_USER = REAL ? env.CONN_CHECK_TEST_MONGODB_USER ?? '' : 'root';
const ROOT_PASSWORD = REAL ? env.CONN_CHECK_TEST_MONGODB_PASSWORD ?? '' : `root-${randomBytes(9).toString('base64url')}`;
const SHA1_USER = 'conncheck_sha1';
const SHA1_PASSWORD = `sha1-${randomBytes(9).toString('base64url')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(9).toString('base64url')}`;

/** A real mongod as root, for setting up and cleaning up. */
async function asRoot<T>(target: Target, fn: (client: MongoClient) => Promise<T>, auth = true): Promise<T> {
  const client = new MongoClient(`mongodb://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}/`, {
    directConnection: true,
    serverSelectionTimeoutMS: 10_000,
    ...(auth ? { auth: { username: ROOT_USER, password: ROOT_PASSWORD }, authSource: 'admin' } : {}),
  });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function seed(client: MongoClient, withUser: boolean): Promise<void> {
  const db = client.db(APP_DB);
  await db.dropDatabase();
  for (const name of APP_COLLECTIONS) await db.createCollection(name);
  if (withUser) {
    await db.command({ dropUser: SHA1_USER }).catch(() => {});
    await db.command({ createUser: SHA1_USER, pwd: SHA1_PASSWORD, roles: [{ role: 'read', db: APP_DB }], mechanisms: ['SCRAM-SHA-1'] });
  }
}

async function unseed(client: MongoClient, withUser: boolean): Promise<void> {
  const db = client.db(APP_DB);
  if (withUser) await db.command({ dropUser: SHA1_USER }).catch(() => {});
  await db.dropDatabase().catch(() => {});
}

const { noSecrets: assertNoSecret } = resultAssertions([ROOT_PASSWORD, SHA1_PASSWORD, WRONG_PASSWORD]);

describe(`mongodb (${MODE})`, () => {
  let authed: Target; // authentication on; root user in admin, SCRAM-SHA-1 user in conncheck
  let open: Target; // no authentication
  const wire: MongoWireServer[] = [];
  let wireAuthed: MongoWireServer | undefined;
  let wireTls: MongoWireServer;
  let wireMtls: MongoWireServer;
  const tls = tlsMaterial();

  const users = [
    { user: 'root', password: ROOT_PASSWORD },
    { db: APP_DB, user: SHA1_USER, password: SHA1_PASSWORD, mechanisms: ['SCRAM-SHA-1' as const] },
  ];
  const collections = { [APP_DB]: APP_COLLECTIONS, test: [] };

  async function startWire(opts: Parameters<typeof startMongoServer>[0]): Promise<MongoWireServer> {
    const s = await startMongoServer(opts);
    wire.push(s);
    return s;
  }

  before(async () => {
    if (REAL) {
      if (!ROOT_USER || !ROOT_PASSWORD) throw new Error('CONN_CHECK_TEST_MONGODB needs CONN_CHECK_TEST_MONGODB_USER and CONN_CHECK_TEST_MONGODB_PASSWORD');
      authed = REAL;
      await asRoot(REAL, (c) => seed(c, true));
    } else {
      wireAuthed = await startWire({ users, collections });
      authed = { host: wireAuthed.host, port: wireAuthed.port };
    }
    if (REAL_NOAUTH) {
      open = REAL_NOAUTH;
      await asRoot(REAL_NOAUTH, (c) => seed(c, false), false);
    } else {
      const s = await startWire({ collections });
      open = { host: s.host, port: s.port };
    }
    wireTls = await startWire({ users, collections, tls: { cert: tls.valid.cert, key: tls.valid.key } });
    wireMtls = await startWire({ collections, tls: { cert: tls.valid.cert, key: tls.valid.key, ca: tls.ca, requestCert: true } });
  });

  after(async () => {
    for (const s of wire) await s.close();
    if (REAL) await asRoot(REAL, (c) => unseed(c, true)).catch(() => {});
    if (REAL_NOAUTH) await asRoot(REAL_NOAUTH, (c) => unseed(c, false), false).catch(() => {});
  });

  const check = (target: Target, extra: Record<string, unknown> = {}) => ({ type: 'mongodb', host: target.host, port: target.port, ...extra });
  const root = { username: ROOT_USER, password: ROOT_PASSWORD };

  test('passes without credentials against a server without authentication, and counts the collections', async () => {
    const r = await runOne(check(open, { database: APP_DB }));
    assert.equal(r.status, 'passed', r.error);
    assertNoSecret(r);
    assert.equal(r.name, `mongodb:${open.host}:${open.port}`);
    assert.equal(r.target, `${open.host}:${open.port}`);
    assert.match(r.details?.[0] ?? '', /^connected to (127\.0\.0\.1|\[::1\])$/);
    assert.ok(r.details?.some((d) => /^MongoDB \d+\.\d+/.test(d)), String(r.details));
    assert.equal(r.details?.at(-1), `2 collections in ${APP_DB}`);
  });

  test('the mongo alias and the default port 27017 are accepted', async () => {
    const [r] = await runYaml(`- {type: mongo, host: 127.0.0.1, database: ${APP_DB}}\n`, { dryRun: true });
    assert.equal(r!.type, 'mongodb');
    assert.equal(r!.name, 'mongodb:127.0.0.1:27017');
    assert.equal(r!.target, '127.0.0.1:27017');
  });

  test('passes with the right credentials: a root user in admin, database unset (auth_source admin, lists test)', async () => {
    const r = await runOne(check(authed, root));
    assert.equal(r.status, 'passed', r.error);
    assert.ok(r.details?.includes(`authenticated as ${ROOT_USER} (auth_source admin)`), String(r.details));
    assert.match(r.details!.at(-1)!, /^\d+ collections? in test$/);
    assertNoSecret(r);
  });

  test('passes with a root user, another database and auth_source admin', async () => {
    const r = await runOne(check(authed, { ...root, database: APP_DB, auth_source: 'admin' }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.details?.at(-1), `2 collections in ${APP_DB}`);
  });

  test('passes with a SCRAM-SHA-1 user defined in the database it checks (auth_source defaults to database)', async () => {
    const r = await runOne(check(authed, { username: SHA1_USER, password: SHA1_PASSWORD, database: APP_DB }));
    assert.equal(r.status, 'passed', r.error);
    assert.ok(r.details?.includes(`authenticated as ${SHA1_USER} (auth_source ${APP_DB})`), String(r.details));
    assert.equal(r.details?.at(-1), `2 collections in ${APP_DB}`);
    if (wireAuthed) assert.ok(wireAuthed.commands.some((c) => c.name === 'saslStart' && c.db === APP_DB));
  });

  test('a wrong password fails as an authentication failure, promptly', async () => {
    const r = await runOne(check(authed, { username: ROOT_USER, password: WRONG_PASSWORD, timeout: 10 }));
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'auth');
    assert.equal(r.error, `authentication failed for user ${ROOT_USER} (auth_source admin)`);
    assert.ok(r.duration_ms < 3000, `took ${r.duration_ms} ms`);
    assertNoSecret(r);
  });

  test('an unknown user fails as an authentication failure', async () => {
    const r = await runOne(check(authed, { username: 'nobody_here', password: WRONG_PASSWORD, timeout: 10 }));
    assert.equal(r.step, 'auth');
    assert.equal(r.error, 'authentication failed for user nobody_here (auth_source admin)');
    assert.ok(r.duration_ms < 3000, `took ${r.duration_ms} ms`);
    assertNoSecret(r);
  });

  test('a root user with database set and no auth_source authenticates against that database, and says so', async () => {
    const r = await runOne(check(authed, { ...root, database: APP_DB, timeout: 10 }));
    assert.equal(r.step, 'auth');
    assert.equal(r.error, `authentication failed for user ${ROOT_USER} (auth_source ${APP_DB})`);
    assertNoSecret(r);
  });

  test('no credentials against a server that requires them fails at the query', async () => {
    const r = await runOne(check(authed, { database: APP_DB }));
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'query');
    assert.equal(r.error, 'the server requires authentication (set username and password)');
  });

  test('a refused port fails at tcp', async () => {
    const r = await runOne(check({ host: '127.0.0.1', port: await freePort() }, root));
    assert.equal(r.step, 'tcp');
    assert.equal(r.error, 'connection refused');
    assertNoSecret(r);
  });

  test('a server that accepts TCP and never answers fails within the timeout, and the check lets go of it', async () => {
    const hole = await blackHole();
    try {
      const r = await runOne(check({ host: '127.0.0.1', port: hole.port }, { ...root, timeout: 1 }));
      assert.equal(r.status, 'failed');
      assert.equal(r.step, 'protocol');
      assert.equal(r.error, 'timed out after 1s');
      assert.ok(r.duration_ms < 3000, `took ${r.duration_ms} ms`);
      assertNoSecret(r);
      // the driver's monitor connection ends at the check's deadline (connectTimeoutMS)
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(hole.sockets.size, 0, 'the check left connections open');
      assert.ok(!liveHandles().includes('Timeout'), `live: ${liveHandles().join(', ')}`);
    } finally {
      hole.server.close();
    }
  });

  test('TLS to a plain-text port fails clearly at tls', async () => {
    const r = await runOne(check(authed, { ...root, tls: true, ca_file: tls.caFile, timeout: 5 }));
    assert.equal(r.step, 'tls');
    assert.equal(r.error, 'TLS handshake failed: the server closed the connection (is TLS enabled on this MongoDB server?)');
    assert.ok(r.duration_ms < 3000, `took ${r.duration_ms} ms`);
    assertNoSecret(r);
  });

  describe('TLS (wire server)', () => {
    test('tls with ca_file passes and authenticates', async () => {
      const r = await runOne(
        check({ host: 'localhost', port: wireTls.port }, { username: 'root', password: ROOT_PASSWORD, tls: true, ca_file: tls.caFile, database: APP_DB, auth_source: 'admin' }),
      );
      assert.equal(r.status, 'passed', r.error);
      assert.deepEqual(r.details, [`connected to 127.0.0.1`, 'TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days', 'authenticated as root (auth_source admin)', 'MongoDB 7.0.0', `2 collections in ${APP_DB}`]);
      assertNoSecret(r);
    });

    test('tls without the CA fails at tls as untrusted; disable_tls_verification passes', async () => {
      const bad = await runOne(check({ host: '127.0.0.1', port: wireTls.port }, { username: 'root', password: ROOT_PASSWORD, tls: true }));
      assert.equal(bad.step, 'tls');
      assert.equal(bad.error, 'certificate not trusted: unable to verify its issuer (add the CA with tls-certs-path or ca_file)');
      const insecure = await runOne(check({ host: '127.0.0.1', port: wireTls.port }, { username: 'root', password: ROOT_PASSWORD, tls: true, disable_tls_verification: true }));
      assert.equal(insecure.status, 'passed', insecure.error);
    });

    test('server_name is used for SNI and verification', async () => {
      const base = { host: '127.0.0.1', port: wireTls.port };
      const ok = await runOne(check(base, { tls: true, ca_file: tls.caFile, server_name: 'localhost', username: 'root', password: ROOT_PASSWORD }));
      assert.equal(ok.status, 'passed', ok.error);
      const bad = await runOne(check(base, { tls: true, ca_file: tls.caFile, server_name: 'wrong.example', username: 'root', password: ROOT_PASSWORD }));
      assert.equal(bad.step, 'tls');
      assert.match(bad.error!, /^certificate does not match the host name/);
      assertNoSecret(bad);
    });

    test('a client certificate is presented when the server asks for one', async () => {
      const r = await runOne(
        check({ host: '127.0.0.1', port: wireMtls.port }, { tls: true, ca_file: tls.caFile, client_cert: tls.client.certFile, client_key: tls.client.keyFile, database: APP_DB }),
      );
      assert.equal(r.status, 'passed', r.error);
    });

    test('plain text to a TLS-only port says to set tls', async () => {
      const r = await runOne(check({ host: '127.0.0.1', port: wireTls.port }, { username: 'root', password: ROOT_PASSWORD, timeout: 5 }));
      assert.equal(r.step, 'protocol');
      assert.equal(r.error, 'connection closed by the server during the MongoDB handshake (if the server requires TLS, set tls: true)');
      assertNoSecret(r);
    });
  });

  test('an IPv6 literal works, with or without brackets (wire server)', async () => {
    const s = await startWire({ host: '::1', users, collections });
    for (const host of ['::1', '[::1]']) {
      const r = await runOne(check({ host, port: s.port }, { username: 'root', password: ROOT_PASSWORD }));
      assert.equal(r.status, 'passed', r.error);
      assert.equal(r.target, `[::1]:${s.port}`);
      assert.equal(r.details?.[0], 'connected to [::1]');
    }
  });

  describe('misbehaving servers (wire server)', () => {
    const misbehaving = (mode: 'close-after-hello' | 'stall-after-hello') => startWire({ users, collections, mode });

    test('a server that answers hello and then stalls: auth times out within the timeout', async () => {
      const s = await misbehaving('stall-after-hello');
      const r = await runOne(check({ host: s.host, port: s.port }, { username: 'root', password: ROOT_PASSWORD, timeout: 1 }));
      assert.equal(r.step, 'auth');
      assert.equal(r.error, 'timed out after 1s');
      assert.ok(r.duration_ms < 3000, `took ${r.duration_ms} ms`);
      await s.waitIdle(2000);
    });

    test('a server that closes after hello: the login fails with the connection closed', async () => {
      const s = await misbehaving('close-after-hello');
      const r = await runOne(check({ host: s.host, port: s.port }, { username: 'root', password: ROOT_PASSWORD, timeout: 5 }));
      assert.equal(r.step, 'auth');
      assert.equal(r.error, 'connection closed by the server');
    });

    test('a server too old for the driver fails at protocol', async () => {
      const s = await startWire({ maxWireVersion: 6 });
      const r = await runOne(check({ host: s.host, port: s.port }, { timeout: 5 }));
      assert.equal(r.step, 'protocol');
      assert.equal(r.error, 'unsupported server: it reports maximum wire version 6, but this version of the Node.js Driver requires at least 9 (MongoDB 4.4)');
    });
  });

  test('the driver talks as conn-check, and closes every connection when done (wire server)', async () => {
    const s = await startWire({ users, collections });
    const r = await runOne(check({ host: s.host, port: s.port }, { username: 'root', password: ROOT_PASSWORD, database: APP_DB, auth_source: 'admin' }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal((s.clients[0]?.application as { name?: string } | undefined)?.name, 'conn-check');
    await s.waitIdle(2000);
    // hello over OP_QUERY (monitor and pool connections, the pool's one with speculative
    // SCRAM-SHA-256), then OP_MSG; the session is ended politely or not at all
    assert.deepEqual(
      s.commands.filter((c) => c.opCode === 2004).map((c) => c.name),
      ['ismaster', 'ismaster'],
    );
    assert.deepEqual(
      s.commands
        .filter((c) => c.opCode === 2013 && c.name !== 'endSessions')
        .map((c) => `${c.db}.${c.name}${c.user ? ` as ${c.user}` : ''}`),
      ['admin.saslContinue', `${APP_DB}.listCollections as root`, 'admin.buildInfo as root'],
    );
    assert.ok(!liveHandles().includes('Timeout'), `live: ${liveHandles().join(', ')}`);
  });

  test('a password needs a username; a username alone is accepted (as conn-check did) and no login is attempted', async () => {
    await assert.rejects(runOne({ type: 'mongodb', host: '127.0.0.1', password: 'x-y-z' }), /password needs a username/);
    const r = await runOne(check(open, { username: 'someone' }));
    assert.equal(r.status, 'passed', r.error);
    assert.ok(r.details?.includes('username someone without a password: no login attempted (conn-check never logged in with it either)'), String(r.details));
    assert.ok(!r.details?.some((d) => d.startsWith('authenticated as')), String(r.details));
  });

  test('no handles are left behind: a child process running passing and failing checks exits on its own', async () => {
    const hole = await blackHole();
    const stall = await startWire({ users, collections, mode: 'stall-after-hello' });
    try {
      // (a surviving heartbeat timer, 60 s, would keep the child alive far longer)
      await assertChildExits(
        [
          [check(open, { database: APP_DB }), ['passed', null]],
          [check(authed, root), ['passed', null]],
          [check(authed, { username: ROOT_USER, password: WRONG_PASSWORD }), ['failed', 'auth']],
          [check({ host: '127.0.0.1', port: hole.port }, { ...root, timeout: 1 }), ['failed', 'protocol']],
          [check({ host: stall.host, port: stall.port }, { timeout: 1 }), ['failed', 'query']],
        ],
        20_000,
      );
    } finally {
      hole.server.close();
    }
  });
});

// ---------- the shared TLS assertions (issue 5) ----------

describe('mongodb: min_cert_days, min_tls_version and client certificates (wire server over TLS)', () => {
  const tls = tlsMaterial();
  const CERT_LINE = 'TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days';
  let server: MongoWireServer;
  let mtls: MongoWireServer;
  before(async () => {
    const users = [{ user: 'root', password: ROOT_PASSWORD }];
    const collections = { [APP_DB]: APP_COLLECTIONS };
    server = await startMongoServer({ users, collections, tls: { cert: tls.valid.cert, key: tls.valid.key } });
    mtls = await startMongoServer({ collections, tls: { cert: tls.valid.cert, key: tls.valid.key, ca: tls.ca, requestCert: true } });
  });
  after(async () => {
    await server?.close();
    await mtls?.close();
  });
  const login = { type: 'mongodb', host: 'localhost', username: 'root', password: ROOT_PASSWORD, database: APP_DB, auth_source: 'admin', tls: true };

  test('min_cert_days 60 fails at cert before the login; 7 passes and the details show the days left', async () => {
    const logins = server.commands.filter((c) => /^sasl/i.test(c.name)).length;
    const tooSoon = await runOne({ ...login, port: server.port, ca_file: tls.caFile, min_cert_days: 60 });
    assert.deepEqual([tooSoon.status, tooSoon.step, tooSoon.error], ['failed', 'cert', 'certificate expires in 29 days (minimum 60)']);
    assert.deepEqual(tooSoon.details, ['connected to 127.0.0.1', CERT_LINE]);
    assert.equal(server.commands.filter((c) => /^sasl/i.test(c.name)).length, logins, 'no login after the cert failure');
    assertNoSecret(tooSoon);
    const enough = await runOne({ ...login, port: server.port, ca_file: tls.caFile, min_cert_days: 7 });
    assert.equal(enough.status, 'passed', enough.error);
    assert.deepEqual(enough.details?.slice(0, 2), ['connected to 127.0.0.1', CERT_LINE]);
    assert.ok(server.commands.filter((c) => /^sasl/i.test(c.name)).length > logins, 'the passing check logged in');
    assertNoSecret(enough);
  });

  test('min_tls_version TLSv1.3 passes against a TLS 1.3 server (the driver has no such option: the pre-check enforces it)', async () => {
    const r = await runOne({ ...login, port: server.port, ca_file: tls.caFile, min_tls_version: 'TLSv1.3' });
    assert.equal(r.status, 'passed', r.error);
  });

  test('client certificates with the shared assertions: passes with client_cert and min_cert_days 7, fails at cert with 60', async () => {
    const base = { type: 'mongodb', host: 'localhost', port: mtls.port, tls: true, ca_file: tls.caFile, database: APP_DB };
    const ok = await runOne({ ...base, client_cert: tls.client.certFile, client_key: tls.client.keyFile, min_cert_days: 7 });
    assert.equal(ok.status, 'passed', ok.error);
    assert.ok(ok.details?.includes(CERT_LINE), JSON.stringify(ok.details));
    const tooSoon = await runOne({ ...base, client_cert: tls.client.certFile, client_key: tls.client.keyFile, min_cert_days: 60 });
    assert.deepEqual([tooSoon.status, tooSoon.step], ['failed', 'cert']);
  });
});
