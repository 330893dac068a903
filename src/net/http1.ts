/**
 * One HTTP/1.1 exchange with Node's own client (`node:http`: the native llhttp parser, nothing
 * to load or compile), over a socket the caller opened (a plain connection, or a TLS one whose
 * handshake and certificate were checked already). No agent, no keep-alive: the connection is
 * the request's and is closed with it.
 */
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { bareHost } from './dial.js';

const nodeHttp = () => process.getBuiltinModule('node:http');

export interface Http1Answer {
  statusCode: number;
  /** Lower-case names; a header sent several times is a list (set-cookie and the others alike). */
  headers: Record<string, string | string[]>;
  /** Reads the body, at most `limit` bytes (the connection is closed when there is more). */
  read(limit: number): Promise<{ data: Buffer; truncated: boolean }>;
  /** Reads and drops the body, at most `limit` bytes (the connection is closed when there is more). */
  discard(limit: number): Promise<void>;
}

export interface Http1Request {
  url: URL;
  method: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  /** The connection to send on (connected, or connecting: its errors become the request's). */
  socket: Socket;
  /** Called with the request as soon as it exists, so that the caller can destroy it (a deadline). */
  onRequest?(req: ClientRequest): void;
}

function hasHeader(headers: OutgoingHttpHeaders, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** Sends the request; resolves with the answer once its head is in (the body is left to read). */
export function request1(r: Http1Request): Promise<Http1Answer> {
  return new Promise<Http1Answer>((resolve, reject) => {
    const https = r.url.protocol === 'https:';
    const headers: OutgoingHttpHeaders = { ...r.headers };
    // Node frames a body by itself only for methods that usually have one: say its length always.
    if (r.body !== undefined && !hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) {
      headers['Content-Length'] = String(Buffer.byteLength(r.body));
    }
    let req: ClientRequest;
    try {
      req = nodeHttp().request({
        host: bareHost(r.url.hostname),
        port: Number(r.url.port) || (https ? 443 : 80),
        defaultPort: https ? 443 : 80,
        path: `${r.url.pathname}${r.url.search}`,
        method: r.method,
        headers,
        // No agent: the request runs on the given socket and closes it when done.
        createConnection: () => r.socket,
      });
    } catch (err) {
      r.socket.destroy();
      return reject(err);
    }
    r.onRequest?.(req);
    req.on('error', reject); // (also later: a failure once the answer is in is the body's to report)
    // node:http waits forever on a socket that closed before it was handed over (a server that
    // accepts and hangs up at once, before the caller's await returned): that is a reset.
    const hungUp = () => {
      req.destroy();
      reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    };
    if (r.socket.destroyed || r.socket.closed) hungUp();
    else r.socket.once('close', hungUp);
    req.once('response', (res: IncomingMessage) => {
      r.socket.off('close', hungUp);
      const headers: Record<string, string | string[]> = {};
      for (const [name, values] of Object.entries(res.headersDistinct)) {
        if (values) headers[name] = values.length === 1 ? values[0]! : values;
      }
      resolve({ statusCode: res.statusCode ?? 0, headers, read: (limit) => readCapped(res as AsyncIterable<Buffer>, limit), discard: (limit) => drain(res, limit) });
    });
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
}

/** Reads a body (node:http's or undici's), at most `limit` bytes; leaving early destroys the stream and its connection. */
export async function readCapped(body: AsyncIterable<Buffer>, limit: number): Promise<{ data: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      truncated = true;
      break;
    }
  }
  return { data: Buffer.concat(chunks).subarray(0, limit), truncated };
}

async function drain(res: IncomingMessage, limit: number): Promise<void> {
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size >= limit) break;
  }
}
