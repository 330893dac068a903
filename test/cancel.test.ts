/**
 * Cancelling a run, as a cancelled workflow or Ctrl-C does (SIGINT/SIGTERM), and max-timeout:
 * the CLI and action bundles report what finished, mark what was still running as cancelled
 * (or "max-timeout reached"), still write their report, summary and outputs, and exit promptly
 * on their own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ACTION, CLI, NODE, ROOT, refusedPort, runAction, tempConfig } from './helpers/run.js';
import { startBlackHole, type TcpPeer } from './helpers/peers.js';

const built = existsSync(join(ROOT, 'dist/cli/index.js')) && existsSync(ACTION) ? false : 'dist/ not built (npm run build)';
/** Once signalled, the process must be gone within this (it only has to stop sockets and print). */
const PROMPT_MS = 2000;

let hole: TcpPeer; // the slow checks' target: accepts, never answers
let open: TcpPeer; // the fast passing check's target (tcp passes on anything that accepts)
let refused: number;

before(async () => {
  [hole, open, refused] = await Promise.all([startBlackHole(), startBlackHole(), refusedPort()]);
});
after(async () => {
  await Promise.all([hole?.close(), open?.close()]);
});

/** Two fast checks (one passes, one fails) and three that would wait 60 s on the black hole. */
function config(): string {
  return JSON.stringify([
    { type: 'tcp', name: 'fast pass', host: '127.0.0.1', port: open.port },
    { type: 'tcp', name: 'fast fail', host: '127.0.0.1', port: refused },
    ...[1, 2, 3].map((i) => ({ type: 'tls', name: `slow ${i}`, host: '127.0.0.1', port: hole.port, timeout: 60 })),
  ]);
}

/** Resolves when `cond` holds (polled), or rejects after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Cancelled {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from the signal to the exit. */
  afterSignalMs: number;
}

/** Spawns the CLI (-U), sends `sig` once the two fast results are printed, and waits for the exit. */
function cancelCli(sig: NodeJS.Signals, args: string[]): Promise<Cancelled> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalledAt: number | undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (signalledAt === undefined && /^fast pass /m.test(stdout) && /^fast fail /m.test(stdout)) {
        // the slow checks have started too (they all start at once): now cancel
        void until(() => hole.accepted >= 3, 5000, 'the slow checks to connect')
          .catch(() => {})
          .then(() => {
            signalledAt = performance.now();
            child.kill(sig);
          });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, afterSignalMs: signalledAt === undefined ? NaN : performance.now() - signalledAt });
    });
  });
}

describe('cancelling the CLI', { skip: built }, () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    test(`${sig}: the finished checks are reported, the running ones marked cancelled, and it exits at once`, async () => {
      const before = hole.accepted;
      const r = await cancelCli(sig, ['-U', tempConfig(config())]);
      assert.ok(hole.accepted - before >= 3, 'the slow checks never connected');
      assert.equal(r.signal, null, `killed by the signal instead of exiting: ${r.stdout}`);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.ok(r.afterSignalMs < PROMPT_MS, `exited ${Math.round(r.afterSignalMs)} ms after ${sig}`);
      const lines = r.stdout.trim().split('\n');
      assert.deepEqual(lines.slice(0, 2).sort(), ['fast fail FAILED - tcp: connection refused', 'fast pass OK']);
      // cancelled is not a failure of the check's own: the lines and the verdict count it apart
      assert.deepEqual(lines.slice(2, 5).sort(), ['slow 1 CANCELLED - tls: cancelled', 'slow 2 CANCELLED - tls: cancelled', 'slow 3 CANCELLED - tls: cancelled']);
      assert.match(lines[5]!, /^CRITICAL: cancelled, 3 of 5 checks did not finish; 1 failed, 1 passed in \d/);
      assert.equal(lines.length, 6, r.stdout);
    });
  }

  test('SIGINT with one check running: its line and the verdict agree (no "FAILED" above "0 failed"), exit 2', async () => {
    const one = JSON.stringify([
      { type: 'tcp', name: 'fast pass', host: '127.0.0.1', port: open.port },
      { type: 'tcp', name: 'fast fail', host: '127.0.0.1', port: refused, severity: 'warning' },
      { type: 'tls', name: 'slow 1', host: '127.0.0.1', port: hole.port, timeout: 60, severity: 'warning' },
      { type: 'tls', name: 'slow 2', host: '127.0.0.1', port: hole.port, timeout: 60 },
      { type: 'tls', name: 'slow 3', host: '127.0.0.1', port: hole.port, timeout: 60 },
    ]);
    const r = await cancelCli('SIGINT', ['-U', tempConfig(one)]);
    assert.equal(r.signal, null);
    assert.equal(r.code, 2, 'a cancelled run is critical, even when what it stopped had severity warning');
    assert.ok(r.afterSignalMs < PROMPT_MS, `exited ${Math.round(r.afterSignalMs)} ms after SIGINT`);
    const lines = r.stdout.trim().split('\n');
    assert.ok(!lines.some((l) => / FAILED - .*cancelled/.test(l)), r.stdout);
    assert.match(lines.at(-1)!, /^CRITICAL: cancelled, 3 of 5 checks did not finish; 1 failed, 1 passed in \d/);
  });

  test('SIGTERM with --format json --output: the report file is written with the cancelled checks', async () => {
    const out = join(tempConfig('', 'unused.yaml'), '..', 'report.json');
    const r = await cancelCli('SIGTERM', ['-U', '--format', 'json', '--output', out, tempConfig(config())]);
    assert.equal(r.signal, null);
    assert.ok(r.afterSignalMs < PROMPT_MS, `exited ${Math.round(r.afterSignalMs)} ms after SIGTERM`);
    const { readFileSync } = await import('node:fs');
    const report = JSON.parse(readFileSync(out, 'utf8')) as unknown;
    const results = (Array.isArray(report) ? report : (report as { results: unknown[] }).results) as { name: string; status: string; error?: string; stopped?: string }[];
    const byName = Object.fromEntries(results.map((x) => [x.name, `${x.status}${x.error ? ` ${x.error}` : ''}${x.stopped ? ` (stopped: ${x.stopped})` : ''}`]));
    assert.deepEqual(byName, {
      'fast pass': 'passed',
      'fast fail': 'failed connection refused',
      'slow 1': 'failed cancelled (stopped: cancelled)',
      'slow 2': 'failed cancelled (stopped: cancelled)',
      'slow 3': 'failed cancelled (stopped: cancelled)',
    });
  });
});

describe('cancelling the action', { skip: built }, () => {
  test('SIGTERM (a cancelled workflow): summary and outputs are written, the running checks marked cancelled, and it exits at once', async () => {
    const before = hole.accepted;
    const openBefore = open.accepted;
    let signalledAt = NaN;
    const r = await runAction(
      { checks: config() },
      {
        timeoutMs: 30_000,
        onSpawn: (pid) => {
          // Signal once every check has connected (the fast ones finish at their connect).
          void until(() => hole.accepted - before >= 3 && open.accepted - openBefore >= 1, 15_000, 'the checks to connect')
            .then(() => new Promise((res) => setTimeout(res, 100)))
            .then(() => {
              signalledAt = performance.now();
              process.kill(pid, 'SIGTERM');
            })
            .catch(() => {});
        },
      },
    );
    const afterSignal = performance.now() - signalledAt;
    assert.ok(!Number.isNaN(afterSignal), 'the signal was never sent');
    assert.equal(r.signal, null, `killed by the signal instead of exiting: ${r.stdout}`);
    assert.equal(r.code, 1, r.stdout);
    assert.ok(afterSignal < PROMPT_MS, `exited ${Math.round(afterSignal)} ms after SIGTERM`);
    assert.match(r.stdout, /fast pass OK/);
    assert.match(r.stdout, /slow 1 CANCELLED - tls: cancelled/);
    assert.equal(r.outputs.total, '5');
    assert.equal(r.outputs.passed, '1');
    assert.equal(r.outputs.failed, '4');
    assert.equal(r.outputs['failed-checks'], 'fast fail\nslow 1\nslow 2\nslow 3');
    const results = JSON.parse(r.outputs.results!) as { name: string; status: string; step?: string; error?: string; stopped?: string }[];
    assert.deepEqual(
      results.map((x) => `${x.name}: ${x.status} ${x.step ?? ''} ${x.error ?? ''} ${x.stopped ?? ''}`.trim()),
      ['fast pass: passed', 'fast fail: failed tcp connection refused', 'slow 1: failed tls cancelled cancelled', 'slow 2: failed tls cancelled cancelled', 'slow 3: failed tls cancelled cancelled'],
    );
    for (const name of ['fast pass', 'fast fail', 'slow 1', 'slow 2', 'slow 3']) assert.ok(r.summary.includes(name), `${name} missing from the summary:\n${r.summary}`);
    assert.match(r.summary, /cancelled/);
  });

  test('max-timeout: running checks fail with "max-timeout reached", summary and outputs are written, and it ends within a second of it', async () => {
    const MAX_S = 2;
    const r = await runAction({ checks: config(), 'max-timeout': String(MAX_S) }, { timeoutMs: 30_000 });
    assert.equal(r.signal, null);
    assert.equal(r.code, 1, r.stdout);
    const results = JSON.parse(r.outputs.results!) as { name: string; status: string; step?: string; error?: string; duration_ms: number }[];
    assert.deepEqual(
      results.map((x) => `${x.name}: ${x.status} ${x.step ?? ''} ${x.error ?? ''}`.trim()),
      ['fast pass: passed', 'fast fail: failed tcp connection refused', 'slow 1: failed tls max-timeout reached', 'slow 2: failed tls max-timeout reached', 'slow 3: failed tls max-timeout reached'],
    );
    assert.deepEqual(
      results.map((x) => (x as { stopped?: string }).stopped ?? '-'),
      ['-', '-', 'max-timeout', 'max-timeout', 'max-timeout'],
      'a structured stop reason, not a word in the message',
    );
    // max-timeout counts from the run's start, and the drivers and the trust store load before the
    // checks' clocks start (runner/run.ts), so a check stopped by it ran for up to MAX_S less that
    // load; what stopped it is asserted above (stopped: max-timeout), not guessed from its duration.
    for (const x of results.slice(2)) assert.ok(x.duration_ms >= MAX_S * 1000 - 1000 && x.duration_ms < MAX_S * 1000 + 1000, `${x.name} took ${x.duration_ms} ms`);
    assert.equal(r.outputs.failed, '4');
    assert.match(r.summary, /max-timeout reached/);
    // Start-up of the bundle included (this machine may be busy): the run itself stops at MAX_S.
    assert.ok(r.ms < MAX_S * 1000 + 1000 + 1500, `the step took ${Math.round(r.ms)} ms`);
    assert.match(r.stdout, /checks failed in 2\.\d\ds/);
  });
});
