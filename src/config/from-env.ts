/**
 * `--from-env` / the `from-env` input: a check for every variable named like a service address
 * (`*_URL`, `*_URI`, `*_DSN`, `*_ADDR`, `*_ADDRESS`) whose value is a URL with a scheme a check
 * type reads, named after the variable. Proxy settings and the runner's own variables are never
 * taken. The checks are a generated config (`- name: VAR` / `url: ${VAR}`), so they go through
 * the same interpolation, validation and secret collection as a file.
 */
import { knownSchemes } from '../checks/registry.js';
import { schemeOf } from '../checks/url.js';
import type { Source } from './parsed.js';

export const FROM_ENV_FILE = '<environment>';

const ADDRESS_NAME = /^[A-Za-z_][A-Za-z0-9_]*_(URL|URI|DSN|ADDR|ADDRESS)$/i;
const NEVER = /^(GITHUB_|RUNNER_|ACTIONS_)|PROXY|^(npm|yarn|pnpm)_/i;
/** The most variables taken (an environment is input too). */
const MAX_TAKEN = 200;
const MAX_VALUE = 8192;

export interface FromEnv {
  /** The generated config, one source per variable (so that an error names it). */
  sources: Source[];
  /** The variables taken, in name order. */
  taken: string[];
  /** Variables named like addresses but left out (not a URL, unknown scheme): why. */
  skipped: string[];
}

export async function checksFromEnv(env: NodeJS.ProcessEnv): Promise<FromEnv> {
  const schemes = new Set(await knownSchemes());
  const taken: string[] = [];
  const skipped: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || !ADDRESS_NAME.test(name) || NEVER.test(name)) continue;
    const scheme = schemeOf(value);
    if (!scheme || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) continue; // host:port and the like
    if (!schemes.has(scheme)) {
      skipped.push(`${name} (scheme ${scheme}:// is not one conn-check reads)`);
      continue;
    }
    if (value.length > MAX_VALUE) {
      skipped.push(`${name} (longer than ${MAX_VALUE} characters)`);
      continue;
    }
    if (taken.length >= MAX_TAKEN) {
      skipped.push(`${name} (more than ${MAX_TAKEN} variables)`);
      continue;
    }
    taken.push(name);
  }
  const sources = taken.map((name) => ({ file: `<environment ${name}>`, text: `- name: ${name}\n  url: \${${name}}\n` }));
  return { sources, taken, skipped };
}
