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
  /** Details such as the address that answered. */
  details?: string[];
  duration_ms: number;
  tags: string[];
  file: string;
  line: number;
}

export interface RunSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  duration_ms: number;
}

export function summarize(results: readonly CheckResult[], durationMs: number): RunSummary {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const r of results) {
    if (r.status === 'passed') passed++;
    else if (r.status === 'failed') failed++;
    else skipped++;
  }
  return { total: results.length, passed, failed, skipped, duration_ms: Math.round(durationMs) };
}

const rank: Record<Status, number> = { failed: 0, passed: 1, skipped: 2 };

/** conn-check's order: failures first, then passes, then skipped, each sorted by name. */
export function ordered(results: readonly CheckResult[]): CheckResult[] {
  return [...results].sort((a, b) => rank[a.status] - rank[b.status] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
