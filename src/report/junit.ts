/** JUnit XML: one testsuite per config file, one testcase per check, failures with messages. */
import { isWarning, type CheckResult } from '../runner/result.js';
import { failure } from './text.js';

function xml(s: string): string {
  // XML 1.0 cannot carry most control characters even escaped: drop them.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

export function renderJunit(results: readonly CheckResult[], durationMs: number): string {
  const byFile = new Map<string, CheckResult[]>();
  for (const r of results) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  // Checks run in parallel: a file's checks together took at most the whole run, not the sum of
  // their times (so no <testsuite time> exceeds <testsuites time>).
  const count = (rs: readonly CheckResult[]) => ({
    tests: rs.length,
    failures: rs.filter((r) => r.status === 'failed').length,
    skipped: rs.filter((r) => r.status === 'skipped').length,
    time: secs(Math.min(durationMs, rs.reduce((t, r) => t + r.duration_ms, 0))),
  });
  const all = count(results);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="conn-check" tests="${all.tests}" failures="${all.failures}" errors="0" skipped="${all.skipped}" time="${secs(durationMs)}">`,
  ];
  for (const [file, rs] of byFile) {
    const c = count(rs);
    out.push(`  <testsuite name="${xml(file)}" tests="${c.tests}" failures="${c.failures}" errors="0" skipped="${c.skipped}" time="${c.time}">`);
    for (const r of rs) {
      const open = `    <testcase name="${xml(r.name)}" classname="conn-check.${xml(r.type)}" file="${xml(r.file)}" line="${r.line}" time="${secs(r.duration_ms)}"`;
      if (r.status === 'passed') {
        out.push(r.details?.length || r.attempts ? `${open}>\n      <system-out>${xml([...(r.details ?? []), ...(r.attempts ? [`passed on attempt ${r.attempts}`] : [])].join('\n'))}</system-out>\n    </testcase>` : `${open}/>`);
      } else if (r.status === 'skipped') {
        out.push(`${open}>\n      <skipped message="${xml(r.error ?? 'skipped')}"/>\n    </testcase>`);
      } else {
        const message = failure(r) + (r.attempts ? ` (after ${r.attempts} attempts)` : '');
        out.push(`${open}>\n      <failure message="${xml(message)}" type="${isWarning(r) ? 'warning' : xml(r.step ?? 'failed')}">${xml(`${r.name} target=${r.target}\n${message}`)}</failure>\n    </testcase>`);
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
