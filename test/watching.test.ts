/**
 * Where a person watches: colour on a terminal (NO_COLOR, FORCE_COLOR honoured; never in a pipe,
 * a machine format or a --output file), progress on stderr while retries run (a live line on a
 * terminal, plain lines elsewhere), and -v telling each retry. In-process through main(), with
 * isTTY injected.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main, type Io } from '../src/cli/main.js';
import { wantsColour } from '../src/cli/colour.js';
import { spawn } from 'node:child_process';
import { CLI, freePort, NODE } from './helpers/run.js';
import { scratchDir } from './helpers/scratch.js';

const dir = scratchDir('conn-check-watch-');
const ESC = '\x1b[';
const server = createServer((s) => s.end());
let config: string;

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const open = (server.address() as { port: number }).port;
  const closed = await freePort();
  config = join(dir, 'c.yaml');
  writeFileSync(
    config,
    `- {type: tcp, host: 127.0.0.1, port: ${open}, name: up}\n- {type: tcp, host: 127.0.0.1, port: ${closed}, name: down}\n- {type: tcp, host: 127.0.0.1, port: ${closed}, name: soft, severity: warning}\n- {type: tcp, host: 127.0.0.1, port: ${open}, name: other, tags: [x]}\n`,
  );
});
after(() => server.close());

async function cli(args: string[], o: { env?: NodeJS.ProcessEnv; stdout?: boolean; stderr?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), readStdin: () => new Uint8Array(), env: o.env ?? {}, cwd: dir, isTTY: { stdout: o.stdout, stderr: o.stderr } };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

test('wantsColour: a terminal yes, a pipe no; NO_COLOR wins; FORCE_COLOR forces either way; TERM=dumb no', () => {
  assert.equal(wantsColour({}, true), true);
  assert.equal(wantsColour({}, false), false);
  assert.equal(wantsColour({}, undefined), false);
  assert.equal(wantsColour({ NO_COLOR: '1' }, true), false);
  assert.equal(wantsColour({ NO_COLOR: '1', FORCE_COLOR: '1' }, true), false);
  assert.equal(wantsColour({ NO_COLOR: '' }, true), true, 'an empty NO_COLOR is unset (no-color.org)');
  assert.equal(wantsColour({ FORCE_COLOR: '1' }, false), true);
  assert.equal(wantsColour({ FORCE_COLOR: '0' }, true), false);
  assert.equal(wantsColour({ TERM: 'dumb' }, true), false);
  assert.equal(wantsColour({ CI: 'true', GITHUB_ACTIONS: 'true' }, false), false, 'a CI log is not a terminal');
});

test('on a terminal: OK green, FAILED red, WARNING yellow, SKIPPED cyan, the verdict coloured', async () => {
  const r = await cli(['--exclude-tags', 'x', config], { stdout: true });
  assert.equal(r.code, 2);
  assert.match(r.stdout, /^down \x1b\[31mFAILED\x1b\[0m - tcp: connection refused$/m);
  assert.match(r.stdout, /^soft \x1b\[33mWARNING\x1b\[0m - /m);
  assert.match(r.stdout, /^up \x1b\[32mOK\x1b\[0m$/m);
  assert.match(r.stdout, /^\x1b\[31m\x1b\[1mCRITICAL:\x1b\[0m 1 of 3 checks failed/m);
  const dry = await cli(['--dry-run', config], { stdout: true });
  assert.match(dry.stdout, /^\x1b\[36mSKIPPED\x1b\[0m: other \(127\.0\.0\.1:\d+\)$/m);
  const unbuffered = await cli(['-U', config], { stdout: true });
  assert.match(unbuffered.stdout, /\x1b\[31m\x1b\[1mCRITICAL:\x1b\[0m/);
});

test('no colour in a pipe, with NO_COLOR, in JSON, or in a --output file; FORCE_COLOR colours a pipe', async () => {
  assert.ok(!(await cli([config])).stdout.includes(ESC));
  assert.ok(!(await cli([config], { stdout: true, env: { NO_COLOR: '1' } })).stdout.includes(ESC));
  assert.ok(!(await cli(['--format', 'json', config], { stdout: true })).stdout.includes(ESC));
  const out = join(dir, 'report.txt');
  const withFile = await cli(['--output', out, config], { stdout: true });
  assert.ok(withFile.stdout.includes(ESC), 'the terminal still gets colour');
  assert.ok(!readFileSync(out, 'utf8').includes(ESC), 'the file does not');
  assert.ok((await cli([config], { env: { FORCE_COLOR: '1' } })).stdout.includes(`${ESC}31m`));
});

test('--wait in a log: plain progress lines on stderr with how many still fail and the time left', async () => {
  const r = await cli(['--wait', '2.5', config]);
  assert.equal(r.code, 2);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.ok(lines.length >= 1, r.stderr);
  for (const l of lines) assert.match(l, /^conn-check: \d+ done, \d+ running; \d+ still failing \((down|soft): tcp: connection refused(, \+1 more)?\); \ds left of --wait$/);
  assert.ok(!r.stderr.includes('\r') && !r.stderr.includes(ESC), 'no terminal controls in a log');
  assert.ok(lines.length <= 6, `few lines, not one per attempt: ${lines.length}`);
});

test('--wait on a terminal: one live line, rewritten in place and erased at the end; -v tells each retry', async () => {
  const r = await cli(['--wait', '2.5', '-v', config], { stderr: true });
  assert.match(r.stderr, /\r\x1b\[Kconn-check: \d+ done, \d+ running; 2 still failing \(down: tcp: connection refused, \+1 more\); \ds left of --wait/);
  assert.ok(r.stderr.endsWith('\r\x1b[K'), 'the live line is erased before the report');
  assert.match(r.stderr, /^Retrying down in 1s \(attempt 1 failed: tcp: connection refused\)$/m);
  assert.match(r.stderr, /^Starting up \(127\.0\.0\.1:\d+\)\.\.\.$/m);
});

test('a run without retries that ends quickly prints no progress at all', async () => {
  assert.equal((await cli([config])).stderr, '');
  assert.equal((await cli([config], { stderr: true })).stderr, '');
});

test('through a real pseudo-terminal (script -qc): the bundle colours its text, and not with NO_COLOR', async () => {
  // util-linux's `script` runs the CLI with a pseudo-terminal as stdout and stderr.
  const run = (env: NodeJS.ProcessEnv) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', `${JSON.stringify(NODE)} ${JSON.stringify(CLI)} ${JSON.stringify(config)}`, '/dev/null'], { env: { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(killer);
        resolve(out);
      });
    });
  const tty = await run({});
  assert.match(tty, /down \x1b\[31mFAILED\x1b\[0m - tcp: connection refused/);
  const plain = await run({ NO_COLOR: '1' });
  assert.match(plain, /down FAILED - tcp: connection refused/);
  assert.ok(!plain.includes(ESC), 'NO_COLOR');
});
