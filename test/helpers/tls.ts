/**
 * TLS material generated at test time with openssl: one CA, a valid leaf for localhost and
 * 127.0.0.1, an expired leaf, a leaf for another name, a self-signed cert, and a client cert.
 * Generated once per process into a temp directory (cached by path).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './scratch.js';

export interface Pair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  dir: string;
  ca: string;
  caFile: string;
  /** Valid for DNS:localhost and IP:127.0.0.1 and IP:::1. */
  valid: Pair;
  /** Signed by the CA, expired. */
  expired: Pair;
  /** Signed by the CA, for wrong.example only. */
  wrongHost: Pair;
  /** Self-signed (not from the CA), for localhost. */
  selfSigned: Pair;
  /** A client certificate signed by the CA (for mTLS). */
  client: Pair;
}

let cached: TlsMaterial | undefined;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function leaf(dir: string, name: string, subject: string, san: string, opts: { days?: number; expired?: boolean; selfSigned?: boolean; client?: boolean }): Pair {
  const key = `${name}.key`;
  const csr = `${name}.csr`;
  const crt = `${name}.crt`;
  const ext = `${name}.ext`;
  writeFileSync(
    join(dir, ext),
    [
      `subjectAltName=${san}`,
      'basicConstraints=CA:FALSE',
      `extendedKeyUsage=${opts.client ? 'clientAuth' : 'serverAuth'}`,
      'keyUsage=digitalSignature,keyEncipherment',
    ].join('\n') + '\n',
  );
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr], dir);
  if (opts.selfSigned) {
    openssl(['x509', '-req', '-in', csr, '-signkey', key, '-days', '30', '-extfile', ext, '-out', crt], dir);
  } else if (opts.expired) {
    // A validity window entirely in the past: openssl x509 -not_before/-not_after needs 3.4+,
    // so use `openssl ca` with explicit dates instead.
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca=CA_default',
        '[CA_default]',
        `dir=${dir}`,
        'database=$dir/index.txt',
        'serial=$dir/serial',
        'new_certs_dir=$dir',
        'default_md=sha256',
        'policy=policy_any',
        'copy_extensions=none',
        'unique_subject=no',
        '[policy_any]',
        'commonName=supplied',
      ].join('\n') + '\n',
    );
    openssl(
      ['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', csr, '-out', crt, '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-extfile', ext, '-notext'],
      dir,
    );
  } else {
    openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(opts.days ?? 30), '-extfile', ext, '-out', crt], dir);
  }
  chmodSync(join(dir, key), 0o600);
  return { cert: readFileSync(join(dir, crt), 'utf8'), key: readFileSync(join(dir, key), 'utf8'), certFile: join(dir, crt), keyFile: join(dir, key) };
}

/** The test CA and its certificates (generated on first use in this process). */
export function tlsMaterial(): TlsMaterial {
  if (cached) return cached;
  const dir = scratchDir('conn-check-tls-');
  chmodSync(dir, 0o755);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=conn-check test CA', '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt'], dir);
  const san = 'DNS:localhost,IP:127.0.0.1,IP:::1';
  cached = {
    dir,
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    caFile: join(dir, 'ca.crt'),
    valid: leaf(dir, 'valid', '/CN=localhost', san, {}),
    expired: leaf(dir, 'expired', '/CN=localhost', san, { expired: true }),
    wrongHost: leaf(dir, 'wrong', '/CN=wrong.example', 'DNS:wrong.example', {}),
    selfSigned: leaf(dir, 'self', '/CN=localhost', san, { selfSigned: true }),
    client: leaf(dir, 'client', '/CN=conn-check client', 'DNS:client', { client: true }),
  };
  return cached;
}

/** A server certificate from the test CA for other names (`DNS:node1.example.test`). */
export function leafFor(name: string, san: string): Pair {
  return leaf(tlsMaterial().dir, name, `/CN=${name}`, san, {});
}
