/** udp: placeholder until the check is written. */
import { z } from 'zod';
import { hostPort } from '../net/dial.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString } from './options.js';
export const udp = defineCheck({
  type: 'udp',
  summary: 'UDP request/reply',
  options: z.object({ host: host(), port: port(), send: scalarString(), expect: scalarString() }),
  notSupported: 'udp checks are not supported yet',
  name: (o) => `udp:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run() {
    throw new CheckError('run', 'udp checks are not supported yet');
  },
});
