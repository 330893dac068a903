/** TLS material and settings shared by the tls, http and service checks. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect, rootCertificates, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { isIP, type Socket } from 'node:net';
import { CheckError, type CheckContext } from '../checks/types.js';
import type { TlsOptions } from '../checks/options.js';
import { bareHost } from './dial.js';
import { describeError } from './errors.js';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Extra CA certificates from a PEM file or a directory of them (as conn-check's --tls-certs-path). */
export async function loadCaPath(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`tls-certs-path ${path}: not found`);
  }
  const files = info.isDirectory()
    ? (await readdir(path)).filter((f) => /\.(pem|crt|cer)$/i.test(f)).map((f) => join(path, f))
    : [path];
  const certs = new Set<string>();
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.match(PEM) ?? []) certs.add(m);
  }
  if (!info.isDirectory() && certs.size === 0) throw new Error(`tls-certs-path ${path}: no PEM certificate in it`);
  return [...certs];
}

/** Node's roots plus the extra CAs (and a check's own ca_file content, when given). */
export function caBundle(extraCa: readonly string[], own?: string | readonly string[]): string[] | undefined {
  const ownList = own === undefined ? [] : typeof own === 'string' ? [own] : [...own];
  if (!extraCa.length && !ownList.length) return undefined;
  return [...rootCertificates, ...extraCa, ...ownList];
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CheckError('tls', `cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Node's TLS connection options for a check: verification on unless disabled, Node's roots
 * plus tls-certs-path plus ca_file, client certificate for mTLS, SNI from the host name.
 */
export async function secureOptions(o: Partial<TlsOptions>, host: string, ctx: Pick<CheckContext, 'extraCa'>): Promise<ConnectionOptions> {
  const h = bareHost(host);
  const options: ConnectionOptions = {
    rejectUnauthorized: !o.disable_tls_verification,
    servername: o.server_name ?? (isIP(h) ? undefined : h),
  };
  const own = o.ca_file ? await readPem(o.ca_file, 'ca_file') : undefined;
  const ca = caBundle(ctx.extraCa, own);
  if (ca) options.ca = ca;
  if (o.client_cert || o.client_key) {
    if (!o.client_cert || !o.client_key) throw new CheckError('tls', 'client_cert and client_key go together');
    options.cert = await readPem(o.client_cert, 'client_cert');
    options.key = await readPem(o.client_key, 'client_key');
  }
  return options;
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
    const tlsSocket = tlsConnect({ ...options, ...(socket ? { socket } : {}) });
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
      reject(err instanceof CheckError ? err : new CheckError('tls', describeError(err)));
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
