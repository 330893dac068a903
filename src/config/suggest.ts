/**
 * Near misses: an unknown option or flag that is one or two typos away from a known one is
 * almost always a mistake (`timout: 1`, `expected_cod: 500`), and running with the default
 * instead would pass a check that was meant to test something else. Unknown keys that are not
 * close to anything stay warnings (conn-check ignored them), and keys that real conn-check files
 * carry are never errors, however close they look.
 */

/** Keys that files written for conn-check carry (conn-check-behaviours.md §8), by type. */
const CONVENTIONAL: Record<string, readonly string[]> = {
  // conn-check-configs writes Celery brokers as `type: redis` with `vhost` and `username`.
  redis: ['vhost', 'username'],
  // conn-check's own README documented `verify` on tls (it never did anything).
  tls: ['verify'],
};

const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');

/** Edit distance with transpositions (optimal string alignment), stopping early above `max`. */
export function distance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/** How many typos a word of this length may carry and still be taken for another. */
function allowance(word: string): number {
  return word.length <= 3 ? 0 : word.length <= 5 ? 1 : 2;
}

/**
 * The candidate `word` is most likely a misspelling of, if any is close enough (ignoring case
 * and `-` versus `_`); ties go to the first candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = norm(word);
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const max = Math.min(allowance(w), allowance(norm(c)) || (norm(c) === w ? 0 : -1));
    if (max < 0) continue;
    const d = distance(w, norm(c), max);
    if (d <= max && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/**
 * The problem with an unknown option `key` of a `type` check: an error naming the known option
 * it is close to, or a warning (`ignoredWhy`, or "unknown, ignored").
 */
export function unknownOption(type: string, key: string, known: Iterable<string>, ignoredWhy?: string): { severity: 'error' | 'warning'; message: string } {
  const ignored = { severity: 'warning' as const, message: ignoredWhy ?? `unknown option for ${type} checks, ignored` };
  if (ignoredWhy !== undefined || CONVENTIONAL[type]?.includes(key)) return ignored;
  const near = closest(key, known);
  if (near === undefined) return ignored;
  return { severity: 'error', message: `unknown option for ${type} checks; did you mean ${near}?` };
}
