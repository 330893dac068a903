/**
 * An `--import` module that records every module file the ESM loader loads: a loader hook (in
 * the loader's own thread) appends each `file:` URL to the file named by CONN_CHECK_LOAD_LOG.
 * Used to prove what a run loads (drivers, yaml, undici) and what it does not.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { scratchDir } from './scratch.js';

let recorder: string | undefined;

/** The path of the recorder module (written once per process); pass it as `--import <file URL>`. */
export function loadRecorder(): string {
  if (recorder) return recorder;
  const dir = scratchDir('conn-check-loads-');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    [
      "import { appendFileSync } from 'node:fs';",
      'let log;',
      'export function initialize(data) { log = data.log; }',
      'export async function load(url, context, next) {',
      "  if (log && url.startsWith('file:')) appendFileSync(log, url + '\\n');",
      '  return next(url, context);',
      '}',
    ].join('\n'),
  );
  recorder = join(dir, 'record-loads.mjs');
  writeFileSync(recorder, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: process.env.CONN_CHECK_LOAD_LOG } });\n`);
  return recorder;
}
