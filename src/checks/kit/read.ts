/**
 * Reading a hand-written protocol's messages on the kit's connection: one message at a time,
 * to the length the protocol's parser says, obeying the check's signal. (The bytes themselves
 * are already counted against the check's read budget: net/bounded.ts.)
 */
import type { Socket } from 'node:net';

/** Says how long the message at the start of `buf` is, once it is all there; may throw (not this protocol). */
export type Complete = (buf: Buffer) => number | undefined;

/** Reads messages from a socket; what arrives after one message is kept for the next read. */
export class MessageReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private socket: Socket,
    private readonly signal: AbortSignal,
  ) {
    socket.on('error', () => {}); // errors surface through read()
  }

  /** Switches to another socket (after STARTTLS); anything buffered is dropped. */
  use(socket: Socket): void {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    socket.on('error', () => {});
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /**
   * The next message: `complete(buffer)` says its length once it is all there; when the peer
   * closes first, `onClose(what came)` says what to throw.
   */
  read(complete: Complete, onClose: (buf: Buffer) => Error): Promise<Buffer> {
    const take = (): Buffer | undefined => {
      const n = this.buf.length ? complete(this.buf) : undefined;
      if (n === undefined) return undefined;
      const message = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      return message;
    };
    try {
      const ready = take();
      if (ready) return Promise.resolve(ready);
    } catch (err) {
      return Promise.reject(err);
    }
    const { socket, signal } = this;
    return new Promise<Buffer>((resolve, reject) => {
      const cleanup = () => {
        socket.off('data', onData);
        socket.off('close', onEnd);
        socket.off('end', onEnd);
        socket.off('error', onError);
        signal.removeEventListener('abort', onAbort);
      };
      const onData = (chunk: Buffer) => {
        this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
        let message: Buffer | undefined;
        try {
          message = take();
        } catch (err) {
          cleanup();
          reject(err);
          return;
        }
        if (message) {
          cleanup();
          resolve(message);
        }
      };
      const onEnd = () => {
        cleanup();
        reject(onClose(this.buf));
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
}

/** One message (see MessageReader.read). */
export function readUntil(socket: Socket, signal: AbortSignal, complete: Complete, onClose: (buf: Buffer) => Error): Promise<Buffer> {
  return new MessageReader(socket, signal).read(complete, onClose);
}
