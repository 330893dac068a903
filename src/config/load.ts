/**
 * Loading a conn-check file: read (with size and encoding limits), parse keeping positions,
 * interpolate ${VAR}, validate every check against its type's schema, and collect secrets.
 * Every problem is gathered and thrown at once as a ConfigError; nothing else escapes.
 */
import { filesNow } from '../net/builtins.js';
import { loadZod, ZodNotLoaded } from '../core/z.js';
import { zodIssues } from './zod-issues.js';
import { MAX_CONFIG_BYTES } from '../core/constants.js';
import { fastParse } from './fast-yaml.js';
import { commonOptions, commonOptionNames, findCheckType, knownTypeNames, ignoredOptions, type CheckType } from '../checks/registry.js';
import type { AnyCheckDefinition, CommonOptions } from '../core/contract.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { interpolateDeep, InterpolationError } from './interpolate.js';
import { unknownOption } from './suggest.js';
import { safeParseFast } from './fast-validate.js';
import { collectSecrets, kindsOf, Redactor, MIN_MASK_LENGTH, type SecretKind } from '../secrets/index.js';
import { show } from '../core/options.js';
import { dropUrl, expandUrls, mergeUrlOptions } from './url.js';
import type { ParsedItem, Pos, Source } from './parsed.js';
export type { ParsedItem, Pos, Source } from './parsed.js';

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
  secrets: ReadonlySet<string>;
}

export interface LoadedConfig {
  checks: CheckSpec[];
  warnings: ConfigIssue[];
}


/** Reads a config file, refusing what cannot be a config before parsing it. */
export async function readSource(path: string, shownAs = path): Promise<Source> {
  const fail = (message: string): never => {
    throw new ConfigError([{ severity: 'error', file: shownAs, message, unreadable: true }]);
  };
  let info;
  try {
    info = filesNow.stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read the file (${code ?? 'error'})`);
  }
  if (info.isDirectory()) return fail('is a directory, not a config file');
  if (!info.isFile()) return fail('is not a regular file');
  if (info.size > MAX_CONFIG_BYTES) return fail(`file is too large (${info.size} bytes; the limit is ${MAX_CONFIG_BYTES})`);
  let bytes: Buffer;
  try {
    bytes = filesNow.read(path);
  } catch (err) {
    return fail(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { file: shownAs, text: decode(bytes, shownAs) };
}

/** Decodes UTF-8 strictly (a BOM is allowed), or says where the first bad byte is. */
export function decode(bytes: Uint8Array, file: string): string {
  if (bytes.length > MAX_CONFIG_BYTES) {
    // (stdin is read only up to just past the limit: its full size is not known)
    throw new ConfigError([{ severity: 'error', file, message: `too large (more than ${MAX_CONFIG_BYTES} bytes, the limit)` }]);
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



/** C0 control characters other than tab, LF and CR (and DEL): YAML does not allow them, and text never has them. */
const CONTROL_CHAR = /[\0-\x08\x0B\x0C\x0E-\x1F\x7F]/;

/**
 * Says whether the run leaves out a check with these tags. conn-check dropped such checks before
 * building them, so it never saw their mistakes: their errors become warnings (and the check is
 * dropped), so that a file that ran before still runs.
 */
export type TagFilter = (tags: readonly string[]) => boolean;

/** Parses and validates one source. Throws ConfigError with every problem found. */
export async function parseConfig(source: Source, env: NodeJS.ProcessEnv = process.env, leftOutByTags?: TagFilter): Promise<LoadedConfig> {
  try {
    const loaded = await load(source, env, leftOutByTags);
    tidy(loaded.warnings);
    return loaded;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(tidy(err.issues), err.secrets);
  }
}


async function load(source: Source, env: NodeJS.ProcessEnv, leftOutByTags?: TagFilter): Promise<LoadedConfig> {
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
  // The flat list of simple mappings nearly every file is: read without loading `yaml`.
  const fast = fastParse(text);
  const parsed = fast
    ? { items: fast as ParsedItem[], warnings: [] }
    : (await import('./yaml-doc.js')).parseWithYaml(text, file);
  const issues: ConfigIssue[] = parsed.warnings;
  const checks: CheckSpec[] = [];
  const urls = await expandUrls(parsed.items, env, file);

  // The modules of the types this file uses (and only those), before the items are validated.
  const used = new Set<CheckType>();
  for (let i = 0; i < parsed.items.length; i++) {
    const value = parsed.items[i]!.value;
    const t = value && typeof value === 'object' ? (value as { type?: unknown }).type : undefined;
    const found = typeof t === 'string' ? findCheckType(t) : undefined;
    if (found) used.add(found);
  }
  const definitions = new Map<CheckType, AnyCheckDefinition>();
  await Promise.all([...used].map(async (t) => definitions.set(t, await t.load())));

  /** Every credential of the file (masked by the entries even when the file is invalid). */
  const fileSecrets = new Set<string>();
  /** The credentials of the check being validated (set once its values are interpolated). */
  let secrets: Iterable<string> = NO_STRINGS;
  // Valid options never need zod (the fast path vouches for them); the first check that does
  // needs it loaded to say what is wrong, and the whole file is then validated again with it.
  const issuesBefore = issues.length;
  try {
    validateAll();
  } catch (err) {
    if (!(err instanceof ZodNotLoaded)) throw err;
    await loadZod();
    issues.length = issuesBefore;
    checks.length = 0;
    fileSecrets.clear();
    validateAll();
  }

  function validateAll(): void {
    for (let index = 0; index < parsed.items.length; index++) validateOne(parsed.items[index]!, index);
  }

  function validateOne(item: ParsedItem, index: number): void {
    // Messages about this check must not carry its credentials (a mistyped URL with userinfo, say).
    const first = issues.length;
    secrets = NO_STRINGS;
    try {
      validateItem(item, index);
    } finally {
      if (issues.length > first) {
        const r = new Redactor(secrets);
        for (let i = first; i < issues.length; i++) issues[i]!.message = r.redact(issues[i]!.message);
        if (leftOutByTags) demoteIfLeftOut(item, issues.slice(first), leftOutByTags);
      }
    }
  }

  function validateItem(item: ParsedItem, index: number): void {
    const urlError = urls.failed.get(item);
    if (urlError) return void issues.push(urlError);
    const raw = item.value;
    if (item.isMap === false || !raw || typeof raw !== 'object' || Array.isArray(raw)) {
      // `- "postgres://user:password@db/app"`: a connection string where a mapping belongs.
      if (typeof raw === 'string') remember(collectSecrets({ entry: raw }).secrets);
      issues.push({ severity: 'error', file, line: item.line, column: item.column, check: `checks[${index}]`, message: `expected a mapping with a type (- type: tcp ...), got ${describeNode(raw)}` });
      return;
    }
    const opts: Record<string, unknown> = { ...(raw as Record<string, unknown>) };

    // type
    const typeValue = opts.type;
    if (typeValue === undefined || typeValue === null || typeValue === '') {
      issues.push({ severity: 'error', file, line: item.line, column: item.column, check: `checks[${index}]`, option: 'type', message: `missing; one of: ${knownTypeNames().join(', ')}` });
      return;
    }
    if (typeof typeValue !== 'string') {
      remember(collectSecrets(opts).secrets);
      issues.push({ severity: 'error', file, ...keyAt(item, 'type'), check: `checks[${index}]`, option: 'type', message: `expected a type name, got ${describeNode(typeValue)}` });
      return;
    }
    const found = findCheckType(typeValue);
    const definition = found && definitions.get(found);
    if (!definition) {
      remember(collectSecrets(opts).secrets);
      issues.push({ severity: 'error', file, ...keyAt(item, 'type'), check: checkLabel(index, typeValue), option: 'type', message: `unknown check type ${show(typeValue)}; known types: ${knownTypeNames().join(', ')}` });
      return;
    }

    // ${VAR} interpolation, in every string value (nested too)
    let interpolationFailed = false;
    // (made for the first value with a `$`: most checks have none)
    let interpolated: Record<string, string[]> | undefined;
    let inserted: string[] | undefined;
    // (indexed loops over the keys here and below: no iterator per check)
    const givenKeys = Object.keys(opts);
    for (let k = 0; k < givenKeys.length; k++) {
      const key = givenKeys[k]!;
      if (key === 'type') continue;
      try {
        const value = opts[key];
        // (a value with no `$` anywhere is its own interpolation: most are)
        if (typeof value === 'string' && !value.includes('$')) continue;
        opts[key] = interpolateDeep(value, env, (inserted ??= []));
        if (inserted.length) (interpolated ??= {})[key] = inserted.splice(0);
      } catch (err) {
        if (!(err instanceof InterpolationError)) throw err;
        if (inserted) inserted.length = 0;
        interpolationFailed = true;
        issues.push({ severity: 'error', file, ...keyAt(item, key), check: checkLabel(index, typeValue), option: key, message: err.message });
      }
    }
    mergeUrlOptions(opts, urls.options.get(item));
    const collected = collectSecrets(opts, { kinds: kindsOfType(definition), interpolated, extraHeaders: headerNames(opts.credential_headers) });
    remember(collected.secrets);
    if (collected.tooShort.size) for (const option of collected.tooShort) {
      issues.push({
        severity: 'warning',
        file,
        ...keyAt(item, option),
        check: checkLabel(index, typeValue),
        option,
        message: `a credential shorter than ${MIN_MASK_LENGTH} characters is not masked in the output (masking it would hide every such sequence of characters); use a longer one`,
      });
    }
    dropUrl(opts, definition, urls.options.get(item));
    if (interpolationFailed) return;

    // unknown options are warnings (conn-check ignored them silently), unless they are a typo of a known one
    const known = knownOptions(definition);
    const keys = Object.keys(opts);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      if (known.has(key)) continue;
      const problem = unknownOption(definition.type, key, known, ignoredOptions[definition.type]?.[key]);
      issues.push({ ...problem, file, ...keyAt(item, key), check: checkLabel(index, typeValue), option: key });
    }

    // zod runs only when the compiled fast path cannot vouch for the options (and then says why)
    const common = safeParseFast(commonOptions, opts);
    const own = safeParseFast(definition.options, opts);
    if (!common.success || !own.success) {
      for (const [result, schema] of [[common, commonOptions], [own, definition.options]] as const) {
        if (result.success) continue;
        for (const { key, option, message } of zodIssues(result.error.issues, Object.keys(schema.shape), opts, secrets)) {
          issues.push({ severity: 'error', file, ...keyAt(item, key), check: checkLabel(index, typeValue), option, message });
        }
      }
      return;
    }

    const options = own.data as Record<string, unknown>;
    // The canonical type in place of the one written (common.data is this check's own object).
    const commonData = common.data;
    commonData.type = definition.type;
    const generatedName = definition.name(options);
    const spec: CheckSpec = {
      index,
      file,
      line: item.line,
      column: item.column,
      definition,
      type: definition.type,
      options,
      common: commonData,
      name: common.data.name ?? generatedName,
      generatedName,
      target: definition.target(options),
      secrets: collected.secrets,
    };
    checks.push(spec);
  }

  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(issues, fileSecrets);
  return { checks, warnings: issues };

  function remember(found: ReadonlySet<string>): void {
    secrets = found;
    if (found.size) for (const s of found) fileSecrets.add(s);
  }
}

const NO_STRINGS: readonly string[] = Object.freeze([]);
/** The header names a check lists as credentials (`credential_headers`: a list or a comma-separated string). */
function headerNames(value: unknown): readonly string[] {
  if (value === undefined) return NO_STRINGS;
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  return list.filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter(Boolean);
}

/** How messages name a check with a type (built only for a message: most checks have none). */
function checkLabel(index: number, typeValue: string): string {
  return `checks[${index}] (${show(typeValue.trim()).replace(/^"|"$/g, '')})`;
}

/** Where an option of an item is written (where the item starts for none, or one not written). */
function keyAt(item: ParsedItem, key?: string): Pos {
  return (key && item.keys.get(key)) || { line: item.line, column: item.column };
}

const knownCache = new WeakMap<AnyCheckDefinition, Set<string>>();
/** The options a type knows: the common ones and its own. */
function knownOptions(definition: AnyCheckDefinition): Set<string> {
  let known = knownCache.get(definition);
  if (!known) {
    known = new Set([...commonOptionNames, ...Object.keys(definition.options.shape)]);
    knownCache.set(definition, known);
  }
  return known;
}

const kindCache = new WeakMap<AnyCheckDefinition, Record<string, SecretKind>>();
/** Which options of a type (its own and the common ones) carry credentials, as their builders declare. */
function kindsOfType(definition: AnyCheckDefinition): Record<string, SecretKind> {
  let kinds = kindCache.get(definition);
  if (!kinds) {
    kinds = { ...kindsOf(commonOptions.shape), ...kindsOf(definition.options.shape) };
    kindCache.set(definition, kinds);
  }
  return kinds;
}

/** Turns the errors of a check the tags leave out into warnings that say why. */
function demoteIfLeftOut(item: ParsedItem, found: ConfigIssue[], leftOutByTags: TagFilter): void {
  if (!found.some((i) => i.severity === 'error')) return;
  const raw = item.value && typeof item.value === 'object' && !Array.isArray(item.value) ? (item.value as { tags?: unknown }).tags : undefined;
  const tags = safeParseFast(commonOptions.shape.tags, raw ?? []);
  if (!tags.success || !leftOutByTags(tags.data)) return;
  for (const issue of found) {
    if (issue.severity !== 'error') continue;
    issue.severity = 'warning';
    issue.message += ' (ignored: the tags leave this check out, and conn-check never validated such checks)';
  }
}

/** URL userinfo masked in every message (made on the first message: a valid config has none). */
let anyUserinfoRedactor: Redactor | undefined;
const anyUserinfo = (): Redactor => (anyUserinfoRedactor ??= new Redactor());
const escapes: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\u2028': '\\u2028', '\u2029': '\\u2029' };
/**
 * Every issue on one line (keys, values and YAML's own messages may hold line breaks), without
 * URL userinfo, in the order of the file (zod reports the common options first; stable within
 * a position).
 */
function tidy(issues: ConfigIssue[]): ConfigIssue[] {
  const line = (s: string) => s.replace(/[\r\n\u2028\u2029]/g, (c) => escapes[c]!);
  for (const issue of issues) {
    issue.message = anyUserinfo().redact(line(issue.message));
    if (issue.option !== undefined) issue.option = line(issue.option);
    if (issue.check !== undefined) issue.check = line(issue.check);
  }
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function describeNode(value: unknown): string {
  if (value === null || value === undefined) return 'an empty entry';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  // URL userinfo masked before the value is cut (a cut can separate it from its @)
  return `the value ${show(typeof value === 'string' ? anyUserinfo().redact(value) : value)}`;
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
