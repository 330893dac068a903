/** Small TCP servers for tests, that keep track of their connections so a test can close them all. */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';

export interface Listener {
  server: Server;
  port: number;
  /** The connections still open. */
  sockets: Set<Socket>;
}

/** A server on a free 127.0.0.1 port that hands each connection to `onSocket`. */
export async function listen(onSocket: (s: Socket) => void): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, port: (server.address() as { port: number }).port, sockets };
}

/** Destroys every open connection and closes the server. */
export async function close(s: Pick<Listener, 'server' | 'sockets'>): Promise<void> {
  for (const sock of s.sockets) sock.destroy();
  await new Promise<void>((r) => s.server.close(() => r()));
}

/** Waits (up to a second) for the check to close its connections to this server, then asserts it did. */
export async function assertClientsClosed(sockets: Set<Socket>): Promise<void> {
  for (let i = 0; i < 20 && sockets.size; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(sockets.size, 0, 'the check left its connection to the silent server open');
}
