/** Annotations as data: the action turns them into core.error/core.warning calls. */
import type { ConfigIssue } from '../config/errors.js';
import { formatIssue } from '../config/errors.js';
import { isWarning, type CheckResult } from '../runner/result.js';
import { failure } from './text.js';
import { statusWord } from './status.js';

export interface Annotation {
  level: 'error' | 'warning';
  title: string;
  message: string;
  /** Relative to the workspace; absent for inline checks. */
  file?: string;
  startLine?: number;
  startColumn?: number;
}

/** Names that are not files (inline checks, stdin) carry no file in annotations. */
export function isRealFile(file: string): boolean {
  return !file.startsWith('<');
}

export function failureAnnotations(results: readonly CheckResult[]): Annotation[] {
  return results
    .filter((r) => r.status === 'failed')
    .map((r) => ({
      level: isWarning(r) ? ('warning' as const) : ('error' as const),
      title: `conn-check: ${r.name}`,
      message: `${r.name} ${statusWord(r)} - ${failure(r)}`,
      ...(isRealFile(r.file) ? { file: r.file, startLine: r.line } : {}),
    }));
}

export function configAnnotations(issues: readonly ConfigIssue[]): Annotation[] {
  return issues.map((i) => ({
    level: i.severity,
    title: i.severity === 'error' ? 'conn-check: invalid config' : 'conn-check: config warning',
    message: formatIssue(i),
    ...(isRealFile(i.file) ? { file: i.file, startLine: i.line, startColumn: i.column } : {}),
  }));
}
