/** The CLI's entry point: runs main() with the real process, exits with its code. */
import { main, processIo } from './cli/main.js';

const cancel = new AbortController();
const onSignal = () => cancel.abort();
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

main(process.argv.slice(2), processIo(cancel.signal)).then((code) => {
  process.exitCode = code;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Everything is reported: leave as soon as stdout is flushed, even if a driver left a handle.
  process.stdout.write('', () => setTimeout(() => process.exit(code), 100).unref());
});
