/**
 * Real HTTP servers for the http check's tests, all on 127.0.0.1 and free ports:
 * - an HTTP (or HTTPS) server with routes for status codes, redirects, an echo of the
 *   request, basic- and digest-protected routes (the digest side verifies the response hash),
 *   a bearer-protected route, bodies, delays and a route that never answers;
 * - a forward proxy (absolute-URI requests for http://, CONNECT tunnels for https://),
 *   optionally requiring Proxy-Authorization, that records what it saw;
 * - a TCP server that accepts connections and never says anything.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { started, trackSockets } from './listen.js';

export interface SeenRequest {
  method: string;
  url: string;
  path: string;
  query: Record<string, string[]>;
  headers: Record<string, string[]>;
  body: string;
  cookies: Record<string, string>;
}

export const BASIC_USER = 'alice';
export const BASIC_PASSWORD = 'b4sic-s3cret-pw';
export const DIGEST_USER = 'bob';
export const DIGEST_PASSWORD = 'd1gest-s3cret-pw';
export const BEARER_TOKEN = 'tok-9f8e7d6c5b4a';
export const BODY_TEXT = 'hello from the conn-check test server, build 1.2.3\n';

export interface TestHttpServer {
  port: number;
  /** http(s)://127.0.0.1:PORT + path */
  url(path?: string): string;
  /** Every request the server received (echo or not), in order. */
  seen: SeenRequest[];
  /** TCP connections the server accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (data += d));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function parseDigest(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/gi;
  for (const m of header.replace(/^Digest\s+/i, '').matchAll(re)) out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The server side of HTTP Digest (RFC 7616, qop=auth): challenge, then verify the response hash. */
class DigestVerifier {
  private readonly nonces = new Set<string>();
  private readonly opaque = randomBytes(8).toString('hex');
  constructor(
    private readonly realm: string,
    private readonly algorithm: 'MD5' | 'SHA-256',
  ) {}

  challenge(): string {
    const nonce = randomBytes(16).toString('hex');
    this.nonces.add(nonce);
    return `Digest realm="${this.realm}", qop="auth", algorithm=${this.algorithm}, nonce="${nonce}", opaque="${this.opaque}"`;
  }

  verify(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (!header || !/^Digest\s/i.test(header)) return false;
    const p = parseDigest(header);
    if (p.username !== DIGEST_USER || p.realm !== this.realm || !p.nonce || !this.nonces.has(p.nonce)) return false;
    if ((p.algorithm ?? 'MD5').toUpperCase() !== this.algorithm || p.opaque !== this.opaque) return false;
    if (p.uri !== req.url || p.qop !== 'auth' || !p.nc || !p.cnonce || !p.response) return false;
    const H = (s: string) => createHash(this.algorithm === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
    const ha1 = H(`${DIGEST_USER}:${this.realm}:${DIGEST_PASSWORD}`);
    const ha2 = H(`${req.method}:${p.uri}`);
    const expected = H(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
    return safeEqual(expected, p.response);
  }
}

function handler(seen: SeenRequest[], base: () => string) {
  const md5 = new DigestVerifier('conn-check md5', 'MD5');
  const sha = new DigestVerifier('conn-check sha', 'SHA-256');
  return async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', base());
    const body = await readBody(req);
    const query: Record<string, string[]> = {};
    for (const [k, v] of u.searchParams) (query[k] ??= []).push(v);
    const record: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      path: u.pathname,
      query,
      headers: req.headersDistinct as Record<string, string[]>,
      body,
      cookies: parseCookies(req.headers.cookie),
    };
    seen.push(record);
    const send = (status: number, text = '', headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(text);
    };
    const path = u.pathname;
    let m: RegExpExecArray | null;
    if (path === '/ok') return send(200, 'ok\n');
    if ((m = /^\/status\/(\d{3})$/.exec(path))) return send(Number(m[1]), '');
    if (path === '/redirect') return send(302, '', { location: '/ok' });
    if (path === '/redirect-abs') return send(Number(u.searchParams.get('code') ?? 302), '', { location: u.searchParams.get('to') ?? '/ok' });
    if (path === '/redirect-loop') return send(302, '', { location: '/redirect-loop' });
    if (path === '/see-other') return send(303, '', { location: '/echo' });
    if (path === '/echo') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(record));
    }
    if (path === '/body') return send(200, BODY_TEXT);
    if (path === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      for (let i = 0; i < 40; i++) res.write(chunk); // 2.5 MiB of "a"
      return res.end('needle');
    }
    if (path === '/delay') {
      const t = setTimeout(() => send(200, 'late\n'), Number(u.searchParams.get('ms') ?? 100));
      res.on('close', () => clearTimeout(t));
      return;
    }
    if (path === '/hang') return; // never answers: no headers
    if (path === '/hang-body') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      return; // the body never ends
    }
    if (path === '/basic') {
      const expected = `Basic ${Buffer.from(`${BASIC_USER}:${BASIC_PASSWORD}`).toString('base64')}`;
      if (req.headers.authorization && safeEqual(req.headers.authorization, expected)) return send(200, 'welcome\n');
      return send(401, 'no\n', { 'www-authenticate': 'Basic realm="conn-check"' });
    }
    if (path === '/bearer') {
      if (req.headers.authorization === `Bearer ${BEARER_TOKEN}`) return send(200, 'welcome\n');
      return send(401, 'no\n', { 'www-authenticate': 'Bearer realm="conn-check"' });
    }
    if (path === '/digest/md5' || path === '/digest/sha256') {
      const verifier = path.endsWith('md5') ? md5 : sha;
      if (verifier.verify(req)) return send(200, 'welcome\n');
      return send(401, 'no\n', { 'www-authenticate': verifier.challenge() });
    }
    return send(404, 'not found\n');
  };
}

async function listen(server: HttpServer | NetServer): Promise<number> {
  await started(server, (done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as { port: number }).port;
}

function closer(server: HttpServer | NetServer, sockets: Set<Socket | Duplex>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
      (server as HttpServer).closeAllConnections?.();
    });
}

/** The test HTTP server; with `tls` (a cert and key), the same routes over HTTPS. */
export async function startHttpServer(tls?: { cert: string; key: string }): Promise<TestHttpServer> {
  const seen: SeenRequest[] = [];
  let port = 0;
  const scheme = tls ? 'https' : 'http';
  const h = handler(seen, () => `${scheme}://127.0.0.1:${port}`);
  const server: HttpServer = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, h) : createHttpServer(h);
  server.on('tlsClientError', () => {}); // clients that refuse our certificate
  const { sockets } = trackSockets(server);
  if (tls) {
    server.on('secureConnection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
  }
  let connections = 0;
  server.on('connection', () => connections++);
  port = await listen(server);
  return {
    port,
    url: (path = '/') => `${scheme}://127.0.0.1:${port}${path}`,
    seen,
    get connections() {
      return connections;
    },
    close: closer(server, sockets),
  };
}

export interface ProxySeen {
  method: string;
  /** The absolute URL (plain proxying) or host:port (CONNECT). */
  target: string;
  /** The Proxy-Authorization header the proxy received, if any. */
  proxyAuthorization?: string;
}

export interface TestProxy {
  port: number;
  url: string;
  seen: ProxySeen[];
  /** TCP connections the proxy accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/**
 * A forward proxy: plain HTTP proxying for absolute-URI requests, CONNECT tunnels for the rest.
 * With `auth`, it answers 407 unless Proxy-Authorization is Basic user:password. With `tls`,
 * it is an HTTPS proxy (TLS between the client and the proxy). It only forwards to loopback.
 */
export async function startProxy(opts: { auth?: { user: string; password: string }; tls?: { cert: string; key: string } } = {}): Promise<TestProxy> {
  const seen: ProxySeen[] = [];
  const expected = opts.auth ? `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}` : undefined;
  const authorized = (req: IncomingMessage) => !expected || req.headers['proxy-authorization'] === expected;
  const tunnels = new Set<Socket | Duplex>();

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method ?? '', target: req.url ?? '', proxyAuthorization: req.headers['proxy-authorization'] });
    if (!authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="proxy"', 'content-type': 'text/plain' });
      return res.end('proxy authentication required\n');
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400);
      return res.end('absolute URL expected\n');
    }
    if (target.protocol !== 'http:' || !LOOPBACK.has(target.hostname)) {
      res.writeHead(403);
      return res.end('loopback http only\n');
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(
      { host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port) || 80, method: req.method, path: `${target.pathname}${target.search}`, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };

  const onConnect = (req: IncomingMessage, client: Duplex, head: Buffer) => {
    seen.push({ method: 'CONNECT', target: req.url ?? '', proxyAuthorization: req.headers['proxy-authorization'] });
    tunnels.add(client);
    client.on('close', () => tunnels.delete(client));
    client.on('error', () => {});
    if (!authorized(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    const host = m?.[1]?.replace(/^\[|\]$/g, '');
    if (!m || !host || !LOOPBACK.has(host)) {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = netConnect({ host, port: Number(m[2]) });
    tunnels.add(upstream);
    upstream.on('close', () => tunnels.delete(upstream));
    upstream.on('error', () => client.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    client.on('close', () => upstream.destroy());
  };

  const server: HttpServer = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createHttpServer(onRequest);
  server.on('connect', onConnect);
  server.on('tlsClientError', () => {});
  const { sockets } = trackSockets(server);
  let connections = 0;
  server.on('connection', () => connections++);
  const port = await listen(server);
  const close = closer(server, sockets);
  return {
    port,
    url: `${opts.tls ? 'https' : 'http'}://${opts.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    seen,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const t of tunnels) t.destroy();
      await close();
    },
  };
}

/** Accepts TCP connections and never sends a byte (until closed). */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createNetServer((s) => s.on('error', () => {}));
  const { sockets } = trackSockets(server);
  const port = await listen(server);
  return { port, close: closer(server, sockets) };
}
