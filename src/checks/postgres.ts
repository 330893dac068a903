/**
 * postgres (postgresql): TCP pre-check, then log in as `username` to `database` (with TLS as
 * `sslmode` says, libpq's meanings), then `SELECT 1`. A `host` starting with `/` is a Unix-socket
 * directory, as in libpq and conn-check: no TCP pre-check, and no TLS (libpq never uses TLS there).
 * Over TCP, pg logs in on the tcp step's connection, through the kit's loopback relay (one
 * connection per check; a second only for prefer's plain retry after the server's 'N').
 */
import * as z from '../core/z.js';
import type { Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { Client as PgClient, QueryConfig } from 'pg';
import { minVersionFailure } from '../net/tls.js';
import { describeError, isTlsError } from '../net/errors.js';
import { capReads, DEFAULT_READ_CAP, setReadBudget, type ReadLimitError } from '../net/bounded.js';
import { pgFrames } from '../net/pg-wire.js';
import { CheckError, defineCheck, type CheckContext } from '../core/contract.js';
import { host, oneOf, port, scalarString, secret, text, tlsOptionsShape, type TlsOptions } from '../core/options.js';
import { parse as parsePgUrl } from 'pg-connection-string';
import { UrlError, defined, flag, hostListOf } from './url.js';
import { always, eachHost, endpointsOf, hostList, hostOrHosts, showEndpoints, type Endpoint } from './hosts.js';
import { errorTable, serviceCheck, timeLeft, withService, type DriverError, type Service } from './kit/index.js';
import type { Relay } from '../net/relay.js';

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof SSL_MODES)[number];
const SESSION_ATTRS = ['any', 'read-write', 'read-only', 'primary', 'standby'] as const;

const options = z
  .object({
  host: z.optional(host()),
  /** libpq's host list: tried in order, the first that accepts the login passes. */
  hosts: z.optional(hostList()),
  port: z.optional(port()),
  username: text(),
  password: secret(scalarString()),
  database: text(),
  sslmode: z._default(oneOf(SSL_MODES), 'prefer'),
  ca_file: z.optional(text('a path to a PEM file')),
  // libpq's sslcert/sslkey; SNI and the name verify-full checks; the shared TLS assertions
  client_cert: tlsOptionsShape().client_cert,
  client_key: tlsOptionsShape().client_key,
  server_name: tlsOptionsShape().server_name,
  min_tls_version: tlsOptionsShape().min_tls_version,
  min_cert_days: tlsOptionsShape().min_cert_days,
  /** libpq's target_session_attrs: what the server that passes must be (others are skipped). */
  target_session_attrs: z._default(oneOf(SESSION_ATTRS), 'any'),
  })
  .check(...hostOrHosts())
  .check(z.refine((o) => o.hosts !== undefined || o.port !== undefined, { message: 'expected an integer 1-65535, got nothing', path: ['port'], ...always }));
type Options = z.output<typeof options>;
/** The options for one server of the list. */
type One = Options & Endpoint;
const servers = (o: Options) => endpointsOf(o, 5432);

/** The check's read budget (the runner's default: postgres sets no maxReadBytes). */
const READ_LIMIT = DEFAULT_READ_CAP;

/** The message pg emits when the server answers the SSLRequest with 'N'. */
const NO_SSL = 'The server does not support SSL connections';

/** An ErrorResponse from the server: SQLSTATE in `code`, severity set. */
const sqlState =
  (...codes: string[]) =>
  (e: DriverError): boolean =>
    typeof e.code === 'string' && typeof (e.err as { severity?: unknown }).severity === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && (codes.length === 0 || codes.includes(e.code));

/** pg's errors: the server's by SQLSTATE, pg's own by their (code-less) messages, TLS by Node's codes. */
const classify = errorTable<Options>(
  [
    // With SCRAM/md5 the server answers an unknown user exactly like a wrong password.
    { when: sqlState('28P01'), step: 'auth', say: (_e, o) => `authentication failed for user "${o.username}" (wrong password or unknown user)` },
    { when: sqlState('28000'), message: /^role ".*" does not exist$/, step: 'auth', say: (_e, o) => `user "${o.username}" does not exist` },
    { when: sqlState('28000'), step: 'auth', say: (e) => `the server does not allow this login: ${e.message}` },
    { when: sqlState('3D000'), step: 'auth', say: (_e, o) => `database "${o.database}" does not exist` },
    { when: sqlState('42501'), say: (e) => `permission denied: ${e.message}` },
    { when: sqlState('53300'), say: (e) => `the server has too many connections: ${e.message}` },
    { when: sqlState('57P03'), say: (e) => `the server is not accepting connections: ${e.message}` },
    { when: sqlState(), say: (e) => `${e.message} (SQLSTATE ${e.code})` },
    { message: /^The server does not support SSL connections$/, step: 'tls', say: (_e, o) => `the server does not support TLS (sslmode ${o.sslmode})` },
    { message: /^There was an error establishing an SSL connection$/, step: 'tls', say: 'the server answered the TLS request with an error' },
    { when: (e) => isTlsError(e.err), step: 'tls', say: (e, o) => minVersionFailure(e.err, o.min_tls_version) ?? describeError(e.err) },
    { message: /^(timeout expired|Query read timeout)$/, say: 'timed out' },
    { message: /^Connection terminated/, say: 'the server closed the connection' },
    { message: /^SASL: (.*)/, step: 'auth', say: (e) => `SCRAM authentication failed: ${e.match![1]!.trim()}` },
  ],
  { secrets: (o) => [o.password] },
);

/**
 * Node TLS options for an sslmode, as libpq reads it: prefer/require encrypt without verifying
 * (require with a CA file verifies the chain, as libpq does when root.crt exists), verify-ca
 * checks the chain only, verify-full the chain and the host name.
 */
function verification(o: Options): 'none' | 'chain' | 'full' {
  if (o.sslmode === 'verify-full') return 'full';
  if (o.sslmode === 'verify-ca' || (o.sslmode === 'require' && o.ca_file !== undefined)) return 'chain';
  return 'none';
}

/** The shared TLS options for an sslmode: verification off for prefer and require (without a CA file). */
function tlsSettings(o: Options): Partial<TlsOptions> {
  return {
    disable_tls_verification: verification(o) === 'none',
    ca_file: o.ca_file,
    client_cert: o.client_cert,
    client_key: o.client_key,
    server_name: o.server_name,
    min_tls_version: o.min_tls_version,
    min_cert_days: o.min_cert_days,
  };
}

/** pg's TLS options: the kit's, with the host name checked only for verify-full. */
function tlsFor(o: Options, service: Service): ConnectionOptions {
  if (verification(o) === 'full') return service.driverTls()!;
  return { ...service.tlsOptions, checkServerIdentity: () => undefined };
}

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('pg');

export const postgres = defineCheck({
  ...serviceCheck('postgres', driver),
  summary: 'a PostgreSQL server accepts a login to a database and answers SELECT 1',
  url: { schemes: ['postgres', 'postgresql'], options: fromUrl },
  container: {
    images: ['postgres', 'postgis/postgis', 'pgvector/pgvector', 'timescale/timescaledb'],
    port: 5432,
    options: (env) => {
      const username = env.get('POSTGRES_USER', 'postgres');
      return { username, password: env.get('POSTGRES_PASSWORD'), database: env.get('POSTGRES_DB', username) };
    },
  },
  options,
  name: (o) => `postgres:${showEndpoints(servers(o))}`,
  // a unix socket (a host starting with /) had no tcp step
  usesTls: (o) => servers(o).some((e) => !e.host.startsWith('/')) && o.sslmode !== 'disable',
  // prefer and require (without a CA file) encrypt without verifying: reports mark them
  insecure: (o) => servers(o).some((e) => !e.host.startsWith('/')) && o.sslmode !== 'disable' && verification(o) === 'none',
  legacyNames: (o) => servers(o).flatMap((e) => [...(e.host.startsWith('/') ? [] : [`tcp:${e.host}:${e.port}`]), `postgres:${e.host}:${e.port}`]),
  target: (o) => showEndpoints(servers(o)),
  egress: (o) => servers(o).filter((e) => !e.host.startsWith('/')).map((e) => ({ protocol: 'tcp' as const, host: e.host, port: e.port })),
  // libpq: a failed login ends the list (the next server would refuse it too)
  run: (o, ctx) => eachHost(servers(o), ctx, (ep, c) => runOne({ ...o, ...ep }, c), { final: ['auth'] }),
});

async function runOne(o: One, ctx: CheckContext): Promise<void> {
  {
    const remaining = timeLeft(ctx);
    const unixSocket = o.host.startsWith('/');
    const useTls = !unixSocket && o.sslmode !== 'disable';
    /**
     * The login with pg at `connectHost`:`connectPort`: the Unix socket, or the kit's relay,
     * whose connections are carried over the kit's (`service`, `relay`: none for a Unix socket).
     */
    const session = async (connectHost: string, connectPort: number, service?: Service, relay?: Relay): Promise<void> => {
      const { Client } = await driver();

      const clients: { client: PgClient; raw: Socket; ok: boolean }[] = [];
      // pg's sockets are guarded (net/bounded.ts): a message pg-protocol cannot parse (it throws
      // inside the socket's push) ends the check instead of the process. Through the relay the
      // server's bytes were counted already, on the kit's connection: pg's loopback socket and
      // its TLS socket get a budget of their own, without a cap, that only records such a message.
      let unreadable: ReadLimitError | undefined;
      let guard = ctx.signal;
      if (relay) {
        guard = new AbortController().signal;
        setReadBudget(guard, Number.POSITIVE_INFINITY, (err) => (unreadable ??= err));
      }
      const destroy = (c: { client: PgClient; raw: Socket }) => {
        (c.client.connection.stream as Socket).destroy();
        c.raw.destroy();
      };
      const onAbort = () => clients.forEach(destroy);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let version: string | undefined;

      const login = async (ssl: ConnectionOptions | false): Promise<PgClient> => {
        const client = new Client({
          host: connectHost,
          port: connectPort,
          user: o.username,
          password: o.password,
          database: o.database,
          ssl,
          sslnegotiation: 'postgres',
          application_name: 'conn-check',
          // pg's own timers are a fallback a second after the check's deadline (timeLeft): the
          // runner's deadline ends the check first, with its own words ("timed out after Ns").
          connectionTimeoutMillis: remaining(),
          query_timeout: remaining(),
          keepAlive: false,
        });
        // Through the relay, the server's bytes were inspected on the kit's connection (pgFrames);
        // on a Unix socket, pg's own socket is the server's.
        const entry = { client, raw: capReads(client.connection.stream as Socket, guard, relay ? undefined : pgFrames(false, READ_LIMIT)), ok: false };
        // Watched from before the connect: once pg has read an 'S' it wraps this socket in TLS, and
        // the socket emits no more data, so a listener that came late would wait for the deadline.
        const firstChunk = firstBytes(entry.raw);
        client.connection.once('sslconnect', () => capReads(client.connection.stream as TLSSocket, guard, pgFrames(false, READ_LIMIT)));
        // pg answers a request for the password in cleartext without a word: say so, and whether
        // anything protected it on the way (libpq's sslmode prefer does the same).
        client.connection.once('authenticationCleartextPassword', () => {
          const stream = client.connection.stream as Socket | TLSSocket;
          const encrypted = 'encrypted' in stream && stream.encrypted;
          ctx.note(
            !encrypted
              ? 'insecure: the server asked for the password in cleartext, and it was sent without TLS (set sslmode: verify-full to refuse this)'
              : verification(o) === 'full'
                ? 'the server asked for the password in cleartext (sent over verified TLS)'
                : 'insecure: the server asked for the password in cleartext, and it was sent over TLS whose certificate was not verified (set sslmode: verify-full)',
          );
        });
        clients.push(entry);
        client.on('error', () => {}); // a late socket error must not crash the process
        client.connection.on('parameterStatus', (msg: { parameterName?: string; parameterValue?: string }) => {
          if (msg.parameterName === 'server_version') version = msg.parameterValue;
        });
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const connecting = client.connect();
        connecting.catch(noop); // awaited below, unless the protocol step fails first
        // pg swaps in the TLS socket when the server answers the SSLRequest with 'S'; until that
        // socket's handshake completes, a deadline is the TLS step's (a server that says 'S' and
        // then goes quiet), not the login's. Errors are classified below, from `connecting`.
        let secured: Promise<void> | undefined;
        let handshaking = false;
        const upgraded = new Promise<void>((resolve) =>
          client.connection.once('sslconnect', () => {
            const stream = client.connection.stream as TLSSocket;
            handshaking = true;
            secured = new Promise<void>((done) => stream.once('secureConnect', () => ((handshaking = false), done())));
            resolve();
          }),
        );
        // Until the server's first bytes arrive, and when they are not PostgreSQL's (an HTTP or SSH
        // port), the failure is the protocol's, not the login's. What they are is pgFrames' to say:
        // it sees them before pg does, and ends the check in this step.
        await ctx.step('protocol', async () => {
          if ((await firstChunk) !== undefined) return;
          // pg's own timer can still end a silent server before the runner does (an event loop
          // stalled past both): no first byte, so still the protocol's failure (a close is the login's).
          const err = await connecting.then(noop, (e: unknown) => e);
          if (err instanceof Error && err.message === 'timeout expired') throw new CheckError('protocol', 'timed out');
        });
        if (ssl) {
          const settled = connecting.then(noop, noop);
          await Promise.race([upgraded, settled]);
          if (secured) await ctx.step('tls', () => Promise.race([secured!, settled]));
          // pg's own timer (its fallback) may end a stalled handshake first.
          await connecting.catch((err: unknown) => {
            throw handshaking ? classify(err, 'tls', o) : err;
          });
        }
        await connecting;
        entry.ok = true;
        return client;
      };

      // A connection the relay could not open (prefer's second, to a server gone meanwhile) is
      // reported as the kit's dial says; pg only saw its loopback connection close.
      const failed = (err: unknown): CheckError => (relay?.failure instanceof CheckError ? relay.failure : classify(err, 'auth', o));
      try {
        const client = await ctx.step('auth', async () => {
          if (!useTls) {
            try {
              return await login(false);
            } catch (err) {
              throw failed(err);
            }
          }
          const tls = tlsFor(o, service!);
          try {
            return await login(tls);
          } catch (err) {
            // prefer: fall back to a plain connection only when the server has no TLS at all.
            if (o.sslmode === 'prefer' && !ctx.signal.aborted && (err as Error)?.message === NO_SSL) {
              try {
                return await login(false);
              } catch (err2) {
                throw failed(err2);
              }
            }
            throw failed(err);
          }
        });
        const stream = client.connection.stream as Socket | TLSSocket;
        if ('encrypted' in stream && stream.encrypted) {
          // pg upgraded its connection, carried over the kit's: the certificate is the server's.
          service!.assertTls(stream as TLSSocket);
        } else {
          ctx.note(unixSocket ? `Unix socket ${o.host}/.s.PGSQL.${o.port}, without TLS` : 'without TLS');
          if (!unixSocket && o.sslmode !== 'disable' && (o.min_cert_days !== undefined || o.min_tls_version !== undefined)) {
            throw new CheckError('tls', `the server does not support TLS (sslmode ${o.sslmode} fell back to plain text; min_cert_days and min_tls_version need TLS)`);
          }
        }
        if (version) ctx.note(`PostgreSQL ${version}`);

        await ctx.step('query', async () => {
          let rows: unknown[];
          try {
            ({ rows } = await client.query({ text: 'SELECT 1 AS ok', query_timeout: remaining() } as QueryConfig));
          } catch (err) {
            throw classify(err, 'query', o);
          }
          const ok = (rows[0] as { ok?: unknown } | undefined)?.ok;
          if (ok !== 1) throw new CheckError('query', `unexpected answer to SELECT 1: ${JSON.stringify(ok) ?? 'no row'}`);
          if (o.target_session_attrs !== 'any') await sessionAttrs(client, o, remaining(), ctx);
        });
      } catch (err) {
        // pg only saw its connection close: the failure is the message it could not read.
        if (unreadable && !ctx.signal.aborted) throw new CheckError(err instanceof CheckError ? err.step : 'auth', unreadable.message);
        throw err;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        for (const c of clients) {
          if (c.ok && !ctx.signal.aborted) {
            // A polite goodbye (Terminate) when the connection is healthy; bounded, then destroyed.
            await Promise.race([c.client.end().catch(() => {}), closedWithin(c.raw, 1000)]);
          }
          destroy(c);
        }
      }
    };
    // A Unix socket has no TCP step and no TLS (libpq never uses TLS there).
    if (unixSocket) return session(o.host, o.port);
    // The kit reads the TLS material and connects (the tcp step); pg dials the kit's loopback
    // relay, whose first connection is carried over that very connection (reuse), and negotiates
    // TLS itself (SSLRequest) through it, with the kit's options: SNI and verify-full's check are
    // the name asked for, not the relay's 127.0.0.1; the kit asserts the certificate pg got.
    // prefer's plain retry after an 'N' is the relay's second connection, to the same address.
    await withService(ctx, { host: o.host, port: o.port, tls: useTls && tlsSettings(o), tlsMode: 'driver' }, async (service) => {
      // The relay's connections in order: the first opens with an SSLRequest when TLS is asked for;
      // prefer's retry after an 'N' does not.
      let opened = 0;
      const frames = () => pgFrames(useTls && opened++ === 0, READ_LIMIT);
      const relay = await service.relay({ maxConnections: useTls && o.sslmode === 'prefer' ? 2 : 1, reuse: true, terminate: false, frames });
      return session('127.0.0.1', relay.port, service, relay);
    });
  }
}

function noop(): void {}

/**
 * libpq's target_session_attrs, asked as libpq asks a server: whether it is in recovery (a
 * standby) and whether its sessions are read-only. A server that is not what was asked for
 * fails at `query` (with a host list, the next one is tried).
 */
async function sessionAttrs(client: PgClient, o: One, timeoutMs: number, ctx: CheckContext): Promise<void> {
  let row: { standby?: unknown; ro?: unknown } | undefined;
  try {
    ({ rows: [row] } = await client.query({ text: "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS ro", query_timeout: timeoutMs } as QueryConfig));
  } catch (err) {
    throw classify(err, 'query', o);
  }
  const standby = row?.standby === true;
  const readOnly = standby || row?.ro === 'on';
  ctx.note(`the server is ${standby ? 'a standby' : 'a primary'}${readOnly ? ', its sessions read-only' : ''}`);
  const wanted = o.target_session_attrs;
  const ok = { any: true, 'read-write': !readOnly, 'read-only': readOnly, primary: !standby, standby }[wanted];
  if (!ok) throw new CheckError('query', `the server is ${standby ? 'a standby' : readOnly ? 'read-only' : 'a primary'}, not ${wanted} (target_session_attrs)`);
}

/** The first chunk the server sends on this socket, or undefined if it closes (or fails) first. */
function firstBytes(socket: Socket): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const done = (data?: Buffer) => {
      socket.off('data', done);
      socket.off('close', none);
      socket.off('error', none);
      resolve(data);
    };
    const none = () => done(undefined);
    socket.on('data', done);
    socket.once('close', none);
    socket.once('error', none);
  });
}

/** Resolves after `ms` or when the socket closes, whichever is first (no timer left behind). */
function closedWithin(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      socket.off('close', done);
      resolve();
    }
    socket.once('close', done);
  });
}

/** libpq's file parameters: kept away from pg-connection-string, which would read the files. */
const PG_FILE_PARAMS: Record<string, string> = { sslrootcert: 'ca_file', sslcert: 'client_cert', sslkey: 'client_key' };

/**
 * `postgres[ql]://[user[:password]@][host][:port][/database][?sslmode=...]` read by node-postgres'
 * own parser (pg-connection-string): %-decoded userinfo, a Unix-socket directory as `%2Fpath` or
 * `?host=/path`, `ssl=true` as sslmode require; the database defaults to the user name, as in libpq.
 */
function fromUrl(given: string): Record<string, unknown> {
  const { single: raw, hosts } = hostListOf(given.trim(), 5432);
  const q = raw.indexOf('?');
  const params = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  const files: Record<string, string> = {};
  for (const [param, option] of Object.entries(PG_FILE_PARAMS)) {
    const v = params.get(param);
    if (v) files[option] = v;
    params.delete(param);
  }
  const sslmode = params.get('sslmode') ?? undefined;
  params.delete('sslmode');
  const attrs = params.get('target_session_attrs');
  params.delete('target_session_attrs');
  const rest = params.toString();
  let c: ReturnType<typeof parsePgUrl>;
  try {
    c = parsePgUrl((q === -1 ? raw : raw.slice(0, q)) + (rest ? `?${rest}` : ''));
  } catch {
    throw new UrlError('cannot be parsed (look at its host, port and %-escapes)');
  }
  const hostText = c.host ?? '';
  if (!hostText) throw new UrlError('has no host (a Unix-socket directory goes in as %2Fpath or ?host=/path)');
  const ssl = flag(params, 'ssl');
  const user = c.user || undefined;
  if (hosts && hostText.startsWith('/')) throw new UrlError('has a Unix-socket directory in a list of hosts: write one check for the socket');
  return defined({
    ...(hosts ? { hosts } : { host: hostText, port: c.port ? Number(c.port) : 5432 }),
    username: user,
    password: c.password || undefined,
    database: c.database || user,
    sslmode: sslmode ?? (ssl === undefined ? undefined : ssl ? 'require' : 'disable'),
    target_session_attrs: attrs ?? undefined,
    ...files,
  });
}
