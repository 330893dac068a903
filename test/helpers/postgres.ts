/**
 * Throwaway PostgreSQL servers for the postgres check tests, from Debian's binaries
 * (/usr/lib/postgresql/<version>/bin), run as the `postgres` user with data in a temp directory.
 *
 * One initdb, two postmasters: `tls` (ssl=on with tlsMaterial()'s valid certificate) and `plain`
 * (a copy of the same cluster started with ssl=off). Both use SCRAM password auth over TCP
 * (no trust anywhere), listen on 127.0.0.1 (and 127.0.0.2 and ::1 when they bind) and on a Unix socket in the
 * temp directory.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './run.js';
import { tlsMaterial } from './tls.js';
import { scratchDir } from './scratch.js';

const run = promisify(execFile);

/** Roles and database created in both instances. */
export const PG = {
  user: 'connuser',
  password: 'pg-Secret-7f3a9q',
  database: 'conncheck',
  /** May log in only over TLS (hostssl); a plain connection is rejected with SQLSTATE 28000. */
  sslOnlyUser: 'sslonly',
  sslOnlyPassword: 'pg-TlsOnly-x81kq2',
  /** A password that must be %-encoded in a URL (the url: tests). */
  oddUser: 'odd_user',
  oddPassword: 'p@ss/w0rd:pg#9',
} as const;

export interface PgInstance {
  port: number;
  /** Directory holding the Unix socket .s.PGSQL.<port>. */
  socketDir: string;
  dataDir: string;
  /** Whether ::1 is listened on too. */
  ipv6: boolean;
  /** Whether 127.0.0.2 (an address the test certificate does not name) is listened on too. */
  alt: boolean;
}

export interface PgServers {
  dir: string;
  version: string;
  tls: PgInstance;
  plain: PgInstance;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's bin directory. */
export function pgBin(): { bin: string; version: string } | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const version = versions[0];
  return version ? { bin: join(root, version, 'bin'), version } : undefined;
}

function asPostgres(bin: string, args: string[], opts: { timeout?: number } = {}) {
  return run('runuser', ['-u', 'postgres', '--', bin, ...args], { timeout: opts.timeout ?? 60_000 });
}

async function ids(): Promise<{ uid: number; gid: number }> {
  const { stdout: u } = await run('id', ['-u', 'postgres']);
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(u.trim()), gid: Number(g.trim()) };
}

const HBA = (sslOnly: string) =>
  [
    '# written by test/helpers/postgres.ts: password (SCRAM) auth only, no trust',
    'local all postgres peer',
    'local all all scram-sha-256',
    `hostssl all ${sslOnly} 127.0.0.0/8 scram-sha-256`,
    `hostssl all ${sslOnly} ::1/128 scram-sha-256`,
    `host all ${sslOnly} 127.0.0.0/8 reject`,
    `host all ${sslOnly} ::1/128 reject`,
    'host all all 127.0.0.0/8 scram-sha-256',
    'host all all ::1/128 scram-sha-256',
    '',
  ].join('\n');

async function sql(bin: string, inst: PgInstance, statements: string): Promise<void> {
  await asPostgres(join(bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', inst.socketDir, '-p', String(inst.port), '-U', 'postgres', '-d', 'postgres', '-c', statements]);
}

async function startOne(bin: string, dataDir: string, socketDir: string, extra: string[]): Promise<PgInstance> {
  // Retry on a port clash (another test file may grab the port between freePort() and bind).
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    for (const ipv6 of [true, false]) {
      const listen = ipv6 ? '127.0.0.1,127.0.0.2,::1' : '127.0.0.1,127.0.0.2';
      const opts = [`-p ${port}`, `-k ${socketDir}`, `-c listen_addresses='${listen}'`, '-c fsync=off', '-c max_connections=30', '-c shared_buffers=16MB', ...extra].join(' ');
      try {
        await asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-o', opts, '-w', '-t', '30', 'start']);
        const log = readFileSync(join(dataDir, 'server.log'), 'utf8');
        const v6 = ipv6 && !/could not (bind|create listen socket)[^\n]*::1/i.test(log);
        const alt = !/could not (bind|create listen socket)[^\n]*127\.0\.0\.2/i.test(log);
        return { port, socketDir, dataDir, ipv6: v6, alt };
      } catch (err) {
        lastErr = err;
        // pg_ctl may have left a half-started server: make sure it is gone before retrying.
        await asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => {});
      }
    }
  }
  throw new Error(`could not start PostgreSQL: ${String(lastErr)}`);
}

/** Starts both instances; call stop() in after(). */
export async function startPostgres(): Promise<PgServers> {
  const found = pgBin();
  if (!found) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  const { bin, version } = found;
  const { uid, gid } = await ids();
  const dir = scratchDir('conn-check-pg-');
  chmodSync(dir, 0o755);
  chownSync(dir, uid, gid);
  const started: PgInstance[] = [];
  const stop = async () => {
    await Promise.all(started.map((i) => asPostgres(join(bin, 'pg_ctl'), ['-D', i.dataDir, '-m', 'immediate', '-w', 'stop'], { timeout: 20_000 }).catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const dataA = join(dir, 'tls');
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, 'superuser-' + Math.random().toString(36).slice(2) + '\n');
    chownSync(pwfile, uid, gid);
    await asPostgres(join(bin, 'initdb'), ['-D', dataA, '-U', 'postgres', '--auth-local=peer', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-N', '-E', 'UTF8', '--locale=C']);
    writeFileSync(join(dataA, 'pg_hba.conf'), HBA(PG.sslOnlyUser));
    const tls = tlsMaterial();
    for (const [from, to] of [
      [tls.valid.certFile, 'server.crt'],
      [tls.valid.keyFile, 'server.key'],
    ] as const) {
      copyFileSync(from, join(dataA, to));
      chownSync(join(dataA, to), uid, gid);
      chmodSync(join(dataA, to), 0o600);
    }
    appendFileSync(join(dataA, 'postgresql.conf'), "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\npassword_encryption = 'scram-sha-256'\n");
    // The plain instance: a copy of the same cluster, started with ssl=off.
    const dataB = join(dir, 'plain');
    await run('cp', ['-a', dataA, dataB]);
    const sockA = join(dir, 'sock-tls');
    const sockB = join(dir, 'sock-plain');
    for (const s of [sockA, sockB]) {
      await run('mkdir', ['-m', '0755', s]);
      chownSync(s, uid, gid);
    }
    const [a, b] = await Promise.all([
      startOne(bin, dataA, sockA, []).then((i) => (started.push(i), i)),
      startOne(bin, dataB, sockB, ['-c ssl=off']).then((i) => (started.push(i), i)),
    ]);
    for (const inst of [a, b]) {
      await sql(
        bin,
        inst,
        `SET password_encryption = 'scram-sha-256'; CREATE ROLE ${PG.user} LOGIN PASSWORD '${PG.password}'; CREATE ROLE ${PG.sslOnlyUser} LOGIN PASSWORD '${PG.sslOnlyPassword}'; CREATE ROLE ${PG.oddUser} LOGIN PASSWORD '${PG.oddPassword}'`,
      );
      // CREATE DATABASE cannot run inside the transaction of a multi-statement -c.
      await sql(bin, inst, `CREATE DATABASE ${PG.database} OWNER ${PG.user}`);
    }
    return { dir, version, tls: a, plain: b, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
