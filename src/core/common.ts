/** Options every check accepts, whatever its type: naming, selection, time, retries, verdicts. */
import * as z from './z.js';
import { MAX_NAME_CHARS } from './constants.js';
import { bool, integer, oneOf, seconds, stringList, text } from './options.js';

export const commonOptions = z.object({
  type: z.string(),
  /** Shown instead of the generated `type:host:port` name. */
  name: z.optional(text('a non-empty name').check(z.maxLength(MAX_NAME_CHARS, { error: (i) => `expected a name of at most ${MAX_NAME_CHARS} characters, got ${String((i.input as string).length)}` }))),
  tags: z._default(stringList('a list of tags'), []),
  /** Seconds for one attempt; the connect timeout when unset. */
  timeout: z.optional(seconds()),
  /** Extra attempts after a failure. */
  retries: z._default(integer(0, 100), 0),
  /** Seconds between attempts (the first delay, with exponential backoff). */
  retry_delay: z._default(seconds(), 1),
  backoff: z._default(oneOf(['constant', 'exponential']), 'constant'),
  /** `warning`: a failure is reported but does not fail the run (Nagios WARNING). */
  severity: z._default(oneOf(['critical', 'warning']), 'critical'),
  /** Passes only when the target cannot be reached (egress firewall assertions). */
  expect_unreachable: z._default(bool(), false),
});
export type Common = z.output<typeof commonOptions>;
export const commonOptionNames: readonly string[] = Object.keys(commonOptions.shape);

/** Options conn-check accepted and ignored: a warning that says so, instead of "unknown". */
export const ignoredOptions: Record<string, Record<string, string>> = {
  tls: { verify: 'conn-check ignored this option and so does this tool; set disable_tls_verification: true to skip verification' },
};
