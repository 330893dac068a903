/**
 * tls (alias ssl): resolve, connect, complete a TLS handshake and verify the server's
 * certificate (chain against Node's roots + tls-certs-path + ca_file, dates, host name).
 * Optionally require a minimum number of days before the certificate expires and a minimum
 * TLS version. Nothing is sent after the handshake.
 */
import { z } from 'zod';
import type { TLSSocket } from 'node:tls';
import { bareHost, connectTcp, hostPort, showAddress } from '../net/dial.js';
import { awaitServerVerdict, handshake, peerCertInfo, secureOptions, verificationFailure, type CertInfo } from '../net/tls.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck } from './types.js';
import { host, integer, oneOf, port, tlsOptionsShape } from './options.js';

const RANK: Record<string, number> = { TLSv1: 1, 'TLSv1.1': 2, 'TLSv1.2': 3, 'TLSv1.3': 4 };

function certLine(protocol: string, cert: CertInfo | undefined): string {
  if (!cert) return `${protocol}, the server sent no certificate`;
  const who = cert.subjectCN ? `CN=${cert.subjectCN}` : cert.altNames ?? 'without a name';
  const issuer = cert.issuerCN && cert.issuerCN !== cert.subjectCN ? ` (issuer CN=${cert.issuerCN})` : cert.issuerCN ? ' (self-issued)' : '';
  const when = cert.daysLeft >= 0 ? `expires in ${cert.daysLeft} days` : `expired ${-cert.daysLeft} days ago`;
  return `${protocol}, cert ${who}${issuer} ${when}`;
}

export const tls = defineCheck({
  type: 'tls',
  aliases: ['ssl'],
  summary: 'a TLS handshake with host:port succeeds and its certificate verifies',
  options: z.object({
    host: host(),
    port: port(),
    ...tlsOptionsShape,
    min_cert_days: integer(0, 36_500).optional(),
    min_tls_version: oneOf(['TLSv1.2', 'TLSv1.3']).optional(),
  }),
  name: (o) => `tls:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run(o, ctx) {
    const started = performance.now();
    // Read ca_file and the client certificate before connecting: no file I/O may come between
    // the connection and the handshake (a reset in that gap would hit a socket nobody listens to).
    const options = await ctx.step('tls', () => secureOptions(o, o.host, ctx));
    const { socket, address } = await ctx.step('tcp', () => connectTcp(o.host, o.port, ctx.signal));
    let secure: TLSSocket | undefined;
    try {
      secure = await ctx.step('tls', async () => {
        const verify = options.rejectUnauthorized !== false;
        // Verify ourselves after the handshake (nothing is sent): the messages can then name
        // the certificate (its CN, issuer, dates and names) instead of only an OpenSSL code.
        const s = await handshake(socket, { ...options, rejectUnauthorized: false, ...(o.min_tls_version ? { minVersion: o.min_tls_version } : {}) }, ctx.signal).catch(
          (err: unknown) => {
            // handshake() has already turned the error into a CheckError('tls', describeError(..))
            if (o.min_tls_version && /no TLS version in common/.test(describeError(err))) {
              throw new CheckError('tls', `TLS handshake failed: the server does not offer ${o.min_tls_version} or later (min_tls_version)`);
            }
            throw err;
          },
        );
        try {
          if (verify) {
            const why = verificationFailure(s, options.servername ?? bareHost(o.host));
            if (why) throw new CheckError('tls', why);
          }
          const protocol = s.getProtocol() ?? 'unknown';
          if (o.min_tls_version && (RANK[protocol] ?? 0) < RANK[o.min_tls_version]!) {
            throw new CheckError('tls', `negotiated ${protocol}, below min_tls_version ${o.min_tls_version}`);
          }
          const left = ctx.timeoutMs - (performance.now() - started);
          await awaitServerVerdict(s, ctx.signal, Math.max(20, Math.min(500, left / 2)));
          return s;
        } catch (err) {
          s.destroy();
          throw err;
        }
      });
      const protocol = secure.getProtocol() ?? 'unknown';
      const cert = peerCertInfo(secure);
      const verified = o.disable_tls_verification ? '; verification disabled' : '';
      const wouldFail = o.disable_tls_verification && !secure.authorized ? ` (would fail: ${verificationFailure(secure, o.server_name ?? bareHost(o.host))})` : '';
      ctx.note(`connected to ${showAddress(address)}`);
      ctx.note(`${certLine(protocol, cert)}${verified}${wouldFail}`);
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
    } finally {
      secure?.destroy();
      socket.destroy();
    }
  },
});
