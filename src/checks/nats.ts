/**
 * nats (new, not in conn-check): TCP pre-check, the server's INFO (its version, whether it
 * requires or offers TLS), the TLS handshake on that same connection when `tls`; then the NATS
 * client (@nats-io/transport-node) logs in (user/password or token, no reconnects) and measures
 * one PING/PONG round trip.
 */
import * as z from '../core/z.js';
import type { Socket } from 'node:net';
import type { NodeConnectionOptions } from '@nats-io/transport-node';

type NodeTlsOptions = NonNullable<NodeConnectionOptions['tls']>;
import { untilAborted } from '../net/dial.js';
import { CheckError, defineCheck, type CheckContext } from '../core/contract.js';
import { host, login, passwordNeedsUsername, port, scalarString, secret, tlsSwitch } from '../core/options.js';
import { defined, hostListOf, parseGeneric, requireHost } from './url.js';
import { eachHost, endpointsOf, hostList, hostOrHosts, showEndpoints, type Endpoint } from './hosts.js';
import { errorTable, serviceCheck, timeLeft, withService } from './kit/index.js';

const options = z
  .object({
    host: z.optional(host()),
    port: z._default(port(), 4222),
    /** A server list (a cluster's seed servers): tried in order, the first that passes passes. */
    hosts: z.optional(hostList()),
    ...login(),
    token: z.optional(secret(scalarString('a token'))),
    ...tlsSwitch(),
  })
  .check(passwordNeedsUsername())
  .check(z.refine((o) => o.token === undefined || (o.username === undefined && o.password === undefined), {
    message: 'expected either token or username/password, got both',
    path: ['token'],
  }))
  .check(...hostOrHosts());
type Options = z.output<typeof options>;
/** The options for one server of the list. */
type One = Options & Endpoint;
const servers = (o: Options) => endpointsOf(o, 4222);

/** The fields of the server's INFO this check reads. */
interface ServerInfo {
  version?: unknown;
  server_name?: unknown;
  tls_required?: unknown;
  tls_available?: unknown;
  auth_required?: unknown;
}

const MAX_INFO = 64 * 1024;

/** Reads the first protocol line, which a NATS server sends at once: `INFO {json}`. */
function readInfo(socket: Socket, signal: AbortSignal): Promise<ServerInfo> {
  return new Promise<ServerInfo>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (err: unknown, info?: ServerInfo) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      socket.pause();
      if (err) reject(err);
      else resolve(info!);
    };
    const notNats = () => new CheckError('protocol', 'the server did not answer with the NATS protocol');
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // The first bytes must be INFO (a TLS-first server or another protocol is not NATS).
      const head = buffered.subarray(0, 5).toString('latin1').toUpperCase();
      if (!'INFO '.startsWith(head) && !'INFO\t'.startsWith(head)) return done(notNats());
      const eol = buffered.indexOf('\r\n');
      if (eol < 0) {
        if (buffered.length > MAX_INFO) done(notNats());
        return;
      }
      const line = buffered.subarray(0, eol).toString('utf8');
      const m = /^INFO\s+(\{.*\})\s*$/i.exec(line);
      if (!m) return done(notNats());
      try {
        const info = JSON.parse(m[1]!) as unknown;
        if (!info || typeof info !== 'object') return done(notNats());
        done(undefined, info as ServerInfo);
      } catch {
        done(notNats());
      }
    };
    const onClose = () => done(new CheckError('protocol', 'the server closed the connection before its INFO'));
    const onAbort = () => done(signal.reason);
    if (signal.aborted) return reject(signal.reason);
    socket.on('data', onData);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The NATS client's errors: by class where it has one, else by the server's -ERR text. */
const classify = errorTable<Options>([
  {
    when: (e) => e.name === 'AuthorizationError' || /authorization violation/i.test(e.message),
    step: 'auth',
    say: (_e, o) =>
      o.token !== undefined
        ? 'authentication failed (wrong token)'
        : o.username !== undefined
          ? `authentication failed for user "${o.username}" (wrong password or unknown user)`
          : 'authentication failed (the server requires credentials: set username and password, or token)',
  },
  { message: /authentication expired/i, step: 'auth', say: 'authentication failed (credentials expired)' },
  { message: /authentication timeout/i, step: 'auth', say: 'authentication failed (the server timed out waiting for credentials)' },
  { name: 'TimeoutError', say: 'timed out' },
  { message: /^timeout$/i, say: 'timed out' },
  { message: /server does not support 'tls'/, step: 'tls', say: 'the server does not support TLS (tls: true)' },
  { message: /permissions violation\s*(.*)$/i, say: (e) => `permission denied: ${e.match![1] || 'permissions violation'}` },
]);

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('@nats-io/transport-node');

export const nats = defineCheck({
  ...serviceCheck('nats', driver),
  summary: 'a NATS server accepts a login (user/password or token) and answers a PING',
  url: { schemes: ['nats'], alsoSchemes: ['tls'], options: fromUrl },
  container: { images: ['nats'], port: 4222, options: () => ({}) },
  options,
  name: (o) => `nats:${showEndpoints(servers(o))}`,
  target: (o) => showEndpoints(servers(o)),
  egress: (o) => servers(o).map((e) => ({ protocol: 'tcp' as const, host: e.host, port: e.port })),
  // the servers of a cluster share their accounts: a refused login ends the list
  run: (o, ctx) => eachHost(servers(o), ctx, (ep, c) => runOne({ ...o, ...ep }, c), { final: ['auth'] }),
});

async function runOne(o: One, ctx: CheckContext): Promise<void> {
  {
    const remaining = timeLeft(ctx);
    const { connect } = await driver();
    // NATS upgrades in-band: the server's INFO comes in plain text, then the TLS handshake.
    await withService(ctx, { host: o.host, port: o.port, tls: o.tls && o, tlsMode: 'upgrade' }, async (service) => {
      const info = await ctx.step('protocol', () => readInfo(service.socket, ctx.signal));
      const version = typeof info.version === 'string' ? info.version : undefined;
      if (version) ctx.note(`NATS server ${version}`);

      const offersTls = info.tls_required === true || info.tls_available === true;
      if (info.tls_required === true && !o.tls) {
        await ctx.step('tls', () => {
          throw new CheckError('tls', 'the server requires TLS (set tls: true)');
        });
      }
      if (o.tls) {
        // The certificate facts come from this handshake; the client's own TLS connection uses
        // the same options (CA, client certificate, minVersion, SNI).
        await ctx.step('tls', async () => {
          if (!offersTls) throw new CheckError('tls', 'the server does not support TLS (tls: true)');
          await service.startTls();
        });
      }

      // The probe has done its job: the client logs in on a connection of its own through the
      // kit's relay (the client may leave its connection open when the deadline comes in the
      // middle of its handshake: the relay's far side is the kit's, closed at the end), at the
      // address that answered, doing its own TLS (in-band) with the kit's options and name.
      const relay = await service.relay({ maxConnections: 2, terminate: false });
      const tls = service.driverTls();
      const conn = await ctx.step('auth', async () => {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const pending = connect({
          servers: `127.0.0.1:${relay.port}`,
          ...(o.username !== undefined ? { user: o.username } : {}),
          ...(o.password !== undefined ? { pass: o.password } : {}),
          ...(o.token !== undefined ? { token: o.token } : {}),
          name: 'conn-check',
          timeout: remaining(),
          reconnect: false,
          maxReconnectAttempts: 0,
          waitOnFirstConnect: false,
          ignoreClusterUpdates: true,
          noRandomize: true,
          // null: never upgrade to TLS on its own (the client would when the server offers it)
          tls: tls ? (tls as NodeTlsOptions) : null,
        });
        // A login that completes after the deadline is closed at once.
        pending.then(
          (c) => {
            if (ctx.signal.aborted) void c.close().catch(() => {});
          },
          () => {},
        );
        try {
          return await untilAborted(pending, ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw classify(err, 'auth', o);
        }
      });
      service.onClose(() => conn.close().catch(() => {}));

      await ctx.step('query', async () => {
        let rtt: number;
        try {
          rtt = await untilAborted(conn.rtt(), ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw classify(err, 'query', o);
        }
        ctx.note(`PING/PONG round trip ${Math.round(rtt)} ms`);
      });
    });
  }
}

/**
 * `nats://[user:password@|token@]host[:port]`, `tls://` for TLS, as the NATS clients read them;
 * a server list as the clients take it (`nats://h1:4222,h2:4222` or `nats://h1:4222,nats://h2:4222`,
 * the credentials in the first) is `hosts`.
 */
function fromUrl(given: string): Record<string, unknown> {
  const { single, hosts } = hostListOf(given.trim().replace(/,\s*(?:nats|tls):\/\//gi, ','), 4222);
  const u = parseGeneric(single);
  const token = u.username !== undefined && u.password === undefined;
  return defined({
    ...(hosts ? { hosts } : { host: requireHost(u), port: u.port ?? 4222 }),
    username: token ? undefined : u.username,
    password: u.password,
    token: token ? u.username : undefined,
    tls: u.scheme === 'tls',
  });
}
