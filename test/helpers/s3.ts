/**
 * An S3 server for the s3 check's tests: s3rver (an S3 implementation on node, with a store on
 * disk) behind a SigV4 VERIFIER of our own, on loopback. s3rver does not check signatures: the
 * verifier does, as S3 does, with the server-side secret, and answers S3's own XML errors:
 *
 * - no Authorization header: AccessDenied (403), but for a listing of one of `publicBuckets`
 * - an Authorization header it cannot read: AuthorizationHeaderMalformed (400)
 * - an access key it does not know: InvalidAccessKeyId (403)
 * - a credential scope for another region: AuthorizationHeaderMalformed (400) with <Region>
 * - x-amz-date more than 15 minutes from its clock: RequestTimeTooSkewed (403), with its Date
 *   header and <ServerTime> (its clock can be set off by `clockOffsetMs`)
 * - a session token that is not the key's: InvalidToken (400)
 * - a signature that does not match the one it computes: SignatureDoesNotMatch (403)
 * - a bucket the key may not use: AccessDenied (403)
 *
 * Then the request goes to s3rver without its Authorization header (s3rver's own V4 support is
 * incomplete; the verifier is the authority), except ListObjectsV2: s3rver builds its
 * NextContinuationToken with DES, which OpenSSL 3 refuses, so any truncated listing (max-keys=1
 * on a bucket with two keys) is a 500. The verifier answers ListObjectsV2 itself, from s3rver's
 * own store (the same objects), with a continuation token that is the last key in base64.
 * A missing bucket still goes to s3rver, which answers NoSuchBucket.
 *
 * The signature is recomputed here from the request as received (an implementation separate
 * from the check's aws4 signer, so that one cannot hide the other's mistake).
 */
import { createHash, createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import S3rver from 's3rver';
import { trackSockets } from './listen.js';
import { scratchDir } from './scratch.js';

export interface S3User {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry this x-amz-security-token (temporary credentials). */
  sessionToken?: string;
  /** The buckets the key may use ('*': all). */
  buckets: '*' | string[];
}

export interface S3Options {
  users: S3User[];
  /** Buckets created at start, with the objects given (key → content). */
  buckets: Record<string, Record<string, string>>;
  /** The server's region (requests signed for another fail). */
  region?: string;
  /** Buckets anyone may list (anonymous requests are AccessDenied elsewhere). */
  publicBuckets?: string[];
  /** TLS for the verifier's listener. */
  tls?: { cert: string; key: string };
}

export interface S3Instance {
  endpoint: string;
  port: number;
  region: string;
  /** How far the verifier's clock is from this machine's (ms; positive: ahead). */
  clockOffsetMs: number;
  /** Requests the verifier received. */
  readonly requests: number;
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

function s3Error(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}, date?: Date): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    `<Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
    Object.entries(extra)
      .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
      .join('') +
    `<RequestId>${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 16).toUpperCase()}</RequestId></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), Date: (date ?? new Date()).toUTCString(), ...(extra.Region ? { 'x-amz-bucket-region': extra.Region } : {}) });
  res.end(body);
}

/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept, everything else %XX). */
const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** `20240101T000000Z` → ms since the epoch (NaN when malformed). */
function amzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
}
const toAmzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** The signature SigV4 gives this request with this secret (S3's rules: no path normalisation). */
export function sigV4(req: { method: string; path: string; query: URLSearchParams; headers: Record<string, string | string[] | undefined> }, signedHeaders: string[], scope: string, date: string, secretKey: string, payloadHash: string): string {
  const canonicalUri = req.path.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/') || '/';
  const canonicalQuery = [...req.query.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((h) => {
      const v = req.headers[h];
      return `${h}:${(Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonical = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonical)].join('\n');
  const [day, region, service] = scope.split('/');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, day!), region!), service!), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** The bucket a path-style request is about ('' for the service: ListBuckets). */
const bucketOf = (path: string) => decodeURIComponent(path.split('/')[1] ?? '');

export async function startS3(opts: S3Options): Promise<S3Instance> {
  const region = opts.region ?? 'us-east-1';
  const directory = scratchDir('conn-check-s3rver-');
  const backend = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: Object.keys(opts.buckets).map((name) => ({ name })) });
  const addr = (await backend.run()) as { port: number };
  const backendPort = addr.port;
  // the objects, straight into s3rver (anonymous: s3rver takes it)
  for (const [bucket, objects] of Object.entries(opts.buckets)) {
    for (const [key, content] of Object.entries(objects)) {
      await new Promise<void>((resolve, reject) => {
        const r = httpRequest({ host: '127.0.0.1', port: backendPort, method: 'PUT', path: `/${bucket}/${encodeURIComponent(key)}`, headers: { 'Content-Length': Buffer.byteLength(content) } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`s3rver PUT ${res.statusCode}`))));
        });
        r.on('error', reject);
        r.end(content);
      });
    }
  }
  const store = (backend as unknown as { store: { getBucket(b: string): Promise<unknown>; listObjects(b: string, o: object): Promise<{ objects: { key: string; size: number; metadata: Record<string, string>; lastModifiedDate?: Date }[]; commonPrefixes: string[]; isTruncated: boolean }> } }).store;

  let requests = 0;
  const instance = {
    clockOffsetMs: 0,
  };

  async function listV2(res: ServerResponse, bucket: string, query: URLSearchParams): Promise<void> {
    const maxKeys = Math.min(1000, Number(query.get('max-keys') ?? 1000));
    const token = query.get('continuation-token');
    const startAfter = token ? Buffer.from(token, 'base64').toString('utf8') : (query.get('start-after') ?? undefined);
    const prefix = query.get('prefix') ?? undefined;
    const result = maxKeys === 0 ? { objects: [], commonPrefixes: [], isTruncated: false } : await store.listObjects(bucket, { maxKeys, startAfter, prefix, delimiter: query.get('delimiter') ?? undefined });
    const last = result.objects.at(-1)?.key;
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix ?? '')}</Prefix><KeyCount>${result.objects.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${result.isTruncated}</IsTruncated>` +
      (result.isTruncated && last ? `<NextContinuationToken>${Buffer.from(last).toString('base64')}</NextContinuationToken>` : '') +
      result.objects.map((o) => `<Contents><Key>${xmlEscape(o.key)}</Key><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`).join('') +
      '</ListBucketResult>';
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const headers = { ...req.headers };
    delete headers.authorization;
    const out = httpRequest({ host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    out.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const now = new Date(Date.now() + instance.clockOffsetMs);
    const url = new URL(req.url ?? '/', 'http://s3.test');
    const auth = req.headers.authorization;
    if (!auth) {
      const bucket = bucketOf(url.pathname);
      if (req.method === 'GET' && bucket && opts.publicBuckets?.includes(bucket)) return serve(req, res, url, bucket, body);
      return s3Error(res, 403, 'AccessDenied', 'Access Denied', {}, now);
    }
    const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return s3Error(res, 400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.', {}, now);
    const [, keyId, day, scopeRegion, signed, signature] = m as unknown as [string, string, string, string, string, string];
    const user = opts.users.find((u) => u.accessKeyId === keyId);
    if (!user) return s3Error(res, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: keyId }, now);
    if (scopeRegion !== region) {
      return s3Error(res, 400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${scopeRegion}' is wrong; expecting '${region}'`, { Region: region }, now);
    }
    const date = String(req.headers['x-amz-date'] ?? '');
    const t = amzDate(date);
    if (Number.isNaN(t) || date.slice(0, 8) !== day) return s3Error(res, 403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header', {}, now);
    if (Math.abs(t - now.getTime()) > 15 * 60_000) {
      return s3Error(res, 403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', { RequestTime: date, ServerTime: now.toISOString(), MaxAllowedSkewMilliseconds: '900000' }, now);
    }
    if ((user.sessionToken ?? undefined) !== (req.headers['x-amz-security-token'] ?? undefined)) {
      return s3Error(res, 400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.', {}, now);
    }
    const signedHeaders = signed.split(';');
    const payload = String(req.headers['x-amz-content-sha256'] ?? '');
    if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date') || !payload) {
      return s3Error(res, 400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; host and x-amz-date must be signed.', {}, now);
    }
    if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256(body)) {
      return s3Error(res, 400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {}, now);
    }
    const expected = sigV4({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers }, signedHeaders, `${day}/${scopeRegion}/s3/aws4_request`, date, user.secretAccessKey, payload);
    if (expected !== signature) {
      return s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', { AWSAccessKeyId: keyId }, now);
    }
    const bucket = bucketOf(url.pathname);
    if (bucket && user.buckets !== '*' && !user.buckets.includes(bucket)) return s3Error(res, 403, 'AccessDenied', 'Access Denied', {}, now);
    return serve(req, res, url, bucket, body);
  }

  /** An authorised request: ListObjectsV2 answered here, the rest by s3rver. */
  async function serve(req: IncomingMessage, res: ServerResponse, url: URL, bucket: string, body: Buffer): Promise<void> {
    if (bucket && req.method === 'GET' && url.searchParams.get('list-type') === '2' && url.pathname.split('/').filter(Boolean).length === 1 && (await store.getBucket(bucket))) {
      return listV2(res, bucket, url.searchParams);
    }
    forward(req, res, body);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  const server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createHttpServer(onRequest);
  const tracked = trackSockets(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;
  return Object.assign(instance, {
    endpoint: `${opts.tls ? 'https' : 'http'}://${opts.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    port,
    region,
    get requests() {
      return requests;
    },
    async close() {
      for (const s of tracked.sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close().catch(() => {});
      rmSync(directory, { recursive: true, force: true });
    },
  });
}

/** A request signed with SigV4 by the test's own signer (for making buckets in a real MinIO). */
export function signRequest(method: string, url: URL, region: string, keyId: string, secretKey: string, body = ''): Record<string, string> {
  const date = toAmzDate(new Date());
  const payload = sha256(body);
  const headers: Record<string, string> = { host: url.host, 'x-amz-date': date, 'x-amz-content-sha256': payload };
  const signedHeaders = Object.keys(headers).sort();
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`;
  const signature = sigV4({ method, path: url.pathname, query: url.searchParams, headers }, signedHeaders, scope, date, secretKey, payload);
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${keyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}` };
}
