/**
 * The runner's deadline scheduler (src/runner/deadlines.ts): one timer for every deadline of a
 * run. Deadlines added in any order expire in order, removed ones never expire, nothing stays
 * armed once nothing is pending; and through the runner, a check that ignores its signal is
 * still reported at its deadline while a check that ends first leaves no deadline behind.
 * No assertion here is about how long anything took.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { z } from 'zod';
import { parsedOptions } from './helpers/options.js';
import { Deadlines } from '../src/runner/deadlines.js';
import { capReads } from '../src/net/bounded.js';
import { now } from '../src/core/clock.js';
import { runChecks } from '../src/runner/run.js';
import { defineCheck, type AnyCheckDefinition } from '../src/core/contract.js';
import { commonOptions } from '../src/core/common.js';
import type { CheckSpec } from '../src/config/load.js';
import { settledHandles } from './helpers/check.js';

/** Resolves once `n` targets have expired, with their labels in the order they expired. */
function collector(n: number): { expired: string[]; done: Promise<string[]>; target(label: string): { expire(): void } } {
  const expired: string[] = [];
  let resolve!: (v: string[]) => void;
  const done = new Promise<string[]>((r) => (resolve = r));
  return {
    expired,
    done,
    target: (label) => ({
      expire() {
        expired.push(label);
        if (expired.length === n) resolve(expired);
      },
    }),
  };
}

test('deadlines added in any order expire in the order of their times', async () => {
  const d = new Deadlines();
  const c = collector(5);
  const t = now();
  // all in the past already (one timer, one firing), added out of order
  for (const [label, at] of [['c', t - 3], ['a', t - 5], ['e', t - 1], ['b', t - 4], ['d', t - 2]] as const) d.add(at, c.target(label));
  assert.equal(d.size, 5);
  assert.equal(d.next, t - 5);
  assert.deepEqual(await c.done, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(d.size, 0);
  assert.equal(d.armed, false, 'nothing pending, no timer');
});

test('a removed deadline never expires; one added earlier than the armed one re-arms the timer', async () => {
  const d = new Deadlines();
  const c = collector(2);
  const t = now();
  const late = d.add(t + 60_000, c.target('late'));
  assert.equal(d.armed, true);
  const gone = d.add(t - 2, c.target('removed'));
  d.add(t - 1, c.target('first'));
  d.remove(gone);
  d.remove(gone); // twice: a no-op
  // 'first' expires without waiting for the minute-long one
  await new Promise<void>((resolve) => {
    const poll = () => (c.expired.length ? resolve() : setImmediate(poll));
    poll();
  });
  assert.deepEqual(c.expired, ['first']);
  assert.equal(d.next, t + 60_000);
  d.remove(late);
  assert.equal(d.size, 0);
  assert.equal(d.armed, false);
  assert.deepEqual(await settledHandles(), []);
});

test('close() forgets every deadline and clears the timer', async () => {
  const d = new Deadlines();
  const c = collector(1);
  const e = d.add(now() + 60_000, c.target('x'));
  d.close();
  assert.equal(d.size, 0);
  assert.equal(d.armed, false);
  d.remove(e); // after close: a no-op
  assert.deepEqual(await settledHandles(), []);
  assert.deepEqual(c.expired, []);
});

test('the earliest pending deadline is always next, whatever is added and removed', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.boolean()), { maxLength: 200 }), (ops) => {
      // far in the future: no timer fires during the property
      const base = now() + 3_600_000;
      const d = new Deadlines();
      const live: { at: number; handle: ReturnType<Deadlines['add']> }[] = [];
      for (const [at, removeOne] of ops) {
        live.push({ at: base + at, handle: d.add(base + at, { expire() {} }) });
        if (removeOne) {
          const [gone] = live.splice(at % live.length, 1);
          d.remove(gone!.handle);
        }
        assert.equal(d.size, live.length);
        assert.equal(d.next, live.length ? Math.min(...live.map((l) => l.at)) : undefined);
      }
      // removing the rest in any order empties it and disarms it
      for (const l of live.reverse()) d.remove(l.handle);
      assert.equal(d.size, 0);
      assert.equal(d.armed, false);
      d.close();
    }),
  );
});

/** A check that ignores its signal and never ends. */
const deaf = defineCheck({
  type: 'deaf',
  summary: 'never ends, ignores its signal',
  options: z.object({}),
  name: () => 'deaf',
  target: () => 'nowhere',
  run: () => new Promise<void>(() => {}),
}) as unknown as AnyCheckDefinition;

/** A check that passes at once. */
const quick = defineCheck({ ...deaf, type: 'quick', run: async () => {} }) as unknown as AnyCheckDefinition;

function spec(i: number, definition: AnyCheckDefinition, timeout: number): CheckSpec {
  return {
    index: i,
    file: 't.yaml',
    line: i + 1,
    column: 1,
    definition,
    type: definition.type,
    options: {},
    common: parsedOptions(commonOptions, { type: definition.type, timeout }),
    name: `${definition.type}-${i}`,
    generatedName: definition.type,
    target: 'nowhere',
    secrets: new Set(),
  };
}

test('through the runner: checks that ignore their signal are reported at their deadlines, in any order of timeouts', async () => {
  const order: string[] = [];
  const timeouts = [0.3, 0.1, 0.2, 0.1];
  const list = [...timeouts.map((t, i) => spec(i, deaf, t)), spec(4, quick, 60)];
  const out = await runChecks(list, { connectTimeoutS: 10, onResult: (r) => order.push(r.name) });
  assert.deepEqual(
    out.results.map((r) => [r.status, r.step ?? null, r.error ?? null, r.stopped ?? null]),
    [
      ['failed', 'run', 'timed out after 0.3s', 'timeout'],
      ['failed', 'run', 'timed out after 0.1s', 'timeout'],
      ['failed', 'run', 'timed out after 0.2s', 'timeout'],
      ['failed', 'run', 'timed out after 0.1s', 'timeout'],
      ['passed', null, null, null],
    ],
  );
  // the quick one first; the deaf ones as their deadlines came (the two 0.1 s ones in either order)
  assert.equal(order[0], 'quick-4');
  assert.deepEqual(order.slice(1, 3).sort(), ['deaf-1', 'deaf-3']);
  assert.deepEqual(order.slice(3), ['deaf-2', 'deaf-0']);
  // the quick check's 60 s deadline did not outlive the run
  assert.deepEqual(await settledHandles(), []);
});

test('through the runner: cancellation and max-timeout stop checks that ignore their signal, with no deadline left', async () => {
  const ac = new AbortController();
  const cancelledRun = runChecks([spec(0, deaf, 60), spec(1, deaf, 60)], { connectTimeoutS: 10, signal: ac.signal, onStart: () => setImmediate(() => ac.abort()) });
  const out = await cancelledRun;
  assert.equal(out.cancelled, true);
  assert.deepEqual(out.results.map((r) => [r.error, r.stopped]), [
    ['cancelled', 'cancelled'],
    ['cancelled', 'cancelled'],
  ]);
  const capped = await runChecks([spec(0, deaf, 60), spec(1, deaf, 60), spec(2, deaf, 60)], { connectTimeoutS: 10, maxTimeoutS: 0.2, concurrency: 2 });
  assert.deepEqual(capped.results.map((r) => [r.error, r.stopped]), [
    ['max-timeout reached', 'max-timeout'],
    ['max-timeout reached', 'max-timeout'],
    ['max-timeout reached (not started)', 'max-timeout'],
  ]);
  assert.deepEqual(await settledHandles(), []);
});

test('a deadline beyond what setTimeout can wait for waits, rather than firing at once', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const d = new Deadlines();
    const c = collector(1);
    d.add(now() + 30 * 86_400_000, c.target('far'));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(c.expired, []);
    assert.equal(d.armed, true);
    d.close();
    // (a delay setTimeout cannot hold becomes 1 ms, with a TimeoutOverflowWarning)
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('through the runner: a check stopped before its run() returned (a read limit hit at once) is reported, though it ignores its signal', async () => {
  const greedy = defineCheck({
    ...deaf,
    type: 'greedy',
    maxReadBytes: 10,
    run: (_o, ctx) => {
      // reads past its budget before it returns, then never ends
      const stream = capReads(new Readable({ read() {} }), ctx.signal);
      stream.on('error', () => {});
      stream.push(Buffer.alloc(100));
      return new Promise<void>(() => {});
    },
  }) as unknown as AnyCheckDefinition;
  const out = await runChecks([spec(0, greedy, 60)], { connectTimeoutS: 10 });
  const r = out.results[0]!;
  assert.equal(r.status, 'failed');
  assert.equal(r.error, 'the server sent more than 10 bytes (the read limit for this check)');
  assert.deepEqual(await settledHandles(), []);
});
