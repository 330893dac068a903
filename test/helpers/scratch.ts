/**
 * Temporary directories for tests, removed when the test process exits (node:test runs each
 * file in a process of its own), so that a run of the suite leaves nothing behind in the system
 * temp directory: 1,100 tests used to leave about 250 directories there per run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
});

/** A new empty directory under the system temp directory, named `<prefix>XXXXXX`. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
