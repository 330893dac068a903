/**
 * kafka: connect to the first bootstrap broker that accepts (all are tried at once), TLS when
 * `tls`, ApiVersions (the server speaks Kafka), SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) when
 * `sasl` is set, then Metadata: the brokers and the controller, and with `topic` that topic,
 * which must exist and have a leader for every partition. Never creates a topic.
 *
 * Spoken directly (net/kafka-wire.ts) rather than with kafkajs: four non-flexible requests on the
 * connection this check opened, every response size checked before it is buffered, no client
 * of its own with retries, reconnects and timers to tame (kafkajs is in maintenance and
 * reconnects to the advertised listeners, which is not what a check of the bootstrap address
 * wants to measure).
 */
import * as z from '../core/z.js';
import { bareHost, hostPort } from '../net/dial.js';
import { describeError } from '../net/errors.js';
import { errorTable, withService } from './kit/index.js';
import {
  API,
  KafkaConnection,
  METADATA_VERSIONS,
  ScramClient,
  apiVersions,
  kafkaErrorName,
  metadata,
  plainMessage,
  saslAuthenticate,
  saslHandshake,
  type Metadata,
  type VersionRange,
} from '../net/kafka-wire.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { alsoAccepts, host, oneOf, port, preprocess, scalarString, secret, stringList, text, tlsSwitch } from '../core/options.js';
import { UrlError } from './url.js';
import { printable } from '../net/printable.js';

const DEFAULT_PORT = 9092;
/** The largest response read: a Metadata answer for one topic of thousands of partitions fits. */
const MAX_RESPONSE = 1024 * 1024;

interface Broker {
  host: string;
  port: number;
}

/** `host:port`, `host` (port 9092), `[v6]:port`; undefined when it is neither. */
export function parseBroker(raw: string): Broker | undefined {
  const s = raw.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:\s[\]]+)(?::(\d+))?$/.exec(s);
  if (!m) return undefined;
  const p = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (!Number.isInteger(p) || p < 1 || p > 65535) return undefined;
  return { host: m[1]!, port: p };
}

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type Mechanism = (typeof MECHANISMS)[number];

/** A mechanism in any case (Kafka's own configs write `SCRAM-SHA-512`); the JSON Schema says so. */
const mechanism = preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), oneOf(MECHANISMS));
alsoAccepts.set(mechanism, [{ enum: MECHANISMS.map((m) => m.toUpperCase()) }]);

const sasl = z.strictObject(
  {
    mechanism,
    username: text('a non-empty user name'),
    password: secret(scalarString('a password')),
  },
  { error: (i) => (i.code === 'unrecognized_keys' ? `unknown key ${(i as { keys?: string[] }).keys?.map((k) => JSON.stringify(k)).join(', ')} (sasl takes mechanism, username, password)` : 'expected a mapping with mechanism, username and password') },
);

const options = z
  .object({
    brokers: z.optional(stringList('a list of host:port').check(
      z.refine((l) => l.length > 0, { message: 'expected at least one host:port' }),
      z.refine((l) => l.every((b) => parseBroker(b) !== undefined), { error: (i) => `expected host:port entries, got ${JSON.stringify((i.input as string[]).find((b) => !parseBroker(b)) ?? '').slice(0, 60)}` }),
    )),
    host: z.optional(host()),
    port: z.optional(port()),
    ...tlsSwitch(),
    sasl: z.optional(secret(sasl, 'mapping')),
    topic: z.optional(text('a topic name').check(z.refine((t) => /^[a-zA-Z0-9._-]{1,249}$/.test(t), { message: 'expected a Kafka topic name (letters, digits, ".", "_", "-"; at most 249)' }))),
  })
  .check(z.refine((o) => o.brokers !== undefined || o.host !== undefined, { message: 'expected brokers (a list of host:port) or host, got nothing', path: ['brokers'] }))
  .check(z.refine((o) => o.brokers === undefined || o.host === undefined, { message: 'expected brokers or host, got both', path: ['host'] }))
  .check(z.refine((o) => o.port === undefined || o.host !== undefined, { message: 'port goes with host (each of brokers has its own port)', path: ['port'] }));
type Options = z.output<typeof options>;

function brokersOf(o: Options): Broker[] {
  if (o.brokers) return o.brokers.map((b) => parseBroker(b)!);
  return [{ host: bareHost(o.host!), port: o.port ?? DEFAULT_PORT }];
}

const shown = (b: Broker) => hostPort(b.host, b.port);
/** Text from the server (host names, cluster id, error messages): printable, cut. */
const fromServer = (s: string, max = 120) => printable(Buffer.from(s, 'utf8'), max);

/** The highest version of `api` both sides speak, or undefined. */
function common(apis: Map<number, VersionRange>, api: number, ours: VersionRange): number | undefined {
  const theirs = apis.get(api);
  if (!theirs) return undefined;
  const v = Math.min(theirs.max, ours.max);
  return v >= Math.max(theirs.min, ours.min) ? v : undefined;
}

const mechanismName = (m: Mechanism) => m.toUpperCase();

/**
 * A failure of the exchange, in words; the context is the hint for a closed connection (a
 * broker that closes with our request unread resets the connection instead).
 */
const classify = errorTable<string>([
  { name: 'KafkaWireError', say: (e) => e.message },
  { name: 'KafkaClosedError', say: (e, hint) => `${e.message}${hint}` },
  { code: ['ECONNRESET', 'EPIPE'], say: (e, hint) => `${describeError(e.err)}${hint}` },
]);

export const kafka = defineCheck({
  type: 'kafka',
  summary: 'a Kafka cluster answers a metadata request (after SASL when set): its brokers, its controller, and with topic that it has a leader for every partition',
  url: { schemes: ['kafka'], options: fromUrl },
  container: { images: ['apache/kafka', 'apache/kafka-native', 'bitnami/kafka', 'confluentinc/cp-kafka', 'confluentinc/confluent-local'], port: DEFAULT_PORT, options: () => ({}) },
  options,
  // the largest response, counted twice over TLS (the socket's bytes and the decrypted ones), and the handshakes
  maxReadBytes: MAX_RESPONSE * 3,
  name: (o) => `kafka:${brokersOf(o).map(shown).join(',')}`,
  target: (o) => brokersOf(o).map(shown).join(','),
  egress: (o) => brokersOf(o).map((b) => ({ protocol: 'tcp' as const, host: b.host, port: b.port })),
  usesTls: (o) => o.tls,
  insecure: (o) => o.tls && o.disable_tls_verification,
  async run(o, ctx) {
    const brokers = brokersOf(o);
    // all the bootstrap brokers at once: the first that accepts is asked
    const spec = { host: brokers[0]!.host, port: brokers[0]!.port, tls: o.tls && o, endpoints: { list: brokers, label: 'bootstrap broker' } };
    await withService(ctx, spec, async (service) => {
      const c = new KafkaConnection(service.stream, ctx.signal, MAX_RESPONSE);
      service.onClose(() => c.dispose());
      const hint = o.tls ? '' : ' (is this a TLS listener? set tls: true)';

      const apis = await ctx.step('protocol', async () => {
        try {
          const r = await apiVersions(c);
          // UNSUPPORTED_VERSION still lists what the broker speaks (Kafka answers it in v0)
          if (r.errorCode !== 0 && r.errorCode !== 35) throw new CheckError('protocol', `the server refused ApiVersions (${kafkaErrorName(r.errorCode)})`);
          if (!r.apis.has(API.Metadata)) throw new CheckError('protocol', 'the server does not list the Metadata API: not a Kafka broker');
          return r.apis;
        } catch (err) {
          throw classify(err, 'protocol', hint);
        }
      });

      if (o.sasl) {
        const { mechanism, username, password } = o.sasl;
        const name = mechanismName(mechanism);
        await ctx.step('auth', async () => {
          try {
            await authenticate(c, apis, mechanism, username, password);
          } catch (err) {
            throw classify(err, 'auth', '');
          }
        });
        ctx.note(`authenticated as "${username}" (SASL ${name})`);
      }

      const md = await ctx.step('query', async () => {
        const version = common(apis, API.Metadata, METADATA_VERSIONS);
        if (version === undefined) throw new CheckError('query', `the server speaks no Metadata version from v${METADATA_VERSIONS.min} to v${METADATA_VERSIONS.max}`);
        if (version < 4 && o.topic !== undefined) ctx.note(`Metadata v${version} (a broker before Kafka 0.11) may create a missing topic when its auto.create.topics.enable is on`);
        try {
          return await metadata(c, version, o.topic === undefined ? [] : [o.topic]);
        } catch (err) {
          // a SASL listener closes the connection on any request before authentication
          throw classify(err, 'query', o.sasl ? '' : ' (does this listener require SASL? set sasl)');
        }
      });
      report(md, ctx);
      if (o.topic !== undefined) {
        const topic = o.topic;
        await ctx.step('query', () => checkTopic(md, topic, ctx));
      }
    });
  },
});

/** SaslHandshake, then the mechanism's SaslAuthenticate rounds. */
async function authenticate(c: KafkaConnection, apis: Map<number, VersionRange>, mechanism: Mechanism, username: string, password: string): Promise<void> {
  const name = mechanismName(mechanism);
  const hs = common(apis, API.SaslHandshake, { min: 1, max: 1 });
  const au = common(apis, API.SaslAuthenticate, { min: 0, max: 1 }) as 0 | 1 | undefined;
  if (hs === undefined || au === undefined) {
    throw new CheckError('auth', apis.has(API.SaslHandshake) ? 'the server does not support SaslAuthenticate (Kafka before 1.0)' : 'the server does not offer SASL on this listener');
  }
  const h = await saslHandshake(c, name);
  if (h.errorCode === 33) {
    const offered = h.mechanisms.map((m) => fromServer(m, 40)).join(', ');
    throw new CheckError('auth', `the server does not offer SASL ${name}${offered ? ` (it offers ${offered})` : ''} (${kafkaErrorName(33)})`);
  }
  if (h.errorCode === 34) throw new CheckError('auth', `the server does not expect SASL here: is this listener without SASL? remove sasl (${kafkaErrorName(34)})`);
  if (h.errorCode !== 0) throw new CheckError('auth', `the server refused the SASL handshake (${kafkaErrorName(h.errorCode)})`);
  const refused = (r: { errorCode: number; errorMessage: string | null }) => {
    const why = r.errorMessage ? `: ${fromServer(r.errorMessage)}` : '';
    if (r.errorCode === 58) return new CheckError('auth', `authentication failed for user "${username}" (${kafkaErrorName(58)}${why})`);
    return new CheckError('auth', `SASL authentication failed (${kafkaErrorName(r.errorCode)}${why})`);
  };
  if (mechanism === 'plain') {
    const r = await saslAuthenticate(c, au, plainMessage(username, password));
    if (r.errorCode !== 0) throw refused(r);
    return;
  }
  const scram = new ScramClient(mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', username, password);
  const first = await saslAuthenticate(c, au, scram.first());
  if (first.errorCode !== 0) throw refused(first);
  const last = await saslAuthenticate(c, au, await scram.final(first.authBytes));
  if (last.errorCode !== 0) throw refused(last);
  scram.verify(last.authBytes);
}

/** Notes the cluster: how many brokers (and which, the first ten), the controller. */
function report(md: Metadata, ctx: { note(d: string): void }): void {
  if (md.brokers.length === 0) throw new CheckError('query', 'the server returned no brokers');
  const controller = md.controllerId >= 0 ? `controller ${md.controllerId}` : 'no active controller';
  ctx.note(`${md.brokers.length} broker${md.brokers.length === 1 ? '' : 's'}, ${controller}${md.clusterId ? `, cluster ${fromServer(md.clusterId, 64)}` : ''}`);
  const listed = md.brokers.slice(0, 10).map((b) => `${b.nodeId} at ${fromServer(hostPort(b.host, b.port), 100)}`);
  ctx.note(`brokers: ${listed.join(', ')}${md.brokers.length > 10 ? `, and ${md.brokers.length - 10} more` : ''}`);
}

/** The topic exists, may be described, and every partition has a leader. */
function checkTopic(md: Metadata, topic: string, ctx: { note(d: string): void }): void {
  const t = md.topics.find((x) => x.name === topic);
  if (!t) throw new CheckError('query', `the server did not answer for topic "${topic}"`);
  switch (t.errorCode) {
    case 0:
      break;
    case 3:
      throw new CheckError('query', `topic "${topic}" does not exist (${kafkaErrorName(3)})`);
    case 29:
      throw new CheckError('query', `not authorized to describe topic "${topic}" (${kafkaErrorName(29)})`);
    case 5:
      throw new CheckError('query', `topic "${topic}" has no leader yet (${kafkaErrorName(5)})`);
    case 17:
      throw new CheckError('query', `"${topic}" is not a valid topic name (${kafkaErrorName(17)})`);
    default:
      throw new CheckError('query', `the server reported an error for topic "${topic}" (${kafkaErrorName(t.errorCode)})`);
  }
  if (t.partitions.length === 0) throw new CheckError('query', `topic "${topic}" has no partitions`);
  const leaderless = t.partitions.filter((p) => p.leader < 0 || (p.errorCode !== 0 && p.errorCode !== 9)).map((p) => p.index).sort((a, b) => a - b);
  if (leaderless.length) {
    const list = leaderless.slice(0, 10).join(', ') + (leaderless.length > 10 ? ` and ${leaderless.length - 10} more` : '');
    throw new CheckError('query', `topic "${topic}": ${leaderless.length} of ${t.partitions.length} partitions have no leader (partition ${list})`);
  }
  ctx.note(`topic "${topic}": ${t.partitions.length} partition${t.partitions.length === 1 ? '' : 's'}, each with a leader`);
}

/** `kafka://host:port[,host2:port2]`: the bootstrap brokers (nothing else: SASL and TLS are options). */
function fromUrl(raw: string): Record<string, unknown> {
  const m = /^kafka:\/\/([^/?#]*)\/?$/i.exec(raw.trim());
  if (!m) throw new UrlError('expected kafka://host:port[,host:port...] without a path or query');
  if (m[1]!.includes('@')) throw new UrlError('has credentials: put them in sasl (mechanism, username, password)');
  const list = m[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new UrlError('has no host');
  for (const b of list) if (!parseBroker(b)) throw new UrlError(`has an entry that is not host:port (${JSON.stringify(b.slice(0, 60))})`);
  return { brokers: list };
}
