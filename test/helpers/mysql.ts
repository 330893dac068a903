/**
 * Throwaway MariaDB servers for the mysql check tests: `mariadb-install-db` into a temp
 * directory, `mariadbd` (real grant tables; as root or as the user running the tests) on a free loopback port and a Unix socket,
 * users and databases created over the socket as root; stop() kills the server by pid.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { logTail, spawnServer, startServerProcess, type ServerProcess } from './server-process.js';

const run = promisify(execFile);

export interface MariadbInstance extends ServerProcess {
  socket: string;
  /** Runs SQL as root over the Unix socket. */
  sql(statements: string): Promise<string>;
}

export interface MariadbStartOptions {
  /** ssl_cert / ssl_key / ssl_ca: without them this MariaDB (10.11) has no TLS at all. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** SQL run as root once the server is up (users, databases, grants). */
  setup?: string;
}

/** Small and quick: these servers hold a handful of rows for a minute. */
/** Root must name the user to run as; anyone else runs the server as themselves. */
const AS_ROOT = process.getuid?.() === 0 ? ['--user=root'] : [];

const SMALL = ['--innodb-buffer-pool-size=16M', '--innodb-log-file-size=4M', '--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0', '--skip-name-resolve'];

export async function startMariadb(opts: MariadbStartOptions = {}): Promise<MariadbInstance> {
  let socket = '';
  const sql = async (statements: string): Promise<string> => {
    const { stdout } = await run('mariadb', ['--no-defaults', '-S', socket, '-uroot', '--batch', '-e', statements], { timeout: 20_000 });
    return stdout;
  };
  const server = await startServerProcess(
    'mariadbd',
    async (dir, port) => {
      const datadir = join(dir, 'data');
      socket = join(dir, 'mysqld.sock');
      const logFile = join(dir, 'error.log');
      try {
        await run('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, ...AS_ROOT, '--auth-root-authentication-method=normal', '--skip-test-db', ...SMALL], { timeout: 60_000 });
      } catch (err) {
        throw new Error(`mariadb-install-db: ${String(err).slice(0, 1000)}`);
      }
      const args = [
        '--no-defaults',
        ...AS_ROOT,
        `--datadir=${datadir}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        `--log-error=${logFile}`,
        ...SMALL,
      ];
      if (opts.tls) args.push(`--ssl-cert=${opts.tls.certFile}`, `--ssl-key=${opts.tls.keyFile}`, `--ssl-ca=${opts.tls.caFile}`);
      const spawned = spawnServer('/usr/sbin/mariadbd', args);
      const ready = () =>
        existsSync(socket)
          ? sql('SELECT 1').then(
              () => true,
              () => false, // not ready yet
            )
          : Promise.resolve(false);
      return { ...spawned, ready, why: () => spawned.spawnError() || logTail(logFile) };
    },
    { polls: 300, pollMs: 50 },
  );
  try {
    // Only root over the socket may log in without a password: no root over TCP.
    await sql("DELETE FROM mysql.global_priv WHERE User='root' AND Host<>'localhost'; DELETE FROM mysql.global_priv WHERE User=''; FLUSH PRIVILEGES;");
    if (opts.setup) await sql(opts.setup);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { ...server, socket, sql };
}
