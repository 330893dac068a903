/**
 * grpc (new, not in conn-check): TCP pre-check, TLS (`tls: true`, ALPN h2) on that connection,
 * then an HTTP/2 connection that must become ready (the server's SETTINGS frame), then the gRPC
 * Health Checking Protocol (`grpc.health.v1.Health/Check`). With `service`, the answer must be
 * SERVING; without it, a ready connection passes and the server's health answer for "" (the
 * whole server) is noted when it has one.
 *
 * @grpc/grpc-js opens its own connections: it connects to the kit's loopback relay whose
 * far side is the connection this check opened (the project's dial, TLS and certificate checks,
 * the read budget), and speaks plain HTTP/2 to it. The two tiny health messages are encoded by
 * hand here (field 1: a string; field 1: an enum): no .proto file, no protobufjs.
 */
import * as z from '../core/z.js';
import type * as Grpc from '@grpc/grpc-js';
import { bareHost, hostPort } from '../net/dial.js';
import { describeError, isTlsError } from '../net/errors.js';
import { withService, type ServiceSpec } from './kit/index.js';
import { headerFrames, type FrameInspector } from '../net/bounded.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { bool, host, port, text, tlsOptionsShape } from '../core/options.js';
import { defined, parseGeneric, requireHost, UrlError } from './url.js';
import { printable } from '../net/printable.js';

/** The largest gRPC message the client accepts: a health answer is 2 bytes. */
const MAX_MESSAGE = 4096;
const HEALTH_CHECK = '/grpc.health.v1.Health/Check';

const options = z
  .object({
    host: host(),
    port: z.optional(port()),
    tls: z._default(bool(), false),
    /** The service whose health is asked (grpc.health.v1.HealthCheckRequest.service). */
    service: z.optional(text('a service name, such as my.package.MyService')),
    ...tlsOptionsShape(),
  })
  .check(z.refine((o) => o.port !== undefined || o.tls, { message: 'expected a port (gRPC has no standard port; 50051 is common), got nothing', path: ['port'] }));
type Options = z.output<typeof options>;

const portOf = (o: Options) => o.port ?? 443;

// ---- the health messages (grpc/health/v1/health.proto), by hand ----------------------------

/** A protobuf varint. */
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** HealthCheckRequest { string service = 1; } (an empty string is the default: no field). */
export function encodeRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  return name.length ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
}

/** The serving statuses of HealthCheckResponse.ServingStatus. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/**
 * HealthCheckResponse { ServingStatus status = 1; }: the status number (0 when absent, as proto3
 * says). Other fields are skipped; a message that cannot be read throws.
 */
export function decodeResponse(data: Buffer): number {
  let status = 0;
  let i = 0;
  const readVarint = (): number => {
    let n = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (i >= data.length) throw new Error('truncated varint');
      const b = data[i++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return n;
    }
    // (a 64-bit varint: only its low bits matter for an enum; skip the rest)
    while (i < data.length && data[i]! & 0x80) i++;
    if (i++ >= data.length) throw new Error('truncated varint');
    return n;
  };
  while (i < data.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const v = readVarint();
      if (field === 1) status = v;
    } else if (wire === 2) {
      const len = readVarint();
      if (i + len > data.length) throw new Error('truncated field');
      i += len;
    } else if (wire === 1 || wire === 5) {
      i += wire === 1 ? 8 : 4;
      if (i > data.length) throw new Error('truncated field');
    } else {
      throw new Error(`wire type ${wire}`);
    }
  }
  return status;
}

const statusName = (n: number) => SERVING_STATUS[n] ?? `status ${n}`;

// ---- what the server sent first ------------------------------------------------------------

/** The largest HTTP/2 frame payload the client allows (SETTINGS_MAX_FRAME_SIZE: grpc-js keeps the default). */
const MAX_FRAME = 16384;
/**
 * The most settings one SETTINGS frame may carry: nghttp2's default max_settings, which Node 24's
 * nghttp2 (1.70) enforces and Node 20's (1.61) did not; checked here, so both say the same.
 */
const MAX_SETTINGS = 32;

/**
 * Reads the HTTP/2 frame headers the server sends on a connection. An HTTP/2 server's first frame
 * is SETTINGS (type 4, stream 0): anything else stops the connection with a reason that says what
 * the port speaks instead (HTTP/1, TLS, or the bytes as they came). A frame longer than the
 * client allows stops it too (Node's HTTP/2 would drop the connection without saying why).
 */
function http2Frames(o: Options): FrameInspector {
  let head = Buffer.alloc(0); // the first bytes (24 shown, and whether more came)
  let first = true;
  const frames = headerFrames(9, (header) => {
    const len = header.readUIntBE(0, 3);
    if (len > MAX_FRAME) return `the server sent an HTTP/2 frame of ${len} bytes (more than the ${MAX_FRAME} the client allows)`;
    if (header[3] === 0x04 && len / 6 > MAX_SETTINGS) return `the server sent a SETTINGS frame of ${Math.floor(len / 6)} settings (more than the ${MAX_SETTINGS} the client accepts)`;
    return len;
  });
  return (chunk) => {
    if (first) {
      head = Buffer.concat([head, chunk.subarray(0, 25 - head.length)]);
      if (!couldBeSettings(head.subarray(0, 9))) return notHttp2(head, o);
      if (head.length >= 9) first = false;
    }
    return frames(chunk);
  };
}

/** Whether these first bytes can still be the start of a SETTINGS frame header. */
function couldBeSettings(h: Buffer): boolean {
  // length: 3 bytes, a multiple of 6 (one setting is 6 bytes), within the frame size limit
  // (more than MAX_SETTINGS of them is still SETTINGS: the frame rules then say so)
  if (h.length >= 3 && (h.readUIntBE(0, 3) % 6 !== 0 || h.readUIntBE(0, 3) > MAX_FRAME)) return false;
  if (h.length >= 4 && h[3] !== 0x04) return false;
  // flags: 0 (the ACK flag is only for an answer); stream id 0
  if (h.length >= 5 && h[4] !== 0) return false;
  for (let i = 5; i < Math.min(h.length, 9); i++) if (h[i] !== 0) return false;
  return h[0] === 0;
}

function notHttp2(head: Buffer, o: Options): string {
  const text = head.toString('latin1');
  if (/^HTTP\/1/.test(text)) return 'the server answered with HTTP/1.x, not HTTP/2: not a gRPC server (or a proxy without HTTP/2)';
  if (head[0] === 0x15 && head[1] === 0x03) return `the server answered with a TLS alert${o.tls ? '' : ' (is this a TLS port? set tls: true)'}`;
  if (head[0] === 0x16 && head[1] === 0x03) return 'the server answered with TLS (is this a TLS port? set tls: true)';
  return `the server did not answer with HTTP/2 (it sent ${printable(head, 24)})`;
}

// ---- the check -----------------------------------------------------------------------------

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () =>
  import('@grpc/grpc-js').then((m) => {
    // grpc-js logs to stderr on its own (GRPC_VERBOSITY, GRPC_TRACE): nothing may go there but
    // through the output gate; what matters is in the check's result.
    m.setLogVerbosity(m.logVerbosity.NONE);
    return m;
  });

/** The gRPC status codes by number, for messages. */
const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];
const codeName = (n: number) => CODE_NAMES[n] ?? `code ${n}`;

interface CallOutcome {
  status?: number;
  error?: Grpc.ServiceError;
}

export const grpc = defineCheck({
  load: driver,
  type: 'grpc',
  summary: 'a gRPC server accepts an HTTP/2 connection and, with service, its health service answers SERVING',
  url: { schemes: ['grpc', 'grpcs'], options: fromUrl },
  options,
  name: (o) => `grpc:${hostPort(o.host, portOf(o))}`,
  usesTls: (o) => o.tls,
  target: (o) => hostPort(o.host, portOf(o)),
  egress: (o) => [{ protocol: 'tcp', host: bareHost(o.host), port: portOf(o) }],
  insecure: (o) => o.tls && o.disable_tls_verification,
  async run(o, ctx) {
    const deadline = Date.now() + ctx.timeoutMs;
    const p = portOf(o);
    const spec: ServiceSpec = {
      host: o.host,
      port: p,
      tls: o.tls && o,
      // gRPC over TLS is HTTP/2 chosen by ALPN (servers refuse a connection that did not ask for it)
      alpn: ['h2'],
      checkTls: (secured) => {
        const alpn = secured.alpnProtocol;
        if (alpn && alpn !== 'h2') throw new CheckError('tls', `the server chose ${printable(Buffer.from(alpn), 40)} over TLS, not HTTP/2 (h2): not a gRPC server`);
      },
    };
    const g = await driver();
    await withService(ctx, spec, async (kit) => {
      // What the server did on the relay's connections, for the failure message. (A TLS 1.3
      // server refuses a client certificate after the client's handshake is done: the kit's own
      // connection is watched from the first moment of the exchange.)
      let received = 0;
      let streamError: unknown;
      const watch = (s: { once(event: 'error', fn: (err: unknown) => void): unknown }) => void s.once('error', (err) => (streamError ??= err));
      watch(kit.stream);
      const relay = await kit.relay({
        maxConnections: 2,
        reuse: true,
        opened: watch,
        frames: () => {
          const inspect = http2Frames(o);
          return (chunk) => {
            received += chunk.length;
            return inspect(chunk);
          };
        },
      });

      const client = new g.Client(`ipv4:127.0.0.1:${relay.port}`, g.credentials.createInsecure(), {
        // the server sees the name it was asked by (virtual hosts, proxies that route on it)
        'grpc.default_authority': hostPort(o.server_name ?? o.host, p),
        'grpc.primary_user_agent': 'conn-check',
        'grpc.max_receive_message_length': MAX_MESSAGE,
        'grpc.max_send_message_length': MAX_MESSAGE,
        'grpc.max_metadata_size': 16 * 1024,
        'grpc.enable_retries': 0,
        'grpc.enable_http_proxy': 0,
        'grpc.enable_channelz': 0,
        'grpc.use_local_subchannel_pool': 1,
        'grpc.service_config_disable_resolution': 1,
        'grpc.initial_reconnect_backoff_ms': ctx.timeoutMs + 1000,
        'grpc.max_reconnect_backoff_ms': ctx.timeoutMs + 1000,
      });
      let call: Grpc.ClientUnaryCall | undefined;
      kit.onClose(() => {
        call?.cancel();
        client.close();
      });
      /** Why the connection failed (grpc-js only says that it did), for the step that was running. */
      const connectionFailure = (step: 'protocol' | 'query'): CheckError => {
        if (relay.failure instanceof CheckError) return relay.failure;
        if (relay.failure !== undefined) return new CheckError(step, describeError(relay.failure));
        if (streamError !== undefined) return new CheckError(isTlsError(streamError) ? 'tls' : step, describeError(streamError));
        if (received === 0) return new CheckError(step, `the server closed the connection before the HTTP/2 handshake${o.tls ? '' : ' (is this a TLS port? set tls: true)'}`);
        return new CheckError(step, 'the HTTP/2 connection failed (the server sent something the client could not read, or closed it)');
      };
      await ctx.step('protocol', async () => {
        const channel = client.getChannel();
        await new Promise<void>((resolve, reject) => {
          const watch = () => {
            if (ctx.signal.aborted) return reject(ctx.signal.reason);
            const state = channel.getConnectivityState(true);
            if (state === g.connectivityState.READY) return resolve();
            if (state === g.connectivityState.TRANSIENT_FAILURE || state === g.connectivityState.SHUTDOWN) return reject(connectionFailure('protocol'));
            // (the check's signal ends the wait at its deadline; grpc-js' own is a backstop)
            channel.watchConnectivityState(state, deadline + 1000, (err) => (err ? reject(new CheckError('protocol', 'timed out')) : watch()));
          };
          watch();
        });
        ctx.note('HTTP/2 connection ready');
      });

      const service = o.service ?? '';
      const outcome = await ctx.step('query', () =>
        new Promise<CallOutcome>((resolve) => {
          call = client.makeUnaryRequest<Buffer, number>(
            HEALTH_CHECK,
            (b) => b,
            decodeResponse,
            encodeRequest(service),
            new g.Metadata(),
            // (the check's own deadline ends the call: grpc-js' is a backstop, a little later)
            { deadline: deadline + 500 },
            (err, status) => resolve(err ? { error: err } : { status: status! }),
          );
        }),
      );
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const label = o.service !== undefined ? `service "${o.service}"` : 'the whole server (service "")';
      if (outcome.status !== undefined) {
        const s = statusName(outcome.status);
        ctx.note(`health of ${label}: ${s}`);
        if (o.service !== undefined && outcome.status !== 1) {
          const why = outcome.status === 3 ? ' (the server does not know this service)' : outcome.status === 2 ? '' : ' (not SERVING)';
          throw new CheckError('query', `${label} is ${s}${why}`);
        }
        return;
      }
      const failure = callFailure(outcome.error!, o, label, ctx, connectionFailure);
      if (failure) throw failure;
    });
  },
});

/** What a failed Health/Check call means; without `service`, a gRPC answer is only noted. */
function callFailure(err: Grpc.ServiceError, o: Options, label: string, ctx: { note(d: string): void }, connectionFailure: (step: 'query') => CheckError): CheckError | undefined {
  const code = typeof err.code === 'number' ? err.code : 2;
  // (grpc-js adds ",remote_addr=..." to its own messages: the relay's loopback address)
  const raw = typeof err.details === 'string' ? err.details.replace(/,remote_addr=\S*$/, '') : '';
  const details = printable(Buffer.from(raw, 'utf8'), 120);
  const http = /^Received HTTP status code (\d+)$/.exec(raw);
  if (http) return new CheckError('protocol', `the server answered with HTTP status ${http[1]}, not gRPC (is this a gRPC port?)`);
  if (code === 14 && /^(Connection dropped|No connection established)/.test(raw)) return connectionFailure('query');
  if (code === 8 && /^Received message larger than max/.test(raw)) return new CheckError('query', `the server sent a health answer larger than ${MAX_MESSAGE} bytes`);
  if (code === 13 && /^Response message parsing error/.test(raw)) return new CheckError('query', 'the server sent a health answer that is not a HealthCheckResponse');
  if (code === 12) {
    const message = 'the server has no health service (grpc.health.v1.Health/Check: UNIMPLEMENTED, 12)';
    if (o.service === undefined) return noted(ctx, message);
    return new CheckError('query', message);
  }
  if (code === 5) {
    const message = `the health service does not know ${label} (NOT_FOUND, 5)`;
    if (o.service === undefined) return noted(ctx, message);
    return new CheckError('query', message);
  }
  if (code === 4 && /^Deadline exceeded/.test(raw)) return new CheckError('query', 'timed out');
  if (code === 4 || code === 1 || code === 14 || code === 13) return new CheckError('query', `health check failed: ${codeName(code)} (${code})${details ? `: ${details}` : ''}`);
  const message = `the health check of ${label} failed: ${codeName(code)} (${code})${details ? `: ${details}` : ''}`;
  if (o.service === undefined) return noted(ctx, message);
  return new CheckError('query', message);
}

/** Without `service`, a gRPC answer other than OK is a note: the connection was what was asked. */
function noted(ctx: { note(d: string): void }, message: string): undefined {
  ctx.note(message);
  return undefined;
}

/** `grpc://host:port` (plain), `grpcs://host[:port]` (TLS, port 443), `?service=NAME`. */
function fromUrl(raw: string, scheme: string): Record<string, unknown> {
  const u = parseGeneric(raw);
  if (u.username !== undefined || u.password !== undefined) throw new UrlError('has a user name or password (a grpc check takes none)');
  if (u.path.length) throw new UrlError('has a path (write the service as ?service=NAME)');
  for (const k of u.params.keys()) if (k !== 'service') throw new UrlError(`has the query parameter ${JSON.stringify(k.slice(0, 20))} (only service=NAME is read)`);
  const tls = scheme === 'grpcs';
  if (!tls && u.port === undefined) throw new UrlError('has no port (grpc://HOST:PORT; gRPC has no standard port)');
  return defined({ host: requireHost(u), port: u.port ?? (tls ? 443 : undefined), tls, service: u.params.get('service') || undefined });
}
