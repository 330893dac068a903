/** Options as a check's schema gives them (defaults filled in, strings coerced), for specs built by hand. */
import { fastValidate } from '../../src/config/fast-validate.js';

/** What zod's `schema.parse(value)` gives for valid options, by the fast path (no zod loaded); throws for anything else. */
export function parsedOptions<T = never>(schema: unknown, value: Record<string, unknown>): T {
  const r = fastValidate(schema, value);
  if (!r) throw new Error(`options the fast path cannot vouch for: ${JSON.stringify(value)}`);
  return r.value as T;
}
