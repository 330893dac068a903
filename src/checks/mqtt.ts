/**
 * mqtt (new, not in conn-check): TCP pre-check, TLS handshake (when `tls`) on that connection,
 * then mqtt.js (MQTT 3.1.1) over the very same connection: CONNECT/CONNACK (`auth`), and a round
 * trip through the broker (`query`): subscribe to a topic of its own, publish to it, receive
 * the message back. No reconnects; the connection is closed at the end, also when aborted.
 */
import * as z from 'zod/mini';
import { nodeCrypto } from '../net/builtins.js';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { MqttClient } from 'mqtt';
import { bareHost, connectTcp, hostPort, showAddress, untilAborted } from '../net/dial.js';
import { assertCertificate, handshake, secureOptions } from '../net/tls.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck, type StepName } from '../core/contract.js';
import { bool, host, port, scalarString, secret, text, tlsOptionsShape } from '../core/options.js';
import { defined, hostAndLogin, parseGeneric } from './url.js';

/** A topic a check may publish to: no wildcards, no NUL. */
const topicName = () =>
  text('a topic name without wildcards').check(z.refine((v) => !/[#+\u0000]/.test(v), { message: 'expected a topic name without wildcards (# +)' }));

const options = z
  .object({
    host: host(),
    port: z._default(port(), 1883),
    username: z.optional(text('a non-empty user name')),
    password: z.optional(secret(scalarString('a password'))),
    client_id: z.optional(text('a client id')),
    topic: z.optional(topicName()),
    tls: z._default(bool(), false),
    ...tlsOptionsShape,
  })
  .check(z.refine((o) => o.password === undefined || o.username !== undefined, {
    message: 'expected a username with password, got nothing',
    path: ['username'],
  }));
type Options = z.output<typeof options>;

/** CONNACK return codes of MQTT 3.1.1. */
const CONNACK: Record<number, string> = {
  1: 'the broker does not accept MQTT 3.1.1 (unacceptable protocol version)',
  2: 'the broker rejected the client id (identifier rejected)',
  3: 'the broker is unavailable (server unavailable)',
};

function classify(err: unknown, o: Options, step: StepName): CheckError {
  if (err instanceof CheckError) return err;
  const e = (err ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  if (/^Connection refused: /.test(message) && typeof e.code === 'number') {
    if (e.code === 4) return new CheckError('auth', o.username === undefined ? 'bad user name or password (the broker requires credentials)' : `bad user name or password (user "${o.username}")`);
    if (e.code === 5) return new CheckError('auth', o.username === undefined ? 'not authorized (the broker requires credentials)' : `not authorized (user "${o.username}": wrong password, unknown user or not allowed)`);
    return new CheckError('auth', CONNACK[e.code] ?? `the broker refused the connection (CONNACK code ${e.code})`);
  }
  if (message === 'connack timeout') return new CheckError('auth', 'timed out waiting for CONNACK');
  if (step === 'auth' && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
    return new CheckError('auth', `${describeError(err)} before CONNACK${o.tls ? '' : ' (is this a TLS port? set tls: true)'}`);
  }
  // mqtt-packet's parser errors (no error code): what the server sent is not MQTT
  if (e.code === undefined && /^(Cannot parse|Invalid|Malformed|Not supported|Packet (too short|must not)|Unknown property|Connect flag|Will |Protocol error)/.test(message)) {
    return new CheckError(step, 'the server did not answer with the MQTT protocol');
  }
  return new CheckError(step, describeError(err));
}

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('mqtt');

export const mqtt = defineCheck({
  load: driver,
  type: 'mqtt',
  summary: 'an MQTT broker accepts a connection (with credentials) and delivers a message back to the check',
  url: { schemes: ['mqtt', 'mqtts'], options: fromUrl },
  container: { images: ['eclipse-mosquitto'], port: 1883, options: () => ({}) },
  options,
  name: (o) => `mqtt:${hostPort(o.host, o.port)}`,
  usesTls: (o) => o.tls,
  target: (o) => hostPort(o.host, o.port),
  async run(o, ctx) {
    const deadline = performance.now() + ctx.timeoutMs;
    const remaining = () => Math.max(1, Math.round(deadline - performance.now()));
    const tlsOptions = o.tls ? await ctx.step('tls', () => secureOptions(o, o.host, ctx)) : undefined;
    const { MqttClient } = await driver();
    const { socket, address } = await ctx.step('tcp', () => connectTcp(o.host, o.port, ctx.signal));
    let stream: Socket | TLSSocket = socket;
    let client: MqttClient | undefined;
    const close = () => {
      try {
        client?.end(true);
      } catch {
        // ending a client that never connected may throw: the sockets are destroyed anyway
      }
      stream.destroy();
      socket.destroy();
    };
    ctx.signal.addEventListener('abort', close, { once: true });
    try {
      ctx.note(`connected to ${showAddress(address)}`);
      if (tlsOptions) {
        const secure = await ctx.step('tls', () =>
          handshake(socket, tlsOptions, ctx.signal).catch((err: unknown) => {
            const m = err instanceof Error ? err.message : '';
            // A plain MQTT listener reads the ClientHello as a broken packet and hangs up.
            if (m === 'connection reset by peer' || m === 'connection closed during the TLS handshake') {
              throw new CheckError('tls', `${m} (is this a plain MQTT port? set tls: false)`);
            }
            throw err;
          }),
        );
        stream = secure;
        ctx.note(`TLS (${secure.getProtocol() ?? 'unknown version'}${o.disable_tls_verification ? ', certificate not verified' : ''})`);
        assertCertificate(secure, o, ctx, o.server_name ?? bareHost(o.host));
      }
      if (stream.destroyed) throw new CheckError('auth', 'the server closed the connection');

      const clientId = o.client_id ?? `conn-check-${nodeCrypto().randomBytes(6).toString('hex')}`;
      const given = stream;
      const c = await ctx.step('auth', async () => {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const mc = new MqttClient(() => given, {
          protocolVersion: 4,
          clientId,
          clean: true,
          keepalive: 60,
          reconnectPeriod: 0,
          connectTimeout: remaining(),
          resubscribe: false,
          queueQoSZero: false,
          ...(o.username !== undefined ? { username: o.username } : {}),
          ...(o.password !== undefined ? { password: o.password } : {}),
        });
        client = mc;
        mc.on('error', () => {}); // reported through the steps, never unhandled
        try {
          await untilAborted(
            new Promise<void>((resolve, reject) => {
              mc.once('connect', () => resolve());
              mc.once('error', reject);
              mc.once('close', () =>
                reject(new CheckError('auth', `the server closed the connection before CONNACK${o.tls ? '' : ' (is this a TLS port? set tls: true)'}`)),
              );
            }),
            ctx.signal,
          );
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw classify(err, o, 'auth');
        }
        return mc;
      });

      await ctx.step('query', async () => {
        const topic = o.topic ?? `conn-check/${clientId}/${nodeCrypto().randomBytes(6).toString('hex')}`;
        const payload = `conn-check ${nodeCrypto().randomBytes(8).toString('hex')}`;
        const t0 = performance.now();
        const closed = new Promise<never>((_, reject) => c.once('close', () => reject(new CheckError('query', 'the broker closed the connection'))));
        closed.catch(() => {});
        const received = new Promise<void>((resolve) => {
          const onMessage = (t: string, message: Buffer) => {
            if (t === topic && message.toString('utf8') === payload) {
              c.off('message', onMessage);
              resolve();
            }
          };
          c.on('message', onMessage);
        });
        try {
          const granted = await untilAborted(
            Promise.race([
              closed,
              new Promise<{ qos: number }[]>((resolve, reject) => c.subscribe(topic, { qos: 1 }, (err, g) => (err ? reject(err) : resolve((g ?? []) as { qos: number }[])))),
            ]),
            ctx.signal,
          );
          if (!granted.length || granted[0]!.qos === 128) throw new CheckError('query', `the broker refused the subscription to ${topic} (not authorized?)`);
          await untilAborted(
            Promise.race([closed, new Promise<void>((resolve, reject) => c.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())))]),
            ctx.signal,
          );
          const hint = () => {
            if ((ctx.signal.reason as Error | undefined)?.message !== 'cancelled') ctx.note(`the message published to ${topic} never came back (may this user publish to it?)`);
          };
          ctx.signal.addEventListener('abort', hint, { once: true });
          try {
            await untilAborted(Promise.race([closed, received]), ctx.signal);
          } finally {
            ctx.signal.removeEventListener('abort', hint);
          }
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw classify(err, o, 'query');
        }
        ctx.note(`published and received a message on ${topic} in ${Math.round(performance.now() - t0)} ms`);
      });
    } finally {
      ctx.signal.removeEventListener('abort', close);
      close();
    }
  },
});

/** `mqtt[s]://[user:password@]host[:port]` as mqtt.js reads it (`?clientId=` too). */
function fromUrl(raw: string): Record<string, unknown> {
  const u = parseGeneric(raw);
  const tls = u.scheme === 'mqtts';
  return defined({ ...hostAndLogin(u, tls ? 8883 : 1883), tls, client_id: u.params.get('clientId') ?? undefined });
}
