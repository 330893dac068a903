/**
 * Loading a conn-check file: read (with size and encoding limits), parse keeping positions,
 * interpolate ${VAR}, validate every check against its type's schema, and collect secrets.
 * Every problem is gathered and thrown at once as a ConfigError; nothing else escapes.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { MAX_ALIAS_COUNT, MAX_CONFIG_BYTES } from '../constants.js';
import { commonOptions, commonOptionNames, findCheckType, knownTypeNames, ignoredOptions } from '../checks/registry.js';
import type { AnyCheckDefinition, CommonOptions } from '../checks/types.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { interpolate, InterpolationError } from './interpolate.js';
import { collectSecrets } from './secrets.js';

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

/** Decodes UTF-8 strictly (a BOM is allowed), or says where the bad byte is. */
export function decode(bytes: Uint8Array, file: string): string {
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new ConfigError([{ severity: 'error', file, message: `too large (${bytes.length} bytes; the limit is ${MAX_CONFIG_BYTES})` }]);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    let offset = 0;
    const dec = new TextDecoder('utf-8', { fatal: true });
    // find the first offending byte by growing the prefix line by line
    let line = 1;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0x0a) {
        try {
          dec.decode(bytes.subarray(0, i + 1));
          offset = i + 1;
          line++;
        } catch {
          break;
        }
      }
    }
    throw new ConfigError([{ severity: 'error', file, line, message: 'is not valid UTF-8 text' }]);
  }
}

interface Pos {
  line: number;
  column: number;
}

/** Parses and validates one source. Throws ConfigError with every problem found. */
export function parseConfig(source: Source, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const { file, text } = source;
  if (text.length > MAX_CONFIG_BYTES) {
    throw new ConfigError([{ severity: 'error', file, message: `too large (${text.length} characters; the limit is ${MAX_CONFIG_BYTES})` }]);
  }
  const issues: ConfigIssue[] = [];
  const lc = new LineCounter();
  const posOf = (offset: number | undefined): Pos => {
    if (offset === undefined) return { line: 1, column: 1 };
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const doc = parseDocument(text, { lineCounter: lc, version: '1.1', merge: true, uniqueKeys: true, prettyErrors: false, keepSourceTokens: false });
  for (const e of doc.errors) {
    const p = posOf(e.pos[0]);
    issues.push({ severity: 'error', file, ...p, message: yamlMessage(e.code, e.message) });
  }
  if (issues.length) throw new ConfigError(issues);
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
    throw new ConfigError([{ severity: 'error', file, ...posOf(root.range?.[0]), message: aliasMessage(err) }]);
  }
  const items = data as unknown[];
  const checks: CheckSpec[] = [];

  root.items.forEach((item, index) => {
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
    const checkLabel = `${label} (${typeValue})`;
    if (!definition) {
      issues.push({ severity: 'error', file, ...where('type'), check: checkLabel, option: 'type', message: `unknown check type "${typeValue}"; known types: ${knownTypeNames().join(', ')}` });
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
      for (const issue of result.error.issues) issues.push(zodIssue(issue, file, checkLabel, where, opts));
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
      secrets: collectSecrets(opts, definition.secretOptions),
    };
    checks.push(spec);
  });

  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(issues);
  return { checks, warnings: issues };
}

function zodIssue(issue: z.core.$ZodIssue, file: string, check: string, where: (key?: string) => Pos, given: Record<string, unknown>): ConfigIssue {
  const key = issue.path.length ? String(issue.path[0]) : undefined;
  const option = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || undefined;
  let message = issue.message;
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

function describeNode(value: unknown): string {
  if (value === null || value === undefined) return 'an empty entry';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `the value ${JSON.stringify(value)}`.slice(0, 60);
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') return `duplicate key: ${first}`;
  return `not valid YAML: ${first}`;
}

function aliasMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  if (/alias/i.test(m)) return `too many YAML alias expansions (more than ${MAX_ALIAS_COUNT}); is this an alias bomb?`;
  return `cannot read the YAML: ${m.split('\n')[0]}`;
}
