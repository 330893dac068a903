/**
 * mqtt (new, not in conn-check): TCP pre-check, TLS handshake (when `tls`) on that connection,
 * then mqtt.js (MQTT 3.1.1) over the very same connection: CONNECT/CONNACK (`auth`), and a round
 * trip through the broker (`query`): subscribe to a topic of its own, publish to it, receive
 * the message back. No reconnects; the connection is closed at the end, also when aborted.
 */
import * as z from '../core/z.js';
import { nodeCrypto } from '../net/builtins.js';
import { untilAborted } from '../net/dial.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck, stopKind } from '../core/contract.js';
import { endpoint, login, passwordNeedsUsername, text, tlsSwitch } from '../core/options.js';
import { defined, hostAndLogin, parseGeneric } from './url.js';
import { errorTable, serviceCheck, timeLeft, withService } from './kit/index.js';

/** A topic a check may publish to: no wildcards, no NUL. */
const topicName = () =>
  text('a topic name without wildcards').check(z.refine((v) => !/[#+\u0000]/.test(v), { message: 'expected a topic name without wildcards (# +)' }));

const options = z
  .object({
    ...endpoint(1883),
    ...login(),
    client_id: z.optional(text('a client id')),
    topic: z.optional(topicName()),
    ...tlsSwitch(),
  })
  .check(passwordNeedsUsername());
type Options = z.output<typeof options>;

/** CONNACK return codes of MQTT 3.1.1. */
const CONNACK: Record<number, string> = {
  1: 'the broker does not accept MQTT 3.1.1 (unacceptable protocol version)',
  2: 'the broker rejected the client id (identifier rejected)',
  3: 'the broker is unavailable (server unavailable)',
};

const notTls = (o: Options) => (o.tls ? '' : ' (is this a TLS port? set tls: true)');

/** mqtt.js' errors: CONNACK codes, its own messages, and socket codes before CONNACK. */
const classify = errorTable<Options>([
  { code: 4, message: /^Connection refused: /, step: 'auth', say: (_e, o) => (o.username === undefined ? 'bad user name or password (the broker requires credentials)' : `bad user name or password (user "${o.username}")`) },
  { code: 5, message: /^Connection refused: /, step: 'auth', say: (_e, o) => (o.username === undefined ? 'not authorized (the broker requires credentials)' : `not authorized (user "${o.username}": wrong password, unknown user or not allowed)`) },
  { when: (e) => typeof e.code === 'number', message: /^Connection refused: /, step: 'auth', say: (e) => CONNACK[e.code as number] ?? `the broker refused the connection (CONNACK code ${e.code})` },
  { message: /^connack timeout$/, step: 'auth', say: 'timed out waiting for CONNACK' },
  { code: ['ECONNRESET', 'EPIPE'], when: (e) => e.step === 'auth', say: (e, o) => `${describeError(e.err)} before CONNACK${notTls(o)}` },
  // mqtt-packet's parser errors (no error code): what the server sent is not MQTT
  {
    when: (e) => e.code === undefined,
    message: /^(Cannot parse|Invalid|Malformed|Not supported|Packet (too short|must not)|Unknown property|Connect flag|Will |Protocol error)/,
    say: 'the server did not answer with the MQTT protocol',
  },
]);

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('mqtt');

export const mqtt = defineCheck({
  ...serviceCheck('mqtt', driver),
  summary: 'an MQTT broker accepts a connection (with credentials) and delivers a message back to the check',
  url: { schemes: ['mqtt', 'mqtts'], options: fromUrl },
  container: { images: ['eclipse-mosquitto'], port: 1883, options: () => ({}) },
  options,
  async run(o, ctx) {
    const remaining = timeLeft(ctx);
    const { MqttClient } = await driver();
    const spec = {
      host: o.host,
      port: o.port,
      tls: o.tls && o,
      // A plain MQTT listener reads the ClientHello as a broken packet and hangs up.
      tlsFailure: (err: CheckError) =>
        err.message === 'connection reset by peer' || err.message === 'connection closed during the TLS handshake' ? new CheckError('tls', `${err.message} (is this a plain MQTT port? set tls: false)`) : err,
    };
    await withService(ctx, spec, async (service) => {
      if (service.stream.destroyed) throw new CheckError('auth', 'the server closed the connection');

      const clientId = o.client_id ?? `conn-check-${nodeCrypto().randomBytes(6).toString('hex')}`;
      const given = service.give();
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
        service.onClose(() => mc.end(true));
        mc.on('error', () => {}); // reported through the steps, never unhandled
        try {
          await untilAborted(
            new Promise<void>((resolve, reject) => {
              mc.once('connect', () => resolve());
              mc.once('error', reject);
              mc.once('close', () =>
                reject(new CheckError('auth', `the server closed the connection before CONNACK${notTls(o)}`)),
              );
            }),
            ctx.signal,
          );
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw classify(err, 'auth', o);
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
            if (stopKind(ctx.signal) !== 'cancelled') ctx.note(`the message published to ${topic} never came back (may this user publish to it?)`);
          };
          ctx.signal.addEventListener('abort', hint, { once: true });
          try {
            await untilAborted(Promise.race([closed, received]), ctx.signal);
          } finally {
            ctx.signal.removeEventListener('abort', hint);
          }
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw classify(err, 'query', o);
        }
        ctx.note(`published and received a message on ${topic} in ${Math.round(performance.now() - t0)} ms`);
      });
    });
  },
});

/** `mqtt[s]://[user:password@]host[:port]` as mqtt.js reads it (`?clientId=` too). */
function fromUrl(raw: string): Record<string, unknown> {
  const u = parseGeneric(raw);
  const tls = u.scheme === 'mqtts';
  return defined({ ...hostAndLogin(u, tls ? 8883 : 1883), tls, client_id: u.params.get('clientId') ?? undefined });
}
