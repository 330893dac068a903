/**
 * Throwaway OpenSSH servers for the ssh check tests: a second sshd (Debian's openssh-server) on
 * a free loopback port with its own config, host key and pid file in a temp directory, and a
 * real Unix account (shell /usr/sbin/nologin: it can authenticate, never log in) with a
 * password and an authorized key. Needs root (sshd, useradd, chpasswd) and /run/sshd.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { logTail, pidFromFile, startServerProcess, type ServerProcess } from './server-process.js';
import { scratchDir } from './scratch.js';

export const SSHD = '/usr/sbin/sshd';
/** The test account (created once, its password set on every start). */
export const SSH_USER = 'conncheck-ssh';
export const SSH_PASSWORD = 'ssh-Secret-7q4w9e';
export const KEY_PASSPHRASE = 'key-Passphrase-3x8v';

export interface SshKeys {
  dir: string;
  /** An unencrypted OpenSSH-format ed25519 key, authorized for the account. */
  ed25519: string;
  ed25519File: string;
  /** A PEM (PKCS#1) RSA key encrypted with KEY_PASSPHRASE, authorized for the account. */
  rsaEncrypted: string;
  rsaEncryptedFile: string;
  /** An ed25519 key the server does not know. */
  stranger: string;
  strangerFile: string;
}

export interface SshdInstance extends ServerProcess {
  /** `SHA256:...` of the server's host key, as `ssh-keygen -l -E sha256` prints it. */
  fingerprint: string;
  /** sshd's log so far (LogLevel DEBUG1: one `userauth-request` line per authentication attempt). */
  log(): string;
}

export function sshdAvailable(): boolean {
  return existsSync(SSHD) && process.getuid?.() === 0;
}

/** Reads the first bytes a server sends (the SSH identification line). */
function ident(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (v?: string) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done());
    s.once('data', (d: Buffer) => done(d.toString('latin1')));
    s.once('error', () => done());
  });
}

let account = false;
/** The Unix account, with the password set (idempotent). */
function ensureAccount(): void {
  if (account) return;
  try {
    execFileSync('id', [SSH_USER], { stdio: 'pipe' });
  } catch {
    execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', SSH_USER], { stdio: 'pipe' });
  }
  execFileSync('chpasswd', { input: `${SSH_USER}:${SSH_PASSWORD}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  account = true;
}

let keys: SshKeys | undefined;
/** Client keys, generated once per process. */
export function sshKeys(): SshKeys {
  if (keys) return keys;
  const dir = scratchDir('conn-check-sshkeys-');
  const gen = (file: string, args: string[]) => execFileSync('ssh-keygen', ['-q', '-f', join(dir, file), '-C', `conn-check test ${file}`, ...args], { stdio: 'pipe' });
  gen('ed25519', ['-t', 'ed25519', '-N', '']);
  gen('rsa', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', KEY_PASSPHRASE]);
  gen('stranger', ['-t', 'ed25519', '-N', '']);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  keys = {
    dir,
    ed25519: read('ed25519'),
    ed25519File: join(dir, 'ed25519'),
    rsaEncrypted: read('rsa'),
    rsaEncryptedFile: join(dir, 'rsa'),
    stranger: read('stranger'),
    strangerFile: join(dir, 'stranger'),
  };
  return keys;
}

export interface SshdOptions {
  /** PasswordAuthentication (default yes). */
  password?: boolean;
  /** A pre-authentication banner file's text (sshd's Banner). */
  banner?: string;
}

/** Starts one sshd; retries on a port clash. */
export async function startSshd(opts: SshdOptions = {}): Promise<SshdInstance> {
  ensureAccount();
  const k = sshKeys();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  let fingerprint = '';
  let logFile = '';
  const server = await startServerProcess(
    'sshd',
    async (dir, port) => {
      chmodSync(dir, 0o755);
      const hostKey = join(dir, 'host_ed25519');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'conn-check test host', '-f', hostKey], { stdio: 'pipe' });
      fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
      const authorized = join(dir, 'authorized_keys');
      writeFileSync(authorized, [readFileSync(`${k.ed25519File}.pub`, 'utf8'), readFileSync(`${k.rsaEncryptedFile}.pub`, 'utf8')].join(''));
      chmodSync(authorized, 0o644);
      const pidFile = join(dir, 'sshd.pid');
      logFile = join(dir, 'sshd.log');
      const lines = [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${pidFile}`,
        'UsePAM no',
        `PasswordAuthentication ${opts.password === false ? 'no' : 'yes'}`,
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        `AuthorizedKeysFile ${authorized}`,
        // the temp directory's parents (/tmp) are world-writable: sshd's path checks would refuse the key file
        'StrictModes no',
        'PermitRootLogin no',
        `AllowUsers ${SSH_USER}`,
        'MaxAuthTries 10',
        'MaxStartups 100',
        'X11Forwarding no',
        'AllowTcpForwarding no',
        'PermitTTY no',
        // DEBUG1 logs every userauth-request: the tests read it to prove no credential was sent
        'LogLevel DEBUG1',
      ];
      if (opts.banner !== undefined) {
        writeFileSync(join(dir, 'banner'), opts.banner);
        lines.push(`Banner ${join(dir, 'banner')}`);
      }
      const config = join(dir, 'sshd_config');
      writeFileSync(config, lines.join('\n') + '\n');
      try {
        execFileSync(SSHD, ['-f', config, '-E', logFile], { stdio: 'pipe', timeout: 10_000 });
      } catch (err) {
        throw new Error(`${String(err)} ${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''}`);
      }
      return { pid: pidFromFile(pidFile), ready: async () => (await ident(port))?.startsWith('SSH-2.0-') ?? false, why: () => logTail(logFile) };
    },
    { polls: 250, pollMs: 20, graceMs: 2000 },
  );
  const log = logFile;
  return { ...server, fingerprint, log: () => (existsSync(log) ? readFileSync(log, 'utf8') : '') };
}
