/**
 * `localhost` resolving to 127.0.0.1 AND ::1 while a test runs (this machine's resolver gives
 * only 127.0.0.1): the system lookup is replaced for that one name; the servers are real.
 */
import { mock } from 'node:test';
import dnsPromises from 'node:dns/promises';
import { syncBuiltinESMExports } from 'node:module';

/** Makes `localhost` dual-stack; returns the function that puts the real lookup back. */
export function dualStackLocalhost(): () => void {
  const original = dnsPromises.lookup;
  mock.method(dnsPromises, 'lookup', (host: string, options: unknown) =>
    host === 'localhost'
      ? Promise.resolve([
          { address: '127.0.0.1', family: 4 },
          { address: '::1', family: 6 },
        ])
      : original(host, options as never),
  );
  syncBuiltinESMExports();
  return () => {
    mock.restoreAll();
    syncBuiltinESMExports();
  };
}
