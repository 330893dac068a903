/**
 * `mongodb+srv://NAME`: the seed list from DNS, as the driver specification ("Initial DNS Seedlist
 * Discovery") says: the SRV record `_mongodb._tcp.NAME` gives the servers (each must lie in NAME's
 * parent domain), its TXT record may give `authSource` and `replicaSet` (nothing else; one TXT
 * record at most), which the URL's own parameters override. Asked through the system's name
 * servers, or `dns_server` (which then also resolves the servers' names), within the deadline.
 */
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { resolveHost, untilAborted, type Address } from '../net/dial.js';
import { describeError } from '../net/errors.js';
import { parseServer } from './dns.js';
import { CheckError, type CheckContext } from '../core/contract.js';
import type { Endpoint } from './hosts.js';

export interface SrvSeeds {
  seeds: Endpoint[];
  /** With dns_server: a server's addresses, asked there (step `resolve`). */
  addressesOf?: (name: string, signal: AbortSignal) => Promise<Address[] | undefined>;
  authSource?: string;
  replicaSet?: string;
}

/** At most this many SRV answers are used (a hostile server may send many). */
const MAX_SEEDS = 32;
const TXT_OPTIONS = new Set(['authsource', 'replicaset', 'loadbalanced']);

function dnsError(err: unknown, what: string, where: string): CheckError {
  const code = (err as { code?: unknown })?.code;
  const why =
    code === 'ENOTFOUND' ? 'name not found (NXDOMAIN)'
    : code === 'ENODATA' ? 'no record'
    : code === 'ETIMEOUT' ? `timed out (no answer from ${where})`
    : code === 'ECONNREFUSED' ? `connection refused (no DNS server at ${where})`
    : code === 'ESERVFAIL' ? 'the server failed to answer (SERVFAIL)'
    : code === 'EREFUSED' ? 'the server refused the query (REFUSED)'
    : describeError(err);
  return new CheckError('resolve', `${what}: ${why}`);
}

/** The A and AAAA records of `name` at the DNS server `where` (undefined for an address). */
async function addressesAt(where: string, name: string, signal: AbortSignal): Promise<Address[] | undefined> {
  if (isIP(name)) return undefined;
  const resolver = new dnsPromises.Resolver({ tries: 1 });
  resolver.setServers([where]);
  const cancel = () => resolver.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const [v4, v6] = await untilAborted(Promise.all([resolver.resolve4(name).catch(() => [] as string[]), resolver.resolve6(name).catch(() => [] as string[])]), signal);
    const addresses: Address[] = [...v4.map((a) => ({ address: a, family: 4 as const })), ...v6.map((a) => ({ address: a, family: 6 as const }))];
    if (!addresses.length) throw new CheckError('resolve', `${name}: no A or AAAA record at ${where}`);
    return addresses;
  } finally {
    signal.removeEventListener('abort', cancel);
    resolver.cancel();
  }
}

/** The domain every SRV target must end with: NAME without its first label (NAME itself when it has fewer than 3). */
function parentDomain(name: string): string {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  return labels.length >= 3 ? labels.slice(1).join('.') : labels.join('.');
}

export async function srvSeeds(name: string, dnsServer: string | undefined, ctx: CheckContext): Promise<SrvSeeds> {
  const host = name.trim().replace(/\.$/, '');
  const deadline = performance.now() + ctx.timeoutMs;
  const remaining = () => Math.max(1, Math.round(deadline - performance.now()));
  const resolver = new dnsPromises.Resolver({ timeout: remaining() + 500, tries: 1 });
  let where = 'the system name servers';
  const server = dnsServer ? parseServer(dnsServer) : undefined;
  if (server) {
    let addresses: Address[];
    try {
      addresses = await resolveHost(server.host, ctx.signal);
    } catch (err) {
      if (err instanceof CheckError) throw new CheckError('resolve', `DNS server ${server.host}: ${err.message}`);
      throw err;
    }
    const a = addresses[0]!;
    where = a.family === 6 ? `[${a.address}]:${server.port}` : `${a.address}:${server.port}`;
    resolver.setServers([where]);
  } else if (!resolver.getServers().length) {
    throw new CheckError('resolve', 'no system name servers configured (set dns_server)');
  }
  const cancel = () => resolver.cancel();
  ctx.signal.addEventListener('abort', cancel, { once: true });
  try {
    const srvName = `_mongodb._tcp.${host}`;
    const [srv, txt] = await untilAborted(
      Promise.all([
        resolver.resolveSrv(srvName).catch((err: unknown) => Promise.reject(dnsError(err, `SRV ${srvName}`, where))),
        resolver.resolveTxt(host).catch((err: unknown) => {
          const code = (err as { code?: unknown })?.code;
          // no TXT record is the usual case
          if (code === 'ENODATA' || code === 'ENOTFOUND') return [] as string[][];
          return Promise.reject(dnsError(err, `TXT ${host}`, where));
        }),
      ]),
      ctx.signal,
    );
    if (!srv.length) throw new CheckError('resolve', `SRV ${srvName}: no record`);
    const parent = parentDomain(host);
    const sorted = srv.slice(0, MAX_SEEDS).sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    const seeds: SrvSeeds['seeds'] = [];
    for (const r of sorted) {
      const target = r.name.toLowerCase().replace(/\.$/, '');
      // the spec's rule: a record may only name servers in the cluster's own domain
      if (!target.endsWith(`.${parent}`) || target === host.toLowerCase() || !/^[a-z0-9.-]+$/.test(target)) {
        throw new CheckError('resolve', `SRV ${srvName} names ${target.length > 80 ? 'a long name' : target}, outside ${parent} (the driver specification refuses it)`);
      }
      if (!(r.port >= 1 && r.port <= 65535)) throw new CheckError('resolve', `SRV ${srvName} has port ${r.port}`);
      seeds.push({ host: target, port: r.port });
    }
    ctx.note(`SRV ${srvName} (asked ${where}): ${seeds.map((s) => `${s.host}:${s.port}`).join(', ')}`);
    if (txt.length > 1) throw new CheckError('resolve', `TXT ${host}: ${txt.length} records (the driver specification allows one)`);
    const out: SrvSeeds = { seeds };
    if (txt.length === 1) {
      const params = new URLSearchParams(txt[0]!.join(''));
      for (const [k, v] of params) {
        const key = k.toLowerCase();
        if (!TXT_OPTIONS.has(key)) throw new CheckError('resolve', `TXT ${host} sets ${k.length > 30 ? 'an option' : JSON.stringify(k)}; only authSource, replicaSet and loadBalanced may be set there`);
        if (key === 'authsource') out.authSource = v;
        if (key === 'replicaset') out.replicaSet = v;
      }
      ctx.note(`TXT ${host}: ${[out.authSource !== undefined ? `authSource ${out.authSource}` : '', out.replicaSet !== undefined ? `replicaSet ${out.replicaSet}` : ''].filter(Boolean).join(', ') || 'no options the check uses'}`);
    }
    // With a DNS server of its own, the check resolves the servers' names there too (each when
    // its turn comes: a name without an address is that server's failure, not the others').
    if (server) out.addressesOf = (name, signal) => addressesAt(where, name, signal);
    return out;
  } catch (err) {
    if (ctx.signal.aborted || err instanceof CheckError) throw err;
    throw dnsError(err, host, where);
  } finally {
    ctx.signal.removeEventListener('abort', cancel);
    resolver.cancel();
  }
}
