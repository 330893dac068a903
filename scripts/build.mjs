// Builds the action (dist/index.js) and the CLI (dist/cli/index.js) from src/ in ONE esbuild run,
// so that they share one set of chunks, replacing the output directory (dist/, or the one given
// as the first argument, e.g. for the benchmark's experiments) entirely. `--stats` also writes
// esbuild's metafile as meta.json (which input went into which output file).
//
// Why esbuild and not ncc: ncc builds one entry at a time, so the two entries duplicated every
// shared chunk (24 identical files, 7.5 MB in all), and webpack renumbered a chunk in about one
// build in four, so dist/ was not a function of src/. esbuild with splitting builds both entries
// at once, names each chunk after a hash of its content, and gives the same bytes on every build.
//
// What the bundle keeps from the ncc one:
// - every dynamic import() is a chunk of its own, so a driver loads only when a check of its type
//   runs (test/lazy-load.test.ts);
// - ESM for Node >= 20.19; the CommonJS drivers get a real `require` (node:module's
//   createRequire) for the builtins they require, and `__dirname`/`__filename` of the file;
// - `await import('mongodb')` gives the named exports of a CommonJS package, as Node does
//   (esbuild alone gives a split-off CommonJS chunk a default export only: see lazyCommonJs);
// - minified, with names kept (drivers show class names in their errors; see keptNamesInferred);
// - the licences of every bundled package, in licenses.txt.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(ROOT, 'dist'));
const stats = process.argv.includes('--stats');
/** esbuild's own minifying, names kept by a __name call each: what test/build.test.ts compares names with. */
const esbuildNames = process.argv.includes('--esbuild-names');
/** The `require` that CommonJS code in an output file needs (esbuild's __require calls it). */
const BANNER = 'const require=process.getBuiltinModule("node:module").createRequire(import.meta.url);';
/** The top-level functions compiled with their file: see eagerly(). */
const EAGER = new Set(existsSync(join(ROOT, 'scripts/eager-functions.json')) ? JSON.parse(readFileSync(join(ROOT, 'scripts/eager-functions.json'), 'utf8')) : []);
/**
 * The same `require`, made at its first call: createRequire costs ≈1M instructions, and esbuild's
 * runtime chunk names `require` for the drivers' __require, but a run of tcp checks requires
 * nothing (and, since OWN_NAME, no longer loads that chunk). Used where `require` is only
 * called (see the loop after the build).
 */
const LAZY_BANNER = 'let __cr;function require(id){return(__cr??=process.getBuiltinModule("node:module").createRequire(import.meta.url))(id)}';
/**
 * esbuild's __name, for a file that imports nothing else from esbuild's runtime chunk (the CLI's
 * and the action's entries, the CLI's main, the shared chunk, the check types): the runtime chunk
 * is then a file that a tcp or http run never loads. Each file Node's ESM loader loads costs
 * ≈20 KB of young objects besides its source, and page faults (docs/performance.md). __name
 * holds no state: a copy per file is the same function. The body refers to `__name` as a free
 * name, which minifying never renames to.
 */
const OWN_NAME = 'var __name=(e,r)=>Object.defineProperty(e,"name",{value:r,configurable:true});';
/**
 * Exports of built-ins whose read warns (a deprecated getter), each with the path, from the
 * built-in, of the same value without the warning: Node 24's DEP0176 (fs.F_OK is
 * fs.constants.F_OK).
 */
const QUIET_READS = {
  'node:fs': { F_OK: ['constants', 'F_OK'], R_OK: ['constants', 'R_OK'], W_OK: ['constants', 'W_OK'], X_OK: ['constants', 'X_OK'] },
};

rmSync(out, { recursive: true, force: true });
const options = {
  absWorkingDir: ROOT,
  entryPoints: [
    { in: 'src/index.ts', out: 'index' },
    { in: 'src/cli.ts', out: 'cli/index' },
  ],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Chunk names carry a hash of their content, never of the build's order or of the machine.
  chunkNames: '[name]-[hash]',
  // minified, names kept; identifiers are minified after the build, see keptNamesInferred
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: 'none',
  // The CommonJS packages' require('net') etc. go through esbuild's __require, which needs a
  // `require` in scope: each output file gets its own. The names cannot clash with the bundle's
  // (minified top-level names are short).
  // Only the files that use it keep it (see the loop after the build).
  banner: { js: BANNER },
  define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  metafile: true,
  logLevel: 'warning',
  // A name read from a built-in that the building Node lacks would be undefined at run time
  // (see builtinsByName): fail the build instead.
  logOverride: { 'import-is-undefined': 'error' },
  // Optional native parts (ssh2's sshcrypto.node, cpu-features) are never bundled, whether or not
  // this machine's npm compiled them: a build must not depend on that. ssh2 requires both inside
  // try/catch and runs in pure JavaScript without them.
  external: ['cpu-features'],
  plugins: [entryOwnProcess(), unusedActionsParts(), builtinsByName(), lazyCommonJs(), noNativeAddons(), grpcWithoutProtoLoader()],
  write: false,
};
// A first pass (not minified, not written) tells what the code imports; see sharedCore.
const { metafile: graph } = await esbuild.build({ ...options, minifyWhitespace: false, minifySyntax: false });
const result = await esbuild.build({ ...options, ...(esbuildNames ? { minify: true } : {}), plugins: [sharedCore(graph), ...options.plugins] });

// eagerly() turns function declarations into `var`s, which a file importing this one before it has
// run would see undefined: no cycles between the output files' static imports.
{
  const state = new Map();
  const visit = (file, path) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') throw new Error(`output files import each other in a cycle: ${[...path, file].join(' -> ')}`);
    state.set(file, 'open');
    for (const i of result.metafile.outputs[file]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(i.path, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of Object.keys(result.metafile.outputs)) visit(file, []);
}

// esbuild's runtime chunk (__name, __require...: no input of its own, only definitions)
const runtime = new Set(Object.entries(result.metafile.outputs).filter(([, o]) => Object.keys(o.inputs).length === 0).map(([f]) => resolve(ROOT, f)));

// The banner's createRequire costs a little in each of the ~15 files a run loads: it stays in
// the files that name `require` (esbuild's runtime chunk, whose __require serves every
// CommonJS driver's require of a built-in), and goes from the others. Where `require` is only
// called (no `require.resolve`, `require.cache`...: `.apply` is a call), it is made at its first call.
for (const file of result.outputFiles) {
  let text = file.text;
  if (text.startsWith(BANNER)) {
    const rest = text.slice(BANNER.length);
    if (!/\brequire\b/.test(rest)) text = rest;
    else if (!/\brequire\s*(\[|\.(?!apply\b))/.test(rest)) text = LAZY_BANNER + rest;
  }
  if (file.path.endsWith('.js') && !esbuildNames) text = await keptNamesInferred(text, relative(out, file.path), runtime);
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, text);
}

writeFileSync(join(out, 'package.json'), '{\n  "type": "module"\n}\n');
writeFileSync(join(out, 'licenses.txt'), licenses(Object.keys(result.metafile.inputs)));
if (stats) writeFileSync(join(out, 'meta.json'), JSON.stringify(result.metafile, null, 1) + '\n');

/**
 * Function and class names without a `__name` call where V8 gives the same name itself, and then
 * the identifiers minified. `keepNames` makes esbuild call `__name(fn, "name")` (an
 * Object.defineProperty) for every named function and class, because minifying renames them: the
 * shared chunk ran ~340 of them at load, about 7k instructions each. So esbuild builds with
 * identifiers as written, and here, in each output file:
 * - at the top level, `function f(){}` followed by `__name(f, "f")` loses the call, `var f =
 *   __name(() => ..., "f")` becomes `var f = () => ...`, and `static { __name(this, "C") }` goes
 *   from `var C = class {...}` and `class C {...}` (the name a declaration or a `var` gives an
 *   anonymous function or class is the same, by the language's own rules);
 * - anywhere, `{ key: __name(() => ..., "key") }` becomes `{ key: () => ... }` (a property's
 *   key names an anonymous function too, and minifying never renames keys);
 * - then esbuild minifies the identifiers of the rest, the imports and exports set aside, as a
 *   script: a script's top-level names may be globals, so esbuild keeps them, and every name
 *   below the top level still has its `__name` call.
 * So each function and class has the same `name` as before (test/build.test.ts compares them).
 */
async function keptNamesInferred(text, name, runtime) {
  const sf = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const moved = []; // [start, end] of import and export declarations
  const edits = []; // [start, end, replacement]
  const inferred = new Set(); // the top-level names that now name their function or class
  const declared = new Set(sf.statements.filter(ts.isFunctionDeclaration).map((f) => f.name?.text));
  /** `__name(<id or this>, "s")`: s, else undefined */
  const nameCall = (e, target) =>
    e && ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === '__name' && e.arguments.length === 2 && ts.isStringLiteral(e.arguments[1]) && target(e.arguments[0])
      ? e.arguments[1].text
      : undefined;
  /** An anonymous function or class: one that a declaration, a `var` or a key names. */
  const anonymous = (a) => ts.isArrowFunction(a) || ((ts.isFunctionExpression(a) || ts.isClassExpression(a)) && !a.name);
  /** The `static { __name(this, "s") }` block of a class whose name would be s anyway. */
  const dropStaticName = (cls, given, top = true) => {
    for (const m of cls.members) {
      if (!ts.isClassStaticBlockDeclaration(m) || m.body.statements.length !== 1 || !ts.isExpressionStatement(m.body.statements[0])) continue;
      const s = nameCall(m.body.statements[0].expression, (a) => a.kind === ts.SyntaxKind.ThisKeyword);
      if (s !== undefined && s === (cls.name?.text ?? given)) edits.push([m.getStart(sf), m.end, '']), top && inferred.add(s);
    }
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) moved.push([st.getStart(sf), st.end]);
    else if (ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword)) throw new Error(`${name}: an export the build does not expect`);
    else if (ts.isExportAssignment(st)) throw new Error(`${name}: an export the build does not expect`);
    else if (ts.isExpressionStatement(st)) {
      const s = nameCall(st.expression, ts.isIdentifier);
      if (s !== undefined && s === st.expression.arguments[0].text && declared.has(s)) edits.push([st.getStart(sf), st.end, '']), inferred.add(s);
    } else if (ts.isClassDeclaration(st)) dropStaticName(st);
    else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (!ts.isIdentifier(d.name) || !d.initializer) continue;
        const v = d.name.text;
        if (ts.isClassExpression(d.initializer)) dropStaticName(d.initializer, v);
        const s = nameCall(d.initializer, anonymous);
        if (s === undefined || s !== v) continue;
        const fn = d.initializer.arguments[0];
        if (ts.isClassExpression(fn)) dropStaticName(fn, v);
        edits.push([d.initializer.getStart(sf), fn.getStart(sf), ''], [fn.end, d.initializer.end, '']);
        inferred.add(v);
      }
    }
  }
  // anywhere: `{ key: __name(() => ..., "key") }` (a property's key is never renamed)
  const visit = (node) => {
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) && node.name.text !== '__proto__') {
      const s = nameCall(node.initializer, anonymous);
      if (s !== undefined && s === node.name.text) {
        const call = node.initializer;
        const fn = call.arguments[0];
        if (ts.isClassExpression(fn)) dropStaticName(fn, s, false);
        edits.push([call.getStart(sf), fn.getStart(sf), ''], [fn.end, call.end, '']);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  for (const [start, end] of moved) edits.push([start, end, '']);
  edits.sort((a, b) => b[0] - a[0]);
  let body = text;
  for (const [start, end, by] of edits) body = body.slice(0, start) + by + body.slice(end);
  const imports = sf.statements.filter(ts.isImportDeclaration);
  const exports = moved.map(([s, e]) => text.slice(s, e)).filter((t) => !t.startsWith('import'));
  const { code } = await esbuild.transform(body, { minifyIdentifiers: true, minifyWhitespace: true, target: 'node20', legalComments: 'none', logLevel: 'error' });
  // each of those names is still declared at the top level (esbuild kept it)
  const after = ts.createSourceFile(name, code, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const top = new Set();
  for (const st of after.statements) {
    if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) top.add(st.name.text);
    if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) top.add(d.name.text);
  }
  const lost = [...inferred].filter((n) => !top.has(n));
  if (lost.length > 0) throw new Error(`${name}: minifying renamed ${lost.join(', ')}, whose name is no longer given by __name`);
  // An import of esbuild's runtime chunk none of whose names is used any more goes: the runtime
  // chunk only defines its helpers (an entry that imported it for __name now loads it later).
  const used = new Set();
  const collect = (node) => (ts.isIdentifier(node) && used.add(node.text), ts.forEachChild(node, collect));
  collect(after);
  // A file that takes only __name from it defines its own (see OWN_NAME).
  let ownName = false;
  const kept = imports.filter((i) => {
    const bindings = i.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings) || i.importClause.name) return true;
    if (!runtime.has(resolve(ROOT, dirname(join(out, name)), i.moduleSpecifier.text))) return true;
    const names = bindings.elements.filter((e) => used.has(e.name.text)).map((e) => (e.propertyName ? `${e.propertyName.text} as ${e.name.text}` : e.name.text));
    if (names.length === 1 && names[0] === '__name') ownName = true;
    else return names.length > 0;
    return false;
  });
  const statement = (t) => (t.endsWith(';') ? t : t + ';');
  return (
    kept.map((i) => statement(text.slice(i.getStart(sf), i.end))).join('') +
    (ownName ? OWN_NAME : '') +
    eagerly(code, after) +
    exports.map(statement).join('') +
    '\n'
  );
}

/**
 * The top-level functions that typical runs call (scripts/eager-functions.json, written by
 * scripts/eager-functions.mjs from runs of the built bundle), made compiled when their file is.
 * V8 compiles a function when it is first called, unless its source is a function expression in
 * parentheses, and Node's compile cache holds only what was compiled with the file: so every run
 * compiled the same ~280 functions of the shared chunk again, cache or not. Each listed
 * `function f(...) {...}` becomes `var f = (function (...) {...});` at the top of its file, before
 * any other statement: the same function (`var f` names an anonymous function "f"), there before
 * anything runs, as a declaration is (and the output files import each other without cycles, so
 * no file sees another's binding before that file has run: checked after the build). A name no
 * longer in the bundle is ignored; a function missing from the list is compiled when called, as
 * before. Listing every top-level function instead costs a run without the cache (a first run,
 * the action on a fresh runner) the compiling of functions it never calls: 5M instructions more
 * than none listed, where the list saves 6M; with a warm cache the list saves 14M, all 12M.
 */
function eagerly(code, sf) {
  const hoisted = [];
  const edits = [];
  for (const st of sf.statements) {
    if (!ts.isFunctionDeclaration(st) || !st.name || !st.body || !EAGER.has(st.name.text)) continue;
    const start = st.getStart(sf);
    const anonymous = code.slice(start, st.name.getStart(sf)).trimEnd() + code.slice(st.name.end, st.end);
    hoisted.push(`var ${st.name.text}=(${anonymous});`);
    edits.push([start, st.end]);
  }
  let out = code;
  for (const [start, end] of edits.reverse()) out = out.slice(0, start) + out.slice(end);
  return hoisted.join('') + out.trimEnd();
}

/**
 * One chunk for the code both entries load at start. esbuild puts a module into the chunk of the
 * exact set of entry points (the two entries and every dynamic import()) that reach it, so the
 * code the CLI's main and the action's run share (config, validation, the runner, the report,
 * core, net, secrets) came out as a dozen small chunks, each reached by a different subset of
 * the check types: a one-check tcp run loaded 15 files, and Node's ESM loader costs ≈1.4M
 * instructions per file. Here every module of src/ that is imported dynamically (the check
 * types, the CLI's main, the action's run, the yaml reader...) also imports that shared code (a
 * module importing it is added at its top), so all of it is reached by the same entry points and
 * lands in one chunk. That code is what both entries load statically anyway (found in a first
 * pass of esbuild, from its metafile), plus the check kit (src/checks/kit: tcp, http and every
 * service check use it; 9 KB), so a run loads little it did not load before; drivers and other
 * packages stay chunks of their own. A one-check tcp run loaded 6 files, not 15; 3 since tcp
 * comes with the registry and each file defines its own __name (OWN_NAME).
 */
function sharedCore(graph) {
  /** The src/ modules a file loads at once (its static imports, transitively). */
  const staticallyFrom = (start) => {
    const seen = new Set([start]);
    for (const f of seen) for (const i of graph.inputs[f].imports) if (i.kind === 'import-statement' && i.path.startsWith('src/')) seen.add(i.path);
    return seen;
  };
  const cli = staticallyFrom('src/cli/main.ts');
  const both = [...staticallyFrom('src/action/run.ts')].filter((f) => cli.has(f));
  // and the check kit, which tcp, http and every service check build on
  const core = [...new Set([...both, ...staticallyFrom('src/checks/kit/index.ts')])].sort();
  const dynamic = new Set();
  for (const [file, input] of Object.entries(graph.inputs)) {
    if (!file.startsWith('src/')) continue;
    for (const i of input.imports) if (i.kind === 'dynamic-import' && i.path.startsWith('src/')) dynamic.add(i.path);
  }
  const BARREL = 'conn-check:shared-core';
  return {
    name: 'shared-core',
    setup(build) {
      build.onResolve({ filter: /^conn-check:shared-core$/ }, () => ({ path: BARREL, namespace: 'shared-core' }));
      build.onLoad({ filter: /.*/, namespace: 'shared-core' }, () => ({
        contents: core.map((f) => `import ${JSON.stringify('./' + f)};`).join('\n') + '\n',
        resolveDir: ROOT,
        loader: 'js',
      }));
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!dynamic.has(relative(ROOT, args.path).split('\\').join('/'))) return undefined;
        return { contents: `import ${JSON.stringify(BARREL)};\n` + readFileSync(args.path, 'utf8'), loader: 'ts' };
      });
    },
  };
}

/**
 * Each entry (src/cli.ts, src/index.ts) gets its own copy of src/process.ts, bundled into the
 * entry's file. Shared by both entries (and the app), process.ts was a chunk of its own, loaded
 * with esbuild's runtime chunk before the entry could turn the compile cache on: two more files
 * for Node's ESM loader, compiled on every run. Now the entry is one file that imports nothing
 * (its __name is its own: OWN_NAME), and the app's process.ts lands in the shared chunk.
 * process.ts holds no state, so three copies of it behave as one.
 */
function entryOwnProcess() {
  const ENTRIES = new Map([
    [join(ROOT, 'src/cli.ts'), 'entry-process-cli'],
    [join(ROOT, 'src/index.ts'), 'entry-process-index'],
  ]);
  return {
    name: 'entry-own-process',
    setup(build) {
      build.onResolve({ filter: /^\.\/process\.js$/ }, (args) => {
        const namespace = ENTRIES.get(args.importer);
        return namespace ? { path: join(ROOT, 'src/process.ts'), namespace } : undefined;
      });
      for (const namespace of ENTRIES.values()) {
        build.onLoad({ filter: /.*/, namespace }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'ts', resolveDir: join(ROOT, 'src') }));
      }
    },
  };
}

/**
 * `import { readFileSync } from 'node:fs'` in the bundle's ESM code (src/, and ESM packages such
 * as @actions/core) reads only the names it uses. Left to Node, importing a built-in as ESM
 * builds its ESM facade, which reads EVERY export of the built-in and so runs the lazy getters
 * behind them: node:util's TextDecoder loads worker_threads, node:fs its streams,
 * node:fs/promises readline; a one-check run loaded ~50 built-in modules it never used
 * (docs/performance.md has the numbers). Each importing file gets a small module of its own
 * instead (so no chunk is added):
 *
 *   const m = process.getBuiltinModule("node:fs");
 *   export const readFileSync = Reflect.get(m, "readFileSync");   // one per export of the built-in
 *
 * with the reads marked pure, so esbuild keeps only the names that file uses (a call to a built-in
 * function: a `pick(o, k)` of its own, as before, was one more function for V8 to compile and
 * one more __name call for each of the ~17 such modules a run loads). Like the facade's
 * bindings, each is read once, when the file loads. The names are those of the Node that
 * builds; a name it lacks is a build error (named imports: "No matching export"; `ns.name`:
 * import-is-undefined, made an error above). CommonJS packages keep their own require.
 *
 * Except a function that Node itself defines lazily and that cannot be called with `new`
 * (builtinProbe): node:util's parseArgs is loaded (with its two modules, ≈1M instructions)
 * when it is first read, so reading it when main.ts loads cost every run, though a command line
 * of files and flags never calls it. Such a name is exported as a function that reads the
 * built-in's at its first call (it is still a name of the building Node, so a missing one is
 * still a build error):
 *
 *   export function parseArgs() { return m.parseArgs.apply(this, arguments); }
 *
 * And except an export whose read is deprecated and warns (QUIET_READS): a package's
 * `import * as fs from 'fs'` (fdir, under tinyglobby) keeps every export of node:fs, so each was
 * read when the file loaded, and under Node 24 every run with a glob of config files printed
 * "DeprecationWarning: fs.F_OK is deprecated" (test/cli.test.ts, run under Node 24 in CI). Such
 * a name gets the value Node's warning names instead, the same value without the warning, with
 * whichever Node builds. A read that warns in the building Node and has no replacement listed is
 * a build error.
 */
function builtinsByName() {
  const builtins = new Set(builtinModules);
  const require = createRequire(import.meta.url);
  const { lazy, warning } = builtinProbe();
  for (const [id, names] of Object.entries(warning)) {
    const missing = names.filter((k) => QUIET_READS[id]?.[k] === undefined);
    if (missing.length) throw new Error(`reading ${missing.join(', ')} of ${id} warns in this Node: give each its replacement in QUIET_READS (scripts/build.mjs)`);
  }
  return {
    name: 'builtins-by-name',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z_][a-z_0-9/]*$/ }, (args) => {
        const name = args.path.replace(/^node:/, '');
        if (args.kind !== 'import-statement' || (!builtins.has(name) && !args.path.startsWith('node:'))) return undefined;
        // one module per importing file (the suffix only tells them apart; an entry's own process.ts is one more)
        const importer = relative(ROOT, args.importer).split("\\").join("/") + (args.namespace === 'file' ? '' : `@${args.namespace}`);
        return { path: `node:${name}?${importer}`, namespace: 'builtins-by-name', pluginData: `node:${name}` };
      });
      build.onLoad({ filter: /.*/, namespace: 'builtins-by-name' }, ({ pluginData: id }) => {
        const names = Object.keys(require(id)).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
        const lines = [
          `const m = /* @__PURE__ */ process.getBuiltinModule(${JSON.stringify(id)});`,
          'export default m;',
          ...names.map((k) =>
            lazy[id]?.includes(k)
              ? `export function ${k}() { return m[${JSON.stringify(k)}].apply(this, arguments); }`
              : QUIET_READS[id]?.[k] !== undefined
                ? `export const ${k} = ${QUIET_READS[id][k].reduce((o, p) => `/* @__PURE__ */ Reflect.get(${o}, ${JSON.stringify(p)})`, 'm')};`
                : `export const ${k} = /* @__PURE__ */ Reflect.get(m, ${JSON.stringify(k)});`,
          ),
        ];
        return { contents: lines.join('\n') + '\n', loader: 'js' };
      });
    },
  };
}

/**
 * What reading each built-in's exports does, in a fresh Node of the building version, reading
 * every name of every built-in in order (so what this build process happens to have loaded does
 * not matter and every build finds the same):
 * - lazy: the names whose first read loads more of Node (a lazily defined export, e.g.
 *   node:util's parseArgs) and whose value is a function that cannot be constructed (an arrow
 *   or a method: no `prototype`), so that a function calling it is the same to every caller;
 * - warning: the names whose read emits a warning (a deprecated getter).
 */
function builtinProbe() {
  const script = `
    let warned = false;
    const emitWarning = process.emitWarning;
    process.emitWarning = function () { warned = true; return emitWarning.apply(this, arguments); };
    const byModule = new Map(); // one entry per module object (node:sys is node:util)
    const found = {};
    const warning = {};
    for (const name of require('node:module').builtinModules) {
      if (name.startsWith('_')) continue;
      let m;
      try { m = process.getBuiltinModule('node:' + name); } catch { continue; }
      if (m === undefined || m === null) continue;
      if (!byModule.has(m)) {
        const names = [];
        const warns = [];
        for (const k of Object.keys(m)) {
          const before = process.moduleLoadList.length;
          warned = false;
          let v;
          try { v = m[k]; } catch { continue; }
          if (warned) warns.push(k);
          if (process.moduleLoadList.length > before && typeof v === 'function' && !Object.hasOwn(v, 'prototype')) names.push(k);
        }
        byModule.set(m, { names, warns });
      }
      const seen = byModule.get(m);
      if (seen.names.length > 0) found['node:' + name] = seen.names;
      if (seen.warns.length > 0) warning['node:' + name] = seen.warns;
    }
    process.stdout.write(JSON.stringify({ lazy: found, warning }));`;
  return JSON.parse(execFileSync(process.execPath, ['--no-warnings', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
}

/**
 * @actions/core imports, for features the action never calls, @actions/http-client (with
 * undici, ~430 KB, and tunnel: getIDToken's OIDC client) and @actions/exec (its `platform`
 * export runs lsb_release & co. on demand). esbuild must keep a module it cannot prove free of
 * side effects even when none of its exports is used, so the action loaded and ran all of it at
 * start (with node:tls, http, http2, crypto, zlib, child_process): ~70 ms of its start-up.
 * Those imports, made from @actions/core's own files only, are declared side-effect free here
 * (what they do at import is define things), so esbuild drops them while unused: were the
 * action to call getIDToken or read `platform`, they would be bundled as before. core's package
 * exports only its main module, so its parts cannot be imported one by one instead.
 * test/lazy-load.test.ts checks that an action run loads no undici.
 */
function unusedActionsParts() {
  const CORE = /[\\/]node_modules[\\/]@actions[\\/]core[\\/]/;
  const PARTS = new Set(['@actions/http-client', '@actions/http-client/lib/auth', '@actions/exec', './oidc-utils.js', './platform.js']);
  return {
    name: 'unused-actions-parts',
    setup(build) {
      build.onResolve({ filter: /^(@actions\/(http-client|exec)|\.\/(oidc-utils|platform)\.js)/ }, async (args) => {
        if (!PARTS.has(args.path) || !CORE.test(args.importer) || args.pluginData === 'unused-actions-parts') return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'unused-actions-parts' });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return { ...resolved, sideEffects: false };
      });
    },
  };
}

/** `require('./x.node')` becomes a module that throws, as a missing addon would: see `external` above. */
function noNativeAddons() {
  return {
    name: 'no-native-addons',
    setup(build) {
      build.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, namespace: 'no-native-addons' }));
      build.onLoad({ filter: /.*/, namespace: 'no-native-addons' }, () => ({
        contents: "throw new Error('native addon not bundled');\n",
        loader: 'js',
      }));
    },
  };
}

/**
 * @grpc/grpc-js requires @grpc/proto-loader (and with it protobufjs, some 120 KB) only inside the
 * functions of channelz and ORCA, which read .proto files from grpc-js' own folder (not in the
 * bundle either) and which a client that loads no service config never calls: a module that
 * throws, as the missing files would, stands in for it there. Other importers are left alone.
 */
function grpcWithoutProtoLoader() {
  return {
    name: 'grpc-without-proto-loader',
    setup(build) {
      build.onResolve({ filter: /^@grpc\/proto-loader$/ }, (args) =>
        /[\\/]node_modules[\\/]@grpc[\\/]grpc-js[\\/]/.test(args.importer) ? { path: args.path, namespace: 'grpc-without-proto-loader' } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'grpc-without-proto-loader' }, () => ({
        contents: "throw new Error('@grpc/proto-loader not bundled (channelz and ORCA are not used)');\n",
        loader: 'js',
      }));
    },
  };
}

/**
 * `import('pkg')` of a CommonJS package, split into a chunk of its own, comes out of esbuild as
 * a chunk with only `export default module.exports`, so `const { MongoClient } = await
 * import('mongodb')` would get undefined. This plugin puts a small ESM module in between that
 * names the exports: `export const { MongoClient, ... } = require('<the package's file>')`. The
 * names are the keys of module.exports, read by requiring the package here, at build time (the
 * same superset of Node's own named exports that esbuild's unsplit interop gives). ESM packages
 * and Node builtins are left alone.
 */
function lazyCommonJs() {
  const builtins = new Set(builtinModules);
  const require = createRequire(join(ROOT, 'package.json'));
  return {
    name: 'lazy-commonjs',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.path.startsWith('node:') || builtins.has(args.path) || args.pluginData === 'lazy-commonjs') return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'lazy-commonjs' });
        if (resolved.errors.length > 0 || !resolved.path) return undefined;
        let exported;
        try {
          exported = require(resolved.path);
        } catch {
          return undefined; // ESM (Node 20 cannot require it): esbuild's own chunk keeps its exports
        }
        if (exported?.[Symbol.toStringTag] === 'Module') return undefined; // ESM, required by a newer Node
        const names = Object.keys(exported ?? {})
          .filter((k) => k !== 'default' && k !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(k))
          .sort();
        const file = './' + relative(ROOT, resolved.path).split('\\').join('/');
        return { path: args.path, namespace: 'lazy-commonjs', pluginData: { file, names } };
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy-commonjs' }, ({ pluginData: { file, names } }) => ({
        contents: `const m = require(${JSON.stringify(file)});\nexport default m;\n${names.length ? `export const { ${names.join(', ')} } = m;\n` : ''}`,
        resolveDir: ROOT,
        loader: 'js',
      }));
    },
  };
}

/**
 * The licence of every package that has a file in the bundle, in ncc's format (name, licence,
 * text; a blank line between packages), sorted by name and version so that the file is the same
 * on every build.
 */
function licenses(inputs) {
  const roots = new Set();
  for (const input of inputs) {
    if (/^[\w-]+:/.test(input)) continue; // a plugin's module (builtins-by-name, lazy-commonjs)
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) roots.add(m[1]);
  }
  const entries = [];
  for (const dir of roots) {
    const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
    const licence =
      typeof pkg.license === 'string'
        ? pkg.license
        : (pkg.license?.type ?? (Array.isArray(pkg.licenses) ? pkg.licenses.map((l) => l.type ?? l).join(' OR ') : 'UNKNOWN'));
    const files = readdirSync(join(ROOT, dir))
      .filter((f) => /^(licen[cs]e|copying|notice)/i.test(f))
      .sort();
    const texts = files.map((f) => readFileSync(join(ROOT, dir, f), 'utf8').replace(/\r\n?/g, '\n').trim());
    entries.push({ name: pkg.name, version: pkg.version, text: `${pkg.name}\n${licence}\n${texts.join('\n\n')}`.trimEnd() });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  const seen = new Set();
  return (
    entries
      .filter((e) => !seen.has(e.text) && seen.add(e.text))
      .map((e) => e.text)
      .join('\n\n') + '\n'
  );
}
