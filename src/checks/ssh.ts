/**
 * ssh: TCP pre-check, the SSH identification and key exchange (the server's host key checked
 * against `host_key` when given: a mismatch fails before any credential is sent), then user
 * authentication with the given key and/or password. Passes when the server accepts them;
 * never opens a session or runs a command. ssh2 runs over the very connection the TCP step
 * opened (pure JavaScript: its optional native crypto binding is never needed).
 */
import * as z from '../core/z.js';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { AnyAuthMethod, AuthenticationType } from 'ssh2';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { host, port, scalarString, stringList, text, secret } from '../core/options.js';
import { printable } from '../net/printable.js';
import { serviceCheck, withService } from './kit/index.js';
import { hostAndLogin, parseGeneric } from './url.js';

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
/** What a server may send before authentication completes (OpenSSH sends a few KiB). */
const MAX_PRE_AUTH_BYTES = 1024 * 1024;
/** How much of the start is searched for the identification (ssh2 allows lines of 8 KiB before it). */
const MAX_HEAD = 64 * 1024;
/** A private key file is a few KiB; anything much bigger is not one. */
const MAX_KEY_BYTES = 64 * 1024;

const options = z
  .object({
    host: host(),
    port: z._default(port(), 22),
    username: text('a user name'),
    password: z.optional(secret(scalarString())),
    private_key: z.optional(secret(text('a private key (PEM or OpenSSH text)'))),
    private_key_file: z.optional(text('a path to a private key file')),
    passphrase: z.optional(secret(scalarString())),
    /** The host key fingerprint(s) to accept, as `ssh-keygen -l -E sha256` prints them. */
    host_key: z.optional(
      stringList('a host key fingerprint SHA256:... (as ssh-keygen -l -E sha256 prints it), or a list of them').check(
        z.refine((l) => l.length > 0 && l.every((f) => FINGERPRINT.test(f.trim())), {
          message: 'expected a host key fingerprint SHA256:... (43 base64 characters, as ssh-keygen -l -E sha256 prints it), or a list of them',
        }),
      ),
    ),
  })
  .check(
    z.refine((o) => o.password !== undefined || o.private_key !== undefined || o.private_key_file !== undefined, {
      message: 'expected password, private_key or private_key_file, got nothing',
      path: ['password'],
    }),
  )
  .check(
    z.refine((o) => o.private_key === undefined || o.private_key_file === undefined, {
      message: 'expected either private_key or private_key_file, got both',
      path: ['private_key_file'],
    }),
  )
  .check(
    z.refine((o) => o.passphrase === undefined || o.private_key !== undefined || o.private_key_file !== undefined, {
      message: 'passphrase needs private_key or private_key_file',
      path: ['passphrase'],
    }),
  );
type Options = z.output<typeof options>;

/** `SHA256:...` of a host key blob, as ssh-keygen prints it. */
function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type at the start of an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, ...). */
function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  const name = blob.subarray(4, 4 + Math.min(len, 64)).toString('latin1');
  return /^[\x21-\x7e]{1,64}$/.test(name) ? name : 'unknown';
}

/** Server text (identification, banner, disconnect reason) as it may appear in a report. */
function serverText(s: string, max = 120): string {
  return printable(Buffer.from(s.replace(/\s+$/, ''), 'latin1'), max);
}

/** The private key text: from private_key (CI secrets often turn its newlines into `\n`) or its file. */
async function keyText(o: Options): Promise<string | undefined> {
  if (o.private_key !== undefined) return o.private_key.includes('\n') ? o.private_key : o.private_key.replace(/\\n/g, '\n');
  if (o.private_key_file === undefined) return undefined;
  let file;
  try {
    file = await open(o.private_key_file, 'r');
  } catch (err) {
    throw new CheckError('auth', `cannot read private_key_file ${o.private_key_file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const buf = Buffer.alloc(MAX_KEY_BYTES + 1);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_KEY_BYTES) throw new CheckError('auth', `private_key_file ${o.private_key_file} is larger than ${MAX_KEY_BYTES / 1024} KiB: not a private key`);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch (err) {
    if (err instanceof CheckError) throw err;
    throw new CheckError('auth', `cannot read private_key_file ${o.private_key_file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await file.close();
  }
}

/** Why ssh2 could not use the key, in words that never quote it. */
function keyProblem(message: string, o: Options): string {
  const which = o.private_key_file !== undefined ? `private_key_file ${o.private_key_file}` : 'private_key';
  if (/no passphrase given/i.test(message)) return `${which} is encrypted: set passphrase`;
  if (/bad passphrase|decrypt|bad decrypt/i.test(message)) return `${which}: wrong passphrase`;
  if (/does not contain a \(valid\) private key/.test(message)) return `${which} holds a public key, not a private key`;
  return `${which}: not a private key in a format ssh2 reads (OpenSSH, PEM or PPK)`;
}

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('ssh2');

type Ssh2 = typeof import('ssh2');
async function ssh2(): Promise<Ssh2> {
  // ssh2 is CommonJS: its module.exports is `default` (Node finds only some names statically).
  const mod = (await driver()) as Ssh2 & { default?: Ssh2 };
  return typeof mod.default?.Client === 'function' ? mod.default : mod;
}

interface Settled<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function settled<T>(): Settled<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** The connection closed without an error from ssh2. */
const CLOSED = Symbol('closed');

export const ssh = defineCheck({
  ...serviceCheck('ssh', driver),
  summary: 'an SSH server (with the pinned host key) accepts a login with the given key or password',
  url: { schemes: ['ssh', 'sftp'], options: (raw) => ({ ...hostAndLogin(parseGeneric(raw), 22) }) },
  container: {
    // its users come as `user:pass` arguments (atmoz/sftp) elsewhere: only this image names them in variables
    images: ['linuxserver/openssh-server', 'lscr.io/linuxserver/openssh-server'],
    port: 2222,
    // USER_PASSWORD logs in with PASSWORD_ACCESS=true; without it the check asks for a key or password
    options: (env) => ({ username: env.get('USER_NAME', 'linuxserver.io'), password: env.get('USER_PASSWORD') }),
  },
  options,
  async run(o, ctx) {
    const { Client, utils } = await ssh2();
    // The key is read and parsed before connecting: a bad file or passphrase never reaches the server.
    const key = await ctx.step('auth', async () => {
      const text = await keyText(o);
      if (text === undefined) return undefined;
      const parsed = utils.parseKey(text, o.passphrase);
      if (parsed instanceof Error) throw new CheckError('auth', keyProblem(parsed.message, o));
      const first = Array.isArray(parsed) ? parsed[0] : parsed;
      if (!first?.isPrivateKey()) throw new CheckError('auth', keyProblem('does not contain a (valid) private key', o));
      return text;
    });

    await withService(ctx, { host: o.host, port: o.port }, async (service) => {
      const { socket } = service;
      const c = new Client();
      service.onClose(() => c.removeAllListeners('ready'));
      const handshake = settled<void>();
      const ready = settled<void>();
      let ident: string | undefined;
      let hostKey: { type: string; fingerprint: string } | undefined;
      let mismatch = false;
      let failure: unknown;
      const fail = (err: unknown) => {
        failure ??= err;
        handshake.reject(failure);
        ready.reject(failure);
      };
      // Reads along with ssh2 (paused first, so that neither misses a byte: ssh2 resumes the
      // socket once its own listener is on): notes the server's identification line, fails at
      // once on bytes no SSH server sends before it, and bounds what the server may send.
      let received = 0;
      let head = '';
      const watch = (d: Buffer) => {
        received += d.length;
        if (received > MAX_PRE_AUTH_BYTES) {
          fail(new CheckError(ident === undefined ? 'protocol' : 'auth', `the server sent more than ${MAX_PRE_AUTH_BYTES / 1024} KiB before authentication completed`));
          return socket.destroy();
        }
        if (ident !== undefined || head.length > MAX_HEAD) return;
        head += d.toString('latin1');
        const m = /(?:^|\n)(SSH-[^\r\n]*)\r?\n/.exec(head);
        const before = m ? head.slice(0, m.index) : head;
        // RFC 4253 4.2: lines before the identification are text
        if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(before)) {
          fail(new CheckError('protocol', `the server did not answer with the SSH protocol (it sent ${printable(Buffer.from(head.slice(0, 40), 'latin1'), 40)})`));
          return socket.destroy();
        }
        if (m) {
          ident = serverText(m[1]!);
          ctx.note(`server ${ident}`);
        }
      };
      socket.pause();
      socket.on('data', watch);
      c.on('handshake', () => handshake.resolve());
      c.on('ready', () => ready.resolve());
      c.on('error', fail);
      c.on('close', () => fail(CLOSED));
      c.on('banner', (message: string) => {
        const line = message.split(/\r?\n/).find((l) => l.trim()) ?? '';
        if (line) ctx.note(`login banner: ${serverText(line.trim(), 200)}`);
      });

      // Authentication: 'none' first (it costs nothing and tells which methods the server
      // takes), then the key, then the password (also through keyboard-interactive, the way
      // PAM-only servers ask for it).
      const plan: AuthenticationType[] = [...(key !== undefined ? ['publickey' as const] : []), ...(o.password !== undefined ? ['password' as const, 'keyboard-interactive' as const] : [])];
      const tried: AuthenticationType[] = [];
      let offered: AuthenticationType[] | undefined;
      let succeededWith: AuthenticationType = 'none';
      let rounds = 0;
      const authHandler = (left: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
        if (left) offered = left;
        if (rounds++ === 0) return next({ type: 'none', username: o.username });
        while (plan.length) {
          const m = plan.shift()!;
          if (offered && !offered.includes(m)) continue;
          if (m === 'keyboard-interactive' && tried.includes('password')) continue;
          tried.push(m);
          succeededWith = m;
          if (m === 'publickey') return next({ type: 'publickey', username: o.username, key: key!, ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}) });
          if (m === 'password') return next({ type: 'password', username: o.username, password: o.password! });
          let asked = 0;
          return next({
            type: 'keyboard-interactive',
            username: o.username,
            // every hidden prompt gets the password, visible ones nothing; a server that keeps asking is refused
            prompt: (_name, _instructions, _lang, prompts, finish) => finish(asked++ < 3 ? prompts.map((p) => (p.echo ? '' : o.password!)) : []),
          });
        }
        return next(false);
      };

      const expected = o.host_key?.map((f) => f.trim().replace(/=$/, ''));
      c.connect({
        sock: socket,
        username: o.username,
        // no timers of ssh2's own: the check's deadline bounds every step
        readyTimeout: 0,
        keepaliveInterval: 0,
        authHandler: authHandler as never,
        hostVerifier: (blob: Buffer) => {
          hostKey = { type: keyType(blob), fingerprint: fingerprint(blob) };
          ctx.note(`host key ${hostKey.type} ${hostKey.fingerprint}`);
          mismatch = expected !== undefined && !expected.includes(hostKey.fingerprint);
          return !mismatch;
        },
      });

      const classify = (err: unknown, step: 'protocol' | 'auth'): CheckError => {
        if (err instanceof CheckError) return err;
        if (mismatch && hostKey) {
          return new CheckError('host_key', `host key mismatch: the server's ${hostKey.type} key is ${hostKey.fingerprint}, expected ${expected!.length === 1 ? expected![0] : `one of ${expected!.join(', ')}`}`);
        }
        if (err === CLOSED || (err as { message?: unknown })?.message === 'Connection lost before handshake') {
          if (ident === undefined) return new CheckError('protocol', 'the server closed the connection before its SSH identification');
          return new CheckError(step, step === 'protocol' ? 'the server closed the connection during the key exchange' : 'the server closed the connection during authentication');
        }
        const e = err as { level?: unknown; message?: unknown; code?: unknown };
        const message = typeof e.message === 'string' ? e.message : '';
        if (e.level === 'client-authentication') return authFailure(o, tried, offered);
        if (typeof e.code === 'number') return new CheckError(step, `the server disconnected: ${serverText(message, 200) || `reason ${e.code}`}`);
        if (e.level === 'protocol' || /^(Invalid identification string|Invalid header|Header line too long|Max greeting lines exceeded|Bad packet length|Protocol version not supported)/.test(message)) {
          return new CheckError(step, `the server did not answer with the SSH protocol (${message})`);
        }
        if (/^Handshake failed: /.test(message)) return new CheckError('protocol', `key exchange failed: ${message.replace(/^Handshake failed: /, '')}`);
        return new CheckError(step, describeError(err));
      };

      await ctx.step('protocol', () => handshake.promise.catch((err: unknown) => Promise.reject(classify(err, 'protocol'))));
      await ctx.step('auth', () => ready.promise.catch((err: unknown) => Promise.reject(classify(err, 'auth'))));
      socket.off('data', watch);
      ctx.note(succeededWith === 'none' ? `authenticated as "${o.username}" without credentials (the server asked for none)` : `authenticated as "${o.username}" (${succeededWith})`);
      c.end();
    });
  },
});

/** The failure once every method was tried (or none the server takes was given). */
function authFailure(o: Options, tried: readonly AuthenticationType[], offered: readonly AuthenticationType[] | undefined): CheckError {
  const who = `user "${o.username}"`;
  const offers = offered?.length ? ` (it accepts: ${offered.join(', ')})` : '';
  if (tried.length === 0) {
    const given = [o.password !== undefined ? 'password' : '', o.private_key !== undefined || o.private_key_file !== undefined ? 'publickey' : ''].filter(Boolean).join(', ');
    return new CheckError('auth', `the server accepts none of the given methods (${given}) for ${who}${offers}`);
  }
  const key = tried.includes('publickey');
  const password = tried.includes('password') || tried.includes('keyboard-interactive');
  const what = key && password ? 'the key and the password' : key ? 'the key' : 'the password';
  // OpenSSH answers an unknown user exactly as a wrong credential
  return new CheckError('auth', `the server refused ${what} for ${who} (wrong ${key && password ? 'credentials' : key ? 'key' : 'password'}, unknown user, or not allowed to log in)`);
}
