/**
 * What a check type's test descriptor (test/types/<type>.ts) declares, and the shared pieces it
 * builds with. The tests that cover every type (the fault matrix, the secret-leak run, the
 * driver-load markers) iterate the registry and read each type's descriptor: adding a type is its
 * check file, its registry line, its descriptor and test file, its docs page. A registered type
 * without a descriptor fails those tests (test/types/index.ts).
 */
import type { Peer, TcpPeer, UdpPeer } from '../helpers/peers.js';

// ---- the fault matrix ------------------------------------------------------------------------
export const FAULTS = {
  refused: '1 refused',
  blackhole: '2 black hole',
  closer: '3 closes at once',
  garbage: '4a garbage bytes',
  banner: '4b wrong protocol',
  drip: '5 slow drip',
  tlsStall: '6 TLS never completes',
  expired: '7a expired cert',
  wronghost: '7b wrong-host cert',
  unresolvable: '8 unresolvable name',
  creds: '9 wrong credentials',
  midway: '10a stops after greeting',
  midwayTls: '10b stops after TLS',
  flood: '11 endless data',
  zero: '12a zero-length frame',
  huge: '12b huge length frame',
  bomb: '13a gzip bomb',
  bombBr: '13b brotli bomb',
  regex: '14 catastrophic regex',
  inject: '15 injection text',
} as const;
export type Fault = keyof typeof FAULTS;

/** What a cell expects: a failure at a step with a message, or a pass by design. */
export interface Expect {
  expect: 'failed' | 'passed';
  step?: string;
  message?: RegExp;
  /** What the peer does, when the fault's name is not enough. */
  how?: string;
  /** Known failure: the bug, as reported. */
  todo?: string;
}

export interface Cell extends Expect {
  type: string;
  fault: Fault;
  /** The check's options (timeout added). */
  options: Record<string, unknown>;
}

export const fail = (step: string, message: RegExp, extra: Partial<Expect> = {}): Expect => ({ expect: 'failed', step, message, ...extra });
export const pass = (how: string): Expect => ({ expect: 'passed', how });

/** The runner's deadline ("timed out after 1s") or a driver's own timer set to the same deadline ("timed out", "timed out waiting for CONNACK"). */
export const TIMED_OUT = /^timed out( after [13]s| waiting for CONNACK)?$/;
export const REFUSED = /^connection refused$/;
export const NXDOMAIN = /^dns resolution failed: no such name \(NXDOMAIN\)$/;
export const EXPIRED = /^certificate has expired/;
export const WRONG_HOST = /^certificate does not match the host name/;
/** The default read budget (net/bounded.ts) running out. */
export const CAPPED = /^the server sent more than 1 MiB \(the read limit for this check\)$/;

/** The shared peers and helpers a type's cells are built from (made by test/faults.test.ts). */
export interface FaultKit {
  /** The loopback address every peer listens on. */
  readonly H: string;
  /** A name that never resolves. */
  readonly BAD: string;
  /** The password the cells send (it must never appear in an output). */
  readonly PASSWORD: string;
  /** A wrong password for the cells of fault 9. */
  readonly WRONG: string;
  readonly refusedPort: number;
  readonly blackHole: TcpPeer;
  readonly closer: TcpPeer;
  readonly garbage: TcpPeer;
  /** Sends an SSH identification line (a wrong protocol for everything but ssh). */
  readonly banner: TcpPeer;
  readonly tlsExpired: TcpPeer;
  readonly tlsWrongHost: TcpPeer;
  /** Completes a TLS handshake with a valid certificate for localhost, then says nothing. */
  readonly tlsQuiet: TcpPeer;
  readonly udpRefused: number;
  readonly udpSilent: UdpPeer;
  readonly udpGarbage: UdpPeer;
  /** `ca_file` naming the test CA. */
  readonly caFile: { ca_file: string };
  at(p: { port: number }): { host: string; port: number };
  /** `scheme://host:port` for a peer (or a port number), host H unless given. */
  urlOf(scheme: string, p: { port: number } | number, host?: string): string;
  /** Registers a peer the descriptor started (closed after the matrix). */
  peer<T extends Peer>(p: Promise<T>): Promise<T>;
  /** A slow drip: `prefix` at once, then one byte of `fill` at a time, faster than one a second. */
  drip(prefix: string | Buffer, fill: string | Buffer): Promise<TcpPeer>;
  /** A protocol that negotiates TLS inside itself: the plain part, then silence or TLS with that certificate. */
  upgrade(plain: { greeting?: string | Buffer; readBytes?: number; reply?: string | Buffer }, then: 'silent' | 'expired' | 'wrong' | 'valid'): Promise<TcpPeer>;
  /**
   * A real server for the cell of wrong credentials, stopped after the matrix; undefined when it
   * cannot start on this machine (the type's `credsTest` then says where that is covered).
   */
  server<T>(start: () => Promise<T>, stop: (s: T) => Promise<void>): Promise<T | undefined>;
  /** Adds a cell of this type. */
  add(fault: Fault, options: Record<string, unknown>, expect: Expect): void;
}

// ---- the secret-leak run (test/secrets.test.ts) ----------------------------------------------
/** An unreachable target: every type's credentials must stay out of every output against each. */
export interface Target {
  host: string;
  port: number;
  mode: 'refused' | 'blackhole' | 'wronghost';
}

export interface SecretKit {
  /** A new secret (registered: the run fails if any form of it appears in an output). */
  secret(label: string, plain?: boolean): string;
  /** A user and password pair (both forms of the pair are looked for). */
  pair(user: string, password: string): [string, string];
  /** Registers more secret text (a key's lines, say). */
  register(...values: string[]): void;
  /** The environment of the run (for `${VAR}` credentials). */
  env: Record<string, string>;
  /** A UDP port nobody answers on. */
  silentUdpPort: number;
  refusedPort: number;
  blackHolePort: number;
}

// ---- the descriptor --------------------------------------------------------------------------
export interface TypeTest {
  /**
   * The npm package of the type's driver: a check of the type loads it and no other
   * (test/lazy-load.test.ts, against a server that accepts and hangs up, with `options` added to
   * host and port), and the fault matrix loads it before its clock starts. `loadedOnFailure`:
   * the check gets as far as loading it against that server. `marker`: a string found in the
   * driver's code and nowhere else in the bundle (it tells which chunk holds the driver).
   */
  driver?: { module: string; marker: string; options?: string; loadedOnFailure?: boolean };
  /**
   * Valid checks of the type as a user writes them (YAML list entries, `- type: ...`), for the
   * types and aliases that conn-check 1.3.1 lacked (the others are in
   * test/fixtures/config/valid-conn-check.yaml, a real conn-check file): config.test.ts checks that
   * every type and alias of the registry is written in one of the two and validates.
   */
  examples?: string;
  /** One failing check of the type with every credential option it has. */
  credentials(t: Target, s: SecretKit): Record<string, unknown>;
  /** Further checks for the secret-leak run (other credential forms: keys, tokens). */
  moreCredentials?(s: SecretKit): Record<string, unknown>[];
  /** The type's cells of the fault matrix. */
  faults(k: FaultKit): Promise<void>;
  /** Where wrong credentials are tested against a real server, when the matrix has no cell 9. */
  credsTest?: string;
}

export const defineTypeTest = (t: TypeTest): TypeTest => t;
