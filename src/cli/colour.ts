/**
 * Whether the text on stdout is coloured: on a terminal, unless NO_COLOR is set (no-color.org)
 * or TERM is dumb; FORCE_COLOR forces it either way (0 or false: off). Never in a pipe or a
 * CI log that did not ask with FORCE_COLOR.
 */
export function wantsColour(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  return !!isTTY && env.TERM !== 'dumb';
}
