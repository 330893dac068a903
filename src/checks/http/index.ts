/**
 * http (alias https): a TCP connection to the URL's host:port (or to the proxy's), the `tcp`
 * step, then one HTTP(S) request on that same connection (TLS on it first for https), with
 * node:http (direct.ts) or, through a proxy, with undici (proxied.ts); passes when the status is
 * the expected one (and, when asked, the headers, the body and the time: expect.ts).
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { safeUrl } from '../../secrets/url.js';
import { bareHost, connectAddress, connectTcp, hostPort, resolveHost } from '../../net/dial.js';
import { describeError } from '../../net/errors.js';
import { parseProxyUrl } from '../../net/proxy.js';
import { secureOptions } from '../../net/tls.js';
import { CheckError, defineCheck, type CheckContext } from '../../core/contract.js';
import { eachAddress, now, readTls } from '../kit/index.js';
import { directClient, pinnedLookup, withDirect } from './direct.js';
import { exchange } from './exchange.js';
import { expectAnswer } from './expect.js';
import { options, type Options } from './options.js';
import { preload, proxiedClient, routeFor, type Route } from './proxied.js';
import { defaultPort, type HttpClient } from './send.js';

/** Whether these options ask for TLS material of their own (read, and checked, even for an http:// URL). */
const hasTlsFiles = (o: Options) => o.ca_file !== undefined || o.client_cert !== undefined || o.client_key !== undefined;

export const http = defineCheck({
  load: preload,
  type: 'http',
  summary: 'an HTTP(S) request gets the expected status',
  url: { schemes: ['http', 'https'], options: (raw) => ({ url: raw }) },
  // a body (1 MiB) per hop, redirects included, and their headers
  maxReadBytes: 16 * 1024 * 1024,
  options,
  // (URL userinfo, credential-looking query values, sensitive headers and proxy_url's userinfo
  // are covered by the generic rules in config/secrets.ts)
  name: (o) => `http:${safeUrl(o.url)}`,
  // An https URL, a proxy set in the options (the options are prepared for its TLS), or TLS files
  // to read: the runner reads the trust store before the deadlines start. A plain http:// check
  // never reads it; one that meets TLS anyway (a redirect to https, an https proxy from the
  // environment) reads it then, inside the check, once per process (net/trust.ts).
  usesTls: (o) => /^https:/i.test(o.url) || o.proxy_url !== undefined || o.proxy_host !== undefined || hasTlsFiles(o),
  // conn-check's steps: a TCP pre-check (to the proxy when proxy_host is set), then the request
  // (its name ends with a colon); the URL as written, query string included
  legacyNames: (o) => {
    const u = new URL(o.url);
    const tcp = o.proxy_host !== undefined ? `${o.proxy_host}:${o.proxy_port}` : `${u.hostname.replace(/^\[|\]$/g, '')}:${defaultPort(u)}`;
    return [`http:${o.url}:tcp:${tcp}`, `http:${o.url}:`];
  },
  target: (o) => safeUrl(o.url),
  // The first connection: to the proxy when one is set in the options (a proxy from the
  // environment, and redirect targets, are only known at run time).
  egress(o) {
    if (o.proxy_url !== undefined) {
      const p = parseProxyUrl(o.proxy_url);
      return [{ protocol: 'tcp', host: bareHost(p.hostname), port: defaultPort(p) }];
    }
    if (o.proxy_host !== undefined) return [{ protocol: 'tcp', host: bareHost(o.proxy_host), port: o.proxy_port }];
    const u = new URL(o.url);
    return [{ protocol: 'tcp', host: bareHost(u.hostname), port: defaultPort(u) }];
  },
  async run(o, ctx) {
    const original = new URL(o.url);
    if (original.username || original.password) {
      // URL userinfo is basic auth (as curl and python-requests do), unless another auth is set.
      if (!o.auth && !o.digest_auth && !o.bearer_token) {
        o = { ...o, auth: { username: decodeURIComponent(original.username), password: decodeURIComponent(original.password) } };
      }
      original.username = '';
      original.password = '';
    }
    if (o.params) {
      for (const [k, v] of Object.entries(o.params)) {
        for (const value of Array.isArray(v) ? v : [v]) original.searchParams.append(k, value);
      }
    }
    const route = routeFor(o, original, ctx.env);
    if (o.all_addresses && route.proxy) {
      throw new CheckError('proxy', `all_addresses cannot be used through a proxy (${route.source} is set: add the host to NO_PROXY)`);
    }

    // TLS material (the kit's readTls, step tls): read before any connection when the URL is
    // https or files are named (their failure is at tls, no connection made, as for every type),
    // otherwise only when a request meets https (before that connection). Through a proxy it
    // is read while the tcp step to the proxy runs, and awaited after it.
    if (o.all_addresses) {
      let material: Promise<ConnectionOptions> | undefined;
      const tls = () => (material ??= readTls(ctx, { host: original.hostname, tls: o }));
      if (original.protocol === 'https:' || hasTlsFiles(o)) await tls();
      return everyAddress(o, original, tls, ctx);
    }

    // The tcp step (conn-check's pre-check, to the proxy when there is one) opens the connection
    // the request then runs on. Direct: the kit's (withService: the TLS material, the tcp step,
    // for https the handshake); the time taken counts from the connection, its handshake
    // included (status N after M ms, max_response_time), as it did before the kit.
    if (!route.proxy) {
      return withDirect(original, { tls: o, readFirst: hasTlsFiles(o) }, ctx, (client, service) => request(client, o, original, false, ctx, service.connectedAt));
    }
    let client: HttpClient | undefined;
    try {
      const early = secureOptions(o, original.hostname, ctx);
      early.catch(() => {});
      client = await proxied(o, route as Route & { proxy: URL }, early, ctx);
      await request(client, o, original, true, ctx);
    } finally {
      await client?.close();
    }
  },
});

/** The exchange and the expectations over one client; the time taken counts from `started` (default: now). */
async function request(client: HttpClient, o: Options, original: URL, viaProxy: boolean, ctx: CheckContext, started = now()): Promise<void> {
  const answer = await exchange(client, o, original, viaProxy, ctx);
  await expectAnswer(answer, o, started, ctx);
}

/**
 * Through a proxy: the tcp step to the proxy, then undici's ProxyAgent, its first connection to
 * the proxy being that one.
 */
async function proxied(o: Options, route: Route & { proxy: URL }, material: Promise<ConnectionOptions>, ctx: CheckContext): Promise<HttpClient> {
  const host = route.proxy.hostname;
  const port = defaultPort(route.proxy);
  const { socket } = await ctx.step('tcp', () => connectTcp(host, port, ctx.signal)).catch((err: unknown) => {
    throw err instanceof CheckError ? new CheckError(err.step, `proxy ${hostPort(host, port)}: ${err.message}`) : err;
  });
  try {
    ctx.note(`via proxy ${hostPort(host, port)} (${route.source})`);
    const tls = await ctx.step('tls', () => material);
    // A Proxy-Authorization header given in `headers` goes to the proxy (undici refuses it on requests).
    if (!route.proxyAuth) {
      const given = Object.entries(o.headers ?? {}).find(([k]) => k.toLowerCase() === 'proxy-authorization')?.[1];
      if (given !== undefined) route.proxyAuth = Array.isArray(given) ? given[0] : given;
    }
    const proxyTls = await ctx.step('tls', () => secureOptions({ disable_tls_verification: o.disable_tls_verification, ca_file: o.ca_file }, host, ctx));
    return await proxiedClient({ route, tls, proxyTls, assert: o, first: socket }, ctx);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * all_addresses: the request at every resolved address of the URL's host, each over its own
 * connection (the tcp step's, then one per redirect) pinned to that address (SNI, verification
 * and the Host header stay the host name's).
 */
async function everyAddress(o: Options, original: URL, tls: () => Promise<ConnectionOptions>, ctx: CheckContext): Promise<void> {
  const addresses = await ctx.step('resolve', () => resolveHost(original.hostname, ctx.signal));
  const port = defaultPort(original);
  await eachAddress(addresses, ctx, async (address, note) => {
    let socket: Socket;
    try {
      socket = await connectAddress(address, port, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new CheckError('tcp', describeError(err));
    }
    const client = directClient({ tls, assert: o, first: socket, lookup: pinnedLookup(original.hostname, address) }, { ...ctx, note });
    try {
      await request(client, o, original, false, { ...ctx, note });
    } finally {
      await client.close();
    }
  });
}
