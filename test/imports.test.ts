/**
 * Imports run one way (issue 12): secrets ← core ← net ← checks ← config ← runner ← report ←
 * app ← cli/action ← the entries, and `secrets/` may be used by every layer and uses none. No
 * cycle between files either (type-only imports count: a cycle of types is still a knot to read).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../src');

/** Layer of each folder of src/ (and of the files at its top), lowest first. */
const LAYERS: Record<string, number> = {
  secrets: 0,
  core: 1,
  net: 2,
  checks: 3,
  config: 4,
  runner: 5,
  report: 6,
  '(app)': 7, // src/app.ts, src/process.ts: what both entries share
  cli: 8,
  action: 8,
  '(entry)': 9, // src/index.ts, src/cli.ts
};
const ENTRIES = new Set(['index.ts', 'cli.ts']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  if (!rel.includes('/')) return ENTRIES.has(rel) ? '(entry)' : '(app)';
  return rel.split('/')[0]!;
}

/** Relative imports (static, dynamic, re-exports, type-only) of each file, resolved to files. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s+['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      deps.push(resolve(dirname(f), spec.replace(/\.js$/, '.ts')));
    }
    g.set(f, deps);
  }
  return g;
}

test('every folder of src/ has a layer', () => {
  const unknown = [...new Set(files(SRC).map(layerOf))].filter((l) => !(l in LAYERS));
  assert.deepEqual(unknown, [], 'add the new folder to LAYERS (and to the layout in docs/architecture.md)');
});

test('imports between folders point down the layers only', () => {
  const wrong: string[] = [];
  for (const [file, deps] of graph()) {
    const from = layerOf(file);
    for (const dep of deps) {
      const to = layerOf(dep);
      if (from === to || to === 'secrets') continue;
      if (from === 'secrets' || LAYERS[to]! >= LAYERS[from]!) wrong.push(`${relative(SRC, file)} -> ${relative(SRC, dep)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import cycle between files', () => {
  const g = graph();
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' -> '));
      return;
    }
    state.set(f, 'open');
    for (const d of g.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of g.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});

test('the checker sees imports (a known edge is found)', () => {
  const deps = graph().get(join(SRC, 'checks/tcp.ts'))!.map((d) => relative(SRC, d));
  assert.ok(deps.includes('core/contract.ts'), deps.join(', '));
  assert.ok(deps.includes('net/dial.ts'), deps.join(', '));
});

test('only src/action/ imports @actions/core, and nothing the CLI entry reaches does', () => {
  const g = graph();
  const usesCore = (f: string) => /\bfrom\s+['"]@actions\/|\bimport\(\s*['"]@actions\//.test(readFileSync(f, 'utf8'));
  const outside = [...g.keys()].filter((f) => usesCore(f) && layerOf(f) !== 'action').map((f) => relative(SRC, f));
  assert.deepEqual(outside, []);
  const reached = new Set<string>();
  const visit = (f: string) => {
    if (reached.has(f)) return;
    reached.add(f);
    for (const d of g.get(f) ?? []) visit(d);
  };
  visit(join(SRC, 'cli.ts'));
  assert.ok(reached.has(join(SRC, 'app.ts')), 'the CLI goes through src/app.ts');
  assert.deepEqual([...reached].filter((f) => usesCore(f) || layerOf(f) === 'action').map((f) => relative(SRC, f)), []);
});

test('no file in src/ is over 450 lines (a longer one is several concerns: split it)', () => {
  const long = files(SRC)
    .map((f) => ({ f: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length }))
    .filter((x) => x.lines > 450)
    .map((x) => `${x.f}: ${x.lines}`);
  assert.deepEqual(long, []);
});
