/**
 * tcp: resolve the host, connect to its port. Passes if any resolved address accepts, or with
 * `all_addresses`, only if every one does (a half-broken dual-stack service is found, not hidden).
 */
import * as z from 'zod/mini';
import { connectAddress, connectTcp, hostPort, resolveHost, showAddress } from '../net/dial.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { bool, host, port } from '../core/options.js';
import { parseGeneric, requireHost, requirePort } from './url.js';

export const tcp = defineCheck({
  type: 'tcp',
  summary: 'a TCP connection can be opened to host:port',
  url: { schemes: ['tcp'], options: (raw) => { const u = parseGeneric(raw); return { host: requireHost(u), port: requirePort(u) }; } },
  options: z.object({ host: host(), port: port(), all_addresses: z._default(bool(), false) }),
  name: (o) => `tcp:${hostPort(o.host, o.port)}`,
  legacyNames: (o) => [`tcp:${o.host}:${o.port}`],
  target: (o) => hostPort(o.host, o.port),
  async run(o, ctx) {
    if (!o.all_addresses) {
      const { socket, address } = await ctx.step('tcp', () => connectTcp(o.host, o.port, ctx.signal));
      socket.destroy();
      ctx.note(`connected to ${showAddress(address)}`);
      return;
    }
    const addresses = await ctx.step('resolve', () => resolveHost(o.host, ctx.signal));
    await ctx.step('tcp', async () => {
      const outcomes = await Promise.allSettled(addresses.map((a) => connectAddress(a, o.port, ctx.signal)));
      const failed: string[] = [];
      outcomes.forEach((r, i) => {
        const shown = showAddress(addresses[i]!);
        if (r.status === 'fulfilled') {
          r.value.destroy();
          ctx.note(`${shown}: connected`);
        } else {
          if (ctx.signal.aborted) throw r.reason;
          failed.push(`${shown}: ${describeError(r.reason)}`);
          ctx.note(`${shown}: ${describeError(r.reason)}`);
        }
      });
      if (failed.length) throw new CheckError('tcp', `${failed.join('; ')} (${failed.length} of ${addresses.length} addresses failed)`);
    });
  },
});
