/** redis: declared so that existing files validate; the check itself is not implemented yet. */
import { z } from 'zod';
import { hostPort } from '../net/dial.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString, text } from './options.js';
export const redis = defineCheck({
  type: 'redis',
  summary: 'Redis PING / AUTH',
  options: z.object({ host: host(), port: port(), password: scalarString().optional() }),
  notSupported: 'redis checks are not supported yet',
  name: (o) => `redis:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run() {
    throw new CheckError('run', 'redis checks are not supported yet');
  },
});
