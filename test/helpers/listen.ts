/**
 * The one tracked-socket TCP listener for tests: every server a test starts on loopback keeps
 * track of its connections (how many it accepted, which are still open), so that close()
 * destroys them all and a test can assert that a check closed its own.
 */
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Listener {
  server: Server;
  host: string;
  port: number;
  /** The connections still open. */
  sockets: Set<Socket>;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Runs `onClose`, destroys every open connection and closes the server. */
  close(): Promise<void>;
}

/** Tracks the connections of any server (net, tls, http): the open ones and how many came. */
export function trackSockets(server: Server | import('node:http').Server): { sockets: Set<Socket>; readonly accepted: number } {
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (s: Socket) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  return {
    sockets,
    get accepted() {
      return accepted;
    },
  };
}

/**
 * Runs `start(done)` (a listen, a bind) and waits for it to call done; an 'error' event before
 * that (the address is taken) rejects instead.
 */
export function started(emitter: EventEmitter, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    emitter.once('error', reject);
    start(() => {
      emitter.off('error', reject);
      resolve();
    });
  });
}

/** Tracks `server`'s connections and listens on a free port of `host`. */
export async function listenOn(server: Server, host = '127.0.0.1', onClose: () => void = () => {}): Promise<Listener> {
  const tracked = trackSockets(server);
  await started(server, (done) => server.listen(0, host, done));
  return {
    server,
    host,
    port: (server.address() as { port: number }).port,
    sockets: tracked.sockets,
    get accepted() {
      return tracked.accepted;
    },
    close: () =>
      new Promise<void>((done) => {
        onClose();
        for (const s of tracked.sockets) s.destroy();
        server.close(() => done());
      }),
  };
}

/** A server on a free port of `host` (127.0.0.1) that hands each connection to `onSocket`. */
export function listen(onSocket: (s: Socket) => void, host = '127.0.0.1'): Promise<Listener> {
  const server = createServer();
  const listening = listenOn(server, host);
  server.on('connection', onSocket);
  return listening;
}

/**
 * Accepts TCP connections and never sends a byte. It reads and drops what comes, so that its end
 * of a connection closes as soon as the client's does (and `sockets` shows what the check left open).
 */
export function blackHole(host = '127.0.0.1'): Promise<Listener> {
  return listen((s) => s.resume(), host);
}

/**
 * A plain TCP forwarder to `port` on `host`: each connection it accepts is piped to a new
 * connection of its own to the target, so `accepted` counts the connections a client opened
 * to the service behind it (a real server's own count is out of a test's reach).
 */
export function forwarder(port: number, host = '127.0.0.1'): Promise<Listener> {
  return listen((s) => {
    const up = connect(port, host);
    up.on('error', () => s.destroy());
    s.once('close', () => up.destroy());
    up.once('close', () => s.destroy());
    s.pipe(up).pipe(s);
  }, host);
}

/** Destroys every open connection and closes the server. */
export function close(l: Pick<Listener, 'close'>): Promise<void> {
  return l.close();
}

/** Waits (up to a second) for the check to close its connections to this server, then asserts it did. */
export async function assertClientsClosed(sockets: Set<Socket>): Promise<void> {
  for (let i = 0; i < 20 && sockets.size; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(sockets.size, 0, 'the check left a connection open');
}
