/**
 * Property: whatever text or bytes a config holds, loading it either succeeds or throws a
 * ConfigError whose every issue is a non-empty single line with a position inside the text.
 * Inputs: random values rendered as YAML, random YAML-ish strings and bytes, and random
 * mutations (of the data and of the text) of a real conn-check file with every type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { ConfigError, formatIssue, gatherConfig, type ConfigIssue } from '../src/config/index.js';
import { commonOptionNames, checkTypes, loadCheckTypes } from '../src/checks/registry.js';

const VALID_TEXT = readFileSync(join(import.meta.dirname, 'fixtures/config/valid-conn-check.yaml'), 'utf8');
const VALID = parseYaml(VALID_TEXT) as Record<string, unknown>[];
const ENV = { HOST: 'db.internal', PORT: '5432', EMPTY: '', PW: 'Sx9-pa55-env' };
/** Option names the checks know, so that random mappings often reach the type schemas. */
const OPTION_NAMES = [...new Set([...commonOptionNames, ...(await loadCheckTypes()).flatMap(({ definition }) => [...Object.keys(definition.options.shape)])])];
const TYPE_NAMES = checkTypes().flatMap((t) => [t.type, ...t.aliases]);
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

/** Lines as the YAML LineCounter counts them (a line starts after each \n). */
function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function assertIssue(issue: ConfigIssue, text: string | undefined): void {
  const shown = formatIssue(issue);
  assert.ok(issue.message.trim().length > 0, `empty message: ${JSON.stringify(issue)}`);
  assert.doesNotMatch(shown, /[\r\n\u2028\u2029]/, `one line: ${JSON.stringify(shown)}`);
  assert.doesNotMatch(shown, /^\s+at |Maximum call stack|undefined|\[object Object\]/, `no internals: ${shown}`);
  if (issue.line !== undefined) {
    assert.ok(Number.isInteger(issue.line) && issue.line >= 1, `line ${issue.line}`);
    if (text !== undefined) assert.ok(issue.line <= lineCount(text), `line ${issue.line} of ${lineCount(text)}: ${shown}`);
  }
  if (issue.column !== undefined) assert.ok(Number.isInteger(issue.column) && issue.column >= 1, `column ${issue.column}: ${shown}`);
}

/** Loads the text; only a ConfigError may escape, and every issue (errors and warnings) is well-formed. */
async function check(text: string): Promise<void> {
  let issues: ConfigIssue[];
  try {
    issues = (await parseConfig({ file: 'p.yaml', text }, ENV)).warnings;
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      throw new Error(`not a ConfigError for ${JSON.stringify(text.slice(0, 500))}: ${(err as Error)?.stack ?? String(err)}`);
    }
    issues = err.issues;
    assert.ok(issues.some((i) => i.severity === 'error'), 'a ConfigError has at least one error');
  }
  for (const i of issues) assertIssue(i, text);
}

const yamlOf = (value: unknown): string => {
  try {
    return stringify(value, { aliasDuplicateObjects: false }) ?? '';
  } catch {
    return String(value);
  }
};

/** Values a check option may plausibly (or implausibly) hold. */
const optionValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('${HOST}', '${PW}', '${UNSET}', '${EMPTY:-x}', '${', '$$', '${bad-name}', 'http://u:p@h:1/', 'http://u:%zz@h/', 'http://%E0%A4%A@h:99999/?token=%', '.nan', '0x10', '1e400', '-0', ''),
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.double(),
  fc.string(),
);
const randomCheck = fc.dictionary(fc.oneof(fc.constantFrom(...OPTION_NAMES), fc.string({ maxLength: 6 })), optionValue, { maxKeys: 8 }).chain((opts) =>
  fc.oneof(fc.constant(opts), fc.constantFrom(...TYPE_NAMES).map((type) => ({ ...opts, type }))),
);

/** Characters and tokens YAML gives meaning to. */
const yamlish = fc
  .array(
    fc.constantFrom(
      '- ', ' ', '  ', ':', ': ', '\n', '\r\n', '\t', '[', ']', '{', '}', ',', '&a ', '*a', '<<: ', '"', "'", '#', '|', '>', '!', '!!str ', '%YAML 1.1\n',
      '@', '`', '? ', '---\n', '...\n', 'type', 'tcp', 'host', 'port', '80', 'x', '\\', '\ufeff', '\u2028', '\u0085', 'é', '${X}', '~', 'null',
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

test('random values rendered as YAML', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.anything(), fc.jsonValue(), fc.array(randomCheck, { maxLength: 4 })), async (value) => check(yamlOf(value))),
    { numRuns: 800, seed, includeErrorInReport: true },
  );
});

test('random strings, YAML-ish and not', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 })), async (text) => check(text)),
    { numRuns: 1200, seed, includeErrorInReport: true },
  );
});

type Mutation = (checks: Record<string, unknown>[]) => void;

/** Mutations of the data of a valid file: delete keys, change value types, duplicate and drop entries. */
const dataMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.nat()).map(([c, k]): Mutation => (checks) => {
    const entry = checks[c % checks.length]!;
    const keys = entry && typeof entry === 'object' ? Object.keys(entry) : [];
    if (keys.length) delete entry[keys[k % keys.length]!];
  }),
  fc.tuple(fc.nat(), fc.nat(), optionValue).map(([c, k, v]): Mutation => (checks) => {
    const entry = checks[c % checks.length]!;
    const keys = entry && typeof entry === 'object' ? Object.keys(entry) : [];
    if (keys.length) entry[keys[k % keys.length]!] = v;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...OPTION_NAMES), optionValue).map(([c, k, v]): Mutation => (checks) => {
    const entry = checks[c % checks.length];
    if (entry && typeof entry === 'object' && !Array.isArray(entry)) entry[k] = v;
  }),
  fc.tuple(fc.nat(), fc.anything()).map(([c, v]): Mutation => (checks) => {
    checks[c % checks.length] = v as Record<string, unknown>;
  }),
  fc.nat().map((c): Mutation => (checks) => {
    checks.push(structuredClone(checks[c % checks.length]!));
  }),
);

test('random mutations of the data of a valid conn-check file', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(dataMutation, { minLength: 1, maxLength: 6 }), async (mutations) => {
      const checks = structuredClone(VALID);
      for (const m of mutations) m(checks);
      await check(yamlOf(checks));
    }),
    { numRuns: 600, seed, includeErrorInReport: true },
  );
});

/** Mutations of the text: junk at an offset, a duplicated line (duplicate keys), truncation, a deleted span. */
const textMutation = fc.oneof(
  fc.tuple(fc.nat(), fc.oneof(yamlish, fc.string({ maxLength: 5 }))).map(([at, junk]) => (t: string) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + junk + t.slice(i);
  }),
  fc.nat().map((at) => (t: string) => {
    const lines = t.split('\n');
    const i = at % lines.length;
    lines.splice(i, 0, lines[i]!);
    return lines.join('\n');
  }),
  fc.nat().map((at) => (t: string) => t.slice(0, at % (t.length + 1))),
  fc.tuple(fc.nat(), fc.nat({ max: 40 })).map(([at, n]) => (t: string) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + t.slice(i + n);
  }),
  fc.tuple(fc.nat(), fc.constantFrom('\t', '\r', '\r\n', '\ufeff', '\u00a0', '\0', '\x1b')).map(([at, c]) => (t: string) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + c + t.slice(i);
  }),
);

test('random mutations of the text of a valid conn-check file', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(textMutation, { minLength: 1, maxLength: 5 }), async (mutations) => {
      let text = VALID_TEXT;
      for (const m of mutations) text = m(text);
      await check(text);
    }),
    { numRuns: 1200, seed, includeErrorInReport: true },
  );
});

test('gatherConfig: random bytes on stdin and random inline text, together', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        yamlish.map((s) => new TextEncoder().encode(s)),
        fc.constantFrom(Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xff, 0xfe, 0x2d, 0x00]), Buffer.from('- a\n\xc3', 'latin1')),
      ),
      fc.oneof(yamlish, fc.constant(VALID_TEXT)),
      async (stdin, inline) => {
        try {
          const g = await gatherConfig({ stdin, inline, env: ENV });
          for (const w of g.warnings) assertIssue(w, undefined);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${(err as Error)?.stack ?? String(err)}`);
          for (const i of err.issues) {
            const text = i.file === '<checks input>' ? inline : undefined;
            assertIssue(i, text);
            if (i.file === '<stdin>' && i.line !== undefined) assert.ok(i.line <= lineCount(Buffer.from(stdin).toString('latin1')), formatIssue(i));
          }
        }
      },
    ),
    { numRuns: 500, seed, includeErrorInReport: true },
  );
});

test('the valid file stays valid through stringify (the mutation tests start from a valid config)', async () => {
  const { checks } = await parseConfig({ file: 'v.yaml', text: yamlOf(VALID) }, ENV);
  assert.equal(checks.length, VALID.length);
});
