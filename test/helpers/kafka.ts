/**
 * Kafka for the tests, as found on these machines (no broker can be installed here):
 *  - librdkafka's mock cluster, through Debian's `kcat` (scripts/setup.sh installs it): a real
 *    third-party implementation of the protocol, N brokers on loopback ports, metadata and
 *    topics (it creates any topic asked for), no SASL, no TLS;
 *  - a small broker of our own (`startKafkaServer`) for what the mock lacks: SASL PLAIN and
 *    SCRAM-SHA-256/512 with a real password check (a wrong password really fails), TLS with the
 *    test CA, topics that do not exist, leaderless partitions, ACL refusals, and a listener that
 *    closes the connection on a request before authentication, as Kafka does.
 * The workflow runs the same tests against a real Kafka (test/kafka.test.ts: CONN_CHECK_TEST_KAFKA*).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Reader, Writer } from '../../src/net/kafka-wire.js';
import { listenOn, type Listener } from './listen.js';
import { alive, killPid } from './server-process.js';
import { startFlood } from './hostile.js';

/** A peer that answers the first request with a 2 GiB response size, then zeros forever. */
export const startKafkaHuge = () => startFlood(Buffer.from([0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(1), { afterRequest: true });
/** A peer that answers the first request with a 1 MiB response (that is no answer to it), then zeros forever. */
export const startKafkaFlood = () => startFlood(Buffer.from([0x00, 0x0f, 0xff, 0xff]), Buffer.alloc(1), { afterRequest: true });

export const KCAT = '/usr/bin/kcat';
export const kcatAvailable = () => existsSync(KCAT);

export interface MockCluster {
  /** host:port of each broker, in node id order (1..N). */
  brokers: string[];
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts librdkafka's mock cluster of `brokers` brokers inside a kcat producer that waits on its
 * stdin (so that it stays up, and sends nothing) and reads the brokers' addresses from its debug
 * output.
 */
export function startMockCluster(brokers = 3): Promise<MockCluster> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(KCAT, ['-P', '-b', '127.0.0.1:1', '-t', 'conncheck-mock', '-X', `test.mock.num.brokers=${brokers}`, '-d', 'mock'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => fail(new Error(`kcat gave no mock cluster address within 10 s: ${err.slice(-500)}`)), 10_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      if (child.pid) void killPid(child.pid);
      reject(e);
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`kcat exited (${code}): ${err.slice(-500)}`)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 64 * 1024) err += d;
      const m = /Mock cluster \S+ bootstrap\.servers=(\S+)/.exec(err);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      child.stderr!.removeAllListeners('data');
      child.stderr!.resume(); // keep draining its log
      const pid = child.pid!;
      resolve({
        brokers: m[1]!.split(','),
        pid,
        async stop() {
          child.stdin!.destroy();
          if (alive(pid)) await killPid(pid);
        },
      });
    });
  });
}

// ---- a broker of our own -------------------------------------------------------------------

export interface KafkaServerOptions {
  /** SASL users (the listener then requires SASL, as a SASL_PLAINTEXT or SASL_SSL listener does). */
  users?: Record<string, string>;
  /** The mechanisms the listener offers (default PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  mechanisms?: string[];
  /** TLS (the test CA's leaf): a SSL or SASL_SSL listener. */
  tls?: { cert: string; key: string };
  /** Topics that exist: partition count and the partitions without a leader. */
  topics?: Record<string, { partitions: number; leaderless?: number[] }>;
  /** Topics the user may not describe (TOPIC_AUTHORIZATION_FAILED). */
  denied?: string[];
  /** How many brokers the metadata lists (node ids 1..N; the first is this server). */
  brokers?: number;
  controllerId?: number;
  /** The error message of a failed SaslAuthenticate (Kafka's own by default). */
  failMessage?: string;
  /** SCRAM: accept any proof and answer with a made-up server signature (an impostor). */
  forgeScram?: boolean;
}

export interface KafkaServer extends Listener {
  /** The user names that authenticated, in order. */
  authenticated: string[];
  /** The Metadata versions asked for. */
  metadataVersions: number[];
}

const SCRAM_ITERATIONS = 4096;

/** Stored SCRAM credentials, as Kafka keeps them (salt, iterations, StoredKey, ServerKey). */
function scramCredential(password: string, hash: 'sha256' | 'sha512') {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, hash === 'sha256' ? 32 : 64, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  return { salt, storedKey: createHash(hash).update(clientKey).digest(), serverKey: createHmac(hash, salted).update('Server Key').digest() };
}

function frame(correlationId: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(4 + body.length, 0);
  head.writeInt32BE(correlationId, 4);
  return Buffer.concat([head, body]);
}

/** A Kafka broker that answers what the check asks, and enforces what a real one would. */
export async function startKafkaServer(opts: KafkaServerOptions = {}): Promise<KafkaServer> {
  const mechanisms = opts.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
  const scram = new Map<string, ReturnType<typeof scramCredential>>();
  for (const [user, pw] of Object.entries(opts.users ?? {})) {
    scram.set(`SCRAM-SHA-256/${user}`, scramCredential(pw, 'sha256'));
    scram.set(`SCRAM-SHA-512/${user}`, scramCredential(pw, 'sha512'));
  }
  const authenticated: string[] = [];
  const metadataVersions: number[] = [];
  let port = 0;

  const onConnection = (s: Socket) => {
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    let authed = opts.users === undefined;
    let mechanism: string | undefined;
    let scramState: { user: string; first: string; serverFirst: string; nonce: string } | undefined;
    const send = (id: number, w: Writer) => s.write(frame(id, w.build()));
    const refuse = (id: number, v: number, message: string) => {
      const w = new Writer().int16(58).string(message).bytes(Buffer.alloc(0));
      if (v >= 1) w.int64(0n);
      send(id, w);
      s.end(); // Kafka closes the connection after a failed authentication
    };
    const handle = (req: Buffer) => {
      const r = new Reader(req);
      const apiKey = r.int16();
      const version = r.int16();
      const id = r.int32();
      r.nullableString();
      if (apiKey === 18) {
        // ApiVersions: v0's layout whatever the version asked (as Kafka answers UNSUPPORTED_VERSION)
        const apis: [number, number, number][] = [[3, 0, 12], [17, 0, 1], [18, 0, 3], [36, 0, 2]];
        send(id, new Writer().int16(version === 0 ? 0 : 35).array(apis, (w, [k, min, max]) => w.int16(k).int16(min).int16(max)));
        return;
      }
      if (apiKey === 17) {
        const asked = r.string();
        const code = opts.users === undefined ? 34 : mechanisms.includes(asked) ? 0 : 33;
        if (code === 0) mechanism = asked;
        send(id, new Writer().int16(code).array(mechanisms, (w, m) => w.string(m)));
        return;
      }
      if (apiKey === 36) {
        const bytes = r.nullableBytes() ?? Buffer.alloc(0);
        const ok = (out: Buffer) => {
          const w = new Writer().int16(0).string(null).bytes(out);
          if (version >= 1) w.int64(0n);
          send(id, w);
        };
        if (!mechanism || opts.users === undefined) return void s.destroy();
        const failMessage = opts.failMessage ?? `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
        if (mechanism === 'PLAIN') {
          const [, user, pw] = bytes.toString('utf8').split('\0');
          if (user !== undefined && Object.hasOwn(opts.users, user) && opts.users[user] === pw) {
            authed = true;
            authenticated.push(user);
            return ok(Buffer.alloc(0));
          }
          return refuse(id, version, opts.failMessage ?? 'Authentication failed: Invalid username or password');
        }
        const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
        const text = bytes.toString('utf8');
        if (!scramState) {
          const m = /^n,,(n=([^,]*),r=([^,]+))$/.exec(text);
          if (!m) return refuse(id, version, failMessage);
          const user = m[2]!.replace(/=2C/g, ',').replace(/=3D/g, '=');
          const cred = scram.get(`${mechanism}/${user}`) ?? scramCredential(randomBytes(8).toString('hex'), hash); // an unknown user fails at the proof
          const nonce = `${m[3]}${randomBytes(18).toString('base64')}`;
          const serverFirst = `r=${nonce},s=${cred.salt.toString('base64')},i=${SCRAM_ITERATIONS}`;
          scramState = { user, first: m[1]!, serverFirst, nonce };
          return ok(Buffer.from(serverFirst));
        }
        const st = scramState;
        const m = /^(c=biws,r=([^,]+)),p=([^,]+)$/.exec(text);
        if (opts.forgeScram) return ok(Buffer.from(`v=${randomBytes(hash === 'sha256' ? 32 : 64).toString('base64')}`));
        const cred = scram.get(`${mechanism}/${st.user}`);
        if (!m || m[2] !== st.nonce || !cred) return refuse(id, version, failMessage);
        const authMessage = `${st.first},${st.serverFirst},${m[1]}`;
        const signature = createHmac(hash, cred.storedKey).update(authMessage).digest();
        const proof = Buffer.from(m[3]!, 'base64');
        if (proof.length !== signature.length) return refuse(id, version, failMessage);
        const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
        if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), cred.storedKey)) return refuse(id, version, failMessage);
        authed = true;
        authenticated.push(st.user);
        return ok(Buffer.from(`v=${createHmac(hash, cred.serverKey).update(authMessage).digest('base64')}`));
      }
      if (apiKey === 3) {
        // a SASL listener refuses anything but ApiVersions and the handshake before authentication
        if (!authed || version < 1 || version > 8) return void s.destroy();
        metadataVersions.push(version);
        const topics = r.array((x) => x.string());
        const n = opts.brokers ?? 1;
        const w = new Writer();
        if (version >= 3) w.int32(0);
        w.array(Array.from({ length: n }, (_, i) => i + 1), (x, node) => x.int32(node).string(node === 1 ? 'localhost' : `broker-${node}.test`).int32(node === 1 ? port : 9092).string(null));
        if (version >= 2) w.string('conncheck-test-cluster');
        w.int32(opts.controllerId ?? 1);
        w.array(topics, (x, name) => {
          const t = opts.topics?.[name];
          const code = opts.denied?.includes(name) ? 29 : t ? 0 : 3;
          x.int16(code).string(name).bool(false);
          x.array(code === 0 ? Array.from({ length: t!.partitions }, (_, i) => i) : [], (p, i) => {
            const leaderless = t!.leaderless?.includes(i);
            p.int16(leaderless ? 5 : 0).int32(i).int32(leaderless ? -1 : 1);
            if (version >= 7) p.int32(0);
            p.array([1], (q, v) => q.int32(v)).array(leaderless ? [] : [1], (q, v) => q.int32(v));
            if (version >= 5) p.array([], (q, v: number) => q.int32(v));
          });
          if (version >= 8) x.int32(-2147483648);
        });
        if (version >= 8) w.int32(-2147483648);
        send(id, w);
        return;
      }
      s.destroy();
    };
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0);
        if (size < 0 || size > 1024 * 1024) return void s.destroy();
        if (buf.length < 4 + size) return;
        const req = buf.subarray(4, 4 + size);
        buf = buf.subarray(4 + size);
        try {
          handle(req);
        } catch {
          s.destroy();
        }
      }
    });
  };

  const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, onConnection).on('tlsClientError', () => {}) : createTcpServer(onConnection);
  const listener = await listenOn(server);
  port = listener.port;
  return Object.assign(listener, { authenticated, metadataVersions });
}

/** The answer to the check's first request (ApiVersions, correlation id 1): a broker offering SASL. */
export function kafkaApiVersionsReply(): Buffer {
  const apis: [number, number, number][] = [[3, 0, 12], [17, 0, 1], [18, 0, 3], [36, 0, 2]];
  return frame(1, new Writer().int16(0).array(apis, (w, [k, min, max]) => w.int16(k).int16(min).int16(max)).build());
}
