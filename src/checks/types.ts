/**
 * The contract every check type implements. A check type is one file in this folder that
 * exports a `CheckDefinition`, plus one line in `registry.ts`; nothing else switches on the type.
 */
import type * as z from 'zod/mini';
import type { SecureContextOptions } from 'node:tls';

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
    readonly step: StepName | string,
    message: string,
  ) {
    super(message);
    this.name = 'CheckError';
  }
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
  /**
   * The most bytes a check of this type may read from its peers, over all its connections
   * (net/bounded.ts); DEFAULT_READ_CAP (1 MiB) when unset.
   */
  readonly maxReadBytes?: number;
  /** The conn-check-compatible name, e.g. `redis:HOST:PORT`. */
  name(options: z.output<S>): string;
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
  /**
   * Set while a type is declared (so old files validate) but not implemented yet: running it
   * fails with this message.
   */
  readonly notSupported?: string;
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

/** TLS settings a check passes to net/tls.ts. */
export interface TlsSettings extends Pick<SecureContextOptions, 'ca' | 'cert' | 'key'> {
  verify: boolean;
  servername?: string;
}
