/**
 * `${VAR}` and `${VAR:-default}` in string values are replaced from the environment, so secrets
 * come from the workflow's `env:`; `$$` is a literal `$`. Anything else with a `$` stays as it is.
 */

export interface Interpolated {
  value: string;
  /** Names of the variables used (for error messages). */
  used: string[];
  /** The values taken from the environment and put into the text (secrets, where they land in one). */
  inserted: string[];
}

export class InterpolationError extends Error {}

const pattern = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}?/g;

export function interpolate(input: string, env: NodeJS.ProcessEnv): Interpolated {
  if (!input.includes('$')) return { value: input, used: [], inserted: [] };
  const used: string[] = [];
  const inserted: string[] = [];
  const value = input.replace(pattern, (match, name: string | undefined, fallback: string | undefined, bad: string | undefined) => {
    if (match === '$$') return '$';
    if (name === undefined) {
      throw new InterpolationError(
        bad !== undefined && match.endsWith('}')
          ? `"\${${bad}}" is not a valid variable reference (use \${NAME} or \${NAME:-default}; $$ for a literal $)`
          : 'unterminated "${" (use ${NAME} or ${NAME:-default}; $$ for a literal $)',
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
