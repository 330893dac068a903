/**
 * s3: TCP pre-check, TLS for an https endpoint, then one request signed with AWS Signature
 * Version 4 (the `aws4` package): ListObjectsV2 with max-keys=1 on `bucket` (and `prefix`), or,
 * without a bucket, ListBuckets (the credentials alone); without keys the request is anonymous
 * (a public bucket). It passes when the server lists. S3's error
 * answers are told apart by their <Code>: a wrong secret, an unknown key, a bad session token,
 * a clock too far off (the skew is said), a wrong region (the right one is said) fail at `auth`;
 * no such bucket, access denied and the other refusals at `query`; an answer that is not S3's
 * at `protocol`. The request goes over the connection the TCP step opened (the http check's
 * direct client: node:http, no agent, no proxy), and the answer is read within a bound
 * (ANSWER_LIMIT, and the type's read budget).
 */
import * as z from '../core/z.js';
import { bareHost, hostPort } from '../net/dial.js';
import { withDirect } from './http/direct.js';
import type { Answer } from './http/send.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { bool, host, port, secret, show, text, tlsOptionsShape, url } from '../core/options.js';
import { UrlError, parseGeneric } from './url.js';

/** What is read of an answer's body: a listing of one key, or an error, is well under 2 KiB. */
const ANSWER_LIMIT = 64 * 1024;
/** The most S3 allows between a request's x-amz-date and its own clock. */
const MAX_SKEW_MIN = 15;

/** Bucket names S3 accepts today (3-63 of a-z 0-9 . -), and the older ones some servers keep (upper case, _). */
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
/** A name that can be the first label(s) of a host name (virtual-hosted style). */
const DNS_BUCKET = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
/** AWS's S3 endpoints, whose host names say the region: s3.eu-west-1.amazonaws.com, s3-eu-west-1..., s3.dualstack.REGION... */
const AWS_HOST = /^(?:.+\.)?s3[.-](?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/;

const options = z
  .object({
    endpoint: z.optional(url()),
    host: z.optional(host()),
    port: z.optional(port()),
    tls: z._default(bool(), false),
    bucket: z.optional(text('a bucket name').check(z.refine((b) => BUCKET.test(b), { message: 'expected a bucket name (letters, digits, ".", "-", "_")' }))),
    prefix: z.optional(text('a key prefix')),
    access_key_id: z.optional(text('an access key id')),
    secret_access_key: z.optional(secret(text('a secret access key'))),
    session_token: z.optional(secret(text('a session token'))),
    region: z.optional(text('a region such as us-east-1').check(z.refine((r) => /^[a-z0-9-]+$/.test(r), { message: 'expected a region such as us-east-1' }))),
    path_style: z.optional(bool()),
    ...tlsOptionsShape(),
  })
  .check(z.refine((o) => o.access_key_id === undefined || o.secret_access_key !== undefined, { message: 'expected a secret_access_key with access_key_id (without both, the request is anonymous), got nothing', path: ['secret_access_key'] }))
  .check(z.refine((o) => o.secret_access_key === undefined || o.access_key_id !== undefined, { message: 'expected an access_key_id with secret_access_key (without both, the request is anonymous), got nothing', path: ['access_key_id'] }))
  .check(z.refine((o) => o.session_token === undefined || o.access_key_id !== undefined, { message: 'session_token goes with access_key_id and secret_access_key', path: ['session_token'] }))
  .check(z.refine((o) => o.prefix === undefined || o.bucket !== undefined, { message: 'prefix needs a bucket', path: ['prefix'] }))
  .check(z.refine((o) => o.endpoint === undefined || o.host === undefined, { message: 'expected endpoint or host, got both', path: ['host'] }))
  .check(z.refine((o) => (o.port === undefined && !o.tls) || o.host !== undefined, { message: 'port and tls go with host (an endpoint URL says both)', path: ['port'] }))
  // (the check's URL is made from host: one that no URL can hold, `%$qy`, is an error here, not a crash later)
  .check(
    z.refine((o) => o.host === undefined || URL.canParse(`http://${hostPort(o.host, o.port ?? 80)}/`), {
      error: (i) => `expected a host name or address, got ${show((i.input as { host?: unknown }).host)}`,
      path: ['host'],
    }),
  )
  .check(
    z.refine(
      (o) => {
        // (an endpoint that is not a URL at all is the endpoint option's own error)
        if (o.endpoint === undefined || !URL.canParse(o.endpoint)) return true;
        const u = new URL(o.endpoint);
        return !u.username && !u.password && (u.pathname === '/' || u.pathname === '') && !u.search && !u.hash;
      },
      { message: 'expected an endpoint such as https://HOST[:PORT], without a path, query or user name (the bucket goes in bucket)', path: ['endpoint'] },
    ),
  )
  .check(
    z.refine((o) => !(o.path_style === false && o.bucket !== undefined && !DNS_BUCKET.test(o.bucket)), {
      message: 'a bucket name with upper case, "_" or misplaced dots cannot be a host name: set path_style: true',
      path: ['path_style'],
    }),
  );
type Options = z.output<typeof options>;

interface Plan {
  /** The URL of the one request (virtual-hosted: the bucket is in its host). */
  url: URL;
  /** Where the TCP connection goes (the URL's host and port). */
  host: string;
  port: number;
  https: boolean;
  region: string;
  /** Whether the region came from the `region` option (else: the AWS host name, or the default). */
  regionGiven: boolean;
  pathStyle: boolean;
}

function plan(o: Options): Plan {
  const custom = o.endpoint !== undefined || o.host !== undefined;
  let base: URL;
  if (o.endpoint !== undefined) base = new URL(o.endpoint);
  else if (o.host !== undefined) {
    const scheme = o.tls ? 'https' : 'http';
    base = new URL(`${scheme}://${hostPort(o.host, o.port ?? (o.tls ? 443 : 80))}/`);
  } else base = new URL(`https://s3.${o.region ?? 'us-east-1'}.amazonaws.com/`);
  const fromHost = AWS_HOST.exec(bareHost(base.hostname).toLowerCase())?.[1];
  const region = o.region ?? fromHost ?? 'us-east-1';
  // Path style for endpoints of your own (MinIO, LocalStack, Ceph: one host name), and for bucket
  // names that cannot be a host name (dots break the wildcard certificate of *.s3.amazonaws.com).
  const pathStyle = o.path_style ?? (custom || o.bucket === undefined || !DNS_BUCKET.test(o.bucket) || o.bucket.includes('.'));
  const url = new URL(base.href);
  if (o.bucket === undefined) url.pathname = '/';
  else if (pathStyle) url.pathname = `/${encodeURIComponent(o.bucket)}`;
  else url.hostname = `${o.bucket}.${url.hostname}`;
  if (o.bucket !== undefined) url.search = `?list-type=2&max-keys=1${o.prefix !== undefined ? `&prefix=${encodeURIComponent(o.prefix)}` : ''}`;
  const https = url.protocol === 'https:';
  return { url, host: bareHost(url.hostname), port: Number(url.port) || (https ? 443 : 80), https, region, regionGiven: o.region !== undefined, pathStyle };
}

/** The driver (the signer), loaded only when a check of this type runs. */
const driver = () => import('aws4').then((m) => (m as unknown as { default?: typeof import('aws4') }).default ?? m);

/** The signed headers of the request; `signature` is kept to scrub it from anything a server echoes. */
async function signedHeaders(o: Options, p: Plan): Promise<{ headers: Record<string, string>; signature: string }> {
  // without keys: an anonymous request (a public bucket lists to anyone)
  if (o.access_key_id === undefined || o.secret_access_key === undefined) return { headers: { Host: p.url.host, 'User-Agent': 'conn-check' }, signature: '' };
  const aws4 = await driver();
  const request = {
    host: p.url.hostname,
    path: `${p.url.pathname}${p.url.search}`,
    method: 'GET',
    service: 's3',
    region: p.region,
    headers: { Host: p.url.host, 'User-Agent': 'conn-check' } as Record<string, string>,
  };
  aws4.sign(request, { accessKeyId: o.access_key_id, secretAccessKey: o.secret_access_key, sessionToken: o.session_token });
  const headers = request.headers;
  const signature = /Signature=([0-9a-f]+)/.exec(headers.Authorization ?? '')?.[1] ?? '';
  return { headers, signature };
}

/** `&lt;` and the other four entities (S3's messages use &apos; and &quot;). */
function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}

/** One element's text (the first), cut: S3's error documents are flat and small. */
function element(xml: string, name: string, max = 300): string | undefined {
  const m = new RegExp(`<${name}>([^<]{0,${max}})`).exec(xml);
  return m ? unescapeXml(m[1]!).trim() : undefined;
}

function header(a: Answer, name: string): string | undefined {
  const v = a.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `20 min 3 s`, `45 s`, `2 h 5 min`. */
export function formatSkew(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** Why the server refused, at the step it belongs to. */
function refusal(o: Options, p: Plan, a: Answer, xml: string, receivedAt: number): CheckError {
  const code = element(xml, 'Code', 100);
  const message = element(xml, 'Message');
  const key = o.access_key_id !== undefined ? `access key "${o.access_key_id}"` : 'an anonymous request';
  const what = o.bucket !== undefined ? `bucket "${o.bucket}"${o.prefix !== undefined ? ` (prefix "${o.prefix}")` : ''}` : 'the buckets';
  // the bucket's (or server's) region: S3's header, its <Region>, or its message "...the region 'x' is wrong; expecting 'y'"
  const bucketRegion = header(a, 'x-amz-bucket-region') ?? element(xml, 'Region', 60) ?? /expecting '([a-z0-9-]{2,40})'/.exec(message ?? '')?.[1];
  const wrongRegion = (c: string) =>
    new CheckError(
      'auth',
      bucketRegion && bucketRegion !== p.region
        ? `wrong region: ${o.bucket !== undefined ? 'the bucket is' : 'the server is'} in ${bucketRegion}, not ${p.region} (set region: ${bucketRegion}) (${c})`
        : `wrong region: the server does not take requests for ${p.region} here${message ? `: ${message}` : ''} (${c})`,
    );
  switch (code) {
    case 'SignatureDoesNotMatch':
      return new CheckError('auth', `the signature does not match: wrong secret_access_key for ${key} (SignatureDoesNotMatch)`);
    case 'InvalidAccessKeyId':
      return new CheckError('auth', `unknown ${key}: the server has no such access_key_id (InvalidAccessKeyId)`);
    case 'InvalidToken':
    case 'InvalidSecurity':
      return new CheckError('auth', `the server refused the session_token for ${key} (${code})`);
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return new CheckError('auth', `the session_token has expired (${code})`);
    case 'RequestTimeTooSkewed':
    case 'RequestExpired': {
      const date = Date.parse(header(a, 'date') ?? '');
      const serverTime = Date.parse(element(xml, 'ServerTime', 40) ?? '');
      const server = Number.isNaN(date) ? serverTime : date;
      if (Number.isNaN(server)) return new CheckError('auth', `this machine's clock differs from the server's by more than ${MAX_SKEW_MIN} minutes (${code})`);
      const skew = server - receivedAt;
      return new CheckError('auth', `this machine's clock is ${formatSkew(skew)} ${skew > 0 ? 'behind' : 'ahead of'} the server's (S3 allows ${MAX_SKEW_MIN} min) (${code})`);
    }
    case 'AuthorizationHeaderMalformed':
      if (bucketRegion || /region/i.test(message ?? '')) return wrongRegion(code);
      return new CheckError('auth', `the server refused the Authorization header${message ? `: ${message}` : ''} (${code})`);
    case 'PermanentRedirect':
    case 'TemporaryRedirect':
    case 'InvalidRegion':
    case 'IllegalLocationConstraintException':
      return wrongRegion(code);
    case 'NoSuchBucket':
      return new CheckError('query', `no such bucket "${o.bucket ?? ''}" (NoSuchBucket)`);
    case 'AccessDenied':
      return new CheckError('query', `access denied: ${key} may not list ${what}${o.access_key_id === undefined ? ' (set access_key_id and secret_access_key)' : ''} (AccessDenied)`);
    case 'AllAccessDisabled':
      return new CheckError('query', `all access to ${what} is disabled (AllAccessDisabled)`);
    case 'InvalidBucketName':
      return new CheckError('query', `the server refused the bucket name "${o.bucket ?? ''}" (InvalidBucketName)`);
    case undefined:
      break;
    default:
      return new CheckError('query', `the server refused the listing (${a.statusCode})${message ? `: ${message}` : ''} (${code})`);
  }
  // No S3 error code: a redirect with the bucket's region (S3 answers HEAD and some GETs so), else not S3.
  if ((a.statusCode === 301 || a.statusCode === 307) && bucketRegion) return wrongRegion(String(a.statusCode));
  return new CheckError('protocol', `the server answered ${a.statusCode} without an S3 error code (is ${p.url.origin} an S3 endpoint?)`);
}

/**
 * A failure of the exchange itself (nothing, or not HTTP, came back), from the direct client's
 * words at its steps request and body: not HTTP is this check's protocol step, the rest its auth.
 */
function exchangeFailure(err: unknown, p: Plan): CheckError {
  if (!(err instanceof CheckError)) return new CheckError('auth', describeError(err));
  if (err.step !== 'request' && err.step !== 'body') return err;
  if (/HTTP/.test(err.message)) return new CheckError('protocol', err.message);
  if (/closed by peer|reset by peer/.test(err.message)) return new CheckError('auth', `the server closed the connection without answering${p.https ? '' : ' (is this an https:// endpoint?)'}`);
  return new CheckError('auth', err.message);
}

/** Removes the request's signature from server text (a hostile server may echo the Authorization header). */
function scrubbed(err: CheckError, signature: string): CheckError {
  if (!signature || !err.message.includes(signature)) return err;
  return new CheckError(err.step, err.message.split(signature).join('[signature]'));
}

/** `s3://bucket` (a path or query is refused: the check lists the whole bucket). */
function fromUrl(raw: string): Record<string, unknown> {
  const u = parseGeneric(raw);
  const prefix = u.path.length ? `${u.path.join('/')}${/\/$/.test(u.rawPath) ? '/' : ''}` : undefined;
  if (!u.host) throw new UrlError('has no bucket (s3://BUCKET)');
  if (u.username !== undefined || u.password !== undefined) throw new UrlError('has a user name: put the keys in access_key_id and secret_access_key');
  if (u.port !== undefined) throw new UrlError('has a port: s3://BUCKET names a bucket (the server goes in endpoint)');
  if ([...u.params.keys()].length) throw new UrlError('has a query: write s3://BUCKET[/PREFIX] (the other options go beside url:)');
  return prefix !== undefined ? { bucket: u.host, prefix } : { bucket: u.host };
}

export const s3 = defineCheck({
  load: driver,
  type: 's3',
  summary: 'an S3 (or MinIO, LocalStack, Ceph) bucket can be listed with these keys (SigV4)',
  url: { schemes: ['s3'], options: fromUrl },
  container: {
    // MinIO's root user (the image's default minioadmin/minioadmin when unset). (LocalStack listens
    // on 4566, and a type declares one container port: its checks are written by hand.)
    images: ['minio/minio', 'quay.io/minio/minio', 'bitnami/minio'],
    port: 9000,
    options: (env) => {
      const user = env.get('MINIO_ROOT_USER', env.get('MINIO_ACCESS_KEY', 'minioadmin'));
      const password = env.get('MINIO_ROOT_PASSWORD', env.get('MINIO_SECRET_KEY', 'minioadmin'));
      const buckets = env.get('MINIO_DEFAULT_BUCKETS');
      // bitnami/minio: MINIO_DEFAULT_BUCKETS=name[:policy],... (its first bucket, when it is a plain value)
      const first = buckets && !buckets.startsWith('${') ? buckets.split(',')[0]!.split(':')[0]!.trim() : undefined;
      return { access_key_id: user, secret_access_key: password, ...(first ? { bucket: first } : {}) };
    },
  },
  maxReadBytes: 256 * 1024,
  options,
  name: (o) => {
    const p = plan(o);
    return `s3:${hostPort(p.host, p.port)}${o.bucket !== undefined && p.pathStyle ? `/${o.bucket}` : ''}`;
  },
  target: (o) => {
    const p = plan(o);
    return `${p.url.origin}${p.url.pathname === '/' ? '' : p.url.pathname}`;
  },
  usesTls: (o) => plan(o).https,
  insecure: (o) => plan(o).https && o.disable_tls_verification,
  egress: (o) => [{ protocol: 'tcp', host: plan(o).host, port: plan(o).port }],
  async run(o, ctx) {
    const p = plan(o);
    // The kit's direct HTTP client (checks/http/direct.ts withDirect, on withService): for https
    // the TLS material first (step tls, before any connection), the tcp step, the handshake and
    // the certificate (steps tls and cert), then the request on that connection.
    return withDirect(p.url, { tls: o }, ctx, async (client) => {
      const { headers, signature } = await signedHeaders(o, p);
      // The signed request is the authentication: a server that never answers it times out here.
      const { answer, body, receivedAt } = await ctx.step('auth', async () => {
        try {
          const answer = await client.send({ url: p.url, method: 'GET', headers });
          const receivedAt = Date.now();
          const { data } = await answer.read(ANSWER_LIMIT);
          return { answer, body: data.toString('utf8'), receivedAt };
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw exchangeFailure(err, p);
        }
      });
      if (answer.statusCode === 200) {
        const listing = o.bucket !== undefined ? /<ListBucketResult[\s>]/.test(body) : /<ListAllMyBucketsResult[\s>]/.test(body);
        if (!listing) {
          throw new CheckError('protocol', `the server answered 200 without ${o.bucket !== undefined ? 'a bucket listing' : 'a list of buckets'} (is ${p.url.origin} an S3 endpoint?)`);
        }
        const as = o.access_key_id !== undefined ? `as ${o.access_key_id}` : 'anonymously';
        if (o.bucket !== undefined) {
          const count = Number(element(body, 'KeyCount', 12) ?? (body.includes('<Contents>') ? 1 : 0));
          const within = o.prefix !== undefined ? ` under "${o.prefix}"` : '';
          ctx.note(`listed bucket "${o.bucket}"${within} in ${p.region} ${as} (${count > 0 ? 'not empty' : 'empty'})`);
        } else {
          ctx.note(`listed the buckets in ${p.region} ${as}`);
        }
        return;
      }
      throw scrubbed(refusal(o, p, answer, body, receivedAt), signature);
    });
  },
});
