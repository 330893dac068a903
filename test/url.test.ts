/**
 * `url:` on a check: each scheme parses to its type's options (unit level), options next to
 * `url:` override, and bad URLs are config errors at the url key's line and column without
 * the credentials. The runs against real servers are in url-servers.test.ts.
 */
import { MIN_MASK_LENGTH } from '../src/secrets/index.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/errors.js';
import { knownSchemes } from '../src/checks/registry.js';
import { egressOf } from '../src/report/egress.js';

async function one(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const { checks } = await parseConfig({ file: 'c.yaml', text: yaml }, env);
  assert.equal(checks.length, 1);
  return checks[0]!;
}

async function errors(yaml: string, env: NodeJS.ProcessEnv = {}) {
  try {
    await parseConfig({ file: 'c.yaml', text: yaml }, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.filter((i) => i.severity === 'error');
  }
  assert.fail('expected a config error');
}

const cases: [string, string, Record<string, unknown>][] = [
  ['postgres', 'postgres://app:p%40ss%2Fw0rd@db.example:6543/shop?sslmode=verify-full&sslrootcert=/ca.pem', { host: 'db.example', port: 6543, username: 'app', password: 'p@ss/w0rd', database: 'shop', sslmode: 'verify-full', ca_file: '/ca.pem' }],
  ['postgres', 'postgresql://app:pw1@db/?ssl=true', { host: 'db', port: 5432, username: 'app', database: 'app', sslmode: 'require' }],
  ['postgres', 'postgresql://app:pw1@%2Fvar%2Frun%2Fpostgresql/shop', { host: '/var/run/postgresql', port: 5432, database: 'shop' }],
  ['postgres', 'postgres://app:pw1@/shop?host=/tmp/sock', { host: '/tmp/sock', database: 'shop' }],
  ['postgres', 'postgres://app:pw1@[::1]:5433/shop', { host: '::1', port: 5433 }],
  ['postgres', 'postgres://app:pw1@h1:5432,h2:5433/shop?sslmode=require', { hosts: ['h1:5432', 'h2:5433'], host: undefined, port: undefined, username: 'app', password: 'pw1', database: 'shop', sslmode: 'require', target_session_attrs: 'any' }],
  ['postgres', 'postgres://app:pw1@h1,h2/shop?target_session_attrs=read-write', { hosts: ['h1:5432', 'h2:5432'], target_session_attrs: 'read-write' }],
  ['postgres', 'postgresql://app:pw1@h1,%5B::1%5D,[::2]:6000/shop', { hosts: ['h1:5432', '[::1]:5432', '[::2]:6000'], database: 'shop' }],
  ['mysql', 'mysql://root:s3cr%3At@127.0.0.1/app?ssl-mode=REQUIRED', { host: '127.0.0.1', port: 3306, username: 'root', password: 's3cr:t', database: 'app', tls: true, disable_tls_verification: true }],
  ['mysql', 'mariadb://u:pw1@m:3307?ssl=true', { host: 'm', port: 3307, tls: true, disable_tls_verification: false }],
  ['redis', 'redis://:pw1@cache:6380/2', { host: 'cache', port: 6380, password: 'pw1', db: 2, tls: false }],
  ['redis', 'redis+unix://:p%40w1@/run/redis/redis.sock?db=3', { host: '/run/redis/redis.sock', password: 'p@w1', db: 3, tls: false }],
  ['redis', 'redis+socket:///tmp/r.sock?password=pw1', { host: '/tmp/r.sock', password: 'pw1', db: undefined }],
  ['mysql', 'mysql://app:pw1@localhost/shop?socket=%2Frun%2Fmysqld%2Fmysqld.sock', { host: '/run/mysqld/mysqld.sock', username: 'app', database: 'shop' }],
  ['redis', 'rediss://alice:pw1@cache', { host: 'cache', port: 6379, username: 'alice', tls: true }],
  ['amqp', 'amqp://u:pw1@mq/%2F', { host: 'mq', port: 5672, username: 'u', password: 'pw1', vhost: '/', use_tls: false }],
  ['amqp', 'amqps://mq/staging?verify=verify_none', { port: 5671, username: 'guest', password: 'guest', vhost: 'staging', use_tls: true, disable_tls_verification: true }],
  ['mongodb', 'mongodb://u:p%40w@mongo/app?authSource=admin&tls=true&tlsAllowInvalidCertificates=true', { host: 'mongo', port: 27017, username: 'u', password: 'p@w', database: 'app', auth_source: 'admin', tls: true, disable_tls_verification: true }],
  ['mongodb', 'mongodb://u:pw1@m1,m2:27018/app?replicaSet=rs0', { hosts: ['m1:27017', 'm2:27018'], host: undefined, username: 'u', database: 'app', replica_set: 'rs0' }],
  ['mongodb', 'mongodb+srv://u:pw1@cluster0.example.net/app?authSource=admin', { srv: 'cluster0.example.net', host: undefined, hosts: undefined, tls: true, auth_source: 'admin', database: 'app' }],
  ['mongodb', 'mongodb+srv://cluster0.example.net/?tls=false', { srv: 'cluster0.example.net', tls: false }],
  ['smtp', 'smtp://u:pw1@mail?starttls=true', { host: 'mail', port: 587, use_tls: false, starttls: true }],
  ['smtp', 'smtps://u:pw1@mail', { port: 465, use_tls: true, starttls: false }],
  ['nats', 'nats://u:pw1@n', { host: 'n', port: 4222, username: 'u', password: 'pw1', tls: false }],
  ['nats', 'nats://s3cr3ttoken@n:4333', { port: 4333, token: 's3cr3ttoken' }],
  ['nats', 'nats://u:pw1@n1:4222,n2:4223', { hosts: ['n1:4222', 'n2:4223'], host: undefined, username: 'u', password: 'pw1' }],
  ['nats', 'nats://n1,nats://n2:4333', { hosts: ['n1:4222', 'n2:4333'], tls: false }],
  ['mqtt', 'mqtts://u:pw1@b', { port: 8883, tls: true, username: 'u' }],
  ['memcache', 'memcached://u:pw1@mc', { host: 'mc', port: 11211, username: 'u', password: 'pw1' }],
  ['ssh', 'ssh://deploy:pw1@bastion.example:2222', { host: 'bastion.example', port: 2222, username: 'deploy', password: 'pw1' }],
  ['ssh', 'sftp://deploy:p%40w1@files', { host: 'files', port: 22, username: 'deploy', password: 'p@w1' }],
  ['tcp', 'tcp://127.0.0.1:22', { host: '127.0.0.1', port: 22 }],
  ['tls', 'tls://example.org:443', { host: 'example.org', port: 443 }],
  ['http', 'https://u:pw1@example.org/health', { url: 'https://u:pw1@example.org/health' }],
  ['dns', 'dns://127.0.0.1:5353/example.org?type=MX', { host: 'example.org', record_type: 'MX', server: '127.0.0.1:5353' }],
  ['dns', 'dns:///example.org', { host: 'example.org', record_type: 'A' }],
];

describe('url: the scheme picks the type, the URL gives the options', () => {
  for (const [type, url, expected] of cases) {
    test(`${url}`, async () => {
      const c = await one(`- url: ${JSON.stringify(url)}\n`);
      assert.equal(c.type, type);
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(c.options[k], v, `${k} of ${url}`);
      if (type !== 'http') assert.equal(c.options.url, undefined, 'url is not an option of the check');
    });
  }

  test('several hosts, +srv and Unix sockets: names, targets and --egress rules', async () => {
    const pg = await one('- url: "postgres://app:pw1@h1:5432,[::1]:5433/shop"\n');
    assert.equal(pg.name, 'postgres:h1:5432,[::1]:5433');
    assert.deepEqual(egressOf(pg), [{ protocol: 'tcp', host: 'h1', port: 5432 }, { protocol: 'tcp', host: '::1', port: 5433 }]);
    const srv = await one('- url: "mongodb+srv://u:pw1@cluster0.example.net/app"\n  dns_server: 10.0.0.2\n');
    assert.deepEqual([srv.name, srv.definition.target(srv.options)], ['mongodb+srv:cluster0.example.net', 'mongodb+srv://cluster0.example.net']);
    assert.deepEqual(egressOf(srv), [{ protocol: 'udp', host: '10.0.0.2', port: 53 }, { protocol: 'tcp', host: '10.0.0.2', port: 53 }]);
    const sock = await one('- url: "redis+unix:///run/redis.sock"\n');
    assert.deepEqual([sock.name, egressOf(sock)], ['redis:/run/redis.sock', []]);
    await assert.rejects(parseConfig({ file: 'c.yaml', text: '- type: postgres\n  host: a\n  hosts: [b, c]\n  port: 1\n  username: u\n  password: pw1\n  database: d\n' }, {}), /expected host or hosts, got both/);
    await assert.rejects(parseConfig({ file: 'c.yaml', text: '- type: nats\n  hosts: "a:1, b:99999"\n' }, {}), /expected a list of HOST\[:PORT\]/);
  });

  test('every scheme of the issue is known, each to one type', async () => {
    const schemes = await knownSchemes();
    for (const s of ['postgres', 'postgresql', 'mysql', 'mariadb', 'redis', 'rediss', 'amqp', 'amqps', 'mongodb', 'mongodb+srv', 'smtp', 'smtps', 'nats', 'mqtt', 'mqtts', 'memcache', 'memcached', 'http', 'https', 'tcp', 'tls', 'dns', 's3']) {
      assert.ok(schemes.includes(s), s);
    }
  });

  test('tls:// is the tls check, and nats with TLS when the type is nats', async () => {
    assert.equal((await one('- url: tls://h:4443\n')).type, 'tls');
    const n = await one('- type: nats\n  url: tls://u:pw1@h:4443\n');
    assert.equal(n.type, 'nats');
    assert.equal(n.options.tls, true);
    assert.equal(n.options.port, 4443);
    const list = await one('- type: nats\n  url: tls://u:pw1@h1:4443,tls://h2\n');
    assert.deepEqual([list.options.hosts, list.options.tls, list.name], [['h1:4443', 'h2:4222'], true, 'nats:h1:4443,h2:4222']);
  });

  test('options next to url override the URL', async () => {
    const c = await one('- url: postgres://app:pw1@db:5432/shop?sslmode=require\n  port: 6000\n  sslmode: disable\n  name: main-db\n');
    assert.equal(c.options.port, 6000);
    assert.equal(c.options.sslmode, 'disable');
    assert.equal(c.options.database, 'shop');
    assert.equal(c.name, 'main-db');
  });

  test('${VAR} in url is interpolated, and the password is a secret in every form', async () => {
    const c = await one('- url: ${DATABASE_URL}\n', { DATABASE_URL: 'postgres://app:p%40ss%2Fw0rd@db/shop' });
    assert.equal(c.options.password, 'p@ss/w0rd');
    assert.ok(c.secrets.has('p@ss/w0rd'));
    assert.ok(c.secrets.has('p%40ss%2Fw0rd'));
    assert.ok(!c.target.includes('p@ss') && !c.name.includes('p@ss'));
  });

  test('secrets of every scheme are collected', async () => {
    for (const [, url] of cases) {
      const c = await one(`- url: ${JSON.stringify(url)}\n`);
      const pw = c.options.password ?? c.options.token;
      // 1-3 characters are never masked (docs/security.md): a warning names the option instead
      if (typeof pw === 'string' && pw !== 'guest' && pw.length >= MIN_MASK_LENGTH) assert.ok(c.secrets.has(pw), `${url}: ${pw} not a secret`);
    }
  });
});

describe('url: errors at the url key, without credentials', () => {
  test('unknown scheme: line and column of url, the known schemes listed', async () => {
    const [e, ...rest] = await errors('- type: tcp\n  host: a\n  port: 1\n- name: x\n  url: foo://u:sekrit1@h:1\n');
    assert.equal(rest.length, 0, JSON.stringify(rest));
    assert.equal(e!.line, 5);
    assert.equal(e!.column, 3);
    assert.equal(e!.option, 'url');
    assert.match(e!.message, /unknown URL scheme "foo:\/\/"; known schemes: .*postgres:\/\//);
    assert.ok(!JSON.stringify(e).includes('sekrit1'));
  });

  test('unparsable URLs, several hosts, a scheme the type does not take', async () => {
    const bad = [
      ['- url: "redis://:sekrit1@h:99999"\n', /the URL cannot be parsed/],
      ['- url: "redis://:sekrit1@h:6379/x"\n', /database number/],
      ['- url: "redis://:sekrit1@h1:6379,h2:6379/0"\n', /several hosts \(h1:6379,h2:6379\); this protocol's URLs name one server/],
      ['- url: "postgres://u:sekrit1@h1:5432,h 2:5432/db"\n', /host list with an entry that is not HOST\[:PORT\]/],
      ['- url: "postgres://u:sekrit1@h1:5432,%2Ftmp/db"\n', /host list with an entry/],
      ['- url: "mongodb+srv://u:sekrit1@cluster.example:27017/db"\n', /not a mongodb\+srv URL/],
      ['- url: "amqp://u:sekrit1@h/a/b"\n', /%2F/],
      ['- url: "tcp://h"\n', /has no port/],
      ['- url: "redis://:%zzsekrit1@h"\n', /malformed %-escape/],
      ['- type: postgres\n  url: "mysql://u:sekrit1@h/db"\n', /postgres check takes a URL starting with postgres:\/\/ or postgresql:\/\/, not mysql:\/\//],
      ['- type: udp\n  url: "udp://h:1"\n', /udp checks take no url/],
      ['- type: ldap\n  url: "http://h/"\n', /^an ldap check takes a URL starting with ldap:\/\/ or ldaps:\/\/, not http:\/\//],
      ['- type: http\n  url: "ftp://u:sekrit1@h/"\n', /^an http check takes a URL starting with http:\/\/ or https:\/\/, not ftp:\/\//],
      ['- type: mqtt\n  url: "nats://u:sekrit1@h/"\n', /^an mqtt check takes a URL/],
      ['- type: redis\n  url: "nats://u:sekrit1@h/"\n', /^a redis check takes a URL/],
      ['- type: amqp\n  url: "nats://u:sekrit1@h/"\n', /^an amqp check takes a URL/],
      ['- url: "not a url sekrit1"\n', /expected a URL/],
    ] as const;
    for (const [yaml, re] of bad) {
      const issues = await errors(yaml);
      assert.equal(issues.length, 1, `${yaml}: ${JSON.stringify(issues)}`);
      assert.equal(issues[0]!.option, 'url', yaml);
      assert.match(issues[0]!.message, re, yaml);
      assert.ok(!JSON.stringify(issues).includes('sekrit1'), `${yaml}: ${JSON.stringify(issues)}`);
    }
  });

  test('an unset variable in a type-less url is reported as such, once, at the url', async () => {
    const issues = await errors('- url: ${DATABASE_URL}\n');
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.equal(issues[0]!.option, 'url');
    assert.match(issues[0]!.message, /environment variable DATABASE_URL is not set/);
  });

  test('a bad url on a check the tags leave out is a warning, as other errors of such checks', async () => {
    const { checks, warnings } = await parseConfig({ file: 'c.yaml', text: '- url: foo://h\n  tags: [later]\n- url: tcp://127.0.0.1:9\n' }, {}, (tags) => tags.includes('later'));
    assert.equal(checks.length, 1);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.option, 'url');
    assert.match(warnings[0]!.message, /unknown URL scheme "foo:\/\/".*\(ignored: the tags leave this check out/);
  });

  test('type: url stays an unknown type', async () => {
    const [e] = await errors('- type: url\n  url: http://example.org/\n');
    assert.equal(e!.option, 'type');
    assert.match(e!.message, /unknown check type "url"/);
  });

  test('a required option the URL does not give is reported as missing', async () => {
    const issues = await errors('- url: postgres://db/shop\n');
    assert.ok(issues.some((i) => i.option === 'username' && /missing/.test(i.message)), JSON.stringify(issues));
  });
});
