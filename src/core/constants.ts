/** Names and numbers defined once: inputs, outputs, exit codes, defaults and limits. */

export const VERSION = '0.1.0';

/** Action inputs (action.yml must list exactly these). */
export const Input = {
  Config: 'config',
  Checks: 'checks',
  ConnectTimeout: 'connect-timeout',
  MaxTimeout: 'max-timeout',
  IncludeTags: 'include-tags',
  ExcludeTags: 'exclude-tags',
  Patterns: 'patterns',
  Concurrency: 'concurrency',
  TlsCertsPath: 'tls-certs-path',
  FailOnError: 'fail-on-error',
  Summary: 'summary',
  ValidateOnly: 'validate-only',
  DryRun: 'dry-run',
  Wait: 'wait',
  ReportFile: 'report-file',
  EnvFile: 'env-file',
  FromEnv: 'from-env',
  Services: 'services',
} as const;

/** Action outputs (action.yml must list exactly these). */
export const Output = {
  Total: 'total',
  Passed: 'passed',
  Failed: 'failed',
  Warnings: 'warnings',
  Skipped: 'skipped',
  FailedChecks: 'failed-checks',
  Results: 'results',
} as const;

/** Nagios plugin convention, as conn-check used it. */
export const ExitCode = {
  Ok: 0,
  Warning: 1,
  Critical: 2,
  Unknown: 3,
} as const;

export const DEFAULT_CONNECT_TIMEOUT_S = 10;
/** The longest timeout a check (or the run) may ask for: a day. Anything longer is a typo. */
export const MAX_TIMEOUT_S = 86_400;
/**
 * The default number of checks in flight at once follows the open-file limit (ulimit -n, the soft
 * RLIMIT_NOFILE): (limit - CONCURRENCY_FD_HEADROOM) / CONCURRENCY_FDS_PER_CHECK, clamped to
 * [CONCURRENCY_MIN, CONCURRENCY_MAX]. See src/runner/concurrency.ts.
 */
/** Descriptors left for the process itself: stdio, the event loop, DNS, the trust store, drivers. */
export const CONCURRENCY_FD_HEADROOM = 64;
/** Descriptors one check may hold at once: an http check through a proxy, a TLS check (2). */
export const CONCURRENCY_FDS_PER_CHECK = 2;
export const CONCURRENCY_MIN = 16;
/**
 * A huge ulimit (1M) must not turn into a burst of a million sockets, and memory grows with the
 * checks in flight: 1,024 still runs 1,000 unanswered checks in one timeout, and keeps 10,000
 * checks near 210 MiB (about 300 at 4,096; docs/performance.md).
 */
export const CONCURRENCY_MAX = 1024;
/** The open-file limit assumed where it cannot be read (not Linux, or /proc unreadable). */
export const FALLBACK_OPEN_FILES = 256;
/**
 * Config files (and the inline `checks` input) larger than this are refused before parsing:
 * the yaml library needs about 2 s for 1 MB and a minute and 1.5 GB for 8 MB here. 2 MiB holds
 * some 20,000 checks.
 */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;
/** YAML alias expansion guard (billion laughs). */
export const MAX_ALIAS_COUNT = 1000;
/** The `results` output: GitHub allows 1 MB per output (the rest goes to report-file). */
export const MAX_RESULTS_OUTPUT_BYTES = 1_000_000;
/** Expanded YAML (aliases resolved) may hold at most this many characters of scalars... */
export const MAX_EXPANDED_CHARS = 8 * 1024 * 1024;
/** ...and this many nodes (some 20,000 checks of ordinary size fit easily). */
export const MAX_YAML_NODES = 1_000_000;
/** A check's name: longer is no name, and it is shown in every report line. */
export const MAX_NAME_CHARS = 512;
/** The job summary must stay well under the runner's 1 MiB limit. */
export const MAX_SUMMARY_BYTES = 512 * 1024;
