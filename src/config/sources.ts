/**
 * What the entries add to the config files: dotenv files under the environment, and the
 * generated configs (--from-env), with the notes to print about them.
 */
import { ConfigError } from './errors.js';
import { environmentWithFiles } from './env-file.js';
import { checksFromEnv, FROM_ENV_FILE } from './from-env.js';
import type { Source } from './parsed.js';

export interface Extra {
  env: NodeJS.ProcessEnv;
  sources: Source[];
  /** Lines for the log: which variables became checks. */
  notes: string[];
}

export async function environmentAndSources(
  processEnv: NodeJS.ProcessEnv,
  o: { envFiles: readonly string[]; fromEnv: boolean; base: string; /** No other config: finding nothing is an error. */ needed?: boolean },
): Promise<Extra> {
  const env = await environmentWithFiles(processEnv, o.envFiles, o.base);
  const out: Extra = { env, sources: [], notes: [] };
  if (!o.fromEnv) return out;
  const found = await checksFromEnv(env);
  out.sources.push(...found.sources);
  out.notes.push(found.taken.length ? `from-env: checks from ${found.taken.join(', ')}` : 'from-env: no variable holds a service URL');
  if (found.skipped.length) out.notes.push(`from-env: left out ${found.skipped.join('; ')}`);
  if (!found.taken.length && o.needed) {
    throw new ConfigError([
      { severity: 'error', file: FROM_ENV_FILE, message: 'no variable named like a service address (NAME_URL, NAME_URI, NAME_DSN, NAME_ADDR) holds a URL with a scheme conn-check reads' },
    ]);
  }
  return out;
}
