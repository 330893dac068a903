/**
 * The action's entry point: everything happens in action/run.ts. Kept small on purpose: it turns
 * the compile cache on (Node 24 runs actions), then loads the rest, which the build puts in a chunk of
 * its own, so a second conn-check step in the same job skips compiling it.
 */
import { enableCompileCache, leaveWhenDone, tolerateBrokenPipes } from './process.js';

enableCompileCache();
tolerateBrokenPipes();
void import('./action/run.js')
  .then(({ run }) => run())
  // (a cancelled workflow's step ends within a second: a handle left open holds it 100 ms at most)
  .then(() => leaveWhenDone());
