/**
 * The docs stay true to the code: README.md's table of check types and docs/cli.md's option
 * list are what `npm run readme` generates from the registry and the CLI's help (stale: the
 * test fails), every registered type has its page under docs/checks/, the README stays a front
 * page (at most ~400 lines, the demo its first command), and every relative link resolves.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { checkTypes } from '../src/checks/registry.js';
import { ROOT } from './helpers/run.js';

/** Pages other branches write (security: the output-gate work; migration: the migration work). */
const WRITTEN_ELSEWHERE = new Set(['docs/security.md', 'docs/migration.md']);

test('the generated parts are fresh and every check type has its page', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/readme.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const t of checkTypes()) {
    assert.ok(existsSync(join(ROOT, 'docs/checks', `${t.type}.md`)), `docs/checks/${t.type}.md`);
    assert.ok(readme.includes(`](docs/checks/${t.type}.md)`), `README links docs/checks/${t.type}.md`);
  }
});

test('the README is a front page whose first command is the demo', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n').length;
  assert.ok(lines <= 400, `README.md has ${lines} lines`);
  const firstCommand = /```sh\n([^\n]*)/.exec(readme)?.[1] ?? '';
  assert.match(firstCommand, /^\.\/scripts\/demo\.sh\b/);
  assert.match(readme, /bash scripts\/test\.sh/);
});

test('every relative link of README.md and docs/ resolves', () => {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs'), { recursive: true }).map(String).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!.split('#')[0]!;
      if (!target || /^[a-z]+:/i.test(target)) continue;
      const path = join(dirname(join(ROOT, file)), target);
      const rel = path.slice(ROOT.length + 1);
      if (!existsSync(path) && !WRITTEN_ELSEWHERE.has(rel)) broken.push(`${file}: ${m[1]}`);
    }
  }
  assert.deepEqual(broken, []);
});
