/**
 * tls (alias ssl): resolve, connect, complete a TLS handshake and verify the server's
 * certificate (chain against Node's roots + tls-certs-path + ca_file, dates, host name).
 * Optionally require a minimum number of days before the certificate expires and a minimum
 * TLS version, and (all_addresses) every resolved address to pass. Nothing is sent after the
 * handshake.
 */
import * as z from '../core/z.js';
import { defineCheck } from '../core/contract.js';
import { bool, host, port, tlsOptionsShape } from '../core/options.js';
import { parseGeneric, requireHost, requirePort } from './url.js';
import { serviceCheck, withEachAddress, withService } from './kit/index.js';

export const tls = defineCheck({
  ...serviceCheck('tls'),
  summary: 'a TLS handshake with host:port succeeds and its certificate verifies',
  url: { schemes: ['tls'], options: (raw) => { const u = parseGeneric(raw); return { host: requireHost(u), port: requirePort(u) }; } },
  options: z.object({
    host: host(),
    port: port(),
    ...tlsOptionsShape(),
    all_addresses: z._default(bool(), false),
  }),
  legacyNames: (o) => [`tls:${o.host}:${o.port}`],
  usesTls: () => true,
  async run(o, ctx) {
    // The kit verifies after the handshake (inspect): the messages name the certificate.
    const spec = { host: o.host, port: o.port, tls: o, inspect: true };
    // Nothing is sent after the handshake; all_addresses: the handshake and the assertions at
    // every resolved address.
    if (o.all_addresses) await withEachAddress(ctx, spec, async () => {});
    else await withService(ctx, spec, async () => {});
  },
});

