/** The `results` output and `--format json`: one object per configured check, in file order. */
import type { CheckResult } from '../runner/result.js';

export function toJsonResults(results: readonly CheckResult[]): object[] {
  return results.map((r) => ({
    name: r.name,
    type: r.type,
    target: r.target,
    status: r.status,
    step: r.step ?? null,
    error: r.error ?? null,
    ...(r.stopped ? { stopped: r.stopped } : {}),
    ...(r.details ? { details: r.details } : {}),
    duration_ms: r.duration_ms,
    attempts: r.attempts ?? 1,
    severity: r.severity ?? 'critical',
    ...(r.tls_verification ? { tls_verification: r.tls_verification } : {}),
    tags: r.tags,
    file: r.file,
    line: r.line,
  }));
}

export function renderJson(results: readonly CheckResult[], pretty = true): string {
  return JSON.stringify(toJsonResults(results), null, pretty ? 2 : undefined) + '\n';
}
