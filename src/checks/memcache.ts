/** memcache: declared so that existing files validate; the check itself is not implemented yet. */
import { z } from 'zod';
import { hostPort } from '../net/dial.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString, text } from './options.js';
export const memcache = defineCheck({
  type: 'memcache',
  aliases: ['memcached'],
  summary: 'memcached version',
  options: z.object({ host: host(), port: port() }),
  notSupported: 'memcache checks are not supported yet',
  name: (o) => `memcache:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run() {
    throw new CheckError('run', 'memcache checks are not supported yet');
  },
});
