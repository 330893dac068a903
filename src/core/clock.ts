/**
 * Milliseconds on a monotonic clock, as `performance.now()` gives them but without it: the first
 * use of the global `performance` loads node:perf_hooks and ten modules behind it (~2% of a
 * one-check run's instructions), for a number process.hrtime reads directly. One clock for the
 * runner, the kit and the CLI's progress (the build keeps all of them in the one chunk both
 * entries load: scripts/build.mjs, sharedCore).
 */
export function now(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
