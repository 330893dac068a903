/**
 * The trust store: what the machine trusts, as conn-check's http checks did (requests on
 * Debian/Ubuntu uses the system store) and as OpenSSL tools do. Node's own roots, plus:
 * - the system store: `tls.getCACertificates('system')` where the runtime has it (Node 24),
 *   else the distribution's bundle (a company CA installed with `update-ca-certificates` is in
 *   /etc/ssl/certs/ca-certificates.crt), else the certificates in /etc/ssl/certs;
 * - `SSL_CERT_FILE` (a PEM bundle) and `SSL_CERT_DIR` (directories, `:`-separated);
 * - `NODE_EXTRA_CA_CERTS` (Node adds it to its defaults, but not once a `ca` list is given);
 * - `--tls-certs-path` / the `tls-certs-path` input (the caller's extra list).
 * Verification stays on. Nothing here runs until a TLS connection is prepared, and the system
 * store is read once per process: a run without TLS never pays for it.
 */
import { join } from 'node:path';
import { files as fs, nodeTls } from './builtins.js';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/** A trust file larger than this is not read (the biggest distribution bundles are ~250 KB). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** Files read from one certificate directory at most. */
const MAX_DIR_FILES = 5000;

/** Where distributions put their CA bundle (the first that exists is read). */
export const DISTRIBUTION_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine, Arch
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL, CentOS
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // RHEL 7+
  '/etc/ssl/cert.pem', // macOS, Alpine
];
export const DISTRIBUTION_DIR = '/etc/ssl/certs';

/** The certificates (PEM blocks) in a file; none when it cannot be read or is too large. */
export async function pemsInFile(path: string): Promise<string[]> {
  try {
    const info = await fs.stat(path);
    if (!info.isFile() || info.size > MAX_FILE_BYTES) return [];
    return (await fs.readText(path, 'latin1')).match(PEM) ?? [];
  } catch {
    return [];
  }
}

/** OpenSSL looks certificates up in a directory by subject hash: `xxxxxxxx.N`, nothing else. */
const HASHED = /^[0-9a-f]{8}\.\d+$/;
const READ_AT_ONCE = 32;

/**
 * The certificates of a directory as OpenSSL sees it: its hashed names (`c_rehash`, Debian's
 * update-ca-certificates), read a few dozen at a time.
 */
export async function pemsInDir(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => HASHED.test(n)).sort().slice(0, MAX_DIR_FILES);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (let i = 0; i < names.length; i += READ_AT_ONCE) {
    const batch = await Promise.all(names.slice(i, i + READ_AT_ONCE).map((n) => pemsInFile(join(dir, n))));
    for (const pems of batch) out.push(...pems);
  }
  return out;
}

/** A certificate's identity: its base64 body without line breaks (Node's PEM and a file's differ in layout). */
function key(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
}

type GetCa = (type: 'system' | 'default' | 'bundled' | 'extra') => string[];
function runtimeGetCa(): GetCa | undefined {
  const get = (nodeTls() as unknown as { getCACertificates?: GetCa }).getCACertificates;
  return typeof get === 'function' ? get : undefined;
}

let systemStore: Promise<string[]> | undefined;
let systemReads = 0;
/** How many times this process read the system store (0 or 1: for the tests of its laziness). */
export const systemStoreReads = (): number => systemReads;

/** The machine's default store (read once per process). */
export function systemCertificates(): Promise<string[]> {
  return (systemStore ??= (async () => {
    systemReads++;
    const get = runtimeGetCa();
    if (get) {
      try {
        const certs = get('system');
        if (certs.length) return certs;
      } catch {
        // fall back to the files
      }
    }
    for (const bundle of DISTRIBUTION_BUNDLES) {
      const certs = await pemsInFile(bundle);
      if (certs.length) return certs;
    }
    return pemsInDir(DISTRIBUTION_DIR);
  })());
}

/**
 * What the environment adds: SSL_CERT_FILE, SSL_CERT_DIR, NODE_EXTRA_CA_CERTS. The runtime's
 * system store already holds this process's SSL_CERT_FILE and SSL_CERT_DIR: not read twice.
 */
async function fromEnvironment(env: NodeJS.ProcessEnv): Promise<string[]> {
  const covered = (name: 'SSL_CERT_FILE' | 'SSL_CERT_DIR') => runtimeGetCa() !== undefined && env[name] === process.env[name];
  const files = [covered('SSL_CERT_FILE') ? undefined : env.SSL_CERT_FILE, env.NODE_EXTRA_CA_CERTS].filter((f): f is string => !!f);
  const dirs = covered('SSL_CERT_DIR') ? [] : (env.SSL_CERT_DIR ?? '').split(':').filter(Boolean);
  const found = await Promise.all([...files.map(pemsInFile), ...dirs.map(pemsInDir)]);
  return found.flat();
}

/** Node's default store as a list (its roots, and NODE_EXTRA_CA_CERTS where the runtime says). */
export function nodeDefaultCertificates(): readonly string[] {
  try {
    return runtimeGetCa()?.('default') ?? nodeTls().rootCertificates;
  } catch {
    return nodeTls().rootCertificates;
  }
}

let nodeDefaults: Set<string> | undefined;
/** What Node trusts when no `ca` is given: its roots and the NODE_EXTRA_CA_CERTS it read at start. */
function nodeDefaultKeys(): Set<string> {
  if (!nodeDefaults) {
    nodeDefaults = new Set(nodeDefaultCertificates().map(key));
  }
  return nodeDefaults;
}

/** Per extra list (one per run; every empty list is the same), per environment. */
const bundles = new WeakMap<readonly string[], Map<string, Promise<string[] | undefined>>>();
const NO_EXTRA: readonly string[] = [];

/**
 * The CA list for TLS connections: undefined when it would add nothing to what Node trusts by
 * default (then no `ca` is passed and Node's own store is used), else Node's roots and every
 * source above, without duplicates. Computed once per environment and extra list.
 */
export function trustedCertificates(env: NodeJS.ProcessEnv, extraCa: readonly string[]): Promise<string[] | undefined> {
  const id = JSON.stringify([env.SSL_CERT_FILE, env.SSL_CERT_DIR, env.NODE_EXTRA_CA_CERTS]);
  const extraKey = extraCa.length ? extraCa : NO_EXTRA;
  let forExtra = bundles.get(extraKey);
  if (!forExtra) bundles.set(extraKey, (forExtra = new Map()));
  let found = forExtra.get(id);
  if (!found) {
    found = (async () => {
      const seen = new Set<string>();
      const all: string[] = [];
      const add = (pems: readonly string[]) => {
        for (const pem of pems) {
          const k = key(pem);
          if (seen.has(k)) continue;
          seen.add(k);
          all.push(pem);
        }
      };
      add(nodeTls().rootCertificates);
      add(await systemCertificates());
      add(await fromEnvironment(env));
      add(extraCa);
      const defaults = nodeDefaultKeys();
      return [...seen].every((k) => defaults.has(k)) ? undefined : all;
    })();
    forExtra.set(id, found);
  }
  return found;
}
