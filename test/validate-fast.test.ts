/**
 * The fast path of option validation (src/config/fast-validate.ts) against zod: for every
 * registered type's valid examples and generated variants of them (coercible strings, null,
 * missing keys, unknown keys, wrong types, boundaries, control characters), whenever the fast
 * path returns a value it is zod's output (same values, same keys in the same order), and
 * whenever zod rejects a value the fast path returns nothing. The valid examples take the fast
 * path, and a valid file is loaded without running zod's parse at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import * as z from '../src/core/z.js';
import { loadZod, Recorded, recordedKinds, toZod } from '../src/core/z.js';
import { fastValidate } from '../src/config/fast-validate.js';
import { parseConfig, type ParsedItem } from '../src/config/load.js';
import { dropUrl, expandUrls, mergeUrlOptions } from '../src/config/url.js';
import { ConfigError, formatIssue } from '../src/config/index.js';
import { commonOptions, findCheckType, loadCheckTypes } from '../src/checks/registry.js';
import { MAX_NAME_CHARS, MAX_TIMEOUT_S } from '../src/core/constants.js';
import { typeTests } from './types/index.js';

// zod itself, for the side the fast path is compared with (a run loads it only for an invalid value)
await loadZod();

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const FIXTURE = readFileSync(join(import.meta.dirname, 'fixtures/config/valid-conn-check.yaml'), 'utf8');

const definitions = new Map((await loadCheckTypes()).map(({ type, definition }) => [type, definition]));
const definitionOf = (o: Record<string, unknown>) => definitions.get(findCheckType(String(o.type))!)!;
const schemaOf = (o: Record<string, unknown>) => definitionOf(o).options as unknown as z.ZodMiniType;

/** Every valid example of every type, as the options its schema is given (a `url:` made options, as config/load.ts does). */
const examples: Record<string, unknown>[] = [];
for (const text of [FIXTURE, ...(await typeTests()).map(({ test: d }) => d.examples ?? '')]) {
  const items = ((parseYaml(text) ?? []) as Record<string, unknown>[]).map((value): ParsedItem => ({ value, isMap: true, line: 1, column: 1, keys: new Map() }));
  const urls = await expandUrls(items, {}, 'examples.yaml');
  for (const item of items) {
    assert.equal(urls.failed.get(item), undefined);
    const opts = { ...(item.value as Record<string, unknown>) };
    mergeUrlOptions(opts, urls.options.get(item));
    dropUrl(opts, definitionOf(opts), urls.options.get(item));
    examples.push(opts);
  }
}

/**
 * A value as a comparable structure: mappings as [key, value] lists (so key order counts, and a
 * key holding undefined differs from no key), functions by their source (a body matcher's
 * `test` is a new closure on each parse).
 */
function plain(v: unknown): unknown {
  if (typeof v === 'function') return `function ${String(v)}`;
  if (Array.isArray(v)) return { list: v.map(plain) };
  if (v && typeof v === 'object') return { proto: Object.getPrototypeOf(v) === Object.prototype, entries: Object.entries(v).map(([k, x]) => [k, plain(x)]) };
  return v;
}

interface Tally {
  fast: number;
  zodOnly: number;
}
/** The property itself: the fast path returns zod's output or nothing. */
function agree(schema: z.ZodMiniType, value: unknown, tally?: Tally): boolean {
  const fast = fastValidate(schema, value);
  const slow = schema.safeParse(value);
  if (fast) {
    assert.ok(slow.success, `the fast path accepted what zod rejects: ${JSON.stringify(value)}: ${slow.error?.issues.map((i) => i.message).join('; ')}`);
    assert.deepEqual(plain(fast.value), plain(slow.data), `fast path and zod differ on ${JSON.stringify(value)}`);
  }
  if (tally) tally[fast ? 'fast' : 'zodOnly']++;
  return fast !== undefined;
}

test('every valid example of every type takes the fast path, with zod\'s output', () => {
  assert.ok(examples.length >= definitions.size, 'examples of every type');
  const slow: string[] = [];
  for (const o of examples) {
    if (!agree(commonOptions as unknown as z.ZodMiniType, o)) slow.push(`common options of ${JSON.stringify(o)}`);
    if (!agree(schemaOf(o), o)) slow.push(JSON.stringify(o));
  }
  assert.deepEqual(slow, []);
});

/** Values a config holds, chosen near each builder's edges. */
const edgeValues: unknown[] = [
  null, '', ' ', 'x', 'db.internal', '80', ' 80 ', '+80', '-1', '0', '1', '1.5', '.5', '5.', '0x10', '1e3', '65535', '65536', '007',
  0, 1, -1, 2, 1.5, 0.001, 65535, 65536, 36_500, 36_501, 100, 101, 1_000_000, 1_000_001, MAX_TIMEOUT_S, MAX_TIMEOUT_S + 0.5, -0, NaN, Infinity, 2 ** 53,
  true, false, 'yes', 'no', 'on', 'off', 'true', 'false', ' Yes ', 'TRUE', 'nope',
  [], [''], ['a'], ['a', 'b'], [1, true], [null], [['a']], 'a,b', ' a , ,b ', ',', {}, { a: 1 }, { username: 'u', password: 'p' }, ['u', 'p'], { 'X-A': 'b' }, { 'X-A': ['b', 1] },
  'db\u0000x', 'db\u001fx', 'db\u007fx', 'db\u0085x', 'db\u2028x', 'db\u202ex', 'db\u2066x', 'db\u200fx', 'db\tx', 'db x', '[::1]', 'a:1,b:2', 'a:1',
  'http://x', 'https://x/y?z', 'HTTP://X', 'ftp://x', 'ldap://x', 'ldaps://x:636', 'ldap://x/dc=a', 's3://b', 'not a url', '//x',
  '2xx', '200-399', '200,204', 200, 204, 99, 600, [200, 204], ['2xx', 301], 'GET', 'post', 'P OST', 'TLSv1.2', 'TLSv1.3', 'TLSv1.1',
  'A', 'AAAA', 'MX', 'txt', 'constant', 'exponential', 'critical', 'warning', 'prefer', 'verify-full', 'any',
  '/ok/', '/(/', '/a/i', 'a'.repeat(MAX_NAME_CHARS), 'a'.repeat(MAX_NAME_CHARS + 1), '😀'.repeat(MAX_NAME_CHARS), 'my.pkg.Service', 'a#b', 'Topic-1', 'bucket.name', 'Bad_Bucket!',
  'us-east-1', 'US', '(objectClass=*)', '(a', 'a@b.c', '<a@b.c>', 'a\nb', 'disable', 'require',
];
const anyValue = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...edgeValues) }, { weight: 1, arbitrary: fc.anything() });

test('generated variants of every example: the fast path returns zod\'s output or nothing', () => {
  const keysOf = (o: Record<string, unknown>) => [
    ...new Set([...Object.keys(o), ...Object.keys((schemaOf(o) as unknown as z.ZodMiniObject).shape), ...Object.keys(commonOptions.shape), 'colour', 'verify']),
  ];
  const change = fc.tuple(fc.nat(), fc.option(anyValue, { freq: 6, nil: undefined }), fc.boolean());
  const tally: Tally = { fast: 0, zodOnly: 0 };
  fc.assert(
    fc.property(fc.constantFrom(...examples), fc.array(change, { minLength: 1, maxLength: 4 }), (example, changes) => {
      const o: Record<string, unknown> = { ...example };
      const keys = keysOf(o).filter((k) => k !== 'type');
      for (const [n, value, remove] of changes) {
        const key = keys[n % keys.length]!;
        if (remove && value === undefined) delete o[key];
        else o[key] = value;
      }
      agree(commonOptions as unknown as z.ZodMiniType, o, tally);
      agree(schemaOf(o), o, tally);
    }),
    { numRuns: 20_000, seed },
  );
  // both sides are exercised: many variants are valid (fast path), many are not (zod)
  assert.ok(tally.fast > 5_000 && tally.zodOnly > 5_000, JSON.stringify(tally));
});

test('each option alone, over the edge values: the fast path returns zod\'s output or nothing', () => {
  const tally: Tally = { fast: 0, zodOnly: 0 };
  const seen = new Set<unknown>();
  for (const schema of [commonOptions as unknown as z.ZodMiniObject, ...[...definitions.values()].map((d) => d.options)]) {
    for (const field of Object.values(schema.shape) as z.ZodMiniType[]) {
      if (seen.has(field)) continue;
      seen.add(field);
      for (const v of [undefined, ...edgeValues]) agree(field, v, tally);
    }
  }
  assert.ok(tally.fast > 1_000 && tally.zodOnly > 1_000, JSON.stringify(tally));
});

test('every kind of node the fast path compiles, alone and in objects, over the edge values: zod\'s output or nothing', () => {
  // schemas the options do not use as such, so that a fast function that only happens to agree
  // on today's options (a bound that a check also enforces, a default never reached) still fails
  const orNone = z.pipe(z.transform((v) => (v === 'none' ? undefined : v)), z.optional(z.string()));
  const kinds: z.ZodMiniType[] = [
    z.string(), z.number(), z.int(), z.boolean(), z.unknown(), z.any(), z.enum(['a', 'b']), z.literal('x'), z.array(z.string()),
    z.optional(z.number()), z.nullable(z.string()), z._default(z.number(), 7), z._default(orNone, 'd'), z._default(z.array(z.string()), []),
    z.pipe(z.string(), z.transform((s) => s.length)), z.string().check(z.minLength(2), z.maxLength(3)), z.number().check(z.gt(0), z.lte(10)),
    z.string().check(z.refine((s) => s !== 'x')), z.array(z.number()).check(z.minLength(1)), z.string().check(z.trim(), z.regex(/^a/)),
    z.union([z.number(), z.string(), z.array(z.string())]), z.union([z.pipe(z.string(), z.transform((s) => s.length)), z.string()]), z.union([z.string()]),
    z.union([z.strictObject({ a: z.string() }), z.object({ a: z.string(), b: z._default(z.number(), 1) })]), z.union([z.pipe(z.transform((v) => v), z.string()), z.number()]),
    z.record(z.string(), z.number()), z.record(z.string(), z.union([z.string(), z.array(z.string())])), z.record(z.string(), z.optional(z.string())),
    z.record(z.enum(['a', 'b']), z.number()), z.record(z.string().check(z.minLength(2)), z.number()), z.union([z.record(z.string(), z.number()), z.array(z.number())]),
    // a first option the fast path does not cover (a tuple): zod's choice, not the second option's
    z.union([z.pipe(z.tuple([z.string()]), z.transform(() => 'the tuple')), z.array(z.string())]),
  ];
  const objects: z.ZodMiniType[] = [
    z.object(Object.fromEntries(kinds.map((k, i) => [`k${i}`, k]))),
    z.object({ a: z.unknown(), b: z.optional(z.unknown()), c: z._default(z.unknown(), 1), e: orNone }),
    z.object({ d: z.optional(z._default(z.string(), 'x')) }),
    z.object({ a: z.optional(z.number()), b: z.optional(z.number()) }).check(z.refine((o) => o.a === undefined || o.b !== undefined)),
    z.strictObject({ a: z.string() }),
    z.object({ n: z.object({ a: z._default(z.number(), 1) }) }),
    // optin "defaulted" and optout "optional": zod ignores the failure of such a key when it is absent
    z.object({ p: z.pipe(z._default(z.string(), 'x'), z.optional(z.string().check(z.minLength(5))) as never), q: z.pipe(z._default(z.unknown(), 1), z.optional(z.number()) as never) }),
    z.strictObject({ a: z.optional(z.string()), b: z._default(z.number(), 2) }),
  ];
  const tally: Tally = { fast: 0, zodOnly: 0 };
  const hidden = { a: 1 };
  Object.defineProperty(hidden, 'b', { value: 2, enumerable: false });
  const unusual = [new Date(0), new Map([['a', 1]]), Object.create({ a: 1 }), Object.assign(Object.create(null), { a: 1 }), hidden, { a: undefined }, { [Symbol('s')]: 1 }];
  for (const k of kinds) for (const v of [undefined, 'none', 'a', 'x', 'ab', ' ab ', 'abcd', 5, 11, ...unusual, ...edgeValues]) agree(k, v, tally);
  fc.assert(
    fc.property(fc.constantFrom(...objects), fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'n', 'p', 'q', 'z', '__proto__', 'constructor', '0', '10', ...kinds.map((_, i) => `k${i}`)), fc.oneof(anyValue, fc.constantFrom(undefined, 'none', 'ab', 5, { a: 2 }, {}))), (schema, value) => {
      agree(schema, value, tally);
    }),
    { numRuns: 20_000, seed },
  );
  assert.ok(tally.fast > 2_000 && tally.zodOnly > 2_000, JSON.stringify(tally));
});

/** Counts the calls of zod's safeParse on every type's schema and the common options (as zod builds them). */
function countZodParses(): { calls: number; restore(): void } {
  const counter = { calls: 0, restore: () => {} };
  const patched: z.ZodMiniType[] = [];
  for (const schema of [commonOptions, ...[...definitions.values()].map((d) => d.options)] as z.ZodMiniType[]) {
    const real = toZod(schema) as z.ZodMiniType;
    const original = real.safeParse;
    patched.push(real);
    real.safeParse = ((...args: Parameters<typeof original>) => {
      counter.calls++;
      return original(...args);
    }) as typeof original;
  }
  counter.restore = () => {
    for (const real of patched) delete (real as { safeParse?: unknown }).safeParse;
  };
  return counter;
}

test('a valid file of tcp and http checks is validated without zod; an invalid one gets zod\'s messages', async () => {
  const text = '- type: tcp\n  host: db\n  port: "5432"\n  tags: a, b\n- type: http\n  url: http://web/health\n  expected_code: 2xx\n  timeout: 2\n- {type: tcp, host: h, port: 1, colour: blue}\n';
  const zod = countZodParses();
  try {
    const { checks, warnings } = await parseConfig({ file: 'f.yaml', text }, {});
    assert.equal(zod.calls, 0);
    assert.deepEqual(checks.map((c) => [c.name, c.options.port ?? c.options.method, c.common.tags, c.common.timeout]), [
      ['tcp:db:5432', 5432, ['a', 'b'], undefined],
      ['http:http://web/health', 'GET', [], 2],
      ['tcp:h:1', 1, [], undefined],
    ]);
    assert.equal(warnings.length, 1);
    let issues: string[] = [];
    try {
      await parseConfig({ file: 'f.yaml', text: '- type: tcp\n  host: db\n  port: 65536\n  retries: nope\n' }, {});
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      issues = err.issues.map(formatIssue);
    }
    assert.ok(zod.calls > 0);
    assert.deepEqual(issues, [
      'f.yaml:3:3: checks[0] (tcp): port: expected an integer 1-65535, got 65536',
      'f.yaml:4:3: checks[0] (tcp): retries: expected an integer 0-100, got "nope"',
    ]);
  } finally {
    zod.restore();
  }
});

test('an s3 endpoint that is not a URL is an error of the file, not a crash of the endpoint refinement', async () => {
  // found by the generated variants: zod ran s3's endpoint refinement (new URL) on the invalid value
  await assert.rejects(parseConfig({ file: 'f.yaml', text: '- type: s3\n  endpoint: "true"\n' }, {}), (err) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.deepEqual(err.issues.map(formatIssue), ['f.yaml:2:3: checks[0] (s3): endpoint: expected an absolute URL (http or https), got "true"']);
    return true;
  });
});

test("a recorded schema answers zod's parse and safeParse through the zod schema it stands for", () => {
  const tags = commonOptions.shape.tags as unknown as z.ZodMiniType;
  assert.deepEqual(tags.parse('a, b'), ['a', 'b']);
  assert.equal(tags.safeParse(5).success, false);
  assert.throws(() => tags.parse(5), /expected a list of tags, got 5/);
  assert.equal(toZod(tags), toZod(tags), 'replayed once');
});

test('every builder core/z.ts records is one that core/zod-parts.ts can replay', async () => {
  const parts = (await import('../src/core/zod-parts.js')) as unknown as Record<string, unknown>;
  const kinds = recordedKinds();
  assert.ok(kinds.length >= 30 && kinds.includes('object') && kinds.includes('refine'), kinds.join(' '));
  for (const kind of kinds) assert.equal(typeof parts[kind], 'function', `zod-parts.ts has no ${kind}`);
  // and each exported builder records its own kind
  assert.equal((z.strictObject({}) as unknown as Recorded).kind, 'strictObject');
  assert.ok(z.enum(['a']) instanceof Recorded);
});
