/**
 * Throwaway redis-server instances for the redis check tests: daemonized, on free loopback
 * ports, no persistence, with a pid file in a temp directory; stop() kills them by pid.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canConnect, logTail, pidFromFile, startServerProcess, type ServerProcess } from './server-process.js';

const run = promisify(execFile);

export interface RedisInstance extends ServerProcess {
  /** The Unix socket it also listens on (`unixsocket`, mode 700): DIR/redis.sock. */
  socket: string;
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
  const redis = await startServerProcess(
    'redis-server',
    async (dir, port) => {
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
      await run('redis-server', args, { timeout: 10_000 });
      // daemonized: the pid is in its pid file once it has forked
      return {
        pid: pidFromFile(pidfile),
        ready: () => canConnect(port),
        why: () => logTail(logfile),
      };
    },
    { polls: 250, pollMs: 20 },
  );
  return { ...redis, socket: join(redis.dir, 'redis.sock') };
}
