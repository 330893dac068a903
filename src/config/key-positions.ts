/** Where the keys of the fast parser's items start (fast-yaml.ts). */

/** A position: line and column, both 1-based, as yaml's LineCounter.linePos gives them. */
export interface FastPos {
  line: number;
  column: number;
}

/**
 * Where the keys of one item start, read from two lists the whole file shares (names, and line
 * and column pairs): one small object per item, the positions built only when asked for (a message).
 */
export class KeyPositions {
  constructor(
    private readonly names: readonly string[],
    private readonly at: readonly number[],
    private readonly from: number,
    private readonly to: number,
  ) {}

  get(key: string): FastPos | undefined {
    for (let i = this.from; i < this.to; i++) if (this.names[i] === key) return { line: this.at[2 * i]!, column: this.at[2 * i + 1]! };
    return undefined;
  }

  /** [key, position] in the order of the item. */
  *[Symbol.iterator](): IterableIterator<[string, FastPos]> {
    for (let i = this.from; i < this.to; i++) yield [this.names[i]!, { line: this.at[2 * i]!, column: this.at[2 * i + 1]! }];
  }
}
