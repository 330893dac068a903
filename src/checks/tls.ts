/** tls: placeholder until the check is written. */
import { z } from 'zod';
import { hostPort } from '../net/dial.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString } from './options.js';
export const tls = defineCheck({
  type: 'tls',
  aliases: ['ssl'],
  summary: 'TLS handshake',
  options: z.object({ host: host(), port: port(), disable_tls_verification: bool().default(false) }),
  notSupported: 'tls checks are not supported yet',
  name: (o) => `tls:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run() {
    throw new CheckError('run', 'tls checks are not supported yet');
  },
});
