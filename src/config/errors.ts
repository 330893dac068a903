/** Config problems, each with where it is: FILE:LINE:COL: checks[N] (type): option: message. */

export type Severity = 'error' | 'warning';

export interface ConfigIssue {
  severity: Severity;
  /** The file as the user named it (or `<checks input>`, `<stdin>`). */
  file: string;
  line?: number;
  column?: number;
  /** e.g. `checks[3] (redis)` */
  check?: string;
  option?: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) where += `:${issue.line}`;
  if (issue.line !== undefined && issue.column !== undefined) where += `:${issue.column}`;
  const parts = [where];
  if (issue.check) parts.push(issue.check);
  if (issue.option) parts.push(issue.option);
  parts.push(issue.message);
  return (issue.severity === 'warning' ? 'warning: ' : '') + parts.join(': ');
}

/** The only error the config layer throws: it carries every problem found, not just the first. */
export class ConfigError extends Error {
  /**
   * @param secrets the credentials found in the config before it failed: the entries mask them
   * (and scrub every message) even though the config is invalid.
   */
  constructor(
    readonly issues: ConfigIssue[],
    readonly secrets: ReadonlySet<string> = new Set(),
  ) {
    const errors = issues.filter((i) => i.severity === 'error');
    super(
      `${errors.length} problem${errors.length === 1 ? '' : 's'} in the configuration:\n` +
        errors.map((i) => `  ${formatIssue(i)}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}
