/**
 * Throwaway redis-server instances for the redis check tests: daemonized, on free loopback
 * ports, no persistence, with a pid file in a temp directory; stop() kills them by pid.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './run.js';
import { alive, canConnect, killPid, sleep } from './server-process.js';

const run = promisify(execFile);

export interface RedisInstance {
  port: number;
  pid: number;
  dir: string;
  /** The Unix socket it also listens on (`unixsocket`, mode 700): DIR/redis.sock. */
  socket: string;
  stop(): Promise<void>;
}

export interface RedisStartOptions {
  /** requirepass for the default user. */
  password?: string;
  /** ACL users: `--user NAME on >PASSWORD ~* &* +@all`. */
  users?: { name: string; password: string; enabled?: boolean }[];
  /** TLS only (port 0, tls-port P) with these files. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

/** Starts one redis-server; retries on a port clash. */
export async function startRedis(opts: RedisStartOptions = {}): Promise<RedisInstance> {
  let lastErr = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'conn-check-redis-'));
    const port = await freePort();
    const pidfile = join(dir, 'redis.pid');
    const logfile = join(dir, 'redis.log');
    const args = ['--daemonize', 'yes', '--pidfile', pidfile, '--logfile', logfile, '--dir', dir, '--bind', '127.0.0.1', '-::1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
    if (opts.tls) {
      args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.certFile, '--tls-key-file', opts.tls.keyFile, '--tls-ca-cert-file', opts.tls.caFile, '--tls-auth-clients', 'no');
    } else {
      args.push('--port', String(port));
    }
    args.push('--unixsocket', join(dir, 'redis.sock'), '--unixsocketperm', '700');
    if (opts.password !== undefined) args.push('--requirepass', opts.password);
    for (const u of opts.users ?? []) args.push('--user', u.name, u.enabled === false ? 'off' : 'on', `>${u.password}`, '~*', '&*', '+@all');
    try {
      await run('redis-server', args, { timeout: 10_000 });
    } catch (err) {
      lastErr = String(err);
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    let pid = 0;
    for (let i = 0; i < 250; i++) {
      if (!pid && existsSync(pidfile)) pid = Number(readFileSync(pidfile, 'utf8').trim()) || 0;
      if (pid && (await canConnect(port))) {
        const stop = async () => {
          await killPid(pid);
          rmSync(dir, { recursive: true, force: true });
        };
        return { port, pid, dir, socket: join(dir, 'redis.sock'), stop };
      }
      if (pid && !alive(pid)) break;
      await sleep(20);
    }
    lastErr = existsSync(logfile) ? readFileSync(logfile, 'utf8').slice(-2000) : 'no log';
    if (pid) await killPid(pid);
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`could not start redis-server: ${lastErr}`);
}
