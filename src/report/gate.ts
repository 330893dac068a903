/**
 * The output gate: every byte the project writes (stdout, stderr, annotations, job summary,
 * outputs, report files) leaves through here.
 *
 * - Untrusted text (from servers, drivers, the config, the environment) is redacted, then its
 *   control characters are neutralised (CR, LF, NUL, the other C0 and C1 controls, DEL, U+2028,
 *   U+2029, bidi overrides and isolates), redacted again (an escape cannot rebuild a secret), and
 *   only then cut to its length limit: a cut can never leave a secret's prefix behind.
 * - Structured values (results, config issues) are cleaned string by string before they are
 *   serialised, so JSON stays valid and numbers are never masked.
 * - Text for a stream the Actions runner reads (stdout, stderr) is guarded line by line: no line
 *   can begin a workflow command (`::name::`, or the legacy `##[name]`), whatever it contains.
 *   The project's own workflow commands are written by @actions/core only, never through here.
 */
import { Redactor } from '../secrets/index.js';

/** Characters that could end a line, hide text or reorder it on screen. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\t': '\\t', '\0': '\\0' };

/** Control characters as visible escapes (`\n`, `\r`, `\u001b`...). */
export function neutralise(s: string): string {
  return s.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A line that, once its leading whitespace is gone, the runner would take as a command. */
const COMMAND_START = /^(\s*)(::|##\[)/;

/**
 * Guards text for a stream the runner reads: a line (split as the runner splits: CR, LF, CRLF)
 * that would begin a workflow command gets a backslash before it, so it is shown, not run.
 */
export function guardLines(s: string): string {
  if (!s.includes('::') && !s.includes('##[')) return s;
  return s.replace(/(^|\r\n|\r|\n)([^\r\n]*)/g, (_m, sep: string, line: string) => sep + line.replace(COMMAND_START, '$1\\$2'));
}

/** Cut to `max` characters (not inside a surrogate pair), marked with an ellipsis. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - 1);
  if (end > 0 && /[\ud800-\udbff]/.test(s[end - 1]!)) end--;
  return `${s.slice(0, end)}…`;
}

/** Longest text a single field of a report keeps (an error, a detail, a name). */
export const MAX_FIELD_CHARS = 2000;

export class OutputGate {
  private redactor: Redactor;

  constructor(secrets: Iterable<string> = []) {
    this.redactor = new Redactor(secrets);
  }

  /** From now on, mask these secrets (and every form of them). */
  mask(secrets: Iterable<string>): void {
    this.redactor = new Redactor(secrets);
  }

  /** Untrusted text as one safe line: redacted, neutralised, redacted again, then cut. */
  text(s: string, max = MAX_FIELD_CHARS): string {
    const redacted = this.redactor.redact(s);
    const once = neutralise(redacted);
    // Nothing masked and nothing escaped: the second pass would scan `s` again and give `s`.
    return cut(redacted === s && once === s ? s : this.redactor.redact(once), max);
  }

  /** Text the project wrote itself that quotes untrusted parts: each line made safe on its own. */
  lines(s: string, max = MAX_FIELD_CHARS): string {
    return s
      .split(/\r\n|\r|\n/)
      .map((l) => this.text(l, max))
      .join('\n');
  }

  /** Every string inside a JSON-like value (keys too) through text(); other values untouched. */
  value<T>(v: T, max = MAX_FIELD_CHARS): T {
    if (typeof v === 'string') return this.text(v, max) as T;
    if (Array.isArray(v)) return v.map((x) => this.value(x, max)) as T;
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.text(k, max)] = this.value(x, max);
      return out as T;
    }
    return v;
  }

  /** Final text for stdout or stderr (rendered from clean values): no line can start a workflow command. */
  stream(s: string): string {
    return guardLines(s);
  }
}
