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

export async function startGrpcServer(opts: { tls?: Pair; statuses?: Record<string, Status>; noHealth?: boolean } = {}): Promise<GrpcServer> {
  const server = new grpc.Server();
  let health: HealthImplementation | undefined;
  if (!opts.noHealth) {
    health = new HealthImplementation((opts.statuses ?? { '': 'SERVING' }) as ServingStatusMap);
    health.addToServer(server);
  }
  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(opts.tls.cert), private_key: Buffer.from(opts.tls.key) }], false)
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
