/**
 * A throwaway dnsmasq for the dns check tests: in the foreground (--keep-in-foreground, a child
 * of the test process, its log in a temp file),
 * on a free loopback port, no upstream servers, no /etc/hosts, its records given as flags;
 * names under `local` domains that it does not know are answered with NXDOMAIN.
 * stop() kills it by pid.
 */
import { spawn } from 'node:child_process';
import { promises as dnsPromises } from 'node:dns';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './run.js';
import { alive, killPid, sleep } from './server-process.js';

export interface DnsmasqInstance {
  port: number;
  pid: number;
  /** "127.0.0.1:PORT" */
  server: string;
  stop(): Promise<void>;
}

/**
 * Starts dnsmasq with `records` (flags such as `--host-record=web.test,192.0.2.10`) and
 * authoritative NXDOMAIN for the `local` domains. `probe` is a name it must answer (A).
 */
export async function startDnsmasq(records: string[], local: string[], probe: string): Promise<DnsmasqInstance> {
  let lastErr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'conn-check-dnsmasq-'));
    const logFile = join(dir, 'dnsmasq.log');
    const args = [
      '--keep-in-foreground',
      `--log-facility=${logFile}`,
      '--conf-file=/dev/null',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      // as root, dnsmasq would switch to nobody: stay root (nobody cannot write the log)
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      '--pid-file=',
      ...local.map((d) => `--local=/${d}/`),
      ...records,
    ];
    const child = spawn('/usr/sbin/dnsmasq', args, { stdio: 'ignore' });
    let spawnError = '';
    child.on('error', (err) => (spawnError = String(err)));
    const pid = child.pid ?? 0;
    const stop = async () => {
      await killPid(pid);
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 100 && pid && alive(pid) && child.exitCode === null; i++) {
      const resolver = new dnsPromises.Resolver({ timeout: 200, tries: 1 });
      resolver.setServers([`127.0.0.1:${port}`]);
      try {
        await resolver.resolve4(probe);
        child.unref();
        return { port, pid, server: `127.0.0.1:${port}`, stop };
      } catch {
        await sleep(30);
      }
    }
    lastErr = spawnError || (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : `exit code ${child.exitCode}`);
    await stop();
  }
  throw new Error(`could not start dnsmasq: ${lastErr}`);
}
