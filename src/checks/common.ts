/** Options every check accepts, whatever its type: naming, selection, time, retries, verdicts. */
import { z } from 'zod';
import { bool, integer, oneOf, seconds, stringList, text } from './options.js';

export const commonOptions = z.object({
  type: z.string(),
  /** Shown instead of the generated `type:host:port` name. */
  name: text('a non-empty name').optional(),
  tags: stringList('a list of tags').default([]),
  /** Seconds for one attempt; the connect timeout when unset. */
  timeout: seconds().optional(),
  /** Extra attempts after a failure. */
  retries: integer(0, 100).default(0),
  /** Seconds between attempts (the first delay, with exponential backoff). */
  retry_delay: seconds().default(1),
  backoff: oneOf(['constant', 'exponential']).default('constant'),
  /** `warning`: a failure is reported but does not fail the run (Nagios WARNING). */
  severity: oneOf(['critical', 'warning']).default('critical'),
  /** Passes only when the target cannot be reached (egress firewall assertions). */
  expect_unreachable: bool().default(false),
});
export type Common = z.output<typeof commonOptions>;
export const commonOptionNames: readonly string[] = Object.keys(commonOptions.shape);

/** Options conn-check accepted and ignored: a warning that says so, instead of "unknown". */
export const ignoredOptions: Record<string, Record<string, string>> = {
  tls: { verify: 'conn-check ignored this option and so does this tool; set disable_tls_verification: true to skip verification' },
};
