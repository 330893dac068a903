/** The shapes config loading passes between its modules (a file read, positions, one parsed entry). */

export interface Source {
  /** The name shown in messages and annotations. */
  file: string;
  text: string;
}

export interface Pos {
  line: number;
  column: number;
}

/** One entry of a file's top-level list, as the parser (fast or full) found it. */
export interface ParsedItem extends Pos {
  value: unknown;
  /** Whether the entry is a mapping node (absent: it is one, as every entry the fast parser gives). */
  isMap?: boolean;
  /** Where each of its keys starts (a Map from yaml, fast-yaml's KeyPositions). */
  keys: { get(key: string): Pos | undefined };
}
