/** What the CLI reads and writes: the process's streams and environment, or a test's. */
import { readSync } from 'node:fs';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Reads standard input, stopping once it has more than `limit` bytes (the caller refuses those). */
  readStdin: (limit: number) => Uint8Array;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal?: AbortSignal;
  /** Which of stdout and stderr are terminals (colour, the live progress line). */
  isTTY?: { stdout?: boolean; stderr?: boolean };
}

/** The real process's I/O. */
export function processIo(signal?: AbortSignal): Io {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    readStdin: (limit) => readStdinCapped(limit),
    env: process.env,
    cwd: process.cwd(),
    signal,
    isTTY: { stdout: process.stdout.isTTY, stderr: process.stderr.isTTY },
  };
}

/**
 * Standard input, read until EOF or until it holds more than `limit` bytes, whichever is first:
 * `conn-check -` fed an endless stream stops at its cap instead of reading everything first.
 */
function readStdinCapped(limit: number): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  while (total <= limit) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // a non-blocking pipe: wait for data
        continue;
      }
      if (code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
  }
  return Buffer.concat(chunks);
}
