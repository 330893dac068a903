/** The action bundle, run as the Actions runner runs it: INPUT_* variables, summary and output files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAndClosedPorts, runAction } from './helpers/run.js';

const ports = openAndClosedPorts();

const yaml = () =>
  [
    '# deploy dependencies',
    `- {type: tcp, host: 127.0.0.1, port: ${ports.open}, tags: [web]}`,
    `- type: tcp`,
    `  host: 127.0.0.1`,
    `  port: ${ports.closed}`,
    `  name: "db <primary> & co"`,
  ].join('\n') + '\n';

test('a failing check: outputs, summary table, annotation at its line, failed step', async () => {
  const r = await runAction({ config: 'deps.yaml' }, { files: { 'deps.yaml': yaml() } });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.deepEqual(
    { total: r.outputs.total, passed: r.outputs.passed, failed: r.outputs.failed, skipped: r.outputs.skipped, 'failed-checks': r.outputs['failed-checks'] },
    { total: '2', passed: '1', failed: '1', skipped: '0', 'failed-checks': 'db <primary> & co' },
  );
  const results = JSON.parse(r.outputs.results!);
  assert.deepEqual(
    results.map((x: { name: string; status: string; step: string | null; error: string | null; file: string; line: number }) => [x.name, x.status, x.step, x.error, x.file, x.line]),
    [
      [`tcp:127.0.0.1:${ports.open}`, 'passed', null, null, 'deps.yaml', 2],
      ['db <primary> & co', 'failed', 'tcp', 'connection refused', 'deps.yaml', 3],
    ],
  );
  // the annotation points at the check's entry in the file
  assert.match(r.stdout, /^::error title=conn-check%3A db <primary> & co,file=deps\.yaml,line=3::db <primary> & co FAILED - tcp: connection refused$/m);
  assert.match(r.stdout, /^::error::1 of 2 checks failed: db <primary> & co$/m);
  // one log line per check
  assert.match(r.stdout, new RegExp(`^tcp:127\\.0\\.0\\.1:${ports.open} OK \\(`, 'm'));
  // summary: verdict, failures first, HTML escaped
  assert.match(r.summary, /<p><b>1 of 2 checks failed in \d+\.\d\ds<\/b><\/p>/);
  assert.ok(r.summary.indexOf('db &lt;primary&gt; &amp; co') < r.summary.indexOf(`tcp:127.0.0.1:${ports.open}`));
  assert.doesNotMatch(r.summary, /<primary>/);
});

test('all passing: exit 0, verdict line; fail-on-error false keeps the step green', async () => {
  const ok = await runAction({ checks: `- {type: tcp, host: 127.0.0.1, port: ${ports.open}}` });
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.summary, /<p><b>1 check passed in \d+\.\d\ds<\/b><\/p>/);
  assert.equal(ok.outputs.failed, '0');
  const soft = await runAction({ config: 'deps.yaml', 'fail-on-error': 'false' }, { files: { 'deps.yaml': yaml() } });
  assert.equal(soft.code, 0);
  assert.equal(soft.outputs.failed, '1');
  assert.match(soft.stdout, /^::warning::1 checks failed \(fail-on-error is false\)/m);
});

test('neither config nor checks: the step fails and says how to give one', async () => {
  const r = await runAction({});
  assert.equal(r.code, 1);
  assert.match(r.stdout, /::error::no checks given: set the "config" input to the path of a conn-check YAML file/);
});

test('an invalid config: annotations at line and column, a failed step, nothing run', async () => {
  const bad = '- type: tcp\n  host: a\n  port: 99999\n- type: nope\n';
  const r = await runAction({ config: 'bad.yaml' }, { files: { 'bad.yaml': bad } });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^::error title=conn-check%3A invalid config,file=bad\.yaml,line=3,col=3::bad\.yaml:3:3: checks\[0\] \(tcp\): port: expected an integer 1-65535, got 99999$/m);
  assert.match(r.stdout, /^::error title=conn-check%3A invalid config,file=bad\.yaml,line=4,col=3::bad\.yaml:4:3: checks\[1\] \(nope\): type: unknown check type "nope"/m);
  assert.match(r.stdout, /::error::invalid conn-check config \(2 problems\)/);
  assert.match(r.summary, /The config is invalid: 2 problems/);
  assert.equal(r.outputs.total, undefined);
});

test('validate-only, dry-run, tags, patterns and multiple configs through inputs', async () => {
  const files = { 'a.yaml': yaml(), 'b.yaml': `- {type: tcp, host: localhost, port: ${ports.open}, name: other}\n` };
  const valid = await runAction({ config: 'a.yaml\nb.yaml', 'validate-only': 'true' }, { files });
  assert.equal(valid.code, 0);
  assert.match(valid.stdout, /The config is valid: 3 checks\./);
  const dry = await runAction({ config: '*.yaml', 'dry-run': 'true' }, { files });
  assert.equal(dry.code, 0);
  assert.equal(dry.outputs.skipped, '3');
  const tagged = await runAction({ config: '*.yaml', 'include-tags': 'web' }, { files });
  assert.equal(tagged.code, 0);
  assert.deepEqual([tagged.outputs.passed, tagged.outputs.skipped], ['1', '2']);
  const patterned = await runAction({ config: '*.yaml', patterns: `other, tcp:*:${ports.open}` }, { files });
  assert.equal(patterned.code, 0);
  assert.deepEqual([patterned.outputs.passed, patterned.outputs.skipped], ['2', '1']);
  const conflicting = await runAction({ config: 'a.yaml', 'include-tags': 'a', 'exclude-tags': 'b' }, { files });
  assert.equal(conflicting.code, 1);
  assert.match(conflicting.stdout, /::error::input include-tags and input exclude-tags cannot both be set/);
});

test('bad inputs fail the step with the input named', async () => {
  const r = await runAction({ checks: '- {type: tcp, host: a, port: 1}', 'connect-timeout': 'ten' });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /::error::input connect-timeout: expected a number of seconds > 0 and <= 86400, got "ten"/);
  const b = await runAction({ checks: '- {type: tcp, host: a, port: 1}', 'fail-on-error': 'maybe' });
  assert.match(b.stdout, /::error::input fail-on-error: expected true or false, got "maybe"/);
});

test('a selection that selects nothing fails the step, naming it; a tag-excluded broken check is a warning', async () => {
  const checks = `- {type: tcp, host: 127.0.0.1, port: ${ports.open}, tags: [web]}\n- {type: redis, host: x, port: nope, tags: [old]}`;
  const none = await runAction({ checks, patterns: 'mysql:*', 'exclude-tags': 'old' });
  assert.equal(none.code, 1);
  assert.match(none.stdout, /::error::nothing to check: no check among the checks input exclude-tags old selects matches the pattern "mysql:\*"/);
  const tags = await runAction({ checks, 'include-tags': 'db' });
  assert.equal(tags.code, 1);
  assert.match(tags.stdout, /::error::nothing to check: no check has a tag among db \(input include-tags db\)/);
  const ok = await runAction({ checks, 'exclude-tags': 'old' });
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /^::warning .*port: expected an integer 1-65535, got "nope" \(ignored: the tags leave this check out/m);
  assert.deepEqual([ok.outputs.passed, ok.outputs.skipped], ['1', '0']);
});

test('summary: false writes no summary', async () => {
  const r = await runAction({ checks: `- {type: tcp, host: 127.0.0.1, port: ${ports.open}}`, summary: 'false' });
  assert.equal(r.code, 0);
  assert.equal(r.summary, '');
});

test('severity warning: a warning annotation, the warnings output, the step stays green; report-file', async () => {
  const r = await runAction({ checks: `- {type: tcp, host: 127.0.0.1, port: ${ports.closed}, severity: warning, name: optional}\n- {type: tcp, host: 127.0.0.1, port: ${ports.open}}`, 'report-file': 'out/results.json' });
  assert.equal(r.code, 0, r.stdout);
  assert.deepEqual([r.outputs.failed, r.outputs.warnings, r.outputs['failed-checks']], ['0', '1', '']);
  assert.match(r.stdout, /^::warning title=conn-check%3A optional::optional WARNING - tcp: connection refused$/m);
  assert.match(r.summary, /<tr><td>⚠️<\/td><td>optional<\/td>/);
  const { readFileSync } = await import('node:fs');
  const saved = JSON.parse(readFileSync(`${r.workspace}/out/results.json`, 'utf8'));
  assert.equal(saved.length, 2);
  assert.equal(saved[0].severity, 'warning');
});
