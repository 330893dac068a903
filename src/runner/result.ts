import type { StopKind } from '../core/contract.js';

export type { StopKind };
/** The reason of a check skipped by --dry-run / dry-run. */
export const DRY_RUN = 'dry run';

/** The plain record every reporter renders: one per configured check. */
export type Status = 'passed' | 'failed' | 'skipped';

export interface CheckResult {
  name: string;
  type: string;
  target: string;
  status: Status;
  /** The step that failed (failed checks only). */
  step?: string;
  /** Why it failed (failed checks), or why it was skipped. */
  error?: string;
  /** Set when the check was stopped before it finished (failed checks only). */
  stopped?: StopKind;
  /** Details such as the address that answered. */
  details?: string[];
  duration_ms: number;
  /** How many attempts it took, when more than one (retries, wait). */
  attempts?: number;
  /** `warning`: a failure does not fail the run. Absent for critical checks. */
  severity?: 'warning';
  /** Set when the check's options turn TLS verification off. */
  tls_verification?: 'disabled';
  tags: string[];
  /**
   * Left out by tags or patterns (status skipped): the text format prints nothing for it, as
   * conn-check printed nothing; machine formats keep the row.
   */
  unselected?: true;
  file: string;
  line: number;
}

export interface RunSummary {
  total: number;
  passed: number;
  /** Failed critical checks: these fail the run. */
  failed: number;
  /** Failed checks with severity warning. */
  warnings: number;
  skipped: number;
  duration_ms: number;
}

/** Failed checks that did not finish because the run was cancelled (SIGINT/SIGTERM). */
export function cancelledCount(results: readonly CheckResult[]): number {
  return results.filter((r) => r.status === 'failed' && r.stopped === 'cancelled').length;
}

export function summarize(results: readonly CheckResult[], durationMs: number): RunSummary {
  let passed = 0;
  let failed = 0;
  let warnings = 0;
  let skipped = 0;
  for (const r of results) {
    if (r.status === 'passed') passed++;
    else if (r.status === 'skipped') skipped++;
    else if (isWarning(r)) warnings++;
    else failed++;
  }
  return { total: results.length, passed, failed, warnings, skipped, duration_ms: Math.round(durationMs) };
}

/** A failed check whose severity is warning. */
export function isWarning(r: CheckResult): boolean {
  return r.status === 'failed' && r.severity === 'warning';
}

const rank = (r: CheckResult): number => (r.status === 'failed' ? (isWarning(r) ? 1 : 0) : r.status === 'passed' ? 2 : 3);

/** conn-check's order: failures first (critical, then warnings), then passes, then skipped, each sorted by name. */
export function ordered(results: readonly CheckResult[]): CheckResult[] {
  return [...results].sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
