/** nats: placeholder while it is written. */
import { z } from 'zod';
import { CheckError, defineCheck } from './types.js';

export const nats = defineCheck({
  type: 'nats',
  summary: 'nats (not written yet)',
  options: z.object({}),
  name: () => 'nats',
  target: () => 'nats',
  async run() {
    throw new CheckError('run', 'not written yet');
  },
});
