/** Process plumbing shared by the two entry points and the app: compile cache, young-generation size, cancellation by signal, broken pipes. */
import { join } from 'node:path';

/**
 * Turns on V8's on-disk compile cache (Node >= 22.1; a no-op before) for the modules loaded
 * after this call: the entries load the rest of the bundle lazily, so later runs skip compiling
 * it. The cache lives in NODE_COMPILE_CACHE or the system temp directory; Node keys it by the
 * source's hash, and NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 *
 * The directory is Node's own default, named here: Node finds the temp directory with node:os,
 * which nothing else in a run loads (≈2M instructions, about 1% of a one-check run). On POSIX
 * os.tmpdir() is the first non-empty of TMPDIR, TMP and TEMP (less a trailing slash), else /tmp,
 * and Node joins 'node-compile-cache' to it; Windows is left to Node.
 */
export function enableCompileCache(): void {
  try {
    // Read at run time: the Node that builds the bundle (20) may lack it (scripts/build.mjs).
    const { enableCompileCache: enable } = process.getBuiltinModule('node:module') as { enableCompileCache?: (directory?: string) => unknown };
    enable?.(compileCacheDirectory(process.env, process.platform));
  } catch {
    // A cache that cannot be written (read-only temp, odd permissions) only costs speed.
  }
}

/** Where Node puts its compile cache by default (undefined: let Node find it). */
export function compileCacheDirectory(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  if (env.NODE_COMPILE_CACHE) return env.NODE_COMPILE_CACHE;
  if (platform === 'win32') return undefined;
  return join(env.TMPDIR || env.TMP || env.TEMP || '/tmp', 'node-compile-cache');
}

/** From this many checks on, a run keeps V8's young generation small (see below). */
export const LARGE_RUN = 5000;

/**
 * Keeps V8's young generation at its current size when the run is large. While thousands of
 * checks are in flight much of what they allocate survives a scavenge, and V8 then doubles the
 * semi-spaces up to their maximum (tens of MiB, three times over): most of a large run's peak
 * RSS was young garbage. The flag is read at each growth decision, so setting it mid-run takes
 * effect (the semi-spaces grown while the file was validated stay as they are).
 *
 * Only from 5,000 checks on: a young generation held small is scavenged more often, and each
 * scavenge copies the same live set (the checks in flight), so it costs time. Scavenges with the
 * flag / without (--trace-gc, Node 24, half tcp half http): 400 checks 14 / 7, 2,000 checks
 * 31 / 13 (GC time about halved). Without it peak RSS still stays far from the 300 MiB bound
 * below 5,000 checks (5,000: 206 MiB without, 170 MiB with); at 10,000 it would not (305 MiB
 * without, about 204 with). Set by the app once it knows how many checks will run, not at
 * start-up: node:v8 (with heap_utils, serdes and promise hooks) costs about 4M instructions.
 */
export function keepYoungGenerationSmall(checks: number): void {
  if (checks < LARGE_RUN) return;
  try {
    (process.getBuiltinModule('node:v8') as typeof import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    // A V8 without the flag only costs memory.
  }
}

/** An AbortSignal that fires on SIGINT/SIGTERM (a cancelled workflow, Ctrl-C); `dispose` unhooks. */
export function cancellation(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** `conn-check ... | head`: a reader that goes away is not a crash. */
export function tolerateBrokenPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}

/**
 * Everything is reported: leave when the event loop is empty, as Node itself would, but through
 * process.exit, or 100 ms after stdout is flushed if a driver (or a cancelled check) left a handle
 * open. Node's own exit from an empty loop first tears the heap down page by page (munmap after
 * munmap: about 2 ms of a one-check run), which process.exit, about to end the process, skips;
 * the compile cache is written either way. `code` undefined: process.exitCode.
 */
export function leaveWhenDone(code?: number): void {
  // (process.exit(undefined) would exit 0: an exit code core.setFailed set is kept only by no argument)
  const leave = () => (code === undefined ? process.exit() : process.exit(code));
  process.once('beforeExit', leave);
  process.stdout.write('', () => setTimeout(leave, 100).unref());
}
