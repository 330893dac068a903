/** Process plumbing shared by the two entry points: cancellation by signal, broken pipes. */

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
