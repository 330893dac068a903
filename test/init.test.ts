/**
 * `conn-check init --from`: the config printed for a compose file, a dotenv file and Kubernetes
 * manifests validates, never holds a literal credential, and (compose, dotenv) pointed at the
 * test servers passes when run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { PG, startPostgres, type PgServers } from './helpers/postgres.js';
import { startRedis, type RedisInstance } from './helpers/redis.js';
import { startMemcached, type Memcached } from './helpers/memcached.js';
import { startNats, type NatsInstance } from './helpers/nats.js';
import { startMongoServer, type MongoWireServer } from './helpers/mongo-server.js';
import { ROOT_PASSWORD, slapdAvailable, startSlapd, type SlapdInstance } from './helpers/slapd.js';
import { SSH_PASSWORD, SSH_USER, sshdAvailable, startSshd, type SshdInstance } from './helpers/sshd.js';
import { scratchDir } from './helpers/scratch.js';

const MONGO_PASSWORD = 'mongo-Init-pw-3x';
let pg: PgServers;
let redis: RedisInstance;
let mc: Memcached;
let nats: NatsInstance;
let mongo: MongoWireServer;
let dir: string;

before(async () => {
  [pg, redis, mc, nats, mongo] = await Promise.all([
    startPostgres(),
    startRedis(),
    startMemcached(),
    startNats(),
    startMongoServer({ users: [{ db: 'admin', user: 'root', password: MONGO_PASSWORD }], collections: { test: [] } }),
  ]);
  dir = scratchDir('conn-check-init-');
});
after(async () => Promise.all([pg?.stop(), redis?.stop(), mc?.stop(), nats?.stop(), mongo?.close()]));

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), readStdin: () => new Uint8Array(), env, cwd: dir });
  return { code, stdout, stderr, all: stdout + stderr };
}

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

describe('init --from a docker-compose file', () => {
  test('known images get credential checks with ${VAR} references, the rest tcp; the result passes', async () => {
    const compose = write(
      'compose.yaml',
      `services:
  db:
    image: docker.io/library/postgres:16-alpine
    environment:
      POSTGRES_USER: ${PG.user}
      POSTGRES_PASSWORD: a-literal-pg-password
      POSTGRES_DB: ${PG.database}
    ports: ["${pg.plain.port}:5432"]
  cache:
    image: redis:7
    ports:
      - "127.0.0.1:${redis.port}:6379"
  sessions:
    image: memcached:1.6
    ports: [{ target: 11211, published: ${mc.port} }]
  bus:
    image: nats:2
    ports: ["${nats.port}:4222"]
  docs:
    image: mongo:7
    environment:
      - MONGO_INITDB_ROOT_USERNAME=root
      - MONGO_INITDB_ROOT_PASSWORD=a-literal-mongo-password
    ports: ["${mongo.port}:27017"]
  web:
    image: example/web:1
    ports: ["${redis.port}:80", "9999/udp"]
`,
    );
    const r = await cli(['init', '--from', compose]);
    assert.equal(r.code, 0, r.all);
    const cfg = r.stdout;
    assert.ok(!cfg.includes('a-literal'), cfg);
    assert.match(cfg, /# compose\.yaml: service db \(docker\.io\/library\/postgres:16-alpine\), port 5432 published on \d+\n- name: db\n  type: postgres\n/);
    assert.match(cfg, /password: "\$\{POSTGRES_PASSWORD\}"/);
    assert.match(cfg, /username: "\$\{POSTGRES_USER:-connuser\}"/);
    assert.match(cfg, /- name: web\n  type: tcp\n/);
    assert.equal((cfg.match(/^- name:/gm) ?? []).length, 6, cfg);
    const file = write('generated.yaml', cfg);
    const env = { POSTGRES_PASSWORD: PG.password, MONGO_INITDB_ROOT_PASSWORD: MONGO_PASSWORD };
    const valid = await cli(['--validate', file], env);
    assert.equal(valid.code, 0, valid.all);
    const ran = await cli([file], env);
    assert.equal(ran.code, 0, ran.all);
    assert.equal((ran.stdout.match(/ OK$/gm) ?? []).length, 6, ran.stdout);
    const wrong = await cli(['--format', 'json', file], { ...env, POSTGRES_PASSWORD: 'Wr0ng-init-pw' });
    assert.equal(wrong.code, 2);
    assert.deepEqual((JSON.parse(wrong.stdout) as { name: string; step: string }[]).filter((x) => x.step).map((x) => [x.name, x.step]), [['db', 'auth']]);
  });
});

describe('init --from a compose file with ssh and ldap images', { skip: slapdAvailable() && sshdAvailable() ? false : 'slapd or sshd missing, or not root' }, () => {
  let slapd: SlapdInstance;
  let sshd: SshdInstance;
  before(async () => {
    [slapd, sshd] = await Promise.all([startSlapd(), startSshd()]);
  });
  after(async () => Promise.all([slapd?.stop(), sshd?.stop()]));
  test('openssh-server and openldap images: credential checks with ${VAR} references (bitnami: port 1389); the result passes', async () => {
    const compose = write(
      'compose-ssh-ldap.yaml',
      `services:
  shell:
    image: lscr.io/linuxserver/openssh-server:latest
    environment:
      - USER_NAME=${SSH_USER}
      - USER_PASSWORD=a-literal-ssh-password
      - PASSWORD_ACCESS=true
    ports: ["${sshd.port}:2222"]
  directory:
    image: osixia/openldap:1.5.0
    environment:
      LDAP_DOMAIN: example.test
      LDAP_ADMIN_PASSWORD: a-literal-ldap-password
    ports: ["${slapd.port}:389"]
  directory2:
    image: bitnami/openldap:2.6
    environment:
      LDAP_ROOT: dc=example,dc=test
      LDAP_ADMIN_PASSWORD: a-literal-ldap-password
    ports: ["${slapd.port}:1389"]
`,
    );
    const r = await cli(['init', '--from', compose]);
    assert.equal(r.code, 0, r.all);
    const cfg = r.stdout;
    assert.ok(!cfg.includes('a-literal'), cfg);
    assert.match(cfg, /- name: shell\n  type: ssh\n  host: localhost\n  port: \d+\n  username: "\$\{USER_NAME:-conncheck-ssh\}"\n  password: "\$\{USER_PASSWORD\}"\n/);
    assert.match(cfg, /- name: directory\n  type: ldap\n[^-]*bind_dn: "cn=admin,dc=example,dc=test"\n  password: "\$\{LDAP_ADMIN_PASSWORD\}"\n  base_dn: "dc=example,dc=test"\n/);
    assert.match(cfg, /port 1389 published on \d+\n- name: directory2\n  type: ldap\n[^-]*bind_dn: "cn=admin,\$\{LDAP_ROOT:-dc=example,dc=test\}"\n/);
    const file = write('generated-ssh-ldap.yaml', cfg);
    const env = { USER_PASSWORD: SSH_PASSWORD, LDAP_ADMIN_PASSWORD: ROOT_PASSWORD };
    const ran = await cli(['--format', 'json', file], env);
    assert.equal(ran.code, 0, ran.all);
    const wrong = await cli(['--format', 'json', file], { ...env, LDAP_ADMIN_PASSWORD: 'Wr0ng-init-pw' });
    assert.equal(wrong.code, 2);
    assert.deepEqual((JSON.parse(wrong.stdout) as { name: string; step: string }[]).filter((x) => x.step).map((x) => [x.name, x.step]), [['directory', 'auth'], ['directory2', 'auth']]);
  });
});

describe('init --from a dotenv file', () => {
  test('its service URLs become url checks; run with --env-file they pass', async () => {
    const env = write(
      'app.env',
      `# app settings\nDATABASE_URL=postgres://${PG.user}:${encodeURIComponent(PG.password)}@127.0.0.1:${pg.plain.port}/${PG.database}\nexport REDIS_URL="redis://127.0.0.1:${redis.port}/0"\nLOG_LEVEL=debug\nHTTP_PROXY=http://proxy.invalid:1\n`,
    );
    const r = await cli(['init', '--from', env]);
    assert.equal(r.code, 0, r.all);
    assert.ok(!r.stdout.includes(PG.password));
    assert.match(r.stdout, /# app\.env: DATABASE_URL\n- name: DATABASE_URL\n  url: "\$\{DATABASE_URL\}"\n/);
    assert.match(r.stdout, /--env-file app\.env/);
    const file = write('from-env.yaml', r.stdout);
    const ran = await cli(['--env-file', env, file]);
    assert.equal(ran.code, 0, ran.all);
    assert.match(ran.stdout, /^DATABASE_URL OK$/m);
    assert.match(ran.stdout, /^REDIS_URL OK$/m);
  });
});

describe('init --from Kubernetes manifests', () => {
  test('Services and the containers behind them; env URLs; the result validates', async () => {
    const manifests = write(
      'k8s.yaml',
      `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: shop }
spec:
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers:
        - name: postgres
          image: postgres:16
          ports: [{ containerPort: 5432, name: pg }]
          env:
            - { name: POSTGRES_USER, value: shop }
            - name: POSTGRES_PASSWORD
              valueFrom: { secretKeyRef: { name: db, key: password } }
---
apiVersion: v1
kind: Service
metadata: { name: db, namespace: shop }
spec:
  selector: { app: db }
  ports: [{ port: 5432, targetPort: pg }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: example/api:2
          env:
            - { name: CACHE_URL, value: "redis://cache:6379/0" }
---
apiVersion: v1
kind: Service
metadata: { name: api }
spec:
  selector: { app: api }
  ports: [{ port: 80, targetPort: 8080 }]
`,
    );
    const r = await cli(['init', '--from', manifests]);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /# k8s\.yaml: StatefulSet db, container postgres \(postgres:16\), through Service db port 5432\n- name: db\n  type: postgres\n  host: db\.shop\.svc\n  port: 5432\n  username: "\$\{POSTGRES_USER:-shop\}"\n  password: "\$\{POSTGRES_PASSWORD\}"\n/);
    assert.match(r.stdout, /- name: CACHE_URL\n  url: "\$\{CACHE_URL\}"/);
    assert.match(r.stdout, /- name: api\n  type: tcp\n  host: api\n  port: 80\n/);
    const file = write('k8s-checks.yaml', r.stdout);
    const valid = await cli(['--validate', file], { POSTGRES_PASSWORD: 'x-y-z', CACHE_URL: 'redis://cache:6379/0' });
    assert.equal(valid.code, 0, valid.all);
    assert.match(valid.stdout, /3 checks/);
  });

  test('a file that is none of the three, and a missing file, are errors (exit 3)', async () => {
    assert.equal((await cli(['init', '--from', write('x.yaml', 'foo: [1, 2]\n')])).code, 3);
    const missing = await cli(['init', '--from', 'nope.yaml']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /nope\.yaml: file not found/);
  });
});
