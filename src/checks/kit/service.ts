/**
 * The service-check kit: the first steps every TCP-based check runs, once.
 *
 * `withService(ctx, spec, exchange)`:
 *  1. reads the TLS material (ca_file, client certificate) at step `tls`, BEFORE connecting: no
 *     file I/O may come between the connection and the handshake (a reset in that gap would hit
 *     a socket nobody listens to);
 *  2. resolves and connects at step `tcp` (every resolved address at once, the first that
 *     accepts wins: net/dial.ts) and notes `connected to ADDRESS`;
 *  3. with `tls: 'direct'`, does the TLS handshake at step `tls` with the shared trust store and
 *     verification, then the certificate assertions (min_tls_version, min_cert_days) and the
 *     one TLS note: `TLSv1.3, cert CN=... (issuer CN=...) expires in N days[; verification
 *     disabled]` (net/tls.ts certLine). With `tls: 'upgrade'` the check speaks its STARTTLS
 *     exchange first and calls `service.startTls()`; with `tls: 'driver'` a driver negotiates
 *     TLS on the connection it was given and the check calls `service.assertTls(socket)`;
 *  4. runs `exchange(service)`: the check's protocol, on `service.stream`;
 *  5. tears everything down (the sockets, a relay, what the check registered with `onClose`)
 *     when the exchange ends, fails, or the check's signal aborts.
 *
 * Every connection the kit opens reads within the check's read budget (net/bounded.ts).
 *
 * Handing the connection to a driver, the one way: a driver that can be given a socket gets
 * `service.give(frames?)` (the stream, with the protocol's frame rules added to its bounded
 * reads); a driver that dials itself gets `service.relay(...)`, a loopback port whose
 * connections are carried over connections this kit opened to the address that answered (the
 * first one the kit's own, with `reuse`), with TLS done by the kit (`terminate`) or, for a
 * protocol that negotiates TLS in-band (NATS), by the driver with `service.driverTls()`.
 */
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';
import { CheckError, stopKind, type CheckContext, type StepName } from '../../core/contract.js';
import { now } from '../../core/clock.js';
import type { TlsOptions } from '../../core/options.js';
import { capReads, type FrameInspector } from '../../net/bounded.js';
import { nodeTls } from '../../net/builtins.js';
import { bareHost, connectAddress, connectFirst, connectTcp, hostPort, resolveHost, showAddress, type Address, type Endpoint } from '../../net/dial.js';
import { describeError } from '../../net/errors.js';
import { startRelay, type Relay } from '../../net/relay.js';
import { connectUnixSocket, isSocketPath } from '../../net/unix.js';
import { assertCertificate, awaitServerVerdict, handshake, secureOptions, verificationFailure } from '../../net/tls.js';

export interface ServiceSpec {
  /** A host name or address, or a Unix socket's path (`/run/mysqld/mysqld.sock`: net/unix.ts). */
  host: string;
  port: number;
  /** The host's addresses when the check resolved it itself (mongodb+srv with dns_server). */
  addresses?: Address[];
  /** The check's TLS options when it speaks TLS; absent (or false): no TLS. */
  tls?: Partial<TlsOptions> | false;
  /**
   * When TLS starts: `direct` (from the first byte, done by the kit; the default), `upgrade`
   * (after the check's own STARTTLS exchange: `service.startTls()`), `driver` (negotiated by a
   * driver: the kit only reads the material, `service.tlsOptions`).
   */
  tlsMode?: 'direct' | 'upgrade' | 'driver';
  /**
   * Several endpoints instead of one (a cluster's bootstrap list, `host`/`port` being the
   * first): all are dialled at once and the first that accepts is used, its host being the name
   * verified; with more than one, the connection note names it (`connected to ADDRESS (LABEL
   * HOST:PORT)`). When none accepts: each one's reason (net/dial.ts connectFirst).
   */
  endpoints?: { list: readonly Endpoint[]; label: string };
  /** Rewrites a failed handshake (a hint for a plain-text port). */
  tlsFailure?(err: CheckError): CheckError;
  /** Noted when the check's deadline passes during the handshake (a server that never answers one). */
  tlsSilence?: string;
  /**
   * Verify after the handshake instead of inside it (the tls check): the messages then name the
   * certificate (CN, issuer, dates, names), and a TLS 1.3 server's verdict on the client
   * certificate is waited for (net/tls.ts awaitServerVerdict).
   */
  inspect?: boolean;
  /** ALPN protocols offered in every handshake of the check (the relay's connections' too). */
  alpn?: string[];
  /** Checked after the handshake and the certificate assertions, at step tls (the server's ALPN choice, say). */
  checkTls?(secure: TLSSocket): void;
}

export interface RelaySpec {
  /** How many connections the driver may open. */
  maxConnections: number;
  /** A new frame inspector per connection. */
  frames?: () => FrameInspector;
  /** The driver's first connection is the kit's own (no second connection for a one-connection driver). */
  reuse?: boolean;
  /** The kit does the TLS of each connection (the driver speaks plain text to the relay); default true. */
  terminate?: boolean;
  /** Sees each connection the relay carries (the kit's first one included) before the driver does. */
  opened?(socket: Socket): void;
}

export interface Service {
  /** The address that accepted the connection. */
  readonly address: Address;
  /** When the connection was made (core/clock.ts now(), before any handshake): for a check that times its exchange from there (http's response time). */
  readonly connectedAt: number;
  /** The TCP connection. */
  readonly socket: Socket;
  /** What the protocol reads and writes: the TLS socket once TLS is up, else the TCP socket. */
  readonly stream: Socket | TLSSocket;
  /** Node's TLS options for this check (read before connecting); undefined without TLS. */
  readonly tlsOptions: ConnectionOptions | undefined;
  /** The name the certificate is checked against: server_name, else the host. */
  readonly verifyName: string;
  /** STARTTLS: the handshake over the current stream, the assertions and the TLS note. */
  startTls(): Promise<TLSSocket>;
  /** The assertions and the TLS note for a TLS socket a driver set up on this connection. */
  assertTls(secure: TLSSocket): void;
  /** A socket a driver opened on this connection (its TLS socket): bounded and torn down with the rest. */
  adopt<S extends Socket>(socket: S): S;
  /** The stream, for a driver given the connection (frame rules added to its bounded reads). */
  give(frames?: FrameInspector): Socket | TLSSocket;
  /** A loopback relay for a driver that dials itself (closed with the rest). */
  relay(spec: RelaySpec): Promise<Relay>;
  /** TLS options for a driver that does its own TLS through the relay: checked against verifyName. */
  driverTls(): ConnectionOptions | undefined;
  /** Runs `fn` at teardown too (a driver's own close), in reverse order of registration. */
  onClose(fn: () => unknown): void;
}

/** Connects as `spec` says, runs `exchange` on the connection, and tears it all down. */
export async function withService<T>(ctx: CheckContext, spec: ServiceSpec, exchange: (service: Service) => Promise<T>): Promise<T> {
  const started = now();
  // (without TLS, nothing to read and nothing to wait for)
  let tlsOptions = spec.tls ? await readTls(ctx, spec) : undefined;
  const { endpoints } = spec;
  if (!endpoints) {
    const unix = isSocketPath(spec.host);
    // A name is resolved in a step of its own: a resolver that does not answer in time is the
    // resolve step's failure ("resolve: timed out"), not the connection's.
    const addresses = unix || spec.addresses || isIP(bareHost(spec.host)) ? spec.addresses : await ctx.step('resolve', () => resolveHost(spec.host, ctx.signal));
    const { socket, address } = await ctx.step('tcp', () => (unix ? connectUnixSocket(spec.host, ctx.signal) : connectTcp(spec.host, spec.port, ctx.signal, addresses)));
    const connectedAt = now();
    ctx.note(`connected to ${unix ? `Unix socket ${spec.host}` : showAddress(address)}`);
    return run(new Connection(ctx, spec, socket, address, tlsOptions, started, connectedAt), exchange);
  }
  const { socket, address, endpoint } = await ctx.step('tcp', () => connectFirst(endpoints.list, ctx.signal));
  const connectedAt = now();
  ctx.note(`connected to ${showAddress(address)}${endpoints.list.length > 1 ? ` (${endpoints.label} ${hostPort(endpoint.host, endpoint.port)})` : ''}`);
  if (tlsOptions && spec.tls && !spec.tls.server_name && endpoint.host !== spec.host) {
    const h = bareHost(endpoint.host);
    tlsOptions = { ...tlsOptions, servername: isIP(h) ? undefined : h };
  }
  return run(new Connection(ctx, { ...spec, host: endpoint.host, port: endpoint.port }, socket, address, tlsOptions, started, connectedAt), exchange);
}

/**
 * `all_addresses`: the same at every address the host resolves to, at once (a half-broken
 * dual-stack service, or one backend with an old certificate, is found, not hidden). Each
 * address's notes are prefixed with it; the check fails, naming the failing addresses, at the
 * first failure's step (`[::1]: connection refused (1 of 2 addresses failed)`).
 */
export async function withEachAddress(ctx: CheckContext, spec: ServiceSpec, exchange: (service: Service) => Promise<void>): Promise<void> {
  const started = now();
  const tlsOptions = await readTls(ctx, spec);
  const addresses = await ctx.step('resolve', () => resolveHost(spec.host, ctx.signal));
  await ctx.step(tlsOptions ? 'tls' : 'tcp', () =>
    eachAddress(addresses, ctx, async (address, note) => {
      let socket: Socket;
      try {
        socket = capReads(await connectAddress(address, spec.port, ctx.signal), ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw new CheckError('tcp', describeError(err));
      }
      return run(new Connection({ ...ctx, note }, spec, socket, address, tlsOptions, started, now()), exchange);
    }),
  );
}

/**
 * The check's TLS options, its files (ca_file, client certificate) and the trust store read at
 * step tls, before any connection (so never between a connection and its handshake); undefined
 * without TLS. withService's first step; a check that connects by other means (the http
 * check's direct client, s3) calls it before its tcp step.
 */
export async function readTls(ctx: Pick<CheckContext, 'step' | 'extraCa' | 'env'>, spec: Pick<ServiceSpec, 'host' | 'tls' | 'alpn'> & { tls: Partial<TlsOptions> }): Promise<ConnectionOptions>;
export async function readTls(ctx: Pick<CheckContext, 'step' | 'extraCa' | 'env'>, spec: Pick<ServiceSpec, 'host' | 'tls' | 'alpn'>): Promise<ConnectionOptions | undefined>;
export async function readTls(ctx: Pick<CheckContext, 'step' | 'extraCa' | 'env'>, spec: Pick<ServiceSpec, 'host' | 'tls' | 'alpn'>): Promise<ConnectionOptions | undefined> {
  if (!spec.tls) return undefined;
  const tls = spec.tls;
  const options = await ctx.step('tls', () => secureOptions(tls, spec.host, ctx));
  return spec.alpn ? { ...options, ALPNProtocols: spec.alpn } : options;
}

async function run<T>(service: Connection, exchange: (service: Service) => Promise<T>): Promise<T> {
  const { signal } = service.ctx;
  // (the connection is the signal's listener itself: no closure per check)
  signal.addEventListener('abort', service, { once: true });
  try {
    if (service.tlsOptions && (service.spec.tlsMode ?? 'direct') === 'direct') await service.ctx.step('tls', () => service.startTls());
    if (signal.aborted) throw signal.reason;
    return await exchange(service);
  } finally {
    signal.removeEventListener('abort', service);
    await service.close();
  }
}

/**
 * Runs `probe` at every address at once; notes each address's outcome in address order
 * (`ADDRESS: detail`, `ADDRESS: passed` when the probe noted nothing) and fails, naming the
 * failing addresses, at the first failure's step.
 */
export async function eachAddress<A extends Address>(
  addresses: readonly A[],
  ctx: Pick<CheckContext, 'note' | 'signal'>,
  probe: (address: A, note: (detail: string) => void) => Promise<void>,
): Promise<void> {
  const notes: string[][] = addresses.map(() => []);
  const outcomes = await Promise.allSettled(addresses.map((a, i) => probe(a, (d) => notes[i]!.push(d))));
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const failed: { text: string; step: StepName }[] = [];
  outcomes.forEach((r, i) => {
    const shown = showAddress(addresses[i]!);
    for (const d of notes[i]!) ctx.note(`${shown}: ${d}`);
    if (r.status === 'fulfilled') {
      if (!notes[i]!.length) ctx.note(`${shown}: passed`);
      return;
    }
    const err = r.reason;
    const text = `${shown}: ${err instanceof CheckError ? err.message : describeError(err)}`;
    failed.push({ text, step: err instanceof CheckError ? err.step : 'tcp' });
    ctx.note(text);
  });
  if (failed.length) {
    throw new CheckError(failed[0]!.step, `${failed.map((f) => f.text).join('; ')} (${failed.length} of ${addresses.length} addresses failed)`);
  }
}

class Connection implements Service {
  stream: Socket | TLSSocket;
  readonly verifyName: string;
  private readonly closers: (() => unknown)[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    readonly ctx: CheckContext,
    readonly spec: ServiceSpec,
    readonly socket: Socket,
    readonly address: Address,
    readonly tlsOptions: ConnectionOptions | undefined,
    private readonly started: number,
    readonly connectedAt: number,
  ) {
    this.stream = socket;
    this.verifyName = (spec.tls ? spec.tls.server_name : undefined) ?? bareHost(spec.host);
  }

  async startTls(): Promise<TLSSocket> {
    const { ctx, spec } = this;
    if (!this.tlsOptions) throw new CheckError('tls', 'TLS is not configured for this check');
    const silence = spec.tlsSilence;
    const hint = () => {
      if (stopKind(ctx.signal) !== 'cancelled') ctx.note(silence!);
    };
    if (silence) ctx.signal.addEventListener('abort', hint, { once: true });
    let secure: TLSSocket;
    try {
      this.stream.removeAllListeners('data');
      secure = await handshake(this.stream, spec.inspect ? { ...this.tlsOptions, rejectUnauthorized: false } : this.tlsOptions, ctx.signal);
      if (spec.inspect) await this.inspect(secure);
    } catch (err) {
      throw err instanceof CheckError && spec.tlsFailure ? spec.tlsFailure(err) : err;
    } finally {
      if (silence) ctx.signal.removeEventListener('abort', hint);
    }
    this.stream = secure;
    this.assertTls(secure);
    spec.checkTls?.(secure);
    return secure;
  }

  /** Verification after the handshake (nothing sent yet), then the server's verdict on a client certificate. */
  private async inspect(secure: TLSSocket): Promise<void> {
    try {
      if (this.tlsOptions!.rejectUnauthorized !== false) {
        const why = verificationFailure(secure, this.verifyName);
        if (why) throw new CheckError('tls', why);
      }
      const left = this.ctx.timeoutMs - (now() - this.started);
      await awaitServerVerdict(secure, this.ctx.signal, Math.max(20, Math.min(500, left / 2)));
    } catch (err) {
      secure.destroy();
      throw err;
    }
  }

  assertTls(secure: TLSSocket): void {
    this.adopt(secure);
    assertCertificate(secure, this.spec.tls || {}, this.ctx, this.verifyName);
  }

  adopt<S extends Socket>(socket: S): S {
    this.closers.push(() => socket.destroy());
    return capReads(socket, this.ctx.signal);
  }

  give(frames?: FrameInspector): Socket | TLSSocket {
    return capReads(this.stream, this.ctx.signal, frames);
  }

  async relay(spec: RelaySpec): Promise<Relay> {
    const { ctx } = this;
    const terminate = spec.terminate ?? true;
    let first: Socket | undefined = spec.reuse ? this.stream : undefined;
    if (!spec.reuse) {
      this.stream.destroy();
      this.socket.destroy();
    }
    const open = async (): Promise<Socket> => {
      let s: Socket;
      if (first) {
        s = first;
        first = undefined;
      } else {
        const { socket } = await connectTcp(this.spec.host, this.spec.port, ctx.signal, [this.address]);
        s = terminate && this.tlsOptions ? await handshake(socket, this.tlsOptions, ctx.signal) : socket;
      }
      spec.opened?.(s);
      return s;
    };
    const relay = await startRelay(open, { signal: ctx.signal, frames: spec.frames, maxConnections: spec.maxConnections });
    this.closers.push(() => relay.close());
    return relay;
  }

  driverTls(): ConnectionOptions | undefined {
    if (!this.tlsOptions) return undefined;
    if (this.tlsOptions.rejectUnauthorized === false) return this.tlsOptions;
    const name = this.verifyName;
    return { ...this.tlsOptions, checkServerIdentity: (_h: string, cert: PeerCertificate) => nodeTls().checkServerIdentity(name, cert) };
  }

  onClose(fn: () => unknown): void {
    this.closers.push(fn);
  }

  /** The check's signal aborted: tear everything down. */
  handleEvent(): void {
    void this.close();
  }

  close(): Promise<void> {
    // Nothing registered (a check that only used the connection): its sockets go, nothing to wait for.
    if (!this.closing && this.closers.length === 0) {
      this.stream.destroy();
      this.socket.destroy();
      this.closing = Promise.resolve();
    }
    this.closing ??= (async () => {
      const pending: unknown[] = [];
      for (const fn of this.closers.reverse()) {
        try {
          pending.push(fn());
        } catch {
          // a driver that cannot close what never opened: its sockets go below anyway
        }
      }
      this.stream.destroy();
      this.socket.destroy();
      await Promise.all(pending.map((p) => Promise.resolve(p).catch(() => {})));
    })();
    return this.closing;
  }
}

/** How long after the check's deadline a driver's own timers fire. */
const DRIVER_TIMER_SLACK_MS = 1000;

/**
 * The milliseconds a driver's own timer gets: what is left of the check's deadline, plus
 * DRIVER_TIMER_SLACK_MS. Such a timer only backs the runner's deadline up, which ends the check
 * first, in its own words ("timed out after 1s"), and whose teardown ends the driver and its
 * timers. Set to the deadline itself, the two raced: mqtt's connack timer once won in CI and the
 * check said "timed out waiting for CONNACK".
 */
export function timeLeft(ctx: Pick<CheckContext, 'timeoutMs'>): () => number {
  const deadline = now() + ctx.timeoutMs + DRIVER_TIMER_SLACK_MS;
  return () => Math.max(1, Math.round(deadline - now()));
}

/**
 * What a service check's definition starts with: its type, its driver's loader (the runner
 * loads it before the deadlines start), `TYPE:HOST:PORT` / `HOST:PORT` as its name and
 * target, and that it uses TLS when its `tls` option (core/options.ts tlsSwitch) is set (a
 * check whose TLS is decided otherwise says so after the spread).
 * `defineCheck({ ...serviceCheck('redis', driver), summary, options, run })`.
 */
export function serviceCheck<T extends string>(type: T, load?: () => Promise<unknown>) {
  return {
    type,
    ...(load ? { load } : {}),
    name: (o: { host: string; port: number }) => `${type}:${hostPort(o.host, o.port)}`,
    target: (o: { host: string; port: number }) => hostPort(o.host, o.port),
    usesTls: (o: object) => (o as { tls?: unknown }).tls === true,
  };
}
