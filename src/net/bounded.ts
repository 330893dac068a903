/**
 * Bounded reads: the one place that caps what a peer can make this process read.
 *
 * Every connection a check opens (and every connection it hands a driver) goes through
 * `capReads` (all but the tcp check's, which net/dial.ts closes as it connects, unread), which counts the bytes the stream delivers and checks them against the check's
 * budget: one byte cap per check attempt, shared by all its connections, declared per check
 * type (`maxReadBytes` on the definition, else DEFAULT_READ_CAP). A protocol whose driver
 * mishandles some frames (MongoDB's zero-length message) adds a frame inspector. When a cap
 * or a frame rule is broken the stream is destroyed and the check's signal is aborted with a
 * ReadLimitError, whose message becomes the check's failure.
 *
 * How: the stream's own `push` (through which Node's net and TLS sockets hand every chunk they
 * read to the Readable side) is wrapped on that one object. The driver keeps the very socket it
 * was given, with all of its methods, and never sees a byte past the cap.
 */
import type { Readable, Transform } from 'node:stream';
import { nodeZlib } from './builtins.js';

/** The cap for check types that declare none: far above any handshake, reply or banner they read. */
export const DEFAULT_READ_CAP = 1024 * 1024;

/** A peer sent more than the check may read, or a frame no driver should be handed. */
export class ReadLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadLimitError';
  }
}

class Budget {
  used = 0;
  tripped: ReadLimitError | undefined = undefined;
  /** What watchAbort() registered (a check attempt's budget only: see attemptBudget). */
  private stops: (() => void)[] | undefined = undefined;
  constructor(
    readonly cap: number,
    readonly trip: (err: ReadLimitError) => void,
    /** The signal whose aborts the runner reports through aborted(): a check attempt's. */
    readonly attempt: AbortSignal | undefined,
  ) {}

  watch(onAbort: () => void): void {
    (this.stops ??= []).push(onAbort);
  }

  unwatch(onAbort: () => void): void {
    const stops = this.stops;
    const i = stops ? stops.indexOf(onAbort) : -1;
    if (i >= 0) stops!.splice(i, 1);
  }

  /** The attempt's signal has just aborted: runs what was watching it, in the order it came. */
  aborted(): void {
    const stops = this.stops;
    if (!stops) return;
    this.stops = undefined;
    for (const onAbort of stops) onAbort();
  }
}

const budgets = new WeakMap<AbortSignal, Budget>();

const ignore = (): void => {};

/**
 * Gives a signal its read budget; `trip` is called once, with the reason, when the budget or
 * a frame rule is broken.
 */
export function setReadBudget(signal: AbortSignal, cap: number, trip: (err: ReadLimitError) => void): void {
  budgets.set(signal, new Budget(cap, trip, undefined));
}

/** A check attempt's budget, as the runner holds it. */
export interface AttemptBudget {
  /** To be called right after every abort of the attempt's signal (see watchAbort). */
  aborted(): void;
}

/**
 * The read budget of a check attempt's signal (the runner gives one to every attempt), as
 * setReadBudget. The runner promises to call its aborted() right after it aborts `signal`
 * (which only the runner does), so that watchAbort() needs no listener on the signal.
 */
export function attemptBudget(signal: AbortSignal, cap: number, trip: (err: ReadLimitError) => void): AttemptBudget {
  const b = new Budget(cap, trip, signal);
  budgets.set(signal, b);
  return b;
}

/**
 * Calls `onAbort` when `signal` aborts (unless unwatchAbort() came first, given what this
 * returns): for a check attempt's signal, through its budget (a listener on the signal costs
 * more than the connection it watches); for any other signal, as its abort listener.
 */
export function watchAbort(signal: AbortSignal, onAbort: () => void): AttemptBudget | undefined {
  const b = budgets.get(signal);
  if (b !== undefined && b.attempt === signal) {
    b.watch(onAbort);
    return b;
  }
  signal.addEventListener('abort', onAbort);
  return undefined;
}

/** Undoes watchAbort(signal, onAbort), which returned `via`. */
export function unwatchAbort(signal: AbortSignal, onAbort: () => void, via: AttemptBudget | undefined): void {
  if (via) (via as Budget).unwatch(onAbort);
  else signal.removeEventListener('abort', onAbort);
}

/** Makes `signal` (a part of a check, such as one server of several) read from `parent`'s budget. */
export function setReadBudgetOf(signal: AbortSignal, parent: AbortSignal): void {
  budgets.set(signal, budgetOf(parent));
}

function budgetOf(signal: AbortSignal): Budget {
  let b = budgets.get(signal);
  if (!b) {
    // A check run outside the runner (a unit test): the default cap, and no signal to abort.
    b = new Budget(DEFAULT_READ_CAP, ignore, undefined);
    budgets.set(signal, b);
  }
  return b;
}

/** The violation, if any, that ended this signal's check. */
export function readLimitTripped(signal: AbortSignal): ReadLimitError | undefined {
  return budgets.get(signal)?.tripped;
}

/** `1 MiB`, `512 KiB`, `100 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${n} bytes`;
}

/**
 * Decompresses `data` (gzip, deflate or br), keeping at most `limit` decoded bytes: decoding
 * stops there (a few kilobytes can decode to gigabytes), and at the signal. `truncated` says
 * that there was more. Undecodable data is returned as it is.
 */
export async function decompressCapped(data: Buffer, encoding: string, limit: number, signal: AbortSignal): Promise<{ data: Buffer; truncated: boolean }> {
  const zlib = nodeZlib();
  let stream: Transform;
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') stream = zlib.createUnzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
  else if (encoding === 'br') stream = zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
  else return { data, truncated: false };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (truncated: boolean) => {
      signal.removeEventListener('abort', onAbort);
      stream.destroy();
      resolve({ data: Buffer.concat(chunks).subarray(0, limit), truncated });
    };
    const onAbort = () => {
      stream.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) finish(true);
    });
    stream.once('end', () => finish(false));
    stream.once('error', () => {
      signal.removeEventListener('abort', onAbort);
      // not what it says it is: the bytes as they came (as before), unless some decoded already
      resolve(size ? { data: Buffer.concat(chunks).subarray(0, limit), truncated: false } : { data, truncated: false });
    });
    stream.end(data);
  });
}

/** Looks at each chunk in order; returns a reason to stop (a malformed or oversized frame), or nothing. */
export type FrameInspector = (chunk: Buffer) => string | undefined;

const GUARDED = Symbol('conn-check.capReads');

type Push = Readable['push'];

/** One guarded stream's state, read by the one shared guardedPush (no closures per stream). */
class Guard {
  readonly inspectors: FrameInspector[] = [];
  constructor(
    readonly stream: Readable,
    readonly budget: Budget,
    /** The stream's own push. */
    readonly push: Push,
  ) {}

  stop(why: string): false {
    const budget = this.budget;
    if (!budget.tripped) {
      budget.tripped = new ReadLimitError(why);
      budget.trip(budget.tripped);
    }
    this.stream.destroy();
    return false;
  }
}

type Guarded = Readable & { [GUARDED]?: Guard };

/**
 * Counts what `stream` delivers against the signal's budget (and passes it to `frames`).
 * Returns the same stream. Calling it again on a guarded stream adds the frame inspector, which
 * first sees whatever the stream holds unread (so that it starts at the first byte).
 */
export function capReads<S extends Readable>(stream: S, signal: AbortSignal, frames?: FrameInspector): S {
  const s = stream as S & Guarded;
  let guard = s[GUARDED];
  if (!guard) {
    guard = new Guard(stream, budgetOf(signal), stream.push);
    s[GUARDED] = guard;
    stream.push = guardedPush;
  }
  if (frames) {
    guard.inspectors.push(frames);
    if (stream.readableLength > 0 && !stream.readableFlowing) {
      const pending = stream.read() as Buffer | string | null;
      if (pending !== null) {
        const why = frames(Buffer.isBuffer(pending) ? pending : Buffer.from(pending));
        stream.unshift(pending);
        if (why) guard.stop(why);
      }
    }
  }
  return stream;
}

/** The push of every guarded stream: counts the chunk, asks the inspectors, then hands it on. */
function guardedPush(this: Guarded, chunk: unknown, encoding?: BufferEncoding): boolean {
  const guard = this[GUARDED]!;
  if (chunk === null || chunk === undefined) return guard.push.call(this, chunk, encoding);
  const budget = guard.budget;
  if (budget.tripped) return false;
  const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Buffer);
  budget.used += buf.length;
  let why: string | undefined;
  if (budget.used > budget.cap) why = `the server sent more than ${formatBytes(budget.cap)} (the read limit for this check)`;
  const inspectors = guard.inspectors;
  for (let i = 0; !why && i < inspectors.length; i++) why = inspectors[i]!(buf);
  if (why) return guard.stop(why);
  try {
    // In flowing mode the driver's 'data' handler runs inside this call: a parser that throws
    // on a malformed message (pg-protocol on a message shorter than its type needs) would
    // otherwise be an uncaught exception that ends the process and every other check.
    return guard.push.call(this, chunk, encoding);
  } catch (err) {
    const m = (err as { message?: unknown })?.message;
    return guard.stop(`the server sent a message the client could not read${typeof m === 'string' ? ` (${m.split('\n')[0]!.slice(0, 120)})` : ''}`);
  }
}

/**
 * A frame inspector for protocols made of frames with a fixed-size header that gives the
 * length of what follows: `check(header)` returns how many bytes follow that header (skipped
 * unread), or a reason to stop the stream.
 */
export function headerFrames(headerSize: number, check: (header: Buffer) => number | string): FrameInspector {
  let header = Buffer.alloc(0);
  let skip = 0; // bytes of the current frame still to come
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const need = headerSize - header.length;
      header = Buffer.concat([header, chunk.subarray(i, i + need)]);
      i += Math.min(need, chunk.length - i);
      if (header.length < headerSize) break;
      const next = check(header);
      header = Buffer.alloc(0);
      if (typeof next === 'string') return next;
      skip = next;
    }
    return undefined;
  };
}

/**
 * A frame inspector for protocols whose messages start with their own total length as a 32-bit
 * integer (MongoDB: little-endian, the 4 length bytes included). Lengths below `min` (a
 * zero-length message sends some drivers into an endless loop) or above `max` stop the stream.
 */
export function lengthPrefixedFrames(opts: { protocol: string; min: number; max: number; littleEndian?: boolean }): FrameInspector {
  return headerFrames(4, (header) => {
    const len = opts.littleEndian === false ? header.readUInt32BE(0) : header.readUInt32LE(0);
    if (len < opts.min) return `the server sent a malformed ${opts.protocol} message (length ${len})`;
    if (len > opts.max) return `the server announced a ${opts.protocol} message of ${len} bytes (more than ${formatBytes(opts.max)})`;
    return len - 4;
  });
}

/**
 * A frame inspector for RESP (Redis): the element headers of every reply, so that an array,
 * map, set or push announcing more than `maxElements` elements, or a bulk string longer than
 * `maxBulk`, stops the stream before the driver allocates for it. Lines longer than `maxLine`
 * (a status or error line that never ends) stop it too.
 */
export function respFrames(opts: { maxElements: number; maxBulk: number; maxLine: number }): FrameInspector {
  let line = '';
  let inLine = false; // reading a header line (after its type byte)
  let type = '';
  let skip = 0; // bytes of a bulk payload (plus CRLF) still to come
  return (chunk) => {
    for (let i = 0; i < chunk.length; ) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      if (!inLine) {
        type = String.fromCharCode(chunk[i]!);
        inLine = true;
        line = '';
        i++;
        continue;
      }
      const nl = chunk.indexOf(0x0a, i);
      const end = nl === -1 ? chunk.length : nl;
      if (line.length + (end - i) > opts.maxLine) return `the server sent a Redis reply line longer than ${formatBytes(opts.maxLine)}`;
      line += chunk.toString('latin1', i, end);
      i = end;
      if (nl === -1) break;
      i++; // past the LF
      inLine = false;
      const n = Number.parseInt(line, 10);
      if ('*%~>|'.includes(type) && n > opts.maxElements) return `the server announced a Redis reply of ${n} elements (more than ${opts.maxElements})`;
      if ('$!='.includes(type) && n > 0) {
        if (n > opts.maxBulk) return `the server announced a Redis string of ${n} bytes (more than ${formatBytes(opts.maxBulk)})`;
        skip = n + 2;
      }
    }
    return undefined;
  };
}
