/** The grpc check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST, CAPPED } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { startGrpcServer } from '../helpers/grpc.js';

export default defineTypeTest({
  examples: `
- type: grpc
  host: orders.internal
  port: 50051
  service: shop.orders.v1.Orders
- type: grpc
  url: grpcs://api.example.com?service=shop.api.v1.Api
`,
  driver: { module: '@grpc/grpc-js', marker: 'Received RST_STREAM with code', loadedOnFailure: true },
  // (no credential option: the check is in the secret-leak run because every type is)
  credentials: (t) => ({ host: t.host, port: t.port, service: 'conncheck.Health' }),
  async faults(k) {
    const { H, BAD, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, at, peer, drip, server, add } = k;
    // plain cells; TLS cells with tls: true (ALPN h2 offered to the generic TLS peers)
    const grpcTls = { tls: true, ...caFile };
    add('refused', { host: H, port: refusedPort }, fail('tcp', REFUSED));
    add('blackhole', at(blackHole), fail('protocol', TIMED_OUT));
    add('closer', at(closer), fail('protocol', /^the server closed the connection before the HTTP\/2 handshake \(is this a TLS port\? set tls: true\)$/));
    add('garbage', at(garbage), fail('protocol', /^the server did not answer with HTTP\/2 \(it sent \\x00\\xff/));
    add('banner', at(banner), fail('protocol', /^the server did not answer with HTTP\/2 \(it sent SSH-2\.0-/));
    add('drip', at(await drip(Buffer.from([0, 0, 0x1e, 4, 0, 0, 0, 0, 0]), Buffer.from([0]))), fail('protocol', TIMED_OUT, { how: 'a SETTINGS frame header announcing 5 settings (30 bytes), then zeros' }));
    add('tlsStall', { ...at(blackHole), ...grpcTls }, fail('tls', TIMED_OUT));
    add('expired', { host: 'localhost', port: tlsExpired.port, ...grpcTls }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: tlsWrongHost.port, ...grpcTls }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 50051 }, fail('resolve', NXDOMAIN));
    add('midway', at(await peer(hostile.startHttp2Peer(() => {}))), fail('query', TIMED_OUT, { how: 'SETTINGS, then silence once the request came' }));
    add('midwayTls', { host: 'localhost', port: tlsQuiet.port, ...grpcTls }, fail('protocol', TIMED_OUT));
    // hostile peers: the HTTP/2 ones act once the client's request came (so they meet the query)
    add('flood', at(await peer(hostile.startGrpcEndless())), fail('query', CAPPED, { how: 'SETTINGS, then frames of an unknown type forever once the request came' }));
    add('huge', at(await peer(hostile.startGrpcHugeFrame())), fail('query', /^the server sent an HTTP\/2 frame of 16777215 bytes \(more than the 16384 the client allows\)$/, { how: 'a frame header announcing 16 MiB, then zeros forever' }));
    const inject = await server(() => startGrpcServer({ error: { code: 7, details: hostile.INJECT_LINE } }), (s) => s.stop());
    if (inject) add('inject', { ...at(inject), service: 'x' }, fail('query', /^the health check of service "x" failed: PERMISSION_DENIED \(7\): /, { how: 'a gRPC error whose message carries CR and ::commands' }));
  },
});
