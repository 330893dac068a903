/** Process plumbing shared by the two entry points: compile cache, cancellation by signal, broken pipes. */

/**
 * Turns on V8's on-disk compile cache (Node >= 22.1; a no-op before) for the modules loaded
 * after this call: the entries load the rest of the bundle lazily, so later runs skip compiling
 * it. The cache lives in NODE_COMPILE_CACHE or the system temp directory; Node keys it by the
 * source's hash, and NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
export function enableCompileCache(): void {
  try {
    // Read at run time: the Node that builds the bundle (20) may lack it (scripts/build.mjs).
    (process.getBuiltinModule('node:module') as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  } catch {
    // A cache that cannot be written (read-only temp, odd permissions) only costs speed.
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
