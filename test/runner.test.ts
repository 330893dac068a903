import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { z } from 'zod';
import { parsedOptions } from './helpers/options.js';
import { parseConfig, type CheckSpec } from '../src/config/load.js';
import { runChecks } from '../src/runner/run.js';
import { defineCheck, CheckError, type AnyCheckDefinition } from '../src/core/contract.js';
import { settledHandles } from './helpers/check.js';
import { listen } from './helpers/listen.js';
import { commonOptions } from '../src/core/common.js';

/** A TCP server that accepts and never sends a byte (and keeps the sockets open). */
const blackHole = () => listen(() => {});

async function specs(yaml: string): Promise<CheckSpec[]> {
  return (await parseConfig({ file: 't.yaml', text: yaml }, {})).checks;
}

/** A check that ignores its signal entirely and never finishes: the runner must still report. */
const stubborn = defineCheck({
  type: 'stubborn',
  summary: 'never ends, ignores its signal',
  options: z.object({}),
  name: () => 'stubborn',
  target: () => 'nowhere',
  run: () => new Promise<void>(() => {}),
}) as unknown as AnyCheckDefinition;

function stubbornSpec(i: number, timeout?: number): CheckSpec {
  return {
    index: i,
    file: 't.yaml',
    line: i + 1,
    column: 1,
    definition: stubborn,
    type: 'stubborn',
    options: {},
    common: parsedOptions(commonOptions, { type: 'stubborn', ...(timeout ? { timeout } : {}) }),
    name: `stubborn-${i}`,
    generatedName: 'stubborn',
    target: 'nowhere',
    secrets: new Set(),
  };
}

test('a check that ignores its signal is still reported at its deadline, with its step', async () => {
  const steps = defineCheck({
    type: 'steps',
    summary: '',
    options: z.object({}),
    name: () => 'steps',
    target: () => 'x',
    async run(_o, ctx) {
      await ctx.step('tcp', async () => {});
      await ctx.step('auth', () => new Promise<void>(() => {}));
    },
  }) as unknown as AnyCheckDefinition;
  const t0 = performance.now();
  const out = await runChecks([{ ...stubbornSpec(0, 0.3), definition: steps }], { connectTimeoutS: 10 });
  const r = out.results[0]!;
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'auth');
  assert.equal(r.error, 'timed out after 0.3s');
  assert.equal(r.stopped, 'timeout');
  assert.ok(performance.now() - t0 < 2000);
});

test('checks run in parallel: 200 never-ending checks with a 0.5 s timeout end together', async () => {
  const list = Array.from({ length: 200 }, (_, i) => stubbornSpec(i, 0.5));
  const t0 = performance.now();
  const out = await runChecks(list, { connectTimeoutS: 10 });
  const elapsed = performance.now() - t0;
  assert.equal(out.results.length, 200);
  assert.ok(out.results.every((r) => r.status === 'failed' && r.error === 'timed out after 0.5s'));
  // Serially this would take 100 s; in parallel about half a second (generous margin).
  assert.ok(elapsed < 5000, `took ${elapsed} ms`);
});

test('concurrency limits how many checks are in flight', async () => {
  let inFlight = 0;
  let most = 0;
  const counted = defineCheck({
    type: 'counted',
    summary: '',
    options: z.object({}),
    name: () => 'counted',
    target: () => 'x',
    async run() {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
    },
  }) as unknown as AnyCheckDefinition;
  const list = Array.from({ length: 30 }, (_, i) => ({ ...stubbornSpec(i), definition: counted }));
  const out = await runChecks(list, { connectTimeoutS: 5, concurrency: 4 });
  assert.equal(most, 4);
  assert.ok(out.results.every((r) => r.status === 'passed'));
});

test('max-timeout fails what is still running, and what never started, then returns', async () => {
  const list = [stubbornSpec(0), stubbornSpec(1), stubbornSpec(2)];
  const t0 = performance.now();
  const out = await runChecks(list, { connectTimeoutS: 60, maxTimeoutS: 0.4, concurrency: 2 });
  assert.ok(performance.now() - t0 < 1400);
  assert.equal(out.maxTimeoutReached, true);
  assert.deepEqual(
    out.results.map((r) => [r.status, r.error]),
    [
      ['failed', 'max-timeout reached'],
      ['failed', 'max-timeout reached'],
      ['failed', 'max-timeout reached (not started)'],
    ],
  );
  assert.deepEqual(
    out.results.map((r) => r.stopped),
    ['max-timeout', 'max-timeout', 'max-timeout'],
  );
});

test('cancelling reports the rest as cancelled', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  const out = await runChecks([stubbornSpec(0), stubbornSpec(1)], { connectTimeoutS: 60, signal: ac.signal });
  assert.equal(out.cancelled, true);
  assert.deepEqual(
    out.results.map((r) => [r.error, r.stopped]),
    [
      ['cancelled', 'cancelled'],
      ['cancelled', 'cancelled'],
    ],
    'a structured stop reason beside the message',
  );
});

test('selection: tags and patterns skip checks with a reason; dry-run skips all', async () => {
  const yaml = `- {type: tcp, host: 127.0.0.1, port: 1, tags: [db]}\n- {type: tcp, host: 127.0.0.1, port: 2, tags: [web], name: front}\n- {type: tcp, host: 127.0.0.1, port: 3}\n`;
  const inc = await runChecks(await specs(yaml), { connectTimeoutS: 1, selection: { includeTags: ['web'] } });
  assert.deepEqual(inc.results.map((r) => r.status), ['skipped', 'failed', 'skipped']);
  assert.equal(inc.results[0]!.error, 'no tag among web');
  const exc = await runChecks(await specs(yaml), { connectTimeoutS: 1, selection: { excludeTags: ['db'] } });
  assert.deepEqual(exc.results.map((r) => r.status), ['skipped', 'failed', 'failed']);
  // patterns match the given name or the generated conn-check name
  const pat = await runChecks(await specs(yaml), { connectTimeoutS: 1, selection: { patterns: ['fr*', '*:3'] } });
  assert.deepEqual(pat.results.map((r) => r.status), ['skipped', 'failed', 'failed']);
  const dry = await runChecks(await specs(yaml), { connectTimeoutS: 1, dryRun: true });
  assert.deepEqual(dry.results.map((r) => [r.status, r.error]), [['skipped', 'dry run'], ['skipped', 'dry run'], ['skipped', 'dry run']]);
  // left out by the selection: a row for machine formats, marked so the text format drops it
  assert.deepEqual(inc.results.map((r) => r.unselected), [true, undefined, true]);
  assert.deepEqual(dry.results.map((r) => r.unselected), [undefined, undefined, undefined]);
  // --dry-run honours the selection
  const dryTagged = await runChecks(await specs(yaml), { connectTimeoutS: 1, dryRun: true, selection: { includeTags: ['web'] } });
  assert.deepEqual(dryTagged.results.map((r) => [r.status, r.error, r.unselected]), [['skipped', 'no tag among web', true], ['skipped', 'dry run', undefined], ['skipped', 'no tag among web', true]]);
});

test('a check failure thrown outside a step keeps the step it was in; CheckError keeps its own', async () => {
  const throwing = defineCheck({
    type: 'throwing',
    summary: '',
    options: z.object({}),
    name: () => 'throwing',
    target: () => 'x',
    async run(_o, ctx) {
      await ctx.step('tcp', async () => {});
      await ctx.step('query', async () => {
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      });
    },
  }) as unknown as AnyCheckDefinition;
  const explicit = defineCheck({ ...throwing, type: 'explicit', async run() { throw new CheckError('auth', 'authentication failed for user app'); } }) as unknown as AnyCheckDefinition;
  const out = await runChecks([{ ...stubbornSpec(0), definition: throwing }, { ...stubbornSpec(1), definition: explicit }], { connectTimeoutS: 5 });
  assert.deepEqual(out.results.map((r) => [r.step, r.error]), [['query', 'connection reset by peer'], ['auth', 'authentication failed for user app']]);
});

test('nothing is left running after the last result', async () => {
  const bh = await blackHole();
  try {
    await runChecks(await specs(`- {type: tls, host: 127.0.0.1, port: ${bh.port}, timeout: 0.2}\n- {type: tcp, host: 127.0.0.1, port: ${bh.port}}`), { connectTimeoutS: 1, maxTimeoutS: 30 });
  } finally {
    bh.close();
  }
  assert.deepEqual(await settledHandles(), []);
});

/** Reserves a port, then starts listening on it only after `delayMs` (a service coming up). */
async function lateListener(delayMs: number): Promise<{ port: number; close(): void }> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const server = createServer((s) => s.end());
  const timer = setTimeout(() => server.listen(port, '127.0.0.1'), delayMs);
  return {
    port,
    close() {
      clearTimeout(timer);
      server.close();
    },
  };
}

test('retries: a service that comes up during the retries passes, and says on which attempt', async () => {
  const late = await lateListener(700);
  try {
    const out = await runChecks(await specs(`- {type: tcp, host: 127.0.0.1, port: ${late.port}, retries: 10, retry_delay: 0.2}`), { connectTimeoutS: 1 });
    const r = out.results[0]!;
    assert.equal(r.status, 'passed', r.error);
    assert.ok(r.attempts! >= 2 && r.attempts! <= 10, `attempts ${r.attempts}`);
  } finally {
    late.close();
  }
});

test('retries exhausted: failed, with the attempts counted; no retries means one attempt', async () => {
  const late = await lateListener(60_000);
  try {
    const out = await runChecks(await specs(`- {type: tcp, host: 127.0.0.1, port: ${late.port}, retries: 2, retry_delay: 0.05}\n- {type: tcp, host: 127.0.0.1, port: ${late.port}}`), { connectTimeoutS: 1 });
    assert.deepEqual(out.results.map((r) => [r.status, r.step, r.error, r.attempts]), [
      ['failed', 'tcp', 'connection refused', 3],
      ['failed', 'tcp', 'connection refused', undefined],
    ]);
  } finally {
    late.close();
  }
});

test('wait: failed checks are re-run until they pass within the wait', async () => {
  const late = await lateListener(600);
  try {
    const out = await runChecks(await specs(`- {type: tcp, host: 127.0.0.1, port: ${late.port}, retry_delay: 0.1}`), { connectTimeoutS: 1, waitS: 20 });
    assert.equal(out.results[0]!.status, 'passed');
    assert.ok(out.results[0]!.attempts! > 1);
  } finally {
    late.close();
  }
  const never = await lateListener(60_000);
  try {
    const t0 = performance.now();
    const out = await runChecks(await specs(`- {type: tcp, host: 127.0.0.1, port: ${never.port}, retry_delay: 0.1}`), { connectTimeoutS: 1, waitS: 0.5 });
    assert.equal(out.results[0]!.status, 'failed');
    assert.ok(performance.now() - t0 < 3000);
  } finally {
    never.close();
  }
});

test('exponential backoff doubles the delay between attempts', async () => {
  const times: number[] = [];
  const failing = defineCheck({
    type: 'failing',
    summary: '',
    options: z.object({}),
    name: () => 'failing',
    target: () => 'x',
    async run() {
      times.push(performance.now());
      throw new CheckError('tcp', 'connection refused');
    },
  }) as unknown as AnyCheckDefinition;
  const spec = { ...stubbornSpec(0), definition: failing, common: parsedOptions(commonOptions, { type: 'failing', retries: 3, retry_delay: 0.1, backoff: 'exponential' }) };
  const out = await runChecks([spec], { connectTimeoutS: 1 });
  assert.equal(out.results[0]!.attempts, 4);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps[0]! >= 95 && gaps[1]! >= 195 && gaps[2]! >= 395, `gaps ${gaps.map(Math.round).join(', ')}`);
});

test('severity warning: reported failed with severity, counted apart from failures', async () => {
  const { summarize } = await import('../src/runner/result.js');
  const out = await runChecks(await specs(`- {type: tcp, host: 127.0.0.1, port: 1, severity: warning}`), { connectTimeoutS: 1 });
  const r = out.results[0]!;
  assert.deepEqual([r.status, r.severity], ['failed', 'warning']);
  const s = summarize(out.results, 0);
  assert.deepEqual([s.failed, s.warnings], [0, 1]);
});

test('expect_unreachable passes only when the target cannot be reached', async () => {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const open = (server.address() as { port: number }).port;
  try {
    const out = await runChecks(
      await specs(`- {type: tcp, host: 127.0.0.1, port: 1, expect_unreachable: true}\n- {type: tcp, host: 127.0.0.1, port: ${open}, expect_unreachable: true}\n- {type: tcp, host: x.invalid, port: 5, expect_unreachable: yes}`),
      { connectTimeoutS: 1 },
    );
    assert.deepEqual(out.results.map((r) => [r.status, r.step ?? null, r.error ?? null]), [
      ['passed', null, null],
      ['failed', 'reachable', 'the target is reachable, but expect_unreachable is set'],
      ['passed', null, null],
    ]);
    assert.deepEqual(out.results[0]!.details, ['unreachable as expected (tcp: connection refused)']);
  } finally {
    server.close();
  }
});

test('the default concurrency follows the soft open-file limit of /proc/self/limits', async () => {
  const { parseOpenFilesLimit, concurrencyForOpenFiles, openFilesLimit } = await import('../src/runner/concurrency.js');
  const limits = (soft: string, hard = '1048576') =>
    [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max cpu time              unlimited            unlimited            seconds   ',
      `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     `,
      'Max locked memory         8388608              8388608              bytes     ',
      '',
    ].join('\n');
  // the soft limit, not the hard one
  assert.equal(parseOpenFilesLimit(limits('1024')), 1024);
  assert.equal(parseOpenFilesLimit(limits('65536', 'unlimited')), 65536);
  assert.equal(parseOpenFilesLimit(limits('unlimited', 'unlimited')), Infinity);
  // no such line, or nonsense in it: unknown
  assert.equal(parseOpenFilesLimit('Max cpu time unlimited unlimited seconds\n'), undefined);
  assert.equal(parseOpenFilesLimit(''), undefined);
  assert.equal(parseOpenFilesLimit(limits('-1')), undefined);
  assert.equal(parseOpenFilesLimit(limits('1e9')), undefined);
  assert.equal(parseOpenFilesLimit(limits('99999999999999999999')), undefined);

  // (limit - 64) / 2, between 16 and 1024
  assert.equal(concurrencyForOpenFiles(1024), 480);
  assert.equal(concurrencyForOpenFiles(256), 96);
  assert.equal(concurrencyForOpenFiles(257), 96);
  assert.equal(concurrencyForOpenFiles(65536), 1024);
  assert.equal(concurrencyForOpenFiles(2112), 1024);
  assert.equal(concurrencyForOpenFiles(2110), 1023);
  assert.equal(concurrencyForOpenFiles(1_048_576), 1024);
  assert.equal(concurrencyForOpenFiles(Infinity), 1024);
  assert.equal(concurrencyForOpenFiles(64), 16);
  assert.equal(concurrencyForOpenFiles(0), 16);

  // where the file cannot be read (or says nothing), 256 is assumed
  if (process.platform === 'linux') {
    assert.equal(openFilesLimit(() => limits('2048')), 2048);
    assert.equal(openFilesLimit(() => limits('unlimited')), Infinity);
    assert.equal(
      openFilesLimit(() => {
        throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
      }),
      256,
    );
    assert.equal(openFilesLimit(() => 'garbage'), 256);
    // this process's real file: the soft limit a shell it starts inherits
    const { spawnSync } = await import('node:child_process');
    const shell = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(openFilesLimit(), shell === 'unlimited' ? Infinity : Number(shell));
  } else {
    assert.equal(openFilesLimit(() => limits('2048')), 256);
  }
});

test('a run of no more checks than the least default concurrency runs them all at once, whatever the open-file limit', async () => {
  const { defaultConcurrency, defaultConcurrencyFor } = await import('../src/runner/concurrency.js');
  const { CONCURRENCY_MIN } = await import('../src/core/constants.js');
  // the limit never allows fewer than CONCURRENCY_MIN, so as many as the checks is the answer
  assert.ok(defaultConcurrency() >= CONCURRENCY_MIN);
  assert.equal(defaultConcurrencyFor(1), 1);
  assert.equal(defaultConcurrencyFor(CONCURRENCY_MIN), CONCURRENCY_MIN);
  assert.equal(defaultConcurrencyFor(CONCURRENCY_MIN + 1), defaultConcurrency());
  assert.equal(defaultConcurrencyFor(100_000), defaultConcurrency());
});
