// Builds the two ncc bundles (action and CLI) from src/, replacing the output directory
// (dist/, or the one given as the first argument, e.g. for the benchmark's experiments) entirely.
// `--stats` also writes webpack's stats.json next to each bundle (what is in which chunk).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ncc = 'node_modules/@vercel/ncc/dist/ncc/cli.js';
const root = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'dist';
const stats = process.argv.includes('--stats');

// ncc minifies only the entry file; the chunks it splits off (the rest of the code, loaded
// after the entry, and one per driver) come out as written. Minifying them too halves what
// each run reads and parses. esbuild is here as tsx's own dependency; names are kept, since
// drivers show class names in their errors.
let esbuild;
try {
  esbuild = createRequire(import.meta.url)('esbuild');
} catch {
  console.warn('build: esbuild not found: the chunks are left unminified');
}

rmSync(root, { recursive: true, force: true });
for (const [entry, out] of [
  ['src/index.ts', root],
  ['src/cli.ts', join(root, 'cli')],
]) {
  // --no-cache: a build depends on src/ and node_modules/ only, never on ncc's machine-wide
  // cache of earlier builds (~/.cache/ncc). Chunk ids still vary now and then without it (see
  // .ci/run), so it is not the cause of that.
  const args = [ncc, 'build', entry, '-o', out, '--minify', '--no-cache', '--license', 'licenses.txt', '--quiet', '--target', 'es2022'];
  if (stats) args.push('--stats-out', join(out, 'stats.json'));
  execFileSync(process.execPath, args, { stdio: 'inherit' });
  // ssh2's optional native parts (sshcrypto.node, cpu-features, Windows' pagent.exe), copied in
  // when npm happened to build them: ssh2 requires them inside try/catch and runs in pure JS
  // without them, so the bundles ship none (one platform's binaries, absent on another build).
  for (const f of ['build', 'lib', 'pagent.exe']) rmSync(join(out, f), { recursive: true, force: true });
  // The chunks are ES modules, where CommonJS's __dirname does not exist: code that ncc left
  // using it (ssh2's poly1305 loader, at load time; mysql2's error stacks) gets the chunk's directory.
  for (const f of readdirSync(out).filter((f) => /^\d+\.index\.js$/.test(f))) {
    const code = readFileSync(join(out, f), 'utf8');
    if (/\b__dirname\b/.test(code)) writeFileSync(join(out, f), `var __dirname = import.meta.dirname;\n${code}`);
  }
  if (!esbuild) continue;
  for (const f of readdirSync(out)) {
    if (!/^\d+\.index\.js$/.test(f)) continue;
    const file = join(out, f);
    const { code } = esbuild.transformSync(readFileSync(file, 'utf8'), { minify: true, keepNames: true, format: 'esm', target: 'es2022', legalComments: 'none' });
    writeFileSync(file, code);
  }
}
