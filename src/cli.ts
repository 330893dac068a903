/**
 * The CLI's entry point: runs main() with the real process, exits with its code. Kept small on
 * purpose: it turns the compile cache on, then loads the rest (the build puts it in a chunk of its own),
 * so that repeated runs (Nagios, cron) skip compiling most of the bundle.
 */
import { cancellation, enableCompileCache, leaveWhenDone, tolerateBrokenPipes } from './process.js';

enableCompileCache();
tolerateBrokenPipes();
const cancel = cancellation();
void import('./cli/main.js').then(async ({ main, processIo }) => {
  const code = await main(process.argv.slice(2), processIo(cancel.signal));
  process.exitCode = code;
  cancel.dispose();
  leaveWhenDone(code);
});
