/**
 * `url:` on a check: before validation, each entry's URL (interpolated) picks the check type
 * when `type` is absent (the scheme map comes from the types' own `url.schemes`), and is read
 * into options by its type's `url.options`. Options written next to `url:` override the URL's.
 * An unknown scheme or a URL its type cannot read is an error at the `url` key.
 */
import { findCheckType, knownSchemes, typeForScheme, type CheckType } from '../checks/registry.js';
import type { AnyCheckDefinition } from '../core/contract.js';
import { schemeOf, UrlError } from '../checks/url.js';
import type { ConfigIssue } from './errors.js';
import { interpolate, InterpolationError } from './interpolate.js';
import type { ParsedItem } from './parsed.js';

export interface UrlExpansion {
  /** The options each entry's URL stands for. */
  options: Map<ParsedItem, Record<string, unknown>>;
  /** Entries whose URL is wrong, with its error: report it and validate them no further. */
  failed: Map<ParsedItem, ConfigIssue>;
}

/** Reads the `url` of every entry; sets `type` on the entries that had none. */
export async function expandUrls(items: readonly ParsedItem[], env: NodeJS.ProcessEnv, file: string): Promise<UrlExpansion> {
  const out: UrlExpansion = { options: new Map(), failed: new Map() };
  /** The types already loaded (one await per type, not per entry). */
  const loaded = new Map<CheckType, AnyCheckDefinition>();
  // (indexed, and no closure per entry: this runs once per check of the file)
  for (let index = 0; index < items.length; index++) {
    const item = items[index]!;
    const raw = item.value;
    if (item.isMap === false || !raw || typeof raw !== 'object' || Array.isArray(raw)) continue;
    const entry = raw as Record<string, unknown>;
    if (typeof entry.url !== 'string') continue;
    const given = entry.type;
    let url: string;
    try {
      url = entry.url.includes('$') ? interpolate(entry.url, env).value : entry.url;
    } catch (err) {
      if (!(err instanceof InterpolationError)) throw err;
      // without a type, the type cannot be known: this is the entry's one error
      if (given === undefined || given === null || given === '') urlFailed(out, file, item, index, err.message);
      continue; // with one, reported where every value is interpolated
    }
    const scheme = schemeOf(url);
    let definition: AnyCheckDefinition | undefined;
    if (given === undefined || given === null || given === '') {
      definition = scheme ? await typeForScheme(scheme) : undefined;
      if (!definition) {
        urlFailed(out, file, item, index, `${scheme ? `unknown URL scheme "${scheme}://"` : 'expected a URL (scheme://host...)'}; known schemes: ${(await knownSchemes()).map((s) => `${s}://`).join(', ')}`);
        continue;
      }
      entry.type = definition.type;
    } else {
      const found = typeof given === 'string' ? findCheckType(given) : undefined;
      if (!found) continue; // an unknown type is reported with the type
      definition = loaded.get(found);
      if (!definition) loaded.set(found, (definition = await found.load()));
      if (!definition.url) {
        urlFailed(out, file, item, index, `${definition.type} checks take no url`, definition.type);
        continue;
      }
      const { schemes, alsoSchemes } = definition.url;
      if (!scheme || !(schemes.includes(scheme) || alsoSchemes?.includes(scheme))) {
        const accepted = [...schemes, ...(alsoSchemes ?? [])];
        urlFailed(out, file, item, index, `${article(definition.type)} ${definition.type} check takes a URL starting with ${accepted.map((s) => `${s}://`).join(' or ')}${scheme ? `, not ${scheme}://` : ''}`, definition.type);
        continue;
      }
    }
    try {
      out.options.set(item, definition.url!.options(url, scheme!));
    } catch (err) {
      if (!(err instanceof UrlError)) throw err;
      urlFailed(out, file, item, index, `the URL ${err.message}`, definition.type);
    }
  }
  return out;
}

/** Records the error of an entry's URL, at its `url` key. */
function urlFailed(out: UrlExpansion, file: string, item: ParsedItem, index: number, message: string, type?: string): void {
  const pos = item.keys.get('url') ?? { line: item.line, column: item.column };
  out.failed.set(item, { severity: 'error', file, ...pos, check: `checks[${index}]${type ? ` (${type})` : ''}`, option: 'url', message });
}

/** `a`/`an` as the type's name is read aloud (an HTTP, an LDAP, an SSH, an amqp, a postgres, a udp). */
export function article(type: string): string {
  return /^[aeio]/i.test(type) || /^(http|ldap|mqtt|smtp|ssh)$/i.test(type) ? 'an' : 'a';
}

/**
 * Puts a URL's options under the ones written next to it. Call once values are interpolated;
 * `url` itself stays until the secrets are collected (its userinfo is one), then `dropUrl`.
 */
export function mergeUrlOptions(opts: Record<string, unknown>, fromUrl: Record<string, unknown> | undefined): void {
  if (!fromUrl) return;
  const keys = Object.keys(fromUrl);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (opts[k] === undefined) opts[k] = fromUrl[k];
  }
}

/** Removes `url` from the options of a type that has no `url` option of its own. */
export function dropUrl(opts: Record<string, unknown>, definition: AnyCheckDefinition, fromUrl: unknown): void {
  if (fromUrl && !('url' in definition.options.shape)) delete opts.url;
}
