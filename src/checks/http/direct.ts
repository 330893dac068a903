/**
 * The direct client: node:http (net/http1.ts), one connection per request, no agent. The first
 * request can run on a connection the caller opened already (the http check's tcp step: one
 * connection per check, not a probe and then the request); every other one opens its own (a
 * redirect's target, the digest round trip). On an https connection the handshake is the tls
 * step and the certificate is asserted (net/tls.ts) before anything is sent on it. Every
 * connection is destroyed at the deadline and by close().
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { createConnection, isIP, type LookupFunction, type Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { capReads } from '../../net/bounded.js';
import { nodeDns } from '../../net/builtins.js';
import { bareHost, connectTcp, showAddress, type Address } from '../../net/dial.js';
import { request1 } from '../../net/http1.js';
import { assertCertificate, handshake } from '../../net/tls.js';
import type { CheckContext } from '../../core/contract.js';
import type { TlsOptions } from '../../core/options.js';
import { directBody, directRequest } from './errors.js';
import { BODY_LIMIT, defaultPort, type HttpClient, type Send } from './send.js';

export interface DirectOptions {
  /**
   * Node's TLS options for https connections (the kit's readTls), asked for before an https
   * connection is made (connectDirect: before its tcp step): a check whose requests stay on
   * http never reads the trust store. Its failure is at step tls.
   */
  tls(): Promise<ConnectionOptions>;
  /** The TLS assertions made on every https connection, and server_name (SNI and the name verified). */
  assert: Partial<Pick<TlsOptions, 'disable_tls_verification' | 'min_tls_version' | 'min_cert_days' | 'server_name'>>;
  /** How host names are resolved for the connections the client opens (all_addresses pins one). */
  lookup?: LookupFunction;
  /**
   * A connection already open (connected) to the first request's host and port:
   * that request runs on it (over TLS for an https URL) instead of opening another.
   */
  first?: Socket;
}

/**
 * The tcp step to `url`'s host and port (every resolved address at once, the first that accepts;
 * noted as `connected to ADDRESS`), and a direct client whose first request runs on that
 * connection: one connection for a check that sends one request. For an https URL the TLS
 * material (`opts.tls()`, the kit's readTls: step tls) is read first, before the tcp step, as
 * every check on the kit does: an unreadable ca_file fails at tls with no connection made.
 */
export async function connectDirect(url: URL, opts: Omit<DirectOptions, 'first'>, ctx: Pick<CheckContext, 'signal' | 'step' | 'note'>): Promise<HttpClient> {
  let { tls } = opts;
  if (url.protocol === 'https:') {
    const ready = await tls();
    tls = () => Promise.resolve(ready);
  }
  const { socket, address } = await ctx.step('tcp', () => connectTcp(url.hostname, defaultPort(url), ctx.signal));
  ctx.note(`connected to ${showAddress(address)}`);
  return directClient({ ...opts, tls, first: socket }, ctx);
}

/** The direct client: `first` (when given) for the first request, a new connection for each other. */
export function directClient(opts: DirectOptions, ctx: Pick<CheckContext, 'signal' | 'step' | 'note'>): HttpClient {
  const live = new Set<{ destroy(): void }>();
  // (its reads within the check's budget too: net/bounded.ts, once per socket)
  let first = opts.first && capReads(opts.first, ctx.signal);
  if (first) live.add(first);
  const onAbort = () => {
    for (const x of live) x.destroy();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  /** The connection for a request to `target`: the first one given, or a new one. */
  const connect = async (target: URL): Promise<Socket> => {
    const host = bareHost(target.hostname);
    const port = defaultPort(target);
    const given = first;
    first = undefined;
    if (target.protocol !== 'https:') {
      if (given) return given;
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const socket = capReads(createConnection({ host, port, lookup: opts.lookup }), ctx.signal);
      live.add(socket);
      return socket;
    }
    // TLS material first: no file I/O between a new connection and its handshake.
    const tls = await opts.tls();
    const servername = opts.assert.server_name ?? (isIP(host) ? undefined : host);
    // The handshake is the tls step: one that never completes is reported there, and its
    // failures in the words every TLS check uses (net/tls.ts).
    const secure = await ctx.step('tls', () => handshake(given, { ...tls, host, port, servername, lookup: opts.lookup }, ctx.signal));
    live.add(secure);
    try {
      assertCertificate(secure, opts.assert, ctx, opts.assert.server_name ?? host);
    } catch (err) {
      secure.destroy();
      throw err;
    }
    return secure;
  };

  const send: Send = async ({ url, method, headers, body }) => {
    const socket = await connect(url);
    const answer = await request1({ url, method, headers, body, socket, onRequest: (req) => live.add(req) }).catch((err: unknown) => {
      throw directRequest(err, 'request', {});
    });
    return {
      statusCode: answer.statusCode,
      headers: answer.headers,
      read: (limit) => answer.read(limit).catch((err: unknown) => Promise.reject(directBody(err, 'body', {}))),
      discard: () => answer.discard(BODY_LIMIT).catch((err: unknown) => Promise.reject(directBody(err, 'body', {}))),
    };
  };

  return {
    send,
    close: async () => {
      ctx.signal.removeEventListener('abort', onAbort);
      onAbort();
    },
  };
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
