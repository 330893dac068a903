/**
 * `url:` against real servers, one per scheme that has one on this machine (mongodb against
 * the wire-protocol test server): the right credentials pass, wrong ones fail at `auth`, a
 * password that must be %-encoded works, and no form of a password reaches a result or the
 * CLI's output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runYaml } from './helpers/check.js';
import type { CheckResult } from '../src/runner/result.js';
import { main } from '../src/cli/main.js';
import { leafFor, tlsMaterial } from './helpers/tls.js';
import { PG, startPostgres, type PgServers } from './helpers/postgres.js';
import { startMariadb, type MariadbInstance } from './helpers/mysql.js';
import { startRedis, type RedisInstance } from './helpers/redis.js';
import { rabbitAvailable, startRabbit, type Rabbit } from './helpers/rabbitmq.js';
import { startSmtp, type SmtpTestServer } from './helpers/smtp.js';
import { startNats, type NatsInstance } from './helpers/nats.js';
import { startMosquitto, type MosquittoInstance } from './helpers/mosquitto.js';
import { saslAvailable, startMemcached, type Memcached } from './helpers/memcached.js';
import { BASIC_PASSWORD, BASIC_USER, startHttpServer, type TestHttpServer } from './helpers/http-servers.js';
import { startMongoServer, type MongoWireServer } from './helpers/mongo-server.js';
import { startDnsmasq, type DnsmasqInstance } from './helpers/dnsmasq.js';
import { freePort } from './helpers/run.js';
import { assertNoSecrets } from './helpers/results.js';
import { assertClientsClosed, blackHole } from './helpers/listen.js';
import { SSH_PASSWORD, SSH_USER, sshdAvailable, startSshd, type SshdInstance } from './helpers/sshd.js';

const enc = encodeURIComponent;
const WRONG = 'Wr0ng-url-pw';
/** A password with @ and / (and : and #), which a URL must carry %-encoded. */
const ODD = 'p@ss/w0rd:x#7';

async function run(url: string, extra = '', env: NodeJS.ProcessEnv = {}): Promise<CheckResult> {
  const results = await runYaml(`- url: ${JSON.stringify(url)}\n${extra}`, {}, env);
  return results[0]!;
}

/** No form of a password (as written, %-encoded, base64) in a result or the CLI's output. */
function noLeak(what: unknown, secrets: readonly string[]): void {
  assertNoSecrets(typeof what === 'string' ? what : JSON.stringify(what), [...secrets, WRONG, ODD]);
}

function passed(r: CheckResult, secrets: readonly string[]): void {
  assert.equal(r.status, 'passed', JSON.stringify(r));
  noLeak(r, secrets);
}

function failedAt(r: CheckResult, step: string, secrets: readonly string[]): void {
  assert.equal(r.status, 'failed', JSON.stringify(r));
  assert.equal(r.step, step, JSON.stringify(r));
  noLeak(r, secrets);
}

describe('postgres:// and postgresql://', () => {
  let pg: PgServers;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => pg?.stop());
  const secrets = [PG.password, PG.oddPassword];

  test('right credentials pass, over TLS by sslmode, and through a Unix socket', async () => {
    passed(await run(`postgres://${PG.user}:${PG.password}@127.0.0.1:${pg.plain.port}/${PG.database}`), secrets);
    passed(await run(`postgresql://${PG.user}:${PG.password}@127.0.0.1:${pg.tls.port}/${PG.database}?sslmode=require`), secrets);
    passed(await run(`postgres://${PG.user}:${PG.password}@${enc(pg.plain.socketDir)}:${pg.plain.port}/${PG.database}`), secrets);
  });
  test('a %-encoded password works', async () => {
    assert.equal(enc(PG.oddPassword), 'p%40ss%2Fw0rd%3Apg%239');
    passed(await run(`postgres://${PG.oddUser}:${enc(PG.oddPassword)}@127.0.0.1:${pg.plain.port}/${PG.database}`), secrets);
  });
  test('a wrong password fails at auth', async () => {
    failedAt(await run(`postgres://${PG.user}:${WRONG}@127.0.0.1:${pg.plain.port}/${PG.database}`), 'auth', secrets);
  });
  test('several hosts: tried in order, the first that accepts the login passes and is named; a refused login ends the list', async () => {
    const dead = await freePort();
    const r = await run(`postgres://${PG.oddUser}:${enc(PG.oddPassword)}@127.0.0.1:${dead},127.0.0.1:${pg.plain.port}/${PG.database}`);
    passed(r, secrets);
    assert.equal(r.name, `postgres:127.0.0.1:${dead},127.0.0.1:${pg.plain.port}`);
    assert.ok(r.details?.some((d) => d.startsWith(`127.0.0.1:${dead} failed at tcp: `)), JSON.stringify(r));
    assert.ok(r.details?.includes(`127.0.0.1:${pg.plain.port} answered (server 2 of 2)`), JSON.stringify(r));
    // the first host that answers decides: its TLS port passes before the plain one is tried
    passed(await run(`postgres://${PG.user}:${PG.password}@127.0.0.1:${pg.tls.port},127.0.0.1:${dead}/${PG.database}?sslmode=require`), secrets);
    const wrong = await run(`postgres://${PG.user}:${WRONG}@127.0.0.1:${pg.plain.port},127.0.0.1:${pg.tls.port}/${PG.database}`);
    failedAt(wrong, 'auth', secrets);
    assert.match(wrong.error ?? '', /^127\.0\.0\.1:\d+: auth: authentication failed .*\(the other server was not tried: a failure at auth ends the list\)$/);
    const none = await run(`postgres://${PG.user}:${PG.password}@127.0.0.1:${dead},127.0.0.1:${await freePort()}/${PG.database}`);
    failedAt(none, 'tcp', secrets);
    // target_session_attrs: the test servers are primaries
    passed(await run(`postgres://${PG.user}:${PG.password}@127.0.0.1:${dead},127.0.0.1:${pg.plain.port}/${PG.database}?target_session_attrs=read-write`), secrets);
    const standby = await run(`postgres://${PG.user}:${PG.password}@127.0.0.1:${pg.plain.port},127.0.0.1:${pg.tls.port}/${PG.database}?target_session_attrs=standby`);
    failedAt(standby, 'query', secrets);
    assert.match(standby.error ?? '', /^none of the 2 servers passed \(127\.0\.0\.1:\d+: query: the server is a primary, not standby \(target_session_attrs\); 127\.0\.0\.1:\d+: query: the server is a primary, not standby/);
    // a server that never answers has its share of the timeout, and the next one the rest
    const silent = await blackHole();
    try {
      const slow = await run(`postgres://${PG.user}:${PG.password}@127.0.0.1:${silent.port},127.0.0.1:${pg.plain.port}/${PG.database}`, '  timeout: 4\n');
      passed(slow, secrets);
      assert.ok(slow.details?.includes(`127.0.0.1:${silent.port} failed at protocol: timed out after 2.0s (its share of the timeout)`), JSON.stringify(slow));
      await assertClientsClosed(silent.sockets);
    } finally {
      await silent.close();
    }
    assert.match(none.error ?? '', /^none of the 2 servers passed \(127\.0\.0\.1:\d+: tcp: connection refused; 127\.0\.0\.1:\d+: tcp: connection refused\)$/);
  });
  test('options next to url win: the right password replaces a wrong one', async () => {
    passed(await run(`postgres://${PG.user}:${WRONG}@127.0.0.1:${pg.plain.port}/${PG.database}`, `  password: ${PG.password}\n`), secrets);
  });
  test('the CLI prints no form of the password, and the check without userinfo', async () => {
    let out = '';
    const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (out += s), readStdin: () => new Uint8Array(), env: { DATABASE_URL: `postgres://${PG.oddUser}:${enc(PG.oddPassword)}@127.0.0.1:${pg.plain.port}/nosuchdb` }, cwd: process.cwd() };
    const code = await main(['-v', '--format', 'text', '-'], { ...io, readStdin: () => new TextEncoder().encode('- url: ${DATABASE_URL}\n') });
    assert.equal(code, 2, out);
    assert.match(out, /database "nosuchdb" does not exist/);
    assert.match(out, new RegExp(`postgres:127\\.0\\.0\\.1:${pg.plain.port}`));
    noLeak(out, secrets);
    // a host list, in the JSON report too: each server's failure, no form of the password
    out = '';
    const dead = await freePort();
    const listed = await main(['-v', '--format', 'json', '-'], {
      ...io,
      env: { DATABASE_URL: `postgres://${PG.oddUser}:${enc(PG.oddPassword)}@127.0.0.1:${dead},127.0.0.1:${pg.plain.port}/nosuchdb` },
      readStdin: () => new TextEncoder().encode('- url: ${DATABASE_URL}\n'),
    });
    assert.equal(listed, 2, out);
    assert.match(out, new RegExp(`"target": ?"127\\.0\\.0\\.1:${dead},127\\.0\\.0\\.1:${pg.plain.port}"`));
    assert.match(out, /database \\?"nosuchdb\\?" does not exist/);
    noLeak(out, secrets);
  });
});

describe('mysql:// and mariadb://', () => {
  let db: MariadbInstance;
  const PASSWORD = 'my-Url-pw-4q';
  before(async () => {
    db = await startMariadb({
      setup: `CREATE DATABASE app; CREATE USER 'app'@'%' IDENTIFIED BY '${PASSWORD}'; CREATE USER 'odd'@'%' IDENTIFIED BY '${ODD}'; GRANT ALL ON app.* TO 'app'@'%'; GRANT ALL ON app.* TO 'odd'@'%'; FLUSH PRIVILEGES;`,
    });
  });
  after(async () => db?.stop());
  test('right, %-encoded and wrong passwords', async () => {
    passed(await run(`mysql://app:${PASSWORD}@127.0.0.1:${db.port}/app`), [PASSWORD]);
    passed(await run(`mariadb://odd:${enc(ODD)}@127.0.0.1:${db.port}/app`), [PASSWORD]);
    failedAt(await run(`mysql://app:${WRONG}@127.0.0.1:${db.port}/app`), 'auth', [PASSWORD]);
  });
  test('?socket=/path: the server\'s Unix socket (the host is not used)', async () => {
    const r = await run(`mysql://odd:${enc(ODD)}@localhost/app?socket=${enc(db.socket)}`);
    passed(r, [PASSWORD]);
    assert.equal(r.name, `mysql:${db.socket}`);
    assert.ok(r.details?.includes(`connected to Unix socket ${db.socket}`), JSON.stringify(r));
    failedAt(await run(`mysql://app:${WRONG}@localhost/app?socket=${db.socket}`), 'auth', [PASSWORD]);
    failedAt(await run(`mysql://app:${PASSWORD}@localhost/app?socket=${db.socket}.nothere`), 'tcp', [PASSWORD]);
  });
});

describe('redis:// and rediss://', () => {
  let plain: RedisInstance;
  let secure: RedisInstance;
  let tls: ReturnType<typeof tlsMaterial>;
  before(async () => {
    tls = tlsMaterial();
    [plain, secure] = await Promise.all([
      startRedis({ password: ODD }),
      startRedis({ password: ODD, tls: { certFile: tls.valid.certFile, keyFile: tls.valid.keyFile, caFile: tls.caFile } }),
    ]);
  });
  after(async () => Promise.all([plain?.stop(), secure?.stop()]));
  test('right (%-encoded), wrong, and TLS by rediss://', async () => {
    passed(await run(`redis://:${enc(ODD)}@127.0.0.1:${plain.port}/3`), []);
    failedAt(await run(`redis://:${WRONG}@127.0.0.1:${plain.port}`), 'auth', []);
    passed(await run(`rediss://:${enc(ODD)}@127.0.0.1:${secure.port}/0?ssl_ca_certs=${enc(tls.caFile)}`), []);
    // rediss:// to the TLS port, verified against the machine's roots only: the test CA is unknown
    failedAt(await run(`rediss://:${enc(ODD)}@127.0.0.1:${secure.port}`), 'tls', []);
  });
  test('Unix sockets: redis+unix://, redis+socket://, unix:// with type redis', async () => {
    const r = await run(`redis+unix://:${enc(ODD)}@${plain.socket}?db=2`);
    passed(r, []);
    assert.equal(r.name, `redis:${plain.socket}`);
    assert.ok(r.details?.includes(`connected to Unix socket ${plain.socket}`), JSON.stringify(r));
    passed(await run(`redis+socket://${plain.socket}?password=${enc(ODD)}`), []);
    passed(await run(`unix://:${enc(ODD)}@${plain.socket}?db=0`, '  type: redis\n'), []);
    failedAt(await run(`redis+unix://:${WRONG}@${plain.socket}`), 'auth', []);
    const missing = await run(`redis+unix://:${enc(ODD)}@${plain.socket}.nothere`);
    failedAt(missing, 'tcp', []);
    assert.match(missing.error ?? '', /^Unix socket .*\.nothere: /);
  });
});

describe('amqp:// and amqps://', { skip: rabbitAvailable() ? false : 'rabbitmq-server is not installed' }, () => {
  let rabbit: Rabbit;
  before(async () => {
    rabbit = await startRabbit();
  });
  after(async () => rabbit?.stop());
  test('right (user and password %-encoded), wrong, vhost from the path, TLS by amqps://', async () => {
    const s = [rabbit.password, rabbit.oddPassword];
    passed(await run(`amqp://${rabbit.user}:${rabbit.password}@127.0.0.1:${rabbit.port}/${enc(rabbit.vhost)}`), s);
    passed(await run(`amqp://${enc(rabbit.oddUser)}:${enc(rabbit.oddPassword)}@127.0.0.1:${rabbit.port}/${enc(rabbit.vhost)}`), s);
    failedAt(await run(`amqp://${rabbit.user}:${WRONG}@127.0.0.1:${rabbit.port}/${enc(rabbit.vhost)}`), 'auth', s);
    passed(await run(`amqps://${rabbit.user}:${rabbit.password}@127.0.0.1:${rabbit.tlsPort}/${enc(rabbit.vhost)}?verify=verify_none`), s);
  });
});

describe('smtp:// and smtps://', () => {
  let plain: SmtpTestServer;
  let secure: SmtpTestServer;
  let starttls: SmtpTestServer;
  before(async () => {
    [plain, secure, starttls] = await Promise.all([startSmtp({ mailer: ODD }), startSmtp({ mailer: ODD }, { secure: true }), startSmtp({ mailer: ODD }, { starttls: true })]);
  });
  after(async () => Promise.all([plain?.stop(), secure?.stop(), starttls?.stop()]));
  test('right (%-encoded), wrong, smtps://, STARTTLS by a query parameter', async () => {
    passed(await run(`smtp://mailer:${enc(ODD)}@127.0.0.1:${plain.port}`), []);
    failedAt(await run(`smtp://mailer:${WRONG}@127.0.0.1:${plain.port}`), 'auth', []);
    passed(await run(`smtps://mailer:${enc(ODD)}@127.0.0.1:${secure.port}?tls.rejectUnauthorized=false`), []);
    passed(await run(`smtp://mailer:${enc(ODD)}@127.0.0.1:${starttls.port}?starttls=true&tls.rejectUnauthorized=false`), []);
    assert.deepEqual(
      starttls.logins.map((l) => l.ok),
      [true],
    );
  });
});

describe('nats:// and tls://', () => {
  let user: NatsInstance;
  let token: NatsInstance;
  let secure: NatsInstance;
  const TOKEN = 'nats-url-token-8z';
  before(async () => {
    const tls = tlsMaterial();
    [user, token, secure] = await Promise.all([
      startNats({ user: { name: 'app', password: ODD } }),
      startNats({ token: TOKEN }),
      startNats({ user: { name: 'app', password: ODD }, tls: { certFile: tls.valid.certFile, keyFile: tls.valid.keyFile } }),
    ]);
  });
  after(async () => Promise.all([user?.stop(), token?.stop(), secure?.stop()]));
  test('user and password (%-encoded), token, wrong, tls:// with type nats', async () => {
    passed(await run(`nats://app:${enc(ODD)}@127.0.0.1:${user.port}`), [TOKEN]);
    failedAt(await run(`nats://app:${WRONG}@127.0.0.1:${user.port}`), 'auth', [TOKEN]);
    passed(await run(`nats://${TOKEN}@127.0.0.1:${token.port}`), [TOKEN]);
    failedAt(await run(`nats://${WRONG}@127.0.0.1:${token.port}`), 'auth', [TOKEN]);
    passed(await run(`tls://app:${enc(ODD)}@127.0.0.1:${secure.port}`, '  type: nats\n  disable_tls_verification: true\n'), [TOKEN]);
  });
  test('a server list: the first server that passes passes; a refused login ends the list', async () => {
    const dead = await freePort();
    const r = await run(`nats://app:${enc(ODD)}@127.0.0.1:${dead},nats://127.0.0.1:${user.port}`);
    passed(r, [TOKEN]);
    assert.ok(r.details?.includes(`127.0.0.1:${user.port} answered (server 2 of 2)`), JSON.stringify(r));
    failedAt(await run(`nats://app:${WRONG}@127.0.0.1:${user.port},127.0.0.1:${secure.port}`), 'auth', [TOKEN]);
  });
});

describe('mqtt:// and mqtts://', () => {
  let broker: MosquittoInstance;
  before(async () => {
    const tls = tlsMaterial();
    broker = await startMosquitto({ users: [{ name: 'app', password: ODD }], acl: 'user app\ntopic readwrite #\n', tls: { certFile: tls.valid.certFile, keyFile: tls.valid.keyFile } });
  });
  after(async () => broker?.stop());
  test('right (%-encoded), wrong, mqtts://', async () => {
    passed(await run(`mqtt://app:${enc(ODD)}@127.0.0.1:${broker.port}`), []);
    failedAt(await run(`mqtt://app:${WRONG}@127.0.0.1:${broker.port}`), 'auth', []);
    passed(await run(`mqtts://app:${enc(ODD)}@127.0.0.1:${broker.tlsPort}`, '  disable_tls_verification: true\n'), []);
  });
});

describe('memcache:// and memcached://', { skip: saslAvailable() ? false : 'perl DB_File missing: cannot write a sasldb' }, () => {
  let mc: Memcached;
  before(async () => {
    mc = await startMemcached({ sasl: { app: ODD } });
  });
  after(async () => mc?.stop());
  test('right (%-encoded) and wrong', async () => {
    passed(await run(`memcache://app:${enc(ODD)}@127.0.0.1:${mc.port}`), []);
    failedAt(await run(`memcached://app:${WRONG}@127.0.0.1:${mc.port}`), 'auth', []);
  });
});

describe('ssh:// and sftp://', { skip: sshdAvailable() ? false : 'sshd missing, or not root' }, () => {
  let sshd: SshdInstance;
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => sshd?.stop());
  test('user and password from the URL; a wrong one fails at auth', async () => {
    passed(await run(`ssh://${SSH_USER}:${enc(SSH_PASSWORD)}@127.0.0.1:${sshd.port}`), [SSH_PASSWORD]);
    passed(await run(`sftp://${SSH_USER}:${enc(SSH_PASSWORD)}@127.0.0.1:${sshd.port}`, `  host_key: ${sshd.fingerprint}\n`), [SSH_PASSWORD]);
    failedAt(await run(`ssh://${SSH_USER}:${WRONG}@127.0.0.1:${sshd.port}`), 'auth', [SSH_PASSWORD]);
  });
});

describe('http://, https://, tcp://, tls://', () => {
  let web: TestHttpServer;
  let secureWeb: TestHttpServer;
  let tls: ReturnType<typeof tlsMaterial>;
  before(async () => {
    tls = tlsMaterial();
    [web, secureWeb] = await Promise.all([startHttpServer(), startHttpServer({ cert: tls.valid.cert, key: tls.valid.key })]);
  });
  after(async () => Promise.all([web?.close(), secureWeb?.close()]));
  test('basic auth from the userinfo (%-encoded), a wrong password fails at status', async () => {
    const encoded = BASIC_PASSWORD.replace(/-/g, '%2D');
    passed(await run(`http://${BASIC_USER}:${encoded}@127.0.0.1:${web.port}/basic`), [BASIC_PASSWORD]);
    failedAt(await run(`http://${BASIC_USER}:${WRONG}@127.0.0.1:${web.port}/basic`), 'status', [BASIC_PASSWORD]);
    passed(await run(`https://127.0.0.1:${secureWeb.port}/ok`, `  ca_file: ${tls.caFile}\n`), []);
  });
  test('tcp:// and tls://', async () => {
    passed(await run(`tcp://127.0.0.1:${web.port}`), []);
    passed(await run(`tls://127.0.0.1:${secureWeb.port}`, `  ca_file: ${tls.caFile}\n`), []);
    failedAt(await run(`tls://127.0.0.1:${secureWeb.port}`), 'tls', []);
  });
});

describe('dns://', () => {
  let ns: DnsmasqInstance;
  before(async () => {
    ns = await startDnsmasq(['--host-record=web.test,192.0.2.10', '--mx-host=mx.test,mail.test,10'], ['test'], 'web.test');
  });
  after(async () => ns?.stop());
  test('the path is the name, the authority the server, ?type= the record type', async () => {
    passed(await run(`dns://${ns.server}/web.test`, '  expect: 192.0.2.10\n'), []);
    passed(await run(`dns://${ns.server}/mx.test?type=MX`, '  expect: mail.test\n'), []);
    const r = await run(`dns://${ns.server}/nothere.test`);
    assert.equal(r.status, 'failed', JSON.stringify(r));
  });
});

describe('mongodb:// (the wire-protocol test server)', () => {
  let server: MongoWireServer;
  before(async () => {
    server = await startMongoServer({ users: [{ db: 'admin', user: 'app', password: ODD }], collections: { shop: ['orders'] } });
  });
  after(async () => server?.close());
  test('right (%-encoded), wrong, database and authSource from the URL', async () => {
    passed(await run(`mongodb://app:${enc(ODD)}@127.0.0.1:${server.port}/shop?authSource=admin`), []);
    failedAt(await run(`mongodb://app:${WRONG}@127.0.0.1:${server.port}/shop?authSource=admin`), 'auth', []);
    const r = await run(`mongodb://app:${enc(ODD)}@127.0.0.1:${server.port}/shop`);
    failedAt(r, 'auth', []); // the user lives in admin, not in shop (the URL's database is the auth source)
  });
});

describe('mongodb:// seed lists and mongodb+srv:// (the wire-protocol test server, dnsmasq)', () => {
  let primary: MongoWireServer;
  let secondary: MongoWireServer;
  let secure: MongoWireServer;
  let ns: DnsmasqInstance;
  let dead: number;
  before(async () => {
    dead = await freePort();
    const common = { users: [{ db: 'admin', user: 'app', password: ODD }], collections: { shop: ['orders'] } };
    const cert = leafFor('node2.conn-check.test', 'DNS:node2.conn-check.test');
    [primary, secondary, secure] = await Promise.all([
      startMongoServer({ ...common, replicaSet: { name: 'rs0' } }),
      startMongoServer({ ...common, replicaSet: { name: 'rs0', secondary: true } }),
      startMongoServer({ ...common, tls: { cert: cert.cert, key: cert.key } }),
    ]);
    ns = await startDnsmasq(
      [
        '--host-record=node0.conn-check.test,127.0.0.1',
        '--host-record=node1.conn-check.test,127.0.0.1',
        // node0 (nobody listening) first by priority, then the primary
        `--srv-host=_mongodb._tcp.cluster.conn-check.test,node0.conn-check.test,${dead},0,10`,
        `--srv-host=_mongodb._tcp.cluster.conn-check.test,node1.conn-check.test,${primary.port},1,10`,
        '--txt-record=cluster.conn-check.test,authSource=admin&replicaSet=rs0',
        `--srv-host=_mongodb._tcp.other.conn-check.test,node1.conn-check.test,${secondary.port},0,10`,
        '--txt-record=other.conn-check.test,replicaSet=rs9',
        `--srv-host=_mongodb._tcp.evil.conn-check.test,node1.elsewhere.test,${primary.port},0,10`,
        '--host-record=node2.conn-check.test,127.0.0.1',
        // node9 has no address: that server fails at resolve, the next one is tried
        `--srv-host=_mongodb._tcp.gap.conn-check.test,node9.conn-check.test,${primary.port},0,10`,
        `--srv-host=_mongodb._tcp.gap.conn-check.test,node1.conn-check.test,${primary.port},1,10`,
        `--srv-host=_mongodb._tcp.secure.conn-check.test,node2.conn-check.test,${secure.port},0,10`,
      ],
      ['conn-check.test', 'elsewhere.test'],
      'node1.conn-check.test',
    );
  });
  after(async () => Promise.all([primary?.close(), secondary?.close(), secure?.close(), ns?.stop()]));

  test('a seed list: each seed directly, in order, through the relay; replicaSet is checked', async () => {
    const r = await run(`mongodb://app:${enc(ODD)}@127.0.0.1:${dead},127.0.0.1:${secondary.port}/shop?authSource=admin&replicaSet=rs0`);
    passed(r, []);
    assert.ok(r.details?.includes('replica set "rs0", secondary'), JSON.stringify(r));
    assert.ok(r.details?.includes(`127.0.0.1:${secondary.port} answered (server 2 of 2)`), JSON.stringify(r));
    const other = await run(`mongodb://app:${enc(ODD)}@127.0.0.1:${secondary.port},127.0.0.1:${primary.port}/shop?authSource=admin&replicaSet=rs1`);
    failedAt(other, 'protocol', []);
    assert.match(other.error ?? '', /^none of the 2 servers passed \(.*in replica set "rs0", not rs1;.*in replica set "rs0", not rs1\)$/);
    failedAt(await run(`mongodb://app:${WRONG}@127.0.0.1:${primary.port},127.0.0.1:${secondary.port}/shop?authSource=admin`), 'auth', []);
  });

  test('mongodb+srv://: SRV seeds in priority order, TXT authSource and replicaSet, TLS on by default', async () => {
    const at = `  dns_server: ${ns.server}\n`;
    // authSource=admin comes from the TXT record: without it, the auth source would be shop
    const r = await run(`mongodb+srv://app:${enc(ODD)}@cluster.conn-check.test/shop?tls=false`, at);
    passed(r, []);
    assert.equal(r.name, 'mongodb+srv:cluster.conn-check.test');
    assert.ok(r.details?.some((d) => d.startsWith(`SRV _mongodb._tcp.cluster.conn-check.test (asked ${ns.server}): node0.conn-check.test:${dead}, node1.conn-check.test:${primary.port}`)), JSON.stringify(r));
    assert.ok(r.details?.includes('TXT cluster.conn-check.test: authSource admin, replicaSet rs0'), JSON.stringify(r));
    assert.ok(r.details?.includes(`node1.conn-check.test:${primary.port} answered (server 2 of 2)`), JSON.stringify(r));
    // the URL's authSource wins over the TXT record's
    failedAt(await run(`mongodb+srv://app:${enc(ODD)}@cluster.conn-check.test/shop?tls=false&authSource=shop`, at), 'auth', []);
    // TLS is on for +srv unless the URL turns it off: verified against the SRV target's name
    const tls = await run(`mongodb+srv://app:${enc(ODD)}@secure.conn-check.test/shop?authSource=admin&tlsCAFile=${enc(tlsMaterial().caFile)}`, at);
    passed(tls, []);
    assert.ok(tls.details?.some((d) => d.startsWith('TLSv1.3, cert CN=node2.conn-check.test ')), JSON.stringify(tls));
    // ... and a plain server fails there
    failedAt(await run(`mongodb+srv://app:${enc(ODD)}@cluster.conn-check.test/shop`, `${at}  disable_tls_verification: true\n`), 'tls', []);
    // the TXT record's replicaSet is checked
    const other = await run(`mongodb+srv://app:${enc(ODD)}@other.conn-check.test/shop?tls=false&authSource=admin`, at);
    failedAt(other, 'protocol', []);
    assert.match(other.error ?? '', /in replica set "rs0", not rs9/);
    const gap = await run(`mongodb+srv://app:${enc(ODD)}@gap.conn-check.test/shop?tls=false&authSource=admin`, at);
    passed(gap, []);
    assert.ok(gap.details?.includes(`node9.conn-check.test:${primary.port} failed at resolve: node9.conn-check.test: no A or AAAA record at ${ns.server}`), JSON.stringify(gap));
    const evil = await run(`mongodb+srv://app:${enc(ODD)}@evil.conn-check.test/?tls=false`, at);
    failedAt(evil, 'resolve', []);
    assert.match(evil.error ?? '', /names node1\.elsewhere\.test, outside conn-check\.test/);
    const missing = await run(`mongodb+srv://app:${enc(ODD)}@nothere.conn-check.test/?tls=false`, at);
    failedAt(missing, 'resolve', []);
    assert.match(missing.error ?? '', /^SRV _mongodb\._tcp\.nothere\.conn-check\.test: name not found \(NXDOMAIN\)$/);
  });
});
