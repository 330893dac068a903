/** What zod says is wrong with a check's options, as the config's issues say it. */
import type { core } from '../core/z.js';
import { show } from '../core/options.js';
import { Redactor } from '../secrets/index.js';

/** One option's problem: the option's top-level key (for its position), its path and the message. */
export interface OptionIssue {
  key?: string;
  option?: string;
  message: string;
}

/**
 * zod's issues in the order the schema declares its options (a refinement of the whole object,
 * such as "port or hosts", comes after the field problems otherwise), each message with the
 * check's credentials masked before a value is cut and "missing" for an absent option.
 */
export function zodIssues(found: readonly core.$ZodIssue[], order: readonly string[], given: Record<string, unknown>, secrets: Iterable<string>): OptionIssue[] {
  const rank = (i: core.$ZodIssue) => (i.path.length ? order.indexOf(String(i.path[0])) >>> 0 : -1 >>> 0);
  return [...found].sort((a, b) => rank(a) - rank(b)).map((issue) => zodIssue(issue, given, secrets));
}

function zodIssue(issue: core.$ZodIssue, given: Record<string, unknown>, secrets: Iterable<string>): OptionIssue {
  const key = issue.path.length ? String(issue.path[0]) : undefined;
  const option = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || undefined;
  let message = issue.message;
  // The value is shown cut to a few dozen characters: a credential in it must be masked before
  // the cut, or the message shows a prefix of it that no redaction can recognise afterwards.
  const input = valueAt(given, issue.path);
  if (typeof input === 'string') {
    const shown = show(input);
    const safe = show(new Redactor(secrets).redact(input));
    if (safe !== shown) message = message.split(shown).join(safe);
  }
  if (key !== undefined && issue.path.length === 1 && given[key] === undefined) {
    message = /got nothing$/.test(message) ? `missing (${message.replace(/, got nothing$/, '')})` : 'missing';
  }
  return { key, option, message };
}

/** The value at a zod issue's path in the options as given. */
function valueAt(given: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let v: unknown = given;
  for (const p of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}
