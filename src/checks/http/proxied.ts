/**
 * The proxied client: undici's ProxyAgent (absolute-URI requests to an http proxy for http://
 * URLs, as curl does; CONNECT tunnels for https://), loaded only for a check that goes through a
 * proxy. The first connection to the proxy is the one the check's tcp step opened. Every
 * connection is under the check's read budget, https connections to the server get the shared
 * TLS assertions, and everything is torn down at the deadline and by close().
 */
import type { Dispatcher } from 'undici';
import type { Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { capReads } from '../../net/bounded.js';
import { bareHost, hostPort } from '../../net/dial.js';
import { readCapped } from '../../net/http1.js';
import { envProxyFor, parseProxyUrl } from '../../net/proxy.js';
import { assertCertificate } from '../../net/tls.js';
import { CheckError, type CheckContext } from '../../core/contract.js';
import { basicAuthorization } from './auth.js';
import { proxiedBody, proxiedRequest } from './errors.js';
import type { Options } from './options.js';
import { BODY_LIMIT, type HttpClient, type Send } from './send.js';

export interface Route {
  /** The proxy URL without userinfo, or undefined for a direct connection. */
  proxy?: URL;
  /** `Basic ...` from the proxy URL's userinfo. */
  proxyAuth?: string;
  /** Where the proxy setting came from, for notes. */
  source?: string;
}

/** The proxy for this check: proxy_url, proxy_host, or the environment (curl's variables, NO_PROXY). */
export function routeFor(o: Options, target: URL, env: NodeJS.ProcessEnv): Route {
  let raw: string | undefined;
  let source: string | undefined;
  if (o.proxy_url !== undefined) [raw, source] = [o.proxy_url, 'proxy_url'];
  else if (o.proxy_host !== undefined) [raw, source] = [`http://${hostPort(o.proxy_host, o.proxy_port)}`, 'proxy_host'];
  else {
    const fromEnv = envProxyFor(target, env);
    if (fromEnv) [raw, source] = [fromEnv.url, fromEnv.variable];
  }
  if (raw === undefined) return {};
  let proxy: URL;
  try {
    proxy = parseProxyUrl(raw);
  } catch {
    throw new CheckError('proxy', `${source} is not a valid proxy URL`);
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new CheckError('proxy', `${source}: unsupported proxy scheme ${proxy.protocol.replace(':', '')} (http or https proxies only)`);
  }
  let proxyAuth: string | undefined;
  if (proxy.username || proxy.password) {
    proxyAuth = basicAuthorization(decodeURIComponent(proxy.username), decodeURIComponent(proxy.password));
    proxy.username = '';
    proxy.password = '';
  }
  return { proxy, proxyAuth, source };
}

/**
 * undici, loaded only for a check that goes through a proxy (requests without one use
 * node:http): at its first use, or before the deadlines start when the environment names a
 * proxy (the runner calls `load` then).
 */
const importUndici = () => import('undici');
type Undici = Awaited<ReturnType<typeof importUndici>>;
let loading: Promise<Undici> | undefined;
const driver = () => (loading ??= importUndici().then(async (undici) => (await parserReady(undici), undici)));
const PROXY_VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'];
export const preload = async (): Promise<void> => {
  if (PROXY_VARIABLES.some((v) => process.env[v])) await driver();
};

/**
 * Waits until undici's HTTP parser (llhttp, WebAssembly compiled when undici loads) is ready.
 * undici 6 awaits that compile after a new connection's socket is handed over, with no listener
 * on it yet: a server that closes the connection meanwhile (the first one in a process, about
 * 1 run in 3 on this machine) is never noticed and the request waits for its deadline. A
 * request on a client whose connector hands over an unconnected socket (no network) passes the
 * same await; its 'connect' event says the parser is there.
 */
async function parserReady(undici: Undici): Promise<void> {
  const { Socket } = await import('node:net');
  const client = new undici.Client('http://parser.invalid', { connect: (_opts, callback) => callback(null, new Socket()) });
  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.request({ path: '/', method: 'GET' }).catch(() => {});
  await connected;
  await client.destroy().catch(() => {});
}

type Connector = import('undici').buildConnector.connector;
type ConnectorSocket = Parameters<Parameters<Connector>[1]>[1];

export interface ProxiedOptions {
  route: Route & { proxy: URL };
  /** Node's TLS options for the server (https URLs, and redirects to them). */
  tls: ConnectionOptions;
  /** Node's TLS options for an https proxy. */
  proxyTls: ConnectionOptions;
  /** The TLS assertions made on every https connection to the server, and server_name. */
  assert: Parameters<typeof assertCertificate>[1] & { server_name?: string };
  /** The tcp step's connection to the proxy: the first connection to the proxy runs on it. */
  first?: Socket;
}

export async function proxiedClient(opts: ProxiedOptions, ctx: CheckContext): Promise<HttpClient> {
  const undici = await driver();
  const { proxy, proxyAuth } = opts.route;
  const proxyPort = Number(proxy.port);
  let first = opts.first;
  // undici's own timeouts are a backstop, a little after the deadline: at the deadline the
  // runner reports "timed out after Ns" and ctx.signal tears the dispatcher down.
  const timeout = Math.max(1, Math.round(ctx.timeoutMs)) + 500;
  // undici derives SNI and the name to verify from each request's host (redirects may change
  // it); a fixed servername only when server_name asks for one.
  const requestTls = { ...opts.tls, servername: opts.assert.server_name, timeout };
  const timeouts = { headersTimeout: timeout, bodyTimeout: timeout };

  /**
   * A connector that makes the shared TLS assertions (min_tls_version, min_cert_days, the
   * certificate noted with its days left) on every connection to an https origin, before
   * anything is sent on it. Connections to the proxy (plain requests through it, or the
   * socket a tunnel runs in) are not the server's and are left alone.
   */
  const asserting = (connect: Connector): Connector =>
    ((o, callback) => {
      const finish = (err: Error | null, socket: ConnectorSocket) => {
        if (err || !socket || o.protocol !== 'https:' || !('getPeerCertificate' in socket)) return (callback as (...a: unknown[]) => void)(err, socket);
        try {
          assertCertificate(socket as TLSSocket, opts.assert, ctx, opts.assert.server_name ?? bareHost(o.hostname));
        } catch (failure) {
          socket.destroy();
          return callback(failure as Error, null);
        }
        callback(null, socket);
      };
      if (o.protocol !== 'https:') return connect(o, finish as never);
      // The connection and its TLS handshake are the tls step: a handshake that never
      // completes is reported there, not as a request that timed out.
      void ctx
        .step('tls', () => new Promise<void>((done) => connect(o, ((err: Error | null, socket: never) => (done(), finish(err, socket))) as never)))
        .catch(() => {});
    }) as Connector;

  /**
   * A connector whose sockets are under the check's read budget (net/bounded.ts) from their
   * first byte: the connections to the proxy, both the one a CONNECT tunnel runs in and the one
   * plain requests go through. `tunnelTls: false` leaves out TLS sockets, which in the factory
   * below are only ever TLS to the server inside a tunnel whose socket is counted already. The
   * first connection to the proxy is the tcp step's (with TLS on it for an https proxy).
   */
  const counted = (connect: Connector, tunnelTls: boolean): Connector =>
    ((o, callback) => {
      const done = ((err: Error | null, socket: ConnectorSocket) => {
        if (socket && (tunnelTls || (socket as { encrypted?: boolean }).encrypted !== true)) capReads(socket, ctx.signal);
        (callback as (...a: unknown[]) => void)(err, socket);
      }) as never;
      const given = first;
      if (given && bareHost(o.hostname) === bareHost(proxy.hostname) && Number(o.port) === proxyPort) {
        first = undefined;
        if (o.protocol === 'https:') return connect({ ...o, httpSocket: given } as never, done);
        return (done as (err: null, socket: Socket) => void)(null, given);
      }
      return connect(o, done);
    }) as Connector;

  const base = undici.buildConnector(requestTls);
  const factory = (origin: string | URL, o: object) => {
    const given = (o as { connect?: unknown }).connect;
    return new undici.Pool(origin, { ...o, ...timeouts, connect: asserting(typeof given === 'function' ? counted(given as Connector, false) : base) });
  };
  const dispatcher = new undici.ProxyAgent({
    uri: proxy.href,
    token: proxyAuth,
    proxyTunnel: false, // plain http:// requests go to an http proxy as absolute-URI requests, as curl does
    requestTls,
    proxyTls: { ...opts.proxyTls, timeout },
    factory,
    // the proxy connection CONNECT tunnels run in
    clientFactory: (origin: string | URL, o: { connect: Connector }) => new undici.Pool(origin, { ...o, connect: counted(o.connect, true) }),
    ...timeouts,
  } as ConstructorParameters<typeof undici.ProxyAgent>[0]);
  // At the deadline, tear everything down: pending requests and body reads fail at once.
  const onAbort = () => {
    first?.destroy();
    void dispatcher.destroy().catch(() => {});
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  const send: Send = async ({ url, method, headers, body }) => {
    const r = await undici
      .request(url, { dispatcher, method: method as Dispatcher.HttpMethod, headers, body, signal: ctx.signal })
      .catch((err: unknown) => Promise.reject(ctx.signal.aborted ? err : proxiedRequest(err, 'request', { minVersion: opts.assert.min_tls_version })));
    const bodyFailure = (err: unknown) => Promise.reject(ctx.signal.aborted ? err : proxiedBody(err, 'body', {}));
    return {
      statusCode: r.statusCode,
      headers: r.headers,
      read: (limit) => readCapped(r.body as AsyncIterable<Buffer>, limit).catch(bodyFailure),
      // undici 6 accepts `signal` here; its typings do not say so.
      discard: () => r.body.dump({ limit: BODY_LIMIT, signal: ctx.signal } as { limit: number }).catch(bodyFailure),
    };
  };

  return {
    send,
    close: async () => {
      ctx.signal.removeEventListener('abort', onAbort);
      first?.destroy();
      await dispatcher.destroy().catch(() => {});
    },
  };
}
