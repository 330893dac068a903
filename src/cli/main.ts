/**
 * The command line, as conn-check's: `conn-check [options] CONFIG [PATTERN ...]`, its flags,
 * its output lines and Nagios exit codes. Returns the exit code; never calls process.exit.
 */
import { existsSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  CONCURRENCY_FD_HEADROOM,
  CONCURRENCY_FDS_PER_CHECK,
  CONCURRENCY_MAX,
  CONCURRENCY_MIN,
  DEFAULT_CONNECT_TIMEOUT_S,
  ExitCode,
  MAX_CONFIG_BYTES,
  MAX_TIMEOUT_S,
  VERSION,
} from '../core/constants.js';
import { allSecrets, ConfigError, formatIssue, gatherConfig } from '../config/index.js';
import { checkTypes } from '../checks/registry.js';
import { environmentAndSources } from '../config/sources.js';
import { loadCaPath } from '../net/tls.js';
import { renderJson } from '../report/json.js';
import { renderJunit } from '../report/junit.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderEgress } from '../report/egress.js';
import { OutputGate } from '../report/gate.js';
import { renderText, textLine, verdict } from '../report/text.js';
import { cancelledCount, ordered, summarize } from '../runner/result.js';
import { runChecks } from '../runner/run.js';
import { checkSelection, excludedByTags, splitList } from '../runner/select.js';
import { resolve } from 'node:path';
import { argsProblem } from './usage.js';
import { assertWritable, OutputError, writeReport } from './output.js';
import { wantsColour } from './colour.js';
import { Progress } from './progress.js';
import { paintVerdict } from '../report/colour.js';
import type { Io } from './io.js';
export type { Io } from './io.js';


const FORMATS = ['text', 'json', 'junit', 'markdown'] as const;

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

class UsageError extends Error {}

function seconds(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_S) throw new UsageError(`--${name}: expected a number of seconds > 0 and <= ${MAX_TIMEOUT_S}, got ${JSON.stringify(raw)}`);
  return n;
}

export async function main(argv: string[], rawIo: Io): Promise<number> {
  // Every byte out goes through the gate: no line of it can start a workflow command.
  const gate = new OutputGate();
  const io: Io = { ...rawIo, stdout: (s) => rawIo.stdout(gate.stream(s)), stderr: (s) => rawIo.stderr(gate.stream(s)) };
  if (argv[0] === 'init') return (await import('./init.js')).init(argv.slice(1), io);
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
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
      },
    });
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
    if (!config && !o['from-env']) throw new UsageError('no CONFIG file given');
    const format = o.format ?? 'text';
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    const connectTimeoutS = seconds('connect-timeout', o['connect-timeout']) ?? DEFAULT_CONNECT_TIMEOUT_S;
    const maxTimeoutS = seconds('max-timeout', o['max-timeout']);
    const waitS = seconds('wait', o.wait);
    let concurrency: number | undefined;
    if (o.concurrency !== undefined) {
      concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: expected a whole number >= 1, got ${JSON.stringify(o.concurrency)}`);
    }
    const includeTags = splitList(o['include-tags']);
    const excludeTags = splitList(o['exclude-tags']);
    if (includeTags.length && excludeTags.length) throw new UsageError('--include-tags and --exclude-tags cannot be used together');
    let extraCa: string[] = [];
    if (o['tls-certs-path']) {
      try {
        extraCa = await loadCaPath(o['tls-certs-path']);
      } catch (err) {
        throw new UsageError((err as Error).message.replace(/^tls-certs-path/, '--tls-certs-path'));
      }
    }

    let gathered;
    try {
      const more = await environmentAndSources(io.env, { envFiles: o['env-file'] ?? [], fromEnv: !!o['from-env'], base: io.cwd, needed: !config });
      for (const note of more.notes) io.stderr(`conn-check: ${gate.text(note)}\n`);
      gathered = await gatherConfig({
        ...(config === undefined ? {} : config === '-' ? { stdin: io.readStdin(MAX_CONFIG_BYTES) } : { paths: [config], base: io.cwd }),
        env: more.env,
        sources: more.sources,
        leftOutByTags: (tags) => excludedByTags(tags, { includeTags, excludeTags }),
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      gate.mask(err.secrets);
      io.stderr(err.issues.map((i) => `${formatIssue(gate.value(i, 500))}\n`).join(''));
      const errors = err.issues.filter((i) => i.severity === 'error');
      const n = errors.length;
      if (errors.every((i) => i.unreadable)) io.stderr(`UNKNOWN: cannot read the config file${n === 1 ? '' : 's'}\n`);
      else io.stderr(`UNKNOWN: invalid config (${n} problem${n === 1 ? '' : 's'})\n`);
      return ExitCode.Unknown;
    }
    gate.mask(allSecrets(gathered.checks));
    for (const w of gathered.warnings) io.stderr(formatIssue(gate.value(w, 500)) + '\n');
    if (o.egress) {
      io.stdout(await renderEgress(gathered.checks, (s) => gate.text(s)));
      return ExitCode.Ok;
    }
    if (o.validate) {
      io.stdout(`OK: the config is valid (${gathered.checks.length} check${gathered.checks.length === 1 ? '' : 's'})\n`);
      return ExitCode.Ok;
    }

    const selection = { includeTags, excludeTags, patterns };
    const picked = checkSelection(gathered.checks, selection, (p) => existsSync(resolve(io.cwd, p)));
    for (const w of picked.warnings) io.stderr(`warning: ${gate.text(w)}\n`);
    if (picked.error) {
      io.stderr(`UNKNOWN: ${gate.text(picked.error)}\n`);
      return ExitCode.Unknown;
    }

    if (o.output !== undefined) assertWritable(o.output, io.cwd);
    const text = format === 'text';
    // With --output the report goes to the file and the text lines to stdout.
    const textToStdout = text || o.output !== undefined;
    const unbuffered = textToStdout && !!o['unbuffered-output'];
    const lineOpts = { durations: !!o.duration, verbose: !!o.verbose };
    // Colour only on stdout's text, never in a --output file or a machine format.
    const shown = { ...lineOpts, colour: textToStdout && wantsColour(io.env, io.isTTY?.stdout) };
    const progress = o['dry-run'] ? undefined : new Progress({ write: io.stderr, live: !!io.isTTY?.stderr, verbose: !!o.verbose && textToStdout, redact: (s) => gate.text(s), waitS, maxTimeoutS });
    const outcome = await runChecks(gathered.checks, {
      connectTimeoutS,
      maxTimeoutS,
      waitS,
      concurrency,
      extraCa,
      env: io.env,
      selection,
      dryRun: !!o['dry-run'],
      signal: io.signal,
      onStart: (c) => {
        progress?.onStart(c);
        if (o.verbose && textToStdout) (progress ? progress.say.bind(progress) : io.stderr)(`Starting ${gate.text(c.name)} (${gate.text(c.target)})...\n`);
      },
      onResult: (r) => {
        progress?.onResult(r);
        if (unbuffered) io.stdout(textLine(gate.value(r), shown) + '\n');
      },
      onRetry: (c, retry) => progress?.onRetry(c, retry),
    }).finally(() => progress?.stop());
    // Results are cleaned as data (redacted, neutralised, cut) before any format renders them.
    const results = gate.value(outcome.results);
    const report =
      format === 'json'
        ? renderJson(results)
        : format === 'junit'
          ? renderJunit(results, outcome.durationMs)
          : format === 'markdown'
            ? renderMarkdown(results, outcome.durationMs)
            : renderText(ordered(results), outcome.durationMs, lineOpts);
    if (o.output !== undefined) writeReport(o.output, io.cwd, report);
    if (unbuffered) {
      const last = verdict(results, outcome.durationMs);
      io.stdout((shown.colour ? paintVerdict(last) : last) + '\n');
    } else if (o.output !== undefined || text) io.stdout(renderText(ordered(results), outcome.durationMs, shown));
    else io.stdout(report);
    const s = summarize(results, 0);
    // A cancelled run proved nothing about the checks it stopped: critical, whatever their severity.
    return s.failed || cancelledCount(results) ? ExitCode.Critical : s.warnings ? ExitCode.Warning : ExitCode.Ok;
  } catch (err) {
    if (err instanceof OutputError) {
      io.stderr(`conn-check: ${gate.text(err.message)}\n`);
      return ExitCode.Unknown;
    }
    if (err instanceof UsageError) {
      io.stderr(`conn-check: ${gate.text(err.message)}\nTry 'conn-check --help'.\n`);
      return ExitCode.Unknown;
    }
    const detail = o.tracebacks ? ((err as Error)?.stack ?? String(err)) : ((err as Error)?.message ?? String(err));
    io.stderr(`UNKNOWN: conn-check failed unexpectedly: ${gate.lines(detail)}\n`);
    return ExitCode.Unknown;
  }
}

/** The real process's I/O. */
export function processIo(signal?: AbortSignal): Io {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    readStdin: (limit) => readStdinCapped(limit),
    env: process.env,
    cwd: process.cwd(),
    signal,
    isTTY: { stdout: process.stdout.isTTY, stderr: process.stderr.isTTY },
  };
}

/**
 * Standard input, read until EOF or until it holds more than `limit` bytes, whichever is first:
 * `conn-check -` fed an endless stream stops at its cap instead of reading everything first.
 */
function readStdinCapped(limit: number): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  while (total <= limit) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // a non-blocking pipe: wait for data
        continue;
      }
      if (code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
  }
  return Buffer.concat(chunks);
}
