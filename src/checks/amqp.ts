/**
 * amqp: TCP, then (use_tls, the default as in conn-check) a TLS handshake, then an AMQP 0-9-1
 * login as the user on the vhost, then a channel opened and closed.
 *
 * Unlike conn-check, which checked TLS separately and then logged in over plain TCP, the login
 * runs over TLS when use_tls is on (amqps), with the same verification settings as the tls step.
 * amqplib connects to the address that passed the tcp step (no second resolution), obeys the
 * check's signal (passed to the socket) and has no retries unless asked (we never ask).
 * amqplib's messages are never passed through: they are recognised and rewritten.
 */
import * as z from 'zod/mini';
import type { ChannelModel, SocketOptions } from 'amqplib';
import { bareHost, connectTcp, hostPort, showAddress, untilAborted } from '../net/dial.js';
import { assertCertificate, handshake, secureOptions } from '../net/tls.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString, secret, text, tlsOptionsShape } from './options.js';

const options = z.object({
  host: host(),
  port: port(),
  username: text('a non-empty user name'),
  password: secret(scalarString('a password')),
  use_tls: z._default(bool(), true),
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

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('amqplib');

export const amqp = defineCheck({
  load: driver,
  type: 'amqp',
  summary: 'AMQP 0-9-1 login (RabbitMQ): TCP, TLS, authentication on the vhost, a channel',
  options,
  name: (o) => `amqp:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run(o, ctx) {
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
    // net/tls.connect options as amqplib passes them on; `signal` destroys its socket on abort
    const socketOptions: SocketOptions & { signal: AbortSignal } = {
      // CA, client certificate, verification and SNI (the configured name, which Node also
      // checks the certificate against; for an IP literal, the address)
      ...(tlsOptions ?? {}),
      timeout: Math.max(1, ctx.timeoutMs),
      signal: ctx.signal,
      clientProperties: { connection_name: 'conn-check' },
    };
    const connecting: Promise<ChannelModel> = connect(
      {
        protocol: o.use_tls ? 'amqps' : 'amqp',
        hostname: address.address,
        port: o.port,
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
    }
  },
});
