/**
 * A throwaway mosquitto for the mqtt check tests: in the foreground (a child of the test
 * process), a plain listener and a TLS listener on free loopback ports, no anonymous access,
 * a password file made with mosquitto_passwd, an ACL file; stop() kills it by pid.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './run.js';
import { alive, canConnect, killPid, sleep } from './server-process.js';

const run = promisify(execFile);

export interface MosquittoInstance {
  /** The plain MQTT listener. */
  port: number;
  /** The TLS listener. */
  tlsPort: number;
  pid: number;
  stop(): Promise<void>;
}

export interface MosquittoStartOptions {
  users: { name: string; password: string }[];
  /** acl_file content (mosquitto's `user NAME` / `topic read|write|readwrite PATTERN` lines). */
  acl: string;
  tls: { certFile: string; keyFile: string };
}

export async function startMosquitto(opts: MosquittoStartOptions): Promise<MosquittoInstance> {
  let lastErr = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'conn-check-mosquitto-'));
    const passwd = join(dir, 'passwd');
    const acl = join(dir, 'acl');
    const logFile = join(dir, 'mosquitto.log');
    writeFileSync(passwd, '', { mode: 0o600 });
    for (const u of opts.users) await run('/usr/bin/mosquitto_passwd', ['-b', passwd, u.name, u.password], { timeout: 10_000 });
    writeFileSync(acl, opts.acl, { mode: 0o600 });
    const port = await freePort();
    let tlsPort = await freePort();
    while (tlsPort === port) tlsPort = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        'per_listener_settings false',
        'allow_anonymous false',
        `password_file ${passwd}`,
        `acl_file ${acl}`,
        'persistence false',
        `log_dest file ${logFile}`,
        // as root, mosquitto would switch to the mosquitto user, which cannot read the private temp dir
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        `listener ${port} 127.0.0.1`,
        `listener ${tlsPort} 127.0.0.1`,
        `certfile ${opts.tls.certFile}`,
        `keyfile ${opts.tls.keyFile}`,
        '',
      ].join('\n'),
    );
    const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
    let spawnError = '';
    child.on('error', (err) => (spawnError = String(err)));
    child.unref();
    const pid = child.pid ?? 0;
    const stop = async () => {
      await killPid(pid);
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 200 && pid && alive(pid); i++) {
      if ((await canConnect(port)) && (await canConnect(tlsPort))) return { port, tlsPort, pid, stop };
      await sleep(25);
    }
    lastErr = spawnError || (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : 'no log');
    await stop();
  }
  throw new Error(`could not start mosquitto: ${lastErr}`);
}
