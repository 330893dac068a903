import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import { join } from 'node:path';
import { assertLeavesNothing, runOne, silentServerCases } from './helpers/check.js';
import { ACTION, CLI, cliTextAndJson, freePort, runAction, runCli } from './helpers/run.js';
import { tlsMaterial, type TlsMaterial } from './helpers/tls.js';
import { GARBAGE, startCloser, startGarbage, startPlainHttp, type TcpPeer } from './helpers/peers.js';
import { startGrpcServer, type GrpcServer } from './helpers/grpc.js';
import { resultAssertions } from './helpers/results.js';
import { INJECT_LINE, startGrpcEndless, startGrpcHugeFrame, startHttp2Peer } from './helpers/hostile.js';
import { decodeResponse, encodeRequest } from '../src/checks/grpc.js';

let server: GrpcServer; // plain, with the health service
let bare: GrpcServer; // plain, no service at all
let secure: GrpcServer; // TLS, certificate for localhost from the test CA
let mtls: GrpcServer; // TLS, requires a client certificate from the test CA
let expired: GrpcServer;
let wrongHost: GrpcServer;
let oversize: GrpcServer; // answers Health/Check with 64 KiB
let malformed: GrpcServer; // answers Health/Check with bytes that are no HealthCheckResponse
let tls: TlsMaterial;

before(async () => {
  tls = tlsMaterial();
  [server, bare, secure, mtls, expired, wrongHost, oversize, malformed] = await Promise.all([
    startGrpcServer({ statuses: { '': 'SERVING', 'conncheck.Up': 'SERVING', 'conncheck.Down': 'NOT_SERVING', 'conncheck.Unknown': 'SERVICE_UNKNOWN', 'conncheck.Starting': 'UNKNOWN' } }),
    startGrpcServer({ noHealth: true }),
    startGrpcServer({ tls: tls.valid, statuses: { '': 'NOT_SERVING', 'conncheck.Up': 'SERVING' } }),
    startGrpcServer({ tls: tls.valid, clientCa: tls.ca }),
    startGrpcServer({ tls: tls.expired }),
    startGrpcServer({ tls: tls.wrongHost }),
    startGrpcServer({ answer: Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x80, 0x80, 0x04]), Buffer.alloc(64 * 1024)]) }),
    startGrpcServer({ answer: Buffer.from([0x08]) }),
  ]);
});

after(async () => {
  await Promise.all([server, bare, secure, mtls, expired, wrongHost, oversize, malformed].map((s) => s?.stop()));
});

const { failed, passed } = resultAssertions();
const at = (s: { port: number }, extra: Record<string, unknown> = {}) => ({ type: 'grpc', host: '127.0.0.1', port: s.port, ...extra });
const CERT_LINE = /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/;

describe('the health messages, encoded by hand', () => {
  test('HealthCheckRequest: field 1, a string; the empty string is no field at all', () => {
    assert.deepEqual(encodeRequest(''), Buffer.alloc(0));
    assert.deepEqual(encodeRequest('a.B'), Buffer.from([0x0a, 0x03, 0x61, 0x2e, 0x42]));
    const long = 'x'.repeat(200);
    assert.deepEqual(encodeRequest(long).subarray(0, 3), Buffer.from([0x0a, 0xc8, 0x01]));
  });
  test('HealthCheckResponse: field 1, the enum; absent is UNKNOWN; other fields are skipped', () => {
    assert.equal(decodeResponse(Buffer.alloc(0)), 0);
    assert.equal(decodeResponse(Buffer.from([0x08, 0x01])), 1);
    assert.equal(decodeResponse(Buffer.from([0x12, 0x02, 0x61, 0x62, 0x08, 0x02, 0x1d, 1, 2, 3, 4])), 2);
    assert.throws(() => decodeResponse(Buffer.from([0x08])), /truncated/);
    assert.throws(() => decodeResponse(Buffer.from([0x12, 0x05, 0x61])), /truncated/);
    assert.throws(() => decodeResponse(Buffer.from([0x0b])), /wire type 3/);
  });
});

describe('grpc against a real gRPC server (@grpc/grpc-js with grpc-health-check)', () => {
  test('without service: the connection becomes ready, and the server\'s health answer is noted', async () => {
    const r = await runOne(at(server));
    passed(r);
    assert.equal(r.name, `grpc:127.0.0.1:${server.port}`);
    assert.deepEqual(r.details, ['connected to 127.0.0.1', 'HTTP/2 connection ready', 'health of the whole server (service ""): SERVING']);
  });

  test('a service that is SERVING passes', async () => {
    const r = await runOne(at(server, { service: 'conncheck.Up' }));
    passed(r);
    assert.deepEqual(r.details, ['connected to 127.0.0.1', 'HTTP/2 connection ready', 'health of service "conncheck.Up": SERVING']);
  });

  test('NOT_SERVING, SERVICE_UNKNOWN, UNKNOWN and a service the health service does not know (NOT_FOUND) fail at query, each saying which', async () => {
    failed(await runOne(at(server, { service: 'conncheck.Down' })), 'query', 'service "conncheck.Down" is NOT_SERVING');
    failed(await runOne(at(server, { service: 'conncheck.Unknown' })), 'query', 'service "conncheck.Unknown" is SERVICE_UNKNOWN (the server does not know this service)');
    failed(await runOne(at(server, { service: 'conncheck.Starting' })), 'query', 'service "conncheck.Starting" is UNKNOWN (not SERVING)');
    failed(await runOne(at(server, { service: 'conncheck.Missing' })), 'query', 'the health service does not know service "conncheck.Missing" (NOT_FOUND, 5)');
  });

  test('a status change on the server is what the next check sees', async () => {
    server.health!.setStatus('conncheck.Flip', 'NOT_SERVING');
    failed(await runOne(at(server, { service: 'conncheck.Flip' })), 'query', 'service "conncheck.Flip" is NOT_SERVING');
    server.health!.setStatus('conncheck.Flip', 'SERVING');
    passed(await runOne(at(server, { service: 'conncheck.Flip' })));
  });

  test('a server without the health service: with service, UNIMPLEMENTED fails at query; without, the ready connection passes and says so', async () => {
    failed(await runOne(at(bare, { service: 'conncheck.Up' })), 'query', 'the server has no health service (grpc.health.v1.Health/Check: UNIMPLEMENTED, 12)');
    const r = await runOne(at(bare));
    passed(r);
    assert.deepEqual(r.details, ['connected to 127.0.0.1', 'HTTP/2 connection ready', 'the server has no health service (grpc.health.v1.Health/Check: UNIMPLEMENTED, 12)']);
  });

  test('TLS with the test CA passes (the certificate noted); grpcs:// says the same; the answer for "" is only noted', async () => {
    const r = await runOne({ type: 'grpc', host: 'localhost', port: secure.port, tls: true, ca_file: tls.caFile });
    passed(r);
    assert.equal(r.name, `grpc:localhost:${secure.port}`);
    assert.match(r.details?.[1] ?? '', CERT_LINE);
    assert.deepEqual(r.details?.slice(2), ['HTTP/2 connection ready', 'health of the whole server (service ""): NOT_SERVING']);
    passed(await runOne({ url: `grpcs://localhost:${secure.port}?service=conncheck.Up`, ca_file: tls.caFile }));
    failed(await runOne({ url: `grpcs://localhost:${secure.port}?service=conncheck.Down`, ca_file: tls.caFile }), 'query', 'the health service does not know service "conncheck.Down" (NOT_FOUND, 5)');
  });

  test('TLS without the CA, with an expired certificate, or with one for another name fails at tls, as the other types say it', async () => {
    failed(await runOne({ type: 'grpc', host: 'localhost', port: secure.port, tls: true }), 'tls', /^certificate not trusted|^self-signed certificate in the chain/);
    failed(await runOne({ type: 'grpc', host: 'localhost', port: expired.port, tls: true, ca_file: tls.caFile }), 'tls', /^certificate has expired/);
    failed(await runOne({ type: 'grpc', host: 'localhost', port: wrongHost.port, tls: true, ca_file: tls.caFile }), 'tls', /^certificate does not match the host name/);
  });

  test('disable_tls_verification passes and is marked; min_cert_days fails at cert; server_name is the name checked', async () => {
    const r = await runOne({ type: 'grpc', host: 'localhost', port: wrongHost.port, tls: true, ca_file: tls.caFile, disable_tls_verification: true });
    passed(r);
    assert.equal(r.tls_verification, 'disabled');
    assert.match(r.details?.[1] ?? '', /verification disabled \(would fail: certificate does not match the host name localhost/);
    failed(await runOne({ type: 'grpc', host: 'localhost', port: secure.port, tls: true, ca_file: tls.caFile, min_cert_days: 60 }), 'cert', /^certificate expires in \d+ days \(minimum 60\)$/);
    failed(await runOne({ type: 'grpc', host: '127.0.0.1', port: secure.port, tls: true, ca_file: tls.caFile, server_name: 'wrong.example' }), 'tls', /^certificate does not match the host name: Host: wrong\.example\./);
  });

  test('mutual TLS: with the client certificate it passes; without, the server\'s refusal is a tls failure', async () => {
    passed(await runOne({ type: 'grpc', host: 'localhost', port: mtls.port, tls: true, ca_file: tls.caFile, client_cert: tls.client.certFile, client_key: tls.client.keyFile }));
    failed(await runOne({ type: 'grpc', host: 'localhost', port: mtls.port, tls: true, ca_file: tls.caFile }), 'tls', /client certificate/);
  });

  test('plain against a TLS port, TLS against a plain port: each says what to set', async () => {
    failed(await runOne(at(secure)), 'protocol', /^the server (closed the connection before the HTTP\/2 handshake|answered with a TLS alert) \(is this a TLS port\? set tls: true\)$/);
    failed(await runOne(at(server, { tls: true, ca_file: tls.caFile })), 'tls', 'TLS handshake failed: the server did not answer with TLS (is this a plain-text port?)');
  });

  test('a refused port fails at tcp', async () => {
    failed(await runOne(at({ port: await freePort() })), 'tcp', 'connection refused');
  });

  test('a health answer above the message limit, and one that is no HealthCheckResponse, fail at query', async () => {
    failed(await runOne(at(oversize, { service: 'x' })), 'query', 'the server sent a health answer larger than 4096 bytes');
    failed(await runOne(at(malformed, { service: 'x' })), 'query', 'the server sent a health answer that is not a HealthCheckResponse');
  });

  test('config errors', async () => {
    const bad = async (o: Record<string, unknown>, re: RegExp) => assert.rejects(runOne({ type: 'grpc', ...o }), re);
    await bad({ host: '127.0.0.1' }, /port: missing \(expected a port \(gRPC has no standard port; 50051 is common\)\)/);
    await bad({ url: 'grpc://127.0.0.1' }, /the URL has no port/);
    await bad({ url: 'grpc://127.0.0.1:50051/my.Service' }, /the URL has a path \(write the service as \?service=NAME\)/);
    await bad({ url: 'grpc://127.0.0.1:50051?tls=1' }, /the URL has the query parameter "tls"/);
    await bad({ url: 'grpc://u:p@127.0.0.1:50051' }, /the URL has a user name or password/);
    await bad({ host: '127.0.0.1', port: 50051, service: '' }, /service: expected a service name/);
  });

  test('url: grpc:// and grpcs:// pick the type and read host, port, TLS and service', async () => {
    const r = await runOne({ url: `grpc://127.0.0.1:${server.port}?service=conncheck.Up` });
    passed(r);
    assert.equal(r.name, `grpc:127.0.0.1:${server.port}`);
    assert.equal(r.details?.at(-1), 'health of service "conncheck.Up": SERVING');
    // options written next to the URL override it
    failed(await runOne({ url: `grpc://127.0.0.1:${server.port}?service=conncheck.Up`, service: 'conncheck.Down' }), 'query', 'service "conncheck.Down" is NOT_SERVING');
  });
});

describe('grpc against peers that are not gRPC servers', () => {
  const peers: (TcpPeer | { close(): Promise<void> })[] = [];
  after(async () => {
    await Promise.all(peers.map((p) => p.close()));
  });

  test('garbage, an SSH banner, an HTTP/1 server and a closer fail at protocol at once, saying what came', async () => {
    const garbage = await startGarbage('127.0.0.1', GARBAGE);
    const banner = await startGarbage('127.0.0.1', 'SSH-2.0-OpenSSH_9.6 conn-check-test\r\n');
    const http1 = await startPlainHttp();
    const closer = await startCloser();
    peers.push(garbage, banner, http1, closer);
    const t0 = performance.now();
    failed(await runOne(at(garbage, { timeout: 2 })), 'protocol', 'the server did not answer with HTTP/2 (it sent \\x00\\xff\\x137\\xde\\xad\\xbe\\xef\\n\\x7f\\x80\\x00)');
    failed(await runOne(at(banner, { timeout: 2 })), 'protocol', 'the server did not answer with HTTP/2 (it sent SSH-2.0-OpenSSH_9.6 conn...)');
    failed(await runOne(at(http1, { timeout: 2 })), 'protocol', 'the server answered with HTTP/1.x, not HTTP/2: not a gRPC server (or a proxy without HTTP/2)');
    failed(await runOne(at(closer, { timeout: 2 })), 'protocol', 'the server closed the connection before the HTTP/2 handshake (is this a TLS port? set tls: true)');
    assert.ok(performance.now() - t0 < 4000, `took ${Math.round(performance.now() - t0)} ms`);
  });

  test('a SETTINGS frame of more than 32 settings fails at protocol at once, under every Node (nghttp2 1.70, in Node 24, refuses it; 1.61, in Node 20, took it)', async () => {
    const settings = (n: number) => {
      const frame = Buffer.alloc(9 + n * 6);
      frame.writeUIntBE(n * 6, 0, 3);
      frame[3] = 4;
      return frame;
    };
    const many = await startGarbage('127.0.0.1', settings(33));
    const flood = await startGarbage('127.0.0.1', settings(2730).subarray(0, 9));
    peers.push(many, flood);
    const t0 = performance.now();
    failed(await runOne(at(many, { timeout: 2 })), 'protocol', 'the server sent a SETTINGS frame of 33 settings (more than the 32 the client accepts)');
    failed(await runOne(at(flood, { timeout: 2 })), 'protocol', 'the server sent a SETTINGS frame of 2730 settings (more than the 32 the client accepts)');
    assert.ok(performance.now() - t0 < 3000, `took ${Math.round(performance.now() - t0)} ms`);
  });

  test('an HTTP/2 server that is not gRPC (answers 404) fails at protocol, with and without service', async () => {
    const h2: Http2Server = createHttp2Server((_req, res) => {
      res.statusCode = 404;
      res.end('not here');
    });
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    peers.push({ close: () => new Promise<void>((done) => h2.close(() => done())) });
    const port = (h2.address() as { port: number }).port;
    failed(await runOne(at({ port })), 'protocol', 'the server answered with HTTP status 404, not gRPC (is this a gRPC port?)');
    failed(await runOne(at({ port }, { service: 'x' })), 'protocol', 'the server answered with HTTP status 404, not gRPC (is this a gRPC port?)');
  });

  test('a black hole times out at protocol (plain) or tls, within the timeout, and the connection is closed', async () => {
    await silentServerCases((port, extra) => ({ type: 'grpc', host: '127.0.0.1', port, ...extra }), [
      [{}, 'protocol'],
      [{ tls: true }, 'tls'],
      [{ service: 'x' }, 'protocol'],
    ]);
  });

  test('an HTTP/2 server that goes quiet once the request came: the health call times out at query', async () => {
    const quiet = await startHttp2Peer(() => {});
    peers.push(quiet);
    const t0 = performance.now();
    failed(await runOne(at(quiet, { timeout: 1 })), 'query', /^timed out( after 1s)?$/);
    assert.ok(performance.now() - t0 < 3000);
  });

  test('endless frames are cut off at the read limit; a frame above 16 KiB at once', async () => {
    const flood = await startGrpcEndless();
    const huge = await startGrpcHugeFrame();
    peers.push(flood, huge);
    const t0 = performance.now();
    failed(await runOne(at(flood, { timeout: 10 })), 'query', 'the server sent more than 1 MiB (the read limit for this check)');
    failed(await runOne(at(huge, { timeout: 10 })), 'query', 'the server sent an HTTP/2 frame of 16777215 bytes (more than the 16384 the client allows)');
    assert.ok(performance.now() - t0 < 5000, `took ${Math.round(performance.now() - t0)} ms`);
  });

  test('a gRPC error whose message carries CR/LF and ::commands: shown escaped; without service only noted', async () => {
    const inject = await startGrpcServer({ error: { code: 7, details: INJECT_LINE } });
    peers.push({ close: () => inject.stop() });
    const r = await runOne(at(inject, { service: 'x' }));
    failed(r, 'query', /^the health check of service "x" failed: PERMISSION_DENIED \(7\): \\r::error /);
    assert.ok(!/[\r\n]/.test(r.error ?? ''), r.error);
    const noted = await runOne(at(inject));
    passed(noted);
    assert.match(noted.details?.at(-1) ?? '', /^the health check of the whole server \(service ""\) failed: PERMISSION_DENIED \(7\): /);
  });
});

describe('grpc leaves nothing behind', () => {
  test('no timer or socket is left in this process after passing and failing checks', async () => {
    await assertLeavesNothing(
      [
        at(server, { service: 'conncheck.Up' }),
        at(server, { service: 'conncheck.Down' }),
        at(bare, { service: 'x' }),
        { type: 'grpc', host: 'localhost', port: secure.port, tls: true, ca_file: tls.caFile },
        { type: 'grpc', host: 'localhost', port: expired.port, tls: true, ca_file: tls.caFile },
        at(secure),
      ],
      { kinds: ['Timeout', 'TCPSocketWrap', 'TLSWrap', 'TCPServerWrap'], settleMs: 200 },
    );
  });
});

describe('grpc through the CLI bundle', { skip: !existsSync(join(CLI, '../../dist/cli/index.js')) && 'dist/ not built (npm run build)' }, () => {
  test('passing and failing checks: the right lines', async () => {
    const { text, json } = await cliTextAndJson(
      [
        { ...at(server), name: 'grpc-plain' },
        { ...at(server), name: 'grpc-up', service: 'conncheck.Up' },
        { name: 'grpcs-url', url: `grpcs://localhost:${secure.port}?service=conncheck.Up`, ca_file: tls.caFile },
        { ...at(server), name: 'grpc-down', service: 'conncheck.Down' },
        { ...at(bare), name: 'grpc-nohealth', service: 'conncheck.Up' },
        { type: 'grpc', name: 'grpc-expired', host: 'localhost', port: expired.port, tls: true, ca_file: tls.caFile },
      ],
    );
    assert.equal(text.stderr.replace(/^Starting .*\n/gm, ''), '');
    assert.match(text.stdout, /^grpc-plain OK .*health of the whole server \(service ""\): SERVING/m);
    assert.match(text.stdout, /^grpc-up OK /m);
    assert.match(text.stdout, /^grpcs-url OK .*TLSv1\.[23], cert CN=localhost/m);
    assert.match(text.stdout, /^grpc-down FAILED - query: service "conncheck\.Down" is NOT_SERVING/m);
    assert.match(text.stdout, /^grpc-nohealth FAILED - query: the server has no health service .*UNIMPLEMENTED, 12/m);
    assert.match(text.stdout, /^grpc-expired FAILED - tls: certificate has expired/m);
    const results = JSON.parse(json.stdout) as { name: string; status: string }[];
    assert.deepEqual(results.map((r) => [r.name, r.status]), [
      ['grpc-plain', 'passed'],
      ['grpc-up', 'passed'],
      ['grpcs-url', 'passed'],
      ['grpc-down', 'failed'],
      ['grpc-nohealth', 'failed'],
      ['grpc-expired', 'failed'],
    ]);
  });

  test('--from-env: a grpc:// address in a *_ADDR variable is a grpc check', async () => {
    const ran = await runCli(['--from-env', '-v'], { env: { ORDERS_ADDR: `grpc://127.0.0.1:${server.port}?service=conncheck.Up` } });
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /^ORDERS_ADDR OK .*health of service "conncheck\.Up": SERVING/m);
  });
});

describe('grpc through the action bundle', { skip: !existsSync(ACTION) && 'dist/ not built (npm run build)' }, () => {
  test('checks input: the results output and the job summary', async () => {
    const checks = [
      { ...at(server), name: 'grpc-up', service: 'conncheck.Up' },
      { name: 'grpcs', url: `grpcs://localhost:${secure.port}`, ca_file: tls.caFile },
      { ...at(server), name: 'grpc-down', service: 'conncheck.Down' },
    ];
    const ran = await runAction({ checks: JSON.stringify(checks) });
    assert.equal(ran.code, 1, ran.stdout + ran.stderr);
    const results = JSON.parse(ran.outputs.results ?? '[]') as { name: string; status: string; step?: string; error?: string }[];
    assert.deepEqual(results.map((r) => [r.name, r.status, r.step ?? null]), [
      ['grpc-up', 'passed', null],
      ['grpcs', 'passed', null],
      ['grpc-down', 'failed', 'query'],
    ]);
    assert.equal(results[2]!.error, 'service "conncheck.Down" is NOT_SERVING');
    assert.match(ran.summary, /grpc-down/);
  });
});
