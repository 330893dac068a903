/**
 * Misbehaving (and minimal well-behaved) peers on loopback for check tests and fault matrices.
 * Each start function listens on a free port of `host` (127.0.0.1 unless given) and returns
 * { host, port, close() }; close() destroys every connection it still holds, so nothing of it
 * keeps the test process alive.
 */
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { after } from 'node:test';
import { listenOn, started } from './listen.js';

export interface Peer {
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface TcpPeer extends Peer {
  /** Connections accepted so far. */
  readonly accepted: number;
}

export interface UdpPeer extends Peer {
  /** Datagrams received so far (copies). */
  readonly received: Buffer[];
}

/**
 * The peers a test file starts in `before`: `keep(start...())` remembers each (in `keep.all`),
 * and an `after` hook closes them all once the file's tests are done.
 */
export function keptPeers(): (<P extends Peer>(p: Promise<P>) => Promise<P>) & { all: readonly Peer[] } {
  const all: Peer[] = [];
  after(() => Promise.all(all.map((p) => p.close())));
  const keep = async <P extends Peer>(p: Promise<P>): Promise<P> => {
    const peer = await p;
    all.push(peer);
    return peer;
  };
  return Object.assign(keep, { all });
}

/**
 * Accepts TCP connections and never sends a byte (also: a TLS server that never answers the
 * ClientHello). It reads and drops what comes (as the peers below do), so that its end of a
 * connection closes as soon as the client's does, instead of lingering into the next test.
 */
export function startBlackHole(host = '127.0.0.1'): Promise<TcpPeer> {
  return listenOn(
    createServer((s) => s.resume()),
    host,
  );
}

/** A TLS server that never completes the handshake: the same as a black hole. */
export const startTlsBlackHole = startBlackHole;

/** Accepts and closes at once: with a FIN, or with a RST when `reset` is set. */
export function startCloser(host = '127.0.0.1', opts: { reset?: boolean } = {}): Promise<TcpPeer> {
  return listenOn(
    createServer((s) => (opts.reset ? s.resetAndDestroy() : s.destroy())),
    host,
  );
}

/** Default garbage: bytes that are neither TLS nor any text protocol. */
export const GARBAGE = Buffer.from([0x00, 0xff, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x0a, 0x7f, 0x80, 0x00]);

/** Sends `payload` as soon as a connection is accepted, then keeps it open (or ends it when `end` is set). */
export function startGarbage(host = '127.0.0.1', payload: string | Buffer = GARBAGE, opts: { end?: boolean } = {}): Promise<TcpPeer> {
  return listenOn(
    createServer((s) => {
      s.resume();
      if (opts.end) s.end(payload);
      else s.write(payload);
    }),
    host,
  );
}

/** A plain-text server that greets like an HTTP server answering a bad request. */
export function startPlainHttp(host = '127.0.0.1'): Promise<TcpPeer> {
  return startGarbage(host, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', { end: true });
}

/** Sends `payload` one byte every `intervalMs` (1 s by default), looping over it. */
export function startSlowDrip(host = '127.0.0.1', payload: string | Buffer = 'x', intervalMs = 1000): Promise<TcpPeer> {
  const bytes = Buffer.from(payload);
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((s) => {
    s.resume();
    let i = 0;
    const t = setInterval(() => {
      if (s.destroyed) return;
      s.write(bytes.subarray(i % bytes.length, (i % bytes.length) + 1));
      i++;
    }, intervalMs);
    timers.add(t);
    s.once('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  });
  return listenOn(server, host, () => {
    for (const t of timers) clearInterval(t);
    timers.clear();
  });
}

/** A TLS server with the given options (cert, key, requestCert, maxVersion, ...). */
export function startTlsServer(options: TlsOptions, host = '127.0.0.1', onSecure?: (s: Socket) => void): Promise<TcpPeer> {
  const server = createTlsServer(options, (s) => {
    s.on('error', () => {});
    onSecure?.(s);
  });
  server.on('tlsClientError', () => {});
  return listenOn(server, host);
}

function udpType(host: string): 'udp4' | 'udp6' {
  return isIP(host) === 6 ? 'udp6' : 'udp4';
}

/**
 * A UDP socket that answers each datagram with `reply(msg)` (nothing when it returns undefined).
 * With no `reply` it is silent: bound, receiving, never answering.
 */
export async function startUdp(host = '127.0.0.1', reply?: (msg: Buffer) => string | Buffer | undefined): Promise<UdpPeer> {
  const received: Buffer[] = [];
  const sock: UdpSocket = createSocket(udpType(host));
  sock.on('message', (msg, rinfo) => {
    received.push(Buffer.from(msg));
    const answer = reply?.(msg);
    if (answer !== undefined) sock.send(answer, rinfo.port, rinfo.address);
  });
  sock.on('error', () => {});
  await started(sock, (done) => sock.bind(0, host, done));
  return {
    host,
    port: sock.address().port,
    received,
    close: () => new Promise<void>((done) => sock.close(() => done())),
  };
}

/** A bound UDP socket that never answers. */
export function startSilentUdp(host = '127.0.0.1'): Promise<UdpPeer> {
  return startUdp(host);
}

/** A UDP port nobody is bound to (bound then released): sends to it draw ICMP port unreachable. */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const peer = await startUdp(host);
  await peer.close();
  return peer.port;
}
