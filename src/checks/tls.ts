/**
 * tls (alias ssl): resolve, connect, complete a TLS handshake and verify the server's
 * certificate (chain against Node's roots + tls-certs-path + ca_file, dates, host name).
 * Optionally require a minimum number of days before the certificate expires and a minimum
 * TLS version, and (all_addresses) every resolved address to pass. Nothing is sent after the
 * handshake.
 */
import * as z from 'zod/mini';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { bareHost, connectAddress, connectTcp, hostPort, resolveHost, showAddress } from '../net/dial.js';
import { assertCertificate, awaitServerVerdict, handshake, secureOptions, verificationFailure } from '../net/tls.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck, type CheckContext } from '../core/contract.js';
import { bool, host, port, tlsOptionsShape } from '../core/options.js';
import { parseGeneric, requireHost, requirePort } from './url.js';

export const tls = defineCheck({
  type: 'tls',
  summary: 'a TLS handshake with host:port succeeds and its certificate verifies',
  url: { schemes: ['tls'], options: (raw) => { const u = parseGeneric(raw); return { host: requireHost(u), port: requirePort(u) }; } },
  options: z.object({
    host: host(),
    port: port(),
    ...tlsOptionsShape,
    all_addresses: z._default(bool(), false),
  }),
  name: (o) => `tls:${hostPort(o.host, o.port)}`,
  legacyNames: (o) => [`tls:${o.host}:${o.port}`],
  usesTls: () => true,
  target: (o) => hostPort(o.host, o.port),
  async run(o, ctx) {
    const started = performance.now();
    // Read ca_file and the client certificate before connecting: no file I/O may come between
    // the connection and the handshake (a reset in that gap would hit a socket nobody listens to).
    const options = await ctx.step('tls', () => secureOptions(o, o.host, ctx));
    const verifyName = options.servername ?? bareHost(o.host);

    /** The handshake over a connected socket, verified; the TLS socket, or a CheckError('tls'). */
    const secureOver = async (socket: Socket): Promise<TLSSocket> => {
      const verify = options.rejectUnauthorized !== false;
      // Verify ourselves after the handshake (nothing is sent): the messages can then name
      // the certificate (its CN, issuer, dates and names) instead of only an OpenSSL code.
      const s = await handshake(socket, { ...options, rejectUnauthorized: false }, ctx.signal);
      try {
        if (verify) {
          const why = verificationFailure(s, verifyName);
          if (why) throw new CheckError('tls', why);
        }
        const left = ctx.timeoutMs - (performance.now() - started);
        await awaitServerVerdict(s, ctx.signal, Math.max(20, Math.min(500, left / 2)));
        return s;
      } catch (err) {
        s.destroy();
        throw err;
      }
    };

    if (!o.all_addresses) {
      const { socket, address } = await ctx.step('tcp', () => connectTcp(o.host, o.port, ctx.signal));
      let secure: TLSSocket | undefined;
      try {
        secure = await ctx.step('tls', () => secureOver(socket));
        ctx.note(`connected to ${showAddress(address)}`);
        assertCertificate(secure, o, ctx, verifyName);
      } finally {
        secure?.destroy();
        socket.destroy();
      }
      return;
    }

    // all_addresses: the handshake and the assertions at every resolved address (a half-broken
    // dual-stack service, or one backend with an old certificate, is found, not hidden).
    const addresses = await ctx.step('resolve', () => resolveHost(o.host, ctx.signal));
    await ctx.step('tls', () => eachAddress(addresses, ctx, async (address, note) => {
      let socket: Socket;
      try {
        socket = await connectAddress(address, o.port, ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw new CheckError('tcp', describeError(err));
      }
      let secure: TLSSocket | undefined;
      try {
        secure = await secureOver(socket);
        assertCertificate(secure, o, { note }, verifyName);
      } finally {
        secure?.destroy();
        socket.destroy();
      }
    }));
  },
});

/**
 * Runs `probe` at every address at once; notes each address's outcome in address order
 * (`ADDRESS: detail`) and fails, naming the failing addresses, at the first failure's step:
 * `[::1]: connection refused (1 of 2 addresses failed)`.
 */
export async function eachAddress<A extends { address: string; family: 4 | 6 }>(
  addresses: readonly A[],
  ctx: Pick<CheckContext, 'note' | 'signal'>,
  probe: (address: A, note: (detail: string) => void) => Promise<void>,
): Promise<void> {
  const notes: string[][] = addresses.map(() => []);
  const outcomes = await Promise.allSettled(addresses.map((a, i) => probe(a, (d) => notes[i]!.push(d))));
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const failed: { text: string; step: string }[] = [];
  outcomes.forEach((r, i) => {
    const shown = showAddress(addresses[i]!);
    for (const d of notes[i]!) ctx.note(`${shown}: ${d}`);
    if (r.status === 'fulfilled') {
      if (!notes[i]!.length) ctx.note(`${shown}: passed`);
      return;
    }
    const err = r.reason;
    const text = `${shown}: ${err instanceof CheckError ? err.message : describeError(err)}`;
    failed.push({ text, step: err instanceof CheckError ? err.step : 'tcp' });
    ctx.note(text);
  });
  if (failed.length) {
    throw new CheckError(failed[0]!.step, `${failed.map((f) => f.text).join('; ')} (${failed.length} of ${addresses.length} addresses failed)`);
  }
}
