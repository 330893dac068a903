/**
 * What a new user runs into in the first minutes (issue 11): mistyped flags and options, a
 * missing file, an --output that cannot be written, what --dry-run lists, an empty list, a YAML
 * indentation slip, and the JUnit times. In-process through main(), with a fake terminal.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main, type Io } from '../src/cli/main.js';
import { renderJunit } from '../src/report/junit.js';
import type { CheckResult } from '../src/runner/result.js';
import { scratchDir } from './helpers/scratch.js';

const dir = scratchDir('conn-check-first-');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), readStdin: () => new Uint8Array(), env, cwd: dir };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('an unknown flag: one line naming the nearest flag, exit 3', async () => {
  const r = await cli(['--formatt', 'json', 'x.yaml']);
  assert.equal(r.code, 3);
  assert.equal(r.stderr, 'conn-check: unknown option --formatt; did you mean --format? (conn-check --help lists the options)\n');
  assert.equal((await cli(['--max-timout=3', 'x.yaml'])).stderr, 'conn-check: unknown option --max-timout; did you mean --max-timeout? (conn-check --help lists the options)\n');
  assert.equal((await cli(['--zzzz', 'x.yaml'])).stderr, 'conn-check: unknown option --zzzz (conn-check --help lists the options)\n');
  assert.equal((await cli(['x.yaml', '--format'])).stderr, 'conn-check: --format needs a value\n');
  assert.equal((await cli(['--verbose=yes', 'x.yaml'])).stderr, 'conn-check: --verbose takes no value\n');
});

test('a typo of a known option fails validation, naming the option it is close to', async () => {
  const f = file('typo.yaml', '- type: http\n  url: http://127.0.0.1:1/\n  expected_cod: 500\n  timout: 1\n');
  const r = await cli(['--validate', f]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /typo\.yaml:3:3: checks\[0\] \(http\): expected_cod: unknown option for http checks; did you mean expected_code\?\n/);
  assert.match(r.stderr, /typo\.yaml:4:3: checks\[0\] \(http\): timout: unknown option for http checks; did you mean timeout\?\n/);
  assert.doesNotMatch(r.stdout, /OK/);
});

test('a missing file or a directory: says the file cannot be read, not "invalid config"', async () => {
  const missing = await cli([join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 3);
  assert.equal(missing.stderr, `nope.yaml: file not found\nUNKNOWN: cannot read the config file\n`);
  const directory = await cli([dir]);
  assert.equal(directory.stderr, `${dir}: is a directory, not a config file\nUNKNOWN: cannot read the config file\n`);
});

test('--output where it cannot be written: says what failed, before running anything, without a --help hint', async () => {
  const f = file('one.yaml', '- {type: tcp, host: 127.0.0.1, port: 1}\n');
  const r = await cli(['--output', '/no/such/dir/x', f]);
  assert.equal(r.code, 3);
  assert.equal(r.stderr, 'conn-check: --output /no/such/dir/x: cannot write the report: the directory /no/such/dir does not exist\n');
  assert.equal(r.stdout, '', 'nothing ran');
  assert.equal((await cli(['--output', dir, f])).stderr, `conn-check: --output ${dir}: cannot write the report: it is a directory\n`);
});

test('--dry-run lists names with their targets; its JSON has no attempt and no error', async () => {
  const f = file('dry.yaml', '- {type: tcp, host: 127.0.0.1, port: 1}\n- {type: http, url: "http://127.0.0.1:1/health", name: web health}\n');
  const text = await cli(['--dry-run', f]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^SKIPPED: tcp:127\.0\.0\.1:1\nSKIPPED: web health \(http:\/\/127\.0\.0\.1:1\/health\)\n/);
  const json = JSON.parse((await cli(['--dry-run', '--format', 'json', f])).stdout) as Record<string, unknown>[];
  for (const r of json) {
    assert.equal(r.status, 'skipped');
    assert.equal(r.attempts, 0);
    assert.equal(r.error, null);
    assert.equal(r.reason, 'dry run');
  }
});

test('[] is an empty file: exit 3, the same message', async () => {
  const a = await cli([file('list.yaml', '[]\n')]);
  const b = await cli([file('empty.yaml', '')]);
  assert.equal(a.code, 3);
  assert.equal(b.code, 3);
  assert.equal(a.stderr.replace('list.yaml', 'F'), b.stderr.replace('empty.yaml', 'F'));
  assert.match(a.stderr, /the file has no checks/);
});

test('a key indented deeper than the one above: reported at that key, naming both', async () => {
  const r = await cli(['--validate', file('indent.yaml', '- type: tcp\n  host: localhost\n   port: 1\n')]);
  assert.equal(r.code, 3);
  assert.equal(r.stderr, `indent.yaml:3:4: not valid YAML: "port" is indented deeper than "host" above it; the options of a check start in the same column\nUNKNOWN: invalid config (1 problem)\n`);
});

test('JUnit: no <testsuite time> exceeds <testsuites time> when checks ran in parallel', () => {
  const r = (name: string, file: string): CheckResult => ({ name, type: 'tcp', target: 'a:1', status: 'passed', duration_ms: 900, tags: [], file, line: 1 });
  const xml = renderJunit([r('a', 'one.yaml'), r('b', 'one.yaml'), r('c', 'one.yaml'), r('d', 'two.yaml')], 1000);
  const total = Number(/<testsuites [^>]*time="([\d.]+)"/.exec(xml)![1]);
  const suites = [...xml.matchAll(/<testsuite [^>]*time="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(total, 1);
  assert.deepEqual(suites, [1, 0.9]);
});
