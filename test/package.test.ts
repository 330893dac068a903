/**
 * The npm package: the tarball holds the bundle and declares no runtime dependency (dist/
 * carries them), so installing it adds exactly one package, prints no warning (no EBADENGINE
 * from a dependency's engines), and `npx conn-check --version` works. Offline: a tarball
 * without dependencies needs no registry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from './helpers/run.js';
import { scratchDir } from './helpers/scratch.js';

const work = scratchDir('conn-check-pack-');
after(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // A private npm cache, no update notice, no registry: what the user's machine has does not matter.
    const env = { ...process.env, npm_config_cache: join(work, 'cache'), npm_config_update_notifier: 'false', npm_config_offline: 'true', npm_config_fund: 'false', npm_config_audit: 'false' };
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('npm pack, then npm install of the tarball: one package, no warning, npx conn-check --version works', async (t) => {
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies?: object; engines: { node: string } };
  assert.equal(own.dependencies, undefined, 'runtime dependencies are bundled into dist/: none are declared');

  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  const files = info!.files.map((f) => f.path);
  assert.ok(files.includes('bin/conn-check.js') && files.includes('dist/cli/index.js'), files.join(' '));
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('node_modules/')), 'only what runs is packed');

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const installed = await run('npm', ['install', join(work, info!.filename)], app);
  t.diagnostic(installed.stdout + installed.stderr);
  assert.equal(installed.code, 0, installed.stderr);
  assert.doesNotMatch(installed.stderr, /warn/i);
  assert.match(installed.stdout, /added 1 package\b/);
  assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.')), ['conn-check']);

  const version = await run('npx', ['--no-install', 'conn-check', '--version'], app);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `conn-check ${own.version}\n`);
});
