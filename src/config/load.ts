/**
 * Loading a conn-check file: read (with size and encoding limits), parse keeping positions,
 * interpolate ${VAR}, validate every check against its type's schema, and collect secrets.
 * Every problem is gathered and thrown at once as a ConfigError; nothing else escapes.
 */
import { readFile, stat } from 'node:fs/promises';
import { Composer, isAlias, isMap, isScalar, isSeq, LineCounter, Parser, visit, type CST, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { MAX_ALIAS_COUNT, MAX_CONFIG_BYTES } from '../constants.js';
import { commonOptions, commonOptionNames, findCheckType, knownTypeNames, ignoredOptions } from '../checks/registry.js';
import type { AnyCheckDefinition, CommonOptions } from '../checks/types.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { interpolate, InterpolationError } from './interpolate.js';
import { collectSecrets } from './secrets.js';
import { Redactor } from '../report/redact.js';
import { show } from '../checks/options.js';

/** One validated check, ready to run. */
export interface CheckSpec {
  /** Position in its file (0-based) and where its entry starts. */
  index: number;
  file: string;
  line: number;
  column: number;
  definition: AnyCheckDefinition;
  /** Canonical type name (aliases resolved). */
  type: string;
  options: Record<string, unknown>;
  common: CommonOptions;
  /** What reports show: the `name` option, else the generated conn-check name. */
  name: string;
  /** The conn-check name (`redis:HOST:PORT`), which patterns also match. */
  generatedName: string;
  target: string;
  secrets: Set<string>;
}

export interface LoadedConfig {
  checks: CheckSpec[];
  warnings: ConfigIssue[];
}

export interface Source {
  /** The name shown in messages and annotations. */
  file: string;
  text: string;
}

/** Reads a config file, refusing what cannot be a config before parsing it. */
export async function readSource(path: string, shownAs = path): Promise<Source> {
  const fail = (message: string): never => {
    throw new ConfigError([{ severity: 'error', file: shownAs, message }]);
  };
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read the file (${code ?? 'error'})`);
  }
  if (info.isDirectory()) return fail('is a directory, not a config file');
  if (!info.isFile()) return fail('is not a regular file');
  if (info.size > MAX_CONFIG_BYTES) return fail(`file is too large (${info.size} bytes; the limit is ${MAX_CONFIG_BYTES})`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    return fail(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { file: shownAs, text: decode(bytes, shownAs) };
}

/** Decodes UTF-8 strictly (a BOM is allowed), or says where the first bad byte is. */
export function decode(bytes: Uint8Array, file: string): string {
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new ConfigError([{ severity: 'error', file, message: `too large (${bytes.length} bytes; the limit is ${MAX_CONFIG_BYTES})` }]);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const lineStart = bad === 0 ? 0 : bytes.lastIndexOf(0x0a, bad - 1) + 1;
    let line = 1;
    for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
    const column = new TextDecoder('utf-8', { ignoreBOM: line !== 1 }).decode(bytes.subarray(lineStart, bad)).length + 1;
    const hex = bytes[bad]!.toString(16).toUpperCase().padStart(2, '0');
    throw new ConfigError([{ severity: 'error', file, line, column, message: `is not valid UTF-8 text (byte 0x${hex}); save the file as UTF-8` }]);
  }
}

/** Offset of the first byte that is not part of a valid UTF-8 sequence (the input is known to be invalid). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  // The longest prefix that decodes (an incomplete sequence at its end is not an error yet).
  const decodes = (n: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (decodes(mid)) lo = mid;
    else hi = mid - 1;
  }
  // The characters completed within that prefix end where the offending sequence starts.
  const done = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, lo), { stream: true });
  return Math.min(Buffer.byteLength(done), bytes.length - 1);
}

interface Pos {
  line: number;
  column: number;
}

/** Deeper than this is no conn-check file (a check needs 3 or 4 levels); YAML's composer recurses per level. */
const MAX_NESTING = 64;
/** Syntax errors after the first few are mostly consequences of the first: not worth printing. */
const MAX_SYNTAX_ERRORS = 20;

/** C0 control characters other than tab, LF and CR (and DEL): YAML does not allow them, and text never has them. */
const CONTROL_CHAR = /[\0-\x08\x0B\x0C\x0E-\x1F\x7F]/;

/** Parses and validates one source. Throws ConfigError with every problem found. */
export function parseConfig(source: Source, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  try {
    const loaded = load(source, env);
    tidy(loaded.warnings);
    return loaded;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(tidy(err.issues));
  }
}

function load(source: Source, env: NodeJS.ProcessEnv): LoadedConfig {
  const { file } = source;
  let { text } = source;
  if (text.length > MAX_CONFIG_BYTES) {
    throw new ConfigError([{ severity: 'error', file, message: `too large (${text.length} characters; the limit is ${MAX_CONFIG_BYTES})` }]);
  }
  // A byte order mark (inline input or stdin pasted from an editor that writes one) is not content.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const control = CONTROL_CHAR.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0);
    const what = code === 0 ? 'a NUL byte' : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new ConfigError([{ severity: 'error', file, ...positionIn(text, control.index), message: `contains ${what}; a config file must be YAML text` }]);
  }
  const issues: ConfigIssue[] = [];
  const lc = new LineCounter();
  const posOf = (offset: number | undefined): Pos => {
    if (offset === undefined) return { line: 1, column: 1 };
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const parsed = parseYaml(text, lc);
  if (!parsed.doc) {
    throw new ConfigError(parsed.errors.map((e) => ({ severity: 'error' as const, file, ...(e.offset === undefined ? {} : posOf(e.offset)), message: e.message })));
  }
  const doc = parsed.doc;
  for (const w of doc.warnings) issues.push({ severity: 'warning', file, ...posOf(w.pos[0]), message: w.message.split('\n')[0]! });

  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    throw new ConfigError([{ severity: 'error', file, line: 1, column: 1, message: 'the file has no checks: expected a list of checks (- type: tcp ...)' }]);
  }
  if (!isSeq(root)) {
    const p = posOf(root.range?.[0]);
    const what = isMap(root) ? 'a mapping' : isScalar(root) ? 'a single value' : 'something else';
    throw new ConfigError([{ severity: 'error', file, ...p, message: `expected a list of checks (- type: tcp ...) at the top level, got ${what}` }]);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const problem = toJsProblem(err, doc);
    throw new ConfigError([{ severity: 'error', file, ...posOf(problem.offset ?? root.range?.[0]), message: problem.message }]);
  }
  const items = data as unknown[];
  const checks: CheckSpec[] = [];

  /** The credentials of the check being validated (set once its values are interpolated). */
  let secrets: Iterable<string> = [];
  root.items.forEach((item, index) => {
    // Messages about this check must not carry its credentials (a mistyped URL with userinfo, say).
    const first = issues.length;
    secrets = [];
    try {
      validateItem(item, index);
    } finally {
      if (issues.length > first) {
        const r = new Redactor(secrets);
        for (let i = first; i < issues.length; i++) issues[i]!.message = r.redact(issues[i]!.message);
      }
    }
  });

  function validateItem(item: unknown, index: number): void {
    const node = (isAlias(item) ? item.resolve(doc as Document) : item) as YamlNode | undefined;
    const at = posOf((item as YamlNode | null)?.range?.[0]);
    const raw = items[index];
    const label = `checks[${index}]`;
    if (!isMap(node) || !raw || typeof raw !== 'object' || Array.isArray(raw)) {
      issues.push({ severity: 'error', file, ...at, check: label, message: `expected a mapping with a type (- type: tcp ...), got ${describeNode(raw)}` });
      return;
    }
    const keyPos = new Map<string, Pos>();
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (k !== undefined) keyPos.set(k, posOf((pair.key as YamlNode).range?.[0]));
    }
    const where = (key?: string): Pos => (key && keyPos.get(key)) || at;
    const opts: Record<string, unknown> = { ...(raw as Record<string, unknown>) };

    // type
    const typeValue = opts.type;
    if (typeValue === undefined || typeValue === null || typeValue === '') {
      issues.push({ severity: 'error', file, ...at, check: label, option: 'type', message: `missing; one of: ${knownTypeNames().join(', ')}` });
      return;
    }
    if (typeof typeValue !== 'string') {
      issues.push({ severity: 'error', file, ...where('type'), check: label, option: 'type', message: `expected a type name, got ${describeNode(typeValue)}` });
      return;
    }
    const definition = findCheckType(typeValue);
    const checkLabel = `${label} (${show(typeValue.trim()).replace(/^"|"$/g, '')})`;
    if (!definition) {
      issues.push({ severity: 'error', file, ...where('type'), check: checkLabel, option: 'type', message: `unknown check type ${show(typeValue)}; known types: ${knownTypeNames().join(', ')}` });
      return;
    }

    // ${VAR} interpolation, in every string value (nested too)
    let interpolationFailed = false;
    for (const key of Object.keys(opts)) {
      if (key === 'type') continue;
      try {
        opts[key] = interpolateDeep(opts[key], env);
      } catch (err) {
        if (!(err instanceof InterpolationError)) throw err;
        interpolationFailed = true;
        issues.push({ severity: 'error', file, ...where(key), check: checkLabel, option: key, message: err.message });
      }
    }
    secrets = collectSecrets(opts, definition.secretOptions);
    if (interpolationFailed) return;

    // unknown options are warnings: conn-check ignored them silently
    const known = new Set([...commonOptionNames, ...Object.keys(definition.options.shape)]);
    for (const key of Object.keys(opts)) {
      if (known.has(key)) continue;
      const why = ignoredOptions[definition.type]?.[key];
      issues.push({
        severity: 'warning',
        file,
        ...where(key),
        check: checkLabel,
        option: key,
        message: why ?? `unknown option for ${definition.type} checks, ignored`,
      });
    }

    const common = commonOptions.safeParse(opts);
    const own = definition.options.safeParse(opts);
    let failed = false;
    for (const result of [common, own]) {
      if (result.success) continue;
      failed = true;
      for (const issue of result.error.issues) issues.push(zodIssue(issue, file, checkLabel, where, opts, secrets));
    }
    if (failed || !common.success || !own.success) return;

    const options = own.data as Record<string, unknown>;
    const generatedName = definition.name(options);
    const spec: CheckSpec = {
      index,
      file,
      ...at,
      definition,
      type: definition.type,
      options,
      common: { ...common.data, type: definition.type },
      name: common.data.name ?? generatedName,
      generatedName,
      target: definition.target(options),
      secrets: new Set(secrets),
    };
    checks.push(spec);
  }

  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(issues);
  return { checks, warnings: issues };
}

const anyUserinfo = new Redactor();
const escapes: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\u2028': '\\u2028', '\u2029': '\\u2029' };
/**
 * Every issue on one line (keys, values and YAML's own messages may hold line breaks), without
 * URL userinfo, in the order of the file (zod reports the common options first; stable within
 * a position).
 */
function tidy(issues: ConfigIssue[]): ConfigIssue[] {
  const line = (s: string) => s.replace(/[\r\n\u2028\u2029]/g, (c) => escapes[c]!);
  for (const issue of issues) {
    issue.message = anyUserinfo.redact(line(issue.message));
    if (issue.option !== undefined) issue.option = line(issue.option);
    if (issue.check !== undefined) issue.check = line(issue.check);
  }
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function zodIssue(
  issue: z.core.$ZodIssue,
  file: string,
  check: string,
  where: (key?: string) => Pos,
  given: Record<string, unknown>,
  secrets: Iterable<string>,
): ConfigIssue {
  const key = issue.path.length ? String(issue.path[0]) : undefined;
  const option = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || undefined;
  let message = issue.message;
  // The value is shown cut to a few dozen characters: a credential in it must be masked before
  // the cut, or the message shows a prefix of it that no redaction can recognise afterwards.
  const input = valueAt(given, issue.path);
  if (typeof input === 'string') {
    const shown = show(input);
    const safe = show(new Redactor(secrets).redact(input));
    if (safe !== shown) message = message.split(shown).join(safe);
  }
  if (key !== undefined && issue.path.length === 1 && given[key] === undefined) {
    message = /got nothing$/.test(message) ? `missing (${message.replace(/, got nothing$/, '')})` : 'missing';
  }
  return { severity: 'error', file, ...where(key), check, option, message };
}

function interpolateDeep(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') return interpolate(value, env).value;
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateDeep(v, env);
    return out;
  }
  return value;
}

/** The value at a zod issue's path in the options as given. */
function valueAt(given: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let v: unknown = given;
  for (const p of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeNode(value: unknown): string {
  if (value === null || value === undefined) return 'an empty entry';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  // URL userinfo masked before the value is cut (a cut can separate it from its @)
  return `the value ${show(typeof value === 'string' ? anyUserinfo.redact(value) : value)}`;
}

function yamlMessage(code: string, message: string, text: string, offset: number): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') {
    const key = /^(?:"([^"\n]{1,60})"|'([^'\n]{1,60})'|([^:,{}[\]\n]{1,60}))/.exec(text.slice(offset, offset + 80));
    const name = key ? (key[1] ?? key[2] ?? key[3] ?? '').trim() : '';
    return name ? `duplicate key "${name}": each key may appear only once in a mapping` : 'duplicate key: each key may appear only once in a mapping';
  }
  if (/call stack/i.test(first)) return `nested too deeply (more than ${MAX_NESTING} levels)`;
  // The parser quotes the offending source text: it may be a credential, and the position says where.
  return `not valid YAML: ${first.replace(/: ".*"$/, '').replace(/^(Block scalar header includes extra characters):[^]*$/, '$1')}`;
}

/** What went wrong turning the document into data (aliases and merge keys are resolved then). */
function toJsProblem(err: unknown, doc: Document): YamlProblem {
  const m = err instanceof Error ? err.message : String(err);
  /** Where the first node that `match` accepts starts. */
  const find = (match: (node: unknown) => boolean): number | undefined => {
    let at: number | undefined;
    visit(doc, (_key, node) => {
      if (!match(node)) return undefined;
      at = (node as YamlNode).range?.[0];
      return visit.BREAK;
    });
    return at;
  };
  if (/excessive alias count/i.test(m)) return { message: `too many YAML alias expansions (more than ${MAX_ALIAS_COUNT}); is this an alias bomb?` };
  const unresolved = /Unresolved alias.*: (\S+)$/.exec(m);
  if (unresolved) {
    const name = unresolved[1]!;
    return { offset: find((n) => isAlias(n) && n.source === name), message: `alias *${name} has no anchor &${name} before it` };
  }
  if (/merge sources/i.test(m)) {
    const isMerge = (k: unknown) => isScalar(k) && (k.value === '<<' || (typeof k.value === 'symbol' && k.value.description === '<<'));
    return { offset: find((n) => isMerge(n)), message: 'a merge key (<<) must refer to a mapping or a list of mappings' };
  }
  if (/call stack/i.test(m)) return { message: `nested too deeply (more than ${MAX_NESTING} levels)` };
  return { message: `cannot read the YAML: ${m.split('\n')[0]}` };
}

/** Line and column (1-based) of an offset, without a LineCounter. */
function positionIn(text: string, offset: number): Pos {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

interface YamlProblem {
  offset?: number;
  message: string;
}

/**
 * parseDocument, in its two halves: the parser (iterative) builds the syntax tree, which is
 * measured before the composer (recursive) sees it, so that `[[[[...` cannot overflow the stack.
 * Returns the document, or the problems (syntax errors, too deep, more than one document).
 */
function parseYaml(text: string, lc: LineCounter): { doc?: Document.Parsed; errors: YamlProblem[] } {
  const tokens = [...new Parser(lc.addNewLine).parse(text)];
  const deep = tooDeep(tokens);
  if (deep !== undefined) {
    return { errors: [{ offset: deep, message: `nested more than ${MAX_NESTING} levels deep; expected a list of checks, each a mapping of options` }] };
  }
  const composer = new Composer({ version: '1.1', merge: true, uniqueKeys: true, keepSourceTokens: false, logLevel: 'error' });
  const docs = [...composer.compose(tokens, true, text.length)];
  const doc = docs[0]!;
  const errors: YamlProblem[] = [];
  for (const e of doc.errors) errors.push({ offset: e.pos[0], message: yamlMessage(e.code, e.message, text, e.pos[0]) });
  if (errors.length) {
    // A tab in the indentation makes the parser stumble in ways that do not mention tabs.
    const tab = /^ *\t[ \t]*\S/m.exec(text);
    if (tab) errors.unshift({ offset: tab.index + tab[0].indexOf('\t'), message: 'a tab is used for indentation; YAML indents with spaces only' });
  }
  if (docs.length > 1) {
    errors.push({ offset: docs[1]!.range[0], message: 'a second YAML document starts here; a config file holds one document: a single list of checks' });
  }
  if (!errors.length) return { doc: doc as Document.Parsed, errors };
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const key = `${e.offset}:${e.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const shown = unique.slice(0, MAX_SYNTAX_ERRORS);
  if (unique.length > shown.length) shown.push({ message: `${unique.length - shown.length} more YAML syntax errors not shown (fix the first ones)` });
  return { errors: shown };
}

/** The offset of the first collection nested deeper than MAX_NESTING, if any (no recursion). */
function tooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  while (stack.length) {
    const [token, depth] = stack.pop()!;
    if (token.type === 'document') {
      if (token.value) stack.push([token.value, depth]);
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > MAX_NESTING) return token.offset;
      for (const item of token.items as CST.CollectionItem[]) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}
