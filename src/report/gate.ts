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

/** The same characters, to ask whether a text has any (no global state, no copy). */
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/;

/** Control characters as visible escapes (`\n`, `\r`, `\u001b`...). */
export function neutralise(s: string): string {
  if (!HAS_CONTROL.test(s)) return s;
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

/** How many distinct keys value() remembers the clean form of (the keys of results and issues are few). */
const KEY_CACHE_SIZE = 256;

export class OutputGate {
  private redactor: Redactor;
  /** Keys of structured values, cleaned (results repeat the same dozen): forgotten when the secrets change. */
  private readonly keys = new Map<string, string>();

  constructor(secrets: Iterable<string> = []) {
    this.redactor = new Redactor(secrets);
  }

  /** From now on, mask these secrets (and every form of them). */
  mask(secrets: Iterable<string>): void {
    this.redactor = new Redactor(secrets);
    this.keys.clear();
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

  /**
   * Every string inside a JSON-like value (keys too) through text(); other values untouched. An
   * array or plain object in which nothing changes is returned as it is (a result is built once,
   * not copied); another object (a class instance) is copied to a plain one, its own enumerable
   * keys only.
   */
  value<T>(v: T, max = MAX_FIELD_CHARS): T {
    if (typeof v === 'string') return this.text(v, max) as T;
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        const y = this.value(x, max);
        if (out) out.push(y);
        else if (y !== x) (out = v.slice(0, i)).push(y);
      }
      return (out ?? v) as T;
    }
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      let out: Record<string, unknown> | undefined = Object.getPrototypeOf(o) === Object.prototype ? undefined : {};
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const x = o[k];
        const ck = this.key(k, max);
        const cx = this.value(x, max);
        if (!out && (ck !== k || cx !== x)) {
          out = {};
          for (let j = 0; j < i; j++) out[this.key(keys[j]!, max)] = o[keys[j]!];
        }
        if (out) out[ck] = cx;
      }
      return (out ?? v) as T;
    }
    return v;
  }

  /** text() of a key, remembered. */
  private key(k: string, max: number): string {
    if (max !== MAX_FIELD_CHARS) return this.text(k, max);
    let c = this.keys.get(k);
    if (c === undefined) {
      c = this.text(k, max);
      if (this.keys.size < KEY_CACHE_SIZE) this.keys.set(k, c);
    }
    return c;
  }

  /** Final text for stdout or stderr (rendered from clean values): no line can start a workflow command. */
  stream(s: string): string {
    return guardLines(s);
  }
}
