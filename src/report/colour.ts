/** ANSI colour for the text report's status words and verdict (only when asked: see cli/colour.ts). */

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;
export type Colour = keyof typeof CODES;

export function paint(s: string, ...colours: Colour[]): string {
  return `${colours.map((c) => `\x1b[${CODES[c]}m`).join('')}${s}\x1b[0m`;
}

/** The verdict line with its first word (OK:, WARNING:, CRITICAL:, UNKNOWN:) coloured. */
export function paintVerdict(line: string): string {
  const m = /^(OK|WARNING|CRITICAL|UNKNOWN):/.exec(line);
  if (!m) return line;
  const colour: Colour = m[1] === 'OK' ? 'green' : m[1] === 'WARNING' ? 'yellow' : 'red';
  return paint(m[0], colour, 'bold') + line.slice(m[0].length);
}
