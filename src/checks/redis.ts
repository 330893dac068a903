/**
 * redis: TCP pre-check, TLS handshake (when `tls`), AUTH (when a password is set; with a
 * username for Redis 6 ACL users), PING → PONG, SELECT db (when set). ioredis runs over the
 * very connection the pre-checks opened (a Connector that hands it over), with reconnects,
 * retries and the offline queue off, and the handshake done by this check, step by step.
 */
import * as z from '../core/z.js';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Redis as RedisClient } from 'ioredis';
import { respFrames } from '../net/bounded.js';
import { hostPort } from '../net/dial.js';
import { isSocketPath } from '../net/unix.js';
import { CheckError, defineCheck, type StepName } from '../core/contract.js';
import { errorTable, messageOf, serviceCheck, timeLeft, withService } from './kit/index.js';
import { host, integer, nullMeans, port, scalarString, secret, text, tlsSwitch } from '../core/options.js';
import { UrlError, decodePart, defined, flag, hostAndLogin, parseGeneric, tlsParams } from './url.js';

const options = z.object({
  host: host(),
  port: port(),
  password: z.optional(secret(scalarString())),
  // conn-check-configs writes `username: null` for a celery broker without a user: absent
  username: nullMeans(undefined, z.optional(text())),
  db: z.optional(integer(0, 1_000_000)),
  ...tlsSwitch(),
});
type Options = z.output<typeof options>;

/** A Redis error reply (ReplyError), as opposed to a connection problem. */
const REPLY = 'ReplyError';
const WRONGPASS = /^WRONGPASS|^ERR invalid (username-)?password/i;
const AUTH_ARGS = /wrong number of arguments for 'auth'/i;
const pair = (user: string) => `invalid username-password pair for user "${user}" (or the user is disabled)`;

/**
 * ioredis' errors: its own messages for the connection (it gives no codes), the server's error
 * replies (ReplyError) by their first word.
 */
const classify = errorTable<Options>([
  { name: REPLY, message: WRONGPASS, when: (e) => e.step === 'auth', say: (_e, o) => (o.username !== undefined ? pair(o.username) : 'invalid password') },
  { name: REPLY, message: /without any password configured|no password is set/i, when: (e) => e.step === 'auth', say: 'the server has no password set' },
  { name: REPLY, message: AUTH_ARGS, when: (e) => e.step === 'auth', say: 'the server does not support AUTH with a username (Redis before 6): remove username' },
  { name: REPLY, message: /^NOAUTH/, step: 'auth', say: (_e, o) => (o.password === undefined ? 'the server requires a password (NOAUTH)' : 'the server still requires authentication (NOAUTH)') },
  { name: REPLY, message: /^LOADING/, say: 'the server is loading its dataset (LOADING)' },
  { name: REPLY, message: /^NOPERM\s*(.*)/, say: (e) => `permission denied: ${e.match![1]}` },
  { message: /DB index is out of range/i, step: 'query', say: (_e, o) => `database ${o.db} does not exist (DB index is out of range)` },
  { name: REPLY, say: (e) => e.message || 'error reply' },
  { message: /^Command timed out$/, say: 'timed out' },
  {
    message: /^Connection is closed|Command aborted due to connection close|^Stream isn't writeable/,
    say: (_e, o) => (o.tls ? 'the server closed the connection' : 'the server closed the connection (is this a TLS port? set tls: true)'),
  },
  { message: /^Protocol error|^Unknown RESP type/, say: 'the server did not answer with the Redis protocol' },
]);

/**
 * AUTH with a username: the ACL form (`AUTH user pass`, Redis 6) first, then, when the server
 * refuses the pair or does not know ACLs, the password alone (`AUTH pass`), which is what
 * conn-check sent whatever the username (conn-check-configs writes the celery broker's user).
 * The result notes which form authenticated.
 */
async function aclAuth(c: RedisClient, username: string, password: string, ctx: { note(d: string): void }, o: Options, cause: (e: unknown) => unknown): Promise<void> {
  let why: string;
  try {
    await c.call('AUTH', username, password);
    ctx.note(`authenticated as user ${username} (AUTH username password)`);
    return;
  } catch (err) {
    const m = messageOf(err);
    if (isReply(err) && WRONGPASS.test(m)) why = pair(username);
    else if (isReply(err) && AUTH_ARGS.test(m)) why = 'the server does not know ACL users (Redis before 6)';
    else throw classify(cause(err), 'auth', o);
  }
  try {
    await c.call('AUTH', password);
  } catch (err) {
    if (!isReply(err)) throw classify(cause(err), 'auth', o);
    const alone = classify(err, 'auth', { ...o, username: undefined });
    throw new CheckError('auth', `${why}; with the password alone: ${alone.message}`);
  }
  ctx.note(`authenticated with the password alone (AUTH password), as conn-check did; the username was not used: ${why}`);
}

const isReply = (err: unknown) => (err as { name?: unknown })?.name === REPLY;

/** What a reply to AUTH, PING, SELECT or INFO may announce: far beyond any real answer to them. */
const RESP_LIMITS = { maxElements: 1024, maxBulk: 256 * 1024, maxLine: 64 * 1024 };

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('ioredis');

export const redis = defineCheck({
  ...serviceCheck('redis', driver),
  summary: 'a Redis server answers PING (after AUTH when a password is given)',
  url: { schemes: ['redis', 'rediss', 'redis+unix', 'redis+socket'], alsoSchemes: ['unix'], options: fromUrl },
  container: {
    images: ['redis', 'valkey/valkey', 'redis/redis-stack-server', 'bitnami/redis', 'bitnami/valkey'],
    port: 6379,
    // the official images take a password only on the command line; Bitnami's from the environment
    options: (env) => ({ password: env.has('REDIS_PASSWORD') ? env.get('REDIS_PASSWORD') : env.get('VALKEY_PASSWORD') }),
  },
  options,
  // a host that is a path is the server's Unix socket (redis.conf's unixsocket)
  name: (o) => `redis:${isSocketPath(o.host) ? o.host : hostPort(o.host, o.port)}`,
  target: (o) => (isSocketPath(o.host) ? o.host : hostPort(o.host, o.port)),
  legacyNames: (o) => isSocketPath(o.host) ? [] : [`redis:${o.host}:${o.port}:tcp:${o.host}:${o.port}`, `redis:${o.host}:${o.port}:connect${o.password !== undefined ? ' with auth' : ''}`],
  async run(o, ctx) {
    const remaining = timeLeft(ctx);
    await withService(
      ctx,
      {
        host: o.host,
        port: o.port,
        tls: o.tls && o,
        // redis-server on a plain port reads a ClientHello as an inline command and waits for a
        // newline that never comes: say so if the deadline passes there
        tlsSilence: 'no answer to the TLS handshake (a plain-text Redis port never answers one: is tls: true right?)',
      },
      async (service) => {
        // ioredis is CommonJS whose module.exports is the class itself: bundled, the named
        // export may be missing from the namespace, so fall back to the default export.
        const mod = await driver();
        const Redis = (typeof mod.Redis === 'function' ? mod.Redis : (mod as unknown as { default: typeof mod.Redis }).default) as typeof mod.Redis;
        // ioredis buffers a reply whole, however large it says it is: its headers are checked
        // before ioredis sees them (a billion-element array, a gigabyte string, an endless line).
        const given = service.give(respFrames(RESP_LIMITS));
        /** Hands ioredis the connection the kit opened (and closes it on disconnect). */
        class GivenConnection {
          connecting = false;
          stream = given;
          firstError: Error | undefined;
          check(): boolean {
            return true;
          }
          connect(): Promise<Socket | TLSSocket> {
            return Promise.resolve(given);
          }
          disconnect(): void {
            given.destroy();
          }
        }
        const c = new Redis({
          Connector: GivenConnection as never,
          lazyConnect: true,
          // no reconnects, no retries, no queueing: a failure is a failure
          retryStrategy: () => null,
          reconnectOnError: null,
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          autoResendUnfulfilledCommands: false,
          autoResubscribe: false,
          // the check sends AUTH/PING/SELECT itself, step by step; RESP2 works with every server
          enableReadyCheck: false,
          protocol: 2,
          disableClientInfo: true,
          connectTimeout: remaining(),
          commandTimeout: remaining(),
        });
        service.onClose(() => c.disconnect());
        // Errors are reported through the commands (never an unhandled 'error'); a parser error
        // is remembered, since the command then fails only with "Connection is closed": ioredis
        // closes the connection itself after it, and the parser error is the real reason.
        let protocolError: unknown;
        c.on('error', (e: unknown) => {
          if (/^Protocol error|^Unknown RESP type/.test(messageOf(e))) protocolError ??= e;
        });
        const cause = (err: unknown) => (isReply(err) ? err : (protocolError ?? err));
        const call = async (step: StepName, ...args: [string, ...(string | number)[]]) => {
          try {
            return await c.call(...args);
          } catch (err) {
            throw classify(cause(err), step, o);
          }
        };
        await ctx.step('protocol', async () => {
          try {
            await c.connect();
          } catch (err) {
            throw classify(cause(err), 'protocol', o);
          }
        });

        if (o.password !== undefined) {
          const password = o.password;
          await ctx.step('auth', async () => {
            if (o.username === undefined) await call('auth', 'AUTH', password);
            else await aclAuth(c, o.username, password, ctx, o, cause);
          });
        }

        await ctx.step('protocol', async () => {
          const reply = await call('protocol', 'PING');
          if (reply !== 'PONG') throw new CheckError('protocol', `unexpected answer to PING: ${JSON.stringify(String(reply)).slice(0, 60)}`);
        });

        await ctx.step('query', async () => {
          if (o.db !== undefined) await call('query', 'SELECT', o.db);
          // The version, when INFO is allowed: a nicety, never a failure.
          try {
            const info = await c.call('INFO', 'server');
            const version = /^redis_version:(\S+)/m.exec(String(info))?.[1];
            if (version) ctx.note(`Redis ${version}`);
          } catch {
            // INFO renamed, disabled or not permitted: fine
          }
        });
      },
    );
  },
});

/** `redis[s]://[[user]:password@]host[:port][/db][?db=N]`, as ioredis and redis-py read it. */
function fromUrl(raw: string, scheme: string): Record<string, unknown> {
  if (['unix', 'redis+unix', 'redis+socket'].includes(scheme)) return fromSocketUrl(raw);
  const u = parseGeneric(raw);
  const dbText = u.path[0] ?? u.params.get('db') ?? undefined;
  if (dbText !== undefined && !/^\d+$/.test(dbText)) throw new UrlError('path: expected a database number (redis://host:6379/0)');
  const insecure = u.params.get('ssl_cert_reqs');
  return defined({
    ...hostAndLogin(u, 6379),
    db: dbText === undefined ? undefined : Number(dbText),
    tls: u.scheme === 'rediss',
    ...tlsParams(u.params, { ca: ['ssl_ca_certs', 'ca_file'], cert: ['ssl_certfile'], key: ['ssl_keyfile'] }),
    disable_tls_verification: insecure === null ? flag(u.params, 'insecure') : insecure.toLowerCase() === 'none',
  });
}

/**
 * A Unix socket as the redis clients write it: `unix://[[user]:password@]/path/to/redis.sock?db=N`
 * (redis-py, redis-rb; `unix://` only with type redis), `redis+unix:///path` (redis-rs) and
 * `redis+socket:///path` (kombu); `?password=` as redis-py takes it.
 */
function fromSocketUrl(raw: string): Record<string, unknown> {
  const m = /^[a-z+]+:\/\/(?:([^@/]*)@)?(\/[^?#]*)(?:\?([^#]*))?$/i.exec(raw.trim());
  if (!m) throw new UrlError('expected unix:///path/to/redis.sock (the socket\'s absolute path)');
  const path = decodePart(m[2]!, 'path');
  const params = new URLSearchParams(m[3] ?? '');
  const [user, password] = m[1] === undefined ? [] : m[1].includes(':') ? [m[1].slice(0, m[1].indexOf(':')), m[1].slice(m[1].indexOf(':') + 1)] : [m[1], undefined];
  const dbText = params.get('db') ?? undefined;
  if (dbText !== undefined && !/^\d+$/.test(dbText)) throw new UrlError('db: expected a database number');
  return defined({
    host: path,
    port: 6379,
    username: user ? decodePart(user, 'user name') : undefined,
    password: password ? decodePart(password, 'password') : (params.get('password') ?? undefined),
    db: dbText === undefined ? undefined : Number(dbText),
    tls: false,
  });
}
