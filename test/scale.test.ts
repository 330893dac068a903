/**
 * 10,000 checks in one file through the CLI bundle, with the open-file limit lowered to 1024:
 * no EMFILE (the default concurrency keeps the sockets in flight well under the limit), every
 * result present, and results streamed with -U as they arrive. Streaming is proven without
 * timing: one check waits on a server that answers only once the test has read every other
 * result from the CLI's stdout; a CLI that buffered its output until the end would never get
 * there (the hang guard fails the test).
 * The default concurrency follows the open-file limit: under ulimit -n 256 silent udp checks
 * never hit EMFILE; under 2048, 400 of them are all in flight at once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CLI, NODE, ROOT, tempConfig } from './helpers/run.js';
import { startSilentUdp, type UdpPeer } from './helpers/peers.js';

const N = 10_000;
const HANG_GUARD_MS = 180_000;

let tcp: Server;
let tcpPort: number;
let gate: ReturnType<typeof createHttpServer>;
let gatePort: number;
let held: ServerResponse | undefined;
let accepted = 0;
let silent: UdpPeer;

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve((server.address() as { port: number }).port)));
}

before(async () => {
  tcp = createServer((s) => {
    accepted++;
    s.on('error', () => {});
    s.destroy();
  });
  gate = createHttpServer((req, res) => {
    req.resume();
    held = res;
  });
  [tcpPort, gatePort] = await Promise.all([listen(tcp), listen(gate)]);
  silent = await startSilentUdp();
});

after(async () => {
  held?.destroy();
  gate.closeAllConnections?.();
  await Promise.all([tcp, gate].map((s) => new Promise((r) => s.close(() => r(undefined)))));
  await silent.close();
});

test(`${N} checks, ulimit -n 1024, results streamed`, { skip: !existsSync(join(ROOT, 'dist/cli/index.js')) && 'dist/cli is not built', timeout: HANG_GUARD_MS + 10_000 }, async () => {
  const lines = [`- {type: http, url: "http://127.0.0.1:${gatePort}/gate", timeout: 170, name: gate}`];
  for (let i = 1; i < N; i++) lines.push(`- {type: tcp, host: 127.0.0.1, port: ${tcpPort}}`);
  const config = tempConfig(lines.join('\n') + '\n');

  const child = spawn('bash', ['-c', 'ulimit -n 1024 && exec "$0" "$@"', NODE, CLI, '-U', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
  let stdout = '';
  let stderr = '';
  let passedTcp = 0;
  let gateLineAt = -1;
  let released = false;
  let tcpSeenWhenReleased = -1;
  let pending = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    pending += d;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const line of parts) {
      if (line === `tcp:127.0.0.1:${tcpPort} OK`) passedTcp++;
      if (line.startsWith('gate ')) gateLineAt = passedTcp;
    }
    // Every other result has arrived while the gate check still waits: let it through.
    if (!released && passedTcp === N - 1 && held) {
      released = true;
      tcpSeenWhenReleased = passedTcp;
      held.end('ok');
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(guard);

  assert.equal(signal, null, `the CLI was killed by the hang guard (${passedTcp} tcp results read, gate released: ${released}); stderr: ${stderr.slice(-500)}`);
  assert.doesNotMatch(stdout + stderr, /EMFILE|too many open files/i);
  assert.equal(code, 0, `exit ${code}; stderr: ${stderr.slice(-500)}; last lines: ${stdout.slice(-500)}`);
  assert.equal(passedTcp, N - 1, 'every tcp check reported OK once');
  // Every tcp check saw its connection open, so each is in the listener's backlog; the CLI may
  // exit before this process has accepted the last of them (it leaves as soon as it is done).
  for (const until = Date.now() + 10_000; accepted < N - 1 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
  assert.equal(accepted, N - 1, 'the listener saw one connection per tcp check');
  assert.equal(tcpSeenWhenReleased, N - 1, 'all tcp results were read from stdout before the last check finished');
  assert.equal(gateLineAt, N - 1, 'the gate check was reported after every tcp check, as it finished');
  assert.match(stdout, /^gate OK$/m);
  assert.match(stdout, new RegExp(`^OK: ${N} checks passed in [\\d.]+s$`, 'm'));
});

const built = existsSync(join(ROOT, 'dist/cli/index.js'));

/**
 * The CLI under `ulimit -n LIMIT` with the default concurrency, on N udp checks to a bound port
 * that never answers. `onFirstResult` runs when the first result line arrives (-U streams them).
 */
async function silentUdpRun(limit: number, n: number, timeoutS: number, flags: string[] = [], onFirstResult?: (stderr: () => string) => void): Promise<string> {
  const line = `- {type: udp, host: 127.0.0.1, port: ${silent.port}, send: ping, expect: pong, timeout: ${timeoutS}}`;
  const config = tempConfig(Array.from({ length: n }, () => line).join('\n') + '\n');
  const child = spawn('bash', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, NODE, CLI, '-U', ...flags, config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (stdout === '') onFirstResult?.(() => stderr);
    stdout += d;
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(guard);
  assert.equal(signal, null, `killed by the hang guard; stderr: ${stderr.slice(-500)}`);
  assert.doesNotMatch(stdout + stderr, /EMFILE|too many open files/i);
  assert.equal(code, 2, `exit ${code}; stderr: ${stderr.slice(-500)}; last lines: ${stdout.slice(-500)}`);
  const timedOut = stdout.split('\n').filter((l) => l === `udp:127.0.0.1:${silent.port} FAILED - udp: timed out after ${timeoutS}s`).length;
  assert.equal(timedOut, n, `every check reported, timed out; last lines: ${stdout.slice(-500)}`);
  assert.match(stdout, new RegExp(`^CRITICAL: ${n} of ${n} checks failed in [\\d.]+s$`, 'm'));
  return stderr;
}

test('ulimit -n 256: the default concurrency stays under it, 300 silent udp checks all time out, no EMFILE', { skip: !built && 'dist/cli is not built', timeout: 130_000 }, async () => {
  // (a fixed default of 256 checks in flight ran out of descriptors here: some failed "too many open files")
  await silentUdpRun(256, 300, 1);
});

test('ulimit -n 2048: 400 silent udp checks are all in flight at once (the default follows the limit)', { skip: !built && 'dist/cli is not built', timeout: 130_000 }, async () => {
  // No clock: with -U the first result line is the first timeout (5 s in); with -v each check
  // says "Starting" on stderr when the runner lets it go. All 400 must have started by then:
  // a fixed limit of 256 would start the 257th only after the first result.
  let startedBeforeFirstResult = -1;
  const started = (err: string) => err.split('\n').filter((l) => l.startsWith(`Starting udp:127.0.0.1:${silent.port} `)).length;
  const err = await silentUdpRun(2048, 400, 5, ['-v'], (stderr) => (startedBeforeFirstResult = started(stderr())));
  assert.equal(started(err), 400);
  assert.equal(startedBeforeFirstResult, 400, 'checks started when the first result arrived');
});
