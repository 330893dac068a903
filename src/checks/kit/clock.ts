/**
 * Milliseconds on a monotonic clock, as `performance.now()` gives them but without it: the first
 * use of the global `performance` loads node:perf_hooks and ten modules behind it (~2% of a
 * one-check run's instructions), for a number process.hrtime reads directly. The runner's clock
 * (runner/clock.ts) and the kit's (a connection's time, http's response time) are this one.
 */
export function now(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
