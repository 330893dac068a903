/** http: placeholder until the check is written. */
import { z } from 'zod';
import { safeUrl } from '../config/secrets.js';
import { CheckError, defineCheck } from './types.js';
import { url } from './options.js';

export const http = defineCheck({
  type: 'http',
  aliases: ['https'],
  summary: 'an HTTP(S) request gets the expected status',
  options: z.object({ url: url() }),
  notSupported: 'http checks are not supported yet',
  name: (o) => `http:${safeUrl(o.url)}`,
  target: (o) => safeUrl(o.url),
  async run() {
    throw new CheckError('run', 'http checks are not supported yet');
  },
});
