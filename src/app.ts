/**
 * The application core both entries call (the CLI's main() and the action's run()):
 * settings → config (files, inline, stdin, env files, generated checks) → mask → select → run →
 * redact. It writes nothing: it hands the entry clean data (every string through the entry's
 * OutputGate, which it also teaches the secrets), through events while it works and as its
 * result at the end; the entry decides where each goes (stdout, log, annotations, summary).
 */
import { safeParseLoading } from './config/fast-validate.js';
import { DEFAULT_CONNECT_TIMEOUT_S } from './core/constants.js';
import { integer, seconds } from './core/options.js';
import { allSecrets, ConfigError, gatherConfig, type CheckSpec, type ConfigIssue } from './config/index.js';
import type { Source } from './config/parsed.js';
import { environmentAndSources } from './config/sources.js';
import { loadCaPath } from './net/tls.js';
import { keepYoungGenerationSmall } from './process.js';
import { renderEgress } from './report/egress.js';
import type { OutputGate } from './report/gate.js';
import { summarize, type CheckResult, type RunSummary } from './runner/result.js';
import { runChecks, type RunOptions } from './runner/run.js';
import { checkSelection, excludedByTags, type Selection } from './runner/select.js';

/** The settings as the user gave them (flags, inputs), by their names; absent or undefined: not set. */
export interface RawSettings {
  'connect-timeout'?: string;
  'max-timeout'?: string;
  wait?: string;
  concurrency?: string;
  'tls-certs-path'?: string;
  'include-tags'?: readonly string[];
  'exclude-tags'?: readonly string[];
  patterns?: readonly string[];
}

export interface Settings {
  connectTimeoutS: number;
  maxTimeoutS?: number;
  waitS?: number;
  concurrency?: number;
  /** The CA certificates of tls-certs-path. */
  extraCa: string[];
  selection: Selection;
}

/** A setting with a bad value; the message names it the entry's way (`--wait`, `input wait`). */
export class SettingError extends Error {}

/** How an entry calls a setting in its messages: `--wait` (CLI), `input wait` (action). */
export type Naming = (setting: string) => string;

/** The schema of each numeric setting, built when the setting is given (most runs give none). */
const SCHEMAS = {
  'connect-timeout': seconds,
  'max-timeout': seconds,
  wait: seconds,
  concurrency: () => integer(1, 100_000),
} as const;

/** Validates the settings the same way for both entries (and as the config file's `timeout:`). */
export async function readSettings(raw: RawSettings, name: Naming): Promise<Settings> {
  const includeTags = raw['include-tags'] ?? [];
  const excludeTags = raw['exclude-tags'] ?? [];
  if (includeTags.length && excludeTags.length) throw new SettingError(`${name('include-tags')} and ${name('exclude-tags')} cannot both be set`);
  const numbers: Partial<Record<keyof typeof SCHEMAS, number>> = {};
  for (const key of Object.keys(SCHEMAS) as (keyof typeof SCHEMAS)[]) {
    if (raw[key] === undefined) continue;
    // (zod loads only to say what is wrong with a value)
    const r = await safeParseLoading(SCHEMAS[key](), raw[key]);
    if (!r.success) throw new SettingError(`${name(key)}: ${r.error.issues[0]!.message}`);
    numbers[key] = r.data as number;
  }
  const settings: Settings = {
    connectTimeoutS: numbers['connect-timeout'] ?? DEFAULT_CONNECT_TIMEOUT_S,
    maxTimeoutS: numbers['max-timeout'],
    waitS: numbers.wait,
    concurrency: numbers.concurrency,
    extraCa: [],
    selection: { includeTags: [...includeTags], excludeTags: [...excludeTags], patterns: [...(raw.patterns ?? [])] },
  };
  const certs = raw['tls-certs-path'];
  if (certs) {
    try {
      settings.extraCa = await loadCaPath(certs);
    } catch (err) {
      throw new SettingError((err as Error).message.replace(/^tls-certs-path/, name('tls-certs-path')));
    }
  }
  return settings;
}

/** Where the checks come from. */
export interface ConfigInput {
  /** Files or globs, relative to `base`. */
  paths?: readonly string[];
  inline?: string;
  stdin?: Uint8Array;
  base: string;
  env: NodeJS.ProcessEnv;
  envFiles?: readonly string[];
  fromEnv?: boolean;
  /** Checks the entry generated (the action's services input), after the others. */
  generated?: { env: NodeJS.ProcessEnv; source?: Source; notes: readonly string[] };
}

export interface AppRequest {
  settings: Settings;
  config: ConfigInput;
  /** `run` (the default), only `validate` the config, or print its firewall rules (`egress`). */
  mode?: 'run' | 'validate' | 'egress';
  /** Report every check as skipped instead of running it. */
  dryRun?: boolean;
  /** Cleans every string the app hands out; learns the config's secrets first. */
  gate: OutputGate;
  name: Naming;
  signal?: AbortSignal;
  /** A pattern that names an existing file hints that it was meant as a config. */
  isFile?: (path: string) => boolean;
}

/** What the app tells while it works, each item already clean. */
export interface AppEvents {
  /** The config's secrets, before any of it is written (the gate already masks them). */
  secrets?(secrets: ReadonlySet<string>): void;
  /** Where generated checks came from (env files, --from-env, services). */
  note?(line: string): void;
  /** Config problems that do not stop the run. */
  warnings?(issues: ConfigIssue[]): void;
  /** A pattern that matched no check while others did. */
  selectionWarning?(line: string): void;
  /** Just before the run; may throw to stop it (the CLI's unwritable --output). */
  beforeRun?(checks: number): void;
  onStart?(check: { name: string; target: string }): void;
  onResult?(result: CheckResult): void;
  onRetry?: RunOptions['onRetry'];
}

export type AppOutcome =
  | { kind: 'invalid'; issues: ConfigIssue[]; errors: ConfigIssue[] }
  | { kind: 'valid'; checks: number }
  | { kind: 'egress'; report: string }
  | { kind: 'nothing-selected'; error: string }
  | { kind: 'ran'; results: CheckResult[]; durationMs: number; summary: RunSummary };

const ISSUE_CHARS = 500;

/** A check's name and target as onStart hands them out: cleaned when read (most entries read them only with -v). */
class CleanNames {
  constructor(
    private readonly gate: OutputGate,
    private readonly check: CheckSpec,
  ) {}

  get name(): string {
    return this.gate.text(this.check.name);
  }

  get target(): string {
    return this.gate.text(this.check.target);
  }
}

export async function runApp(req: AppRequest, events: AppEvents = {}): Promise<AppOutcome> {
  const { gate, settings } = req;
  const mask = (secrets: ReadonlySet<string>) => {
    gate.mask(secrets);
    events.secrets?.(secrets);
  };
  let checks: CheckSpec[];
  try {
    const c = req.config;
    const alone = !c.paths?.length && !c.stdin && !c.inline?.trim() && !c.generated;
    const more = await environmentAndSources(c.env, { envFiles: c.envFiles ?? [], fromEnv: !!c.fromEnv, base: c.base, needed: alone });
    for (const note of [...more.notes, ...(c.generated?.notes ?? [])]) events.note?.(gate.text(note));
    const gathered = await gatherConfig({
      ...(c.paths?.length ? { paths: c.paths } : {}),
      ...(c.stdin ? { stdin: c.stdin } : {}),
      ...(c.inline !== undefined ? { inline: c.inline } : {}),
      base: c.base,
      // (the environment itself unless something adds to it: a copy of process.env makes every
      // name and value a string, about 300 B a variable)
      env: c.generated?.env ? { ...more.env, ...c.generated.env } : more.env,
      sources: [...more.sources, ...(c.generated?.source ? [c.generated.source] : [])],
      leftOutByTags: (tags) => excludedByTags(tags, settings.selection),
    });
    checks = gathered.checks;
    mask(allSecrets(checks));
    if (gathered.warnings.length) events.warnings?.(gathered.warnings.map((w) => gate.value(w, ISSUE_CHARS)));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Mask what the broken config holds before a word of it is written.
    mask(err.secrets);
    const issues = err.issues.map((i) => gate.value(i, ISSUE_CHARS));
    return { kind: 'invalid', issues, errors: issues.filter((i) => i.severity === 'error') };
  }
  if (req.mode === 'egress') return { kind: 'egress', report: await renderEgress(checks, (s) => gate.text(s)) };
  if (req.mode === 'validate') return { kind: 'valid', checks: checks.length };

  const picked = checkSelection(checks, settings.selection, req.isFile);
  for (const w of picked.warnings) events.selectionWarning?.(gate.text(w));
  if (picked.error) return { kind: 'nothing-selected', error: gate.text(picked.error.replace(/--((?:include|exclude)-tags)/g, (_, s: string) => req.name(s))) };

  events.beforeRun?.(checks.length);
  keepYoungGenerationSmall(checks.length);
  // Each result is cleaned once: as it comes in when the entry listens, else at the end.
  const clean: CheckResult[] = new Array(checks.length);
  const onResult = events.onResult;
  const outcome = await runChecks(checks, {
    connectTimeoutS: settings.connectTimeoutS,
    maxTimeoutS: settings.maxTimeoutS,
    waitS: settings.waitS,
    concurrency: settings.concurrency,
    extraCa: settings.extraCa,
    env: req.config.env,
    selection: settings.selection,
    dryRun: !!req.dryRun,
    signal: req.signal,
    onStart: events.onStart && ((c) => events.onStart!(new CleanNames(gate, c))),
    onResult: onResult && ((r, _c, i) => onResult((clean[i] = gate.value(r)))),
    onRetry: events.onRetry,
  });
  // Results are cleaned as data (redacted, neutralised, cut) before anything renders them.
  const results = outcome.results.map((r, i) => clean[i] ?? gate.value(r));
  return { kind: 'ran', results, durationMs: outcome.durationMs, summary: summarize(results, outcome.durationMs) };
}
