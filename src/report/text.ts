/** conn-check's text output (Nagios-friendly): failures first, one line per check, a verdict. */
import { paint, paintVerdict } from './colour.js';
import { DRY_RUN, ordered, type CheckResult } from '../runner/result.js';
import { judge, seconds, statusColour, statusWord } from './status.js';

export interface TextOptions {
  durations?: boolean;
  verbose?: boolean;
  /** Colour the status words and the verdict (a terminal that wants it). */
  colour?: boolean;
}

/** One check's line: `NAME OK`, `NAME FAILED - step: message`, `SKIPPED: NAME`. */
export function textLine(r: CheckResult, o: TextOptions = {}): string {
  const time = o.durations && r.status !== 'skipped' ? ` (${seconds(r.duration_ms)})` : '';
  const details = o.verbose ? detailsOf(r) : '';
  const status = o.colour ? paint(statusWord(r), statusColour(r)) : statusWord(r);
  if (r.status === 'passed') return `${r.name} ${status}${r.attempts ? ` (passed on attempt ${r.attempts})` : ''}${time}${details}`;
  if (r.status === 'skipped') {
    // A dry run lists what would run: where, too, when the name does not say it.
    const target = r.error === DRY_RUN && !r.name.includes(r.target) ? ` (${r.target})` : '';
    return `${status}: ${r.name}${target}${o.verbose && r.error ? ` (${r.error})` : ''}`;
  }
  const attempts = r.attempts ? ` (after ${r.attempts} attempts)` : '';
  return `${r.name} ${status} - ${failure(r)}${attempts}${time}${details}`;
}

/** ` [TLS not verified; detail; ...]` (-v), or nothing. */
function detailsOf(r: CheckResult): string {
  const notes = [...(r.tls_verification === 'disabled' ? ['TLS not verified'] : []), ...(r.details ?? [])];
  return notes.length ? ` [${notes.join('; ')}]` : '';
}

/** `step: message` of a failed check. */
export function failure(r: CheckResult): string {
  return `${r.step ? `${r.step}: ` : ''}${r.error ?? 'failed'}`;
}

/** What the text format shows: checks left out by tags or patterns print nothing, as in conn-check. */
const shown = (results: readonly CheckResult[]) => results.filter((r) => !r.unselected);

/** The last line: `CRITICAL: 1 of 3 checks failed, 1 skipped in 1.20s`. */
export function verdict(all: readonly CheckResult[], durationMs: number): string {
  const v = judge(shown(all));
  return `${v.level}: ${v.what}${v.skipped ? `, ${v.skipped} skipped` : ''} in ${seconds(durationMs)}`;
}

export function renderText(results: readonly CheckResult[], durationMs: number, o: TextOptions = {}): string {
  const last = verdict(results, durationMs);
  return [...ordered(shown(results)).map((r) => textLine(r, o)), o.colour ? paintVerdict(last) : last].join('\n') + '\n';
}
