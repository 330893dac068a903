/** TLS material and settings shared by the tls, http and service checks. */
import { join } from 'node:path';
import type { ConnectionOptions, SecureContext, TLSSocket } from 'node:tls';
import { files as fs, nodeTls } from './builtins.js';
import { isIP, type Socket } from 'node:net';
import { CheckError, type CheckContext } from '../core/contract.js';
import type { TlsOptions } from '../core/options.js';
import { bareHost } from './dial.js';
import { describeError } from './errors.js';
import { nodeDefaultCertificates, trustedCertificates } from './trust.js';
import { capReads } from './bounded.js';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Extra CA certificates from a PEM file or a directory of them (as conn-check's --tls-certs-path). */
export async function loadCaPath(path: string): Promise<string[]> {
  let info;
  try {
    info = await fs.stat(path);
  } catch {
    throw new Error(`tls-certs-path ${path}: not found`);
  }
  const files = info.isDirectory()
    ? (await fs.readdir(path)).filter((f) => /\.(pem|crt|cer)$/i.test(f)).map((f) => join(path, f))
    : [path];
  const certs = new Set<string>();
  for (const f of files) {
    let text: string;
    try {
      text = await fs.readText(f, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.match(PEM) ?? []) certs.add(m);
  }
  if (!info.isDirectory() && certs.size === 0) throw new Error(`tls-certs-path ${path}: no PEM certificate in it`);
  return [...certs];
}

/**
 * One secure context per CA list and what else a context holds (a check's own CA, client
 * certificate and key, minimum version), shared by the connections that have the same: Node
 * parses a `ca` list (hundreds of certificates with the system store) for every new context,
 * about 25 ms of CPU per connection here, which a run of dozens of checks with a ca_file spent
 * on its one thread while their peers waited. Drivers that build their own context use `ca`.
 */
const sharedContexts = new WeakMap<readonly string[], Map<string, SecureContext>>();
function sharedContext(trusted: readonly string[], own: string | undefined, options: ConnectionOptions): SecureContext {
  let forList = sharedContexts.get(trusted);
  if (!forList) sharedContexts.set(trusted, (forList = new Map()));
  const { ca, cert, key, minVersion } = options;
  const id = JSON.stringify([own, cert, key, minVersion]);
  let c = forList.get(id);
  if (!c) forList.set(id, (c = nodeTls().createSecureContext({ ca, cert, key, minVersion })));
  return c;
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await fs.readText(path, 'utf8');
  } catch (err) {
    throw new CheckError('tls', `cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Reads the trust store and builds its shared context ahead of the checks (the runner calls it
 * before the deadlines start when a check will use TLS).
 */
export async function warmTrust(env: NodeJS.ProcessEnv, extraCa: readonly string[]): Promise<void> {
  await secureOptions({}, 'localhost', { env, extraCa });
}

/**
 * Node's TLS connection options for a check: verification on unless disabled, Node's roots
 * plus tls-certs-path plus ca_file, client certificate for mTLS, SNI from the host name.
 */
export async function secureOptions(o: Partial<TlsOptions>, host: string, ctx: Pick<CheckContext, 'extraCa'> & Partial<Pick<CheckContext, 'env'>>): Promise<ConnectionOptions> {
  const h = bareHost(host);
  const options: ConnectionOptions = {
    rejectUnauthorized: !o.disable_tls_verification,
    servername: o.server_name ?? (isIP(h) ? undefined : h),
  };
  const own = o.ca_file ? await readPem(o.ca_file, 'ca_file') : undefined;
  // What the machine trusts (net/trust.ts: undefined when it is Node's default store) plus the
  // check's own ca_file.
  const trusted = await trustedCertificates(ctx.env ?? process.env, ctx.extraCa);
  const ca = own === undefined ? trusted : [...(trusted ?? nodeDefaultCertificates()), own];
  if (ca) options.ca = ca;
  if (o.client_cert || o.client_key) {
    if (!o.client_cert || !o.client_key) throw new CheckError('tls', 'client_cert and client_key go together');
    options.cert = await readPem(o.client_cert, 'client_cert');
    options.key = await readPem(o.client_key, 'client_key');
  }
  if (o.min_tls_version) options.minVersion = o.min_tls_version;
  // (a context given to tls.connect overrides ca, cert, key and minVersion: it is made with them;
  // without a ca list, Node's default store costs nothing to share)
  if (ca) options.secureContext = sharedContext(trusted ?? nodeDefaultCertificates(), own, options);
  return options;
}

/**
 * The failure for a handshake that found no TLS version in common while min_tls_version was
 * set (the server does not offer it); undefined for any other error.
 */
export function minVersionFailure(err: unknown, minVersion: string | undefined): CheckError | undefined {
  if (!minVersion) return undefined;
  const text = err instanceof CheckError ? err.message : describeError(err);
  // describeError knows Node's codes; a TLS error raised on a write (EPROTO, as pg meets it)
  // only has OpenSSL's text
  const raw = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : '';
  if (!/no TLS version in common/.test(text) && !/alert protocol version|unsupported protocol|no protocols available/i.test(raw)) return undefined;
  return new CheckError('tls', `TLS handshake failed: the server does not offer ${minVersion} or later (min_tls_version)`);
}

/**
 * A TLS handshake over an open socket (or a new connection), obeying the signal. On failure
 * the socket is destroyed and a CheckError('tls', why) is thrown.
 */
export function handshake(socket: Socket | undefined, options: ConnectionOptions, signal: AbortSignal): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    if (signal.aborted) {
      socket?.destroy();
      return reject(signal.reason);
    }
    const tlsSocket = capReads(nodeTls().connect({ ...options, ...(socket ? { socket } : {}) }), signal);
    const onAbort = () => {
      tlsSocket.destroy();
      socket?.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const fail = (err: unknown) => {
      signal.removeEventListener('abort', onAbort);
      tlsSocket.destroy();
      socket?.destroy();
      reject(err instanceof CheckError ? err : (minVersionFailure(err, options.minVersion) ?? new CheckError('tls', describeError(err))));
    };
    tlsSocket.once('error', fail);
    tlsSocket.once('close', () => fail(new CheckError('tls', 'connection closed during the TLS handshake')));
    tlsSocket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      tlsSocket.removeAllListeners('error');
      tlsSocket.removeAllListeners('close');
      tlsSocket.on('error', () => {});
      resolve(tlsSocket);
    });
  });
}

/** What a check reports about the server's leaf certificate. */
export interface CertInfo {
  subjectCN?: string;
  issuerCN?: string;
  /** `DNS:a, IP:1.2.3.4` as in the certificate, when it has a subjectAltName. */
  altNames?: string;
  validFrom: Date;
  validTo: Date;
  /** Whole days until validTo (negative once expired). */
  daysLeft: number;
}

const DAY_MS = 86_400_000;

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The leaf certificate of an established TLS connection, or undefined when the server sent none. */
export function peerCertInfo(socket: TLSSocket, now = Date.now()): CertInfo | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0 || !cert.valid_to) return undefined;
  const validTo = new Date(cert.valid_to);
  return {
    subjectCN: firstValue(cert.subject?.CN),
    issuerCN: firstValue(cert.issuer?.CN),
    altNames: cert.subjectaltname || undefined,
    validFrom: new Date(cert.valid_from),
    validTo,
    daysLeft: Math.floor((validTo.getTime() - now) / DAY_MS),
  };
}

const RANK: Record<string, number> = { SSLv3: 0, TLSv1: 1, 'TLSv1.1': 2, 'TLSv1.2': 3, 'TLSv1.3': 4 };

/** `TLSv1.3, cert CN=a (issuer CN=b) expires in N days`: what every TLS check notes. */
export function certLine(protocol: string, cert: CertInfo | undefined): string {
  if (!cert) return `${protocol}, the server sent no certificate`;
  const who = cert.subjectCN ? `CN=${cert.subjectCN}` : cert.altNames ?? 'without a name';
  const issuer = cert.issuerCN && cert.issuerCN !== cert.subjectCN ? ` (issuer CN=${cert.issuerCN})` : cert.issuerCN ? ' (self-issued)' : '';
  const when = cert.daysLeft >= 0 ? `expires in ${cert.daysLeft} days` : `expired ${-cert.daysLeft} days ago`;
  return `${protocol}, cert ${who}${issuer} ${when}`;
}

/**
 * The TLS assertions every TLS-capable check makes on the server's connection, once the
 * handshake is done: notes the protocol and the leaf certificate (CN, issuer, days left; with
 * verification disabled, that it was and why it would have failed, when `verifyName` is
 * given), then fails at step tls when the negotiated version is below min_tls_version (a
 * driver that ignored minVersion) and at step cert when the certificate expires in fewer
 * than min_cert_days days.
 */
export function assertCertificate(
  socket: TLSSocket,
  o: Partial<Pick<TlsOptions, 'disable_tls_verification' | 'min_tls_version' | 'min_cert_days'>>,
  ctx: Pick<CheckContext, 'note'>,
  verifyName?: string,
): CertInfo | undefined {
  const protocol = socket.getProtocol() ?? 'unknown';
  const cert = peerCertInfo(socket);
  let suffix = '';
  if (o.disable_tls_verification) {
    suffix = '; verification disabled';
    if (!socket.authorized && verifyName !== undefined) suffix += ` (would fail: ${verificationFailure(socket, verifyName)})`;
  }
  ctx.note(`${certLine(protocol, cert)}${suffix}`);
  if (o.min_tls_version && (RANK[protocol] ?? 0) < RANK[o.min_tls_version]!) {
    throw new CheckError('tls', `negotiated ${protocol}, below min_tls_version ${o.min_tls_version}`);
  }
  if (o.min_cert_days !== undefined) {
    if (!cert) throw new CheckError('cert', 'the server sent no certificate');
    if (cert.daysLeft < o.min_cert_days) {
      throw new CheckError(
        'cert',
        cert.daysLeft >= 0
          ? `certificate expires in ${cert.daysLeft} days (minimum ${o.min_cert_days})`
          : `certificate expired ${-cert.daysLeft} days ago (minimum ${o.min_cert_days} days left)`,
      );
    }
  }
  return cert;
}

const day = (d: Date) => (Number.isNaN(d.getTime()) ? 'an unknown date' : d.toISOString().slice(0, 10));

/**
 * Why a TLS connection made with rejectUnauthorized: false would have been refused by
 * verification (chain, dates, host name), in words that name the certificate; undefined when
 * it verifies. `name` is the name that was checked (server_name, else the host).
 */
export function verificationFailure(socket: TLSSocket, name: string): string | undefined {
  if (socket.authorized) return undefined;
  const code = String(socket.authorizationError ?? 'certificate verification failed');
  const info = peerCertInfo(socket);
  const cn = info?.subjectCN ? `CN=${info.subjectCN}` : 'the certificate';
  switch (code) {
    case 'ERR_TLS_CERT_ALTNAME_INVALID': {
      const names = info?.altNames ?? (info?.subjectCN ? `CN=${info.subjectCN}` : 'no names');
      return `certificate does not match the host name ${bareHost(name)} (it is for ${names})`;
    }
    case 'CERT_HAS_EXPIRED':
      return info ? `certificate has expired (${cn}, on ${day(info.validTo)}, ${-info.daysLeft} days ago)` : describeError({ code });
    case 'CERT_NOT_YET_VALID':
      return info ? `certificate is not yet valid (${cn}, valid from ${day(info.validFrom)})` : describeError({ code });
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `self-signed certificate (not trusted): ${cn} (add it with ca_file or tls-certs-path, or set disable_tls_verification: true)`;
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      return `certificate not trusted: unknown issuer${info?.issuerCN ? ` CN=${info.issuerCN}` : ''} for ${cn} (add the CA with tls-certs-path or ca_file)`;
    default:
      return describeError({ code, message: code });
  }
}

/**
 * In TLS 1.3 the client finishes its handshake before the server has checked the client's
 * certificate: a server that refuses it (mTLS) says so with an alert one round trip later.
 * Waits for the server's verdict: its session ticket (accepted), an alert (CheckError('tls')),
 * or `graceMs` of silence (taken as accepted). Returns at once for TLS 1.2 and older.
 */
export function awaitServerVerdict(socket: TLSSocket, signal: AbortSignal, graceMs: number): Promise<void> {
  if (socket.getProtocol() !== 'TLSv1.3') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = (err?: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('session', onOk);
      socket.off('data', onOk);
      socket.off('end', onOk);
      socket.off('close', onOk);
      socket.off('error', onError);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onOk = () => done();
    const onError = (err: unknown) => done(new CheckError('tls', describeError(err)));
    const onAbort = () => done(signal.reason);
    const timer = setTimeout(onOk, graceMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('session', onOk);
    socket.once('data', onOk);
    socket.once('end', onOk);
    socket.once('close', onOk);
    socket.once('error', onError);
  });
}
