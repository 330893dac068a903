/**
 * A throwaway mosquitto for the mqtt check tests: in the foreground (a child of the test
 * process), a plain listener and a TLS listener on free loopback ports, no anonymous access,
 * a password file made with mosquitto_passwd, an ACL file; stop() kills it by pid.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './run.js';
import { canConnect, logTail, spawnServer, startServerProcess, type ServerProcess } from './server-process.js';

const run = promisify(execFile);

export interface MosquittoInstance extends ServerProcess {
  /** (port: the plain MQTT listener) */
  /** The TLS listener. */
  tlsPort: number;
}

export interface MosquittoStartOptions {
  users: { name: string; password: string }[];
  /** acl_file content (mosquitto's `user NAME` / `topic read|write|readwrite PATTERN` lines). */
  acl: string;
  tls: { certFile: string; keyFile: string };
}

export async function startMosquitto(opts: MosquittoStartOptions): Promise<MosquittoInstance> {
  let tlsPort = 0;
  const server = await startServerProcess('mosquitto', async (dir, port) => {
    const passwd = join(dir, 'passwd');
    const acl = join(dir, 'acl');
    const logFile = join(dir, 'mosquitto.log');
    writeFileSync(passwd, '', { mode: 0o600 });
    for (const u of opts.users) await run('/usr/bin/mosquitto_passwd', ['-b', passwd, u.name, u.password], { timeout: 10_000 });
    writeFileSync(acl, opts.acl, { mode: 0o600 });
    tlsPort = await freePort();
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
    const spawned = spawnServer('/usr/sbin/mosquitto', ['-c', conf]);
    return { ...spawned, ready: async () => (await canConnect(port)) && (await canConnect(tlsPort)), why: () => spawned.spawnError() || logTail(logFile) };
  });
  return { ...server, tlsPort };
}
