/**
 * 10,000 checks in one file through the CLI bundle, with the open-file limit lowered to 1024:
 * no EMFILE (the default concurrency keeps the sockets in flight well under the limit), every
 * result present, and results streamed with -U as they arrive. Streaming is proven without
 * timing: one check waits on a server that answers only once the test has read every other
 * result from the CLI's stdout; a CLI that buffered its output until the end would never get
 * there (the hang guard fails the test).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CLI, NODE, ROOT, tempConfig } from './helpers/run.js';

const N = 10_000;
const HANG_GUARD_MS = 180_000;

let tcp: Server;
let tcpPort: number;
let gate: ReturnType<typeof createHttpServer>;
let gatePort: number;
let held: ServerResponse | undefined;
let accepted = 0;

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
});

after(async () => {
  held?.destroy();
  gate.closeAllConnections?.();
  await Promise.all([tcp, gate].map((s) => new Promise((r) => s.close(() => r(undefined)))));
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
  assert.equal(accepted, N - 1, 'the listener saw one connection per tcp check');
  assert.equal(tcpSeenWhenReleased, N - 1, 'all tcp results were read from stdout before the last check finished');
  assert.equal(gateLineAt, N - 1, 'the gate check was reported after every tcp check, as it finished');
  assert.match(stdout, /^gate OK$/m);
  assert.match(stdout, new RegExp(`^OK: ${N} checks passed in [\\d.]+s$`, 'm'));
});
