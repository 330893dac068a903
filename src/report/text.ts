/** conn-check's text output (Nagios-friendly): failures first, one line per check, a verdict. */
import { cancelledCount, isWarning, ordered, summarize, type CheckResult } from '../runner/result.js';

export interface TextOptions {
  durations?: boolean;
  verbose?: boolean;
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** One check's line: `NAME OK`, `NAME FAILED - step: message`, `SKIPPED: NAME`. */
export function textLine(r: CheckResult, o: TextOptions = {}): string {
  const time = o.durations && r.status !== 'skipped' ? ` (${seconds(r.duration_ms)})` : '';
  const notes = [...(r.tls_verification === 'disabled' ? ['TLS not verified'] : []), ...(r.details ?? [])];
  const details = o.verbose && notes.length ? ` [${notes.join('; ')}]` : '';
  if (r.status === 'passed') return `${r.name} OK${r.attempts ? ` (passed on attempt ${r.attempts})` : ''}${time}${details}`;
  if (r.status === 'skipped') return `SKIPPED: ${r.name}${o.verbose && r.error ? ` (${r.error})` : ''}`;
  const attempts = r.attempts ? ` (after ${r.attempts} attempts)` : '';
  return `${r.name} ${statusWord(r)} - ${failure(r)}${attempts}${time}${details}`;
}

/** FAILED, WARNING, or CANCELLED for a check the run was stopped in the middle of (it did not fail on its own). */
export function statusWord(r: CheckResult): string {
  return r.stopped === 'cancelled' ? 'CANCELLED' : isWarning(r) ? 'WARNING' : 'FAILED';
}

/** `step: message` of a failed check. */
export function failure(r: CheckResult): string {
  return `${r.step ? `${r.step}: ` : ''}${r.error ?? 'failed'}`;
}

export function verdict(results: readonly CheckResult[], durationMs: number): string {
  const s = summarize(results, durationMs);
  const time = seconds(durationMs);
  const skipped = s.skipped ? `, ${s.skipped} skipped` : '';
  const ran = s.total - s.skipped;
  const warned = s.warnings ? `, ${s.warnings} with warnings` : '';
  const cancelled = cancelledCount(results);
  if (cancelled) return `CRITICAL: cancelled, ${cancelled} of ${ran} check${ran === 1 ? '' : 's'} did not finish; ${ownFailures(results)} failed, ${s.passed} passed${skipped} in ${time}`;
  if (s.failed) return `CRITICAL: ${s.failed} of ${ran} check${ran === 1 ? '' : 's'} failed${warned}${skipped} in ${time}`;
  if (s.warnings) return `WARNING: ${s.warnings} of ${ran} check${ran === 1 ? '' : 's'} failed with severity warning${skipped} in ${time}`;
  if (s.passed === 0) return `OK: no checks ran${skipped} in ${time}`;
  return `OK: ${s.passed} check${s.passed === 1 ? '' : 's'} passed${skipped} in ${time}`;
}

/** Checks that failed on their own (not stopped by a cancelled run), warnings included. */
export function ownFailures(results: readonly CheckResult[]): number {
  return results.filter((r) => r.status === 'failed' && r.stopped !== 'cancelled').length;
}

export function renderText(results: readonly CheckResult[], durationMs: number, o: TextOptions = {}): string {
  return [...ordered(results).map((r) => textLine(r, o)), verdict(results, durationMs)].join('\n') + '\n';
}
