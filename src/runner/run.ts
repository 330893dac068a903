/**
 * The runner owns time: every check runs in parallel (up to `concurrency` at once) under its
 * own deadline, the whole run under max-timeout, and an outside signal cancels what is left.
 * A check gets an AbortSignal; the runner reports at the deadline even if a check ignores it.
 *
 * Per attempt the runner allocates what the contract needs (an AbortController for the check's
 * signal, its context, its result) and little else: the deadlines of a run share one timer
 * (deadlines.ts), a stop (max-timeout, cancellation) reaches the attempts in flight through a
 * set rather than a listener per attempt on a shared signal, and the race between a check and
 * its deadline is settled directly by whoever stops the attempt, not through an abort listener.
 */
import { now } from '../core/clock.js';
import { defaultConcurrencyFor } from './concurrency.js';
import { Deadlines, type Deadline, type Expiring } from './deadlines.js';
import type { CheckSpec } from '../config/load.js';
import { CheckError, StopReason, type CheckContext, type StepName } from '../core/contract.js';
import { describeError } from '../net/errors.js';
import { attemptBudget, DEFAULT_READ_CAP, ReadLimitError, type AttemptBudget } from '../net/bounded.js';
import { DRY_RUN, type CheckResult, type Status, type StopKind } from './result.js';
import { exclusionReason, type Selection } from './select.js';

export interface RunOptions {
  /** Seconds, for checks that set no `timeout`. */
  connectTimeoutS: number;
  /** Seconds for the whole run. */
  maxTimeoutS?: number;
  concurrency?: number;
  extraCa?: readonly string[];
  selection?: Selection;
  /** Run nothing: every check is reported as skipped. */
  dryRun?: boolean;
  /** Seconds: keep re-running failed checks until they pass or this much time has passed. */
  waitS?: number;
  env?: NodeJS.ProcessEnv;
  /** Cancels the run (SIGINT/SIGTERM): what has not finished is reported as cancelled. */
  signal?: AbortSignal;
  onStart?(check: CheckSpec): void;
  /** A check's result, as soon as it is in; `index` is the check's position in `checks`. */
  onResult?(result: CheckResult, check: CheckSpec, index: number): void;
  /** A failed attempt that will be tried again after `delayMs` (retries, wait). */
  onRetry?(check: CheckSpec, retry: { attempt: number; step?: string; error?: string; delayMs: number }): void;
}

export interface RunOutcome {
  results: CheckResult[];
  durationMs: number;
  maxTimeoutReached: boolean;
  cancelled: boolean;
}

/** The reason every attempt's signal gets when it is over: one object, not a stack trace per attempt. */
let finished: StopReason | undefined;

/** Backoff never waits longer than this between two attempts. */
const MAX_RETRY_DELAY_MS = 30_000;

interface Verdict {
  ok: boolean;
  step?: string;
  error?: string;
  details: string[];
  /** What stopped it (structured: reporters never compare messages). */
  stopped?: StopKind;
  /** Stopped by max-timeout or cancellation: no further attempt. */
  final?: boolean;
}

/** Steps whose failure means the target could not be reached at all. */
const UNREACHABLE_STEPS = new Set(['resolve', 'tcp', 'udp', 'proxy']);

/** Applies expect_unreachable: an unreachable target passes, a reachable one fails. */
function judge(a: Verdict, expectUnreachable: boolean): Verdict {
  if (!expectUnreachable || a.final) return a;
  if (!a.ok && UNREACHABLE_STEPS.has(a.step ?? '')) {
    return { ok: true, details: [...a.details, `unreachable as expected (${a.step}: ${a.error})`] };
  }
  if (a.ok) return { ok: false, step: 'reachable', error: 'the target is reachable, but expect_unreachable is set', details: a.details };
  return { ok: false, step: 'reachable', error: `the target answered (${a.step}: ${a.error}), but expect_unreachable is set`, details: a.details };
}

/** A check's result, built once: what every result says, then its status and how long it took. */
function resultOf(check: CheckSpec, status: Status, durationMs: number): CheckResult {
  const r: CheckResult = { name: check.name, type: check.type, target: check.target, tags: check.common.tags, file: check.file, line: check.line, status, duration_ms: durationMs };
  if (check.common.severity === 'warning') r.severity = 'warning';
  if (isInsecure(check)) r.tls_verification = 'disabled';
  return r;
}

/** TLS verification turned off for this check (the reports mark it). */
function isInsecure(check: CheckSpec): boolean {
  return check.definition.insecure ? check.definition.insecure(check.options) : check.options.disable_tls_verification === true;
}

function formatSeconds(s: number): string {
  return `${Number.isInteger(s) ? s : Number(s.toFixed(3))}s`;
}

/** What a stop of the whole run (max-timeout, cancellation) reaches: attempts in flight, pauses. */
interface Stoppable {
  stop(reason: StopReason): void;
}

/** The run's state that outlives one attempt. */
interface RunState {
  /** Set once max-timeout fires or the run is cancelled. */
  stopReason: StopReason | undefined;
  readonly live: Set<Stoppable>;
  readonly deadlines: Deadlines;
}

/**
 * One attempt of one check: its signal, its deadline, the step it is in and its details. The
 * runner stops it (deadline, max-timeout, cancellation, a read limit) through stop(), which
 * aborts the check's signal and settles the race at once.
 */
class Attempt implements Expiring, Stoppable {
  readonly own = new AbortController();
  current: StepName | string = 'run';
  depth = 0;
  readonly details: string[] = [];
  deadline: Deadline | undefined;
  /** Its read budget (net/bounded.ts), told of each abort of `own`. */
  budget: AttemptBudget | undefined;
  /** Ends the race with the check (set by race()). */
  private settle: ((reason: unknown) => void) | undefined;

  constructor(private readonly timeoutS: number) {}

  /** The deadline passed. */
  expire(): void {
    this.deadline = undefined;
    this.stop(new StopReason('timeout', `timed out after ${formatSeconds(this.timeoutS)}`));
  }

  stop(reason: unknown): void {
    if (this.own.signal.aborted) return;
    this.abort(reason);
    this.settle?.(reason);
  }

  /** Aborts the check's signal (only ever here): what watches it through the budget hears it too. */
  abort(reason: unknown): void {
    this.own.abort(reason);
    this.budget?.aborted();
  }

  /** The check's promise, or the stop if it comes first. */
  race(running: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.settle = reject;
      // (stopped while the check's run() was still in its synchronous part)
      if (this.own.signal.aborted) reject(this.own.signal.reason);
      running.then(resolve, reject);
    });
  }
}

export async function runChecks(checks: readonly CheckSpec[], opts: RunOptions): Promise<RunOutcome> {
  const started = now();
  const results: CheckResult[] = new Array(checks.length);
  const env = opts.env ?? process.env;
  const extraCa = opts.extraCa ?? [];
  const selection = opts.selection ?? {};
  const run: RunState = { stopReason: undefined, live: new Set(), deadlines: new Deadlines() };
  let maxTimeoutReached = false;
  let cancelled = false;

  /** Stops the run: every attempt in flight and every pause, in the order they began. */
  const stopRun = (reason: StopReason) => {
    if (run.stopReason) return;
    run.stopReason = reason;
    for (const s of run.live) s.stop(reason);
    run.live.clear();
  };
  const onCancel = () => {
    cancelled = true;
    stopRun(new StopReason('cancelled', 'cancelled'));
  };
  if (opts.signal?.aborted) onCancel();
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  const maxTimer =
    opts.maxTimeoutS !== undefined
      ? setTimeout(() => {
          maxTimeoutReached = true;
          stopRun(new StopReason('max-timeout', 'max-timeout reached'));
        }, opts.maxTimeoutS * 1000)
      : undefined;
  const deadlineAll = opts.maxTimeoutS !== undefined ? started + opts.maxTimeoutS * 1000 : Infinity;

  const finish = (i: number, result: CheckResult) => {
    results[i] = result;
    opts.onResult?.(result, checks[i]!, i);
  };

  /** One attempt under its own deadline: passed, or the failure with its step. */
  const attempt = async (check: CheckSpec): Promise<Verdict> => {
    const t0 = now();
    const timeoutS = check.common.timeout ?? opts.connectTimeoutS;
    const ownMs = timeoutS * 1000;
    const leftMs = Math.max(0, deadlineAll - t0);
    const a = new Attempt(timeoutS);
    const own = a.own;
    // When max-timeout comes first, it reports the check (as "max-timeout reached").
    if (ownMs < leftMs) a.deadline = run.deadlines.add(t0 + ownMs, a);
    // (a stop of the run reaches it through the live set: runOne starts no attempt once the run stopped)
    run.live.add(a);
    // What a peer may make this attempt read, over all its connections (net/bounded.ts).
    a.budget = attemptBudget(own.signal, check.definition.maxReadBytes ?? DEFAULT_READ_CAP, (err) => a.stop(err));
    const ctx: CheckContext = {
      signal: own.signal,
      timeoutMs: Math.min(ownMs, leftMs),
      extraCa,
      env,
      async step(name, fn) {
        const outer = a.current;
        a.current = name;
        a.depth++;
        try {
          const value = await fn();
          // A step inside another (a TLS handshake inside a request) hands back to the outer one.
          if (a.depth > 1) a.current = outer;
          return value;
        } catch (err) {
          if (own.signal.aborted || err instanceof CheckError) throw err;
          throw new CheckError(name, describeError(err));
        } finally {
          a.depth--;
        }
      },
      note(detail) {
        a.details.push(detail);
      },
    };
    try {
      // (race() handles the check's rejection too: a late failure after the deadline is not an
      // unhandled rejection)
      await a.race(check.definition.run(check.options, ctx));
      if (own.signal.aborted) throw own.signal.reason;
      return { ok: true, details: a.details };
    } catch (err) {
      if (own.signal.aborted) {
        const reason: unknown = own.signal.reason;
        if (reason instanceof ReadLimitError) return { ok: false, step: a.current, error: reason.message, details: a.details };
        const stopped = reason instanceof StopReason && reason.kind !== 'finished' ? reason.kind : undefined;
        const stoppedByRun = run.stopReason !== undefined && reason === run.stopReason;
        const verdict: Verdict = { ok: false, step: a.current, error: reason instanceof StopReason ? reason.message : describeError(reason), details: a.details, final: stoppedByRun };
        if (stopped) verdict.stopped = stopped;
        return verdict;
      }
      if (err instanceof CheckError) return { ok: false, step: err.step, error: err.message, details: a.details };
      return { ok: false, step: a.current, error: describeError(err), details: a.details };
    } finally {
      if (a.deadline) run.deadlines.remove(a.deadline);
      run.live.delete(a);
      if (!own.signal.aborted) a.abort((finished ??= new StopReason('finished', 'finished')));
    }
  };

  /** Waits between attempts; false when the run was stopped meanwhile. */
  const pause = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (run.stopReason) return resolve(false);
      const p: Stoppable = {
        stop() {
          clearTimeout(t);
          resolve(false);
        },
      };
      const t = setTimeout(() => {
        run.live.delete(p);
        resolve(true);
      }, ms);
      run.live.add(p);
    });

  const waitUntil = opts.waitS !== undefined ? started + opts.waitS * 1000 : undefined;

  const runOne = async (i: number, excluded: string | undefined): Promise<void> => {
    const check = checks[i]!;
    // Left out: recorded, but not announced (conn-check never built such checks).
    if (excluded !== undefined) {
      const r = resultOf(check, 'skipped', 0);
      r.error = excluded;
      r.unselected = true;
      results[i] = r;
      return;
    }
    if (opts.dryRun) {
      const r = resultOf(check, 'skipped', 0);
      r.error = DRY_RUN;
      return finish(i, r);
    }
    if (run.stopReason) {
      const why = run.stopReason;
      const r = resultOf(check, 'failed', 0);
      r.step = 'run';
      r.error = `${why.message} (not started)`;
      r.stopped = why.kind as StopKind;
      return finish(i, r);
    }

    opts.onStart?.(check);
    const t0 = now();
    const c = check.common;
    let attempts = 0;
    let verdict: Verdict;
    for (;;) {
      attempts++;
      verdict = judge(await attempt(check), c.expect_unreachable);
      if (verdict.ok || verdict.final || run.stopReason) break;
      const delayMs = Math.min(c.retry_delay * 1000 * (c.backoff === 'exponential' ? 2 ** (attempts - 1) : 1), MAX_RETRY_DELAY_MS);
      const byRetries = attempts <= c.retries;
      const byWait = waitUntil !== undefined && now() + delayMs < waitUntil;
      if (!byRetries && !byWait) break;
      opts.onRetry?.(check, { attempt: attempts, step: verdict.step, error: verdict.error, delayMs });
      if (!(await pause(delayMs))) break;
    }
    const result = resultOf(check, verdict.ok ? 'passed' : 'failed', Math.round(now() - t0));
    if (!verdict.ok) {
      result.step = verdict.step;
      result.error = verdict.error;
      if (verdict.stopped) result.stopped = verdict.stopped;
    }
    if (verdict.details.length) result.details = verdict.details;
    if (attempts > 1) result.attempts = attempts;
    finish(i, result);
  };

  // Who is left out by the selection, once; and the drivers of the types that will run, loaded
  // before any deadline starts.
  const excluded = checks.map((c) => exclusionReason(c, selection));
  if (!opts.dryRun) {
    const loaders = new Set<() => Promise<unknown>>();
    let tls = false;
    for (let i = 0; i < checks.length; i++) {
      if (excluded[i] !== undefined) continue;
      const c = checks[i]!;
      if (c.definition.load) loaders.add(c.definition.load);
      tls ||= c.definition.usesTls?.(c.options as never) ?? false;
    }
    // the trust store too (read once per process), when a check will use TLS
    if (tls) loaders.add(() => import('../net/tls.js').then((m) => m.warmTrust(env, extraCa)));
    await Promise.all([...loaders].map((load) => load().catch(() => {})));
  }

  const limit = Math.max(1, Math.min(opts.concurrency ?? defaultConcurrencyFor(checks.length), checks.length || 1));
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const i = next++;
      await runOne(i, excluded[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: limit }, worker));
  } finally {
    if (maxTimer) clearTimeout(maxTimer);
    run.deadlines.close();
    opts.signal?.removeEventListener('abort', onCancel);
  }
  return { results, durationMs: now() - started, maxTimeoutReached, cancelled };
}
