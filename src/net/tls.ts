/** TLS material and settings shared by the tls, http and service checks. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

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
