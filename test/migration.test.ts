/**
 * Issue 10: conn-check files of the shapes found in the wild (test/fixtures/migration: the
 * generators conn-check-configs and pkgme-service, the tutorial, the demo files) run green
 * through the CLI against real servers, and NRPE habits (sub-step patterns, tags, a second file
 * path) select what they selected under conn-check 1.3.1, or exit 3 when they select nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { startPostgres, PG, type PgServers } from './helpers/postgres.js';
import { startRabbit, type Rabbit } from './helpers/rabbitmq.js';
import { startRedis, type RedisInstance } from './helpers/redis.js';
import { startMemcached, type Memcached } from './helpers/memcached.js';
import { startHttpServer, type TestHttpServer } from './helpers/http-servers.js';
import { startTlsServer, startUdp, type TcpPeer, type UdpPeer } from './helpers/peers.js';
import { startMongoServer, type MongoWireServer } from './helpers/mongo-server.js';
import { startSmtp, type SmtpTestServer } from './helpers/smtp.js';
import { tlsMaterial } from './helpers/tls.js';
import { scratchDir } from './helpers/scratch.js';

const FIXTURES = join(import.meta.dirname, 'fixtures/migration');
const REDIS_PASSWORD = 'celery-Redis-pw-3k9';
const tls = tlsMaterial();
const work = scratchDir('conn-check-migration-');

let pg: PgServers;
let rabbit: Rabbit;
let redis: RedisInstance; // requirepass, and an ACL user
let redisOpen: RedisInstance;
let redisDollar: RedisInstance; // requirepass pa$$w0rd
let memcached: Memcached;
let http: TestHttpServer;
let https: TestHttpServer;
let statsd: UdpPeer;
let tlsPeer: TcpPeer;
let mongo: MongoWireServer;
let vars: Record<string, string>;

before(async () => {
  [pg, rabbit, redis, redisOpen, redisDollar, memcached, http, https, statsd, tlsPeer, mongo] = await Promise.all([
    startPostgres(),
    startRabbit(),
    startRedis({ password: REDIS_PASSWORD, users: [{ name: 'worker', password: 'worker-Acl-pw-81' }] }),
    startRedis(),
    startRedis({ password: 'pa$$w0rd' }),
    startMemcached(),
    startHttpServer(),
    startHttpServer({ cert: tls.valid.cert, key: tls.valid.key }),
    startUdp(),
    startTlsServer({ cert: tls.valid.cert, key: tls.valid.key }),
    startMongoServer({ collections: { app: ['things'] } }),
  ]);
  vars = {
    PG_PORT: String(pg.plain.port),
    PG_USER: PG.user,
    PG_PASSWORD: PG.password,
    PG_DATABASE: PG.database,
    RABBIT_PORT: String(rabbit.port),
    RABBIT_USER: rabbit.user,
    RABBIT_PASSWORD: rabbit.password,
    RABBIT_VHOST: rabbit.vhost,
    REDIS_PORT: String(redis.port),
    REDIS_PASSWORD,
    REDIS_OPEN_PORT: String(redisOpen.port),
    REDIS_DOLLAR_PORT: String(redisDollar.port),
    MEMCACHED_PORT: String(memcached.port),
    STATSD_PORT: String(statsd.port),
    HTTP_PORT: String(http.port),
    HTTPS_PORT: String(https.port),
    TLS_PORT: String(tlsPeer.port),
    MONGO_PORT: String(mongo.port),
  };
});

after(async () => {
  await Promise.all(
    [pg, rabbit, redis, redisOpen, redisDollar, memcached].map((s) => s?.stop().catch(() => {})).concat(
      [http, https, statsd, tlsPeer, mongo].map((s) => s?.close().catch(() => {})),
    ),
  );
});

/** A fixture with the servers' ports and credentials put in, as a file of its own. */
function fixture(name: string): string {
  const text = readFileSync(join(FIXTURES, name), 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (_, v: string) => {
    assert.ok(vars[v] !== undefined, `fixture ${name}: no value for ${v}`);
    return vars[v]!;
  });
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

/** The CLI in-process, as NRPE or cron would call it. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string; lines: string[] }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    readStdin: () => new Uint8Array(),
    env: { ...process.env, ...env },
    cwd: work,
  });
  return { code, out, err, lines: out.trimEnd().split('\n') };
}

const ok = (lines: string[], names: string[], verdict: RegExp) => {
  const expected = [...names].sort().map((n) => `${n} OK`);
  assert.deepEqual(lines.slice(0, -1).sort(), expected, lines.join('\n'));
  assert.match(lines.at(-1)!, verdict);
};

describe('files of the shapes in the wild run green against healthy services', () => {
  test('conn-check-configs (django): sorted keys, string ports, username: null, statsd expect "", amqp without use_tls', async () => {
    const r = await cli(['--connect-timeout', '10', fixture('conn-check-configs-django.yaml')]);
    assert.equal(r.code, 0, r.out + r.err);
    ok(
      r.lines,
      [`postgres:127.0.0.1:${pg.plain.port}`, `amqp:127.0.0.1:${rabbit.port}`, `redis:127.0.0.1:${redis.port}`, `memcache:127.0.0.1:${memcached.port}`, `udp:127.0.0.1:${statsd.port}`],
      /^OK: 5 checks passed in /,
    );
    // redis' vhost was ignored by conn-check: a warning, not an error
    assert.match(r.err, /vhost: unknown option for redis checks, ignored/);
    assert.deepEqual(statsd.received.map(String).slice(-1), ['conncheck.test:1|c']);
  });

  test('amqp without use_tls on a plain port: plain AMQP, and the result says why', async () => {
    const r = await cli(['--format', 'json', fixture('conn-check-configs-django.yaml')]);
    assert.equal(r.code, 0, r.out + r.err);
    const amqp = (JSON.parse(r.out) as { type: string; details: string[] }[]).find((x) => x.type === 'amqp')!;
    assert.ok(amqp.details.includes(`plain AMQP, no TLS: use_tls is not set and port ${rabbit.port} is not the AMQPS port (5671)`), amqp.details.join('\n'));
  });

  test('conn-check-configs with a celery user: redis falls back to AUTH PASSWORD and says so', async () => {
    const r = await cli(['--format', 'json', fixture('conn-check-configs-celery-user.yaml')]);
    assert.equal(r.code, 0, r.out + r.err);
    const [red, amqp] = JSON.parse(r.out) as { status: string; details: string[] }[];
    assert.equal(red!.status, 'passed');
    assert.equal(amqp!.status, 'passed');
    assert.ok(
      red!.details.includes('authenticated with the password alone (AUTH password), as conn-check did; the username was not used: invalid username-password pair for user "celery" (or the user is disabled)'),
      red!.details.join('\n'),
    );
  });

  test('pkgme-service: postgres, amqp without use_tls, http expecting 302', async () => {
    const r = await cli([fixture('pkgme-service.yaml')]);
    assert.equal(r.code, 0, r.out + r.err);
    ok(r.lines, [`postgres:127.0.0.1:${pg.plain.port}`, `amqp:127.0.0.1:${rabbit.port}`, `http:http://127.0.0.1:${http.port}/redirect`], /^OK: 3 checks passed in /);
  });

  test('the tutorial: udp with `expect:` and no value is send-only', async () => {
    const r = await cli([fixture('tutorial.yaml')]);
    assert.equal(r.code, 0, r.out + r.err);
    ok(
      r.lines,
      [`http:http://127.0.0.1:${http.port}/ok`, `tcp:127.0.0.1:${pg.plain.port}`, `udp:127.0.0.1:${statsd.port}`, `memcache:127.0.0.1:${memcached.port}`, `redis:127.0.0.1:${redisOpen.port}`],
      /^OK: 5 checks passed in /,
    );
  });

  test('the demo: aliases, verify: true, pa$$w0rd as written, mongo username alone, --tls-certs-path, an excluded broken check', async () => {
    const file = fixture('demo.yaml');
    const r = await cli(['--tls-certs-path', tls.caFile, '--exclude-tags', 'legacy', file]);
    assert.equal(r.code, 0, r.out + r.err);
    ok(
      r.lines,
      [
        `tls:localhost:${tlsPeer.port}`,
        `http:https://localhost:${https.port}/ok`,
        `postgres:127.0.0.1:${pg.plain.port}`,
        `redis:127.0.0.1:${redisDollar.port}`,
        `memcache:127.0.0.1:${memcached.port}`,
        `mongodb:127.0.0.1:${mongo.port}`,
      ],
      /^OK: 6 checks passed in /,
    );
    // the excluded check's mistake is a warning; tls' verify is named as ignored
    assert.match(r.err, /^warning: .*demo\.yaml:\d+:\d+: checks\[6\] \(redis\): port: expected an integer 1-65535, got "not-a-port" \(ignored: the tags leave this check out/m);
    assert.match(r.err, /checks\[0\] \(ssl\): verify: conn-check ignored this option/);
    // without the exclusion the same file is invalid (conn-check: a traceback and exit 1)
    const all = await cli(['--tls-certs-path', tls.caFile, file]);
    assert.equal(all.code, 3);
    assert.match(all.err, /checks\[6\] \(redis\): port: expected an integer/);
  });
});

describe('NRPE command lines: conn-check sub-step names as patterns', () => {
  const run = async (file: string, ...patterns: string[]) => cli([fixture(file), ...patterns]);

  test('memcache:H:P:connect selects the memcache check only', async () => {
    const r = await run('tutorial.yaml', `memcache:127.0.0.1:${memcached.port}:connect`);
    assert.equal(r.code, 0, r.err);
    ok(r.lines, [`memcache:127.0.0.1:${memcached.port}`], /^OK: 1 check passed in /);
  });

  test('http:URL:* (steps http:URL:tcp:H:P and http:URL:) selects the http check; ? in a URL is literal', async () => {
    const r = await run('tutorial.yaml', `http:http://127.0.0.1:${http.port}/ok:*`);
    assert.equal(r.code, 0, r.err);
    ok(r.lines, [`http:http://127.0.0.1:${http.port}/ok`], /^OK: 1 check passed in /);
    // `?` is not a wildcard: /o? does not match /ok
    const q = await run('tutorial.yaml', `http:http://127.0.0.1:${http.port}/o?:*`);
    assert.equal(q.code, 3);
  });

  test('redis:H:P:connect with auth selects the redis check with a password', async () => {
    const r = await run('conn-check-configs-django.yaml', `redis:127.0.0.1:${redis.port}:connect with auth`);
    assert.equal(r.code, 0, r.err);
    ok(r.lines, [`redis:127.0.0.1:${redis.port}`], /^OK: 1 check passed in /);
  });

  test('*:connect* selects the redis and memcache checks, nothing else', async () => {
    const r = await run('tutorial.yaml', '*:connect*');
    assert.equal(r.code, 0, r.err);
    ok(r.lines, [`memcache:127.0.0.1:${memcached.port}`, `redis:127.0.0.1:${redisOpen.port}`], /^OK: 2 checks passed in /);
  });

  test("tcp:H:5432-style names select postgres (its tcp step); tcp:* selects postgres and amqp, not http's prefixed step", async () => {
    const one = await run('pkgme-service.yaml', `tcp:127.0.0.1:${pg.plain.port}`);
    assert.equal(one.code, 0, one.err);
    ok(one.lines, [`postgres:127.0.0.1:${pg.plain.port}`], /^OK: 1 check passed in /);
    const all = await run('pkgme-service.yaml', 'tcp:*');
    ok(all.lines, [`postgres:127.0.0.1:${pg.plain.port}`, `amqp:127.0.0.1:${rabbit.port}`], /^OK: 2 checks passed in /);
    const login = await run('pkgme-service.yaml', 'postgres:*');
    ok(login.lines, [`postgres:127.0.0.1:${pg.plain.port}`], /^OK: 1 check passed in /);
  });

  test('a pattern that matches nothing, or a second config file, is UNKNOWN (exit 3), naming it', async () => {
    const none = await run('tutorial.yaml', 'mysql:*');
    assert.equal(none.code, 3);
    assert.equal(none.out, '');
    assert.match(none.err, /^UNKNOWN: nothing to check: no check matches the pattern "mysql:\*"/m);
    const second = await cli([fixture('tutorial.yaml'), fixture('demo.yaml')]);
    assert.equal(second.code, 3);
    assert.match(second.err, /looks like a config file: conn-check takes one CONFIG/);
    const tags = await cli(['--include-tags', 'nosuchtag', fixture('tutorial.yaml')]);
    assert.equal(tags.code, 3);
    assert.match(tags.err, /^UNKNOWN: nothing to check: no check has a tag among nosuchtag/m);
  });

  test('unselected checks print nothing; --dry-run honours tags and patterns', async () => {
    const tagged = await cli(['--include-tags', 'cache', fixture('tutorial.yaml')]);
    assert.equal(tagged.code, 0, tagged.err);
    ok(tagged.lines, [`memcache:127.0.0.1:${memcached.port}`, `redis:127.0.0.1:${redisOpen.port}`], /^OK: 2 checks passed in /);
    const dry = await cli(['--dry-run', '--include-tags', 'web', fixture('tutorial.yaml')]);
    assert.equal(dry.code, 0);
    assert.deepEqual(dry.lines.slice(0, -1), [`SKIPPED: http:http://127.0.0.1:${http.port}/ok`]);
    const dryPattern = await cli(['--dry-run', fixture('tutorial.yaml'), '*:connect*']);
    assert.deepEqual(dryPattern.lines.slice(0, -1), [`SKIPPED: memcache:127.0.0.1:${memcached.port}`, `SKIPPED: redis:127.0.0.1:${redisOpen.port}`]);
    // machine formats keep the rows of the checks left out
    const json = await cli(['--format', 'json', '--include-tags', 'cache', fixture('tutorial.yaml')]);
    assert.deepEqual((JSON.parse(json.out) as { status: string }[]).map((x) => x.status), ['skipped', 'skipped', 'skipped', 'passed', 'passed']);
  });
});

describe('use_tls unset follows the port: TLS on 5671 (amqp) and 465 (smtp)', () => {
  // 127.0.0.2 (loopback) so that the well-known ports do not clash with a broker on 127.0.0.1
  let amqps: TlsServer;
  let smtps: SmtpTestServer;
  const handshakes: string[] = [];
  before(async () => {
    amqps = createTlsServer({ cert: tls.valid.cert, key: tls.valid.key }, (s) => {
      handshakes.push(s.getProtocol() ?? '');
      s.destroy(); // not a broker: the login fails after a verified handshake
    });
    amqps.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => amqps.once('error', reject).listen(5671, '127.0.0.2', () => resolve()));
    smtps = await startSmtp({ mailer: 'mailer-Pw-2j4' }, { secure: true, listen: { host: '127.0.0.2', port: 465 } });
  });
  after(async () => {
    await Promise.all([new Promise<void>((r) => amqps.close(() => r())), smtps?.stop()]);
  });

  test('amqp on 5671 without use_tls speaks TLS (verified) and notes it', async () => {
    const file = join(work, 'amqps.yaml');
    writeFileSync(file, '- {type: amqp, host: 127.0.0.2, port: 5671, username: u, password: p, server_name: localhost}\n');
    const r = await cli(['--format', 'json', '--tls-certs-path', tls.caFile, file]);
    const [res] = JSON.parse(r.out) as { status: string; step: string; details: string[] }[];
    assert.equal(res!.step, 'auth', JSON.stringify(res)); // past tcp and tls
    assert.ok(res!.details.includes('TLS: use_tls is not set and 5671 is the AMQPS port'), res!.details.join('\n'));
    assert.ok(handshakes.length >= 1);
    // and verification is on: without the CA the same check fails at tls
    const untrusted = await cli(['--format', 'json', file]);
    assert.equal((JSON.parse(untrusted.out) as { step: string }[])[0]!.step, 'tls');
  });

  test('smtp on 465 without use_tls logs in over implicit TLS; on another port it is plain', async () => {
    const file = join(work, 'smtps.yaml');
    writeFileSync(file, '- {type: smtp, host: 127.0.0.2, port: 465, username: mailer, password: mailer-Pw-2j4, server_name: localhost}\n');
    const r = await cli(['--format', 'json', '--tls-certs-path', tls.caFile, file]);
    const [res] = JSON.parse(r.out) as { status: string; error?: string; details: string[] }[];
    assert.equal(res!.status, 'passed', res!.error);
    assert.ok(res!.details.includes('implicit TLS: use_tls is not set and 465 is the SMTPS port'), res!.details.join('\n'));
    assert.deepEqual(smtps.logins.at(-1), { user: 'mailer', ok: true });
    const plain = await startSmtp({ mailer: 'mailer-Pw-2j4' });
    try {
      writeFileSync(file, `- {type: smtp, host: 127.0.0.1, port: ${plain.port}, username: mailer, password: mailer-Pw-2j4}\n`);
      const p = await cli(['--format', 'json', file]);
      const [pres] = JSON.parse(p.out) as { status: string; error?: string; details: string[] }[];
      assert.equal(pres!.status, 'passed', pres!.error);
      assert.ok(pres!.details.some((d) => d.startsWith('plain SMTP, no TLS: use_tls is not set')), pres!.details.join('\n'));
    } finally {
      await plain.stop();
    }
  });
});

describe('redis: a server that does not know ACLs (before 6)', () => {
  let server: Server;
  let port: number;
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  before(async () => {
    // Redis 5 answers `AUTH user pass` with a wrong-arity error; a real one cannot be installed here
    server = createNetServer((s: Socket) => {
      sockets.add(s);
      let buf = '';
      s.on('error', () => {});
      s.on('data', (d) => {
        buf += d.toString('latin1');
        for (;;) {
          const m = /^\*(\d+)\r\n/.exec(buf);
          if (!m) return;
          const parts: string[] = [];
          let rest = buf.slice(m[0].length);
          for (let i = 0; i < Number(m[1]); i++) {
            const b = /^\$(\d+)\r\n/.exec(rest);
            if (!b || rest.length < b[0].length + Number(b[1]) + 2) return;
            parts.push(rest.slice(b[0].length, b[0].length + Number(b[1])));
            rest = rest.slice(b[0].length + Number(b[1]) + 2);
          }
          buf = rest;
          seen.push(parts.map((p, i) => (i === 0 ? p.toUpperCase() : '*')).join(' '));
          const cmd = parts[0]!.toUpperCase();
          if (cmd === 'AUTH' && parts.length === 3) s.write("-ERR wrong number of arguments for 'auth' command\r\n");
          else if (cmd === 'AUTH') s.write(parts[1] === REDIS_PASSWORD ? '+OK\r\n' : '-ERR invalid password\r\n');
          else if (cmd === 'PING') s.write('+PONG\r\n');
          else s.write(`-ERR unknown command '${cmd}'\r\n`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('AUTH user pass refused for its arity, then AUTH pass passes, noted', async () => {
    const file = join(work, 'redis5.yaml');
    writeFileSync(file, `- {type: redis, host: 127.0.0.1, port: ${port}, username: celery, password: ${REDIS_PASSWORD}}\n`);
    const r = await cli(['--format', 'json', file]);
    const [res] = JSON.parse(r.out) as { status: string; error?: string; details: string[] }[];
    assert.equal(res!.status, 'passed', res!.error);
    assert.ok(res!.details.includes('authenticated with the password alone (AUTH password), as conn-check did; the username was not used: the server does not know ACL users (Redis before 6)'), res!.details.join('\n'));
    assert.deepEqual(seen.slice(0, 3), ['AUTH * *', 'AUTH *', 'PING']);
  });

  test('an ACL user on a real server authenticates with the ACL form, noted', async () => {
    const file = join(work, 'redis-acl.yaml');
    writeFileSync(file, `- {type: redis, host: 127.0.0.1, port: ${redis.port}, username: worker, password: worker-Acl-pw-81}\n`);
    const r = await cli(['--format', 'json', file]);
    const [res] = JSON.parse(r.out) as { status: string; error?: string; details: string[] }[];
    assert.equal(res!.status, 'passed', res!.error);
    assert.ok(res!.details.includes('authenticated as user worker (AUTH username password)'), res!.details.join('\n'));
  });
});
