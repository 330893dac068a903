/**
 * The fault matrix (issue 4): every check type against every misbehaving peer that applies to
 * it. Each cell runs in-process through the real config + runner with a 1 s timeout and must
 * fail (or, where the design says so, pass: tcp against anything that accepts, tls against a
 * server that goes quiet after a good handshake), at the right step, with a clear message, in
 * less than the timeout plus 1.5 s. Then, per type, one child process (the CLI bundle, -U) runs
 * all of that type's cells and must exit on its own right after its last line. No unhandled
 * rejection or uncaught exception may fire in this process. The matrix is printed at the end
 * (the same table is kept in docs/faults.md for the README).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { CheckResult } from '../src/runner/result.js';
import { liveHandles, runYaml, settledHandles } from './helpers/check.js';
import { CLI, NODE, refusedPort as freeRefusedPort, runAction, tempConfig, watchPeakRss } from './helpers/run.js';
import { tlsMaterial } from './helpers/tls.js';
import { GARBAGE, freeUdpPort, startBlackHole, startCloser, startGarbage, startSilentUdp, startTlsServer, startUdp, type Peer } from './helpers/peers.js';
import { startDrip, startUpgrade } from './helpers/faults.js';
import * as hostile from './helpers/hostile.js';
import { foreignCommands } from './helpers/hostile.js';
import { BASIC_USER } from './helpers/http-servers.js';
import { FAULTS, TIMED_OUT, type Cell, type Fault } from './types/kit.js';
import { typeTests } from './types/index.js';

// ---- no unhandled rejection / uncaught exception anywhere in this process -------------------
const crashes: string[] = [];
process.on('unhandledRejection', (reason) => crashes.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`));
process.on('uncaughtException', (err) => crashes.push(`uncaughtException: ${String(err?.stack ?? err)}`));

const TIMEOUT_S = 1;
/**
 * Cells that must fail at once (a wrong password, a bad certificate) get more time: under a
 * loaded CI machine a 1 s budget can run out before the answer that proves them arrives, and
 * their assertion is the step and message, not the time.
 */
const FAST_FAIL_TIMEOUT_S = 5;
/**
 * Cells that time out after a handshake (10a, 10b) get 3 s: their point is the step the deadline
 * hits, and under load a TLS handshake alone can take most of a 1 s budget (seen: "10b stops
 * after TLS" timed out in step tls).
 */
const MIDWAY_TIMEOUT_S = 3;
const timeoutFor = (c: { message?: RegExp; expect: string; fault: Fault }): number =>
  c.fault === 'midway' || c.fault === 'midwayTls' || c.fault === 'regex'
    ? MIDWAY_TIMEOUT_S // (regex: the answer must arrive before the deadline that stops the match) // also "tls × 10b", which passes once its handshake is done (seen failing at 1 s in a loaded clean-clone run)
    : c.expect === 'failed' && c.message !== TIMED_OUT
      ? FAST_FAIL_TIMEOUT_S
      : TIMEOUT_S;
/** A cell must end within its timeout plus this. */
const MARGIN_MS = 1500;
/** The slow drip's pace: faster than one byte a second so that several bytes arrive before the 1 s deadline. */
const DRIP_MS = 200;
const PASSWORD = 'fault-Secret-9z7';
const BAD = 'nonexistent.invalid';
/**
 * A child running one type's cells (or the action running them all) stays under this peak RSS.
 * Node with every driver loaded is about 100-150 MiB here; a bomb or an unbounded reply takes
 * gigabytes (the 8 GiB brotli body, the MongoDB zero-length loop).
 */
const PEAK_RSS_MIB = 400;
/** Seconds added to every cell's timeout in the one-process action run (see there). */
const ACTION_EXTRA_S = 4;

interface Observed {
  cell: Cell;
  result: CheckResult;
  wallMs: number;
}

const observed: Observed[] = [];
const peers: Peer[] = [];
const stoppers: (() => Promise<void>)[] = [];
const mat = tlsMaterial();
const H = '127.0.0.1';

async function peer<T extends Peer>(p: Promise<T>): Promise<T> {
  const started = await p;
  peers.push(started);
  return started;
}

// ---- the peers -------------------------------------------------------------------------------
const refusedPort = await freeRefusedPort();
const blackHole = await peer(startBlackHole());
const closer = await peer(startCloser());
const garbage = await peer(startGarbage(H, GARBAGE));
const banner = await peer(startGarbage(H, 'SSH-2.0-OpenSSH_9.6 fault\r\n'));
const tlsExpired = await peer(startTlsServer({ cert: mat.expired.cert, key: mat.expired.key }));
const tlsWrongHost = await peer(startTlsServer({ cert: mat.wrongHost.cert, key: mat.wrongHost.key }));
const tlsQuiet = await peer(startTlsServer({ cert: mat.valid.cert, key: mat.valid.key }));
const udpRefused = await freeUdpPort();
const udpSilent = await peer(startSilentUdp());
const udpGarbage = await peer(startUdp(H, () => GARBAGE));

const drip = (prefix: string | Buffer, fill: string | Buffer) => peer(startDrip({ prefix, fill, intervalMs: DRIP_MS }));
/** Protocols that negotiate TLS inside the protocol: the plain part, then silence or TLS with `cert`. */
const upgrade = (plain: { greeting?: string | Buffer; readBytes?: number; reply?: string | Buffer }, then: 'silent' | 'expired' | 'wrong' | 'valid') =>
  peer(startUpgrade({ ...plain, then: then === 'silent' ? 'silent' : then === 'expired' ? mat.expired : then === 'wrong' ? mat.wrongHost : mat.valid }));
after(async () => {
  await Promise.all([...peers.map((p) => p.close()), ...stoppers.map((s) => s().catch(() => {}))]);
});

// ---- the cells: each type's descriptor (test/types/<type>.ts) adds its own -----------------
const WRONG = 'wrong-password-x';
const cells: Cell[] = [];
const at = (p: { port: number }) => ({ host: H, port: p.port });
const types = await typeTests();
for (const { type, test: desc } of types) {
  await desc.faults({
    H,
    BAD,
    PASSWORD,
    WRONG,
    refusedPort,
    blackHole,
    closer,
    garbage,
    banner,
    tlsExpired,
    tlsWrongHost,
    tlsQuiet,
    udpRefused,
    udpSilent,
    udpGarbage,
    caFile: { ca_file: mat.caFile },
    at,
    urlOf: (scheme, p, host = H) => `${scheme}://${host}:${typeof p === 'number' ? p : p.port}`,
    peer,
    drip,
    upgrade,
    async server(start, stop) {
      const started = await start().catch(() => undefined);
      if (started !== undefined) stoppers.push(() => stop(started));
      return started;
    },
    add: (fault, options, expect) => cells.push({ type, fault, options: { type, ...options }, ...expect }),
  });
}
/** Fault 9 for the types whose own test files cover wrong credentials against a real server. */
const CREDS_ELSEWHERE: Record<string, string> = Object.fromEntries(
  types.filter(({ type, test: d }) => d.credsTest && !cells.some((c) => c.type === type && c.fault === 'creds')).map(({ type, test: d }) => [type, d.credsTest!]),
);

// ---- running them ----------------------------------------------------------------------------
test('every check type has cells in the matrix', () => {
  const covered = new Set(cells.map((c) => c.type));
  assert.deepEqual(types.map((t) => t.type).filter((t) => !covered.has(t)), []);
});

// Load the drivers once before the clock starts: under tsx their first import takes a good part
// of a 1 s budget when a dozen cells import them at once (the CLI runs below load them cold).
before(async () => {
  await Promise.all(types.flatMap(({ test: d }) => (d.driver ? [import(d.driver.module)] : [])));
});

describe('fault matrix (in-process, timeout 1 s)', { concurrency: 8 }, () => {
  for (const cell of cells) {
    const title = `${cell.type} × ${FAULTS[cell.fault]}${cell.expect === 'passed' ? ' (passes by design)' : ''}`;
    test(title, { todo: cell.todo }, async () => {
      const t0 = performance.now();
      const [result] = await runYaml(JSON.stringify([{ ...cell.options, timeout: timeoutFor(cell) }]));
      const wallMs = performance.now() - t0;
      observed.push({ cell, result: result!, wallMs });
      const seen = `${result!.status} ${result!.step ?? ''}: ${result!.error ?? ''} (${Math.round(wallMs)} ms)`;
      assert.equal(result!.status, cell.expect, seen);
      if (cell.expect === 'failed') {
        assert.equal(result!.step, cell.step, seen);
        assert.match(result!.error ?? '', cell.message!, seen);
      }
      assert.ok(wallMs < timeoutFor(cell) * 1000 + MARGIN_MS, `took ${Math.round(wallMs)} ms: ${seen}`);
      assert.ok(!JSON.stringify(result).includes(PASSWORD) && !JSON.stringify(result).includes(WRONG), 'a password leaked into the result');
    });
  }
});

// ---- secrets in what a child printed ---------------------------------------------------------
/** Every form of the cells' credentials that a check can put on the wire. */
const SECRET_FORMS = [PASSWORD, WRONG].flatMap((p) => [
  p,
  encodeURIComponent(p),
  Buffer.from(`faultuser:${p}`).toString('base64'),
  Buffer.from(`${BASIC_USER}:${p}`).toString('base64'),
  Buffer.from(`\0faultuser\0${p}`).toString('base64'),
  Buffer.from(p).toString('base64'),
]);
/** No secret, and no 8-character prefix of any of its forms, anywhere in `out`. */
function assertNoSecret(out: string): void {
  for (const f of SECRET_FORMS) assert.ok(!out.includes(f.slice(0, 8)), `a secret form (${f.slice(0, 3)}...) leaked`);
}

// ---- one CLI process per type: every cell of the type in one config --------------------------
interface Timed {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: { at: number; text: string }[];
  stderr: string;
  stdout: string;
  closedAt: number;
  /** The child's peak RSS in MiB (VmHWM). */
  peakMiB: number;
}

/** Runs the CLI bundle, timestamping every stdout line (ms since spawn) and the exit. */
function runCliTimed(args: string[], killAfterMs = 30_000): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const rss = watchPeakRss(child.pid!);
    const lines: Timed['lines'] = [];
    let partial = '';
    let stderr = '';
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ at: performance.now() - t0, text });
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      if (partial) lines.push({ at: performance.now() - t0, text: partial });
      resolve({ code, signal, lines, stderr, stdout, closedAt: performance.now() - t0, peakMiB: rss.stop() });
    });
  });
}

const cellName = (c: Cell) => `${c.type} ${FAULTS[c.fault]}`;
const bundleBuilt = existsSync(CLI.replace(/bin\/conn-check\.js$/, 'dist/cli/index.js'));

describe('the CLI bundle exits on its own right after its last line (one process per type, -U)', { concurrency: 2, skip: bundleBuilt ? false : 'dist/ not built (npm run build)' }, () => {
  for (const type of [...new Set(cells.map((c) => c.type))]) {
    test(type, async (t) => {
      const mine = cells.filter((c) => c.type === type);
      const config = tempConfig(JSON.stringify(mine.map((c) => ({ ...c.options, name: cellName(c), timeout: timeoutFor(c) }))));
      const ran = await runCliTimed(['-U', '-d', config]);
      const text = ran.lines.map((l) => l.text).join('\n');
      assert.equal(ran.signal, null, `killed: ${text}\n${ran.stderr}`);
      assert.equal(ran.code, 2, `${text}\n${ran.stderr}`);
      assert.equal(ran.stderr, '');
      for (const c of mine) {
        const line = ran.lines.find((l) => l.text.startsWith(`${cellName(c)} `));
        assert.ok(line, `no line for ${cellName(c)}:\n${text}`);
        if (c.expect === 'passed') assert.match(line.text, new RegExp(`^${cellName(c)} OK \\(`));
        else assert.match(line.text, new RegExp(`^${cellName(c)} FAILED - ${c.todo ? '\\w+' : c.step}: `), text);
        const took = Number(/\((\d+(?:\.\d+)?)s\)$/.exec(line.text)?.[1]) * 1000;
        assert.ok(took < timeoutFor(c) * 1000 + MARGIN_MS, `${cellName(c)} took ${took} ms: ${line.text}`);
      }
      const last = ran.lines.at(-1)!;
      t.diagnostic(`exited ${Math.round(ran.closedAt - last.at)} ms after its last line`);
      assert.match(last.text, /^CRITICAL: \d+ of \d+ checks failed/);
      // Nothing of a check keeps the process alive: it exits as soon as it has printed the verdict.
      // (1.5 s: this machine may be busy; a forgotten socket or driver timer holds it for longer.)
      assert.ok(ran.closedAt - last.at < 1500, `exited ${Math.round(ran.closedAt - last.at)} ms after its last line`);
      // Hostile peers (issue 9): bounded memory, no workflow command, no secret.
      t.diagnostic(`peak RSS ${Math.round(ran.peakMiB)} MiB`);
      assert.ok(ran.peakMiB < PEAK_RSS_MIB, `peak RSS ${Math.round(ran.peakMiB)} MiB`);
      assert.deepEqual(foreignCommands(ran.stdout, { allowOwn: false }), []);
      assertNoSecret(ran.stdout + ran.stderr);
    });
  }
});

// ---- the action, as GitHub's runner runs it: every cell at once, beside a healthy check ------
describe('the action bundle against every cell at once (INPUT_* variables, summary and output files)', { skip: bundleBuilt ? false : 'dist/ not built (npm run build)' }, () => {
  // All but the catastrophic regex, which the action runs alone below: it keeps a core busy until
  // its deadline by design (a worker, terminated then), 6.5 of this run's 9.2 s of CPU as
  // measured, and on a loaded 2-core machine that starves the other cells and their peers.
  const together = cells.filter((c) => c.fault !== 'regex');
  test('ends by the longest deadline plus slack, bounded memory, every result right, no foreign workflow command, no secret', async (t) => {
    const healthy = await peer(startGarbage(H, 'hello\n'));
    const checks = [
      // All 240-odd checks start at once in one process on a loaded 2-core machine: TLS handshakes
      // alone then take seconds, so every cell gets 4 s more than in-process (what is asserted
      // here is the bound, the memory, the step and the output, not the step's timing).
      ...together.map((c) => ({ ...c.options, name: cellName(c), timeout: timeoutFor(c) + ACTION_EXTRA_S })),
      { type: 'tcp', name: 'healthy neighbour', host: H, port: healthy.port, timeout: 5 },
    ];
    const longest = (Math.max(...together.map(timeoutFor)) + ACTION_EXTRA_S) * 1000;
    let rss: { stop(): number } | undefined;
    const ran = await runAction({ checks: JSON.stringify(checks), concurrency: '1000', 'connect-timeout': '5' }, { timeoutMs: 60_000, onSpawn: (pid) => (rss = watchPeakRss(pid)) });
    const peak = rss!.stop();
    t.diagnostic(`${Math.round(ran.ms)} ms, peak RSS ${Math.round(peak)} MiB, ${checks.length} checks`);
    assert.equal(ran.signal, null, `killed: ${ran.stdout.slice(-2000)}\n${ran.stderr}`);
    assert.equal(ran.code, 1, ran.stderr);
    // The process starts, loads every driver and runs all checks in parallel: its longest
    // deadline plus a slack for start-up and teardown on a loaded 2-core machine.
    assert.ok(ran.ms < longest + 8000, `took ${Math.round(ran.ms)} ms`);
    assert.ok(peak < PEAK_RSS_MIB, `peak RSS ${Math.round(peak)} MiB`);
    const results = JSON.parse(ran.outputs.results ?? '[]') as CheckResult[];
    const byName = new Map(results.map((r) => [r.name, r]));
    assert.equal(byName.get('healthy neighbour')?.status, 'passed', JSON.stringify(byName.get('healthy neighbour')));
    const failedAtOnce: CheckResult[] = [];
    for (const c of together) {
      const r = byName.get(cellName(c));
      assert.ok(r, `no result for ${cellName(c)}`);
      // Cells whose step depends on a peer's answer beating the deadline (10a, 10b, 6 behind an
      // in-protocol 'S', the passes by design) can time out a step earlier when 240 checks and
      // their peers share a loaded machine: their result must be there; their steps are the
      // in-process matrix's to assert. Every other cell fails at once, at its step.
      if (c.expect === 'passed' || ['midway', 'midwayTls', 'tlsStall'].includes(c.fault)) continue;
      assert.equal(r.status, c.expect, `${cellName(c)}: ${JSON.stringify(r)}`);
      if (c.message !== TIMED_OUT) failedAtOnce.push(r);
      assert.equal(r.step, c.step, `${cellName(c)}: ${JSON.stringify(r)}`);
    }
    // (the slowest of the cells asserted above that fail at once alone: on a loaded machine, look here first)
    const slowest = failedAtOnce.sort((a, b) => b.duration_ms - a.duration_ms).slice(0, 5);
    t.diagnostic(`slowest of those that fail at once: ${slowest.map((r) => `${r.name} ${r.duration_ms} ms (${r.status}${r.stopped ? `, ${r.stopped}` : ''})`).join('; ')}`);
    assert.deepEqual(foreignCommands(ran.stdout, { allowOwn: true }), []);
    // (the action's own ::add-mask:: lines carry the secrets to the runner, which hides them)
    const shown = ran.stdout.split(/\r\n|\r|\n/).filter((l) => !l.startsWith('::add-mask::')).join('\n');
    assert.ok(ran.stdout.split('\n').some((l) => l === `::add-mask::${PASSWORD}`), 'the password is not masked');
    assertNoSecret(`${shown}${ran.stderr}${ran.summary}${JSON.stringify(ran.outputs)}`);
  });
});

// ---- a catastrophic regex cannot hold the CLI or the action past max-timeout or a SIGTERM ----
describe('a backtracking expected_body regex and the bundles (issue 9)', { skip: bundleBuilt ? false : 'dist/ not built (npm run build)' }, () => {
  const regexChecks = async (timeout: number) => {
    const p = await peer(hostile.startHttpAnswer('HTTP/1.1 200 OK\r\nContent-Length: 41\r\n\r\n', `${'a'.repeat(40)}!`));
    return JSON.stringify([{ type: 'http', name: 'regex', url: `http://${H}:${p.port}/`, expected_body: '/^(a+)+$/', timeout }]);
  };
  const regexCheck = async (timeout: number) => tempConfig(await regexChecks(timeout));
  test('the action, timeout 30 under max-timeout 2: the run ends at max-timeout, the check failed at its body', async () => {
    const ran = await runAction({ checks: await regexChecks(30), 'max-timeout': '2' }, { timeoutMs: 30_000 });
    assert.equal(ran.signal, null, `killed: ${ran.stdout.slice(-2000)}\n${ran.stderr}`);
    assert.equal(ran.code, 1, ran.stderr);
    const [r] = JSON.parse(ran.outputs.results ?? '[]') as CheckResult[];
    assert.equal(r?.status, 'failed', JSON.stringify(r));
    assert.equal(r?.step, 'body', JSON.stringify(r));
    assert.equal(r?.stopped, 'max-timeout', JSON.stringify(r));
    assert.ok(ran.ms < 2000 + 6000, `took ${Math.round(ran.ms)} ms`);
  });
  test('timeout 30 under --max-timeout 2: the run ends at max-timeout (the regex backtracks for minutes)', async () => {
    const ran = await runCliTimed(['-U', '--max-timeout', '2', await regexCheck(30)]);
    const text = ran.lines.map((l) => l.text).join('\n');
    assert.equal(ran.signal, null, `killed: ${text}`);
    assert.match(text, /^regex FAILED - /m);
    // 2 s of max-timeout, plus start-up and teardown on a loaded machine; the bug ran 116 s.
    assert.ok(ran.closedAt < 2000 + 6000, `took ${Math.round(ran.closedAt)} ms: ${text}`);
  });
  test('SIGTERM while the regex runs: the process ends within a few seconds', async () => {
    const config = await regexCheck(30);
    const t0 = performance.now();
    const child = spawn(NODE, [CLI, '-U', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    // the request is answered at once; then only the regex runs
    await new Promise((r) => setTimeout(r, 2500));
    const sentAt = performance.now();
    child.kill('SIGTERM');
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('close', (c, s) => r([c, s])));
    clearTimeout(killer);
    const after = performance.now() - sentAt;
    assert.notEqual(signal, 'SIGKILL', `not ended by SIGTERM: ${out}`);
    assert.ok(after < 3000, `ended ${Math.round(after)} ms after SIGTERM (code ${code}, ${Math.round(performance.now() - t0)} ms in all): ${out}`);
  });
});

// ---- postgres: a server that asks for the password in cleartext ----------------------------
describe('postgres: a server that asks for the password in cleartext (issue 9)', () => {
  test('sslmode prefer against a server without TLS: the login passes, and the result says the password went out in cleartext', async () => {
    const pgPeer = await peer(hostile.startPgCleartext());
    const pg = { username: 'faultuser', password: PASSWORD, database: 'faultdb' };
    const [r] = await runYaml(JSON.stringify([{ type: 'postgres', ...at(pgPeer), ...pg, timeout: FAST_FAIL_TIMEOUT_S }]));
    assert.equal(r!.status, 'passed', JSON.stringify(r));
    // the peer did get the password: that is what the note warns about
    assert.deepEqual(pgPeer.passwords, [PASSWORD]);
    assert.ok(
      r!.details?.includes('insecure: the server asked for the password in cleartext, and it was sent without TLS (set sslmode: verify-full to refuse this)'),
      JSON.stringify(r!.details),
    );
  });
});

// ---- a thousand black holes ------------------------------------------------------------------
describe('a thousand checks against a black hole', () => {
  test('1000 tls checks with a 1 s timeout (concurrency 1000) all fail in about a second', async (t) => {
    const checks = Array.from({ length: 1000 }, (_, i) => ({ type: 'tls', name: `hole ${i}`, host: H, port: blackHole.port, timeout: 1 }));
    const t0 = performance.now();
    const results = await runYaml(JSON.stringify(checks), { concurrency: 1000 });
    const ms = performance.now() - t0;
    assert.equal(results.length, 1000);
    const wrong = results.filter((r) => r.status !== 'failed' || !['tcp', 'tls'].includes(r.step ?? '') || r.error !== 'timed out after 1s');
    assert.deepEqual(wrong.slice(0, 3), []);
    // One after another they would take 1000 s. Usually ~1.5 s here; a loaded clean-clone CI
    // run once took 5.4 s (1000 TLS contexts and handshakes on 2 CPUs shared with 3 other test
    // files): the bound is a hang guard, the timing lives in the benchmark (case 5).
    t.diagnostic(`took ${Math.round(ms)} ms`);
    assert.ok(ms < 15_000, `took ${Math.round(ms)} ms`);
  });
});

// ---- leftovers, crashes, and the table -------------------------------------------------------
describe('after the matrix', () => {
  test('no socket or timer of a check is still alive once the peers and servers are gone', async (t) => {
    // The peers' and servers' own sockets are closed first: what remains belongs to a check.
    await Promise.all([...peers.splice(0).map((p) => p.close()), ...stoppers.splice(0).map((s) => s().catch(() => {}))]);
    t.diagnostic(`alive right after closing the peers: ${liveHandles().join(', ')}`);
    const t0 = performance.now();
    const left = await settledHandles(3000);
    t.diagnostic(`settled after ${Math.round(performance.now() - t0)} ms`);
    assert.deepEqual(left, []);
  });

  test('no unhandled rejection or uncaught exception fired', () => {
    assert.deepEqual(crashes, []);
  });

  test('the matrix (also in docs/faults.md)', () => {
    const table = renderMatrix();
    console.log(table);
    assert.equal(observed.length, cells.length);
  });
});

/** One short cell of the grid: the step it failed at ("t/o": at the deadline), pass, or n/a. */
function gridCell(type: string, fault: Fault): string {
  const o = observed.find((x) => x.cell.type === type && x.cell.fault === fault);
  if (!o) {
    if (fault === 'creds' && CREDS_ELSEWHERE[type]) return 'own test';
    return '—';
  }
  const r = o.result;
  const mark = o.cell.todo ? ' !' : '';
  if (r.status === 'passed') return `**pass**${o.cell.expect === 'passed' ? '¹' : ' BUG'}`;
  return `${r.step}${/^timed out/.test(r.error ?? '') ? ' ⏱' : ''}${mark}`;
}

function renderMatrix(): string {
  const types = [...new Set(cells.map((c) => c.type))];
  const out: string[] = [];
  out.push(`| what happens when the server... | ${types.join(' | ')} |`);
  out.push(`| --- | ${types.map(() => '---').join(' | ')} |`);
  for (const f of Object.keys(FAULTS) as Fault[]) out.push(`| ${FAULTS[f]} | ${types.map((t) => gridCell(t, f)).join(' | ')} |`);
  out.push('');
  out.push(`Each cell: the step the check failed at, with a 1 s timeout (${MIDWAY_TIMEOUT_S} s for 10a and 10b, ${FAST_FAIL_TIMEOUT_S} s where the failure must come at once); ⏱ = at the deadline ("timed out after Ns");`);
  out.push('**pass**¹ = passes by design (tcp only connects; tls only checks the handshake and certificate); — = does not apply;');
  out.push(`own test = wrong credentials against a real server in ${Object.values(CREDS_ELSEWHERE).map((f) => f.split(' ')[0]).join(', ')}${cells.some((c) => c.todo) ? '; ! = known bug (todo)' : ''}.`);
  out.push(`The slow drip sends one byte every ${DRIP_MS} ms (faster than one a second, so that bytes keep arriving before the 1 s deadline).`);
  out.push('');
  out.push('| type | fault | peer | result | when |');
  out.push('| --- | --- | --- | --- | --- |');
  const order = Object.keys(FAULTS);
  const sorted = [...observed].sort((a, b) => types.indexOf(a.cell.type) - types.indexOf(b.cell.type) || order.indexOf(a.cell.fault) - order.indexOf(b.cell.fault));
  for (const o of sorted) {
    const r = o.result;
    const res = r.status === 'passed' ? 'passed' : `${r.step}: ${(r.error ?? '').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT').replace(/\|/g, '\\|')}`;
    const ms = r.status === 'passed' || !/^timed out/.test(r.error ?? '') ? 'at once' : 'at the deadline';
    out.push(`| ${o.cell.type} | ${FAULTS[o.cell.fault]} | ${o.cell.how ?? ''} | ${res}${o.cell.todo ? ' (known bug)' : ''} | ${ms} |`);
  }
  return out.join('\n');
}
