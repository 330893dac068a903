/** dns: placeholder while it is written. */
import { z } from 'zod';
import { CheckError, defineCheck } from './types.js';

export const dns = defineCheck({
  type: 'dns',
  summary: 'dns (not written yet)',
  options: z.object({}),
  name: () => 'dns',
  target: () => 'dns',
  async run() {
    throw new CheckError('run', 'not written yet');
  },
});
