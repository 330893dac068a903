import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, readSource } from '../src/config/load.js';
import { ConfigError, formatIssue, gatherConfig } from '../src/config/index.js';
import { interpolate } from '../src/config/interpolate.js';
import { MAX_CONFIG_BYTES } from '../src/core/constants.js';
import { checkTypes, knownTypeNames } from '../src/checks/registry.js';
import { typeTests } from './types/index.js';
import { scratchDir } from './helpers/scratch.js';

const FIXTURES = join(import.meta.dirname, 'fixtures/config');

async function issuesOf(fn: () => unknown): Promise<string[]> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue);
    throw err;
  }
  assert.fail('expected a ConfigError');
}

// One fixture per rule: `# expect: LINE:COL: message` lines give the exact messages.
for (const name of readdirSync(FIXTURES).filter((f) => f.startsWith('invalid-'))) {
  test(`config rule ${name.replace(/^invalid-|\.yaml$/g, '')}`, async () => {
    const text = readFileSync(join(FIXTURES, name), 'utf8');
    // `{known types}`: the registry's list, as the message gives it (the list is written once, there)
    const exact = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => `${name}:${m[1]!.replace('{known types}', knownTypeNames().join(', '))}`);
    const prefixes = [...text.matchAll(/^# expect-prefix: (.*)$/gm)].map((m) => `${name}:${m[1]}`);
    assert.ok(exact.length + prefixes.length > 0, 'the fixture names its expected message');
    const issues = await issuesOf(() => parseConfig({ file: name, text }, {}));
    for (const e of exact) assert.ok(issues.includes(e), `expected\n  ${e}\namong\n  ${issues.join('\n  ')}`);
    for (const p of prefixes) assert.ok(issues.some((i) => i.startsWith(p)), `expected a message starting\n  ${p}\namong\n  ${issues.join('\n  ')}`);
    for (const i of issues) assert.doesNotMatch(i, /\n|    at /, 'no stack traces or multi-line messages');
  });
}

test('a conn-check file with every conn-check type, alias, string port and tag validates unchanged', async () => {
  const text = readFileSync(join(FIXTURES, 'valid-conn-check.yaml'), 'utf8');
  const { checks, warnings } = await parseConfig({ file: 'valid.yaml', text }, {});
  assert.equal(checks.length, 16);
  assert.deepEqual(
    checks.map((c) => c.type),
    ['tcp', 'tls', 'tls', 'udp', 'http', 'http', 'amqp', 'postgres', 'postgres', 'mysql', 'redis', 'memcache', 'memcache', 'mongodb', 'mongodb', 'smtp'],
  );
  const pg = checks[7]!;
  assert.equal(pg.options.port, 5432, 'string ports are cast to integers');
  assert.deepEqual(pg.common.tags, ['db', 'critical']);
  assert.equal(pg.name, 'postgres:db.internal:5432');
  assert.equal(pg.line, 35);
  assert.equal(checks[9]!.options.port, 3306, 'conn-check-configs writes mysql checks too');
  assert.equal(checks[10]!.common.timeout, 2.5);
  assert.equal(checks[13]!.options.port, 27017, 'mongodb port defaults to 27017');
  assert.equal(checks[6]!.options.vhost, '/');
  // `verify:` on tls was ignored by conn-check: a warning, not an error
  assert.deepEqual(
    warnings.map(formatIssue),
    [
      'warning: valid.yaml:13:3: checks[2] (ssl): verify: conn-check ignored this option and so does this tool; set disable_tls_verification: true to skip verification',
      // 1-3 character passwords cannot be masked without wrecking the output: said once, by option
      'warning: valid.yaml:71:3: checks[14] (mongodb): password: a credential shorter than 4 characters is not masked in the output (masking it would hide every such sequence of characters); use a longer one',
      'warning: valid.yaml:77:3: checks[15] (smtp): password: a credential shorter than 4 characters is not masked in the output (masking it would hide every such sequence of characters); use a longer one',
    ],
  );
});

test('every type and alias of the registry is in a valid fixture, and validates', async () => {
  // valid-conn-check.yaml holds what conn-check wrote; the types and aliases it did not have are
  // in the examples of its test descriptor (test/types/<type>.ts). A type added to the registry without a check here fails.
  const written = new Map<string, string>();
  const canonical = new Set<string>();
  const sources = [{ name: 'valid-conn-check.yaml', text: readFileSync(join(FIXTURES, 'valid-conn-check.yaml'), 'utf8') }];
  for (const { type, test: d } of await typeTests()) if (d.examples) sources.push({ name: `test/types/${type}.ts examples`, text: d.examples });
  for (const { name, text } of sources) {
    const { checks } = await parseConfig({ file: name, text }, {});
    const types = [...text.matchAll(/^- type: (\S+)$/gm)].map((m) => m[1]!);
    assert.equal(checks.length, types.length, `${name}: every check validates`);
    types.forEach((t, i) => written.set(t, checks[i]!.type));
    for (const c of checks) canonical.add(c.type);
  }
  for (const t of checkTypes()) {
    for (const name of [t.type, ...t.aliases]) assert.equal(written.get(name), t.type, `no check with type: ${name} in the valid fixtures`);
  }
  assert.deepEqual([...canonical].sort(), checkTypes().map((t) => t.type).sort());
});

test('every problem of a file is reported at once, each with its position', async () => {
  const text = '- type: tcp\n  host: a\n  port: x\n- type: redis\n- type: nope\n';
  const issues = await issuesOf(() => parseConfig({ file: 'f.yaml', text }, {}));
  assert.equal(issues.length, 4, issues.join('\n'));
  assert.ok(issues[0]!.startsWith('f.yaml:3:3: checks[0] (tcp): port:'));
});

test('unknown options are warnings, not errors', async () => {
  const { checks, warnings } = await parseConfig({ file: 'f.yaml', text: '- type: tcp\n  host: a\n  port: 1\n  colour: blue\n' }, {});
  assert.equal(checks.length, 1);
  assert.deepEqual(warnings.map(formatIssue), ['warning: f.yaml:4:3: checks[0] (tcp): colour: unknown option for tcp checks, ignored']);
});

test('keys real conn-check files carry are never errors, however close to a known option', async () => {
  // conn-check-configs writes Celery brokers as redis checks with vhost (one typo from host)
  // and username; conn-check's README documented verify on tls.
  const text = '- {type: redis, host: a, port: 1, vhost: /, username: celery}\n- {type: tls, host: a, port: 1, verify: true}\n- {type: tcp, host: a, port: 1, colour: blue}\n';
  const { checks, warnings } = await parseConfig({ file: 'f.yaml', text }, {});
  assert.equal(checks.length, 3);
  assert.deepEqual(
    warnings.map((w) => `${w.line}:${w.option}`),
    ['1:vhost', '2:verify', '3:colour'],
  );
});

test('a near miss of a known option is an error naming it; the file does not run with the default', async () => {
  const issues = await issuesOf(() => parseConfig({ file: 'f.yaml', text: '- type: http\n  url: http://a/\n  expected-code: 500\n  timeuot: 2\n' }, {}));
  assert.deepEqual(issues, [
    'f.yaml:3:3: checks[0] (http): expected-code: unknown option for http checks; did you mean expected_code?',
    'f.yaml:4:3: checks[0] (http): timeuot: unknown option for http checks; did you mean timeout?',
  ]);
});

test('name, tags and YAML 1.1 merge keys', async () => {
  const text = '- &base {type: tcp, host: a, port: 1, tags: "x, y"}\n- <<: *base\n  name: second\n  port: 2\n';
  const { checks } = await parseConfig({ file: 'f.yaml', text }, {});
  assert.equal(checks[0]!.name, 'tcp:a:1');
  assert.deepEqual(checks[0]!.common.tags, ['x', 'y']);
  assert.equal(checks[1]!.name, 'second');
  assert.equal(checks[1]!.generatedName, 'tcp:a:2');
  assert.equal(checks[1]!.line, 2);
});

test('${VAR} interpolation: values, defaults, $${ as the only escape, errors name the variable', async () => {
  const env = { HOST: 'db', EMPTY: '' };
  assert.equal(interpolate('${HOST}', env).value, 'db');
  assert.equal(interpolate('${MISSING:-fallback}', env).value, 'fallback');
  assert.equal(interpolate('${EMPTY:-fallback}', env).value, 'fallback');
  assert.equal(interpolate('${EMPTY}', env).value, '');
  // conn-check had no interpolation: a `$$` in a password it used must reach the server as written
  assert.equal(interpolate('pa$$w0rd', env).value, 'pa$$w0rd');
  assert.equal(interpolate('$$', env).value, '$$');
  assert.equal(interpolate('a$$$b', env).value, 'a$$$b');
  assert.equal(interpolate('$${HOST}', env).value, '${HOST}');
  assert.equal(interpolate('x$$${HOST}', env).value, 'x$${HOST}');
  assert.equal(interpolate('cost $5', env).value, 'cost $5');
  assert.throws(() => interpolate('${MISSING}', env), /MISSING is not set/);
  assert.throws(() => interpolate('${bad-name}', env), /not a valid variable reference/);
  const { checks } = await parseConfig({ file: 'f.yaml', text: '- {type: redis, host: "${HOST}", port: "${PORT:-6380}", password: "${PW}"}\n' }, { HOST: 'cache', PW: 'from-env-secret' });
  assert.equal(checks[0]!.options.host, 'cache');
  assert.equal(checks[0]!.options.port, 6380);
  assert.ok(checks[0]!.secrets.has('from-env-secret'), 'an interpolated password is a secret');
});

test('files: missing, a directory, too large, not UTF-8 — clear errors, nothing else escapes', async () => {
  const dir = scratchDir('cc-cfg-');
  const big = join(dir, 'big.yaml');
  writeFileSync(big, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
  const latin1 = join(dir, 'latin1.yaml');
  writeFileSync(latin1, Buffer.from('- type: tcp\n  host: caf\xe9\n  port: 1\n', 'latin1'));
  mkdirSync(join(dir, 'adir'));
  const cases: [string, RegExp][] = [
    [join(dir, 'nope.yaml'), /nope\.yaml: file not found$/],
    [join(dir, 'adir'), /adir: is a directory, not a config file$/],
    [big, /big\.yaml: file is too large \(\d+ bytes; the limit is \d+\)$/],
    [latin1, /latin1\.yaml:2:12: is not valid UTF-8 text \(byte 0xE9\); save the file as UTF-8$/],
  ];
  for (const [path, re] of cases) {
    await assert.rejects(readSource(path), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(formatIssue(err.issues[0]!), re);
      return true;
    });
  }
});

test('gatherConfig collects problems across several files and globs', async () => {
  const dir = scratchDir('cc-glob-');
  mkdirSync(join(dir, 'conf'));
  writeFileSync(join(dir, 'conf/a.yaml'), '- {type: tcp, host: a, port: 1}\n');
  writeFileSync(join(dir, 'conf/b.yaml'), '- {type: tcp, host: b, port: 0}\n');
  await assert.rejects(gatherConfig({ paths: ['conf/*.yaml', 'missing.yaml', 'none/*.yml'], base: dir, env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    const msgs = err.issues.map(formatIssue);
    assert.ok(msgs.includes('none/*.yml: no file matches this pattern'), msgs.join('\n'));
    assert.ok(msgs.includes('missing.yaml: file not found'), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('conf/b.yaml:1:24: checks[0] (tcp): port:')), msgs.join('\n'));
    return true;
  });
  const ok = await gatherConfig({ paths: ['conf/a.yaml'], inline: '- {type: tcp, host: c, port: 3}', base: dir, env: {} });
  assert.deepEqual(
    ok.checks.map((c) => [c.file, c.name]),
    [
      ['conf/a.yaml', 'tcp:a:1'],
      ['<checks input>', 'tcp:c:3'],
    ],
  );
});
