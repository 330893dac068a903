/**
 * `--env-file` / the `env-file` input: dotenv files read into the environment that `${VAR}`
 * draws from. The format is the `dotenv` package's (quotes, comments, `export`, multi-line
 * values): it is what Node applications read their `.env` with, it is well kept and has no
 * dependencies, so a file that works for the application works here the same way.
 *
 * The process environment wins over the files (as dotenv and docker compose do: a value set
 * by the workflow is not replaced by a default in a file); a later file wins over an earlier.
 * A value that lands in a credential option is a secret like any other (config/secrets.ts).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from './errors.js';
import { readSource } from './load.js';

/** Variables of dotenv files, in order (later files win). Throws ConfigError naming each bad file. */
export async function readEnvFiles(paths: readonly string[], base: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const issues: ConfigIssue[] = [];
  for (const p of paths) {
    const abs = resolve(base, p);
    const rel = relative(base, abs);
    const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
    try {
      Object.assign(out, await readEnvFile(abs, shown));
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
  }
  if (issues.length) throw new ConfigError(issues);
  return out;
}

/** One dotenv file, refused as a config file is when it cannot be one (missing, a directory, too large, not UTF-8). */
export async function readEnvFile(path: string, shown = path): Promise<Record<string, string>> {
  let text: string;
  try {
    ({ text } = await readSource(path, shown));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(err.issues.map((i) => ({ ...i, unreadable: undefined, message: `env file: ${i.message.replace(', not a config file', '')}` })));
  }
  const { parse } = await import('dotenv');
  return parse(text);
}

/** The environment `${VAR}` reads: the files' variables under the process environment. */
export async function environmentWithFiles(env: NodeJS.ProcessEnv, paths: readonly string[], base: string): Promise<NodeJS.ProcessEnv> {
  if (!paths.length) return env;
  const fromFiles = await readEnvFiles(paths, base);
  const out: NodeJS.ProcessEnv = { ...fromFiles };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
