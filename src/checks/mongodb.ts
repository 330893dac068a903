/**
 * mongodb: TCP (and TLS) pre-checks, then the MongoDB handshake and SCRAM authentication with
 * the official driver (direct connection, no retries, one connection), then listCollections
 * on the database, as conn-check did.
 */
import * as z from '../core/z.js';
import type { MongoClient, MongoClientOptions } from 'mongodb';
import { describeError } from '../net/errors.js';
import { lengthPrefixedFrames } from '../net/bounded.js';
import type { Relay } from '../net/relay.js';
import { CheckError, defineCheck, type CheckContext, type StepName } from '../core/contract.js';
import { hostPort, type Address } from '../net/dial.js';
import { host, login, port, text, tlsSwitch } from '../core/options.js';
import { eachHost, endpointsOf, hostList, showEndpoints, type Endpoint } from './hosts.js';
import { parseServer, serverOption } from './dns.js';
import { srvSeeds } from './mongodb-srv.js';
import { printable } from '../net/printable.js';
import { ConnectionString } from 'mongodb-connection-string-url';
import { UrlError, decodePart, defined, flag } from './url.js';
import { errorTable, serviceCheck, withService, type Classifier, type DriverError } from './kit/index.js';

const options = z
  .object({
    host: z.optional(host()),
    port: z._default(port(), 27017),
    /** A seed list: tried in order, each directly (no discovery); the first that passes passes. */
    hosts: z.optional(hostList()),
    /** mongodb+srv://NAME: the seed list from the SRV record _mongodb._tcp.NAME. */
    srv: z.optional(host()),
    /** The DNS server for srv (host or host:port); default: the system's name servers. */
    dns_server: z.optional(serverOption()),
    /** The replica set the server that answers must belong to (its hello's setName). */
    replica_set: z.optional(text('a replica set name')),
    ...login('a user name'),
    /** Left unset means `test` for the query, and `admin` as the default auth source. */
    database: z.optional(text('a database name')),
    auth_source: z.optional(text('a database name')),
    ...tlsSwitch(),
  })
  .check(z.refine((o) => [o.host, o.hosts, o.srv].filter((v) => v !== undefined).length === 1, { path: ['host'], message: 'expected one of host, hosts (a seed list) or srv (a mongodb+srv name)' }))
  .check(z.refine((o) => o.dns_server === undefined || o.srv !== undefined, { path: ['dns_server'], message: 'dns_server goes with srv' }))
  // (a username without a password is accepted, as conn-check did, which never sent it: no login)
  .check(z.refine((o) => o.password === undefined || o.username !== undefined, { path: ['password'], message: 'password needs a username' }));

type Options = z.output<typeof options>;
/** The options for one server of the list (with its addresses when dns_server resolved it). */
type One = Options & Endpoint & { addresses?: Address[] };
const servers = (o: Options) => endpointsOf(o, 27017);
const targetOf = (o: Options) => (o.srv !== undefined ? `mongodb+srv://${o.srv}` : showEndpoints(servers(o)));

const DEFAULT_DATABASE = 'test';
/** A MongoDB message is at least its 16-byte header, and at most 48 MB (maxMessageSizeBytes). */
const MONGO_FRAMES = { protocol: 'MongoDB', min: 16, max: 48_000_000 };
const CLOSED = 'connection closed by the server';
const CLOSED_IN_HANDSHAKE = new Set(['connection closed during the TLS handshake', 'connection reset by peer', 'connection closed by peer']);

/**
 * The database the user is defined in: `auth_source`, else `database` when it is set, else
 * `admin` (the rule of MongoDB connection strings: `mongodb://u:p@host/` authenticates against
 * admin, `mongodb://u:p@host/app` against app).
 */
export function authSourceOf(o: Pick<Options, 'auth_source' | 'database'>): string {
  return o.auth_source ?? o.database ?? 'admin';
}

/** The first error of the server the driver could not select (a selection error wraps it). */
function selectionCause(err: unknown): unknown {
  const servers = (err as { reason?: { servers?: Map<string, { error?: unknown }> } }).reason?.servers;
  for (const server of servers?.values() ?? []) {
    if (server.error && (server.error as { name?: unknown }).name !== 'MongoServerSelectionError') return server.error;
  }
  return undefined;
}

const isServerError = (e: DriverError) => e.name === 'MongoServerError' || typeof (e.err as { codeName?: unknown }).codeName === 'string';
const codeName = (e: DriverError) => String((e.err as { codeName?: unknown }).codeName ?? 'unknown');
const user = (o: Options) => o.username ?? '';

/** The driver's errors: server errors by their numeric code, the driver's own by class. */
const classify: Classifier<Options> = errorTable<Options>(
  [
    { name: 'MongoServerSelectionError', say: (e, o) => { const cause = selectionCause(e.err); return cause ? classify(cause, e.step, o) : 'timed out waiting for the server to answer the handshake'; } },
    { code: 18, when: isServerError, step: 'auth', say: (_e, o) => `authentication failed for user ${user(o)} (auth_source ${authSourceOf(o)})` }, // AuthenticationFailed
    { code: 334, when: isServerError, step: 'auth', say: (_e, o) => `authentication failed for user ${user(o)}: no SCRAM credentials the client can use` }, // MechanismUnavailable
    {
      code: 13, // Unauthorized
      when: isServerError,
      step: 'query',
      say: (_e, o) => (o.username ? `user ${user(o)} is not authorized to list the collections of ${o.database ?? DEFAULT_DATABASE}` : 'the server requires authentication (set username and password)'),
    },
    { when: (e) => typeof e.code === 'number' && isServerError(e), say: (e) => `server error ${codeName(e)} (${e.code}): ${e.message}` },
    { name: 'MongoCompatibilityError', step: 'protocol', say: (e) => `unsupported server: ${e.message.replace(/^Server at \S+ /, 'it ')}` },
    { name: 'MongoNetworkTimeoutError', say: 'timed out' },
    // the client was closed under the driver: the check was stopped (the runner reports why)
    { name: 'MongoTopologyClosedError', say: 'the client was closed' },
    { name: 'MongoParseError', step: 'protocol', say: 'the server did not answer with the MongoDB protocol' },
    // the SCRAM exchange itself was wrong: this server does not know the password
    { name: 'MongoRuntimeError', message: /signature|nonce|iteration/i, step: 'auth', say: (e) => `the server's SCRAM answer is invalid (${e.message})` },
    { when: (e) => e.name.startsWith('MongoNetwork') && (e.err as { cause?: unknown }).cause !== undefined, say: (e) => describeError((e.err as { cause?: unknown }).cause) },
    { when: (e) => e.name.startsWith('MongoNetwork'), message: /closed|ended/i, say: CLOSED },
    { when: (e) => e.name.startsWith('MongoNetwork'), say: (e) => e.message.replace(/^connection \d+ to \S+ /, '') },
  ],
  { secrets: (o) => [o.password] },
);

function failure(step: StepName, err: unknown, o: Options, relay?: Relay): CheckError {
  // A connection the relay could not open (refused, a bad certificate) says more than the
  // close the driver saw.
  if (relay?.failure instanceof CheckError) return relay.failure;
  return classify(err, step, o);
}

/** With replica_set: the server that answered is a member of that set (and says which role it has). */
function replicaSetMember(o: Options, hello: { setName?: unknown; isWritablePrimary?: unknown; ismaster?: unknown; secondary?: unknown }, ctx: CheckContext): void {
  const setName = typeof hello.setName === 'string' ? printable(Buffer.from(hello.setName, 'utf8'), 100) : undefined;
  const role = hello.isWritablePrimary === true || hello.ismaster === true ? 'primary' : hello.secondary === true ? 'secondary' : 'another member';
  if (setName !== undefined) ctx.note(`replica set ${JSON.stringify(setName)}, ${role}`);
  if (o.replica_set === undefined || setName === o.replica_set) return;
  throw new CheckError('protocol', setName === undefined ? `the server is not in a replica set (replica_set ${o.replica_set})` : `the server is in replica set ${JSON.stringify(setName)}, not ${o.replica_set}`);
}

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('mongodb');

export const mongodb = defineCheck({
  ...serviceCheck('mongodb', driver),
  // listCollections of a database with thousands of collections, with room to spare
  maxReadBytes: 16 * 1024 * 1024,
  summary: 'MongoDB handshake, optional login, and the list of collections of a database',
  url: { schemes: ['mongodb', 'mongodb+srv'], options: fromUrl },
  container: {
    images: ['mongo', 'mongodb/mongodb-community-server'],
    port: 27017,
    options: (env) =>
      env.has('MONGO_INITDB_ROOT_USERNAME')
        ? { username: env.get('MONGO_INITDB_ROOT_USERNAME'), password: env.get('MONGO_INITDB_ROOT_PASSWORD'), auth_source: 'admin' }
        : {},
  },
  options,
  name: (o) => (o.srv !== undefined ? `mongodb+srv:${o.srv}` : `mongodb:${showEndpoints(servers(o))}`),
  legacyNames: (o) =>
    o.host === undefined ? [] : [`mongodb:${o.host}:${o.port}:tcp:${o.host}:${o.port}`, `mongodb:${o.host}:${o.port}:connect${o.username !== undefined || o.password !== undefined ? ' with auth' : ''}`],
  target: targetOf,
  egress: (o) => {
    if (o.srv === undefined) return servers(o).map((e) => ({ protocol: 'tcp' as const, host: e.host, port: e.port }));
    const s = o.dns_server ? parseServer(o.dns_server) : undefined;
    // the servers come from DNS: only the DNS server is known beforehand
    return s ? [{ protocol: 'udp', host: s.host, port: s.port }, { protocol: 'tcp', host: s.host, port: s.port }] : [];
  },
  async run(o, ctx) {
    if (o.srv === undefined) return eachHost(servers(o), ctx, (ep, c) => runOne({ ...o, ...ep }, c), { final: ['auth'] });
    const found = await ctx.step('resolve', () => srvSeeds(o.srv!, o.dns_server, ctx));
    // the URL's own authSource and replicaSet win over the TXT record's
    const withTxt = { ...o, auth_source: o.auth_source ?? found.authSource, replica_set: o.replica_set ?? found.replicaSet };
    return eachHost(found.seeds, ctx, async (ep, c) => runOne({ ...withTxt, ...ep, addresses: await c.step('resolve', () => found.addressesOf?.(ep.host, c.signal)) }, c), { final: ['auth'] });
  },
});

async function runOne(given: One, ctx: CheckContext): Promise<void> {
  {
    let o = given;
    if (o.username !== undefined && !o.password) {
      ctx.note(`username ${o.username} without a password: no login attempted (conn-check never logged in with it either)`);
      o = { ...o, username: undefined };
    }
    const started = performance.now();
    const database = o.database ?? DEFAULT_DATABASE;
    const spec = {
      host: o.host,
      port: o.port,
      addresses: o.addresses,
      tls: o.tls && o,
      // mongod without TLS closes the connection when a TLS handshake arrives
      tlsFailure: (err: CheckError) =>
        CLOSED_IN_HANDSHAKE.has(err.message) ? new CheckError('tls', 'TLS handshake failed: the server closed the connection (is TLS enabled on this MongoDB server?)') : err,
    };
    // The certificate facts (and min_tls_version, which the driver has no option for) come from
    // the kit's handshake; the driver's further connections get the same TLS settings.
    await withService(ctx, spec, async (service) => {
      // The driver opens its own connections and trusts the length of every message (a message of
      // length 0 sends it into an endless loop that grows to gigabytes): it connects to the kit's
      // relay, each of whose connections is one the kit opened (the first is the tcp step's), with
      // the check's read budget and MongoDB's framing rules (net/bounded.ts).
      const relay = await service.relay({ maxConnections: 4, reuse: true, frames: () => lengthPrefixedFrames(MONGO_FRAMES) });
      const { MongoClient } = await driver();
      // The driver's timeouts end where the check's deadline does: a monitor connection that is
      // still in its handshake is not cancelled by client.close(), only by connectTimeoutMS.
      const t = Math.max(1, Math.ceil(ctx.timeoutMs - (performance.now() - started)));
      const clientOptions: MongoClientOptions = {
        directConnection: true,
        appName: 'conn-check',
        serverSelectionTimeoutMS: t,
        connectTimeoutMS: t,
        socketTimeoutMS: t,
        waitQueueTimeoutMS: t,
        // one hello at the start; no later heartbeat or streaming monitor within a check
        serverMonitoringMode: 'poll',
        heartbeatFrequencyMS: Math.max(60_000, t * 2),
        retryReads: false,
        retryWrites: false,
        maxPoolSize: 1,
        minPoolSize: 0,
        maxConnecting: 1,
        monitorCommands: false,
        ...(o.username ? { auth: { username: o.username, password: o.password }, authSource: authSourceOf(o) } : {}),
      };
      // The URI carries only the relay's address; credentials travel in the options object.
      const client: MongoClient = new MongoClient(`mongodb://127.0.0.1:${relay.port}/`, clientOptions);
      service.onClose(() => client.close());
      // The monitor's first hello says whether a MongoDB server answers at all, before the
      // pool's own connection (which also authenticates) is made.
      let hello: { setName?: unknown; isWritablePrimary?: unknown; ismaster?: unknown; secondary?: unknown } = {};
      const firstHello = new Promise<void>((resolve, reject) => {
        client.once('serverHeartbeatSucceeded', (event) => {
          hello = (event.reply ?? {}) as typeof hello;
          resolve();
        });
        client.once('serverHeartbeatFailed', (event) => reject(event.failure));
      });
      const connecting = client.connect();
      firstHello.catch(() => {});
      connecting.catch(() => {});
      await ctx.step('protocol', async () => {
        try {
          await Promise.race([firstHello, connecting]);
        } catch (err) {
          const e = failure('protocol', err, o, relay);
          if (!o.tls && e.step === 'protocol' && (e.message === CLOSED || CLOSED_IN_HANDSHAKE.has(e.message))) {
            // a TLS-only mongod closes plain connections without a word (the driver sees a clean
            // close, or, when its hello was already on the way, a reset or a broken pipe)
            throw new CheckError('protocol', `${CLOSED} during the MongoDB handshake (if the server requires TLS, set tls: true)`);
          }
          throw e;
        }
        replicaSetMember(o, hello, ctx);
      });
      const loginStep: StepName = o.username ? 'auth' : 'protocol';
      await ctx.step(loginStep, async () => {
        try {
          await connecting;
        } catch (err) {
          throw failure(loginStep, err, o, relay);
        }
      });
      if (o.username) ctx.note(`authenticated as ${o.username} (auth_source ${authSourceOf(o)})`);

      await ctx.step('query', async () => {
        const db = client.db(database);
        let names: unknown[];
        try {
          names = await db.listCollections({}, { nameOnly: true, authorizedCollections: true }).toArray();
        } catch (err) {
          throw failure('query', err, o, relay);
        }
        try {
          const info = await client.db('admin').command({ buildInfo: 1 });
          if (typeof info.version === 'string') ctx.note(`MongoDB ${info.version}`);
        } catch {
          // the version is a detail; listCollections already answered
        }
        ctx.note(`${names.length} collection${names.length === 1 ? '' : 's'} in ${database}`);
      });
    });
  }
}

/**
 * `mongodb://[user:password@]host[:port][,host2[:port]...][/database][?authSource=...&tls=true...]`
 * and `mongodb+srv://[user:password@]NAME[/database][?...]` read by the driver's own parser
 * (mongodb-connection-string-url). Several hosts are a seed list (`hosts`: each is tried
 * directly, in order); +srv is `srv` (the seed list from DNS when the check runs, TLS on unless
 * the URL says `tls=false`, as the driver specification says).
 */
function fromUrl(raw: string): Record<string, unknown> {
  let c: ConnectionString;
  try {
    c = new ConnectionString(raw.trim());
  } catch (err) {
    const msg = err instanceof Error ? err.message : '';
    throw new UrlError(/srv/i.test(msg) ? 'is not a mongodb+srv URL (one host name, no port)' : 'cannot be parsed (look at its hosts, port and %-escapes)');
  }
  const at: Record<string, unknown> = {};
  if (c.isSRV) {
    at.srv = decodePart(c.hosts[0]!, 'host');
  } else {
    const list = c.hosts.map((h) => {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
      if (!m) throw new UrlError('cannot be parsed (look at its host and port)');
      const host = decodePart(m[1]!, 'host').replace(/^\[(.*)\]$/, '$1');
      if (host.startsWith('/')) throw new UrlError('names a Unix socket; this check connects over TCP');
      return { host, port: m[2] === undefined ? 27017 : Number(m[2]) };
    });
    if (list.length === 1) Object.assign(at, list[0]);
    else at.hosts = list.map((e) => hostPort(e.host, e.port));
  }
  const p = c.searchParams;
  const get = (name: string) => {
    for (const [k, v] of p) if (k.toLowerCase() === name.toLowerCase()) return v;
    return undefined;
  };
  const lower = new URLSearchParams([...p].map(([k, v]): [string, string] => [k.toLowerCase(), v]));
  const insecure = flag(lower, 'tlsinsecure', 'tlsallowinvalidcertificates');
  const keyFile = get('tlsCertificateKeyFile');
  const db = c.pathname.replace(/^\//, '');
  return defined({
    ...at,
    username: c.username ? decodePart(c.username, 'user name') : undefined,
    password: c.password ? decodePart(c.password, 'password') : undefined,
    database: db ? decodePart(db, 'database') : undefined,
    auth_source: get('authSource'),
    tls: flag(lower, 'tls', 'ssl') ?? (c.isSRV ? true : undefined),
    replica_set: get('replicaSet'),
    disable_tls_verification: insecure,
    ca_file: get('tlsCAFile'),
    client_cert: keyFile,
    client_key: keyFile,
  });
}
