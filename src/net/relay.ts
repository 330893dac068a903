/**
 * A loopback relay for a driver that opens its own connections and cannot be handed one (the
 * MongoDB driver): the driver connects to 127.0.0.1:PORT, and each of its connections is
 * carried over a connection this process opened itself (`open`: the project's dial, TLS and
 * certificate checks), whose reads are bounded (net/bounded.ts: the check's byte budget and the
 * protocol's frame rules) before the driver sees a byte. The relay listens only while the
 * check runs, only on 127.0.0.1, and accepts at most `maxConnections` connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { capReads, type FrameInspector } from './bounded.js';

export interface Relay {
  /** The loopback port the driver is to connect to. */
  readonly port: number;
  /** The first failure of `open` (the driver only sees its connection close). */
  readonly failure: unknown;
  close(): Promise<void>;
}

export interface RelayOptions {
  signal: AbortSignal;
  /** A new frame inspector per connection (they keep state). */
  frames?: () => FrameInspector;
  maxConnections: number;
}

export async function startRelay(open: () => Promise<Duplex>, opts: RelayOptions): Promise<Relay> {
  const live = new Set<Duplex>();
  let accepted = 0;
  let failure: unknown;
  const server: Server = createServer({ pauseOnConnect: true }, (client: Socket) => {
    live.add(client);
    client.on('error', () => {});
    client.once('close', () => live.delete(client));
    if (++accepted > opts.maxConnections || opts.signal.aborted) return void client.destroy();
    open().then(
      (upstream) => {
        live.add(upstream);
        upstream.on('error', () => {});
        capReads(upstream, opts.signal, opts.frames?.());
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        upstream.once('close', end);
        client.once('close', end);
        if (upstream.destroyed || client.destroyed) return end();
        upstream.pipe(client);
        client.pipe(upstream);
        client.resume();
      },
      (err: unknown) => {
        failure ??= err;
        client.destroy();
      },
    );
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    get failure() {
      return failure;
    },
    close: () =>
      new Promise<void>((done) => {
        for (const s of live) s.destroy();
        server.close(() => done());
      }),
  };
}
