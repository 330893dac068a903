/** Which checks run: tags (include or exclude) and name patterns (see patterns.ts). */
import type { CheckSpec } from '../config/load.js';
import { matchesAny, patternRegExp } from './patterns.js';

export interface Selection {
  includeTags?: string[];
  excludeTags?: string[];
  /** conn-check PATTERNs (`*` the only wildcard, anchored) matched against the check's names. */
  patterns?: string[];
}

const compiled = new WeakMap<readonly string[], RegExp[]>();
function regExps(patterns: readonly string[]): RegExp[] {
  let res = compiled.get(patterns);
  if (!res) compiled.set(patterns, (res = patterns.map(patternRegExp)));
  return res;
}

/** Why the tags leave a check out, or undefined when they keep it. */
function tagExclusion(check: Pick<CheckSpec, 'common'>, sel: Selection): string | undefined {
  const tags = check.common.tags;
  if (sel.includeTags?.length && !tags.some((t) => sel.includeTags!.includes(t))) return `no tag among ${sel.includeTags.join(', ')}`;
  if (sel.excludeTags?.length) {
    const hit = tags.find((t) => sel.excludeTags!.includes(t));
    if (hit) return `tag ${hit} is excluded`;
  }
  return undefined;
}

/** Why a check is left out, or undefined when it runs. */
export function exclusionReason(check: CheckSpec, sel: Selection): string | undefined {
  const byTags = tagExclusion(check, sel);
  if (byTags) return byTags;
  if (sel.patterns?.length && !matchesAny(check, regExps(sel.patterns))) return 'matches no pattern';
  return undefined;
}

/** Whether the tags leave out a check with these tags (conn-check never built such checks). */
export function excludedByTags(tags: readonly string[], sel: Selection): boolean {
  return tagExclusion({ common: { tags: [...tags] } } as Pick<CheckSpec, 'common'>, sel) !== undefined;
}

export interface SelectionReport {
  /** Set when a selection was given and nothing matched it: the run must not be green. */
  error?: string;
  /** Patterns that matched no check while others did. */
  warnings: string[];
}

const quoted = (list: readonly string[]) => list.map((p) => JSON.stringify(p)).join(', ');

/**
 * Says what matched nothing. A selection that selects no check at all is an error (a monitoring
 * check that checks nothing must not be green); a pattern that alone matches nothing is a warning.
 */
export function checkSelection(checks: readonly CheckSpec[], sel: Selection, isFile: (p: string) => boolean = () => false): SelectionReport {
  const warnings: string[] = [];
  const byTags = checks.filter((c) => tagExclusion(c, sel) === undefined);
  const patterns = sel.patterns ?? [];
  const unmatched = patterns.filter((p) => {
    const re = [patternRegExp(p)];
    return !byTags.some((c) => matchesAny(c, re));
  });
  const files = unmatched.filter((p) => /\.ya?ml$/i.test(p) || isFile(p));
  const fileHint = files.length
    ? `; ${quoted(files)} ${files.length === 1 ? 'looks like a config file' : 'look like config files'}: conn-check takes one CONFIG, and the words after it are PATTERNs`
    : '';
  const hasTags = !!(sel.includeTags?.length || sel.excludeTags?.length);
  const tagWords = sel.includeTags?.length ? `--include-tags ${sel.includeTags.join(',')}` : `--exclude-tags ${sel.excludeTags?.join(',')}`;
  if (hasTags && byTags.length === 0 && checks.length > 0) {
    return {
      error: sel.includeTags?.length
        ? `nothing to check: no check has a tag among ${sel.includeTags.join(', ')} (${tagWords})`
        : `nothing to check: ${tagWords} excludes every check`,
      warnings,
    };
  }
  if (patterns.length && unmatched.length === patterns.length) {
    const among = hasTags ? ` among the checks ${tagWords} selects` : '';
    return {
      error: `nothing to check: no check${among} matches ${patterns.length === 1 ? 'the pattern' : 'any of the patterns'} ${quoted(patterns)} (a pattern matches a check's whole name or a conn-check sub-step name, with * the only wildcard)${fileHint}`,
      warnings,
    };
  }
  if (hasTags && checks.length === 0) return { error: `nothing to check: the config has no checks for ${tagWords} to select`, warnings };
  for (const p of unmatched) warnings.push(`pattern ${JSON.stringify(p)} matches no check${files.includes(p) ? ' (it looks like a config file: conn-check takes one CONFIG)' : ''}`);
  return { warnings };
}

/** Splits comma- or newline-separated lists, dropping blanks. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
