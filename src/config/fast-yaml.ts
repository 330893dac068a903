/**
 * A fast path for the one shape nearly every conn-check file has: a flat list of simple mappings.
 *
 * Loading a config with the `yaml` package costs its import (~20 ms of start-up) and a full
 * document tree (hundreds of MiB for 10,000 checks). fastParse reads only a narrow subset of
 * YAML, line by line, and gives exactly what the `yaml` path (YAML 1.1 schema, unique keys,
 * `doc.toJS()`) gives for it: the same values and the same positions. For anything outside the
 * subset it returns undefined and the caller parses with `yaml`, which also produces every error
 * and warning message. So this code never reports a problem: when in doubt, it falls back.
 *
 * The subset:
 * - The text has no tab, no lone CR (CRLF and LF line ends are fine) and none of the characters
 *   U+0080..U+009F, U+2028, U+2029, U+FEFF.
 * - Blank lines, whole-line comments (`# ...`, at any indentation) and comments after a value
 *   (`value  # ...`, the `#` preceded by a space). An optional `---` line may come first.
 * - The top level is a block sequence at column 1 of at least one item (`- ...`), each either
 *   - a one-line flow mapping: `- {type: tcp, host: db, tags: [a, "b"]}`, or
 *   - a block mapping: `- key: value` then `  key: value` lines at the first key's column.
 * - Keys are plain words: `[A-Za-z_][A-Za-z0-9_-]*`, at most 128 characters, that resolve to
 *   themselves (not `on`, the key `true`; not `e5`, a float), not `__proto__`, unique in their mapping.
 * - A value is a scalar (below), a one-line flow sequence of scalars (`[a, 1, "c"]`), a one-line
 *   flow mapping of such values (only as a block item's value), or, when `key:` ends its line,
 *   one more level of block mapping (`headers:` / `    X-Foo: bar`) or block sequence of scalars
 *   (`tags:` / `    - a`), more indented than the key. `key:` with nothing under it is null.
 * - Scalars are all on one line:
 *   - double-quoted with the escapes `\\ \" \/ \n \t \r \0` (any other escape falls back),
 *   - single-quoted (`''` is a quote),
 *   - plain: printable ASCII, starting with a letter, a digit, one of `/ _ . $ ~ ( = ^`, or a sign
 *     followed by a digit; without `: `, a trailing `:`, or ` #` (which starts a comment); in a
 *     flow collection also without `[ ] { } , " '` and without a `:` followed by a flow indicator.
 *     A plain scalar is resolved as YAML 1.1 does (the regular expressions below are the yaml
 *     package's `yaml-1.1` schema tests): null and boolean words, decimal integers
 *     (`5432`, `-0`, `+1`) and decimal fractions (`0.5`) become values; a scalar any other tag of
 *     that schema would match (octal `0777`, hex, `1_000`, sexagesimal `1:30`, `1e3`, `e3` (NaN!),
 *     `.5`, `.inf`, dates, `<<`) falls back; everything else (`127.0.0.1`, `db.example.com`,
 *     `${VAR}`) is a string.
 * Anchors, aliases, tags, block scalars (`|`, `>`), multi-line scalars or flow collections, deeper
 * nesting, quoted keys, documents other than a single one: all fall back.
 */

import { KeyPositions, type FastPos } from './key-positions.js';
export type { FastPos } from './key-positions.js';
export { KeyPositions } from './key-positions.js';

/** One item of the top-level list. */
export interface FastItem {
  /** The mapping, as yaml's doc.toJS() gives it. */
  value: Record<string, unknown>;
  /** Where the mapping node starts (its first key, or its `{`). */
  line: number;
  column: number;
  /** Where each key scalar starts. */
  keys: KeyPositions;
}

/** Thrown inside the parser to give up; fastParse turns it into undefined. */
class Fallback extends Error {}
const FALLBACK = new Fallback('not in the fast subset');
function fallback(): never {
  throw FALLBACK;
}

/** Characters that rule a text out at once: tab, a CR not before LF, C1 controls, line/paragraph separators, BOM. */
const UNSUPPORTED_TEXT = /[\t\u0080-\u009f\u2028\u2029\ufeff]|\r(?!\n)/;

// The yaml package's YAML 1.1 schema (yaml 2.x, dist/schema/yaml-1.1 and schema/common/null.js).
const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const TRUE_RE = /^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const FALSE_RE = /^(?:N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
/** Every other tag a plain scalar can resolve to: what matches one of these falls back unless handled below. */
const OTHER_TAGS: readonly RegExp[] = [
  /^[-+]?0b[0-1_]+$/, // int, binary
  /^[-+]?0[0-7_]+$/, // int, octal
  /^[-+]?[0-9][0-9_]*$/, // int
  /^[-+]?0x[0-9a-fA-F_]+$/, // int, hex
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, // float, inf/nan
  /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/, // float, exponent
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/, // float
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+$/, // int, sexagesimal
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*$/, // float, sexagesimal
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:t|T|[ \t]+)([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2}(\.[0-9]+)?)(?:[ \t]*(Z|[-+][012]?[0-9](?::[0-9]{2})?))?)?$/, // timestamp
  /^<<$/, // merge key
];
/** OTHER_TAGS as one expression (one match instead of eleven: a host such as 127.0.0.1 is tested on every item). */
const ANY_OTHER_TAG = new RegExp(OTHER_TAGS.map((re) => `(?:${re.source})`).join('|'));
/** What a scalar must start with to possibly match NULL_RE, TRUE_RE or FALSE_RE ('' is null). */
const NULL_OR_BOOL_START = '~nNyYtTfFoO';
/** What a scalar must start with to possibly match one of OTHER_TAGS (`e5` is a float: NaN). */
const OTHER_TAGS_START = '0123456789+-.eE<';
/** The numbers handled here: decimal, no underscores, no leading zeros (those are octal). */
const DECIMAL_INT = /^[-+]?(?:0|[1-9][0-9]*)$/;
const DECIMAL_FRACTION = /^[-+]?(?:0|[1-9][0-9]*)\.[0-9]+$/;

const MAX_KEY_LENGTH = 128;
/** What a plain scalar may start with (a sign only before a digit, checked apart). */
const PLAIN_START = /[A-Za-z0-9/_.$~(=^]/;
/** Characters that end a plain scalar in a flow collection, or make it fall back. */
const FLOW_STOP = new Set([',', '[', ']', '{', '}', '"', "'"]);

/** Parses `text` if it is in the subset; undefined means "use the yaml package". */
export function fastParse(text: string): FastItem[] | undefined {
  if (UNSUPPORTED_TEXT.test(text)) return undefined;
  try {
    return new FastParser(text).parse();
  } catch (err) {
    if (err === FALLBACK) return undefined;
    throw err;
  }
}

/** Resolves a plain scalar as YAML 1.1 does, or falls back. */
function resolvePlain(s: string): unknown {
  const first = s[0] ?? '';
  // ('' is in every string: the empty scalar goes on to NULL_RE.)
  if (NULL_OR_BOOL_START.includes(first)) {
    if (NULL_RE.test(s)) return null;
    if (TRUE_RE.test(s)) return true;
    if (FALSE_RE.test(s)) return false;
  }
  // No other tag matches a scalar starting with anything else (checked before running the regexps).
  if (!OTHER_TAGS_START.includes(first)) return s;
  // Nor one with two dots (127.0.0.1: each tag allows one at most), nor is it a number.
  const dot = s.indexOf('.');
  if (dot !== -1 && s.indexOf('.', dot + 1) !== -1) return s;
  if (DECIMAL_INT.test(s)) {
    // As yaml's intResolve does it (so "-0" is -0).
    const c = s[0];
    const n = parseInt(c === '+' || c === '-' ? s.slice(1) : s, 10);
    return c === '-' ? -1 * n : n;
  }
  if (DECIMAL_FRACTION.test(s)) return parseFloat(s);
  // Not only digits: `e5` is a float (NaN) to yaml.
  if (ANY_OTHER_TAG.test(s)) fallback();
  return s;
}

/** The end of a key (a plain word `[A-Za-z_][A-Za-z0-9_-]*`) starting at `p`, or `p` if none starts there. */
function scanKey(line: string, p: number): number {
  const c = line.charCodeAt(p);
  if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f)) return p;
  for (p++; p < line.length; p++) {
    const d = line.charCodeAt(p);
    if (!((d >= 0x61 && d <= 0x7a) || (d >= 0x41 && d <= 0x5a) || (d >= 0x30 && d <= 0x39) || d === 0x5f || d === 0x2d)) break;
  }
  return p;
}

/** Sets a key, falling back on a duplicate (yaml reports it). */
function setKey(map: Record<string, unknown>, key: string, value: unknown): void {
  if (Object.prototype.hasOwnProperty.call(map, key)) fallback();
  map[key] = value;
}

const isSpace = (ch: string | undefined): boolean => ch === ' ';

class FastParser {
  private readonly lines: string[];
  /** Keys already found to resolve to themselves (the same few keys recur on every item). */
  private readonly goodKeys = new Set<string>();
  /** The keys of every item, in order, and where each starts (line, column): see KeyPositions. */
  private readonly keyNames: string[] = [];
  private readonly keyAt: number[] = [];

  constructor(text: string) {
    this.lines = text.split('\n');
    for (let i = 0; i < this.lines.length; i++) {
      const l = this.lines[i]!;
      if (l.endsWith('\r')) this.lines[i] = l.slice(0, -1);
    }
  }

  parse(): FastItem[] {
    const { lines } = this;
    const items: FastItem[] = [];
    let i = this.nextContent(0);
    if (i < lines.length && lines[i]!.trimEnd() === '---') i = this.nextContent(i + 1);
    while (i < lines.length) {
      const line = lines[i]!;
      if (line[0] !== '-' || line[1] !== ' ') fallback();
      let c = 2;
      while (isSpace(line[c])) c++;
      if (line[c] === '{') {
        const from = this.keyNames.length;
        const { value, end } = this.flowMap(line, c, i + 1, true);
        this.lineEnd(line, end);
        items.push({ value, line: i + 1, column: c + 1, keys: this.keysFrom(from) });
        i = this.nextContent(i + 1);
      } else {
        const from = this.keyNames.length;
        const value: Record<string, unknown> = {};
        const lineNo = i + 1;
        i = this.blockMap(i, c, value);
        items.push({ value, line: lineNo, column: c + 1, keys: this.keysFrom(from) });
      }
    }
    if (items.length === 0) fallback();
    return items;
  }

  private keysFrom(from: number): KeyPositions {
    return new KeyPositions(this.keyNames, this.keyAt, from, this.keyNames.length);
  }

  /** A key must resolve to itself: not `on` (true), `null`, `e5` (a float)... */
  private checkKey(key: string): void {
    if (this.goodKeys.has(key)) return;
    if (key.length > MAX_KEY_LENGTH || key === '__proto__' || resolvePlain(key) !== key) fallback();
    this.goodKeys.add(key);
  }

  /** The index of the first line at or after `i` that is neither blank nor a comment (lines.length if none). */
  private nextContent(i: number): number {
    const { lines } = this;
    for (; i < lines.length; i++) {
      const line = lines[i]!;
      let c = 0;
      while (isSpace(line[c])) c++;
      if (c < line.length && line[c] !== '#') return i;
    }
    return i;
  }

  private indent(i: number): number {
    const line = this.lines[i]!;
    let c = 0;
    while (isSpace(line[c])) c++;
    return c;
  }

  /** An item's block mapping, whose keys are at column `col` from line `i` on. Returns the next content line. */
  private blockMap(i: number, col: number, map: Record<string, unknown>): number {
    const { lines } = this;
    for (;;) {
      const line = lines[i]!;
      const { key, after } = this.blockKey(line, col);
      this.keyNames.push(key);
      this.keyAt.push(i + 1, col + 1);
      let p = after;
      while (isSpace(line[p])) p++;
      let value: unknown;
      let next: number;
      if (p === line.length || line[p] === '#') {
        // `key:` ends the line: a nested block collection, or null.
        next = this.nextContent(i + 1);
        if (next < lines.length && this.indent(next) > col) {
          const nested = this.nestedBlock(next, this.indent(next));
          value = nested.value;
          next = nested.next;
        } else {
          value = null;
        }
      } else {
        value = this.blockValue(line, p, i + 1, true);
        next = this.nextContent(i + 1);
      }
      setKey(map, key, value);
      if (next >= lines.length) return next;
      const indent = this.indent(next);
      if (indent === 0) return next;
      if (indent !== col) fallback();
      i = next;
    }
  }

  /** A key at `col` of a block mapping line and its `:`; returns where the value may start. */
  private blockKey(line: string, col: number): { key: string; after: number } {
    const p = scanKey(line, col);
    if (p === col || line[p] !== ':' || (p + 1 < line.length && line[p + 1] !== ' ')) fallback();
    const key = line.slice(col, p);
    this.checkKey(key);
    return { key, after: p + 1 };
  }

  /** One level of block mapping or block sequence of scalars at indentation `col`, from line `i`. */
  private nestedBlock(i: number, col: number): { value: unknown; next: number } {
    const { lines } = this;
    const isSeq = lines[i]![col] === '-';
    const seq: unknown[] = [];
    const map: Record<string, unknown> = {};
    for (;;) {
      const line = lines[i]!;
      if (isSeq) {
        if (line[col] !== '-' || line[col + 1] !== ' ') fallback();
        let p = col + 2;
        while (isSpace(line[p])) p++;
        if (p === line.length || line[p] === '#') fallback();
        seq.push(this.blockValue(line, p, i + 1, false));
      } else {
        const { key, after } = this.blockKey(line, col);
        let p = after;
        while (isSpace(line[p])) p++;
        if (p === line.length || line[p] === '#') fallback();
        setKey(map, key, this.blockValue(line, p, i + 1, false));
      }
      const next = this.nextContent(i + 1);
      if (next >= lines.length || this.indent(next) !== col) return { value: isSeq ? seq : map, next };
      i = next;
    }
  }

  /** A value starting at `p` in block context, which must end its line (but for a comment). */
  private blockValue(line: string, p: number, lineNo: number, allowFlowMap: boolean): unknown {
    const ch = line[p];
    let value: unknown;
    let end: number;
    if (ch === '"' || ch === "'") {
      ({ value, end } = quoted(line, p));
    } else if (ch === '[') {
      ({ value, end } = flowSeq(line, p));
    } else if (ch === '{') {
      if (!allowFlowMap) fallback();
      ({ value, end } = this.flowMap(line, p, lineNo, false));
    } else {
      if (!plainStart(line, p)) fallback();
      // A plain scalar runs to the end of the line or to a comment.
      end = line.indexOf(' #', p);
      if (end < 0) end = line.length;
      const s = line.slice(p, end).trimEnd();
      for (let q = p; q < p + s.length; q++) {
        const c = line.charCodeAt(q);
        if (c < 0x20 || c > 0x7e) fallback();
        if (c === 0x3a && (q + 1 === p + s.length || line[q + 1] === ' ')) fallback();
      }
      return resolvePlain(s);
    }
    this.lineEnd(line, end);
    return value;
  }

  /** After a value only spaces may follow, or spaces and a comment. */
  private lineEnd(line: string, p: number): void {
    if (p === line.length) return;
    if (line[p] !== ' ') fallback();
    while (isSpace(line[p])) p++;
    if (p !== line.length && line[p] !== '#') fallback();
  }

  /** A one-line flow mapping at `p` (its `{`); records key positions in `keys` if given. */
  private flowMap(line: string, p: number, lineNo: number, itemKeys: boolean): { value: Record<string, unknown>; end: number } {
    const map: Record<string, unknown> = {};
    p = skipSpaces(line, p + 1);
    if (line[p] === '}') return { value: map, end: p + 1 };
    for (;;) {
      const start = p;
      p = scanKey(line, start);
      if (p === start || line[p] !== ':' || line[p + 1] !== ' ') fallback();
      const key = line.slice(start, p);
      this.checkKey(key);
      p = skipSpaces(line, p + 1);
      let value: unknown;
      if (line[p] === '[') ({ value, end: p } = flowSeq(line, p));
      else ({ value, end: p } = flowScalar(line, p));
      setKey(map, key, value);
      if (itemKeys) {
        this.keyNames.push(key);
        this.keyAt.push(lineNo, start + 1);
      }
      p = skipSpaces(line, p);
      if (line[p] === '}') return { value: map, end: p + 1 };
      if (line[p] !== ',') fallback();
      p = skipSpaces(line, p + 1);
    }
  }
}

function skipSpaces(line: string, p: number): number {
  while (line[p] === ' ') p++;
  return p;
}

/** Whether a plain scalar may start at `p`. */
function plainStart(line: string, p: number): boolean {
  const ch = line[p] ?? '';
  if (PLAIN_START.test(ch)) return true;
  if (ch === '-' || ch === '+') {
    const next = line.charCodeAt(p + 1);
    return next >= 0x30 && next <= 0x39;
  }
  return false;
}

/** A one-line flow sequence of scalars at `p` (its `[`). */
function flowSeq(line: string, p: number): { value: unknown[]; end: number } {
  const seq: unknown[] = [];
  p = skipSpaces(line, p + 1);
  if (line[p] === ']') return { value: seq, end: p + 1 };
  for (;;) {
    const item = flowScalar(line, p);
    seq.push(item.value);
    p = skipSpaces(line, item.end);
    if (line[p] === ']') return { value: seq, end: p + 1 };
    if (line[p] !== ',') fallback();
    p = skipSpaces(line, p + 1);
  }
}

/** A scalar inside a flow collection: quoted, or plain up to `,` `]` `}`. Empty falls back. */
function flowScalar(line: string, p: number): { value: unknown; end: number } {
  const ch = line[p];
  if (ch === '"' || ch === "'") return quoted(line, p);
  if (!plainStart(line, p)) fallback();
  let q = p;
  for (; q < line.length; q++) {
    const c = line.charCodeAt(q);
    if (c < 0x20 || c > 0x7e) fallback();
    if (c === 0x2c || c === 0x5d || c === 0x7d) break; // , ] }
    if (c === 0x5b || c === 0x7b || c === 0x22 || c === 0x27) fallback(); // [ { " '
    if (c === 0x23 && line.charCodeAt(q - 1) === 0x20) fallback(); // a comment
    if (c === 0x3a) {
      const next = line[q + 1];
      if (next === undefined || next === ' ' || FLOW_STOP.has(next)) fallback();
    }
  }
  if (q === line.length) fallback(); // the collection does not close on this line
  return { value: resolvePlain(line.slice(p, q).trimEnd()), end: q };
}

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0' };

/** A one-line quoted scalar at `p` (its opening quote). */
function quoted(line: string, p: number): { value: string; end: number } {
  const quote = line[p]!;
  let out = '';
  let from = p + 1;
  for (let q = p + 1; q < line.length; q++) {
    const c = line[q];
    if (quote === "'") {
      if (c !== "'") continue;
      out += line.slice(from, q);
      if (line[q + 1] === "'") {
        out += "'";
        from = q + 2;
        q++;
        continue;
      }
      return { value: out, end: q + 1 };
    }
    if (c === '"') return { value: out + line.slice(from, q), end: q + 1 };
    if (c === '\\') {
      const e = ESCAPES[line[q + 1] ?? ''];
      if (e === undefined) fallback();
      out += line.slice(from, q) + e;
      q++;
      from = q + 1;
    }
  }
  return fallback(); // not closed on this line
}
