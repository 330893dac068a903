/** conn-check's text output (Nagios-friendly): failures first, one line per check, a verdict. */
import { ordered, summarize, type CheckResult } from '../runner/result.js';

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
  const details = o.verbose && r.details?.length ? ` [${r.details.join('; ')}]` : '';
  if (r.status === 'passed') return `${r.name} OK${time}${details}`;
  if (r.status === 'skipped') return `SKIPPED: ${r.name}${o.verbose && r.error ? ` (${r.error})` : ''}`;
  return `${r.name} FAILED - ${r.step ? `${r.step}: ` : ''}${r.error ?? 'failed'}${time}${details}`;
}

export function verdict(results: readonly CheckResult[], durationMs: number): string {
  const s = summarize(results, durationMs);
  const time = seconds(durationMs);
  const skipped = s.skipped ? `, ${s.skipped} skipped` : '';
  if (s.failed) return `CRITICAL: ${s.failed} of ${s.total - s.skipped} check${s.total - s.skipped === 1 ? '' : 's'} failed${skipped} in ${time}`;
  if (s.passed === 0) return `OK: no checks ran${skipped} in ${time}`;
  return `OK: ${s.passed} check${s.passed === 1 ? '' : 's'} passed${skipped} in ${time}`;
}

export function renderText(results: readonly CheckResult[], durationMs: number, o: TextOptions = {}): string {
  return [...ordered(results).map((r) => textLine(r, o)), verdict(results, durationMs)].join('\n') + '\n';
}
