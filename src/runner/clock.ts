/** The runner's clock: the kit's (checks/kit/clock.ts), process.hrtime without node:perf_hooks. */
export { now } from '../checks/kit/clock.js';
