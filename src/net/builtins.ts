/**
 * Node built-ins that only some checks use, loaded on first use instead of at start-up:
 * `node:tls` (with crypto) alone costs about 30 ms of a run's start, zlib and dgram a few more,
 * and a run of tcp checks needs none of them. `process.getBuiltinModule` loads them
 * synchronously, so the code that uses them stays as it was.
 */
import { readdir, readFile, readFileSync, stat, statSync, type Stats } from 'node:fs';

export const nodeTls = () => process.getBuiltinModule('node:tls');
export const nodeCrypto = () => process.getBuiltinModule('node:crypto');
export const nodeZlib = () => process.getBuiltinModule('node:zlib');
export const nodeDgram = () => process.getBuiltinModule('node:dgram');
export const nodeDns = () => process.getBuiltinModule('node:dns');
/** `node:dns/promises`, only when a name must be resolved: an IP literal needs no resolver. */
export const nodeDnsPromises = () => process.getBuiltinModule('node:dns/promises');
export const nodeOs = () => process.getBuiltinModule('node:os');

/**
 * The few file reads of a run (the config file, TLS material, trust stores) through node:fs's
 * callbacks, which every Node process has loaded already: `node:fs/promises` would load
 * readline, the REPL's history, fs watchers and os with it (≈29M instructions, a tenth of a
 * one-check run). Same results and the same errors (with their `code`) as fs/promises.
 */
function promised<T>(call: (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))));
}
export const files = {
  stat: (path: string) => promised<Stats>((done) => stat(path, done)),
  readdir: (path: string) => promised<string[]>((done) => readdir(path, done)),
  read: (path: string) => promised<Buffer>((done) => readFile(path, done)),
  readText: (path: string, encoding: BufferEncoding) => promised<string>((done) => readFile(path, encoding, done)),
};
/**
 * A config file, read before any check starts (nothing else to do meanwhile): synchronously, so
 * that a run whose only other file work is none never starts libuv's thread pool (four threads,
 * and five round trips to them for a stat and a readFile: about 2 ms of a one-check run). What
 * could block (a FIFO, a device) is refused by its stat before it is read.
 */
export const filesNow = {
  stat: (path: string): Stats => statSync(path),
  read: (path: string): Buffer => readFileSync(path),
};
