/** Runs the built bundles the way users and the Actions runner do, and reads what they wrote. */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { listen, type Listener } from './listen.js';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { scratchDir } from './scratch.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'bin/conn-check.js');
export const ACTION = join(ROOT, 'dist/index.js');
/** Node binary for the bundles: NODE_BIN (e.g. a Node 24) or this one. */
export const NODE = process.env.CONN_CHECK_NODE || process.execPath;

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function spawnNode(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string; timeoutMs?: number; onSpawn?: (pid: number) => void; node?: string } = {}): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(opts.node ?? NODE, args, { env: opts.env ?? process.env, cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
    if (child.pid && opts.onSpawn) opts.onSpawn(child.pid);
    // (a child may stop reading stdin early by design: `conn-check -` stops at its size cap)
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  });
}

/** `conn-check ARGS` from the CLI bundle. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return spawnNode([CLI, ...args], { ...opts, env: { ...process.env, ...opts.env } });
}

export interface ActionRun extends Ran {
  summary: string;
  outputs: Record<string, string>;
  workspace: string;
}

/** Every input at its action.yml default, as the runner sets them (the action refuses a missing boolean). */
const DEFAULT_INPUTS: Record<string, string> = Object.fromEntries(
  Object.entries((parseYaml(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as { inputs: Record<string, { default?: unknown }> }).inputs).map(([k, v]) => [k, String(v.default ?? '')]),
);

/** Parses a GITHUB_OUTPUT file (name<<DELIM ... DELIM blocks). */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) body.push(lines[i]!);
    out[m[1]!] = body.join('\n');
  }
  return out;
}

/**
 * Runs dist/index.js as the runner does: inputs as INPUT_* variables (defaults from action.yml),
 * GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files in a fresh workspace holding `files`.
 */
export async function runAction(
  inputs: Record<string, string>,
  opts: { files?: Record<string, string>; env?: NodeJS.ProcessEnv; timeoutMs?: number; workspace?: string; onSpawn?: (pid: number) => void } = {},
): Promise<ActionRun> {
  const workspace = opts.workspace ?? scratchDir('conn-check-ws-');
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(workspace, name), content);
  const summaryFile = join(workspace, '.summary.md');
  const outputFile = join(workspace, '.output.txt');
  writeFileSync(summaryFile, '');
  writeFileSync(outputFile, '');
  const env: NodeJS.ProcessEnv = { ...process.env, GITHUB_WORKSPACE: workspace, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile, ...opts.env };
  for (const [k, v] of Object.entries({ ...DEFAULT_INPUTS, ...inputs })) env[`INPUT_${k.toUpperCase()}`] = v;
  const ran = await spawnNode([ACTION], { env, cwd: workspace, timeoutMs: opts.timeoutMs, onSpawn: opts.onSpawn });
  return { ...ran, summary: readFileSync(summaryFile, 'utf8'), outputs: parseOutputs(readFileSync(outputFile, 'utf8')), workspace };
}

/**
 * A port that stays refused for the whole test file: below the kernel's ephemeral range, so no
 * server the tests start on port 0 can be given it later (freePort's port can be: a "refused"
 * cell once reached the slow-drip peer that the kernel had put there). Checked free when chosen.
 */
export async function refusedPort(host = '127.0.0.1'): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: the usual range
  }
  for (let i = 0; i < 50; i++) {
    const port = 10000 + Math.floor(Math.random() * Math.max(1, Math.min(low, 32768) - 10000));
    const free = await new Promise<boolean>((r) => {
      const s = createServer();
      s.once('error', () => r(false));
      s.listen(port, host, () => s.close(() => r(true)));
    });
    if (free) return port;
  }
  return freePort(host);
}

/** A port nobody listens on (bound then released). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePromise(port));
    });
  });
}

/** Writes a temp YAML file and returns its path. */
export function tempConfig(yaml: string, name = 'checks.yaml'): string {
  const dir = scratchDir('conn-check-cfg-');
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/**
 * Watches a child's peak resident memory: polls VmHWM ("high water mark", the peak RSS the
 * kernel keeps for the process) in /proc/PID/status until stop(), which returns the highest
 * value read, in MiB (NaN when /proc could not be read at all, e.g. not on Linux).
 */
export function watchPeakRss(pid: number, everyMs = 20): { stop(): number } {
  let peakKiB = Number.NaN;
  const read = () => {
    try {
      const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakKiB = Math.max(Number.isNaN(peakKiB) ? 0 : peakKiB, Number(m[1]));
    } catch {
      // gone (exited) or not Linux
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return peakKiB / 1024;
    },
  };
}

/**
 * For the tests of whole runs (CLI, action): `open`, a port that accepts connections (and ends
 * them), and `closed`, one nobody listens on; set up before the file's tests, closed after.
 */
export function openAndClosedPorts(): { open: number; closed: number } {
  const ports = { open: 0, closed: 0 };
  let server: Listener | undefined;
  before(async () => {
    server = await listen((s) => s.end());
    ports.open = server.port;
    ports.closed = await freePort();
  });
  after(() => server?.close());
  return ports;
}

/**
 * The CLI bundle over `checks` (written to a temp config) with -v, in text and in json: some of
 * them fail, so it exits 2, and none of `secrets` is in any output. Gives back both runs (the
 * text run's lines for the caller to match).
 */
export async function cliTextAndJson(checks: readonly object[], secrets: readonly string[] = []): Promise<{ text: Ran; json: Ran }> {
  const config = tempConfig(JSON.stringify(checks));
  const runs: Partial<Record<'text' | 'json', Ran>> = {};
  for (const format of ['text', 'json'] as const) {
    const ran = await runCli(['-v', '--format', format, config]);
    const all = ran.stdout + ran.stderr;
    assert.equal(ran.code, 2, all);
    for (const s of secrets) assert.ok(!all.includes(s), `secret in the ${format} output`);
    runs[format] = ran;
  }
  return { text: runs.text!, json: runs.json! };
}
