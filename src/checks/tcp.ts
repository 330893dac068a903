/**
 * tcp: resolve the host, connect to its port. Passes if any resolved address accepts, or with
 * `all_addresses`, only if every one does (a half-broken dual-stack service is found, not hidden).
 */
import * as z from '../core/z.js';
import { isIP } from 'node:net';
import { bareHost, connectAddress, probeTcp, resolveHost, showAddress } from '../net/dial.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { bool, host, port } from '../core/options.js';
import { parseGeneric, requireHost, requirePort } from './url.js';
import { eachAddress, serviceCheck } from './kit/index.js';

export const tcp = defineCheck({
  ...serviceCheck('tcp'),
  summary: 'a TCP connection can be opened to host:port',
  url: { schemes: ['tcp'], options: (raw) => { const u = parseGeneric(raw); return { host: requireHost(u), port: requirePort(u) }; } },
  options: z.object({ host: host(), port: port(), all_addresses: z._default(bool(), false) }),
  legacyNames: (o) => [`tcp:${o.host}:${o.port}`],
  async run(o, ctx) {
    if (!o.all_addresses) {
      // a name is resolved in a step of its own (a resolver that times out is resolve's failure)
      const addresses = isIP(bareHost(o.host)) ? undefined : await ctx.step('resolve', () => resolveHost(o.host, ctx.signal));
      // (connected and closed at once: nothing is read)
      const address = await ctx.step('tcp', () => probeTcp(o.host, o.port, ctx.signal, addresses));
      ctx.note(`connected to ${showAddress(address)}`);
      return;
    }
    const addresses = await ctx.step('resolve', () => resolveHost(o.host, ctx.signal));
    await ctx.step('tcp', () =>
      eachAddress(addresses, ctx, async (address, note) => {
        try {
          (await connectAddress(address, o.port, ctx.signal)).destroy();
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw new CheckError('tcp', describeError(err));
        }
        note('connected');
      }),
    );
  },
});
