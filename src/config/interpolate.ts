/**
 * `${VAR}` and `${VAR:-default}` in string values are replaced from the environment, so secrets
 * come from the workflow's `env:`; `$${` is a literal `${`. Any other `$` stays as written, so a
 * password such as `pa$$w0rd` from a conn-check file (which had no interpolation) is unchanged.
 */

export interface Interpolated {
  value: string;
  /** Names of the variables used (for error messages). */
  used: string[];
  /** The values taken from the environment and put into the text (secrets, where they land in one). */
  inserted: string[];
}

export class InterpolationError extends Error {}

const pattern = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}?/g;

export function interpolate(input: string, env: NodeJS.ProcessEnv): Interpolated {
  if (!input.includes('$')) return { value: input, used: [], inserted: [] };
  const used: string[] = [];
  const inserted: string[] = [];
  const value = input.replace(pattern, (match, name: string | undefined, fallback: string | undefined, bad: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      throw new InterpolationError(
        bad !== undefined && match.endsWith('}')
          ? `"\${${bad}}" is not a valid variable reference (use \${NAME} or \${NAME:-default}; $\${ for a literal \${)`
          : 'unterminated "${" (use ${NAME} or ${NAME:-default}; $${ for a literal ${)',
      );
    }
    used.push(name);
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') {
      inserted.push(fromEnv);
      return fromEnv;
    }
    if (fallback !== undefined) return fallback;
    if (fromEnv === '') return '';
    throw new InterpolationError(`environment variable ${name} is not set (write \${${name}:-default} to give a default)`);
  });
  return { value, used, inserted };
}

/** Interpolates every string in a value (nested lists and mappings too); the values put in are pushed onto `inserted`. */
export function interpolateDeep(value: unknown, env: NodeJS.ProcessEnv, inserted: string[]): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    const r = interpolate(value, env);
    inserted.push(...r.inserted);
    return r.value;
  }
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env, inserted));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateDeep(v, env, inserted);
    return out;
  }
  return value;
}
