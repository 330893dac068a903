/**
 * Milliseconds on a monotonic clock, as `performance.now()` gives them but without it: the first
 * use of the global `performance` loads node:perf_hooks and ten modules behind it (~2% of a
 * one-check run's instructions), for a number process.hrtime reads directly. The runner has the
 * same (runner/clock.ts): a module shared by both would be a chunk of its own, one more file to
 * load in every run.
 */
export function now(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
