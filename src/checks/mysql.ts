/**
 * mysql (mariadb): TCP pre-check, the server's greeting (its version), TLS when `tls` (MySQL
 * upgrades the connection in-protocol, after the greeting), login as `username` (to `database`
 * when set), then `SELECT 1`. mysql2 runs over the very connection the TCP step opened.
 */
import * as z from '../core/z.js';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { hostPort, untilAborted } from '../net/dial.js';
import { isSocketPath } from '../net/unix.js';
import { minVersionFailure } from '../net/tls.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { endpoint, scalarString, secret, text, tlsSwitch } from '../core/options.js';
import { UrlError, defined, flag, hostAndLogin, parseGeneric } from './url.js';
import { errorTable, messageOf, serviceCheck, timeLeft, withService, type DriverError } from './kit/index.js';

const options = z.object({
  ...endpoint(3306),
  username: text(),
  password: z.optional(secret(scalarString())),
  database: z.optional(text()),
  ...tlsSwitch(),
});
type Options = z.output<typeof options>;

/** A server error packet (ERR): errno and SQLSTATE set by mysql2. */
const errno =
  (...codes: number[]) =>
  (e: DriverError): boolean => {
    const err = e.err as { errno?: unknown; sqlState?: unknown };
    return typeof err.errno === 'number' && typeof err.sqlState === 'string' && (codes.length === 0 || codes.includes(err.errno));
  };
/** The server's own text of an ERR packet. */
const serverText = (e: DriverError) => messageOf({ message: (e.err as { sqlMessage?: unknown }).sqlMessage ?? (e.err as { message?: unknown }).message });
const UNSUPPORTED_AUTH = 'the server asks for an authentication method the client does not support';

/** mysql2's errors: the server's ERR packets by errno, mysql2's own by code. */
const classify = errorTable<Options>(
  [
    // ER_ACCESS_DENIED_ERROR: the server answers an unknown user like a wrong password
    { when: errno(1045), step: 'auth', say: (_e, o) => `access denied for user "${o.username}" (wrong password or unknown user)` },
    { when: errno(1044), step: 'auth', say: (_e, o) => `access denied for user "${o.username}" to database "${o.database ?? ''}" (no privileges on it, or it does not exist)` },
    { when: errno(1049), step: 'auth', say: (_e, o) => `database "${o.database ?? ''}" does not exist` },
    // ER_HOST_NOT_PRIVILEGED: "Host '...' is not allowed to connect to this MariaDB server"
    { when: errno(1130), say: (e) => `the server does not accept connections from this host: ${serverText(e)}` },
    { when: errno(1040), say: 'the server has too many connections' },
    { when: errno(1251), step: 'auth', say: UNSUPPORTED_AUTH },
    // ER_SECURE_TRANSPORT_REQUIRED (MySQL 3159, MariaDB 4036)
    { when: errno(3159, 4036), step: 'auth', say: 'the server requires TLS (set tls: true)' },
    { when: errno(), say: (e) => `${serverText(e)} (${typeof e.code === 'string' ? e.code : `error ${(e.err as { errno: number }).errno}`})` },
    { code: 'HANDSHAKE_NO_SSL_SUPPORT', step: 'tls', say: 'the server does not support TLS (tls: true)' },
    { code: 'PROTOCOL_CONNECTION_LOST', say: 'the server closed the connection' },
    { code: 'ETIMEDOUT', say: 'timed out' },
    { code: ['AUTH_SWITCH_PLUGIN_ERROR', 'HANDSHAKE_UNKNOWN_ERROR'], step: 'auth', say: UNSUPPORTED_AUTH },
  ],
  { secrets: (o) => [o.password] },
);

/** The server version from the greeting (MariaDB prefixes "5.5.5-" for old clients). */
function greetingVersion(chunk: Buffer): string | undefined {
  const end = chunk.indexOf(0, 5);
  if (end < 0) return undefined;
  const version = chunk.subarray(5, end).toString('latin1').replace(/^5\.5\.5-/, '');
  return /^[\x20-\x7e]{1,80}$/.test(version) ? version : undefined;
}

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('mysql2');

export const mysql = defineCheck({
  ...serviceCheck('mysql', driver),
  summary: 'a MySQL or MariaDB server accepts a login (to a database) and answers SELECT 1',
  url: { schemes: ['mysql', 'mariadb'], options: fromUrl },
  container: {
    images: ['mysql', 'mariadb'],
    port: 3306,
    options: (env) => {
      // the application user when the image creates one, else root (MARIADB_* are MariaDB's own names)
      for (const p of ['MARIADB', 'MYSQL']) {
        if (env.has(`${p}_USER`)) return { username: env.get(`${p}_USER`), password: env.get(`${p}_PASSWORD`), database: env.get(`${p}_DATABASE`) };
      }
      const password = env.get('MARIADB_ROOT_PASSWORD') ?? env.get('MYSQL_ROOT_PASSWORD');
      const database = env.get('MARIADB_DATABASE') ?? env.get('MYSQL_DATABASE');
      return { username: 'root', password, database };
    },
  },
  options,
  // a host that is a path is the server's Unix socket (mysql's --socket)
  name: (o) => `mysql:${isSocketPath(o.host) ? o.host : hostPort(o.host, o.port)}`,
  target: (o) => (isSocketPath(o.host) ? o.host : hostPort(o.host, o.port)),
  async run(o, ctx) {
    const remaining = timeLeft(ctx);
    // Loaded before connecting: the socket must reach mysql2 without an I/O turn in between
    // (a server that closes at once would otherwise be gone before anyone listens).
    const { createConnection } = await driver();
    // MySQL upgrades the connection in-protocol, inside mysql2's handshake: the kit reads the TLS
    // material before connecting, mysql2 negotiates TLS on the connection it is given.
    await withService(ctx, { host: o.host, port: o.port, tls: o.tls && o, tlsMode: 'driver' }, async (service) => {
      const { socket } = service;
      const ssl = service.tlsOptions;
      const verify = ssl ? ssl.rejectUnauthorized !== false : false;
      let secure: TLSSocket | undefined;
      let healthy = false;
      const c = createConnection({
        stream: socket,
        // mysql2 takes the TLS server name (SNI and the host name check) from `host`.
        host: service.verifyName,
        port: o.port,
        user: o.username,
        password: o.password ?? '',
        ...(o.database !== undefined ? { database: o.database } : {}),
        // A new object per check, on purpose: mysql2 keeps a secure context per `ssl` object (built
        // from `ca`: ~25 ms of CPU with the machine's roots), and TLS sessions too, which a later
        // check would resume without the server's certificate (seen: "the server sent no certificate").
        ssl: ssl
          ? {
              ca: ssl.ca as string[] | undefined,
              cert: ssl.cert as string | undefined,
              key: ssl.key as string | undefined,
              rejectUnauthorized: verify,
              verifyIdentity: verify,
              ...(ssl.minVersion ? { minVersion: ssl.minVersion } : {}),
            }
          : undefined,
        connectTimeout: remaining(),
        enableKeepAlive: false,
      });
      // A polite COM_QUIT (written at once) when all went well, then everything is destroyed.
      service.onClose(() => {
        if (healthy && !ctx.signal.aborted) c.end();
        c.destroy();
      });

      // The greeting (listened to after mysql2's own listener, which must see it too): the server
      // speaks first; its first packet has sequence 0 and starts with protocol version 10 (or
      // 0xff, an error such as "host not allowed").
      // The step ends with the whole greeting packet (3-byte length, sequence, payload), not its
      // first bytes: a greeting that starts and never completes is the protocol step's deadline.
      // Bytes that cannot start a greeting end it at once.
      const greeting = new Promise<Buffer>((resolve, reject) => {
        let got: Buffer = Buffer.alloc(0);
        const onData = (d: Buffer) => {
          got = got.length ? Buffer.concat([got, d]) : d;
          const wrong = got.length >= 5 && (got[3] !== 0 || (got[4] !== 0x0a && got[4] !== 0xff));
          if (wrong || (got.length >= 4 && got.length >= 4 + got.readUIntLE(0, 3))) {
            socket.off('data', onData);
            resolve(got);
          }
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new CheckError('protocol', 'the server closed the connection before its greeting')));
      });
      greeting.catch(() => {});

      // TLS is negotiated inside mysql2's handshake: watch it to report the step and the original
      // TLS error (mysql2 overwrites its code with HANDSHAKE_SSL_ERROR).
      let tlsDone: ((err?: unknown) => void) | undefined;
      const tlsResult = new Promise<void>((resolve, reject) => {
        tlsDone = (err) => (err ? reject(new CheckError('tls', describeError({ ...(err as object), code: (err as { code?: unknown }).code, message: (err as { message?: unknown }).message }))) : resolve());
      });
      tlsResult.catch(() => {});
      const internal = c as unknown as { startTLS(onSecure: (err?: Error) => void): void; stream: Socket | TLSSocket };
      const startTLS = internal.startTLS.bind(c);
      internal.startTLS = (onSecure) => {
        startTLS((err) => {
          tlsDone?.(err);
          onSecure(err);
        });
        secure = service.adopt(internal.stream as TLSSocket);
      };

      const connected = new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      });
      connected.catch(() => {});
      c.on('error', () => {}); // late errors: reported through the steps, never unhandled

      await ctx.step('protocol', async () => {
        let chunk: Buffer;
        try {
          chunk = await untilAborted(Promise.race([greeting, connected.then(() => Buffer.alloc(0))]), ctx.signal);
        } catch (err) {
          throw classify(err, 'protocol', o);
        }
        if (chunk.length && (chunk.length < 5 || chunk[3] !== 0 || (chunk[4] !== 0x0a && chunk[4] !== 0xff))) {
          throw new CheckError('protocol', 'the server did not answer with the MySQL protocol');
        }
        const version = chunk[4] === 0x0a ? greetingVersion(chunk) : undefined;
        if (version) ctx.note(`server version ${version}`);
      });

      if (o.tls) {
        await ctx.step('tls', async () => {
          try {
            await untilAborted(Promise.race([tlsResult, connected]), ctx.signal);
          } catch (err) {
            throw minVersionFailure(err, o.min_tls_version) ?? classify(err, 'tls', o);
          }
          // mysql2 upgraded this very connection (startTLS): the certificate is the server's.
          if (secure) service.assertTls(secure);
        });
      }

      await ctx.step('auth', async () => {
        try {
          await untilAborted(connected, ctx.signal);
        } catch (err) {
          if (!o.tls && (err as { errno?: unknown })?.errno === 1045) {
            ctx.note('MySQL and MariaDB also deny access like this when the user or the server requires TLS (REQUIRE SSL, require_secure_transport): try tls: true');
          }
          throw classify(err, 'auth', o);
        }
      });

      await ctx.step('query', async () => {
        let rows: unknown;
        try {
          rows = await untilAborted(
            new Promise<unknown>((resolve, reject) => c.query('SELECT 1 AS ok', (err, result) => (err ? reject(err) : resolve(result)))),
            ctx.signal,
          );
        } catch (err) {
          throw classify(err, 'query', o);
        }
        const ok = Array.isArray(rows) ? (rows[0] as { ok?: unknown } | undefined)?.ok : undefined;
        if (Number(ok) !== 1) throw new CheckError('query', `unexpected answer to SELECT 1: ${JSON.stringify(ok) ?? 'no row'}`);
      });
      healthy = true;
    });
  },
});

/**
 * `mysql://user[:password]@host[:port][/database]`: TLS from `ssl-mode` (MySQL's words:
 * DISABLED, PREFERRED, REQUIRED without verification, VERIFY_CA, VERIFY_IDENTITY), or from
 * `ssl`/`tls` (true, false, or mysql2's `{"rejectUnauthorized":false}`); `ssl-ca` a CA file.
 */
function fromUrl(raw: string): Record<string, unknown> {
  const u = parseGeneric(raw);
  if (u.path.length > 1) throw new UrlError('path: expected one database name');
  const p = u.params;
  const out: Record<string, unknown> = { ...hostAndLogin(u, 3306), database: u.path[0] };
  // `?socket=/path` (the mysql client's --socket, as Prisma and the mysql drivers' URLs write it): the host is not used
  const socket = p.get('socket');
  if (socket !== null) {
    if (!isSocketPath(socket)) throw new UrlError('socket: expected an absolute path to the server\'s Unix socket');
    out.host = socket;
  }
  const mode = (p.get('ssl-mode') ?? p.get('sslmode') ?? p.get('ssl_mode'))?.toUpperCase().replace(/-/g, '_');
  const ssl = p.get('ssl');
  if (mode !== undefined) {
    if (!['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'].includes(mode)) {
      throw new UrlError(`ssl-mode: expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY, got ${JSON.stringify(mode.slice(0, 20))}`);
    }
    out.tls = mode !== 'DISABLED' && mode !== 'PREFERRED';
    if (mode === 'REQUIRED') out.disable_tls_verification = true;
  } else if (ssl !== null && ssl.trim().startsWith('{')) {
    out.tls = true;
    if (/"rejectUnauthorized"\s*:\s*false/.test(ssl)) out.disable_tls_verification = true;
  } else {
    out.tls = flag(p, 'ssl', 'tls', 'useSSL');
  }
  out.ca_file = p.get('ssl-ca') ?? p.get('sslca') ?? undefined;
  return defined(out);
}
