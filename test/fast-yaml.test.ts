/**
 * fastParse against the real thing: every input it accepts must come out exactly as the yaml
 * path of load.ts gives it (values and positions), and every input yaml complains about must
 * fall back. Hand-written configs, tricky scalars, generated configs over a nasty alphabet
 * (with and without random damage), and a 10,000-item file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Composer, isMap, isScalar, isSeq, LineCounter, Parser, type Node as YamlNode } from 'yaml';
import { fastParse, type FastItem, type FastPos } from '../src/config/fast-yaml.js';

const seed = Number(process.env.FC_SEED ?? 20240611);

/** What the yaml path makes of `text` (as load.ts parses it), or undefined if yaml has errors or warnings or it is no list of mappings. */
type YamlItem = Omit<FastItem, 'keys'> & { keys: Map<string, FastPos> };
function viaYaml(text: string): YamlItem[] | undefined {
  const lc = new LineCounter();
  const tokens = [...new Parser(lc.addNewLine).parse(text)];
  const composer = new Composer({ version: '1.1', merge: true, uniqueKeys: true, keepSourceTokens: false, logLevel: 'error' });
  const docs = [...composer.compose(tokens, true, text.length)];
  if (docs.length !== 1) return undefined;
  const doc = docs[0]!;
  if (doc.errors.length || doc.warnings.length) return undefined;
  const root = doc.contents;
  if (!isSeq(root) || root.items.length === 0) return undefined;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return undefined;
  }
  const pos = (offset: number): FastPos => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const items: YamlItem[] = [];
  for (const [i, node] of root.items.entries()) {
    if (!isMap(node)) return undefined;
    const keys = new Map<string, FastPos>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) return undefined;
      keys.set(String(pair.key.value), pos((pair.key as YamlNode).range![0]));
    }
    items.push({ value: (data as Record<string, unknown>[])[i]!, ...pos(node.range![0]), keys });
  }
  return items;
}

/** fastParse either falls back or agrees with yaml; returns whether it accepted. */
function agrees(text: string): boolean {
  const fast = fastParse(text);
  if (fast === undefined) return false;
  const slow = viaYaml(text);
  assert.notEqual(slow, undefined, `fastParse accepted what yaml rejects or reads otherwise:\n${JSON.stringify(text)}`);
  // (the positions compared as a Map: what yaml's nodes give)
  const comparable = fast.map((i) => ({ ...i, keys: new Map(i.keys) }));
  assert.deepStrictEqual(comparable, slow, `fastParse and yaml differ on:\n${JSON.stringify(text)}`);
  return true;
}

const accepted = (text: string): FastItem[] => {
  assert.ok(agrees(text), `expected the fast path to accept:\n${text}`);
  return fastParse(text)!;
};
const values = (text: string): unknown[] => accepted(text).map((i) => i.value);

test('typical conn-check files are accepted and equal yaml', () => {
  const readme = '- type: postgres\n  host: db\n  port: 5432\n  username: u\n  password: "p@ss: word"\n';
  assert.deepEqual(values(readme), [{ type: 'postgres', host: 'db', port: 5432, username: 'u', password: 'p@ss: word' }]);
  const items = accepted(`# checks\n\n${readme}- type: http   # the API\n  url: https://example.com/health?x=1&y=[2]\n  timeout: 2.5\n  name: ${'${API_NAME}'}\n`);
  assert.equal(items.length, 2);
  assert.deepEqual(items[1]!.keys.get('url'), { line: 9, column: 3 });
  assert.deepEqual(values('- {type: tcp, host: 127.0.0.1, port: 45111}\n- {type: tcp, host: 127.0.0.1, port: 45112}\n'), [
    { type: 'tcp', host: '127.0.0.1', port: 45111 },
    { type: 'tcp', host: '127.0.0.1', port: 45112 },
  ]);
  accepted('---\n- type: redis\n  host: ${REDIS_HOST}\n  port: ${REDIS_PORT}\n  password: ${REDIS_PASSWORD}\n');
  accepted('- type: tcp\r\n  host: db\r\n  port: 1\r\n# end\r\n');
  accepted('-   type: tcp\n    host: db\n\n    # comment\n# comment at column 1\n    port: 1\n');
  accepted('- type: http\n  url: http://x/\n  headers:\n    X-Foo: bar\n    Content-Type: "text/plain; q=1"\n  expected_code: 200\n- type: tcp\n  tags:\n      - a\n      - "b c"\n      - 3\n  host: h\n');
  accepted('- type: tcp\n  tags: [a, "b", \'c\', 1, 2.5, ~, null, yes]\n  empty: []\n  none:\n  host: x # comment\n');
  accepted('- type: tcp\n  opts: {a: 1, b: [x, y], c: "q"}\n');
  accepted('---   \n- type: tcp   \n  host: "a b"  \n   \n  port: 1 # c \n- {type: tcp}  ');
  accepted('- {}\n- {type: tcp}\n- { type: tcp ,  host: a , tags: [ ] }\n');
  accepted('- type: tcp\n  password: "caf\u00e9 \u2603 \\\\ \\" \\/ \\n \\t \\r \\0"\n  other: \'it\'\'s # not a comment\'\n');
  const pos = accepted('- {type: tcp, host: db}\n- a: 1\n  b: 2\n');
  assert.deepEqual(
    pos.map((i) => [i.line, i.column, [...i.keys]]),
    [
      [1, 3, [['type', { line: 1, column: 4 }], ['host', { line: 1, column: 15 }]]],
      [2, 3, [['a', { line: 2, column: 3 }], ['b', { line: 3, column: 3 }]]],
    ],
  );
});

test('scalars resolve as YAML 1.1 does, or fall back', () => {
  const one = (v: string): unknown => {
    const block = fastParse(`- v: ${v}\n`);
    agrees(`- v: ${v}\n`);
    agrees(`- {v: ${v}}\n`);
    agrees(`- v: [${v}]\n`);
    return block === undefined ? 'FALLBACK' : block[0]!.value.v;
  };
  const expected: [string, unknown][] = [
    ['5432', 5432],
    ['0', 0],
    ['-0', -0],
    ['+1', 1],
    ['-17', -17],
    ['1.5', 1.5],
    ['0.25', 0.25],
    ['-0.0', -0],
    ['127.0.0.1', '127.0.0.1'],
    ['10.0.0.1:5432', '10.0.0.1:5432'],
    ['1.2.3', '1.2.3'],
    ['1.2e3.4', '1.2e3.4'],
    ['..5', '..5'],
    ['.5.', '.5.'],
    ['1:30.5.1', '1:30.5.1'],
    ['2001-12-14.1.2', '2001-12-14.1.2'],
    ['db.example.com', 'db.example.com'],
    ['localhost', 'localhost'],
    ['${DB_PASSWORD}', '${DB_PASSWORD}'],
    ['https://example.com/health?x=1', 'https://example.com/health?x=1'],
    ['/var/run/x.sock', '/var/run/x.sock'],
    ['yes', true],
    ['Yes', true],
    ['on', true],
    ['ON', true],
    ['y', true],
    ['no', false],
    ['off', false],
    ['n', false],
    ['false', false],
    ['~', null],
    ['null', null],
    ['NULL', null],
    ['', null],
    ['yess', 'yess'],
    ['nulls', 'nulls'],
    ['"5432"', '5432'],
    ["'yes'", 'yes'],
    // Forms the fast path leaves to yaml.
    ['0777', 'FALLBACK'],
    ['0x1F', 'FALLBACK'],
    ['1_000', 'FALLBACK'],
    ['1:30', 'FALLBACK'],
    ['1e3', 'FALLBACK'],
    ['.5', 'FALLBACK'],
    ['.inf', 'FALLBACK'],
    ['2024-01-02', 'FALLBACK'],
    ['::1', 'FALLBACK'],
    ['[::1]', 'FALLBACK'],
    ['&a x', 'FALLBACK'],
    ['*a', 'FALLBACK'],
    ['!!str 1', 'FALLBACK'],
    ['|', 'FALLBACK'],
    ['"a\\x41"', 'FALLBACK'],
    ['a: b', 'FALLBACK'],
  ];
  for (const [text, want] of expected) assert.deepStrictEqual(one(text), want, `- v: ${text}`);
});

test('what is outside the subset falls back', () => {
  const outside = [
    '',
    '# only a comment\n',
    'type: tcp\n',
    '- tcp\n',
    '-\n  type: tcp\n',
    '  - type: tcp\n',
    '- type: tcp\n  type: http\n',
    '- {type: tcp, type: http}\n',
    '- type: tcp\n  host: a\n    b\n',
    '- type: tcp\n   host: a\n',
    '- type: tcp\n host: a\n',
    '- type: tcp\n\thost: a\n',
    '- type: tcp\r  host: a\n',
    '- {type: tcp,\n   host: a}\n',
    '- type: "tcp\n    x"\n',
    '- &a {type: tcp}\n- *a\n',
    '- <<: {type: tcp}\n',
    '- on: 1\n',
    '- __proto__: 1\n',
    '- "type": tcp\n',
    '- type: tcp\n  tags:\n  - a\n',
    '- type: tcp\n  headers:\n    a:\n      b: c\n',
    '- type: tcp\n---\n- type: tcp\n',
    '%YAML 1.1\n---\n- type: tcp\n',
    '- type: tcp\n...\n',
    '- type: !!str tcp\n',
    '- type: |\n    tcp\n',
    '- {type: tcp, opts: {a: 1}}\n',
    '- type: tcp\n  s: "a"b\n',
    '- type: tcp\n  s: x #\n  t: y:\n',
  ];
  for (const text of outside) {
    assert.equal(fastParse(text), undefined, JSON.stringify(text));
    agrees(text);
  }
});

// ------------------------------------------------------------------------------------------
// Generated configs.

const NASTY = [...'0123456789abcdefxyzABEOYNTe:#-.,[]{}\'"\\ ~!&*|>%@_/$'];
const nastyString = fc.array(fc.constantFrom(...NASTY), { maxLength: 12 }).map((a) => a.join(''));
const numberish = fc
  .array(fc.constantFrom(...'0123456789._:-+eEx'), { minLength: 1, maxLength: 8 })
  .map((a) => a.join(''));
const scalarText = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9$/][a-z0-9.:/${}-]{0,8}$/) },
  nastyString,
  numberish,
  fc.constantFrom('yes', 'No', 'ON', 'off', 'y', 'n', '~', 'null', 'Null', 'true', '127.0.0.1', '::1', '[::1]', '${X}', 'a b', 'a #b', 'a#b', 'x:y', 'x: y'),
);
/** A scalar written as-is, or quoted properly, or quoted carelessly. */
const scalar = fc.oneof(
  { weight: 6, arbitrary: scalarText },
  { weight: 3, arbitrary: scalarText.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: scalarText.map((s) => `'${s.replace(/'/g, "''")}'`) },
  { weight: 1, arbitrary: scalarText.map((s) => `"${s}"`) },
  { weight: 1, arbitrary: scalarText.map((s) => `'${s}'`) },
);
const key = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('type', 'host', 'port', 'name', 'password', 'url', 'timeout', 'tags', 'X-Foo', 'a_b', '_x') },
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,6}$/) },
  { weight: 1, arbitrary: fc.constantFrom('on', 'y', 'null', 'Yes', '1', '-a', '<<', '__proto__', 'a b', 'a:b', '"q"') },
  { weight: 1, arbitrary: nastyString },
);
const flowSeqText = fc.array(scalar, { maxLength: 4 }).map((a) => `[${a.join(', ')}]`);
const comment = fc.oneof(fc.constant(''), fc.constant(''), fc.constant(' # note'), fc.constant('  #x'), fc.constant('#x'));
const inlineValue = fc.oneof({ weight: 5, arbitrary: scalar }, { weight: 1, arbitrary: flowSeqText });

type Entry = [string, { inline: string } | { map: [string, string][] } | { seq: string[] } | { flowMap: [string, string][] }];
const entry: fc.Arbitrary<Entry> = fc.tuple(
  key,
  fc.oneof(
    { weight: 6, arbitrary: inlineValue.map((inline) => ({ inline })) },
    { weight: 1, arbitrary: fc.array(fc.tuple(key, inlineValue), { minLength: 1, maxLength: 3 }).map((map) => ({ map })) },
    { weight: 1, arbitrary: fc.array(scalar, { minLength: 1, maxLength: 3 }).map((seq) => ({ seq })) },
    { weight: 1, arbitrary: fc.array(fc.tuple(key, inlineValue), { maxLength: 3 }).map((flowMap) => ({ flowMap })) },
  ),
);
const item: fc.Arbitrary<Item> = fc.record({
  flow: fc.boolean(),
  entries: fc.array(entry, { minLength: 1, maxLength: 4 }),
  pad: fc.integer({ min: 1, max: 3 }),
  nestPad: fc.integer({ min: 1, max: 3 }),
  comment,
});

interface Item {
  flow: boolean;
  entries: Entry[];
  pad: number;
  nestPad: number;
  comment: string;
}

function render(items: Item[], eol: string, header: string): string {
  let out = header;
  for (const it of items) {
    const dash = '-' + ' '.repeat(it.pad);
    if (it.flow) {
      const parts = it.entries.map(([k, v]) =>
        'inline' in v ? `${k}: ${v.inline}` : 'seq' in v ? `${k}: [${v.seq.join(', ')}]` : `${k}: {${('map' in v ? v.map : v.flowMap).map(([a, b]) => `${a}: ${b}`).join(', ')}}`,
      );
      out += `${dash}{${parts.join(', ')}}${it.comment}${eol}`;
      continue;
    }
    const indent = ' '.repeat(dash.length);
    const nested = indent + ' '.repeat(it.nestPad);
    it.entries.forEach(([k, v], i) => {
      out += i === 0 ? dash : indent;
      if ('inline' in v) out += `${k}: ${v.inline}${it.comment}${eol}`;
      else if ('flowMap' in v) out += `${k}: {${v.flowMap.map(([a, b]) => `${a}: ${b}`).join(', ')}}${eol}`;
      else if ('map' in v) out += `${k}:${it.comment}${eol}` + v.map.map(([a, b]) => `${nested}${a}: ${b}${eol}`).join('');
      else out += `${k}:${eol}` + v.seq.map((s) => `${nested}- ${s}${eol}`).join('');
    });
  }
  return out;
}

const config = fc
  .tuple(fc.array(item, { minLength: 1, maxLength: 3 }), fc.constantFrom('\n', '\r\n'), fc.constantFrom('', '', '# c\n', '---\n', '\n# c\n\n'))
  .map(([items, eol, header]) => render(items, eol, header));
/** A config with one random character inserted, replaced or removed: mostly outside the subset. */
const damaged = fc.tuple(config, fc.nat(), fc.constantFrom(...NASTY, '\n', '\t', '\r', '', '  ')).map(([text, at, ch]) => {
  const i = at % (text.length + 1);
  return at % 2 ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + ch + text.slice(i + 1);
});

test('generated configs: fastParse falls back or equals yaml', (t) => {
  let runs = 0;
  let compared = 0;
  fc.assert(
    fc.property(config, (text) => {
      runs++;
      if (agrees(text)) compared++;
    }),
    { numRuns: 10_000, seed, includeErrorInReport: true },
  );
  t.diagnostic(`${compared} of ${runs} generated configs took the fast path and were compared with yaml`);
  // The generator must not be so nasty that little is ever compared.
  assert.ok(compared > runs / 20, `only ${compared} of ${runs} generated configs took the fast path`);
});

test('generated configs with random damage: fastParse falls back or equals yaml', (t) => {
  let runs = 0;
  let compared = 0;
  fc.assert(
    fc.property(damaged, (text) => {
      runs++;
      if (agrees(text)) compared++;
    }),
    { numRuns: 5000, seed: seed + 1, includeErrorInReport: true },
  );
  t.diagnostic(`${compared} of ${runs} damaged configs took the fast path and were compared with yaml`);
});

test('clean generated configs (typical keys and values) are all accepted', () => {
  const word = fc.stringMatching(/^[a-df-z][a-z0-9.-]{0,10}$/).filter((w) => !/^(?:y|n|yes|no|on|off|true|false|null)$/.test(w));
  const clean = fc
    .array(fc.tuple(fc.boolean(), fc.uniqueArray(fc.constantFrom('type', 'host', 'port', 'name', 'url', 'timeout'), { minLength: 1, maxLength: 6 }), fc.array(fc.oneof(word, fc.nat({ max: 65535 }).map(String)), { minLength: 6, maxLength: 6 })), { minLength: 1, maxLength: 5 })
    .map((items) =>
      items
        .map(([flow, keys, vals]) =>
          flow ? `- {${keys.map((k, i) => `${k}: ${vals[i]}`).join(', ')}}\n` : keys.map((k, i) => `${i ? '  ' : '- '}${k}: ${vals[i]}\n`).join(''),
        )
        .join(''),
    );
  fc.assert(
    fc.property(clean, (text) => {
      assert.ok(agrees(text), `not accepted: ${JSON.stringify(text)}`);
    }),
    { numRuns: 1000, seed: seed + 2, includeErrorInReport: true },
  );
});

test('a 10,000-item flow-mapping file is accepted and equals yaml', () => {
  let text = '# generated\n';
  for (let i = 0; i < 10_000; i++) text += `- {type: tcp, host: 127.0.0.1, port: ${40000 + (i % 20000)}, name: check-${i}, timeout: 0.5}\n`;
  const items = accepted(text);
  assert.equal(items.length, 10_000);
  assert.deepEqual(items[9999]!.value, { type: 'tcp', host: '127.0.0.1', port: 40000 + 9999, name: 'check-9999', timeout: 0.5 });
});
