/**
 * What a check's result and a whole run come to, decided once for every format: the status of a
 * check (its word, icon and colour) and the verdict of a run (the text report's last line, the
 * heading of the job summary and of the Markdown report).
 */
import type { Colour } from './colour.js';
import { cancelledCount, isWarning, summarize, type CheckResult } from '../runner/result.js';

/** A check's status as the reports tell it: a failure the run was stopped in is `cancelled`, not `failed`. */
export type Shown = 'passed' | 'skipped' | 'cancelled' | 'warning' | 'failed';

const LOOK: Record<Shown, { word: string; icon: string; colour: Colour }> = {
  passed: { word: 'OK', icon: '✅', colour: 'green' },
  skipped: { word: 'SKIPPED', icon: '⏭️', colour: 'cyan' },
  cancelled: { word: 'CANCELLED', icon: '⏹️', colour: 'yellow' },
  warning: { word: 'WARNING', icon: '⚠️', colour: 'yellow' },
  failed: { word: 'FAILED', icon: '❌', colour: 'red' },
};

export function statusOf(r: CheckResult): Shown {
  if (r.status !== 'failed') return r.status;
  return r.stopped === 'cancelled' ? 'cancelled' : isWarning(r) ? 'warning' : 'failed';
}

/** OK, SKIPPED, FAILED, WARNING, or CANCELLED for a check the run was stopped in the middle of (it did not fail on its own). */
export const statusWord = (r: CheckResult): string => LOOK[statusOf(r)].word;
export const statusColour = (r: CheckResult): Colour => LOOK[statusOf(r)].colour;
/** The job summary's and the Markdown table's first column. */
export const icon = (r: CheckResult): string => LOOK[statusOf(r)].icon;

/** A duration as the reports print it: 1.23s, or 12.3s from ten seconds on. */
export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** Checks that failed on their own (not stopped by a cancelled run), warnings included. */
export function ownFailures(results: readonly CheckResult[]): number {
  return results.filter((r) => r.status === 'failed' && r.stopped !== 'cancelled').length;
}

const checks = (n: number) => `${n} check${n === 1 ? '' : 's'}`;

/** The verdict of a run: Nagios' level, what happened in words (lower case), how many were skipped. */
export function judge(results: readonly CheckResult[]): { level: 'OK' | 'WARNING' | 'CRITICAL'; what: string; skipped: number } {
  const s = summarize(results, 0);
  const ran = s.total - s.skipped;
  const cancelled = cancelledCount(results);
  const verdict = (level: 'OK' | 'WARNING' | 'CRITICAL', what: string) => ({ level, what, skipped: s.skipped });
  if (cancelled) return verdict('CRITICAL', `cancelled, ${cancelled} of ${checks(ran)} did not finish; ${ownFailures(results)} failed, ${s.passed} passed`);
  if (s.failed) return verdict('CRITICAL', `${s.failed} of ${checks(ran)} failed${s.warnings ? `, ${s.warnings} with warnings` : ''}`);
  if (s.warnings) return verdict('WARNING', `${s.warnings} of ${checks(ran)} failed with severity warning`);
  if (ran === 0) return verdict('OK', 'no checks ran');
  return verdict('OK', `${checks(s.passed)} passed`);
}

/** The verdict as a heading (job summary, Markdown): `1 of 3 checks failed in 1.20s (2 skipped)`. */
export function verdictHeading(results: readonly CheckResult[], durationMs: number): string {
  const v = judge(results);
  return `${v.what[0]!.toUpperCase()}${v.what.slice(1)} in ${seconds(durationMs)}${v.skipped ? ` (${v.skipped} skipped)` : ''}`;
}
