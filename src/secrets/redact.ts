/**
 * Redaction: every form of every known secret, and any URL userinfo, replaced by `***`.
 *
 * One combined matcher (a radix trie of every form, built once) scans a text in one pass, so the
 * cost does not grow with the number of secrets (a regex alternation of 16,000 secrets took
 * minutes). At each position the longest form that starts there is masked. A text cut short
 * (at its end, or before a `...`/`…` cut marker) that ends in the first 6 or more characters of a
 * form has that prefix masked too: a check that cut a server's echo before it reached us must not
 * show most of a key.
 *
 * Redact structured values (redactDeep) before serialising them: only strings are touched, so
 * JSON stays valid and numbers are never masked by accident.
 */
import { secretForms } from './forms.js';
import { MIN_MASK_LENGTH } from './rules.js';

export const MASK = '***';
/** A cut-off prefix of a form at least this long is masked. */
const MIN_DANGLING = 6;
/** URL userinfo in any text, known secret or not (drivers echo connection strings). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*)@/gi;

interface Node {
  edges?: Map<number, Edge>;
  terminal?: boolean;
}
interface Edge {
  label: string;
  node: Node;
}

function insert(root: Node, s: string): void {
  let node = root;
  let i = 0;
  while (i < s.length) {
    node.edges ??= new Map();
    const c = s.charCodeAt(i);
    const edge = node.edges.get(c);
    if (!edge) {
      node.edges.set(c, { label: s.slice(i), node: { terminal: true } });
      return;
    }
    const label = edge.label;
    let k = 1;
    while (k < label.length && i + k < s.length && label.charCodeAt(k) === s.charCodeAt(i + k)) k++;
    if (k < label.length) {
      // split the edge at k
      const mid: Node = { edges: new Map([[label.charCodeAt(k), { label: label.slice(k), node: edge.node }]]) };
      edge.label = label.slice(0, k);
      edge.node = mid;
    }
    node = edge.node;
    i += k;
  }
  node.terminal = true;
}

const isCut = (text: string, k: number) => k === text.length || text.charCodeAt(k) === 0x2026 || text.startsWith('...', k);

export class Redactor {
  private readonly root: Node = {};
  private readonly empty: boolean;
  readonly size: number;

  /** `secrets`: the values to mask (each in all its forms); values under 4 characters are ignored. */
  constructor(secrets: Iterable<string> = []) {
    const forms = new Set<string>();
    for (const s of secrets) {
      if (s.length < MIN_MASK_LENGTH) continue;
      for (const f of secretForms(s)) if (f.length >= MIN_MASK_LENGTH) forms.add(f);
    }
    for (const f of forms) insert(this.root, f);
    this.empty = forms.size === 0;
    this.size = forms.size;
  }

  /** Every form of every known secret, and any URL userinfo, replaced by ***. */
  redact(text: string): string {
    const out = text.includes('://') ? text.replace(USERINFO, (_m, scheme: string) => `${scheme}${MASK}@`) : text;
    return this.empty ? out : this.scan(out);
  }

  private scan(text: string): string {
    let result = '';
    let copied = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      let node = this.root;
      let j = i;
      let best = -1;
      let stop = -1; // where a walk that did not reach a terminal broke off
      for (;;) {
        const edge = j < n ? node.edges?.get(text.charCodeAt(j)) : undefined;
        if (!edge) {
          stop = j;
          break;
        }
        const label = edge.label;
        let k = 1;
        while (k < label.length && j + k < n && label.charCodeAt(k) === text.charCodeAt(j + k)) k++;
        if (k < label.length) {
          stop = j + k;
          break;
        }
        j += k;
        node = edge.node;
        if (node.terminal) best = j;
      }
      let end = best;
      if (stop > end && stop - i >= MIN_DANGLING && isCut(text, stop)) end = stop;
      if (end > i) {
        result += text.slice(copied, i) + MASK;
        copied = end;
        i = end;
      } else i++;
    }
    return copied === 0 ? text : result + text.slice(copied);
  }

  /** Redacts every string inside a JSON-like value (keys too); numbers, booleans, null untouched. */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[this.redact(k)] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}
