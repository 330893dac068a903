/**
 * The one interface both HTTP clients implement: `send` one request, get its answer (status,
 * headers, a body to read). direct.ts (node:http, a connection per request, opened by the
 * caller's tcp step or by the client) and proxied.ts (undici through a proxy). Each client turns
 * its own errors into the same steps and messages (errors.ts); nothing here knows which one ran.
 *
 * Another check that needs HTTP requests (an object store, say) uses the direct client as is
 * (direct.ts), with its own TLS options and assertions (s3 does):
 *   await withDirect(url, { tls: o }, ctx, async (client) => {
 *     const answer = await client.send({ url, method: 'GET', headers: {} });
 *     const { data } = await answer.read(limit);
 *   });
 * withDirect is the kit's withService: for an https URL the TLS material first (step tls, no
 * connection made yet), the tcp step (noting the address), the handshake and the certificate
 * (steps tls and cert); the first request runs on that connection, and all is closed after.
 * Failures come as CheckErrors at steps tls, resolve, tcp, cert, request (send) and body (read,
 * discard).
 */

/** How much of a body is read: enough for expected_body, bounded for huge downloads. */
export const BODY_LIMIT = 1024 * 1024;

export type Headers = Record<string, string | string[] | undefined>;

export interface HttpRequest {
  url: URL;
  /** Upper case. */
  method: string;
  /** Names as written; a list repeats the header. */
  headers: Record<string, string | string[]>;
  body?: string;
}

/** An answer's status, headers and body, whichever client got it. */
export interface Answer {
  statusCode: number;
  /** Lower-case names; a header sent several times is a list. */
  headers: Headers;
  /** Reads the body, at most `limit` bytes (a failure is a CheckError at step body). */
  read(limit: number): Promise<{ data: Buffer; truncated: boolean }>;
  /** Reads and drops the body (up to BODY_LIMIT; beyond that the connection is closed). */
  discard(): Promise<unknown>;
}

/**
 * Sends one request and resolves once the answer's head is in. Fails with a CheckError at the
 * step it belongs to (tcp, tls, cert, proxy or request), in the words every client uses.
 */
export type Send = (request: HttpRequest) => Promise<Answer>;

export interface HttpClient {
  send: Send;
  /** Closes every connection the client opened (also done at the check's deadline). */
  close(): Promise<void>;
}

export function firstHeader(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function allHeaders(headers: Headers, name: string): string[] {
  const v = headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function defaultPort(u: URL): number {
  return Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
}
