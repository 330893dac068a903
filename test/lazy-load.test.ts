/**
 * Drivers load only when a check of their type runs. The bundles are run as users and the
 * runner run them, with an ESM loader hook (registered through --import) that records every
 * module file loaded; the chunks ncc split off are told apart by content (a string only that
 * driver has), so a driver folded back into the entry, or imported eagerly, fails here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ACTION, CLI, ROOT, runAction, spawnNode, tempConfig } from './helpers/run.js';
import { loadRecorder } from './helpers/load-recorder.js';

/** A string found in the driver's code and nowhere else in the bundle. */
const DRIVERS: Record<string, string> = {
  pg: 'SCRAM-SERVER-FIRST-MESSAGE',
  mongodb: 'mongodb-js',
  ioredis: 'ioredis',
  amqplib: 'amqplib',
  mysql2: 'ER_ACCESS_DENIED_ERROR',
  mqtt: 'mqttjs',
  nats: '_INBOX',
  ssh2: 'All configured authentication methods failed',
  ldapts: '1.3.6.1.4.1.1466.20037',
};

const CLI_DIR = join(ROOT, 'dist/cli');
const ACTION_DIR = join(ROOT, 'dist');

/** driver → the chunk file that holds it, for one bundle directory. */
function driverChunks(dir: string): Map<string, string> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
  const text = new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  const out = new Map<string, string>();
  for (const [driver, marker] of Object.entries(DRIVERS)) {
    const holders = files.filter((f) => text.get(f)!.includes(marker));
    assert.equal(holders.length, 1, `${driver}: expected its marker ${JSON.stringify(marker)} in exactly one file of ${dir}, found it in [${holders.join(', ')}]`);
    assert.notEqual(holders[0], 'index.js', `${driver} is bundled into the entry ${dir}/index.js: it loads on every run`);
    out.set(driver, holders[0]!);
  }
  return out;
}

let work: string;
let recorder: string;

/** Runs a bundle with the recorder; returns what it printed and the bundle files it loaded. */
async function recorded(run: (importArgs: string[], env: NodeJS.ProcessEnv) => Promise<{ code: number | null; stdout: string; stderr: string }>, dir: string) {
  const log = join(mkdtempSync(join(work, 'run-')), 'loaded.txt');
  writeFileSync(log, '');
  const ran = await run(['--import', pathToFileURL(recorder).href], { CONN_CHECK_LOAD_LOG: log });
  const loaded = readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
    .map((u) => fileURLToPath(u))
    .filter((p) => p.startsWith(dir + '/') && !p.slice(dir.length + 1).includes('/'))
    .map((p) => basename(p));
  return { ...ran, loaded: new Set(loaded) };
}

let tcp: Server;
let closer: Server;
let http: HttpServer;
let tcpPort: number;
let closerPort: number;
let httpPort: number;
const sockets = new Set<Socket>();

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'conn-check-lazy-'));
  recorder = loadRecorder();
  tcp = createServer((s) => s.destroy());
  // Accepts, then hangs up: every check type gets past its tcp step and on to its driver.
  closer = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    setTimeout(() => s.destroy(), 20);
  });
  http = createHttpServer((req, res) => res.end('ok'));
  [tcpPort, closerPort, httpPort] = await Promise.all([listen(tcp), listen(closer), listen(http)]);
});

after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([tcp, closer, http].map((s) => new Promise((r) => s.close(() => r(undefined)))));
});

const builtCli = existsSync(join(CLI_DIR, 'index.js'));
const builtAction = existsSync(join(ACTION_DIR, 'index.js'));

describe('CLI bundle', { skip: !builtCli && 'dist/cli is not built' }, () => {
  const cli = (config: string) => (importArgs: string[], env: NodeJS.ProcessEnv) => spawnNode([...importArgs, CLI, config], { env: { ...process.env, ...env }, timeoutMs: 60_000 });

  test('tcp and http checks load no database driver', async () => {
    const chunks = driverChunks(CLI_DIR);
    const config = tempConfig(
      `- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- {type: http, url: "http://127.0.0.1:${httpPort}/"}\n- {type: tcp, host: localhost, port: ${tcpPort}}\n`,
    );
    const r = await recorded(cli(config), CLI_DIR);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^OK: 3 checks passed/m);
    // The recorder sees the bundle: the entry and the chunk(s) it loads after it.
    assert.ok(r.loaded.has('index.js'), `loaded: ${[...r.loaded].join(', ')}`);
    assert.ok([...r.loaded].some((f) => /^\d+\.index\.js$/.test(f)), `no chunk recorded: ${[...r.loaded].join(', ')}`);
    for (const [driver, chunk] of chunks) assert.ok(!r.loaded.has(chunk), `${driver} (${chunk}) was loaded by a tcp/http run; loaded: ${[...r.loaded].join(', ')}`);
  });

  test('--version and --validate load no driver either', async () => {
    const chunks = new Set(driverChunks(CLI_DIR).values());
    const config = tempConfig(`- {type: postgres, host: 127.0.0.1, port: 5432, username: u, password: p, database: d}\n- {type: mongodb, host: 127.0.0.1}\n`);
    for (const args of [['--version'], ['--validate', config]]) {
      const r = await recorded((imp, env) => spawnNode([...imp, CLI, ...args], { env: { ...process.env, ...env } }), CLI_DIR);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual([...r.loaded].filter((f) => chunks.has(f)), [], `${args[0]} loaded a driver`);
    }
  });

  test('a flat list of mappings is read without loading the yaml package; anything else loads it', async () => {
    const yamlChunks = readdirSync(CLI_DIR).filter((f) => f.endsWith('.js') && readFileSync(join(CLI_DIR, f), 'utf8').includes('YAMLParseError'));
    assert.equal(yamlChunks.length, 1, `yaml's marker in [${yamlChunks.join(', ')}]`);
    assert.notEqual(yamlChunks[0], 'index.js', 'yaml is bundled into the entry');
    const flat = await recorded(cli(tempConfig(`# a comment\n- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- type: tcp\n  host: localhost\n  port: "${tcpPort}"\n  tags: [a, b]\n`)), CLI_DIR);
    assert.equal(flat.code, 0, flat.stdout + flat.stderr);
    assert.ok(!flat.loaded.has(yamlChunks[0]!), `the yaml chunk was loaded for a flat file; loaded: ${[...flat.loaded].join(', ')}`);
    // An anchor is outside the fast path: the same checks, read by the yaml package.
    const anchored = await recorded(cli(tempConfig(`- &t {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- *t\n`)), CLI_DIR);
    assert.equal(anchored.code, 0, anchored.stdout + anchored.stderr);
    assert.match(anchored.stdout, /^OK: 2 checks passed/m);
    assert.ok(anchored.loaded.has(yamlChunks[0]!), `the yaml chunk was not loaded for an anchored file; loaded: ${[...anchored.loaded].join(', ')}`);
  });

  // Each type against a server that accepts and hangs up: it gets to its driver, and loads no other.
  const byType: [string, string, string][] = [
    ['postgres', 'pg', 'username: u, password: p, database: d'],
    ['mongodb', 'mongodb', ''],
    ['redis', 'ioredis', ''],
    ['amqp', 'amqplib', 'username: u, password: p, use_tls: false'],
    ['mysql', 'mysql2', 'username: u, password: p'],
    ['mqtt', 'mqtt', ''],
    ['nats', 'nats', ''],
    ['ssh', 'ssh2', 'username: u, password: p'],
    ['ldap', 'ldapts', 'bind_dn: "cn=u", password: p'],
  ];
  for (const [type, driver, extra] of byType) {
    test(`a ${type} check loads ${driver} and no other driver`, async () => {
      const chunks = driverChunks(CLI_DIR);
      const config = tempConfig(`- {type: ${type}, host: 127.0.0.1, port: ${closerPort}, timeout: 5${extra ? `, ${extra}` : ''}}\n`);
      const r = await recorded(cli(config), CLI_DIR);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^${type}:127\\.0\\.0\\.1:${closerPort} FAILED`, 'm'));
      const others = [...chunks].filter(([d, c]) => d !== driver && c !== chunks.get(driver) && r.loaded.has(c)).map(([d]) => d);
      assert.deepEqual(others, [], `a ${type} check loaded other drivers; loaded: ${[...r.loaded].join(', ')}`);
      if (type === 'postgres' || type === 'mongodb' || type === 'ssh' || type === 'ldap') {
        assert.ok(r.loaded.has(chunks.get(driver)!), `${driver} (${chunks.get(driver)}) was not loaded; loaded: ${[...r.loaded].join(', ')}`);
      }
    });
  }
});

describe('action bundle', { skip: !builtAction && 'dist is not built' }, () => {
  test('tcp and http checks load no database driver', async () => {
    const chunks = driverChunks(ACTION_DIR);
    const checks = `- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- {type: http, url: "http://127.0.0.1:${httpPort}/"}\n`;
    const r = await recorded(
      (importArgs, env) =>
        // The runner starts `node dist/index.js` itself: the recorder comes in through NODE_OPTIONS.
        runAction({ checks }, { env: { ...env, NODE_OPTIONS: [process.env.NODE_OPTIONS, importArgs.join('=')].filter(Boolean).join(' ') } }),
      ACTION_DIR,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r as { outputs?: Record<string, string> }).outputs?.passed, '2');
    assert.ok(r.loaded.has(basename(ACTION)), `loaded: ${[...r.loaded].join(', ')}`);
    assert.ok([...r.loaded].some((f) => /^\d+\.index\.js$/.test(f)), `no chunk recorded: ${[...r.loaded].join(', ')}`);
    for (const [driver, chunk] of chunks) assert.ok(!r.loaded.has(chunk), `${driver} (${chunk}) was loaded by a tcp/http run; loaded: ${[...r.loaded].join(', ')}`);
  });
});
