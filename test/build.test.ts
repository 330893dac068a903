/**
 * The build (scripts/build.mjs): one esbuild run for the action and the CLI. Built twice here
 * into temporary directories: the same bytes both times, no file twice, the entries where
 * action.yml and bin/ look for them, every bundled package's licence, and every package the
 * source imports lazily with the named exports Node gives it (esbuild alone gives a split-off
 * CommonJS package a default export only, so `const { MongoClient } = await import('mongodb')`
 * would get undefined in the bundle while every in-process test passes).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './helpers/run.js';
import { scratchDir } from './helpers/scratch.js';

interface Metafile {
  inputs: Record<string, { imports: { path: string; kind: string; original?: string; external?: boolean }[] }>;
  outputs: Record<string, { entryPoint?: string; exports: string[] }>;
}

/** A script printing how many times each name is the `name` of a function reachable from a build's exports. */
const NAMES = `
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const dir = process.argv[1], names = {}, seen = new Set();
const visit = (v, depth) => {
  if (v === null || (typeof v !== 'function' && typeof v !== 'object') || seen.has(v) || depth > 3) return;
  seen.add(v);
  if (typeof v === 'function' && v.name.length > 1 && !v.name.startsWith('__')) names[v.name] = (names[v.name] ?? 0) + 1;
  for (const k of Object.getOwnPropertyNames(v)) {
    if (k === 'caller' || k === 'arguments' || k === 'callee') continue;
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d && 'value' in d) visit(d.value, depth + 1);
  }
  if (typeof v === 'function' && v.prototype) visit(v.prototype, depth + 1);
};
for (const f of readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'index.js').sort()) {
  const m = await import(pathToFileURL(join(dir, f)).href);
  for (const k of Object.keys(m).sort()) visit(m[k], 0);
}
process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(names).sort())));
`;

const work = scratchDir('conn-check-build-');
const first = join(work, 'first');
const second = join(work, 'second');
let meta: Metafile;

/** path (relative to the build directory) → content, for every file of a build. */
function files(dir: string): Map<string, Buffer> {
  const names = (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
  return new Map(names.map((n) => [n, readFileSync(join(dir, n))]));
}

before(() => {
  for (const [dir, extra] of [
    [first, ['--stats']],
    [second, []],
  ] as const) {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), dir, ...extra], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 240_000 });
  }
  meta = JSON.parse(readFileSync(join(first, 'meta.json'), 'utf8')) as Metafile;
});

describe('the build', () => {
  test('gives the same bytes every time', () => {
    const a = files(first);
    a.delete('meta.json');
    const b = files(second);
    assert.deepEqual([...b.keys()], [...a.keys()]);
    const differ = [...a].filter(([name, bytes]) => !bytes.equals(b.get(name)!)).map(([name]) => name);
    assert.deepEqual(differ, []);
  });

  test('holds no file twice: the action and the CLI share one set of chunks', () => {
    const byContent = new Map<string, string[]>();
    for (const [name, bytes] of files(second)) {
      const key = bytes.toString('base64');
      byContent.set(key, [...(byContent.get(key) ?? []), name]);
    }
    assert.deepEqual([...byContent.values()].filter((names) => names.length > 1), []);
  });

  test('puts the entries where action.yml and bin/conn-check.js look for them', () => {
    const main = /^\s*main:\s*'?([^'\s]+)'?\s*$/m.exec(readFileSync(join(ROOT, 'action.yml'), 'utf8'))?.[1];
    assert.equal(main, 'dist/index.js');
    const bin = /^import '\.\.\/(dist\/[^']+)';$/m.exec(readFileSync(join(ROOT, 'bin/conn-check.js'), 'utf8'))?.[1];
    assert.equal(bin, 'dist/cli/index.js');
    const entries = Object.entries(meta.outputs)
      .filter(([, o]) => o.entryPoint === 'src/index.ts' || o.entryPoint === 'src/cli.ts')
      .map(([out, o]) => [o.entryPoint, relative(first, resolve(ROOT, out))]);
    assert.deepEqual(Object.fromEntries(entries), { 'src/index.ts': 'index.js', 'src/cli.ts': 'cli/index.js' });
    const written = files(second);
    assert.ok(written.has('index.js') && written.has('cli/index.js'));
    assert.equal(written.get('package.json')!.toString(), '{\n  "type": "module"\n}\n');
  });

  test('lists the licence of every bundled package', () => {
    const licences = readFileSync(join(second, 'licenses.txt'), 'utf8');
    const packages = new Set(Object.keys(meta.inputs).flatMap((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(i)?.[1] ?? []));
    assert.ok(packages.size > 20, `only ${packages.size} packages in the bundle?`);
    const missing = [...packages].filter((p) => !new RegExp(`(^|\\n\\n)${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n[^\\n]+\\n`).test(licences));
    assert.deepEqual(missing, []);
  });

  test("gives every function and class the name esbuild's keepNames gives it", () => {
    // The build minifies identifiers after dropping the __name calls V8 makes needless (see
    // keptNamesInferred): the names of everything the files export (and of their classes'
    // methods and statics, their objects' properties), counted, must be those of esbuild's own
    // minified build with keepNames. Minified names (one letter: esbuild's runtime helpers there)
    // and esbuild's helpers (`__name`) are left out on both sides; a name lost to minifying still
    // shows, as one fewer of the real name.
    const reference = join(work, 'esbuild-names');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), reference, '--esbuild-names'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 240_000 });
    const names = (dir: string) => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', NAMES, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 })) as Record<string, number>;
    const built = names(second);
    assert.ok(Object.keys(built).length > 1000, `only ${Object.keys(built).length} names?`);
    assert.deepEqual(built, names(reference));
  });

  test('every package imported lazily has in the bundle the named exports Node gives it', async () => {
    const builtins = new Set(builtinModules);
    const lazy = new Set<string>();
    for (const input of Object.values(meta.inputs)) {
      for (const i of input.imports) {
        const name = i.original ?? i.path;
        if (i.kind === 'dynamic-import' && !i.external && /^[^./]/.test(name) && !name.startsWith('node:') && !builtins.has(name)) lazy.add(name);
      }
    }
    // The drivers, undici, yaml (for --egress) and tinyglobby: if this shrinks, the imports changed.
    assert.ok(lazy.size >= 8, `lazy packages: ${[...lazy].join(', ')}`);
    for (const pkg of [...lazy].sort()) {
      // The output file that a dynamic import of this package loads (whatever module stands in between).
      const outputs = Object.entries(meta.outputs).filter(([, o]) => o.entryPoint !== undefined && (o.entryPoint === `lazy-commonjs:${pkg}` || o.entryPoint.includes(`node_modules/${pkg}/`)));
      assert.equal(outputs.length, 1, `${pkg}: its chunk among [${outputs.map(([f]) => f).join(', ')}]`);
      const chunk = resolve(ROOT, outputs[0]![0]);
      const inBundle = (await import(pathToFileURL(chunk).href)) as Record<string, unknown>;
      const inNode = (await import(pkg)) as Record<string, unknown>;
      const missing = Object.keys(inNode).filter((k) => k !== 'default' && k !== 'module.exports' && typeof inBundle[k] !== typeof inNode[k]);
      assert.deepEqual(missing, [], `${pkg}: named exports missing from (or different in) its chunk ${chunk}`);
      // A package Node sees as `default` only (aws4 assigns its functions to module.exports):
      // the chunk's default must carry the same functions.
      const def = (m: Record<string, unknown>) => Object.keys((m.default ?? {}) as object).sort();
      if (Object.keys(inNode).length <= 2) assert.deepEqual(def(inBundle), def(inNode), `${pkg}: its default export differs in the chunk`);
      assert.ok(Object.keys(inNode).length > 1 || def(inNode).length > 0, `${pkg}: Node sees no export at all?`);
    }
  });
});
