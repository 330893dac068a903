/**
 * amqp: TCP, then (use_tls) a TLS handshake, then an AMQP 0-9-1 login as the user on the vhost,
 * then a channel opened and closed.
 *
 * use_tls unset: TLS on 5671 (AMQPS), plain AMQP on any other port, noted in the result. conn-check
 * defaulted use_tls to true, but its tls step never handshook and its login always ran over plain
 * TCP, so every amqp check that worked with it points at a plain port (and its generators omit
 * use_tls). An explicit use_tls: true means TLS.
 *
 * Unlike conn-check, which checked TLS separately and then logged in over plain TCP, the login
 * runs over TLS when use_tls is on (amqps), with the same verification settings as the tls step.
 * amqplib opens its own socket and cannot be handed one: it connects to a loopback relay
 * (net/relay.ts) whose far side is a connection of this check's to the address that passed the
 * tcp step (no second resolution), read within the check's read budget (net/bounded.ts: a
 * broker that floods is cut off at the cap) and closed when the check ends. amqplib obeys the
 * check's signal (passed to the socket) and has no retries unless asked (we never ask).
 * amqplib's messages are never passed through: they are recognised and rewritten.
 */
import * as z from 'zod/mini';
import type { PeerCertificate } from 'node:tls';
import type { ChannelModel, SocketOptions } from 'amqplib';
import { bareHost, connectTcp, hostPort, showAddress, untilAborted } from '../net/dial.js';
import { assertCertificate, handshake, secureOptions } from '../net/tls.js';
import { describeError } from '../net/errors.js';
import { nodeTls } from '../net/builtins.js';
import { startRelay, type Relay } from '../net/relay.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { bool, host, port, scalarString, secret, text, tlsOptionsShape } from '../core/options.js';
import { UrlError, decodePart, defined, parseGeneric, requireHost } from './url.js';

const options = z.object({
  host: host(),
  port: port(),
  username: text('a non-empty user name'),
  password: secret(scalarString('a password')),
  use_tls: z.optional(bool()),
  vhost: z._default(scalarString('a vhost name'), '/'),
  ...tlsOptionsShape,
});
type Options = z.output<typeof options>;

/** Text with the password (and its URL-encoded form) taken out, for fallback messages. */
function scrub(message: string, o: Options): string {
  let out = message.split('\n')[0]!;
  for (const secret of [o.password, encodeURIComponent(o.password)]) {
    if (secret.length >= 1) out = out.split(secret).join('***');
  }
  return out;
}

/** amqplib's connect errors, in words; never its raw text. */
function connectFailure(err: unknown, o: Options): CheckError {
  const message = err instanceof Error ? err.message : String(err);
  const refused = /Handshake terminated by server: (\d+) \(([A-Z_-]+)\)/.exec(message);
  if (refused) {
    const code = Number(refused[1]);
    if (code === 403) return new CheckError('auth', `authentication failed for user ${o.username}`);
    if (code === 530) return new CheckError('auth', `access to vhost ${o.vhost} refused for user ${o.username}`);
    return new CheckError('auth', `the server closed the connection during the login (${code} ${refused[2]})`);
  }
  // RabbitMQ answers connection.open on a vhost the user may not use, or that does not exist,
  // with connection.close 530 NOT_ALLOWED; amqplib reports only the frame's name.
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return new CheckError('auth', `access to vhost ${o.vhost} refused for user ${o.username} (no such vhost, or no permissions on it)`);
  }
  if (/SASL mechanism \S+ is not provided by the server/.test(message)) {
    return new CheckError('auth', 'the server does not offer PLAIN authentication');
  }
  const code = (err as { code?: unknown })?.code;
  if (/Socket closed abruptly during opening handshake/.test(message) || code === 'ECONNRESET' || code === 'EPIPE') {
    return new CheckError(
      'auth',
      o.use_tls
        ? 'the server closed the connection during the AMQP handshake'
        : 'the server closed the connection during the AMQP handshake (if this is a TLS port, set use_tls: true)',
    );
  }
  if (/connect ETIMEDOUT/.test(message)) return new CheckError('auth', 'timed out during the AMQP handshake');
  if (/Expected|frame|Frame|Unexpected|during handshake/.test(message)) {
    return new CheckError('auth', 'not an AMQP 0-9-1 server (unexpected reply to the protocol header)');
  }
  return new CheckError('auth', scrub(describeError(err), o));
}

function destroyConnection(model: ChannelModel): void {
  const stream = (model.connection as unknown as { stream?: { destroy(): void } }).stream;
  stream?.destroy();
}

/** The port that says TLS when use_tls is not set. */
const AMQPS_PORT = 5671;

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('amqplib');

export const amqp = defineCheck({
  load: driver,
  type: 'amqp',
  summary: 'AMQP 0-9-1 login (RabbitMQ): TCP, TLS, authentication on the vhost, a channel',
  url: { schemes: ['amqp', 'amqps'], options: fromUrl },
  container: {
    images: ['rabbitmq'],
    port: 5672,
    options: (env) => ({
      username: env.get('RABBITMQ_DEFAULT_USER', 'guest'),
      password: env.get('RABBITMQ_DEFAULT_PASS', 'guest'),
      vhost: env.get('RABBITMQ_DEFAULT_VHOST'),
      use_tls: false,
    }),
  },
  options,
  name: (o) => `amqp:${hostPort(o.host, o.port)}`,
  // conn-check's steps had no common prefix; its tls step ran unless use_tls was false
  usesTls: (o) => o.use_tls ?? o.port === AMQPS_PORT,
  legacyNames: (o) => [`tcp:${o.host}:${o.port}`, ...(o.use_tls === false ? [] : [`tls:${o.host}:${o.port}`]), `amqp:${o.host}:${o.port}`],
  target: (o) => hostPort(o.host, o.port),
  async run(given, ctx) {
    const o = { ...given, use_tls: given.use_tls ?? given.port === AMQPS_PORT };
    if (given.use_tls === undefined) {
      ctx.note(o.use_tls ? `TLS: use_tls is not set and ${AMQPS_PORT} is the AMQPS port` : `plain AMQP, no TLS: use_tls is not set and port ${o.port} is not the AMQPS port (${AMQPS_PORT})`);
    }
    const { socket, address } = await ctx.step('tcp', () => connectTcp(o.host, o.port, ctx.signal));
    ctx.note(`connected to ${showAddress(address)}`);
    let tlsOptions: Awaited<ReturnType<typeof secureOptions>> | undefined;
    try {
      if (o.use_tls) {
        const opts = await ctx.step('tls', () => secureOptions(o, o.host, ctx));
        tlsOptions = opts;
        const secure = await ctx.step('tls', () => handshake(socket, opts, ctx.signal));
        try {
          ctx.note(`TLS ${secure.getProtocol() ?? ''}`.trim());
          // The certificate facts come from this handshake; the login's own TLS connection
          // (amqplib's) uses the same options (CA, client certificate, minVersion, SNI).
          assertCertificate(secure, o, ctx, o.server_name ?? bareHost(o.host));
        } finally {
          secure.destroy();
        }
      }
    } finally {
      socket.destroy(); // the login opens its own connection
    }

    const amqplib = await driver();
    const connect = amqplib.connect ?? (amqplib as unknown as { default: typeof amqplib }).default.connect;
    let model: ChannelModel | undefined;
    let finished = false;
    const relay: Relay = await startRelay(async () => (await connectTcp(o.host, o.port, ctx.signal, [address])).socket, { signal: ctx.signal, maxConnections: 1 });
    // TLS runs through the relay: the certificate is checked against the configured name (or
    // the address asked for), not the relay's
    const expectedName = o.server_name ?? bareHost(o.host);
    const identity =
      tlsOptions && tlsOptions.rejectUnauthorized !== false ? { checkServerIdentity: (_h: string, cert: PeerCertificate) => nodeTls().checkServerIdentity(expectedName, cert) } : {};
    // net/tls.connect options as amqplib passes them on; `signal` destroys its socket on abort
    const socketOptions: SocketOptions & { signal: AbortSignal } = {
      // CA, client certificate, verification and SNI (the configured name, which Node also
      // checks the certificate against; for an IP literal, the address)
      ...(tlsOptions ?? {}),
      ...identity,
      timeout: Math.max(1, ctx.timeoutMs),
      signal: ctx.signal,
      clientProperties: { connection_name: 'conn-check' },
    };
    const connecting: Promise<ChannelModel> = connect(
      {
        protocol: o.use_tls ? 'amqps' : 'amqp',
        hostname: '127.0.0.1',
        port: relay.port,
        username: o.username,
        password: o.password,
        vhost: o.vhost,
        heartbeat: 0,
      },
      socketOptions as SocketOptions,
    );
    // a connection that opens after the check gave up is closed at once
    connecting.then(
      (m) => {
        m.on('error', () => {});
        if (finished) destroyConnection(m);
      },
      () => {},
    );
    try {
      model = await ctx.step('auth', async () => {
        try {
          return await untilAborted(connecting, ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw connectFailure(err, o);
        }
      });
      const props = model.connection.serverProperties as unknown as Record<string, unknown>;
      const product = props?.product ? String(props.product) : undefined;
      const version = props?.version ? String(props.version) : undefined;
      if (product) ctx.note(`${product}${version ? ` ${version}` : ''}`);
      const m = model;
      await ctx.step('protocol', async () => {
        try {
          const channel = await untilAborted(m.createChannel(), ctx.signal);
          await untilAborted(channel.close(), ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw new CheckError('protocol', `opening a channel failed (${scrub(describeError(err), o)})`);
        }
      });
      await untilAborted(m.close(), ctx.signal).catch(() => {});
    } finally {
      finished = true;
      if (model) destroyConnection(model);
      void relay.close();
    }
  },
});

/**
 * The RabbitMQ URI spec: `amqp[s]://[user[:password]@]host[:port][/vhost]`, user and password
 * guest when absent, the vhost one %-decoded segment (`%2F` is `/`; no path is the default
 * vhost `/`), and its TLS query parameters (cacertfile, certfile, keyfile, verify,
 * server_name_indication).
 */
function fromUrl(raw: string): Record<string, unknown> {
  const u = parseGeneric(raw);
  if (u.rawPath.includes('/')) throw new UrlError('vhost: a vhost is one path segment; write a / inside it as %2F');
  const p = u.params;
  const verify = p.get('verify');
  return defined({
    host: requireHost(u),
    port: u.port ?? (u.scheme === 'amqps' ? 5671 : 5672),
    username: u.username ?? 'guest',
    password: u.password ?? (u.username === undefined ? 'guest' : undefined),
    vhost: u.rawPath === '' ? undefined : decodePart(u.rawPath, 'vhost'),
    use_tls: u.scheme === 'amqps',
    ca_file: p.get('cacertfile') ?? undefined,
    client_cert: p.get('certfile') ?? undefined,
    client_key: p.get('keyfile') ?? undefined,
    server_name: p.get('server_name_indication') ?? undefined,
    disable_tls_verification: verify === null ? undefined : verify === 'verify_none',
  });
}
