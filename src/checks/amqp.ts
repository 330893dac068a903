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
 * amqplib opens its own socket and cannot be handed one: it connects to the kit's loopback relay
 * (checks/kit, net/relay.ts) whose far side is the connection of the tcp (and tls) step itself:
 * no second connection or handshake, TLS verified by the kit, reads within the check's read
 * budget (net/bounded.ts: a broker that floods is cut off at the cap), closed when the check
 * ends. amqplib obeys the
 * check's signal (passed to the socket) and has no retries unless asked (we never ask).
 * amqplib's messages are never passed through: they are recognised and rewritten.
 */
import * as z from '../core/z.js';
import type { ChannelModel, SocketOptions } from 'amqplib';
import { untilAborted } from '../net/dial.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { errorTable, serviceCheck, withService } from './kit/index.js';
import { bool, host, port, scalarString, secret, text, tlsOptionsShape } from '../core/options.js';
import { UrlError, decodePart, defined, parseGeneric, requireHost } from './url.js';

const options = z.object({
  host: host(),
  port: port(),
  username: text('a non-empty user name'),
  password: secret(scalarString('a password')),
  use_tls: z.optional(bool()),
  vhost: z._default(scalarString('a vhost name'), '/'),
  ...tlsOptionsShape(),
});
type Options = z.output<typeof options>;

const HANDSHAKE_CLOSED = 'the server closed the connection during the AMQP handshake';

/** amqplib's connect errors, in words (it gives codes only for the socket); never its raw text. */
const loginFailure = errorTable<Options>(
  [
    { message: /Handshake terminated by server: 403 /, say: (_e, o) => `authentication failed for user ${o.username}` },
    { message: /Handshake terminated by server: 530 /, say: (_e, o) => `access to vhost ${o.vhost} refused for user ${o.username}` },
    { message: /Handshake terminated by server: (\d+) \(([A-Z_-]+)\)/, say: (e) => `the server closed the connection during the login (${e.match![1]} ${e.match![2]})` },
    // RabbitMQ answers connection.open on a vhost the user may not use, or that does not exist,
    // with connection.close 530 NOT_ALLOWED; amqplib reports only the frame's name.
    { message: /Expected ConnectionOpenOk; got <ConnectionClose/, say: (_e, o) => `access to vhost ${o.vhost} refused for user ${o.username} (no such vhost, or no permissions on it)` },
    { message: /SASL mechanism \S+ is not provided by the server/, say: 'the server does not offer PLAIN authentication' },
    { code: ['ECONNRESET', 'EPIPE'], say: (_e, o) => (o.use_tls ? HANDSHAKE_CLOSED : `${HANDSHAKE_CLOSED} (if this is a TLS port, set use_tls: true)`) },
    { message: /Socket closed abruptly during opening handshake/, say: (_e, o) => (o.use_tls ? HANDSHAKE_CLOSED : `${HANDSHAKE_CLOSED} (if this is a TLS port, set use_tls: true)`) },
    { message: /connect ETIMEDOUT/, say: 'timed out during the AMQP handshake' },
    { message: /Expected|frame|Frame|Unexpected|during handshake/, say: 'not an AMQP 0-9-1 server (unexpected reply to the protocol header)' },
  ],
  { secrets: (o) => [o.password] },
);
/** Anything else amqplib says: the shared wording, the password masked. */
const otherFailure = errorTable<Options>([], { secrets: (o) => [o.password] });

function destroyConnection(model: ChannelModel): void {
  const stream = (model.connection as unknown as { stream?: { destroy(): void } }).stream;
  stream?.destroy();
}

/** The port that says TLS when use_tls is not set. */
const AMQPS_PORT = 5671;

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('amqplib');

export const amqp = defineCheck({
  ...serviceCheck('amqp', driver),
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
  // conn-check's steps had no common prefix; its tls step ran unless use_tls was false
  usesTls: (o) => o.use_tls ?? o.port === AMQPS_PORT,
  legacyNames: (o) => [`tcp:${o.host}:${o.port}`, ...(o.use_tls === false ? [] : [`tls:${o.host}:${o.port}`]), `amqp:${o.host}:${o.port}`],
  async run(given, ctx) {
    const o = { ...given, use_tls: given.use_tls ?? given.port === AMQPS_PORT };
    if (given.use_tls === undefined) {
      ctx.note(o.use_tls ? `TLS: use_tls is not set and ${AMQPS_PORT} is the AMQPS port` : `plain AMQP, no TLS: use_tls is not set and port ${o.port} is not the AMQPS port (${AMQPS_PORT})`);
    }
    // amqplib opens its own socket: it connects to the kit's relay, whose one connection is the
    // one the kit opened (and secured: amqplib speaks plain AMQP to the relay).
    await withService(ctx, { host: o.host, port: o.port, tls: o.use_tls && o }, async (service) => {
      const amqplib = await driver();
      const connect = amqplib.connect ?? (amqplib as unknown as { default: typeof amqplib }).default.connect;
      const relay = await service.relay({ maxConnections: 1, reuse: true });
      // net.connect options as amqplib passes them on; `signal` destroys its socket on abort
      const socketOptions: SocketOptions & { signal: AbortSignal } = { timeout: Math.max(1, ctx.timeoutMs), signal: ctx.signal, clientProperties: { connection_name: 'conn-check' } };
      const connecting: Promise<ChannelModel> = connect(
        { protocol: 'amqp', hostname: '127.0.0.1', port: relay.port, username: o.username, password: o.password, vhost: o.vhost, heartbeat: 0 },
        socketOptions as SocketOptions,
      );
      // a connection that opens after the check gave up is closed at once
      let finished = false;
      connecting.then(
        (m) => {
          m.on('error', () => {});
          if (finished) destroyConnection(m);
        },
        () => {},
      );
      service.onClose(() => {
        finished = true;
        connecting.then(destroyConnection, () => {});
      });
      const model = await ctx.step('auth', async () => {
        try {
          return await untilAborted(connecting, ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw loginFailure(err, 'auth', o);
        }
      });
      const props = model.connection.serverProperties as unknown as Record<string, unknown>;
      const product = props?.product ? String(props.product) : undefined;
      const version = props?.version ? String(props.version) : undefined;
      if (product) ctx.note(`${product}${version ? ` ${version}` : ''}`);
      await ctx.step('protocol', async () => {
        try {
          const channel = await untilAborted(model.createChannel(), ctx.signal);
          await untilAborted(channel.close(), ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw new CheckError('protocol', `opening a channel failed (${otherFailure(err, 'protocol', o).message})`);
        }
      });
      await untilAborted(model.close(), ctx.signal).catch(() => {});
    });
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
