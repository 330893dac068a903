/**
 * PATTERNs as conn-check 1.x matched them: the whole name (anchored at both ends), `*` the only
 * wildcard (`?` is literal: URLs contain it). A pattern selects a check when it matches the
 * check's name, its generated name, or any of the names conn-check gave the check's sub-steps
 * (declared by each type as `legacyNames`), so NRPE command lines such as
 * `conn-check f.yaml 'memcache:H:P:connect'` or `'*:connect*'` keep selecting what they did.
 */
import type { CheckSpec } from '../config/load.js';

/** The anchored regular expression for one pattern. */
export function patternRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** Every name a pattern may match for this check. */
export function selectableNames(check: Pick<CheckSpec, 'name' | 'generatedName' | 'definition' | 'options'>): string[] {
  const names = new Set([check.name, check.generatedName]);
  for (const n of check.definition.legacyNames?.(check.options as never) ?? []) names.add(n);
  return [...names];
}

/** Whether any of the compiled patterns selects the check. */
export function matchesAny(check: Pick<CheckSpec, 'name' | 'generatedName' | 'definition' | 'options'>, patterns: readonly RegExp[]): boolean {
  const names = selectableNames(check);
  return patterns.some((re) => names.some((n) => re.test(n)));
}
