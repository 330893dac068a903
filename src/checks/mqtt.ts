/** mqtt: placeholder while it is written. */
import { z } from 'zod';
import { CheckError, defineCheck } from './types.js';

export const mqtt = defineCheck({
  type: 'mqtt',
  summary: 'mqtt (not written yet)',
  options: z.object({}),
  name: () => 'mqtt',
  target: () => 'mqtt',
  async run() {
    throw new CheckError('run', 'not written yet');
  },
});
