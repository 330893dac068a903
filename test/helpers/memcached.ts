/**
 * Throwaway memcached instances (Debian's /usr/bin/memcached) on free loopback ports, run as
 * child processes of the test (no -d) so that stop() and process exit can kill them by pid.
 *
 * SASL: memcached -S with a Cyrus SASL config of our own (SASL_CONF_PATH) pointing at a
 * sasldb file. saslpasswd2 (sasl2-bin) is not installed here, so the sasldb (a Berkeley DB
 * hash, key "user\0realm\0userPassword") is written with Perl's DB_File, which links the same
 * libdb as libsasldb. The realm is the host name, as saslpasswd2 and memcached use.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { freePort } from './run.js';
import { canConnect } from './server-process.js';
import { scratchDir } from './scratch.js';

export const MEMCACHED = '/usr/bin/memcached';

export interface Memcached {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Whether a sasldb can be written here (Perl's DB_File). */
export function saslAvailable(): boolean {
  return existsSync(MEMCACHED) && spawnSync('perl', ['-MDB_File', '-e', '1']).status === 0;
}

/** Writes a SASL config dir (memcached.conf + sasldb2) allowing `users`; returns its path. */
function saslDir(users: Record<string, string>): string {
  const dir = scratchDir('conn-check-mc-sasl-');
  chmodSync(dir, 0o755); // memcached drops to the memcache user before reading them
  const db = join(dir, 'sasldb2');
  const realm = hostname();
  const perl = [
    'use DB_File; use Fcntl;',
    'my $f = shift; my %h;',
    'tie %h, "DB_File", $f, O_RDWR|O_CREAT, 0644, $DB_HASH or die "tie $f: $!";',
    'while (@ARGV) { my ($u, $r, $p) = splice(@ARGV, 0, 3); $h{"$u\\0$r\\0userPassword"} = $p; }',
    'untie %h;',
  ].join(' ');
  const args = ['-e', perl, db];
  for (const [u, p] of Object.entries(users)) args.push(u, realm, p);
  const r = spawnSync('perl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot write the sasldb: ${r.stderr}`);
  chmodSync(db, 0o644);
  writeFileSync(join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${db}\n`, { mode: 0o644 });
  return dir;
}

/** Starts memcached on a free loopback port; with `sasl`, only those users may log in. */
export async function startMemcached(opts: { sasl?: Record<string, string> } = {}): Promise<Memcached> {
  const port = await freePort();
  const args = ['-u', 'memcache', '-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '16'];
  const env: NodeJS.ProcessEnv = { ...process.env };
  let dir: string | undefined;
  if (opts.sasl) {
    dir = saslDir(opts.sasl);
    args.push('-S');
    env.SASL_CONF_PATH = dir;
  }
  const child = spawn(MEMCACHED, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      running.delete(child);
      resolve();
    }),
  );
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`memcached exited: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`memcached did not listen on ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    pid: child.pid!,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(t);
      }
      child.stderr?.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
