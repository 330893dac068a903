import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { liveHandles, runOne, runYaml } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { tlsMaterial, type TlsMaterial } from './helpers/tls.js';
import { startBlackHole, startCloser, startPlainHttp, startSlowDrip, startTlsServer, startGarbage, type TcpPeer } from './helpers/peers.js';
import { keptPeers } from './helpers/peers.js';
import { secureOptions } from '../src/net/tls.js';

let m: TlsMaterial;
let valid: TcpPeer;
let valid6: TcpPeer;
let expired: TcpPeer;
let wrongHost: TcpPeer;
let selfSigned: TcpPeer;
let mtls: TcpPeer;
let mtls12: TcpPeer;
let tls12: TcpPeer;

const keep = keptPeers();

before(async () => {
  m = tlsMaterial();
  valid = await keep(startTlsServer({ cert: m.valid.cert, key: m.valid.key }));
  valid6 = await keep(startTlsServer({ cert: m.valid.cert, key: m.valid.key }, '::1'));
  expired = await keep(startTlsServer({ cert: m.expired.cert, key: m.expired.key }));
  wrongHost = await keep(startTlsServer({ cert: m.wrongHost.cert, key: m.wrongHost.key }));
  selfSigned = await keep(startTlsServer({ cert: m.selfSigned.cert, key: m.selfSigned.key }));
  mtls = await keep(startTlsServer({ cert: m.valid.cert, key: m.valid.key, ca: m.ca, requestCert: true, rejectUnauthorized: true }));
  mtls12 = await keep(startTlsServer({ cert: m.valid.cert, key: m.valid.key, ca: m.ca, requestCert: true, rejectUnauthorized: true, maxVersion: 'TLSv1.2' }));
  tls12 = await keep(startTlsServer({ cert: m.valid.cert, key: m.valid.key, maxVersion: 'TLSv1.2' }));
});

test('tls passes with ca_file, names the check tls:HOST:PORT and notes protocol, CN, issuer and days left', async () => {
  const r = await runOne({ type: 'tls', host: 'localhost', port: valid.port, ca_file: m.caFile });
  assert.equal(r.status, 'passed', r.error);
  assert.equal(r.name, `tls:localhost:${valid.port}`);
  assert.equal(r.target, `localhost:${valid.port}`);
  assert.deepEqual(r.details, ['connected to 127.0.0.1', 'TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days']);
});

test('tls passes with the CA from tls-certs-path (ctx.extraCa); alias ssl is still named tls:', async () => {
  const [r] = await runYaml(`- {type: ssl, host: localhost, port: ${valid.port}}\n`, { extraCa: [m.ca] });
  assert.equal(r!.status, 'passed', r!.error);
  assert.equal(r!.name, `tls:localhost:${valid.port}`);
  assert.equal(r!.type, 'tls');
});

test('tls verifies an IP target against the IP names of the certificate, IPv4 and IPv6', async () => {
  const [v4, v6] = await runYaml(`- {type: tls, host: 127.0.0.1, port: ${valid.port}}\n- {type: tls, host: "::1", port: ${valid6.port}}\n`, { extraCa: [m.ca] });
  assert.equal(v4!.status, 'passed', v4!.error);
  assert.equal(v6!.status, 'passed', v6!.error);
  assert.equal(v6!.name, `tls:[::1]:${valid6.port}`);
  assert.equal(v6!.details?.[0], 'connected to [::1]');
});

test('tls fails without the CA: unknown issuer, named', async () => {
  const r = await runOne({ type: 'tls', host: 'localhost', port: valid.port });
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'tls');
  assert.equal(r.error, 'certificate not trusted: unknown issuer CN=conn-check test CA for CN=localhost (add the CA with tls-certs-path or ca_file)');
});

test('tls fails on an expired certificate and says when it expired', async () => {
  const r = await runOne({ type: 'tls', host: 'localhost', port: expired.port, ca_file: m.caFile });
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'tls');
  assert.match(r.error!, /^certificate has expired \(CN=localhost, on 2020-02-01, \d+ days ago\)$/);
});

test('tls fails on a name mismatch and lists the names the certificate has', async () => {
  const [byName, byIp] = await runYaml(`- {type: tls, host: localhost, port: ${wrongHost.port}}\n- {type: tls, host: 127.0.0.1, port: ${wrongHost.port}}\n`, {
    extraCa: [m.ca],
  });
  assert.equal(byName!.step, 'tls');
  assert.equal(byName!.error, 'certificate does not match the host name localhost (it is for DNS:wrong.example)');
  assert.equal(byIp!.step, 'tls');
  assert.equal(byIp!.error, 'certificate does not match the host name 127.0.0.1 (it is for DNS:wrong.example)');
});

test('tls server_name sets SNI and the name verified', async () => {
  const r = await runOne({ type: 'tls', host: '127.0.0.1', port: wrongHost.port, server_name: 'wrong.example', ca_file: m.caFile });
  assert.equal(r.status, 'passed', r.error);
  assert.match(r.details![1]!, /cert CN=wrong\.example/);
});

test('tls fails on a self-signed certificate', async () => {
  const r = await runOne({ type: 'tls', host: 'localhost', port: selfSigned.port, ca_file: m.caFile });
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'tls');
  assert.match(r.error!, /^self-signed certificate \(not trusted\): CN=localhost /);
});

test('disable_tls_verification passes against self-signed and expired, and notes what verification would say', async () => {
  const [self, exp, wrong] = await runYaml(
    [
      `- {type: tls, host: localhost, port: ${selfSigned.port}, disable_tls_verification: true}`,
      `- {type: tls, host: localhost, port: ${expired.port}, disable_tls_verification: "yes"}`,
      `- {type: tls, host: localhost, port: ${wrongHost.port}, disable_tls_verification: true}`,
    ].join('\n'),
  );
  assert.equal(self!.status, 'passed', self!.error);
  assert.match(self!.details![1]!, /cert CN=localhost \(self-issued\) expires in 29 days; verification disabled \(would fail: self-signed certificate/);
  assert.equal(exp!.status, 'passed', exp!.error);
  assert.match(exp!.details![1]!, /cert CN=localhost \(issuer CN=conn-check test CA\) expired \d+ days ago; verification disabled \(would fail: /);
  assert.equal(wrong!.status, 'passed', wrong!.error);
});

test('tls against a peer that accepts and never speaks times out at step tls, on time', async () => {
  const hole = await keep(startBlackHole());
  const t0 = performance.now();
  const r = await runOne({ type: 'tls', host: '127.0.0.1', port: hole.port, timeout: 1 });
  const ms = performance.now() - t0;
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'tls');
  assert.equal(r.error, 'timed out after 1s');
  assert.ok(ms < 3000, `took ${ms} ms`);
});

test('tls against a plain-text port says the server did not answer with TLS', async () => {
  const plain = await keep(startPlainHttp());
  const r = await runOne({ type: 'tls', host: '127.0.0.1', port: plain.port, timeout: 3 });
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'tls');
  assert.equal(r.error, 'TLS handshake failed: the server did not answer with TLS (is this a plain-text port?)');
});

test('tls against garbage bytes and against a peer that closes at once fails at step tls', async () => {
  const garbage = await keep(startGarbage());
  const closer = await keep(startCloser());
  const [g, c] = await runYaml(`- {type: tls, host: 127.0.0.1, port: ${garbage.port}, timeout: 3}\n- {type: tls, host: 127.0.0.1, port: ${closer.port}, timeout: 3}\n`);
  assert.equal(g!.step, 'tls');
  assert.equal(g!.error, 'TLS handshake failed: the server did not answer with TLS (is this a plain-text port?)');
  assert.equal(c!.step, 'tls');
  assert.match(c!.error!, /^(connection closed during the TLS handshake|connection reset by peer)$/);
});

test('tls against a slow drip (one byte a second) times out at step tls; a RST at accept is a reset', async () => {
  const drip = await keep(startSlowDrip('127.0.0.1', '\x16\x03\x03', 1000));
  const reset = await keep(startCloser('127.0.0.1', { reset: true }));
  const t0 = performance.now();
  const [d, r] = await runYaml(`- {type: tls, host: 127.0.0.1, port: ${drip.port}, timeout: 1.5}\n- {type: tls, host: 127.0.0.1, port: ${reset.port}, timeout: 3}\n`);
  assert.ok(performance.now() - t0 < 3500);
  assert.equal(d!.step, 'tls');
  assert.equal(d!.error, 'timed out after 1.5s');
  // in-process, the reset can land before the client sees its connect complete: step tcp
  assert.ok(r!.step === 'tls' || r!.step === 'tcp', r!.step);
  assert.match(r!.error!, /^(connection reset by peer|connection closed during the TLS handshake)$/);
});

test('tls to a refused port fails at step tcp', async () => {
  const closed = await freePort();
  const r = await runOne({ type: 'tls', host: '127.0.0.1', port: closed });
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 'tcp');
  assert.equal(r.error, 'connection refused');
});

test('mTLS: refused without a client certificate, passes with client_cert/client_key (TLS 1.3 and 1.2)', async () => {
  const [no13, yes13, no12, yes12] = await runYaml(
    [
      `- {type: tls, host: localhost, port: ${mtls.port}}`,
      `- {type: tls, host: localhost, port: ${mtls.port}, client_cert: "${m.client.certFile}", client_key: "${m.client.keyFile}"}`,
      `- {type: tls, host: localhost, port: ${mtls12.port}}`,
      `- {type: tls, host: localhost, port: ${mtls12.port}, client_cert: "${m.client.certFile}", client_key: "${m.client.keyFile}"}`,
    ].join('\n'),
    { extraCa: [m.ca] },
  );
  assert.equal(no13!.status, 'failed');
  assert.equal(no13!.step, 'tls');
  assert.equal(no13!.error, 'TLS handshake failed: the server requires a client certificate');
  assert.equal(yes13!.status, 'passed', yes13!.error);
  assert.equal(no12!.status, 'failed');
  assert.equal(no12!.step, 'tls');
  assert.equal(no12!.error, 'TLS handshake failed: the server refused the handshake');
  assert.equal(yes12!.status, 'passed', yes12!.error);
  assert.match(yes12!.details![1]!, /^TLSv1\.2, /);
});

test('mTLS: client_cert without client_key is refused at step tls', async () => {
  const r = await runOne({ type: 'tls', host: 'localhost', port: mtls.port, client_cert: m.client.certFile, ca_file: m.caFile });
  assert.equal(r.step, 'tls');
  assert.equal(r.error, 'client_cert and client_key go together');
});

test('min_cert_days: a 30-day certificate fails a minimum of 60 at step cert, passes 29', async () => {
  const [tooSoon, ok] = await runYaml(
    `- {type: tls, host: localhost, port: ${valid.port}, min_cert_days: 60}\n- {type: tls, host: localhost, port: ${valid.port}, min_cert_days: "29"}\n`,
    { extraCa: [m.ca] },
  );
  assert.equal(tooSoon!.status, 'failed');
  assert.equal(tooSoon!.step, 'cert');
  assert.equal(tooSoon!.error, 'certificate expires in 29 days (minimum 60)');
  assert.equal(ok!.status, 'passed', ok!.error);
});

test('min_cert_days with verification disabled still fails an expired certificate at step cert', async () => {
  const r = await runOne({ type: 'tls', host: 'localhost', port: expired.port, disable_tls_verification: true, min_cert_days: 0 });
  assert.equal(r.step, 'cert');
  assert.match(r.error!, /^certificate expired \d+ days ago \(minimum 0 days left\)$/);
});

test('min_tls_version TLSv1.3 fails against a TLS 1.2-only server; TLSv1.2 passes', async () => {
  const [v13, v12] = await runYaml(
    `- {type: tls, host: localhost, port: ${tls12.port}, min_tls_version: TLSv1.3}\n- {type: tls, host: localhost, port: ${tls12.port}, min_tls_version: TLSv1.2}\n`,
    { extraCa: [m.ca] },
  );
  assert.equal(v13!.status, 'failed');
  assert.equal(v13!.step, 'tls');
  assert.equal(v13!.error, 'TLS handshake failed: the server does not offer TLSv1.3 or later (min_tls_version)');
  assert.equal(v12!.status, 'passed', v12!.error);
  assert.match(v12!.details![1]!, /^TLSv1\.2, cert CN=localhost/);
});

test('a ca_file, client certificate or min_tls_version is parsed once: checks with the same ones share one secure context', async () => {
  // (a context with the roots and a ca_file takes ~25 ms of CPU to build: one per check stalled
  // every other check of a run with dozens of them)
  const ctx = { extraCa: [] as string[] };
  const withCa = { ca_file: m.caFile };
  const mtlsOwn = { ca_file: m.caFile, client_cert: m.client.certFile, client_key: m.client.keyFile };
  const [a, b, c, d, e, f] = await Promise.all([
    secureOptions(withCa, 'localhost', ctx),
    secureOptions(withCa, 'other.example', ctx),
    secureOptions(mtlsOwn, 'localhost', ctx),
    secureOptions(mtlsOwn, 'localhost', ctx),
    secureOptions({ ...withCa, min_tls_version: 'TLSv1.3' }, 'localhost', ctx),
    secureOptions({ ca_file: m.expired.certFile }, 'localhost', ctx),
  ]);
  assert.ok(a.secureContext, 'no shared context for a ca_file');
  assert.equal(a.secureContext, b.secureContext);
  assert.equal(c.secureContext, d.secureContext);
  for (const other of [c, e, f]) assert.notEqual(other.secureContext, a.secureContext);
  // each still verifies its own name
  assert.equal(a.servername, 'localhost');
  assert.equal(b.servername, 'other.example');
  // and still passes and fails as it did: the CA, mTLS, the version floor
  const [ok, mt, v13] = await runYaml(
    JSON.stringify([
      { type: 'tls', host: 'localhost', port: valid.port, ...withCa },
      { type: 'tls', host: 'localhost', port: mtls.port, ...mtlsOwn },
      { type: 'tls', host: 'localhost', port: tls12.port, ...withCa, min_tls_version: 'TLSv1.3' },
    ]),
  );
  assert.equal(ok!.status, 'passed', JSON.stringify(ok));
  assert.equal(mt!.status, 'passed', JSON.stringify(mt));
  assert.equal(v13!.status, 'failed', JSON.stringify(v13));
  assert.equal(v13!.step, 'tls', JSON.stringify(v13));
});

test('tls options are validated: bad min_tls_version and negative min_cert_days', async () => {
  await assert.rejects(runOne({ type: 'tls', host: 'localhost', port: 443, min_tls_version: 'TLSv1.1' }), /min_tls_version.*one of TLSv1\.2, TLSv1\.3/s);
  await assert.rejects(runOne({ type: 'tls', host: 'localhost', port: 443, min_cert_days: -1 }), /min_cert_days/);
});

test('a missing ca_file fails at step tls and says which file', async () => {
  const r = await runOne({ type: 'tls', host: 'localhost', port: valid.port, ca_file: '/nonexistent/ca.pem' });
  assert.equal(r.step, 'tls');
  assert.equal(r.error, 'cannot read ca_file /nonexistent/ca.pem (ENOENT)');
});

function count(kinds: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of kinds) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/**
 * Handle counts once they stop changing: sockets of earlier tests (a server's end of a closed
 * connection) can still be closing when a test starts, and must not count as this test's.
 */
async function steadyCounts(maxMs = 3000): Promise<Record<string, number>> {
  const end = Date.now() + maxMs;
  let last = JSON.stringify(count(liveHandles()));
  for (let same = 0; same < 5 && Date.now() < end; ) {
    await sleep(50);
    const now = JSON.stringify(count(liveHandles()));
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return JSON.parse(last) as Record<string, number>;
}

/** Polls until the live handle counts equal `want` (or the time is up), then asserts it. */
async function assertCounts(want: Record<string, number>, maxMs = 3000): Promise<void> {
  const end = Date.now() + maxMs;
  while (JSON.stringify(count(liveHandles())) !== JSON.stringify(want) && Date.now() < end) await sleep(25);
  assert.deepEqual(count(liveHandles()), want);
}

test('nothing of a tls check stays alive after it: passed, failed, timed out, mTLS refused', async () => {
  const before = await steadyCounts();
  const hole = await startBlackHole();
  const server = await startTlsServer({ cert: m.valid.cert, key: m.valid.key });
  const results = await runYaml(
    [
      `- {type: tls, host: localhost, port: ${server.port}}`,
      `- {type: tls, host: localhost, port: ${server.port}, disable_tls_verification: true}`,
      `- {type: tls, host: 127.0.0.1, port: ${hole.port}, timeout: 0.5}`,
      `- {type: tls, host: localhost, port: ${mtls.port}}`,
      `- {type: tls, host: localhost, port: ${server.port}, min_cert_days: 100}`,
    ].join('\n'),
    { extraCa: [m.ca] },
  );
  assert.deepEqual(
    results.map((r) => `${r.status} ${r.step ?? ''}`),
    ['passed ', 'passed ', 'failed tls', 'failed tls', 'failed cert'],
  );
  // while the peers still run: only their listening sockets (the peers close their end of a
  // connection as soon as the check closes its own, so none is left on either side)
  await assertCounts({ ...before, TCPServerWrap: (before.TCPServerWrap ?? 0) + 2 });
  await hole.close();
  await server.close();
  await assertCounts(before);
});

// ---------- all_addresses (issue 5) ----------

import { describe as describeAll } from 'node:test';
import { dualStackLocalhost } from './helpers/dual-stack.js';
import { createServer as createTlsServerAll, type Server as TlsServerAll, type TlsOptions as TlsServerOptions } from 'node:tls';
import { settledHandles } from './helpers/check.js';


/** TLS servers on 127.0.0.1 and/or ::1 sharing one port (undefined options: nothing listens there). */
async function samePort(v4: TlsServerOptions | undefined, v6: TlsServerOptions | undefined): Promise<{ port: number; close(): Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const servers: TlsServerAll[] = [];
    const listen = (options: TlsServerOptions, host: string, port: number) =>
      new Promise<number>((resolve, reject) => {
        const s = createTlsServerAll(options, (sock) => sock.on('error', () => {}));
        s.on('tlsClientError', () => {});
        servers.push(s);
        s.once('error', reject);
        s.listen(port, host, () => resolve((s.address() as { port: number }).port));
      });
    const close = () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => {});
    try {
      let port = await freePort();
      if (v4) port = await listen(v4, '127.0.0.1', port);
      if (v6) await listen(v6, '::1', port);
      return { port, close };
    } catch (err) {
      await close();
      if (attempt >= 4) throw err;
    }
  }
}

describeAll('tls all_addresses: every resolved address is checked and reported', () => {
  test('both addresses serve a valid certificate: passes, one line per address', async () => {
    const both = await samePort({ cert: m.valid.cert, key: m.valid.key }, { cert: m.valid.cert, key: m.valid.key });
    const restore = dualStackLocalhost();
    try {
      const r = await runOne({ type: 'tls', host: 'localhost', port: both.port, ca_file: m.caFile, all_addresses: true });
      assert.equal(r.status, 'passed', r.error);
      assert.deepEqual(r.details, [
        '127.0.0.1: TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days',
        '[::1]: TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days',
      ]);
    } finally {
      restore();
      await both.close();
    }
  });

  test('a half-broken dual stack (nothing on ::1) fails at tcp naming the address', async () => {
    const v4only = await samePort({ cert: m.valid.cert, key: m.valid.key }, undefined);
    const restore = dualStackLocalhost();
    try {
      const r = await runOne({ type: 'tls', host: 'localhost', port: v4only.port, ca_file: m.caFile, all_addresses: true });
      assert.deepEqual([r.status, r.step, r.error], ['failed', 'tcp', '[::1]: connection refused (1 of 2 addresses failed)']);
      assert.deepEqual(r.details, ['127.0.0.1: TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days', '[::1]: connection refused']);
      // without all_addresses the working address is enough (as before)
      const any = await runOne({ type: 'tls', host: 'localhost', port: v4only.port, ca_file: m.caFile });
      assert.equal(any.status, 'passed', any.error);
    } finally {
      restore();
      await v4only.close();
    }
  });

  test('one address with an expired certificate fails at tls; min_cert_days is checked at every address', async () => {
    const mixed = await samePort({ cert: m.valid.cert, key: m.valid.key }, { cert: m.expired.cert, key: m.expired.key });
    const restore = dualStackLocalhost();
    try {
      const r = await runOne({ type: 'tls', host: 'localhost', port: mixed.port, ca_file: m.caFile, all_addresses: true });
      assert.equal(r.status, 'failed');
      assert.equal(r.step, 'tls');
      assert.match(r.error!, /^\[::1\]: certificate has expired \(CN=localhost, on 2020-02-01, \d+ days ago\) \(1 of 2 addresses failed\)$/);
      const both = await samePort({ cert: m.valid.cert, key: m.valid.key }, { cert: m.valid.cert, key: m.valid.key });
      try {
        const days = await runOne({ type: 'tls', host: 'localhost', port: both.port, ca_file: m.caFile, all_addresses: true, min_cert_days: 60 });
        assert.deepEqual(
          [days.status, days.step, days.error],
          ['failed', 'cert', '127.0.0.1: certificate expires in 29 days (minimum 60); [::1]: certificate expires in 29 days (minimum 60) (2 of 2 addresses failed)'],
        );
      } finally {
        await both.close();
      }
    } finally {
      restore();
      await mixed.close();
    }
  });

  test('with the real resolver: an IP literal is one address; localhost as the machine resolves it; nothing stays alive', async () => {
    const baseline = await settledHandles(2000);
    const r = await runOne({ type: 'tls', host: '127.0.0.1', port: valid.port, ca_file: m.caFile, all_addresses: true, min_cert_days: 7 });
    assert.equal(r.status, 'passed', r.error);
    assert.deepEqual(r.details, ['127.0.0.1: TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days']);
    const { resolveHost } = await import('../src/net/dial.js');
    const addrs = await resolveHost('localhost', new AbortController().signal);
    const byName = await runOne({ type: 'tls', host: 'localhost', port: valid.port, ca_file: m.caFile, all_addresses: true });
    if (addrs.some((a) => a.family === 6)) {
      assert.equal(byName.status, 'failed');
      assert.match(byName.error!, /^\[::1\]: connection refused \(1 of 2 addresses failed\)$/);
    } else {
      assert.equal(byName.status, 'passed', byName.error);
    }
    const refused = await runOne({ type: 'tls', host: '127.0.0.1', port: await freePort(), all_addresses: true });
    assert.deepEqual([refused.status, refused.step, refused.error], ['failed', 'tcp', '127.0.0.1: connection refused (1 of 1 addresses failed)']);
    // every socket of these checks is closed (what was alive before may still be)
    const left = await settledHandles(2000);
    assert.ok(left.length <= baseline.length, `left alive: ${left.join(', ')} (before: ${baseline.join(', ')})`);
  });

  test('a server that never answers the handshake: all_addresses fails at tls within the timeout', async () => {
    const hole = await startBlackHole();
    try {
      const t0 = performance.now();
      const r = await runOne({ type: 'tls', host: '127.0.0.1', port: hole.port, all_addresses: true, timeout: 1 });
      assert.deepEqual([r.status, r.step, r.error], ['failed', 'tls', 'timed out after 1s']);
      assert.ok(performance.now() - t0 < 3000);
    } finally {
      await hole.close();
    }
  });
});
