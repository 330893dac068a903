/** The report in its format, and `--output FILE` (checked before anything runs, so a long run does not end in "cannot write"). */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { renderJson } from '../report/json.js';
import { renderJunit } from '../report/junit.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText, type TextOptions } from '../report/text.js';
import type { CheckResult } from '../runner/result.js';

export const FORMATS = ['text', 'json', 'junit', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

/** The report in a --format. */
export function renderReport(format: Format, results: readonly CheckResult[], durationMs: number, text: TextOptions): string {
  if (format === 'json') return renderJson(results);
  if (format === 'junit') return renderJunit(results, durationMs);
  if (format === 'markdown') return renderMarkdown(results, durationMs);
  return renderText(results, durationMs, text);
}

/** A report that cannot be written: says what failed; not a usage mistake, so no "Try --help". */
export class OutputError extends Error {}

function why(err: unknown, file: string): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `the directory ${dirname(file)} does not exist`;
  if (code === 'ENOTDIR') return `${dirname(file)} is not a directory`;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EROFS') return 'the file system is read-only';
  if (code === 'ENOSPC') return 'no space left on the device';
  return code ?? (err as Error)?.message ?? String(err);
}

/** Throws OutputError when FILE cannot be written (its directory missing, not writable; FILE a directory). */
export function assertWritable(file: string, cwd: string): void {
  const abs = resolve(cwd, file);
  try {
    if (statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
    const dir = dirname(abs);
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new OutputError(`--output ${file}: cannot write the report: ${why(err, file)}`);
  }
}

export function writeReport(file: string, cwd: string, text: string): void {
  try {
    writeFileSync(resolve(cwd, file), text);
  } catch (err) {
    throw new OutputError(`--output ${file}: cannot write the report: ${why(err, file)}`);
  }
}
