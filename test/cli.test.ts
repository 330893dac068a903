/** The CLI bundle, spawned as users and Nagios run it: output lines, order, exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAndClosedPorts, runCli, tempConfig } from './helpers/run.js';
import { blackHole } from './helpers/listen.js';
import { scratchDir } from './helpers/scratch.js';

const ports = openAndClosedPorts();

function config(): string {
  return tempConfig(
    [
      `- {type: tcp, host: 127.0.0.1, port: ${ports.open}, tags: [web]}`,
      `- {type: tcp, host: 127.0.0.1, port: ${ports.closed}, tags: [db]}`,
      `- {type: tcp, host: localhost, port: ${ports.open}, name: named-check}`,
    ].join('\n') + '\n',
  );
}

test('text output: conn-check lines, failures first, a verdict line, exit 2 on failure', async () => {
  const r = await runCli([config()]);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 3), [`tcp:127.0.0.1:${ports.closed} FAILED - tcp: connection refused`, 'named-check OK', `tcp:127.0.0.1:${ports.open} OK`]);
  assert.match(lines[3]!, /^CRITICAL: 1 of 3 checks failed in \d+\.\d+s$/);
  assert.equal(lines.length, 4);
});

test('exit 0 when all pass; patterns and tags select; unselected checks print nothing', async () => {
  const cfg = config();
  const byPattern = await runCli([cfg, 'named-*', `*:${ports.open}`]);
  assert.equal(byPattern.code, 0, byPattern.stdout);
  // conn-check dropped unselected checks before building them: no SKIPPED line, not counted
  assert.match(byPattern.stdout, new RegExp(`^named-check OK\\ntcp:127.0.0.1:${ports.open} OK\\nOK: 2 checks passed in `));
  const byTag = await runCli(['--include-tags', 'web', cfg]);
  assert.equal(byTag.code, 0);
  assert.doesNotMatch(byTag.stdout, /SKIPPED|named-check/);
  const excluded = await runCli(['--exclude-tags=db', cfg]);
  assert.equal(excluded.code, 0);
  const both = await runCli(['--include-tags', 'a', '--exclude-tags', 'b', cfg]);
  assert.equal(both.code, 3);
  assert.match(both.stderr, /--include-tags and --exclude-tags cannot both be set/);
});

test('--format json prints the results array', async () => {
  const r = await runCli(['--format', 'json', config()]);
  assert.equal(r.code, 2);
  const results = JSON.parse(r.stdout);
  assert.equal(results.length, 3);
  assert.deepEqual(Object.keys(results[1]).sort(), ['attempts', 'duration_ms', 'error', 'file', 'line', 'name', 'severity', 'status', 'step', 'tags', 'target', 'type']);
  assert.equal(results[1].status, 'failed');
  assert.equal(results[1].step, 'tcp');
  assert.equal(results[1].line, 2);
  assert.deepEqual(results[1].tags, ['db']);
});

test('config from stdin, --validate, --dry-run, -d, -U, -v', async () => {
  const yaml = `- {type: tcp, host: 127.0.0.1, port: ${ports.open}}\n`;
  const stdin = await runCli(['-'], { stdin: yaml });
  assert.equal(stdin.code, 0);
  assert.match(stdin.stdout, new RegExp(`^tcp:127.0.0.1:${ports.open} OK\\n`));
  const validate = await runCli(['--validate', '-'], { stdin: yaml });
  assert.equal(validate.code, 0);
  assert.equal(validate.stdout, 'OK: the config is valid (1 check)\n');
  const dry = await runCli(['--dry-run', config()]);
  assert.equal(dry.code, 0);
  assert.equal(dry.stdout.split('\n').filter((l) => l.startsWith('SKIPPED: ')).length, 3);
  const durations = await runCli(['-d', '-'], { stdin: yaml });
  assert.match(durations.stdout, /^tcp:127\.0\.0\.1:\d+ OK \(\d+\.\d\ds\)\n/);
  const unbuffered = await runCli(['-U', '-v', '-'], { stdin: yaml });
  assert.equal(unbuffered.code, 0);
  assert.match(unbuffered.stderr, /^Starting tcp:127\.0\.0\.1:\d+ \(127\.0\.0\.1:\d+\)\.\.\.$/m);
  assert.match(unbuffered.stdout, /OK \[connected to 127\.0\.0\.1\]\nOK: 1 check passed/);
});

test('bad arguments and invalid configs exit 3 (UNKNOWN) with a clear message, never a stack', async () => {
  const cases: [string[], RegExp, string?][] = [
    [[], /no CONFIG file given/],
    [['--bogus', 'x'], /^conn-check: unknown option --bogus \(conn-check --help lists the options\)\n$/],
    [['--connect-timeout', 'soon', 'x'], /--connect-timeout: expected a number of seconds/],
    [['--format', 'xml', 'x'], /--format: expected one of text, json/],
    [['/nonexistent/checks.yaml'], /\/nonexistent\/checks\.yaml: file not found\nUNKNOWN: cannot read the config file\n/],
    [['-'], /<stdin>:3:3: checks\[0\] \(tcp\): port: expected an integer 1-65535, got 0/, '- type: tcp\n  host: a\n  port: 0\n'],
    [['-'], /<stdin>:1:1: the file has no checks/, ''],
  ];
  for (const [args, re, stdin] of cases) {
    const r = await runCli(args, { stdin });
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('a glob of config files reads them all and writes nothing to stderr (no warning from a built-in)', async () => {
  // Node 24 warns when fs.F_OK is read (DEP0176); the glob library's `import * as fs` once read
  // every export of node:fs at load (scripts/build.mjs, builtinsByName). Under Node 24 in CI.
  const dir = scratchDir('cc-glob-');
  writeFileSync(join(dir, 'a.yaml'), `- {type: tcp, host: 127.0.0.1, port: ${ports.open}}\n`);
  writeFileSync(join(dir, 'b.yaml'), `- {type: tcp, host: localhost, port: ${ports.open}}\n`);
  const r = await runCli([join(dir, '*.yaml')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^OK: 2 checks passed in /m);
  assert.equal(r.stderr, '');
});

test('--help and --version exit 0', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: conn-check \[options\] CONFIG \[PATTERN \.\.\.\]/);
  assert.match(help.stdout, /--max-timeout S/);
  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^conn-check \d+\.\d+\.\d+\n$/);
});

test('--max-timeout stops a run against a black hole and still reports', async () => {
  const hole = await blackHole();
  try {
    const r = await runCli(['--max-timeout', '1', '-'], { stdin: `- {type: tls, host: 127.0.0.1, port: ${hole.port}, timeout: 30}\n` });
    assert.equal(r.code, 2);
    assert.match(r.stdout, /FAILED - tls: max-timeout reached/);
    // a hang guard only: the precise bound is tested in-process (runner.test.ts)
    assert.ok(r.ms < 15000, `took ${r.ms} ms`);
  } finally {
    await hole.close();
  }
});

test('--egress prints the firewall rules the config needs, one per flow', async () => {
  const cfg = tempConfig(
    [
      '- {type: tcp, host: db.internal, port: 5432}',
      '- {type: postgres, host: db.internal, port: "5432", username: u, password: p, database: d}',
      '- {type: udp, host: statsd.internal, port: 8125, send: x, expect: ""}',
      '- {type: http, url: "https://api.internal/health"}',
      '- {type: postgres, host: /var/run/postgresql, port: 5432, username: u, password: p, database: d}',
    ].join('\n') + '\n',
  );
  const r = await runCli(['--egress', cfg]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      'egress:',
      '  - protocol: tcp',
      '    host: api.internal',
      '    port: 443',
      '    checks:',
      '      - http:https://api.internal/health',
      '  - protocol: tcp',
      '    host: db.internal',
      '    port: 5432',
      '    checks:',
      '      - tcp:db.internal:5432',
      '      - postgres:db.internal:5432',
      '  - protocol: udp',
      '    host: statsd.internal',
      '    port: 8125',
      '    checks:',
      '      - udp:statsd.internal:8125',
      '',
    ].join('\n'),
  );
});

test('--format junit and markdown, --output FILE; severity warning exits 1', async () => {
  const { readFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const yaml = `- {type: tcp, host: 127.0.0.1, port: ${ports.open}, name: "a<b>"}\n- {type: tcp, host: 127.0.0.1, port: ${ports.closed}, severity: warning}\n`;
  const junit = await runCli(['--format', 'junit', '-'], { stdin: yaml });
  assert.equal(junit.code, 1, junit.stderr);
  assert.match(junit.stdout, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="conn-check" tests="2" failures="1" errors="0" skipped="0" time="[\d.]+">/);
  assert.match(junit.stdout, /<testcase name="a&lt;b&gt;" classname="conn-check.tcp" file="&lt;stdin&gt;" line="1" time="[\d.]+">/);
  assert.match(junit.stdout, /<failure message="tcp: connection refused" type="warning">/);
  const md = await runCli(['--format', 'markdown', '-'], { stdin: yaml });
  assert.match(md.stdout, /^## conn-check\n\n\*\*1 of 2 checks failed with severity warning in \d+\.\d\ds\*\*\n\n\| \| Check \| Target \| Time \| Details \|/);
  assert.match(md.stdout, /\| ⚠️ \| tcp:127\.0\.0\.1:\d+ \| 127\.0\.0\.1:\d+ \| [\d.]+s \| tcp: connection refused \|/);
  assert.match(md.stdout, /\| ✅ \| a\\<b\\> \|/);
  const text = await runCli(['-'], { stdin: yaml });
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^tcp:127\.0\.0\.1:\d+ WARNING - tcp: connection refused\na<b> OK\nWARNING: 1 of 2 checks failed with severity warning in /);
  const dir = scratchDir('cc-out-');
  const out = await runCli(['--format', 'json', '--output', join(dir, 'r.json'), '-'], { stdin: yaml });
  assert.equal(out.code, 1);
  assert.match(out.stdout, /WARNING - tcp: connection refused/, 'text still goes to stdout');
  const saved = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
  assert.deepEqual(saved.map((r: { severity: string; attempts: number }) => [r.severity, r.attempts]), [['critical', 1], ['warning', 1]]);
});

test('a command line of files and value-less --flags reads as parseArgs reads any other', async () => {
  const cfg = config();
  const valid = await runCli(['--validate', cfg, '--verbose', '--validate']);
  assert.equal(valid.code, 0, valid.stderr);
  assert.equal(valid.stdout, 'OK: the config is valid (3 checks)\n');
  const dashes = await runCli(['--validate', '--', cfg]);
  assert.equal(dashes.code, 0, dashes.stderr);
  const short = await runCli(['-v', '--validate', cfg]);
  assert.equal(short.code, 0, short.stderr);
  const help = await runCli([cfg, '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: conn-check/);
  const withValue = await runCli(['--validate=yes', cfg]);
  assert.equal(withValue.code, 3);
  assert.match(withValue.stderr, /--validate takes no value/);
  const typo = await runCli(['--validat', cfg]);
  assert.equal(typo.code, 3);
  assert.match(typo.stderr, /unknown option --validat; did you mean --validate\?/);
  const proto = await runCli(['--constructor', cfg]);
  assert.equal(proto.code, 3);
  assert.match(proto.stderr, /unknown option --constructor/);
});
