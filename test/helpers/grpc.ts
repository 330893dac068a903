/**
 * A real gRPC server for the grpc check's tests: @grpc/grpc-js with the grpc-health-check
 * package's implementation of grpc.health.v1.Health (as a Node service adds it), plain or TLS,
 * on a free loopback port; or with no service at all (a gRPC server without health checking).
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatusMap } from 'grpc-health-check';
import type { Pair } from './tls.js';

export interface GrpcServer {
  port: number;
  /** The health service (undefined: the server has none). */
  health?: HealthImplementation;
  stop(): Promise<void>;
}

/** Statuses of the health protocol, including SERVICE_UNKNOWN (the package's type omits it). */
export type Status = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/**
 * `statuses`: the health service's map ('' is the whole server); `noHealth`: no service at all;
 * `answer`: a Health/Check of its own that answers these raw bytes (a hostile or broken server);
 * `clientCa`: with `tls`, a client certificate from this CA is required (mutual TLS); `error`: a
 * Health/Check that fails with this gRPC status and message.
 */
export async function startGrpcServer(opts: { tls?: Pair; statuses?: Record<string, Status>; noHealth?: boolean; answer?: Buffer; clientCa?: string; error?: { code: number; details: string } } = {}): Promise<GrpcServer> {
  const server = new grpc.Server();
  let health: HealthImplementation | undefined;
  if (opts.answer || opts.error) {
    const raw = (b: Buffer) => b;
    const { answer, error } = opts;
    server.addService(
      { Check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
      { Check: (_call: unknown, done: (err: Partial<grpc.StatusObject> | null, value?: Buffer) => void) => (error ? done(error) : done(null, answer)) },
    );
  } else if (!opts.noHealth) {
    health = new HealthImplementation((opts.statuses ?? { '': 'SERVING' }) as ServingStatusMap);
    health.addToServer(server);
  }
  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(opts.clientCa ? Buffer.from(opts.clientCa) : null, [{ cert_chain: Buffer.from(opts.tls.cert), private_key: Buffer.from(opts.tls.key) }], opts.clientCa !== undefined)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    health,
    stop: async () => {
      server.forceShutdown();
    },
  };
}
