/**
 * A throwaway dnsmasq for the dns check tests: in the foreground (--keep-in-foreground, a child
 * of the test process, its log in a temp file),
 * on a free loopback port, no upstream servers, no /etc/hosts, its records given as flags;
 * names under `local` domains that it does not know are answered with NXDOMAIN.
 * stop() kills it by pid.
 */
import { promises as dnsPromises } from 'node:dns';
import { join } from 'node:path';
import { logTail, spawnServer, startServerProcess, type ServerProcess } from './server-process.js';

export interface DnsmasqInstance extends ServerProcess {
  /** "127.0.0.1:PORT" */
  server: string;
}

/**
 * Starts dnsmasq with `records` (flags such as `--host-record=web.test,192.0.2.10`) and
 * authoritative NXDOMAIN for the `local` domains. `probe` is a name it must answer (A).
 */
export async function startDnsmasq(records: string[], local: string[], probe: string): Promise<DnsmasqInstance> {
  const dnsmasq = await startServerProcess(
    'dnsmasq',
    async (dir, port) => {
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
      const spawned = spawnServer('/usr/sbin/dnsmasq', args);
      const ready = async () => {
        const resolver = new dnsPromises.Resolver({ timeout: 200, tries: 1 });
        resolver.setServers([`127.0.0.1:${port}`]);
        return resolver.resolve4(probe).then(
          () => true,
          () => false,
        );
      };
      return { ...spawned, ready, why: () => spawned.spawnError() || logTail(logFile) };
    },
    { tries: 5, polls: 100, pollMs: 30 },
  );
  return { ...dnsmasq, server: `127.0.0.1:${dnsmasq.port}` };
}
