/**
 * A small MongoDB server speaking the real wire protocol, for tests on machines where no
 * mongod can be installed. The official `mongodb` driver talks to it as to a standalone
 * mongod: OP_QUERY (the driver's first hello) answered with OP_REPLY, OP_MSG (kind 0 bodies and
 * kind 1 document sequences) answered with OP_MSG, and the commands a connection check needs:
 * hello / isMaster (with saslSupportedMechs and speculativeAuthenticate), ping, buildInfo,
 * saslStart / saslContinue doing SCRAM-SHA-256 and SCRAM-SHA-1 for real (the server keeps only
 * StoredKey/ServerKey, as mongod does, and verifies the client proof), listCollections (needs
 * authentication when users are configured), endSessions, and create / dropDatabase /
 * createUser / dropUser (so the tests' set-up for a real server runs here too); anything else is
 * CommandNotFound.
 *
 * Listens on a free loopback port, plain or TLS, and can misbehave on purpose (`mode`).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { BSON } from 'mongodb';
import { started } from './listen.js';

type Doc = Record<string, unknown>;
export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

export interface MongoUser {
  /** The database the user is defined in (its auth source); default admin. */
  db?: string;
  user: string;
  password: string;
  /** Default both, as mongod creates users. */
  mechanisms?: ScramMechanism[];
}

export interface MongoServerOptions {
  host?: string;
  /** With users, every command but the handshake, auth and ping needs an authenticated connection. */
  users?: MongoUser[];
  /** Collections per database name. */
  collections?: Record<string, string[]>;
  /** Serve TLS with this certificate (optionally asking for a client certificate). */
  tls?: { cert: string; key: string; ca?: string; requestCert?: boolean };
  /** Reported by buildInfo. */
  version?: string;
  /** Reported by hello; the driver refuses anything below 9 or whose minimum is above 29. */
  maxWireVersion?: number;
  minWireVersion?: number;
  /**
   * normal: a mongod. silent: reads but never answers. close-after-hello: answers the first
   * hello of a connection, then closes it. stall-after-hello: answers hello, never anything
   * else. garbage: answers the first message with bytes that are not a MongoDB reply.
   */
  mode?: 'normal' | 'silent' | 'close-after-hello' | 'stall-after-hello' | 'garbage';
  /** Answer hello as a member of this replica set (setName, hosts, me), the primary unless `secondary`. */
  replicaSet?: { name: string; secondary?: boolean };
}

export interface ReceivedCommand {
  name: string;
  db: string;
  /** The user the connection was authenticated as when the command arrived. */
  user?: string;
  opCode: number;
}

export interface MongoWireServer {
  host: string;
  port: number;
  /** host:port */
  address: string;
  /** Every command received, in order. */
  commands: ReceivedCommand[];
  /** Client metadata documents from hello (appName, driver). */
  clients: Doc[];
  /** Connections currently open. */
  openConnections(): number;
  /** Connections accepted so far. */
  totalConnections(): number;
  /** Resolves once no client connection is open (or rejects after ms). */
  waitIdle(ms?: number): Promise<void>;
  close(): Promise<void>;
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_COMPRESSED = 2012;
const OP_MSG = 2013;
const MORE_TO_COME = 2;
const CHECKSUM_PRESENT = 1;

interface StoredCredential {
  mechanism: ScramMechanism;
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

interface UserRecord {
  db: string;
  user: string;
  credentials: Map<ScramMechanism, StoredCredential>;
}

interface Conversation {
  id: number;
  cred: StoredCredential;
  user: UserRecord;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  skipEmptyExchange: boolean;
  state: 'first-sent' | 'final-sent' | 'done';
}

interface ConnState {
  id: number;
  user?: UserRecord;
  conversations: Map<number, Conversation>;
  hellos: number;
}

const hashName = (m: ScramMechanism) => (m === 'SCRAM-SHA-256' ? 'sha256' : 'sha1');

function deriveCredential(mechanism: ScramMechanism, user: string, password: string): StoredCredential {
  const hash = hashName(mechanism);
  const iterations = mechanism === 'SCRAM-SHA-256' ? 15000 : 10000;
  const salt = randomBytes(mechanism === 'SCRAM-SHA-256' ? 28 : 16);
  // SCRAM-SHA-1 in MongoDB hashes the MD5 "user:mongo:password" digest, not the password.
  const secret = mechanism === 'SCRAM-SHA-256' ? password.normalize('NFKC') : createHash('md5').update(`${user}:mongo:${password}`, 'utf8').digest('hex');
  const salted = pbkdf2Sync(secret, salt, iterations, hash === 'sha256' ? 32 : 20, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  return {
    mechanism,
    salt,
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, salted).update('Server Key').digest(),
  };
}

class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }
}

const authFailed = () => new CommandError(18, 'AuthenticationFailed', 'Authentication failed.');

function payloadText(v: unknown): string {
  if (v instanceof BSON.Binary) return Buffer.from(v.buffer.subarray(0, v.position)).toString('utf8');
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (typeof v === 'string') return v;
  return '';
}

function parseScram(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /^([a-zA-Z])=(.*)$/.exec(part);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export async function startMongoServer(opts: MongoServerOptions = {}): Promise<MongoWireServer> {
  const host = opts.host ?? '127.0.0.1';
  const mode = opts.mode ?? 'normal';
  const users = new Map<string, UserRecord>();
  const addUser = (u: MongoUser) => {
    const db = u.db ?? 'admin';
    const credentials = new Map<ScramMechanism, StoredCredential>();
    for (const m of u.mechanisms ?? (['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const)) credentials.set(m, deriveCredential(m, u.user, u.password));
    users.set(`${db}.${u.user}`, { db, user: u.user, credentials });
  };
  for (const u of opts.users ?? []) addUser(u);
  const authRequired = users.size > 0;
  const processId = new BSON.ObjectId();
  const collections = new Map<string, Set<string>>(Object.entries(opts.collections ?? {}).map(([db, names]) => [db, new Set(names)]));
  const commands: ReceivedCommand[] = [];
  const clients: Doc[] = [];
  const sockets = new Set<Socket>();
  let connectionCount = 0;
  let conversationCount = 0;
  let idleWaiters: (() => void)[] = [];

  function saslStart(conn: ConnState, db: string, cmd: Doc): Conversation {
    const mechanism = String(cmd.mechanism ?? '');
    if (mechanism !== 'SCRAM-SHA-1' && mechanism !== 'SCRAM-SHA-256') {
      throw new CommandError(2, 'BadValue', `Received authentication for mechanism ${mechanism} which is not enabled`);
    }
    const text = payloadText(cmd.payload);
    // gs2 header "n,," (no channel binding, no authzid), then the bare message
    const m = /^n,(?:a=[^,]*)?,(.*)$/.exec(text);
    if (!m) throw new CommandError(17, 'ProtocolError', 'Incorrect SCRAM client|server nonce');
    const bare = m[1]!;
    const fields = parseScram(bare);
    const name = (fields.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
    const user = users.get(`${db}.${name}`);
    if (!user || !fields.r) throw authFailed();
    const cred = user.credentials.get(mechanism);
    if (!cred) {
      throw new CommandError(334, 'MechanismUnavailable', `Unable to use ${mechanism} based authentication for user without any ${mechanism} credentials registered`);
    }
    const nonce = fields.r + randomBytes(24).toString('base64');
    const serverFirst = `r=${nonce},s=${cred.salt.toString('base64')},i=${cred.iterations}`;
    const options = (cmd.options ?? {}) as Doc;
    const conv: Conversation = {
      id: ++conversationCount,
      cred,
      user,
      clientFirstBare: bare,
      serverFirst,
      nonce,
      skipEmptyExchange: options.skipEmptyExchange === true,
      state: 'first-sent',
    };
    conn.conversations.set(conv.id, conv);
    return conv;
  }

  function saslContinue(conn: ConnState, cmd: Doc): Doc {
    const id = Number(cmd.conversationId ?? 0);
    const conv = conn.conversations.get(id) ?? [...conn.conversations.values()].at(-1);
    if (!conv) throw new CommandError(17, 'ProtocolError', 'No SASL session state found');
    if (conv.state === 'final-sent') {
      conv.state = 'done';
      conn.user = conv.user;
      conn.conversations.delete(conv.id);
      return { conversationId: conv.id, done: true, payload: new BSON.Binary(Buffer.alloc(0)), ok: 1 };
    }
    const text = payloadText(cmd.payload);
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw authFailed();
    const withoutProof = text.slice(0, proofAt);
    const fields = parseScram(text);
    conn.conversations.delete(conv.id);
    if (fields.c !== 'biws' || fields.r !== conv.nonce || !fields.p) throw authFailed();
    const hash = hashName(conv.cred.mechanism);
    const authMessage = `${conv.clientFirstBare},${conv.serverFirst},${withoutProof}`;
    const clientSignature = createHmac(hash, conv.cred.storedKey).update(authMessage).digest();
    const proof = Buffer.from(fields.p, 'base64');
    if (proof.length !== clientSignature.length) throw authFailed();
    const clientKey = xor(proof, clientSignature);
    const storedKey = createHash(hash).update(clientKey).digest();
    if (!timingSafeEqual(storedKey, conv.cred.storedKey)) throw authFailed();
    const serverSignature = createHmac(hash, conv.cred.serverKey).update(authMessage).digest('base64');
    const payload = new BSON.Binary(Buffer.from(`v=${serverSignature}`));
    if (conv.skipEmptyExchange) {
      conn.user = conv.user;
      return { conversationId: conv.id, done: true, payload, ok: 1 };
    }
    conv.state = 'final-sent';
    conn.conversations.set(conv.id, conv);
    return { conversationId: conv.id, done: false, payload, ok: 1 };
  }

  function hello(conn: ConnState, cmd: Doc, legacy: boolean): Doc {
    if (cmd.client && typeof cmd.client === 'object') clients.push(cmd.client as Doc);
    const reply: Doc = {
      helloOk: true,
      ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
      topologyVersion: { processId: processId, counter: BSON.Long.ZERO },
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: conn.id,
      minWireVersion: opts.minWireVersion ?? 0,
      maxWireVersion: opts.maxWireVersion ?? 21,
      readOnly: false,
    };
    if (opts.replicaSet) {
      const me = `${opts.host ?? '127.0.0.1'}:${port}`;
      Object.assign(reply, { setName: opts.replicaSet.name, hosts: [me], me, setVersion: 1, secondary: opts.replicaSet.secondary === true });
      if (opts.replicaSet.secondary) {
        delete reply.isWritablePrimary;
        delete reply.ismaster;
        reply[legacy ? 'ismaster' : 'isWritablePrimary'] = false;
      }
    }
    if (typeof cmd.saslSupportedMechs === 'string') {
      const user = users.get(cmd.saslSupportedMechs);
      if (user) reply.saslSupportedMechs = [...user.credentials.keys()];
    }
    const spec = cmd.speculativeAuthenticate as Doc | undefined;
    if (spec && typeof spec === 'object' && spec.saslStart) {
      try {
        const conv = saslStart(conn, String(spec.db ?? 'admin'), spec);
        reply.speculativeAuthenticate = { conversationId: conv.id, done: false, payload: new BSON.Binary(Buffer.from(conv.serverFirst)) };
      } catch {
        // as mongod: a failed speculative attempt is simply left out of the reply
      }
    }
    reply.ok = 1;
    return reply;
  }

  function run(conn: ConnState, cmd: Doc, db: string): Doc {
    const name = Object.keys(cmd)[0] ?? '';
    const lower = name.toLowerCase();
    switch (lower) {
      case 'hello':
      case 'ismaster':
        return hello(conn, cmd, lower === 'ismaster');
      case 'ping':
        return { ok: 1 };
      case 'buildinfo':
        return { version: opts.version ?? '7.0.0', versionArray: (opts.version ?? '7.0.0').split('.').map(Number).concat([0]).slice(0, 4), gitVersion: 'conn-check-test', bits: 64, maxBsonObjectSize: 16 * 1024 * 1024, ok: 1 };
      case 'saslstart': {
        const conv = saslStart(conn, db, cmd);
        return { conversationId: conv.id, done: false, payload: new BSON.Binary(Buffer.from(conv.serverFirst)), ok: 1 };
      }
      case 'saslcontinue':
        return saslContinue(conn, cmd);
      case 'endsessions':
        return { ok: 1 };
      case 'logout':
        conn.user = undefined;
        return { ok: 1 };
      case 'listcollections': {
        if (authRequired && !conn.user) throw new CommandError(13, 'Unauthorized', `Command listCollections requires authentication`);
        const names = [...(collections.get(db) ?? [])];
        const nameOnly = cmd.nameOnly === true;
        const firstBatch = names.map((n) => (nameOnly ? { name: n, type: 'collection' } : { name: n, type: 'collection', options: {}, info: { readOnly: false } }));
        return { cursor: { id: BSON.Long.ZERO, ns: `${db}.$cmd.listCollections`, firstBatch }, ok: 1 };
      }
      // enough administration for the tests' set-up on a real server to run here too
      case 'create':
      case 'dropdatabase':
      case 'createuser':
      case 'dropuser':
        if (authRequired && !conn.user) throw new CommandError(13, 'Unauthorized', `Command ${name} requires authentication`);
        if (lower === 'create') {
          const set = collections.get(db) ?? new Set<string>();
          const coll = String(cmd.create);
          if (set.has(coll)) throw new CommandError(48, 'NamespaceExists', `Collection ${db}.${coll} already exists.`);
          collections.set(db, set.add(coll));
        } else if (lower === 'dropdatabase') {
          collections.delete(db);
        } else if (lower === 'createuser') {
          const user = String(cmd.createUser);
          if (users.has(`${db}.${user}`)) throw new CommandError(51003, 'Location51003', `User "${user}@${db}" already exists`);
          const mechanisms = Array.isArray(cmd.mechanisms) ? (cmd.mechanisms as ScramMechanism[]) : undefined;
          addUser({ db, user, password: String(cmd.pwd), mechanisms });
        } else {
          const user = String(cmd.dropUser);
          if (!users.delete(`${db}.${user}`)) throw new CommandError(11, 'UserNotFound', `User '${user}@${db}' not found`);
        }
        return { ok: 1 };
      default:
        if (authRequired && !conn.user) throw new CommandError(13, 'Unauthorized', `Command ${name} requires authentication`);
        throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
    }
  }

  function execute(conn: ConnState, cmd: Doc, db: string, opCode: number): Doc {
    const name = Object.keys(cmd)[0] ?? '';
    commands.push({ name, db, user: conn.user?.user, opCode });
    try {
      return run(conn, cmd, db);
    } catch (err) {
      if (err instanceof CommandError) return { ok: 0, errmsg: err.message, code: err.code, codeName: err.codeName };
      return { ok: 0, errmsg: String((err as Error).message), code: 1, codeName: 'InternalError' };
    }
  }

  function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
    const h = Buffer.alloc(16);
    h.writeInt32LE(length, 0);
    h.writeInt32LE(requestId, 4);
    h.writeInt32LE(responseTo, 8);
    h.writeInt32LE(opCode, 12);
    return h;
  }

  let nextRequestId = 1;
  function opMsg(responseTo: number, doc: Doc): Buffer {
    const body = BSON.serialize(doc);
    const flags = Buffer.alloc(5); // flagBits 0, then section kind 0
    return Buffer.concat([header(16 + 5 + body.length, nextRequestId++, responseTo, OP_MSG), flags, body]);
  }
  function opReply(responseTo: number, doc: Doc): Buffer {
    const body = BSON.serialize(doc);
    const fields = Buffer.alloc(20); // responseFlags, cursorID (8), startingFrom, numberReturned
    fields.writeInt32LE(1, 16);
    return Buffer.concat([header(16 + 20 + body.length, nextRequestId++, responseTo, OP_REPLY), fields, body]);
  }

  function cstring(buf: Buffer, at: number): [string, number] {
    const end = buf.indexOf(0, at);
    if (end < 0) throw new Error('unterminated cstring');
    return [buf.toString('utf8', at, end), end + 1];
  }

  /** Decodes one message; returns the reply (or undefined when none is due). */
  function handle(conn: ConnState, msg: Buffer): { reply?: Buffer; name: string } {
    const requestId = msg.readInt32LE(4);
    const opCode = msg.readInt32LE(12);
    if (opCode === OP_MSG) {
      const flags = msg.readUInt32LE(16);
      const end = msg.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
      let pos = 20;
      let body: Doc | undefined;
      const sequences: Record<string, Doc[]> = {};
      while (pos < end) {
        const kind = msg[pos++];
        if (kind === 0) {
          const size = msg.readInt32LE(pos);
          body = BSON.deserialize(msg.subarray(pos, pos + size), { promoteBuffers: false }) as Doc;
          pos += size;
        } else if (kind === 1) {
          const size = msg.readInt32LE(pos);
          const seqEnd = pos + size;
          let [identifier, at] = cstring(msg, pos + 4);
          const docs: Doc[] = [];
          while (at < seqEnd) {
            const dsize = msg.readInt32LE(at);
            docs.push(BSON.deserialize(msg.subarray(at, at + dsize)) as Doc);
            at += dsize;
          }
          sequences[identifier] = docs;
          pos = seqEnd;
        } else {
          throw new Error(`unknown OP_MSG section kind ${kind}`);
        }
      }
      if (!body) throw new Error('OP_MSG without a body section');
      Object.assign(body, sequences);
      const db = typeof body.$db === 'string' ? body.$db : 'admin';
      const name = Object.keys(body)[0] ?? '';
      const result = execute(conn, body, db, opCode);
      return { reply: flags & MORE_TO_COME ? undefined : opMsg(requestId, result), name };
    }
    if (opCode === OP_QUERY) {
      let [ns, pos] = cstring(msg, 20);
      pos += 8; // numberToSkip, numberToReturn
      const size = msg.readInt32LE(pos);
      let query = BSON.deserialize(msg.subarray(pos, pos + size), { promoteBuffers: false }) as Doc;
      if (query.$query && typeof query.$query === 'object') query = query.$query as Doc;
      const db = ns.split('.')[0] ?? 'admin';
      const name = Object.keys(query)[0] ?? '';
      return { reply: opReply(requestId, execute(conn, query, db, opCode)), name };
    }
    if (opCode === OP_COMPRESSED) throw new Error('compression was not negotiated');
    throw new Error(`unsupported opCode ${opCode}`);
  }

  function onConnection(socket: Socket): void {
    sockets.add(socket);
    const conn: ConnState = { id: ++connectionCount, conversations: new Map(), hellos: 0 };
    let pending = Buffer.alloc(0);
    let first = true;
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    });
    socket.on('data', (chunk: Buffer) => {
      if (mode === 'silent') return;
      if (mode === 'garbage') {
        socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      if (first && pending.length >= 16) {
        first = false;
        // mongod's rule: a first message whose responseTo is neither 0 nor -1 is a TLS
        // ClientHello; without TLS it logs "SSL handshake received but server is started
        // without SSL support" and ends the connection
        const responseTo = pending.readInt32LE(8);
        if (responseTo !== 0 && responseTo !== -1) {
          socket.destroy();
          return;
        }
      }
      while (pending.length >= 16) {
        const length = pending.readInt32LE(0);
        if (length < 16 || length > 48_000_000) {
          socket.destroy();
          return;
        }
        if (pending.length < length) break;
        const msg = pending.subarray(0, length);
        pending = pending.subarray(length);
        let out: { reply?: Buffer; name: string };
        try {
          out = handle(conn, msg);
        } catch {
          socket.destroy();
          return;
        }
        const isHello = /^(hello|ismaster)$/i.test(out.name);
        if (mode === 'stall-after-hello' && !isHello) continue;
        if (out.reply) socket.write(out.reply);
        if (isHello) conn.hellos++;
        if (mode === 'close-after-hello' && isHello) {
          socket.end();
          return;
        }
      }
    });
  }

  let server: Server;
  if (opts.tls) {
    server = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: opts.tls.requestCert ?? false, rejectUnauthorized: opts.tls.requestCert ?? false }, onConnection);
    // a client that fails the handshake (e.g. refuses our certificate) is not an error here
    server.on('tlsClientError', () => {});
  } else {
    server = createTcpServer(onConnection);
  }
  await started(server, (done) => server.listen(0, host, done));
  const port = (server.address() as { port: number }).port;
  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    commands,
    clients,
    openConnections: () => sockets.size,
    totalConnections: () => connectionCount,
    waitIdle(ms = 5000) {
      if (sockets.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${sockets.size} client connection(s) still open after ${ms} ms`)), ms);
        idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
