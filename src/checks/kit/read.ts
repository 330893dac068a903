/** Bounded reads of a protocol's messages on the kit's connection (the bytes are already capped by net/bounded.ts). */
import type { Socket } from 'node:net';

/**
 * Reads from the socket until `complete(buffer)` returns a length (the bytes it needs), the
 * peer closes, or the signal aborts. On close, `onClose(buffer)` says what to throw.
 */
export function readUntil(
  socket: Socket,
  signal: AbortSignal,
  complete: (buf: Buffer) => number | undefined,
  onClose: (buf: Buffer) => Error,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('close', onEnd);
      socket.off('end', onEnd);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let n: number | undefined;
      try {
        n = complete(buf);
      } catch (err) {
        cleanup();
        reject(err);
        return;
      }
      if (n !== undefined) {
        cleanup();
        resolve(buf.subarray(0, n));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(onClose(buf));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}

