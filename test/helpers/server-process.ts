/**
 * What every helper that starts a real server process needs, once: wait, see whether a pid is
 * still alive, kill it and wait until it is gone, try a TCP connection to its port, and start
 * it (retries, temp directory, readiness, stop) with startServerProcess.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './run.js';
import { scratchDir } from './scratch.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether the process exists and is not a zombie (a zombie is gone for our purposes). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: kill(pid, 0) said it exists
  }
}

/** SIGKILLs `pid` (if it is alive) and waits up to 2 s for it to be gone. */
export async function killPid(pid: number): Promise<void> {
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` now. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** A server a helper started: its pid, temp directory and port; stop() kills it and removes the directory. */
export interface ServerProcess {
  pid: number;
  dir: string;
  /** The free loopback port it was given (its main listener). */
  port: number;
  stop(): Promise<void>;
}

/** One try at starting a server, as `launch` set it up in its fresh temp directory. */
export interface Launched {
  /** The server's pid, 0 until it is known (a daemon writes it to its pid file a moment later). */
  pid(): number;
  /** True once the server serves. */
  ready(): Promise<boolean>;
  /** True when it is known not to come up (it could not be spawned, or it exited). */
  failed?(): boolean;
  /** Why it did not come up: the spawn error, or the tail of its log. */
  why(): string;
}

/**
 * Starts a server, up to `tries` times (its free port can be taken before it binds), each time in
 * a fresh temp directory and on a fresh free port: `launch` starts it (throwing is a failed try), then ready() is polled
 * every `pollMs`, `polls` times at most, while the process lives. A try that fails is stopped
 * (killed, or terminated with `graceMs` to end its children too; its directory removed); after
 * the last one, the error says why.
 */
export async function startServerProcess(
  name: string,
  launch: (dir: string, port: number) => Promise<Launched>,
  o: { tries?: number; polls?: number; pollMs?: number; /** stop() sends SIGTERM and waits this long before SIGKILL. */ graceMs?: number } = {},
): Promise<ServerProcess> {
  let lastErr = '';
  for (let attempt = 0; attempt < (o.tries ?? 3); attempt++) {
    const dir = scratchDir(`conn-check-${name}-`);
    const port = await freePort();
    let server: Launched;
    try {
      server = await launch(dir, port);
    } catch (err) {
      lastErr = String(err).slice(0, 2000);
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    const stop = async () => {
      await (o.graceMs ? terminate(server.pid(), o.graceMs) : killPid(server.pid()));
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < (o.polls ?? 200); i++) {
      const pid = server.pid();
      if (server.failed?.() || (pid && !alive(pid))) break;
      if (pid && (await server.ready())) return { pid, dir, port, stop };
      await sleep(o.pollMs ?? 25);
    }
    lastErr = server.why();
    await stop();
  }
  throw new Error(`could not start ${name}: ${lastErr}`);
}

/** Spawns a server in the foreground, as a child that does not keep the tests alive. */
export function spawnServer(bin: string, args: readonly string[]): Pick<Launched, 'pid' | 'failed'> & { spawnError(): string } {
  const child = spawn(bin, args, { stdio: 'ignore' });
  let error = '';
  child.on('error', (err) => (error = String(err)));
  child.unref();
  return { pid: () => child.pid ?? 0, failed: () => !!error || child.exitCode !== null || child.signalCode !== null, spawnError: () => error };
}

/** The end of a server's log, for the error when it does not start. */
export function logTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : 'no log';
}

/** SIGTERMs `pid` (if it is alive), waits up to `graceMs` for it to end, then SIGKILLs it. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < graceMs && alive(pid); waited += 20) await sleep(20);
  await killPid(pid);
}

/** A daemon's pid, read from its pid file once the file is there (0 until then). */
export function pidFromFile(file: string): () => number {
  let pid = 0;
  return () => (pid ||= existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || 0 : 0);
}
