/** postgres: declared so that existing files validate; the check itself is not implemented yet. */
import { z } from 'zod';
import { hostPort } from '../net/dial.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString, text } from './options.js';
export const postgres = defineCheck({
  type: 'postgres',
  aliases: ['postgresql'],
  summary: 'PostgreSQL login',
  options: z.object({ host: host(), port: port(), username: text(), password: scalarString(), database: text() }),
  notSupported: 'postgres checks are not supported yet',
  name: (o) => `postgres:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run() {
    throw new CheckError('run', 'postgres checks are not supported yet');
  },
});
