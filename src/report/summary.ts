/** The job summary: a verdict and one table row per check, HTML-escaped, under a size budget. */
import { MAX_SUMMARY_BYTES } from '../core/constants.js';
import { cancelledCount, isWarning, ordered, summarize, type CheckResult } from '../runner/result.js';
import { failure, ownFailures, seconds } from './text.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const icon = (r: CheckResult): string => (r.status === 'passed' ? '✅' : r.status === 'skipped' ? '⏭️' : r.stopped === 'cancelled' ? '⏹️' : isWarning(r) ? '⚠️' : '❌');

export function summaryVerdict(results: readonly CheckResult[], durationMs: number): string {
  const s = summarize(results, durationMs);
  const ran = s.total - s.skipped;
  const skipped = s.skipped ? ` (${s.skipped} skipped)` : '';
  const warned = s.warnings ? `, ${s.warnings} with warnings` : '';
  const cancelled = cancelledCount(results);
  if (cancelled) return `Cancelled: ${cancelled} of ${ran} check${ran === 1 ? '' : 's'} did not finish; ${ownFailures(results)} failed, ${s.passed} passed${skipped}`;
  if (s.failed) return `${s.failed} of ${ran} check${ran === 1 ? '' : 's'} failed${warned}${skipped}`;
  if (s.warnings) return `${s.warnings} of ${ran} check${ran === 1 ? '' : 's'} failed with severity warning${skipped}`;
  if (ran === 0) return `No checks ran${skipped}`;
  return `${s.passed} check${s.passed === 1 ? '' : 's'} passed in ${seconds(durationMs)}${skipped}`;
}

function row(r: CheckResult): string {
  let details = '';
  if (r.status === 'failed') details = `<b>${escapeHtml(r.step ?? 'failed')}</b>: ${escapeHtml(r.error ?? '')}`;
  else if (r.status === 'skipped') details = escapeHtml(r.error ?? '');
  else if (r.details?.length) details = escapeHtml(r.details.join('; '));
  if (r.tls_verification === 'disabled') details = `🔓 <b>TLS not verified</b>${details ? `; ${details}` : ''}`;
  if (r.attempts) details += escapeHtml(r.status === 'passed' ? ` (passed on attempt ${r.attempts})` : ` (after ${r.attempts} attempts)`);
  const time = r.status === 'skipped' ? '' : seconds(r.duration_ms);
  return `<tr><td>${icon(r)}</td><td>${escapeHtml(r.name)}</td><td><code>${escapeHtml(r.target)}</code></td><td>${time}</td><td>${details}</td></tr>`;
}

/** The whole summary as HTML (the job summary accepts GitHub-flavoured HTML). */
export function renderSummary(results: readonly CheckResult[], durationMs: number, budget = MAX_SUMMARY_BYTES): string {
  const head =
    `<h2>conn-check</h2>\n<p><b>${escapeHtml(summaryVerdict(results, durationMs))}</b></p>\n` +
    '<table><thead><tr><th></th><th>Check</th><th>Target</th><th>Time</th><th>Details</th></tr></thead><tbody>\n';
  const tail = '</tbody></table>\n';
  let used = Buffer.byteLength(head) + Buffer.byteLength(tail) + 200;
  const rows: string[] = [];
  const all = ordered(results);
  for (const r of all) {
    const line = row(r) + '\n';
    const size = Buffer.byteLength(line);
    if (used + size > budget) break;
    rows.push(line);
    used += size;
  }
  const cut = all.length - rows.length;
  const more = cut ? `<p>… and ${cut} more check${cut === 1 ? '' : 's'} not shown (the summary has a size limit); see the <code>results</code> output.</p>\n` : '';
  return head + rows.join('') + tail + more;
}
