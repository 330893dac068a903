/**
 * The runner owns time: every check runs in parallel (up to `concurrency` at once) under its
 * own deadline, the whole run under max-timeout, and an outside signal cancels what is left.
 * A check gets an AbortSignal; the runner reports at the deadline even if a check ignores it.
 */
import { setMaxListeners } from 'node:events';
import { DEFAULT_CONCURRENCY } from '../constants.js';
import type { CheckSpec } from '../config/load.js';
import { CheckError, type CheckContext, type StepName } from '../checks/types.js';
import { describeError } from '../net/errors.js';
import type { CheckResult } from './result.js';
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
  env?: NodeJS.ProcessEnv;
  /** Cancels the run (SIGINT/SIGTERM): what has not finished is reported as cancelled. */
  signal?: AbortSignal;
  onStart?(check: CheckSpec): void;
  onResult?(result: CheckResult, check: CheckSpec): void;
}

export interface RunOutcome {
  results: CheckResult[];
  durationMs: number;
  maxTimeoutReached: boolean;
  cancelled: boolean;
}

/** Why a check was stopped from outside: its message is the failure's message. */
class StopReason extends Error {}

function baseResult(check: CheckSpec): Omit<CheckResult, 'status' | 'duration_ms'> {
  return {
    name: check.name,
    type: check.type,
    target: check.target,
    tags: check.common.tags,
    file: check.file,
    line: check.line,
  };
}

function formatSeconds(s: number): string {
  return `${Number.isInteger(s) ? s : Number(s.toFixed(3))}s`;
}

export async function runChecks(checks: readonly CheckSpec[], opts: RunOptions): Promise<RunOutcome> {
  const started = performance.now();
  const results: CheckResult[] = new Array(checks.length);
  const env = opts.env ?? process.env;
  const extraCa = opts.extraCa ?? [];
  const stopAll = new AbortController();
  setMaxListeners(0, stopAll.signal);
  let maxTimeoutReached = false;
  let cancelled = false;

  const onCancel = () => {
    cancelled = true;
    stopAll.abort(new StopReason('cancelled'));
  };
  if (opts.signal?.aborted) onCancel();
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  const maxTimer =
    opts.maxTimeoutS !== undefined
      ? setTimeout(() => {
          maxTimeoutReached = true;
          stopAll.abort(new StopReason('max-timeout reached'));
        }, opts.maxTimeoutS * 1000)
      : undefined;
  const deadlineAll = opts.maxTimeoutS !== undefined ? started + opts.maxTimeoutS * 1000 : Infinity;

  const finish = (i: number, result: CheckResult) => {
    results[i] = result;
    opts.onResult?.(result, checks[i]!);
  };

  const runOne = async (i: number): Promise<void> => {
    const check = checks[i]!;
    const base = baseResult(check);
    const skip = opts.dryRun ? 'dry run' : exclusionReason(check, opts.selection ?? {});
    if (skip !== undefined) return finish(i, { ...base, status: 'skipped', error: skip, duration_ms: 0 });
    if (stopAll.signal.aborted) {
      const why = (stopAll.signal.reason as Error).message;
      return finish(i, { ...base, status: 'failed', step: 'run', error: `${why} (not started)`, duration_ms: 0 });
    }
    if (check.definition.notSupported) {
      return finish(i, { ...base, status: 'failed', step: 'run', error: check.definition.notSupported, duration_ms: 0 });
    }

    const t0 = performance.now();
    const timeoutS = check.common.timeout ?? opts.connectTimeoutS;
    const ownMs = timeoutS * 1000;
    const leftMs = Math.max(0, deadlineAll - t0);
    const timeoutMs = Math.min(ownMs, leftMs);
    const own = new AbortController();
    // When max-timeout comes first, its own timer reports the check (as "max-timeout reached").
    const timer = ownMs < leftMs ? setTimeout(() => own.abort(new StopReason(`timed out after ${formatSeconds(timeoutS)}`)), ownMs) : undefined;
    const onStop = () => own.abort(stopAll.signal.reason);
    stopAll.signal.addEventListener('abort', onStop, { once: true });
    let current: StepName | string = 'run';
    const details: string[] = [];
    const ctx: CheckContext = {
      signal: own.signal,
      timeoutMs,
      extraCa,
      env,
      async step(name, fn) {
        current = name;
        try {
          return await fn();
        } catch (err) {
          if (own.signal.aborted || err instanceof CheckError) throw err;
          throw new CheckError(name, describeError(err));
        }
      },
      note(detail) {
        details.push(detail);
      },
    };
    const stopped = new Promise<never>((_, reject) => {
      own.signal.addEventListener('abort', () => reject(own.signal.reason), { once: true });
    });
    opts.onStart?.(check);
    let result: CheckResult;
    try {
      const running = check.definition.run(check.options, ctx);
      running.catch(() => {}); // a late failure after the deadline is not an unhandled rejection
      stopped.catch(() => {});
      await Promise.race([running, stopped]);
      if (own.signal.aborted) throw own.signal.reason;
      result = { ...base, status: 'passed', duration_ms: Math.round(performance.now() - t0) };
    } catch (err) {
      const duration_ms = Math.round(performance.now() - t0);
      if (own.signal.aborted) {
        const reason = own.signal.reason;
        result = { ...base, status: 'failed', step: current, error: reason instanceof StopReason ? reason.message : describeError(reason), duration_ms };
      } else if (err instanceof CheckError) {
        result = { ...base, status: 'failed', step: err.step, error: err.message, duration_ms };
      } else {
        result = { ...base, status: 'failed', step: current, error: describeError(err), duration_ms };
      }
    } finally {
      clearTimeout(timer);
      stopAll.signal.removeEventListener('abort', onStop);
      if (!own.signal.aborted) own.abort(new StopReason('finished'));
    }
    if (details.length) result.details = details;
    finish(i, result);
  };

  const limit = Math.max(1, Math.min(opts.concurrency ?? DEFAULT_CONCURRENCY, checks.length || 1));
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
  return { results, durationMs: performance.now() - started, maxTimeoutReached, cancelled };
}
