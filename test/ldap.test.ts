import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { assertLeavesNothing, runOne } from './helpers/check.js';
import type { CheckResult } from '../src/runner/result.js';
import { CLI, cliTextAndJson, freePort } from './helpers/run.js';
import { tlsMaterial, type TlsMaterial } from './helpers/tls.js';
import { BASE, BIND_DN, LDAP_PASSWORD, slapdAvailable, startSlapd, type SlapdInstance } from './helpers/slapd.js';
import { resultAssertions } from './helpers/results.js';

const WRONG = 'Wr0ng-ldap-pw-44j';

let server: SlapdInstance; // ldap:// with StartTLS, and ldaps://
let plainOnly: SlapdInstance; // no TLS configured
let tls: TlsMaterial;

before(async () => {
  if (!slapdAvailable()) throw new Error('the ldap tests need root and /usr/sbin/slapd (scripts/setup.sh installs slapd and ldap-utils)');
  tls = tlsMaterial();
  [server, plainOnly] = await Promise.all([startSlapd({ tls: { certFile: tls.valid.certFile, keyFile: tls.valid.keyFile, caFile: tls.caFile } }), startSlapd()]);
});

after(async () => {
  await Promise.all([server?.stop(), plainOnly?.stop()]);
});

const { failed, passed, noSecrets } = resultAssertions([LDAP_PASSWORD, WRONG]);

const plain = () => ({ type: 'ldap', url: `ldap://127.0.0.1:${server.port}` });
const bound = () => ({ ...plain(), bind_dn: BIND_DN, password: LDAP_PASSWORD });
const CERT_LINE = /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/;

describe('ldap against a real OpenLDAP server', () => {
  test('anonymous, no base_dn: the root DSE answers', async () => {
    const r = await runOne(plain());
    passed(r);
    assert.equal(r.name, `ldap:127.0.0.1:${server.port}`);
    assert.deepEqual(r.details, ['connected to 127.0.0.1', 'the server answered an anonymous search of the root DSE']);
  });

  test('bind and base_dn (host and port form): the entry is found', async () => {
    const r = await runOne({ type: 'ldap', host: 'localhost', port: String(server.port), bind_dn: BIND_DN, password: LDAP_PASSWORD, base_dn: BASE });
    passed(r);
    assert.equal(r.name, `ldap:localhost:${server.port}`);
    assert.deepEqual(r.details, ['connected to 127.0.0.1', `bound as "${BIND_DN}"`, `found "${BASE}"`]);
  });

  test('a filter that matches passes; one that does not fails at query', async () => {
    const alice = `uid=alice,ou=people,${BASE}`;
    passed(await runOne({ ...plain(), base_dn: alice, filter: '(mail=alice@example.test)' }));
    failed(await runOne({ ...plain(), base_dn: alice, filter: '(mail=bob@example.test)' }), 'query', `the search returned no entry: "${alice}" does not match (mail=bob@example.test), or an anonymous user may not read it`);
  });

  test('a wrong password, and a DN that does not exist, fail at auth: invalid credentials (49)', async () => {
    failed(await runOne({ ...bound(), password: WRONG }), 'auth', `invalid credentials for "${BIND_DN}" (wrong password, or no such DN) (49)`);
    failed(await runOne({ ...bound(), bind_dn: `cn=nobody,${BASE}` }), 'auth', `invalid credentials for "cn=nobody,${BASE}" (wrong password, or no such DN) (49)`);
  });

  test('no such object (32), insufficient access (50): told apart, and anonymous is told from a bound user', async () => {
    failed(await runOne({ ...bound(), base_dn: `ou=hidden,${BASE}` }), 'query', `no such object: "ou=hidden,${BASE}" (or hidden from "${BIND_DN}") (32)`);
    failed(await runOne({ ...bound(), base_dn: `ou=missing,${BASE}` }), 'query', /^no such object: "ou=missing,dc=example,dc=test"/);
    failed(await runOne({ ...bound(), base_dn: `ou=sealed,${BASE}` }), 'query', `insufficient access: "${BIND_DN}" may not read "ou=sealed,${BASE}" (50)`);
    failed(await runOne({ ...plain(), base_dn: `ou=sealed,${BASE}` }), 'query', `no such object: "ou=sealed,${BASE}" (or hidden from an anonymous user) (32)`);
    failed(await runOne({ ...plain(), base_dn: 'not a dn' }), 'query', /^base_dn is not a valid DN: .*\(34\)$/);
  });

  test('StartTLS with the CA passes (the certificate noted); without it, the certificate is not trusted', async () => {
    const base = { type: 'ldap', url: `ldap://localhost:${server.port}`, starttls: true, bind_dn: BIND_DN, password: LDAP_PASSWORD, base_dn: BASE };
    const r = await runOne({ ...base, ca_file: tls.caFile });
    passed(r);
    assert.match(r.details?.[1] ?? '', CERT_LINE);
    failed(await runOne(base), 'tls', /^self-signed certificate in the chain|^certificate not trusted/);
    failed(await runOne({ ...base, ca_file: tls.caFile, password: WRONG }), 'auth', /^invalid credentials .*\(49\)$/);
  });

  test('StartTLS against a server without TLS fails at tls with the server\'s answer', async () => {
    failed(await runOne({ type: 'ldap', url: `ldap://127.0.0.1:${plainOnly.port}`, starttls: true }), 'tls', /^the server refused StartTLS: .*\(\d+\)$/);
  });

  test('ldaps:// with the CA passes; with verification off it passes and is marked', async () => {
    const url = `ldaps://localhost:${server.tlsPort}`;
    const r = await runOne({ type: 'ldap', url, ca_file: tls.caFile, bind_dn: BIND_DN, password: LDAP_PASSWORD, base_dn: BASE });
    passed(r);
    assert.equal(r.name, `ldaps:localhost:${server.tlsPort}`);
    assert.match(r.details?.[1] ?? '', CERT_LINE);
    const insecure = await runOne({ type: 'ldap', url, disable_tls_verification: true });
    passed(insecure);
    assert.equal(insecure.tls_verification, 'disabled');
    failed(await runOne({ type: 'ldap', url, min_cert_days: 60, ca_file: tls.caFile }), 'cert', /^certificate expires in \d+ days \(minimum 60\)$/);
  });

  test('ldap:// against the ldaps port says so; a refused port fails at tcp', async () => {
    failed(await runOne({ type: 'ldap', url: `ldap://127.0.0.1:${server.tlsPort}`, base_dn: BASE, timeout: 3 }), 'query', 'the server closed the connection (is this an ldaps:// port?)');
    failed(await runOne({ type: 'ldap', url: `ldap://127.0.0.1:${await freePort()}`, bind_dn: BIND_DN, password: WRONG }), 'tcp', 'connection refused');
  });

  test('config errors', async () => {
    const bad = async (o: Record<string, unknown>, re: RegExp) => assert.rejects(runOne({ type: 'ldap', ...o }), re);
    await bad({}, /url: missing \(expected url \(ldap:\/\/ or ldaps:\/\/\) or host\)/);
    await bad({ url: `ldap://127.0.0.1:${server.port}`, host: '127.0.0.1' }, /host: expected url or host, got both/);
    await bad({ url: 'http://127.0.0.1/' }, /url: an ldap check takes a URL starting with ldap:\/\/ or ldaps:\/\/, not http:\/\//);
    await bad({ url: `ldap://127.0.0.1:${server.port}/${BASE}` }, /url: expected ldap:\/\/HOST\[:PORT\] or ldaps:\/\/HOST\[:PORT\] without a path or query \(put the DN in base_dn\)/);
    await bad({ ...plain(), password: LDAP_PASSWORD }, /password needs a bind_dn/);
    await bad({ ...plain(), bind_dn: BIND_DN }, /password: missing \(expected a non-empty password with bind_dn\)/);
    await bad({ ...plain(), bind_dn: BIND_DN, password: '' }, /expected a non-empty password with bind_dn/);
    await bad({ type: 'ldap', url: `ldaps://127.0.0.1:${server.tlsPort}`, starttls: true }, /starttls is for ldap:\/\//);
    await bad({ ...plain(), filter: '(uid=alice)' }, /filter needs a base_dn/);
    await bad({ ...plain(), base_dn: BASE, filter: 'uid=alice' }, /expected an LDAP filter in balanced parentheses/);
    await bad({ ...plain(), base_dn: BASE, filter: '(&(uid=alice)' }, /expected an LDAP filter in balanced parentheses/);
  });

  test('a filter the client cannot parse fails at query, before anything is sent', async () => {
    failed(await runOne({ ...plain(), base_dn: BASE, filter: '(uid)' }), 'query', 'invalid filter "(uid)": Invalid expression: uid');
  });

  test('a server that announces an endless message is cut off after 1 MiB', async () => {
    // a BER SEQUENCE announcing 2 GiB, then zeros as fast as the socket takes them
    const chunk = Buffer.alloc(64 * 1024);
    const peer: Server = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.write(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]));
        const pump = () => {
          while (!s.destroyed && s.write(chunk));
          if (!s.destroyed) s.once('drain', pump);
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const r = await runOne({ type: 'ldap', host: '127.0.0.1', port: (peer.address() as { port: number }).port, timeout: 10 });
      failed(r, 'protocol', 'the server sent more than 1 MiB (the read limit for this check)');
    } finally {
      peer.close();
    }
  });

  test('no timer or socket is left in this process after passing and failing checks', async () => {
    await assertLeavesNothing([
      { ...bound(), base_dn: BASE },
      { ...bound(), password: WRONG },
      { type: 'ldap', url: `ldap://localhost:${server.port}`, starttls: true, ca_file: tls.caFile, base_dn: BASE },
      { type: 'ldap', url: `ldaps://localhost:${server.tlsPort}`, ca_file: tls.caFile, base_dn: `ou=hidden,${BASE}` },
    ]);
  });
});

describe('ldap through the CLI bundle', { skip: !existsSync(join(CLI, '../../dist/cli/index.js')) && 'dist/ not built (npm run build)' }, () => {
  test('passing and failing checks: the right lines, no password in any output', async () => {
    const { text } = await cliTextAndJson(
      [
        { ...bound(), name: 'ldap-bind', base_dn: BASE },
        { type: 'ldap', name: 'ldap-starttls', url: `ldap://localhost:${server.port}`, starttls: true, ca_file: tls.caFile, bind_dn: BIND_DN, password: LDAP_PASSWORD, base_dn: BASE },
        { type: 'ldap', name: 'ldaps', url: `ldaps://localhost:${server.tlsPort}`, ca_file: tls.caFile, base_dn: BASE },
        { ...bound(), name: 'ldap-wrong', password: WRONG },
        { ...bound(), name: 'ldap-hidden', base_dn: `ou=hidden,${BASE}` },
        { ...bound(), name: 'ldap-sealed', base_dn: `ou=sealed,${BASE}` },
      ],
      [LDAP_PASSWORD, WRONG],
    );
    assert.match(text.stdout, /^ldap-bind OK /m);
    assert.match(text.stdout, /^ldap-starttls OK .*TLSv1\.[23], cert CN=localhost/m);
    assert.match(text.stdout, /^ldaps OK /m);
    assert.match(text.stdout, /^ldap-wrong FAILED - auth: invalid credentials .*\(49\)/m);
    assert.match(text.stdout, /^ldap-hidden FAILED - query: no such object: .*\(32\)/m);
    assert.match(text.stdout, /^ldap-sealed FAILED - query: insufficient access: .*\(50\)/m);
  });
});
