/** The CLI's entry point: runs main() with the real process, exits with its code. */
import { main, processIo } from './cli/main.js';
import { cancellation, tolerateBrokenPipes } from './process.js';

tolerateBrokenPipes();
const cancel = cancellation();
main(process.argv.slice(2), processIo(cancel.signal)).then((code) => {
  process.exitCode = code;
  cancel.dispose();
  // Everything is reported: leave once stdout is flushed, even if a driver left a handle open.
  process.stdout.write('', () => setTimeout(() => process.exit(code), 100).unref());
});
