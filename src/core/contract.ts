/**
 * The contract every check type implements. A check type is one file in src/checks/ that
 * exports a `CheckDefinition`, plus one line in checks/registry.ts; nothing else switches on the
 * type. Everything in src/core/ imports nothing from src/ but secrets/.
 */
import type * as z from './z.js';

/** The stages a check goes through; a failure names the one it failed in. */
export type StepName =
  | 'resolve'
  | 'tcp'
  | 'tls'
  | 'udp'
  | 'proxy'
  | 'request'
  | 'status'
  | 'protocol'
  | 'auth'
  | 'host_key'
  | 'query'
  | 'send'
  | 'body'
  | 'headers'
  | 'time'
  | 'cert'
  | 'expect'
  | 'reachable'
  | 'run';

/** A failure with its step and a short, literal, secret-free message. */
export class CheckError extends Error {
  constructor(
    readonly step: StepName,
    message: string,
  ) {
    super(message);
    this.name = 'CheckError';
  }
}

/** Why a check was stopped before it finished: its own deadline, max-timeout, or the run being cancelled. */
export type StopKind = 'timeout' | 'max-timeout' | 'cancelled';

/**
 * The reason a check's signal carries when the runner stops it: its message is the failure's
 * message, its kind the result's `stopped` (`finished`: the check ended on its own). Checks ask
 * `stopKind(signal)`, never compare the message.
 */
export class StopReason extends Error {
  constructor(
    readonly kind: StopKind | 'finished',
    message: string,
  ) {
    super(message);
  }
}

/** Why the signal was aborted, when the runner stopped the check; undefined otherwise. */
export function stopKind(signal: AbortSignal): StopKind | 'finished' | undefined {
  return signal.aborted && signal.reason instanceof StopReason ? signal.reason.kind : undefined;
}

/** What the runner hands to a check. */
export interface CheckContext {
  /** Aborted when the check's deadline passes, max-timeout fires or the run is cancelled. */
  readonly signal: AbortSignal;
  /** Milliseconds this check may take in all (its deadline, relative to its start). */
  readonly timeoutMs: number;
  /** Extra CA certificates (PEM strings) from `tls-certs-path`, to add to Node's roots. */
  readonly extraCa: readonly string[];
  /** The environment (for proxies and the like); never the source of options. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs one step: a failure inside it is reported as that step's failure. */
  step<T>(name: StepName, fn: () => Promise<T> | T): Promise<T>;
  /** Adds a detail to the result (e.g. the address that answered, the server's version). */
  note(detail: string): void;
}

/** Options common to every check (declared in common.ts), validated before the type's own. */
export type { Common as CommonOptions } from './common.js';

export interface CheckDefinition<S extends z.ZodMiniObject = z.ZodMiniObject> {
  /** The canonical type name, as conn-check spells it. */
  readonly type: string;
  /** One line for the README, `--help` and the unknown-type error. */
  readonly summary: string;
  /** The type's own options (common options are added by the registry). */
  readonly options: S;
  /** The connection URLs this type reads (`url:` on a check); see UrlSupport. */
  readonly url?: UrlSupport;
  /** The container images this type checks (compose files, a job's services). */
  readonly container?: ContainerSupport;
  /**
   * The most bytes a check of this type may read from its peers, over all its connections
   * (net/bounded.ts); DEFAULT_READ_CAP (1 MiB) when unset.
   */
  readonly maxReadBytes?: number;
  /** The conn-check-compatible name, e.g. `redis:HOST:PORT`. */
  name(options: z.output<S>): string;
  /**
   * The names conn-check 1.x printed for this check's sub-steps, in order (`redis:H:P:tcp:H:P`,
   * `redis:H:P:connect`; `tcp:H:P` and `postgres:H:P` for postgres). NRPE command lines use them
   * as PATTERNs: one matching any of them selects the check. Absent for types conn-check lacked.
   */
  legacyNames?(options: z.output<S>): string[];
  /**
   * Whether these options may make the check open a TLS connection: the runner then reads the
   * trust store (net/trust.ts) before the deadlines start, so its one-time cost is not taken from
   * the first TLS check's timeout. Without it: no TLS.
   */
  usesTls?(options: z.output<S>): boolean;
  /** What the check talks to, for reports: `HOST:PORT`, a URL without credentials. */
  target(options: z.output<S>): string;
  /**
   * The connections the check opens, for `--egress` (firewall rules). Without it: TCP to the
   * `host` and `port` options, when both are set and the host is not a unix-socket path.
   */
  egress?(options: z.output<S>): Egress[];
  /**
   * Whether these options turn TLS verification off (reports mark such checks). Without it:
   * `disable_tls_verification: true`.
   */
  insecure?(options: z.output<S>): boolean;
  /**
   * Loads the type's driver (a dynamic import). The runner calls it once per type before any
   * deadline starts, so a driver's load time (up to half a second on a busy machine) is not
   * taken from the first check's timeout; types without checks in the run are never loaded.
   */
  load?(): Promise<unknown>;
  /** Throws a CheckError on failure; must obey ctx.signal and close whatever it opened. */
  run(options: z.output<S>, ctx: CheckContext): Promise<void>;
}

/**
 * A type's connection URLs: the schemes that pick it when a check has `url:` and no `type`
 * (the registry derives the scheme map from these), and the URL's meaning as options. Options
 * written next to `url:` override what it says.
 */
export interface UrlSupport {
  /** Lower-case schemes without `:` that stand for this type (`postgres`, `postgresql`). */
  readonly schemes: readonly string[];
  /** Further schemes accepted when the type is given (`tls://` for nats). */
  readonly alsoSchemes?: readonly string[];
  /** The options the URL stands for; throws UrlError (checks/url.ts) when it cannot. */
  options(url: string, scheme: string): Record<string, unknown>;
}

/**
 * The container images of a type's servers (`postgres`, `bitnami/redis`) and what their
 * documented environment variables mean as options: the registry derives the image map.
 */
export interface ContainerSupport {
  /** Image names without registry, tag or digest. */
  readonly images: readonly string[];
  /** The port the server listens on inside the container. */
  readonly port: number;
  /** Images whose server listens on another port by default (`bitnami/openldap`: 1389). */
  readonly ports?: Readonly<Record<string, number>>;
  /** The options besides host and port, from the container's environment. */
  options(env: ContainerEnv): Record<string, unknown>;
}

/** A container's environment as `container.options` reads it. */
export interface ContainerEnv {
  /**
   * The variable's value (for a generated config, a `${NAME}` reference instead: credentials
   * are never copied), else `fallback` (the image's default).
   */
  get(name: string, fallback?: string): string | undefined;
  /** Whether the container sets the variable. */
  has(name: string): boolean;
}

/** One network flow a check needs: what a firewall must allow. */
export interface Egress {
  protocol: 'tcp' | 'udp';
  host: string;
  port: number;
}

/** Helper that keeps the options type flowing from the schema to name/target/run. */
export function defineCheck<S extends z.ZodMiniObject>(def: CheckDefinition<S>): CheckDefinition<S> {
  return def;
}

export type AnyCheckDefinition = CheckDefinition<z.ZodMiniObject>;

