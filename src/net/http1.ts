/**
 * One HTTP/1.1 exchange with Node's own client (`node:http`: the native llhttp parser, nothing
 * to load or compile), over a socket the caller opened (a plain connection, or a TLS one whose
 * handshake and certificate were checked already). No agent, no keep-alive: the connection is
 * the request's and is closed with it.
 */
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { bareHost } from './dial.js';

let http: typeof import('node:http') | undefined;
/** node:http, looked up once (process.getBuiltinModule costs a few thousand instructions a call). */
const nodeHttp = () => (http ??= process.getBuiltinModule('node:http'));
const nodeStream = () => process.getBuiltinModule('node:stream');

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
  /** Gets the request as soon as it exists, so that the caller can destroy it (a deadline). */
  live?: { add(req: ClientRequest): unknown };
}

function hasHeader(headers: OutgoingHttpHeaders, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/**
 * Sends the request; resolves with the answer once its head is in (the body is left to read).
 * (No closure per request is named: the build keeps function names, and naming one costs a
 * defineProperty and a map of its own, per request. The callbacks are methods of one object.)
 */
export function request1(r: Http1Request): Promise<Http1Answer> {
  return new Promise<Http1Answer>((resolve, reject) => {
    const https = r.url.protocol === 'https:';
    let headers: OutgoingHttpHeaders = r.headers;
    // Node frames a body by itself only for methods that usually have one: say its length always.
    if (r.body !== undefined && !hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) {
      headers = { ...headers, 'Content-Length': String(Buffer.byteLength(r.body)) };
    }
    const socket = r.socket;
    let req: ClientRequest;
    const on = {
      // No agent: the request runs on the given socket and closes it when done.
      createConnection() {
        return socket;
      },
      // node:http waits forever on a socket that closed before it was handed over (a server that
      // accepts and hangs up at once, before the caller's await returned): that is a reset.
      hungUp() {
        req.destroy();
        reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
      response(res: IncomingMessage) {
        socket.removeListener('close', on.hungUp);
        resolve(new Answer(res));
      },
    };
    try {
      req = nodeHttp().request({
        host: bareHost(r.url.hostname),
        port: Number(r.url.port) || (https ? 443 : 80),
        defaultPort: https ? 443 : 80,
        path: `${r.url.pathname}${r.url.search}`,
        method: r.method,
        headers,
        createConnection: on.createConnection,
      });
    } catch (err) {
      socket.destroy();
      return reject(err);
    }
    r.live?.add(req);
    req.on('error', reject); // (also later: a failure once the answer is in is the body's to report)
    // (on, not once: a socket closes once, a request has one response, and once's wrappers cost)
    if (socket.destroyed || socket.closed) on.hungUp();
    else socket.on('close', on.hungUp);
    req.on('response', on.response);
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
}

/** An answer's head, and its body to read or drop. */
class Answer implements Http1Answer {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]> = {};

  constructor(private readonly res: IncomingMessage) {
    this.statusCode = res.statusCode ?? 0;
    // Lower-case names, values in order, a repeated header as a list: node:http's
    // headersDistinct, without building its lists for the headers sent once.
    const raw = res.rawHeaders;
    const headers = this.headers;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      // (a header named __proto__ is no header of ours: assigning it would set the prototype)
      if (name === '__proto__') continue;
      const value = raw[i + 1]!;
      const cur = Object.hasOwn(headers, name) ? headers[name] : undefined;
      if (cur === undefined) headers[name] = value;
      else if (Array.isArray(cur)) cur.push(value);
      else headers[name] = [cur, value];
    }
  }

  read(limit: number): Promise<{ data: Buffer; truncated: boolean }> {
    return readCapped(this.res as AsyncIterable<Buffer>, limit);
  }

  discard(limit: number): Promise<void> {
    const res = this.res;
    // The whole message is in already (the usual case: a short body that came with the head):
    // nothing about it can fail any more, and nothing need be read; what it holds unread goes
    // with its connection. (Over the limit, the connection is closed, as drain does.)
    if (res.complete && !res.readableDidRead) {
      if (res.readableLength >= limit) res.destroy();
      return Promise.resolve();
    }
    return drain(res, limit);
  }
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

/**
 * Reads and drops a body, at most `limit` bytes (then the stream, and its connection, is
 * destroyed). What an async iterator over it would do, without one: it settles as the stream
 * does (stream.finished), with the stream's error, or a premature close.
 */
function drain(res: IncomingMessage, limit: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let size = 0;
    const on = {
      data(chunk: Buffer | string) {
        size += chunk.length;
        if (size < limit) return;
        res.off('data', on.data);
        stop();
        res.destroy();
        resolve();
      },
      done(err?: Error | null) {
        res.off('data', on.data);
        if (err) reject(err);
        else resolve();
      },
    };
    const stop = nodeStream().finished(res, { writable: false }, on.done);
    res.on('data', on.data);
  });
}
