/** amqp: declared so that existing files validate; the check itself is not implemented yet. */
import { z } from 'zod';
import { hostPort } from '../net/dial.js';
import { CheckError, defineCheck } from './types.js';
import { bool, host, port, scalarString, text } from './options.js';
export const amqp = defineCheck({
  type: 'amqp',
  summary: 'AMQP login',
  options: z.object({ host: host(), port: port(), username: text(), password: scalarString(), use_tls: bool().default(true), vhost: z.string().default('/') }),
  notSupported: 'amqp checks are not supported yet',
  name: (o) => `amqp:${hostPort(o.host, o.port)}`,
  target: (o) => hostPort(o.host, o.port),
  async run() {
    throw new CheckError('run', 'amqp checks are not supported yet');
  },
});
