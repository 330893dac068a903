/** tcp: resolve the host, connect to its port. Passes if any resolved address accepts. */
import { z } from 'zod';
import { connectTcp, hostPort, showAddress } from '../net/dial.js';
import { defineCheck } from './types.js';
import { host, port } from './options.js';

export const tcp = defineCheck({
  type: 'tcp',
  summary: 'a TCP connection can be opened to host:port',
  options: z.object({ host: host(), port: port() }),
  name: (o) => `tcp:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run(o, ctx) {
    const { socket, address } = await ctx.step('tcp', () => connectTcp(o.host, o.port, ctx.signal));
    socket.destroy();
    ctx.note(`connected to ${showAddress(address)}`);
  },
});
