/** smtp: declared so that existing files validate; the check itself is not implemented yet. */
import { z } from 'zod';
import { hostPort } from '../net/dial.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString, text } from './options.js';
export const smtp = defineCheck({
  type: 'smtp',
  summary: 'SMTP login',
  options: z.object({ host: host(), port: port(), username: text(), password: scalarString(), from_address: text().optional(), to_address: text().optional(), message: z.string().optional(), subject: z.string().optional(), helo_fallback: bool().default(false), use_tls: bool().default(true) }),
  notSupported: 'smtp checks are not supported yet',
  name: (o) => `smtp:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run() {
    throw new CheckError('run', 'smtp checks are not supported yet');
  },
});
