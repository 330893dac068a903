/**
 * The direct client: node:http (net/http1.ts), one connection per request, no agent. The first
 * request can run on a connection opened already (withDirect: the kit's, its tcp step and for
 * https its handshake; one connection per check, not a probe and then the request); every
 * other one opens its own (a redirect's target, the digest round trip). On an https
 * connection the handshake is the tls step and the certificate is asserted (net/tls.ts) before
 * anything is sent on it. Every connection is destroyed at the deadline and by close().
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { createConnection, isIP, type LookupFunction, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { capReads } from '../../net/bounded.js';
import { nodeDns } from '../../net/builtins.js';
import { bareHost, type Address } from '../../net/dial.js';
import { request1, type Http1Answer } from '../../net/http1.js';
import { assertCertificate, handshake } from '../../net/tls.js';
import type { CheckContext } from '../../core/contract.js';
import { readTls, withService, type Service } from '../kit/index.js';
import type { TlsOptions } from '../../core/options.js';
import { directBody, directRequest } from './errors.js';
import { BODY_LIMIT, defaultPort, type Answer, type Headers, type HttpClient, type HttpRequest } from './send.js';

export interface DirectOptions {
  /**
   * Node's TLS options for https connections (the kit's readTls), asked for before an https
   * connection is made: a check whose requests stay on http never reads the trust store. Its
   * failure is at step tls.
   */
  tls(): Promise<ConnectionOptions>;
  /** The TLS assertions made on every https connection, and server_name (SNI and the name verified). */
  assert: Partial<Pick<TlsOptions, 'disable_tls_verification' | 'min_tls_version' | 'min_cert_days' | 'server_name'>>;
  /** How host names are resolved for the connections the client opens (all_addresses pins one). */
  lookup?: LookupFunction;
  /**
   * A connection already open (connected) to the first request's host and port:
   * that request runs on it (over TLS for an https URL: a TLS socket is used as it is, a TCP
   * one gets its handshake here) instead of opening another.
   */
  first?: Socket;
  /**
   * `first` is its owner's to destroy (withDirect: the kit's, at the deadline and when the
   * check ends): the client leaves it, and the request on it, to that owner (a request whose
   * connection is destroyed fails with it).
   */
  firstOwned?: boolean;
}

/**
 * A direct client whose first request runs on the connection the kit opens (withService in
 * direct mode): the TLS material read first (step tls, no connection made yet: for an https URL,
 * or any URL with `readFirst`, the http check's named TLS files), the tcp step (`connected to
 * ADDRESS`), for an https URL the handshake and the certificate assertions (steps tls, cert) and
 * the TLS note; then `use(client, service)` (one connection for a check that sends one
 * request), and everything torn down after. Other https connections (a redirect's) read the
 * material when they first need it, before connecting.
 */
export function withDirect<T>(
  url: URL,
  opts: { tls: Partial<TlsOptions>; readFirst?: boolean },
  ctx: CheckContext,
  use: (client: HttpClient, service: Service) => Promise<T>,
): Promise<T> {
  const https = url.protocol === 'https:';
  const spec = { host: url.hostname, port: defaultPort(url), tls: (https || opts.readFirst) && opts.tls, tlsMode: https ? ('direct' as const) : ('driver' as const) };
  return withService(ctx, spec, async (service) => {
    let material = service.tlsOptions && Promise.resolve(service.tlsOptions);
    const client = new DirectClient(
      {
        tls() {
          return (material ??= readTls(ctx, { host: url.hostname, tls: opts.tls }));
        },
        assert: opts.tls,
        first: service.stream,
        firstOwned: true,
      },
      ctx,
    );
    try {
      return await use(client, service);
    } finally {
      client.closeNow();
    }
  });
}

/** The direct client: `first` (when given) for the first request, a new connection for each other. */
export function directClient(opts: DirectOptions, ctx: Pick<CheckContext, 'signal' | 'step' | 'note'>): HttpClient {
  return new DirectClient(opts, ctx);
}

/**
 * The direct client's state: the connections and requests to destroy at the deadline or at
 * close() (none while the only one is an owned `first`). A class, so that a check allocates one
 * object for it and no named closures (the build keeps function names: each named closure costs
 * a defineProperty and a map of its own). It is the listener of the check's signal itself
 * (handleEvent), from the first connection or request it has to destroy.
 */
class DirectClient implements HttpClient {
  private live: Set<{ destroy(): void }> | undefined;
  private first: Socket | undefined;
  private readonly owned: Socket | undefined;

  constructor(
    private readonly opts: DirectOptions,
    private readonly ctx: Pick<CheckContext, 'signal' | 'step' | 'note'>,
  ) {
    // (its reads within the check's budget too: net/bounded.ts, once per socket)
    this.first = opts.first && capReads(opts.first, ctx.signal);
    if (opts.firstOwned) this.owned = this.first;
    else if (this.first) this.add(this.first);
  }

  /** Destroyed at the deadline and by close(). */
  add(x: { destroy(): void }): void {
    if (!this.live) {
      this.live = new Set();
      this.ctx.signal.addEventListener('abort', this, { once: true });
    }
    this.live.add(x);
  }

  /** The check's signal aborted: every connection goes. */
  handleEvent(): void {
    if (this.live) for (const x of this.live) x.destroy();
  }

  /**
   * The first connection given, when a request to `target` runs on it as it is (a TLS one, whose
   * handshake and assertions withDirect's kit did, or a plain one for an http URL).
   */
  private ready(target: URL): Socket | undefined {
    const given = this.first;
    if (given && ((given as TLSSocket).encrypted || target.protocol !== 'https:')) {
      this.first = undefined;
      return given;
    }
    return undefined;
  }

  /** The connection for a request to `target` that has none ready: a new one, or TLS on the first one given. */
  private async connect(target: URL): Promise<Socket> {
    const { opts, ctx } = this;
    const host = bareHost(target.hostname);
    const port = defaultPort(target);
    const given = this.first;
    this.first = undefined;
    if (target.protocol !== 'https:') {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const socket = capReads(createConnection({ host, port, lookup: opts.lookup }), ctx.signal);
      this.add(socket);
      return socket;
    }
    // TLS material first: no file I/O between a new connection and its handshake.
    const tls = await opts.tls();
    const servername = opts.assert.server_name ?? (isIP(host) ? undefined : host);
    // The handshake is the tls step: one that never completes is reported there, and its
    // failures in the words every TLS check uses (net/tls.ts).
    const secure = await ctx.step('tls', () => handshake(given, { ...tls, host, port, servername, lookup: opts.lookup }, ctx.signal));
    this.add(secure);
    try {
      assertCertificate(secure, opts.assert, ctx, opts.assert.server_name ?? host);
    } catch (err) {
      secure.destroy();
      throw err;
    }
    return secure;
  }

  send(request: HttpRequest): Promise<Answer> {
    const socket = this.ready(request.url);
    if (socket) return this.exchange(socket, request);
    return this.connect(request.url).then((s) => this.exchange(s, request));
  }

  private exchange(socket: Socket, { url, method, headers, body }: HttpRequest): Promise<Answer> {
    return request1({ url, method, headers, body, socket, live: socket === this.owned ? undefined : this }).then(answerOf, requestFailure);
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  /** close(), at once. */
  closeNow(): void {
    if (!this.live) return;
    this.ctx.signal.removeEventListener('abort', this);
    this.handleEvent();
  }
}

function answerOf(answer: Http1Answer): Answer {
  return new DirectAnswer(answer);
}

function requestFailure(err: unknown): never {
  throw directRequest(err, 'request', {});
}

/** An answer of the direct client: its body's failures in the words every client uses (step body). */
class DirectAnswer implements Answer {
  readonly statusCode: number;
  readonly headers: Headers;

  constructor(private readonly answer: Http1Answer) {
    this.statusCode = answer.statusCode;
    this.headers = answer.headers;
  }

  read(limit: number): Promise<{ data: Buffer; truncated: boolean }> {
    return this.answer.read(limit).catch(bodyFailure);
  }

  discard(): Promise<void> {
    return this.answer.discard(BODY_LIMIT).catch(bodyFailure);
  }
}

function bodyFailure(err: unknown): Promise<never> {
  return Promise.reject(directBody(err, 'body', {}));
}

/**
 * A `lookup` for the client's connections that answers `host` with one fixed address (other
 * names, such as redirect targets, are resolved as usual): all_addresses, one address at a time.
 */
export function pinnedLookup(host: string, address: Address): LookupFunction {
  const pinned = bareHost(host).toLowerCase();
  return ((hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    if (bareHost(hostname).toLowerCase() !== pinned) return nodeDns().lookup(hostname, options, callback as never);
    if (options?.all) return callback(null, [{ address: address.address, family: address.family }]);
    return callback(null, address.address, address.family);
  }) as LookupFunction;
}
