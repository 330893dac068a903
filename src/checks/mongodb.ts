/** mongodb: declared so that existing files validate; the check itself is not implemented yet. */
import { z } from 'zod';
import { hostPort } from '../net/dial.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString, text } from './options.js';
export const mongodb = defineCheck({
  type: 'mongodb',
  aliases: ['mongo'],
  summary: 'MongoDB collections list',
  options: z.object({ host: host(), port: port().default(27017), username: text().optional(), password: scalarString().optional(), database: text().default('test') }),
  notSupported: 'mongodb checks are not supported yet',
  name: (o) => `mongodb:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run() {
    throw new CheckError('run', 'mongodb checks are not supported yet');
  },
});
