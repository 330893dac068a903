/**
 * The few Kafka requests a connectivity check needs, spoken on a connection the check opened:
 * ApiVersions v0, SaslHandshake v1, SaslAuthenticate v0/v1 (PLAIN, and SCRAM-SHA-256/512 as RFC
 * 5802 and 7677 define it), Metadata v1-v8. Only non-flexible versions (no tagged fields), which
 * every broker from Kafka 1.0 to 4.x accepts. Requests go one at a time; every response is a
 * 4-byte size and then that many bytes, and a size above `maxFrame` is refused as soon as its
 * four bytes arrive, before anything is buffered. Imports nothing from the checks: failures are
 * KafkaWireError (the server broke the protocol) or KafkaClosedError, for the check to map.
 */
import type { Duplex } from 'node:stream';
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { formatBytes } from './bounded.js';

export const API = { Metadata: 3, SaslHandshake: 17, ApiVersions: 18, SaslAuthenticate: 36 } as const;

/** The server sent something that is not a well-formed Kafka response. */
export class KafkaWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaWireError';
  }
}

/** The server closed the connection before the response was complete. */
export class KafkaClosedError extends Error {
  constructor(readonly midResponse: boolean) {
    super(midResponse ? 'the server closed the connection in the middle of a response' : 'the server closed the connection');
    this.name = 'KafkaClosedError';
  }
}

// ---- encoding -------------------------------------------------------------------------------

/** Builds a request body from big-endian fields. */
export class Writer {
  private parts: Buffer[] = [];
  int8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    return this.push(b);
  }
  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return this.push(b);
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this.push(b);
  }
  int64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    return this.push(b);
  }
  /** STRING / NULLABLE_STRING: int16 length (-1 for null), UTF-8 bytes. */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const b = Buffer.from(v, 'utf8');
    return this.int16(b.length).push(b);
  }
  /** BYTES: int32 length, the bytes. */
  bytes(v: Buffer): this {
    return this.int32(v.length).push(v);
  }
  /** ARRAY: int32 count (-1 for null), then each element. */
  array<T>(items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) each(this, item);
    return this;
  }
  push(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Reads big-endian fields, refusing to read past the end (a truncated or lying response). */
export class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  get remaining(): number {
    return this.buf.length - this.at;
  }
  private take(n: number, what: string): Buffer {
    if (n < 0 || this.at + n > this.buf.length) throw new KafkaWireError(`the server sent a truncated Kafka response (${what})`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  int8(what = 'int8'): number {
    return this.take(1, what).readInt8(0);
  }
  bool(what = 'boolean'): boolean {
    return this.int8(what) !== 0;
  }
  int16(what = 'int16'): number {
    return this.take(2, what).readInt16BE(0);
  }
  int32(what = 'int32'): number {
    return this.take(4, what).readInt32BE(0);
  }
  int64(what = 'int64'): bigint {
    return this.take(8, what).readBigInt64BE(0);
  }
  nullableString(what = 'string'): string | null {
    const n = this.int16(what);
    if (n === -1) return null;
    return this.take(n, what).toString('utf8');
  }
  string(what = 'string'): string {
    return this.nullableString(what) ?? '';
  }
  nullableBytes(what = 'bytes'): Buffer | null {
    const n = this.int32(what);
    if (n === -1) return null;
    return this.take(n, what);
  }
  /** An array of `each`: its count is checked against the bytes left (each element takes one at least). */
  array<T>(each: (r: Reader) => T, what = 'array'): T[] {
    const n = this.int32(what);
    if (n === -1) return [];
    if (n < 0 || n > this.remaining) throw new KafkaWireError(`the server sent a malformed Kafka response (${what}: ${n} elements in ${this.remaining} bytes)`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(each(this));
    return out;
  }
}

const CLIENT_ID = 'conn-check';

/** A request frame: size, header v1 (api key, version, correlation id, client id), body. */
export function encodeRequest(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const header = new Writer().int16(apiKey).int16(version).int32(correlationId).string(CLIENT_ID).build();
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length);
  return Buffer.concat([size, header, body]);
}

// ---- the connection -------------------------------------------------------------------------

/**
 * One request at a time on a connected stream. `request` resolves with a Reader over the
 * response body (after its correlation id), rejects with KafkaWireError, KafkaClosedError, the
 * stream's error, or the signal's reason.
 */
export class KafkaConnection {
  private nextId = 1;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { id: number; resolve(r: Reader): void; reject(e: unknown): void } | undefined;
  private failure: unknown;

  constructor(
    private readonly stream: Duplex,
    private readonly signal: AbortSignal,
    /** The largest response accepted (its announced size, without the 4 size bytes). */
    private readonly maxFrame: number,
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err) => this.fail(err));
    stream.on('close', () => this.fail(new KafkaClosedError(this.buffered.length > 0)));
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private onAbort = () => this.fail(this.signal.reason);

  private fail(err: unknown): void {
    this.failure ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failure);
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    if (this.buffered.length < 4) return;
    const size = this.buffered.readInt32BE(0);
    if (size < 4 || size > this.maxFrame) {
      this.fail(new KafkaWireError(size < 4 ? `the server sent a malformed Kafka response (size ${size})` : `the server announced a Kafka response of ${size} bytes (more than ${formatBytes(this.maxFrame)}; is this a Kafka port?)`));
      this.stream.destroy();
      return;
    }
    if (this.buffered.length < 4 + size) return;
    const frame = this.buffered.subarray(4, 4 + size);
    const rest = this.buffered.subarray(4 + size);
    this.buffered = rest;
    const w = this.waiting;
    const id = frame.readInt32BE(0);
    if (!w) return this.fail(new KafkaWireError('the server sent a Kafka response nobody asked for'));
    if (id !== w.id) return this.fail(new KafkaWireError(`the server answered with correlation id ${id} (expected ${w.id}): not a Kafka response`));
    this.waiting = undefined;
    if (rest.length) return this.fail(new KafkaWireError('the server sent a Kafka response nobody asked for'));
    w.resolve(new Reader(frame.subarray(4)));
  }

  /** Sends one request and waits for its response. */
  request(apiKey: number, version: number, body: Buffer): Promise<Reader> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error('one Kafka request at a time'));
    const id = this.nextId++;
    return new Promise<Reader>((resolve, reject) => {
      this.waiting = { id, resolve, reject };
      this.stream.write(encodeRequest(apiKey, version, id, body));
    });
  }

  /** Stops listening (the stream is the caller's to close). */
  dispose(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }
}

// ---- the requests ---------------------------------------------------------------------------

export type VersionRange = { min: number; max: number };

/** ApiVersions v0: the error code and each API's version range. */
export async function apiVersions(c: KafkaConnection): Promise<{ errorCode: number; apis: Map<number, VersionRange> }> {
  const r = await c.request(API.ApiVersions, 0, Buffer.alloc(0));
  const errorCode = r.int16('error code');
  const apis = new Map<number, VersionRange>();
  for (const [key, min, max] of r.array((x) => [x.int16(), x.int16(), x.int16()] as const, 'api versions')) apis.set(key, { min, max });
  return { errorCode, apis };
}

/** SaslHandshake v1: the error code and the mechanisms the listener offers. */
export async function saslHandshake(c: KafkaConnection, mechanism: string): Promise<{ errorCode: number; mechanisms: string[] }> {
  const r = await c.request(API.SaslHandshake, 1, new Writer().string(mechanism).build());
  const errorCode = r.int16('error code');
  const mechanisms = r.array((x) => x.string('mechanism'), 'mechanisms');
  return { errorCode, mechanisms };
}

/** SaslAuthenticate v0 or v1: one round of the mechanism's exchange. */
export async function saslAuthenticate(c: KafkaConnection, version: 0 | 1, authBytes: Buffer): Promise<{ errorCode: number; errorMessage: string | null; authBytes: Buffer }> {
  const r = await c.request(API.SaslAuthenticate, version, new Writer().bytes(authBytes).build());
  const errorCode = r.int16('error code');
  const errorMessage = r.nullableString('error message');
  const bytes = r.nullableBytes('auth bytes') ?? Buffer.alloc(0);
  if (version >= 1) r.int64('session lifetime');
  return { errorCode, errorMessage, authBytes: bytes };
}

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}
export interface MetadataPartition {
  errorCode: number;
  index: number;
  leader: number;
}
export interface MetadataTopic {
  errorCode: number;
  name: string;
  internal: boolean;
  partitions: MetadataPartition[];
}
export interface Metadata {
  brokers: MetadataBroker[];
  clusterId: string | null;
  controllerId: number;
  topics: MetadataTopic[];
}

/** The Metadata versions spoken here: 1 (Kafka 0.10) to 8, the last without tagged fields. */
export const METADATA_VERSIONS: VersionRange = { min: 1, max: 8 };

/**
 * Metadata v1-v8 for `topics` (an empty list asks for none: brokers and controller only), never
 * creating a topic (v4+: allow_auto_topic_creation false).
 */
export async function metadata(c: KafkaConnection, version: number, topics: readonly string[]): Promise<Metadata> {
  if (version < METADATA_VERSIONS.min || version > METADATA_VERSIONS.max) throw new Error(`Metadata v${version} is not spoken here`);
  const w = new Writer().array(topics, (x, t) => x.string(t));
  if (version >= 4) w.bool(false);
  if (version >= 8) w.bool(false).bool(false);
  const r = await c.request(API.Metadata, version, w.build());
  if (version >= 3) r.int32('throttle time');
  const brokers = r.array(
    (x) => ({ nodeId: x.int32('node id'), host: x.string('host'), port: x.int32('port'), rack: x.nullableString('rack') }),
    'brokers',
  );
  const clusterId = version >= 2 ? r.nullableString('cluster id') : null;
  const controllerId = r.int32('controller id');
  const list = r.array((x) => {
    const errorCode = x.int16('topic error code');
    const name = x.string('topic name');
    const internal = x.bool('is internal');
    const partitions = x.array((p) => {
      const part = { errorCode: p.int16('partition error code'), index: p.int32('partition index'), leader: p.int32('leader id') };
      if (version >= 7) p.int32('leader epoch');
      p.array((n) => n.int32(), 'replica nodes');
      p.array((n) => n.int32(), 'isr nodes');
      if (version >= 5) p.array((n) => n.int32(), 'offline replicas');
      return part;
    }, 'partitions');
    if (version >= 8) x.int32('topic authorized operations');
    return { errorCode, name, internal, partitions };
  }, 'topics');
  if (version >= 8) r.int32('cluster authorized operations');
  return { brokers, clusterId, controllerId, topics: list };
}

// ---- SASL mechanisms ------------------------------------------------------------------------

/** PLAIN (RFC 4616): no authorization identity, the user name, the password. */
export function plainMessage(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`, 'utf8');
}

/** SCRAM's iteration counts Kafka accepts (a server asking for more would make the client burn CPU). */
export const SCRAM_MAX_ITERATIONS = 16_384;

/** A SCRAM exchange (RFC 5802) as the client, with SHA-256 or SHA-512 (RFC 7677). */
export class ScramClient {
  private readonly nonce: string;
  private readonly firstBare: string;
  private expectedServerSignature: Buffer | undefined;

  constructor(
    private readonly hash: 'sha256' | 'sha512',
    username: string,
    private readonly password: string,
    nonce = randomBytes(24).toString('base64'),
  ) {
    this.nonce = nonce;
    this.firstBare = `n=${username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
  }

  /** client-first-message: no channel binding, no authorization identity. */
  first(): Buffer {
    return Buffer.from(`n,,${this.firstBare}`, 'utf8');
  }

  /** client-final-message for the server's first message; throws KafkaWireError when it is malformed. */
  async final(serverFirst: Buffer): Promise<Buffer> {
    const text = serverFirst.toString('utf8');
    const attrs = scramAttributes(text);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (attrs.has('e')) throw new KafkaWireError(`the server refused the SCRAM exchange (${attrs.get('e')})`);
    if (!nonce || salt === undefined || !Number.isInteger(iterations)) throw new KafkaWireError('the server sent a malformed SCRAM challenge');
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length) throw new KafkaWireError('the server sent a SCRAM challenge with a nonce that does not extend ours');
    if (iterations < 1 || iterations > SCRAM_MAX_ITERATIONS) throw new KafkaWireError(`the server asked for ${iterations} SCRAM iterations (Kafka accepts 4096 to ${SCRAM_MAX_ITERATIONS})`);
    const salted = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(this.password.normalize('NFKC'), Buffer.from(salt, 'base64'), iterations, this.hash === 'sha256' ? 32 : 64, this.hash, (err, key) => (err ? reject(err) : resolve(key))),
    );
    const clientKey = hmac(this.hash, salted, 'Client Key');
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.firstBare},${text},${withoutProof}`;
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.expectedServerSignature = hmac(this.hash, hmac(this.hash, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server's final message: it must prove that the server knows the password too. */
  verify(serverFinal: Buffer): void {
    const attrs = scramAttributes(serverFinal.toString('utf8'));
    if (attrs.has('e')) throw new KafkaWireError(`the server refused the SCRAM proof (${attrs.get('e')})`);
    const v = attrs.get('v');
    if (v === undefined || !this.expectedServerSignature) throw new KafkaWireError('the server sent a malformed SCRAM final message');
    const got = Buffer.from(v, 'base64');
    if (got.length !== this.expectedServerSignature.length || !timingSafeEqual(got, this.expectedServerSignature)) {
      throw new KafkaWireError('the server could not prove that it knows the password (wrong SCRAM server signature)');
    }
  }
}

function hmac(hash: string, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data, 'utf8').digest();
}

/** `a=1,b=2` into a map (a value may contain `=`). */
export function scramAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** Kafka's error codes a check can meet, with their names. */
export const KAFKA_ERRORS: Readonly<Record<number, string>> = {
  [-1]: 'UNKNOWN_SERVER_ERROR',
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  8: 'BROKER_NOT_AVAILABLE',
  9: 'REPLICA_NOT_AVAILABLE',
  17: 'INVALID_TOPIC_EXCEPTION',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  31: 'CLUSTER_AUTHORIZATION_FAILED',
  33: 'UNSUPPORTED_SASL_MECHANISM',
  34: 'ILLEGAL_SASL_STATE',
  35: 'UNSUPPORTED_VERSION',
  38: 'INVALID_REQUEST',
  58: 'SASL_AUTHENTICATION_FAILED',
  72: 'LISTENER_NOT_FOUND',
};

/** `NAME (code)`, or `error code N` for a code not listed. */
export function kafkaErrorName(code: number): string {
  const name = KAFKA_ERRORS[code];
  return name ? `${name}, ${code}` : `error code ${code}`;
}
