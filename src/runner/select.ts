/** Which checks run: tags (include or exclude) and name patterns with `*` wildcards. */
import type { CheckSpec } from '../config/load.js';

export interface Selection {
  includeTags?: string[];
  excludeTags?: string[];
  /** Shell-style patterns (`*`, `?`) matched against the check's name and its conn-check name. */
  patterns?: string[];
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** Why a check is left out, or undefined when it runs. */
export function exclusionReason(check: CheckSpec, sel: Selection): string | undefined {
  const tags = check.common.tags;
  if (sel.includeTags?.length && !tags.some((t) => sel.includeTags!.includes(t))) return `no tag among ${sel.includeTags.join(', ')}`;
  if (sel.excludeTags?.length) {
    const hit = tags.find((t) => sel.excludeTags!.includes(t));
    if (hit) return `tag ${hit} is excluded`;
  }
  if (sel.patterns?.length) {
    const res = sel.patterns.map(globToRegExp);
    if (!res.some((r) => r.test(check.name) || r.test(check.generatedName))) return 'matches no pattern';
  }
  return undefined;
}

/** Splits comma- or newline-separated lists, dropping blanks. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
