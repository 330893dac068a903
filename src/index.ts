/** The action's entry point: everything happens in action/run.ts. */
import { run } from './action/run.js';
import { tolerateBrokenPipes } from './process.js';

tolerateBrokenPipes();
void run();
