/** The job summary's table as Markdown, for `--format markdown` (PR comments, wikis). */
import { ordered, type CheckResult } from '../runner/result.js';
import { icon, seconds, verdictHeading } from './status.js';
import { failure } from './text.js';

function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ').replace(/([<>*_`[\]])/g, '\\$1');
}

export function renderMarkdown(results: readonly CheckResult[], durationMs: number): string {
  const rows = ordered(results).map((r) => {
    let details = r.status === 'failed' ? failure(r) : r.status === 'skipped' ? (r.error ?? '') : (r.details ?? []).join('; ');
    if (r.tls_verification === 'disabled') details = `🔓 TLS not verified${details ? `; ${details}` : ''}`;
    if (r.attempts) details += r.status === 'passed' ? ` (passed on attempt ${r.attempts})` : ` (after ${r.attempts} attempts)`;
    return `| ${icon(r)} | ${cell(r.name)} | ${cell(r.target)} | ${r.status === 'skipped' ? '' : seconds(r.duration_ms)} | ${cell(details)} |`;
  });
  return ['## conn-check', '', `**${verdictHeading(results, durationMs)}**`, '', '| | Check | Target | Time | Details |', '| --- | --- | --- | --- | --- |', ...rows, ''].join('\n');
}
