/** The job summary: a verdict and one table row per check, HTML-escaped, under a size budget. */
import { MAX_SUMMARY_BYTES } from '../core/constants.js';
import { formatIssue, type ConfigIssue } from '../config/errors.js';
import { ordered, type CheckResult } from '../runner/result.js';
import { icon, seconds, verdictHeading } from './status.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
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
    `<h2>conn-check</h2>\n<p><b>${escapeHtml(verdictHeading(results, durationMs))}</b></p>\n` +
    '<table><thead><tr><th></th><th>Check</th><th>Target</th><th>Time</th><th>Details</th></tr></thead><tbody>\n';
  const tail = '</tbody></table>\n';
  const rows = fit(ordered(results), (r) => row(r) + '\n', budget - Buffer.byteLength(head + tail) - 200);
  const more = rows.cut ? `<p>… and ${rows.cut} more check${rows.cut === 1 ? '' : 's'} not shown (the summary has a size limit); see the <code>results</code> output.</p>\n` : '';
  return head + rows.text + tail + more;
}

/** The config's problems for the job summary, escaped, under the summary's size budget. */
export function renderConfigErrors(errors: readonly ConfigIssue[], budget = MAX_SUMMARY_BYTES): string {
  const head = `<h2>conn-check</h2>\n<p><b>The config is invalid: ${errors.length} problem${errors.length === 1 ? '' : 's'}</b></p>\n<ul>\n`;
  const tail = '</ul>\n';
  const items = fit(errors, (i) => `<li><code>${escapeHtml(formatIssue(i))}</code></li>\n`, budget - Buffer.byteLength(head + tail) - 300);
  const more = items.cut ? `<p>… and ${items.cut} more problem${items.cut === 1 ? '' : 's'} not shown (the summary has a size limit); see the annotations.</p>\n` : '';
  return head + items.text + tail + more;
}

/** The rendered items, in order, as many as fit in `room` bytes, and how many did not. */
function fit<T>(items: readonly T[], render: (item: T) => string, room: number): { text: string; cut: number } {
  let used = 0;
  let text = '';
  let n = 0;
  for (; n < items.length; n++) {
    const html = render(items[n]!);
    used += Buffer.byteLength(html);
    if (used > room) break;
    text += html;
  }
  return { text, cut: items.length - n };
}
