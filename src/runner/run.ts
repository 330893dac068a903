/**
 * The runner owns time: every check runs in parallel (up to `concurrency` at once) under its
 * own deadline, the whole run under max-timeout, and an outside signal cancels what is left.
 * A check gets an AbortSignal; the runner reports at the deadline even if a check ignores it.
 */
import { setMaxListeners } from 'node:events';
import { now } from './clock.js';
import { defaultConcurrency } from './concurrency.js';
import type { CheckSpec } from '../config/load.js';
import { CheckError, StopReason, type CheckContext, type StepName } from '../core/contract.js';
import { describeError } from '../net/errors.js';
import { DEFAULT_READ_CAP, ReadLimitError, setReadBudget } from '../net/bounded.js';
import { DRY_RUN, type CheckResult, type StopKind } from './result.js';
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
  onResult?(result: CheckResult, check: CheckSpec): void;
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

interface Attempt {
  ok: boolean;
  step?: string;
  error?: string;
  details: string[];
  /** The attempt ended by a deadline or by the run being stopped. */
  timedOut?: boolean;
  /** What stopped it (structured: reporters never compare messages). */
  stopped?: StopKind;
  /** Stopped by max-timeout or cancellation: no further attempt. */
  final?: boolean;
}

type Verdict = Attempt;

/** Steps whose failure means the target could not be reached at all. */
const UNREACHABLE_STEPS = new Set(['resolve', 'tcp', 'udp', 'proxy']);

/** Applies expect_unreachable: an unreachable target passes, a reachable one fails. */
function judge(a: Attempt, expectUnreachable: boolean): Verdict {
  if (!expectUnreachable || a.final) return a;
  if (!a.ok && UNREACHABLE_STEPS.has(a.step ?? '')) {
    return { ok: true, details: [...a.details, `unreachable as expected (${a.step}: ${a.error})`] };
  }
  if (a.ok) return { ok: false, step: 'reachable', error: 'the target is reachable, but expect_unreachable is set', details: a.details };
  return { ok: false, step: 'reachable', error: `the target answered (${a.step}: ${a.error}), but expect_unreachable is set`, details: a.details };
}

function baseResult(check: CheckSpec): Omit<CheckResult, 'status' | 'duration_ms'> {
  return {
    name: check.name,
    type: check.type,
    target: check.target,
    tags: check.common.tags,
    file: check.file,
    line: check.line,
    ...(check.common.severity === 'warning' ? { severity: 'warning' as const } : {}),
    ...(isInsecure(check) ? { tls_verification: 'disabled' as const } : {}),
  };
}

/** TLS verification turned off for this check (the reports mark it). */
function isInsecure(check: CheckSpec): boolean {
  return check.definition.insecure ? check.definition.insecure(check.options) : check.options.disable_tls_verification === true;
}

function formatSeconds(s: number): string {
  return `${Number.isInteger(s) ? s : Number(s.toFixed(3))}s`;
}

export async function runChecks(checks: readonly CheckSpec[], opts: RunOptions): Promise<RunOutcome> {
  const started = now();
  const results: CheckResult[] = new Array(checks.length);
  const env = opts.env ?? process.env;
  const extraCa = opts.extraCa ?? [];
  const stopAll = new AbortController();
  setMaxListeners(0, stopAll.signal);
  let maxTimeoutReached = false;
  let cancelled = false;

  const onCancel = () => {
    cancelled = true;
    stopAll.abort(new StopReason('cancelled', 'cancelled'));
  };
  if (opts.signal?.aborted) onCancel();
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  const maxTimer =
    opts.maxTimeoutS !== undefined
      ? setTimeout(() => {
          maxTimeoutReached = true;
          stopAll.abort(new StopReason('max-timeout', 'max-timeout reached'));
        }, opts.maxTimeoutS * 1000)
      : undefined;
  const deadlineAll = opts.maxTimeoutS !== undefined ? started + opts.maxTimeoutS * 1000 : Infinity;

  const finish = (i: number, result: CheckResult) => {
    results[i] = result;
    opts.onResult?.(result, checks[i]!);
  };

  /** One attempt under its own deadline: passed, or the failure with its step. */
  const attempt = async (check: CheckSpec): Promise<Attempt> => {
    const t0 = now();
    const timeoutS = check.common.timeout ?? opts.connectTimeoutS;
    const ownMs = timeoutS * 1000;
    const leftMs = Math.max(0, deadlineAll - t0);
    const timeoutMs = Math.min(ownMs, leftMs);
    const own = new AbortController();
    // When max-timeout comes first, its own timer reports the check (as "max-timeout reached").
    const timer = ownMs < leftMs ? setTimeout(() => own.abort(new StopReason('timeout', `timed out after ${formatSeconds(timeoutS)}`)), ownMs) : undefined;
    const onStop = () => own.abort(stopAll.signal.reason);
    stopAll.signal.addEventListener('abort', onStop, { once: true });
    // What a peer may make this attempt read, over all its connections (net/bounded.ts).
    setReadBudget(own.signal, check.definition.maxReadBytes ?? DEFAULT_READ_CAP, (err) => own.abort(err));
    let current: StepName | string = 'run';
    let depth = 0;
    const details: string[] = [];
    const ctx: CheckContext = {
      signal: own.signal,
      timeoutMs,
      extraCa,
      env,
      async step(name, fn) {
        const outer = current;
        current = name;
        depth++;
        try {
          const value = await fn();
          // A step inside another (a TLS handshake inside a request) hands back to the outer one.
          if (depth > 1) current = outer;
          return value;
        } catch (err) {
          if (own.signal.aborted || err instanceof CheckError) throw err;
          throw new CheckError(name, describeError(err));
        } finally {
          depth--;
        }
      },
      note(detail) {
        details.push(detail);
      },
    };
    const stopped = new Promise<never>((_, reject) => {
      own.signal.addEventListener('abort', () => reject(own.signal.reason), { once: true });
    });
    try {
      const running = check.definition.run(check.options, ctx);
      running.catch(() => {}); // a late failure after the deadline is not an unhandled rejection
      stopped.catch(() => {});
      await Promise.race([running, stopped]);
      if (own.signal.aborted) throw own.signal.reason;
      return { ok: true, details };
    } catch (err) {
      if (own.signal.aborted) {
        const reason = own.signal.reason;
        if (reason instanceof ReadLimitError) return { ok: false, step: current, error: reason.message, details };
        const stoppedFromOutside = stopAll.signal.aborted && reason === stopAll.signal.reason;
        const stopped = reason instanceof StopReason && reason.kind !== 'finished' ? reason.kind : undefined;
        return { ok: false, step: current, error: reason instanceof StopReason ? reason.message : describeError(reason), details, timedOut: true, final: stoppedFromOutside, ...(stopped ? { stopped } : {}) };
      }
      if (err instanceof CheckError) return { ok: false, step: err.step, error: err.message, details };
      return { ok: false, step: current, error: describeError(err), details };
    } finally {
      if (timer) clearTimeout(timer);
      stopAll.signal.removeEventListener('abort', onStop);
      if (!own.signal.aborted) own.abort((finished ??= new StopReason('finished', 'finished')));
    }
  };

  /** Waits between attempts; false when the run was stopped meanwhile. */
  const pause = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (stopAll.signal.aborted) return resolve(false);
      const t = setTimeout(() => {
        stopAll.signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        resolve(false);
      };
      stopAll.signal.addEventListener('abort', onAbort, { once: true });
    });

  const waitUntil = opts.waitS !== undefined ? started + opts.waitS * 1000 : undefined;

  const runOne = async (i: number): Promise<void> => {
    const check = checks[i]!;
    const base = baseResult(check);
    const excluded = exclusionReason(check, opts.selection ?? {});
    // Left out: recorded, but not announced (conn-check never built such checks).
    if (excluded !== undefined) {
      results[i] = { ...base, status: 'skipped', error: excluded, unselected: true, duration_ms: 0 };
      return;
    }
    if (opts.dryRun) return finish(i, { ...base, status: 'skipped', error: DRY_RUN, duration_ms: 0 });
    if (stopAll.signal.aborted) {
      const why = stopAll.signal.reason as StopReason;
      return finish(i, { ...base, status: 'failed', step: 'run', error: `${why.message} (not started)`, duration_ms: 0, stopped: why.kind as StopKind });
    }

    opts.onStart?.(check);
    const t0 = now();
    const c = check.common;
    let attempts = 0;
    let verdict: Verdict;
    for (;;) {
      attempts++;
      verdict = judge(await attempt(check), c.expect_unreachable);
      if (verdict.ok || verdict.final || stopAll.signal.aborted) break;
      const delayMs = Math.min(c.retry_delay * 1000 * (c.backoff === 'exponential' ? 2 ** (attempts - 1) : 1), MAX_RETRY_DELAY_MS);
      const byRetries = attempts <= c.retries;
      const byWait = waitUntil !== undefined && now() + delayMs < waitUntil;
      if (!byRetries && !byWait) break;
      opts.onRetry?.(check, { attempt: attempts, step: verdict.step, error: verdict.error, delayMs });
      if (!(await pause(delayMs))) break;
    }
    const result: CheckResult = {
      ...base,
      status: verdict.ok ? 'passed' : 'failed',
      duration_ms: Math.round(now() - t0),
    };
    if (!verdict.ok) {
      result.step = verdict.step;
      result.error = verdict.error;
      if (verdict.stopped) result.stopped = verdict.stopped;
    }
    if (verdict.details.length) result.details = verdict.details;
    if (attempts > 1) result.attempts = attempts;
    finish(i, result);
  };

  // Load the drivers of the types that will run, before any deadline starts.
  if (!opts.dryRun) {
    const loaders = new Set<() => Promise<unknown>>();
    let tls = false;
    for (const c of checks) {
      if (exclusionReason(c, opts.selection ?? {}) !== undefined) continue;
      if (c.definition.load) loaders.add(c.definition.load);
      tls ||= c.definition.usesTls?.(c.options as never) ?? false;
    }
    // the trust store too (read once per process), when a check will use TLS
    if (tls) loaders.add(() => import('../net/tls.js').then((m) => m.warmTrust(env, extraCa)));
    await Promise.all([...loaders].map((load) => load().catch(() => {})));
  }

  const limit = Math.max(1, Math.min(opts.concurrency ?? defaultConcurrency(), checks.length || 1));
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const i = next++;
      await runOne(i);
    }
  };
  try {
    await Promise.all(Array.from({ length: limit }, worker));
  } finally {
    if (maxTimer) clearTimeout(maxTimer);
    opts.signal?.removeEventListener('abort', onCancel);
  }
  return { results, durationMs: now() - started, maxTimeoutReached, cancelled };
}
