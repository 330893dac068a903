/** The command line's own mistakes, each said in one line (node's parseArgs texts are long and quote oddly). */
import { closest } from '../config/suggest.js';

/**
 * One line for an error parseArgs threw, naming the nearest flag for an unknown one (among the
 * `--flags` the help text lists).
 */
export function argsProblem(err: unknown, help: string): string {
  const e = err as { code?: string; message?: string };
  const message = e?.message ?? String(err);
  const quoted = /'(-[^']*)'/.exec(message)?.[1];
  if (e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) {
    const flag = quoted.split('=')[0]!;
    const shown = JSON.stringify(flag).slice(1, -1).slice(0, 60);
    const near = flag.startsWith('--') ? closest(flag.slice(2), new Set(help.match(/(?<=--)[a-z][a-z-]+/g))) : undefined;
    return `unknown option ${shown}${near ? `; did you mean --${near}?` : ''} (conn-check --help lists the options)`;
  }
  if (e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted !== undefined) {
    const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted.split(' ')[0]!;
    return /does not take an argument/.test(message) ? `${flag} takes no value` : `${flag} needs a value`;
  }
  return message.split('\n')[0]!;
}
