/**
 * The full YAML path of config loading, with the `yaml` package: every file the fast path
 * (fast-yaml.ts) does not take, and every syntax error, warning and structural problem a
 * file can have. Loaded (with `yaml`) only when a file needs it.
 */
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, visit, type CST, type Document, type Node as YamlNode } from 'yaml';
import { MAX_ALIAS_COUNT, MAX_EXPANDED_CHARS, MAX_YAML_NODES } from '../core/constants.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { ParsedItem, Pos } from './parsed.js';

/** Deeper than this is no conn-check file (a check needs 3 or 4 levels); YAML's composer recurses per level. */
const MAX_NESTING = 64;
/** Syntax errors after the first few are mostly consequences of the first: not worth printing. */
const MAX_SYNTAX_ERRORS = 20;

/**
 * The file's top-level list, each item with its position and its keys' positions, and the
 * parser's warnings. Throws ConfigError for a file that is not a list of checks.
 */
export function parseWithYaml(text: string, file: string): { items: ParsedItem[]; warnings: ConfigIssue[] } {
  const warnings: ConfigIssue[] = [];
  const lc = new LineCounter();
  const posOf = (offset: number | undefined): Pos => {
    if (offset === undefined) return { line: 1, column: 1 };
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const parsed = parseYaml(text, lc);
  if (!parsed.doc) {
    throw new ConfigError(parsed.errors.map((e) => ({ severity: 'error' as const, file, ...(e.offset === undefined ? {} : posOf(e.offset)), message: e.message })));
  }
  const doc = parsed.doc;
  for (const w of doc.warnings) warnings.push({ severity: 'warning', file, ...posOf(w.pos[0]), message: w.message.split('\n')[0]! });

  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    throw new ConfigError([{ severity: 'error', file, line: 1, column: 1, message: 'the file has no checks: expected a list of checks (- type: tcp ...)' }]);
  }
  if (isSeq(root) && root.items.length === 0) {
    // `[]` says the same as an empty file, and gets the same answer.
    throw new ConfigError([{ severity: 'error', file, ...posOf(root.range?.[0]), message: 'the file has no checks: expected a list of checks (- type: tcp ...)' }]);
  }
  if (!isSeq(root)) {
    const p = posOf(root.range?.[0]);
    const what = isMap(root) ? 'a mapping' : isScalar(root) ? 'a single value' : 'something else';
    throw new ConfigError([{ severity: 'error', file, ...p, message: `expected a list of checks (- type: tcp ...) at the top level, got ${what}` }]);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const problem = toJsProblem(err, doc);
    throw new ConfigError([{ severity: 'error', file, ...posOf(problem.offset ?? root.range?.[0]), message: problem.message }]);
  }
  // A few aliases of a big value expand to gigabytes of text once anything reads every value
  // (1 MB aliased 999 times is 1 GB): measured on the tree, where the aliases are still shared.
  const size = expandedSize(root, doc);
  if (size.chars > MAX_EXPANDED_CHARS || size.nodes > MAX_YAML_NODES) {
    let at: number | undefined;
    visit(doc, { Alias: (_k, node) => ((at = node.range?.[0]), visit.BREAK) });
    const what = size.nodes > MAX_YAML_NODES ? `more than ${MAX_YAML_NODES} values` : `more than ${MAX_EXPANDED_CHARS} characters`;
    throw new ConfigError([{ severity: 'error', file, ...posOf(at ?? root.range?.[0]), message: `the YAML aliases expand to ${what}; is this an alias bomb?` }]);
  }
  const values = data as unknown[];
  const items = root.items.map((item, index): ParsedItem => {
    const node = (isAlias(item) ? item.resolve(doc as Document) : item) as YamlNode | undefined;
    const keys = new Map<string, Pos>();
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (k !== undefined) keys.set(k, posOf((pair.key as YamlNode).range?.[0]));
      }
    }
    return { value: values[index], isMap: isMap(node), ...posOf((item as YamlNode | null)?.range?.[0]), keys };
  });
  return { items, warnings };
}

/** Characters of scalars and number of nodes the tree holds once every alias is expanded. */
function expandedSize(root: unknown, doc: Document): { chars: number; nodes: number } {
  // Each alias's target, from one walk in document order (Alias.resolve walks the whole document
  // on every call: 999 aliases of a 1,000-entry file took 30 s).
  const anchors = new Map<string, unknown>();
  const targets = new Map<unknown, unknown>();
  visit(doc, (_key, node) => {
    if (isAlias(node)) targets.set(node, anchors.get(node.source));
    else if ((isScalar(node) || isMap(node) || isSeq(node)) && node.anchor) anchors.set(node.anchor, node);
  });
  const memo = new Map<unknown, { chars: number; nodes: number }>();
  const zero = { chars: 0, nodes: 1 };
  const measure = (node: unknown): { chars: number; nodes: number } => {
    if (node === null || node === undefined) return zero;
    const known = memo.get(node);
    if (known) return known;
    memo.set(node, zero); // a cycle (an alias of its own ancestor) counts once
    let out: { chars: number; nodes: number };
    if (isAlias(node)) out = measure(targets.get(node));
    else if (isScalar(node)) out = { chars: typeof node.value === 'string' ? node.value.length : 8, nodes: 1 };
    else if (isMap(node) || isSeq(node)) {
      let chars = 0;
      let nodes = 1;
      for (const item of node.items as unknown[]) {
        const parts = isPair(item) ? [item.key, item.value] : [item];
        for (const p of parts) {
          const m = measure(p);
          chars += m.chars;
          nodes += m.nodes;
        }
      }
      out = { chars, nodes };
    } else out = zero;
    memo.set(node, out);
    return out;
  };
  return measure(root);
}

function yamlMessage(code: string, message: string, text: string, offset: number): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') {
    const key = /^(?:"([^"\n]{1,60})"|'([^'\n]{1,60})'|([^:,{}[\]\n]{1,60}))/.exec(text.slice(offset, offset + 80));
    const name = key ? (key[1] ?? key[2] ?? key[3] ?? '').trim() : '';
    return name ? `duplicate key "${name}": each key may appear only once in a mapping` : 'duplicate key: each key may appear only once in a mapping';
  }
  if (/call stack/i.test(first)) return `nested too deeply (more than ${MAX_NESTING} levels)`;
  // The parser quotes the offending source text: it may be a credential, and the position says where.
  return `not valid YAML: ${first.replace(/: ".*"$/, '').replace(/^(Block scalar header includes extra characters):[^]*$/, '$1')}`;
}

/** What went wrong turning the document into data (aliases and merge keys are resolved then). */
function toJsProblem(err: unknown, doc: Document): YamlProblem {
  const m = err instanceof Error ? err.message : String(err);
  /** Where the first node that `match` accepts starts. */
  const find = (match: (node: unknown) => boolean): number | undefined => {
    let at: number | undefined;
    visit(doc, (_key, node) => {
      if (!match(node)) return undefined;
      at = (node as YamlNode).range?.[0];
      return visit.BREAK;
    });
    return at;
  };
  if (/excessive alias count/i.test(m)) return { message: `too many YAML alias expansions (more than ${MAX_ALIAS_COUNT}); is this an alias bomb?` };
  const unresolved = /Unresolved alias.*: (\S+)$/.exec(m);
  if (unresolved) {
    const name = unresolved[1]!;
    return { offset: find((n) => isAlias(n) && n.source === name), message: `alias *${name} has no anchor &${name} before it` };
  }
  if (/merge sources/i.test(m)) {
    const isMerge = (k: unknown) => isScalar(k) && (k.value === '<<' || (typeof k.value === 'symbol' && k.value.description === '<<'));
    return { offset: find((n) => isMerge(n)), message: 'a merge key (<<) must refer to a mapping or a list of mappings' };
  }
  if (/call stack/i.test(m)) return { message: `nested too deeply (more than ${MAX_NESTING} levels)` };
  return { message: `cannot read the YAML: ${m.split('\n')[0]}` };
}

interface YamlProblem {
  offset?: number;
  message: string;
}

/**
 * parseDocument, in its two halves: the parser (iterative) builds the syntax tree, which is
 * measured before the composer (recursive) sees it, so that `[[[[...` cannot overflow the stack.
 * Returns the document, or the problems (syntax errors, too deep, more than one document).
 */
function parseYaml(text: string, lc: LineCounter): { doc?: Document.Parsed; errors: YamlProblem[] } {
  const tokens = [...new Parser(lc.addNewLine).parse(text)];
  const deep = tooDeep(tokens);
  if (deep !== undefined) {
    return { errors: [{ offset: deep, message: `nested more than ${MAX_NESTING} levels deep; expected a list of checks, each a mapping of options` }] };
  }
  const composer = new Composer({ version: '1.1', merge: true, uniqueKeys: true, keepSourceTokens: false, logLevel: 'error' });
  const docs = [...composer.compose(tokens, true, text.length)];
  const doc = docs[0]!;
  const errors: YamlProblem[] = [];
  for (const e of doc.errors) {
    // A key indented deeper than the keys above it turns the value before it into a multi-line
    // scalar, and the parser blames that value's first line: point at the key instead.
    const deeper = e.code === 'BLOCK_AS_IMPLICIT_KEY' || e.code === 'MULTILINE_IMPLICIT_KEY' ? overIndentedKey(text, e.pos[0]) : undefined;
    errors.push(deeper ?? { offset: e.pos[0], message: yamlMessage(e.code, e.message, text, e.pos[0]) });
  }
  if (errors.length) {
    // A tab in the indentation makes the parser stumble in ways that do not mention tabs.
    const tab = /^ *\t[ \t]*\S/m.exec(text);
    if (tab) errors.unshift({ offset: tab.index + tab[0].indexOf('\t'), message: 'a tab is used for indentation; YAML indents with spaces only' });
  }
  if (docs.length > 1) {
    errors.push({ offset: docs[1]!.range[0], message: 'a second YAML document starts here; a config file holds one document: a single list of checks' });
  }
  if (!errors.length) return { doc: doc as Document.Parsed, errors };
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const key = `${e.offset}:${e.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const shown = unique.slice(0, MAX_SYNTAX_ERRORS);
  if (unique.length > shown.length) shown.push({ message: `${unique.length - shown.length} more YAML syntax errors not shown (fix the first ones)` });
  return { errors: shown };
}

/**
 * When the line holding `offset` is `key: value` and a following line is `other: ...` indented
 * deeper than `key`, that line is the mistake: its position, and a message that names both keys.
 */
function overIndentedKey(text: string, offset: number): YamlProblem | undefined {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const line = /^([ -]*)([^\s:#][^:\n]{0,59}):(?:[ \t]|$)/.exec(text.slice(lineStart, text.indexOf('\n', lineStart) + 1 || undefined));
  if (!line) return undefined;
  const keyColumn = line[1]!.length;
  let at = text.indexOf('\n', lineStart);
  while (at >= 0 && at < text.length) {
    const next = text.indexOf('\n', at + 1);
    const content = text.slice(at + 1, next < 0 ? undefined : next);
    at = next;
    if (/^\s*(#.*)?$/.test(content)) continue;
    const m = /^( +)([^\s:#-][^:\n]{0,59}):(?:[ \t]|$)/.exec(content);
    if (!m || m[1]!.length <= keyColumn) return undefined;
    const keyOffset = (next < 0 ? text.length : next) - content.length + m[1]!.length;
    return {
      offset: keyOffset,
      message: `not valid YAML: "${m[2]!.trim()}" is indented deeper than "${line[2]!.trim()}" above it; the options of a check start in the same column`,
    };
  }
  return undefined;
}

/** The offset of the first collection nested deeper than MAX_NESTING, if any (no recursion). */
function tooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  while (stack.length) {
    const [token, depth] = stack.pop()!;
    if (token.type === 'document') {
      if (token.value) stack.push([token.value, depth]);
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > MAX_NESTING) return token.offset;
      for (const item of token.items as CST.CollectionItem[]) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}

