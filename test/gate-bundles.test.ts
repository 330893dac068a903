/**
 * The output gate through the real bundles: hostile check names and hosts from the config, and
 * server text with a lone CR, cannot put a workflow command on stdout (the CLI's or the action's);
 * the `results` output and the job summary stay under GitHub's limits, config errors included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { refusedPort, runAction, runCli, tempConfig } from './helpers/run.js';

/** A line the runner would run as a command (it trims leading whitespace, and reads CR as a line end). */
const commandLines = (s: string) => s.split(/\r\n|\r|\n/).filter((l) => /^\s*(::|##\[)/.test(l));
/** The action's own commands (written by @actions/core): their names, never a payload's. */
const OURS = /^::(error|warning|notice|debug|add-mask)( [^:]*)?::/;
const PAYLOAD = 'PWNED';

function assertNoInjection(stdout: string, what: string): void {
  for (const l of commandLines(stdout)) {
    assert.match(l, OURS, `${what}: a workflow command that is not ours: ${JSON.stringify(l)}`);
    if (l.startsWith('::add-mask::')) assert.ok(!l.includes(PAYLOAD), `${what}: ${l}`);
  }
}

let smtp: Server;
let smtpPort: number;
let refused: number;

before(async () => {
  // An SMTP server whose greeting carries a lone CR and a workflow command (no credentials needed).
  smtp = createServer((s) => {
    s.on('error', () => {});
    s.end(`554 go away\r::stop-commands::${PAYLOAD}\r::error file=.github/workflows/release.yml::${PAYLOAD}\r\n`);
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.address() as { port: number }).port;
  refused = await refusedPort();
});
after(() => new Promise<void>((r) => smtp.close(() => r())));

function hostileConfig(): string {
  return JSON.stringify([
    { type: 'tcp', name: `cr\r::stop-commands::${PAYLOAD}`, host: '127.0.0.1', port: refused },
    { type: 'tcp', name: `lf\n::add-mask::${PAYLOAD}`, host: '127.0.0.1', port: refused },
    { type: 'tcp', name: `::error::${PAYLOAD}`, host: '127.0.0.1', port: refused },
    { type: 'tcp', name: `blank\n\n<b>${PAYLOAD}</b>\u2028::warning::${PAYLOAD}`, host: '127.0.0.1', port: refused, severity: 'warning' },
    { type: 'smtp', name: 'smtp greeting', host: '127.0.0.1', port: smtpPort, username: 'u', password: 'pw-long-enough', use_tls: false, from_address: 'a@example.com', to_address: 'b@example.com', timeout: 5 },
  ]);
}

describe('no workflow command from the config or a server', { concurrency: 2 }, () => {
  test('the CLI, in every format and with -U -v', async () => {
    const file = tempConfig(hostileConfig());
    for (const args of [[file], ['-U', '-v', '-d', file], ['--format', 'json', file], ['--format', 'markdown', file], ['--format', 'junit', file]]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      for (const [name, text] of [
        ['stdout', r.stdout],
        ['stderr', r.stderr],
      ] as const) {
        assert.deepEqual(commandLines(text), [], `${args.join(' ')} ${name}`);
      }
      if (args[1] === 'json') JSON.parse(r.stdout);
    }
    const text = await runCli([file]);
    assert.match(text.stdout, /smtp greeting FAILED - .*554 go away\\r\\?::stop-commands/, 'the server text is shown, neutralised');
  });

  test('a hostile host from the config is a config error that quotes it safely', async () => {
    const file = tempConfig(JSON.stringify([{ type: 'tcp', host: `db\r::stop-commands::${PAYLOAD}`, port: 1 }]));
    const r = await runCli([file]);
    assert.equal(r.code, 3);
    assert.deepEqual(commandLines(r.stderr), []);
    assert.match(r.stderr, /host: expected a host name or address, got one with the control character U\+000D/);
  });

  test('the action: log, annotations, summary and outputs', async () => {
    const r = await runAction({ checks: hostileConfig() });
    assert.equal(r.code, 1, r.stdout);
    assertNoInjection(r.stdout, 'action stdout');
    assert.deepEqual(commandLines(r.stderr), []);
    assert.doesNotMatch(r.summary, /<b>PWNED/, 'HTML escaped');
    assert.doesNotMatch(r.summary, /\n\s*\n(?!$)/, 'no blank line ends the HTML block');
    const results = JSON.parse(r.outputs.results!) as { name: string }[];
    assert.equal(results.length, 5);
    // outputs are data, but a workflow may echo them: no line of failed-checks is a command either
    assert.equal(r.outputs['failed-checks']!.split('\n').length, 4);
    assert.deepEqual(commandLines(r.outputs['failed-checks']!), []);
  });
});

describe('output limits', { concurrency: 2 }, () => {
  test('the results output is capped at 1 MB and points to report-file; the summary stays under 1 MiB', async () => {
    // 3,000 checks with 480-character names: some 2 MB of results
    const checks = Array.from({ length: 3000 }, (_, i) => ({ type: 'tcp', name: `${String(i).padStart(5, '0')}-${'n'.repeat(474)}`, host: '127.0.0.1', port: 1 + (i % 60000) }));
    const r = await runAction({ config: 'many.yaml', 'dry-run': 'true', 'report-file': 'all.json' }, { files: { 'many.yaml': JSON.stringify(checks) }, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout.slice(-2000));
    const out = r.outputs.results!;
    assert.ok(Buffer.byteLength(out) <= 1_000_000, `results output is ${Buffer.byteLength(out)} bytes`);
    const shown = JSON.parse(out) as unknown[];
    assert.ok(shown.length > 100 && shown.length < 3000, `${shown.length} shown`);
    assert.match(r.stdout, new RegExp(`^::warning::the results output holds ${shown.length} of 3000 results \\(failures first\\).*report-file`, 'm'));
    assert.equal((JSON.parse(readFileSync(join(r.workspace, 'all.json'), 'utf8')) as unknown[]).length, 3000, 'the report file holds them all');
    assert.ok(Buffer.byteLength(r.summary) < 1024 * 1024, `summary is ${Buffer.byteLength(r.summary)} bytes`);
  });

  test('a config whose 250 problems each quote a 7,000-character option: the job summary stays under 1 MiB', async () => {
    // (a header name is part of the option path the problem names: http's headers.NAME)
    const checks = Array.from({ length: 250 }, (_, i) => ({ type: 'http', url: 'http://h/', headers: { [`${i}-${'k'.repeat(7000)}`]: { not: 'a string' } } }));
    const r = await runAction({ config: 'bad.yaml' }, { files: { 'bad.yaml': JSON.stringify(checks) }, timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stdout.slice(0, 2000));
    assert.ok(Buffer.byteLength(r.summary) < 1024 * 1024, `summary is ${Buffer.byteLength(r.summary)} bytes`);
    assert.match(r.summary, /The config is invalid: 250 problems/);
  });
});
