/**
 * The command line, as conn-check's: `conn-check [options] CONFIG [PATTERN ...]`, its flags,
 * its output lines and Nagios exit codes. Returns the exit code; never calls process.exit.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CONCURRENCY_FD_HEADROOM,
  CONCURRENCY_FDS_PER_CHECK,
  CONCURRENCY_MAX,
  CONCURRENCY_MIN,
  DEFAULT_CONNECT_TIMEOUT_S,
  ExitCode,
  MAX_CONFIG_BYTES,
  VERSION,
} from '../core/constants.js';
import { readSettings, runApp, SettingError, type AppOutcome } from '../app.js';
import { checkTypes } from '../checks/registry.js';
import { formatIssue } from '../config/index.js';
import { OutputGate } from '../report/gate.js';
import { judge } from '../report/status.js';
import { paintVerdict } from '../report/colour.js';
import { renderText, textLine, verdict, type TextOptions } from '../report/text.js';
import { splitList } from '../runner/select.js';
import { argsProblem } from './usage.js';
import { assertWritable, FORMATS, OutputError, renderReport, writeReport, type Format } from './output.js';
import { wantsColour } from './colour.js';
import { Progress } from './progress.js';
import type { Io } from './io.js';
export { processIo, type Io } from './io.js';

export const HELP = `Usage: conn-check [options] CONFIG [PATTERN ...]

Checks that every service listed in CONFIG (a conn-check YAML file, or - for
standard input) can be reached, and that its credentials work.
PATTERNs select checks as conn-check did: a whole name (the check's, or one of
conn-check's sub-step names such as redis:HOST:PORT:connect), * the only wildcard;
a check runs if any matches. A selection that matches nothing exits 3.

Options:
  -v, --verbose            print each check as it starts, and its details
  -d, --duration           print how long each check took
  -t, --tracebacks         print internal error details (never secrets)
  -U, --unbuffered-output  print results as they arrive instead of ordered
      --validate           only validate the config file
      --dry-run            print what would run, as SKIPPED, and run nothing
      --connect-timeout S  timeout of checks that set none (default ${DEFAULT_CONNECT_TIMEOUT_S})
      --max-timeout S      stop everything after S seconds
      --wait S             re-run failed checks until all pass or S seconds have passed
      --include-tags A,B   run only checks with any of these tags
      --exclude-tags A,B   skip checks with any of these tags
      --concurrency N      most checks in flight at once (default: from ulimit -n,
                           (limit - ${CONCURRENCY_FD_HEADROOM}) / ${CONCURRENCY_FDS_PER_CHECK}, between ${CONCURRENCY_MIN} and ${CONCURRENCY_MAX})
      --tls-certs-path P   extra CA certificates: a PEM file or a directory of them
      --format F           output: text (default), json, junit or markdown
      --output FILE        write the report to FILE (text still goes to stdout)
      --egress             print the firewall rules the config needs (YAML), run nothing
      --env-file FILE      read a dotenv file into the variables \${VAR} uses (repeatable)
      --from-env           add a check for each *_URL/_URI/_DSN/_ADDR variable holding a
                           service URL (CONFIG is then optional)
      --version            print the version
  -h, --help               print this help

conn-check init --from FILE...  prints a config for a docker-compose file, a .env
                                 file or Kubernetes manifests

Exit status: 0 all passed, 1 only checks with severity warning failed,
2 a check failed, 3 bad arguments or invalid config.
Check types: ${checkTypes()
  .map((d) => d.type)
  .join(', ')}
`;

/** The command line's options, as parseArgs reads them. */
const ARG_OPTIONS = {
  verbose: { type: 'boolean', short: 'v' },
  duration: { type: 'boolean', short: 'd' },
  tracebacks: { type: 'boolean', short: 't' },
  'unbuffered-output': { type: 'boolean', short: 'U' },
  validate: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  egress: { type: 'boolean' },
  wait: { type: 'string' },
  output: { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'tls-certs-path': { type: 'string' },
  'max-timeout': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'include-tags': { type: 'string' },
  'exclude-tags': { type: 'string' },
  concurrency: { type: 'string' },
  format: { type: 'string' },
  'env-file': { type: 'string', multiple: true },
  'from-env': { type: 'boolean' },
} as const;
/** The long flags that take no value. */
const BOOLEAN_FLAGS = new Set(Object.keys(ARG_OPTIONS).filter((k) => ARG_OPTIONS[k as keyof typeof ARG_OPTIONS].type === 'boolean'));
/**
 * What parseArgs returns for a command line of positionals and `--flag`s that take no value (the
 * usual `conn-check FILE`), without loading and running it; undefined for anything else.
 */
function simpleArgs<Parsed>(argv: readonly string[]): Parsed | undefined {
  const values: Record<string, boolean> = Object.create(null) as Record<string, boolean>;
  const positionals: string[] = [];
  for (const arg of argv) {
    if (arg.length > 1 && arg.charCodeAt(0) === 0x2d) {
      // `--name` only (no `--name=value`, no `--`, no short flags): parseArgs decides the rest
      if (!arg.startsWith('--') || !BOOLEAN_FLAGS.has(arg.slice(2))) return undefined;
      values[arg.slice(2)] = true;
    } else positionals.push(arg);
  }
  return { values, positionals } as Parsed;
}

/** How the messages name a setting. */
const flag = (setting: string) => `--${setting}`;

/** Nagios' exit code for a run's verdict. */
const EXIT = { OK: ExitCode.Ok, WARNING: ExitCode.Warning, CRITICAL: ExitCode.Critical } as const;

export async function main(argv: string[], rawIo: Io): Promise<number> {
  // Every byte out goes through the gate: no line of it can start a workflow command.
  const gate = new OutputGate();
  const io: Io = { ...rawIo, stdout: (s) => rawIo.stdout(gate.stream(s)), stderr: (s) => rawIo.stderr(gate.stream(s)) };
  if (argv[0] === 'init') return (await import('./init.js')).init(argv.slice(1), io);
  let args;
  try {
    const parse = () =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: ARG_OPTIONS,
      });
    args = simpleArgs<ReturnType<typeof parse>>(argv) ?? parse();
  } catch (err) {
    io.stderr(`conn-check: ${gate.text(argsProblem(err, HELP))}\n`);
    return ExitCode.Unknown;
  }
  const o = args.values;
  if (o.help) {
    io.stdout(HELP);
    return ExitCode.Ok;
  }
  if (o.version) {
    io.stdout(`conn-check ${VERSION}\n`);
    return ExitCode.Ok;
  }

  try {
    const [config, ...patterns] = args.positionals;
    if (!config && !o['from-env']) throw new SettingError('no CONFIG file given');
    const format = o.format ?? 'text';
    if (!(FORMATS as readonly string[]).includes(format)) throw new SettingError(`--format: expected one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    const settings = await readSettings(
      {
        'connect-timeout': o['connect-timeout'],
        'max-timeout': o['max-timeout'],
        wait: o.wait,
        concurrency: o.concurrency,
        'tls-certs-path': o['tls-certs-path'],
        'include-tags': splitList(o['include-tags']),
        'exclude-tags': splitList(o['exclude-tags']),
        patterns,
      },
      flag,
    );
    // With --output the report goes to the file and the text lines to stdout.
    const textToStdout = format === 'text' || o.output !== undefined;
    const unbuffered = textToStdout && !!o['unbuffered-output'];
    const verbose = !!o.verbose && textToStdout;
    // Colour only on stdout's text, never in a --output file or a machine format.
    const view = { durations: !!o.duration, verbose: !!o.verbose, colour: textToStdout && wantsColour(io.env, io.isTTY?.stdout) };
    let progress: Progress | undefined;
    const outcome = await runApp(
      {
        settings,
        config: {
          ...(config === undefined ? {} : config === '-' ? { stdin: io.readStdin(MAX_CONFIG_BYTES) } : { paths: [config] }),
          base: io.cwd,
          env: io.env,
          envFiles: o['env-file'] ?? [],
          fromEnv: !!o['from-env'],
        },
        mode: o.egress ? 'egress' : o.validate ? 'validate' : 'run',
        dryRun: !!o['dry-run'],
        gate,
        name: flag,
        signal: io.signal,
        isFile: (p) => existsSync(resolve(io.cwd, p)),
      },
      {
        note: (line) => io.stderr(`conn-check: ${line}\n`),
        warnings: (issues) => io.stderr(issues.map((w) => formatIssue(w) + '\n').join('')),
        selectionWarning: (line) => io.stderr(`warning: ${line}\n`),
        beforeRun: () => {
          if (o.output !== undefined) assertWritable(o.output, io.cwd);
          if (!o['dry-run']) progress = new Progress({ write: io.stderr, live: !!io.isTTY?.stderr, verbose, redact: (s) => gate.text(s), waitS: settings.waitS, maxTimeoutS: settings.maxTimeoutS });
        },
        onStart: (c) => {
          progress?.onStart();
          if (verbose) (progress ? progress.say.bind(progress) : io.stderr)(`Starting ${c.name} (${c.target})...\n`);
        },
        onResult: (r) => {
          progress?.onResult(r);
          if (unbuffered) io.stdout(textLine(r, view) + '\n');
        },
        onRetry: (c, retry) => progress?.onRetry(c, retry),
      },
    ).finally(() => progress?.stop());
    return finish(outcome, io, { format: format as Format, output: o.output, unbuffered, view });
  } catch (err) {
    if (err instanceof OutputError) {
      io.stderr(`conn-check: ${gate.text(err.message)}\n`);
      return ExitCode.Unknown;
    }
    if (err instanceof SettingError) {
      io.stderr(`conn-check: ${gate.text(err.message)}\nTry 'conn-check --help'.\n`);
      return ExitCode.Unknown;
    }
    const detail = o.tracebacks ? ((err as Error)?.stack ?? String(err)) : ((err as Error)?.message ?? String(err));
    io.stderr(`UNKNOWN: conn-check failed unexpectedly: ${gate.lines(detail)}\n`);
    return ExitCode.Unknown;
  }
}

/** Writes what the run came to where the flags say, and returns the exit code. */
function finish(outcome: AppOutcome, io: Io, o: { format: Format; output?: string; unbuffered: boolean; view: TextOptions }): number {
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  switch (outcome.kind) {
    case 'invalid': {
      io.stderr(outcome.issues.map((i) => `${formatIssue(i)}\n`).join(''));
      const n = outcome.errors.length;
      if (outcome.errors.every((i) => i.unreadable)) io.stderr(`UNKNOWN: cannot read the config file${n === 1 ? '' : 's'}\n`);
      else io.stderr(`UNKNOWN: invalid config (${plural(n, 'problem')})\n`);
      return ExitCode.Unknown;
    }
    case 'egress':
      io.stdout(outcome.report);
      return ExitCode.Ok;
    case 'valid':
      io.stdout(`OK: the config is valid (${plural(outcome.checks, 'check')})\n`);
      return ExitCode.Ok;
    case 'nothing-selected':
      io.stderr(`UNKNOWN: ${outcome.error}\n`);
      return ExitCode.Unknown;
  }
  const { results, durationMs } = outcome;
  const plain = { durations: o.view.durations, verbose: o.view.verbose };
  if (o.output !== undefined) writeReport(o.output, io.cwd, renderReport(o.format, results, durationMs, plain));
  if (o.unbuffered) {
    const last = verdict(results, durationMs);
    io.stdout((o.view.colour ? paintVerdict(last) : last) + '\n');
  } else if (o.output !== undefined || o.format === 'text') io.stdout(renderText(results, durationMs, o.view));
  else io.stdout(renderReport(o.format, results, durationMs, plain));
  return EXIT[judge(results).level];
}
