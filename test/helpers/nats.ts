/**
 * Throwaway nats-server instances for the nats check tests: in the foreground (a child of the
 * test process), on a free loopback port, with user/password or token auth and optionally TLS;
 * stop() kills them by pid.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './run.js';
import { alive, killPid, sleep } from './server-process.js';

export interface NatsInstance {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

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
  let lastErr = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'conn-check-nats-'));
    const port = await freePort();
    const logFile = join(dir, 'nats.log');
    const args = ['-a', '127.0.0.1', '-p', String(port), '-l', logFile, '-P', join(dir, 'nats.pid')];
    if (opts.user) args.push('--user', opts.user.name, '--pass', opts.user.password);
    if (opts.token) args.push('--auth', opts.token);
    if (opts.tls) args.push('--tls', '--tlscert', opts.tls.certFile, '--tlskey', opts.tls.keyFile);
    const child = spawn('/usr/sbin/nats-server', args, { stdio: 'ignore' });
    let spawnError = '';
    child.on('error', (err) => (spawnError = String(err)));
    child.unref();
    const pid = child.pid ?? 0;
    const stop = async () => {
      await killPid(pid);
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 200 && pid && alive(pid); i++) {
      if (await sendsInfo(port)) return { port, pid, stop };
      await sleep(25);
    }
    lastErr = spawnError || (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : 'no log');
    await stop();
  }
  throw new Error(`could not start nats-server: ${lastErr}`);
}
