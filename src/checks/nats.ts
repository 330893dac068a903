/**
 * nats (new, not in conn-check): TCP pre-check, the server's INFO (its version, whether it
 * requires or offers TLS), the TLS handshake on that same connection when `tls`; then the NATS
 * client (@nats-io/transport-node) logs in (user/password or token, no reconnects) and measures
 * one PING/PONG round trip.
 */
import * as z from 'zod/mini';
import type { Socket } from 'node:net';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';

type NodeTlsOptions = NonNullable<NodeConnectionOptions['tls']>;
import { bareHost, connectTcp, hostPort, showAddress, untilAborted } from '../net/dial.js';
import { assertCertificate, handshake, secureOptions } from '../net/tls.js';
import { describeError } from '../net/errors.js';
import { nodeTls } from '../net/builtins.js';
import { startRelay, type Relay } from '../net/relay.js';
import { CheckError, defineCheck, type CheckContext, type StepName } from '../core/contract.js';
import { bool, host, port, scalarString, secret, text, tlsOptionsShape } from '../core/options.js';
import { defined, hostListOf, parseGeneric, requireHost } from './url.js';
import { eachHost, endpointsOf, hostList, hostOrHosts, showEndpoints, type Endpoint } from './hosts.js';

const options = z
  .object({
    host: z.optional(host()),
    port: z._default(port(), 4222),
    /** A server list (a cluster's seed servers): tried in order, the first that passes passes. */
    hosts: z.optional(hostList()),
    username: z.optional(text('a non-empty user name')),
    password: z.optional(secret(scalarString('a password'))),
    token: z.optional(secret(scalarString('a token'))),
    tls: z._default(bool(), false),
    ...tlsOptionsShape,
  })
  .check(z.refine((o) => o.password === undefined || o.username !== undefined, {
    message: 'expected a username with password, got nothing',
    path: ['username'],
  }))
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

/** Turns a NATS client error into a short, credential-free CheckError. */
function classify(err: unknown, o: Options, step: StepName): CheckError {
  if (err instanceof CheckError) return err;
  const e = (err ?? {}) as { name?: unknown; message?: unknown; cause?: unknown };
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]!.trim() : '';
  if (name === 'AuthorizationError' || /authorization violation/i.test(message)) {
    if (o.token !== undefined) return new CheckError('auth', 'authentication failed (wrong token)');
    if (o.username !== undefined) return new CheckError('auth', `authentication failed for user "${o.username}" (wrong password or unknown user)`);
    return new CheckError('auth', 'authentication failed (the server requires credentials: set username and password, or token)');
  }
  if (/authentication expired/i.test(message)) return new CheckError('auth', 'authentication failed (credentials expired)');
  if (/authentication timeout/i.test(message)) return new CheckError('auth', 'authentication failed (the server timed out waiting for credentials)');
  if (name === 'TimeoutError' || /^timeout$/i.test(message)) return new CheckError(step, 'timed out');
  if (/server does not support 'tls'/.test(message)) return new CheckError('tls', 'the server does not support TLS (tls: true)');
  if (/permissions violation/i.test(message)) return new CheckError(step, `permission denied: ${message.replace(/^.*permissions violation\s*/i, '') || 'permissions violation'}`);
  return new CheckError(step, describeError(err));
}

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('@nats-io/transport-node');

export const nats = defineCheck({
  load: driver,
  type: 'nats',
  summary: 'a NATS server accepts a login (user/password or token) and answers a PING',
  url: { schemes: ['nats'], alsoSchemes: ['tls'], options: fromUrl },
  container: { images: ['nats'], port: 4222, options: () => ({}) },
  options,
  name: (o) => `nats:${showEndpoints(servers(o))}`,
  usesTls: (o) => o.tls,
  target: (o) => showEndpoints(servers(o)),
  egress: (o) => servers(o).map((e) => ({ protocol: 'tcp' as const, host: e.host, port: e.port })),
  // the servers of a cluster share their accounts: a refused login ends the list
  run: (o, ctx) => eachHost(servers(o), ctx, (ep, c) => runOne({ ...o, ...ep }, c), { final: ['auth'] }),
});

async function runOne(o: One, ctx: CheckContext): Promise<void> {
  {
    const deadline = performance.now() + ctx.timeoutMs;
    const remaining = () => Math.max(1, Math.round(deadline - performance.now()));
    const tlsOptions: ConnectionOptions | undefined = o.tls ? await ctx.step('tls', () => secureOptions(o, o.host, ctx)) : undefined;
    const { connect } = await driver();
    const { socket, address } = await ctx.step('tcp', () => connectTcp(o.host, o.port, ctx.signal));
    let secure: TLSSocket | undefined;
    let nc: NatsConnection | undefined;
    let relay: Relay | undefined;
    const expectedName = o.server_name ?? bareHost(o.host);
    const identity = tlsOptions?.rejectUnauthorized === false ? {} : { checkServerIdentity: (_h: string, cert: PeerCertificate) => nodeTls().checkServerIdentity(expectedName, cert) };
    const closeProbe = () => {
      secure?.destroy();
      socket.destroy();
    };
    ctx.signal.addEventListener('abort', closeProbe, { once: true });
    try {
      ctx.note(`connected to ${showAddress(address)}`);
      const info = await ctx.step('protocol', () => readInfo(socket, ctx.signal));
      const version = typeof info.version === 'string' ? info.version : undefined;
      if (version) ctx.note(`NATS server ${version}`);

      const offersTls = info.tls_required === true || info.tls_available === true;
      if (info.tls_required === true && !o.tls) {
        await ctx.step('tls', () => {
          throw new CheckError('tls', 'the server requires TLS (set tls: true)');
        });
      }
      if (tlsOptions) {
        await ctx.step('tls', async () => {
          if (!offersTls) throw new CheckError('tls', 'the server does not support TLS (tls: true)');
          secure = await handshake(socket, tlsOptions, ctx.signal);
          ctx.note(`TLS (${secure.getProtocol() ?? 'unknown version'}${o.disable_tls_verification ? ', certificate not verified' : ''})`);
        });
        // The certificate facts come from the probe's handshake; the client's own TLS
        // connection uses the same options (CA, client certificate, minVersion, SNI).
        assertCertificate(secure!, o, ctx, o.server_name ?? bareHost(o.host));
      }
      // The probe has done its job: the client logs in on a connection of its own, at the
      // address that answered (TLS still checks the name that was asked for).
      closeProbe();

      // The client opens its own connection and may leave it open when the deadline comes in
      // the middle of its handshake: it connects to a loopback relay whose far side is a
      // connection of this check's (closed at the end, bounded by the read budget).
      relay = await startRelay(async () => (await connectTcp(o.host, o.port, ctx.signal, [address])).socket, { signal: ctx.signal, maxConnections: 2 });
      const relayPort = relay.port;
      const conn = await ctx.step('auth', async () => {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const pending = connect({
          servers: `127.0.0.1:${relayPort}`,
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
          // (the certificate is checked against the configured name, not the relay's address)
          tls: tlsOptions ? ({ ...tlsOptions, ...identity } as NodeTlsOptions) : null,
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
          throw classify(err, o, 'auth');
        }
      });
      nc = conn;

      await ctx.step('query', async () => {
        let rtt: number;
        try {
          rtt = await untilAborted(conn.rtt(), ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw classify(err, o, 'query');
        }
        ctx.note(`PING/PONG round trip ${Math.round(rtt)} ms`);
      });
    } finally {
      ctx.signal.removeEventListener('abort', closeProbe);
      closeProbe();
      void relay?.close();
      if (nc) {
        const closing = nc.close().catch(() => {});
        if (!ctx.signal.aborted) await closing;
      }
    }
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
