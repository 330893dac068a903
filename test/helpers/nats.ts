/**
 * Throwaway nats-server instances for the nats check tests: in the foreground (a child of the
 * test process), on a free loopback port, with user/password or token auth and optionally TLS;
 * stop() kills them by pid.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { logTail, spawnServer, startServerProcess, type ServerProcess } from './server-process.js';

export type NatsInstance = ServerProcess;

export interface NatsStartOptions {
  user?: { name: string; password: string };
  token?: string;
  /** --tls: TLS required, clients not verified. */
  tls?: { certFile: string; keyFile: string };
}

/** True once the server sends its INFO line. */
function sendsInfo(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('data', (d) => done(d.toString('latin1').startsWith('INFO ')));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}

export async function startNats(opts: NatsStartOptions = {}): Promise<NatsInstance> {
  return startServerProcess('nats', async (dir, port) => {
    const logFile = join(dir, 'nats.log');
    const args = ['-a', '127.0.0.1', '-p', String(port), '-l', logFile, '-P', join(dir, 'nats.pid')];
    if (opts.user) args.push('--user', opts.user.name, '--pass', opts.user.password);
    if (opts.token) args.push('--auth', opts.token);
    if (opts.tls) args.push('--tls', '--tlscert', opts.tls.certFile, '--tlskey', opts.tls.keyFile);
    const spawned = spawnServer('/usr/sbin/nats-server', args);
    return { ...spawned, ready: () => sendsInfo(port), why: () => spawned.spawnError() || logTail(logFile) };
  });
}
