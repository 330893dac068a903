/**
 * User regular expressions (`expected_body`, `expected_headers` written /like this/) run in a
 * worker thread that is terminated when the check's signal aborts: a catastrophic pattern
 * (`/^(a+)+$/` on 41 bytes backtracks for minutes) cannot hold the process past its deadline,
 * max-timeout or a SIGTERM, since the main thread never runs it.
 *
 * Why a worker rather than a linear-time engine (re2js): configs written for conn-check use the
 * full regex syntax (backreferences, lookaround), which a linear-time engine refuses; a worker
 * keeps every pattern meaning what it meant and bounds it by the deadline the check already has.
 * The worker's heap is capped too, so a pattern cannot grow it without bound either.
 */
import type { Worker as WorkerType } from 'node:worker_threads';

/** Runs in the worker (CommonJS: `eval: true`): one test, one answer. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let ok = null;
try { ok = new RegExp(workerData.source, workerData.flags).test(workerData.text); } catch { ok = null; }
parentPort.postMessage(ok);
`;

/** Heap for the worker: the text is at most the 1 MiB body limit. */
const WORKER_HEAP_MB = 64;

/** Whether `re` matches `text`; rejects with the signal's reason when it aborts first. */
export function regexTest(re: RegExp, text: string, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  return new Promise<boolean>((resolve, reject) => {
    let worker: WorkerType;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { source: re.source, flags: re.flags, text },
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16 },
        stdout: true,
        stderr: true,
        env: {},
      });
    } catch (err) {
      return reject(err);
    }
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      void worker.terminate();
    };
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (ok: boolean | null) => {
      done();
      if (ok === null) reject(new Error('the regular expression could not be run'));
      else resolve(ok);
    });
    worker.once('error', (err) => {
      done();
      reject(err);
    });
    worker.once('exit', () => {
      signal.removeEventListener('abort', onAbort);
      reject(new Error('the regular expression could not be run (its worker ended)'));
    });
  });
}
