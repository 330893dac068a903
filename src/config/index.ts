/** Gathering the configuration from files, globs, inline YAML or stdin, into one list of checks. */
import { isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from './errors.js';
import { decode, parseConfig, readSource, type CheckSpec, type Source, type TagFilter } from './load.js';

export { ConfigError, formatIssue, type ConfigIssue } from './errors.js';
export type { CheckSpec } from './load.js';

export const INLINE_FILE = '<checks input>';
export const STDIN_FILE = '<stdin>';

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Turns config paths (files or globs, relative to `base`) into the files to read, shown
 * relative to `base` as annotations want them. A glob that matches nothing is an error.
 */
export async function expandPaths(paths: readonly string[], base: string): Promise<{ files: { path: string; shown: string }[]; issues: ConfigIssue[] }> {
  const out: { path: string; shown: string }[] = [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    let matches: string[];
    if (GLOB_CHARS.test(p)) {
      const { glob } = await import('tinyglobby');
      matches = (await glob(p, { cwd: base, absolute: true, onlyFiles: true, dot: true })).sort();
      if (!matches.length) {
        issues.push({ severity: 'error', file: p, message: 'no file matches this pattern' });
        continue;
      }
    } else {
      matches = [resolve(base, p)];
    }
    for (const abs of matches) {
      if (seen.has(abs)) continue;
      seen.add(abs);
      const rel = relative(base, abs);
      out.push({ path: abs, shown: rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs });
    }
  }
  return { files: out, issues };
}

export interface GatherOptions {
  paths?: readonly string[];
  base?: string;
  inline?: string;
  stdin?: Uint8Array;
  env?: NodeJS.ProcessEnv;
  /** Checks these tags leave out: their errors are warnings (see load.ts). */
  leftOutByTags?: TagFilter;
  /** Generated configs (--from-env, the action's services), after the others. */
  sources?: readonly Source[];
}

export interface Gathered {
  checks: CheckSpec[];
  warnings: ConfigIssue[];
}

/** Reads and validates every source, gathering every problem of every file before failing. */
export async function gatherConfig(o: GatherOptions): Promise<Gathered> {
  const issues: ConfigIssue[] = [];
  const secrets = new Set<string>();
  const sources: Source[] = [];
  const collect = (err: unknown) => {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
    for (const s of err.secrets) secrets.add(s);
  };
  if (o.paths?.length) {
    const expanded = await expandPaths(o.paths, o.base ?? process.cwd());
    issues.push(...expanded.issues);
    for (const f of expanded.files) {
      try {
        sources.push(await readSource(f.path, f.shown));
      } catch (err) {
        collect(err);
      }
    }
  }
  if (o.stdin) {
    try {
      sources.push({ file: STDIN_FILE, text: decode(o.stdin, STDIN_FILE) });
    } catch (err) {
      collect(err);
    }
  }
  if (o.inline !== undefined && o.inline.trim() !== '') sources.push({ file: INLINE_FILE, text: o.inline });
  sources.push(...(o.sources ?? []));
  const checks: CheckSpec[] = [];
  for (const s of sources) {
    try {
      const loaded = await parseConfig(s, o.env ?? process.env, o.leftOutByTags);
      checks.push(...loaded.checks);
      issues.push(...loaded.warnings);
    } catch (err) {
      collect(err);
    }
  }
  if (issues.some((i) => i.severity === 'error')) {
    for (const c of checks) for (const s of c.secrets) secrets.add(s);
    throw new ConfigError(issues, secrets);
  }
  return { checks, warnings: issues };
}

/** Every secret of every check, for masking and redaction. */
export function allSecrets(checks: readonly CheckSpec[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < checks.length; i++) {
    const secrets = checks[i]!.secrets;
    if (secrets.size) for (const s of secrets) out.add(s);
  }
  return out;
}
