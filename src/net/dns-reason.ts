/**
 * Why a host name did not resolve. getaddrinfo (dns.lookup, which every check uses so that
 * /etc/hosts and nsswitch count) answers only "not found" or "temporary failure": it cannot
 * tell a name that does not exist from one without addresses, a failing server or one that
 * never answers. After such a failure (only then), the same name is asked once more of the
 * system's DNS servers, directly, and the answer says which it was.
 */
import { nodeDnsPromises } from './builtins.js';

/** How long the explaining query may take (the check's own deadline may cut it shorter). */
const EXPLAIN_TIMEOUT_MS = 2000;

const REASONS: Record<string, string> = {
  ENOTFOUND: 'no such name (NXDOMAIN)',
  ENODATA: 'the name has no address (no A or AAAA record)',
  ESERVFAIL: 'the DNS server failed (SERVFAIL)',
  ETIMEOUT: 'no answer from the DNS server (timed out)',
  ECONNREFUSED: 'no DNS server answers (connection refused)',
  EREFUSED: 'the DNS server refused the query (REFUSED)',
  EFORMERR: 'the DNS server could not read the query (FORMERR)',
  EBADRESP: 'the DNS server sent a malformed answer',
};

/** What getaddrinfo's own code says, when the direct query cannot tell more. */
const LOOKUP_CODES: Record<string, string> = {
  ENOTFOUND: 'name not found',
  EAI_NONAME: 'name not found',
  EAI_AGAIN: 'temporary failure',
  EAI_NODATA: 'the name has no address',
  ENODATA: 'the name has no address',
  EAI_FAIL: 'the DNS server failed',
};

/**
 * The reason `host` did not resolve, as "dns resolution failed: REASON". `lookupCode` is the
 * code dns.lookup failed with; `servers` (tests) replaces the system's DNS servers.
 */
export async function explainLookupFailure(host: string, lookupCode: string | undefined, signal: AbortSignal, servers?: string[]): Promise<string> {
  const fallback = `dns resolution failed${lookupCode && LOOKUP_CODES[lookupCode] ? `: ${LOOKUP_CODES[lookupCode]}` : ''}`;
  const resolver = new (nodeDnsPromises().Resolver)({ timeout: EXPLAIN_TIMEOUT_MS, tries: 1 });
  if (servers) resolver.setServers(servers);
  const ask = async (type: 'A' | 'AAAA'): Promise<string | undefined> => {
    try {
      await (type === 'A' ? resolver.resolve4(host) : resolver.resolve6(host));
      return undefined; // it has addresses of this family
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    }
  };
  // Cancelling makes both queries end at once (ECANCELLED), so the check's deadline holds.
  const onAbort = () => resolver.cancel();
  if (signal.aborted) return fallback;
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const [a, aaaa] = await Promise.all([ask('A'), ask('AAAA')]);
    // Addresses exist, so the failure was the system's (nsswitch, a resolver that differs): no more to say.
    if (a === undefined || aaaa === undefined) return fallback;
    const code = a === 'ENODATA' ? aaaa : a;
    return REASONS[code] ? `dns resolution failed: ${REASONS[code]}` : fallback;
  } catch {
    return fallback;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
