/**
 * Hostile and broken config files, through the real bundles: the CLI (exit 3, problems on
 * stderr as FILE:LINE:COL: message) and the action (a failed step, one `::error` annotation per
 * problem at its file, line and column). Never a stack trace, never a hang: every run must end
 * well within its kill timer. Small cases also live in test/fixtures/config/invalid-*.yaml
 * (checked in-process by config.test.ts); the big and binary ones are generated here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knownTypeNames } from '../src/checks/registry.js';
import { MAX_ALIAS_COUNT, MAX_CONFIG_BYTES, MAX_EXPANDED_CHARS, MAX_NAME_CHARS } from '../src/core/constants.js';
import { runAction, runCli, type Ran } from './helpers/run.js';
import { scratchDir } from './helpers/scratch.js';

/** Every run must finish long before the helpers' 60 s kill timer. */
const FAST_MS = 15_000;
const CONFIG = 'cfg.yaml';

interface Case {
  name: string;
  /** File content; `null`: no file at all; `'dir'`: a directory where the file should be. */
  content: string | Buffer | null | 'dir';
  /** Each problem as printed after `cfg.yaml`: `:LINE:COL: message` (or `: message`); a RegExp matches one line. */
  problems: (string | RegExp)[];
  /** Extra environment for both runs (e.g. a small heap for the alias bomb). */
  env?: NodeJS.ProcessEnv;
  /** Also feed the text through the action's `checks` input (inline YAML). */
  inline?: boolean;
}

const types = knownTypeNames().join(', ');
const laughs = (levels: number): string => {
  const lines = ['- type: tcp', '  port: 1', '  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= levels; i++) lines.push(`  l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
  lines.push(`  host: *l${levels}`);
  return lines.join('\n') + '\n';
};
const twentyMb = Buffer.alloc(20 * 1024 * 1024, '- {type: tcp, host: a, port: 1}\n');
const DEEP = /^:1:\d+: nested more than 64 levels deep; expected a list of checks, each a mapping of options$/;

const cases: Case[] = [
  { name: 'an empty file', content: '', problems: [':1:1: the file has no checks: expected a list of checks (- type: tcp ...)'] },
  { name: 'only comments', content: '# nothing here\n\n# yet\n', problems: [':1:1: the file has no checks: expected a list of checks (- type: tcp ...)'] },
  { name: 'not YAML', content: '- type: tcp\n  host: [a\n  port: 1\n', problems: [/^:3:\d+: not valid YAML: .+/], inline: true },
  {
    name: 'a scalar at the top level',
    content: 'localhost:80\n',
    problems: [':1:1: expected a list of checks (- type: tcp ...) at the top level, got a single value'],
    inline: true,
  },
  {
    name: 'a mapping at the top level',
    content: 'type: tcp\nhost: a\nport: 1\n',
    problems: [':1:1: expected a list of checks (- type: tcp ...) at the top level, got a mapping'],
    inline: true,
  },
  {
    name: 'a list of non-mappings',
    content: '- localhost:80\n- 42\n- [tcp, a, 1]\n-\n',
    problems: [
      ':1:3: checks[0]: expected a mapping with a type (- type: tcp ...), got the value "localhost:80"',
      ':2:3: checks[1]: expected a mapping with a type (- type: tcp ...), got the value 42',
      ':3:3: checks[2]: expected a mapping with a type (- type: tcp ...), got a list',
      ':4:2: checks[3]: expected a mapping with a type (- type: tcp ...), got an empty entry',
    ],
  },
  {
    name: 'an unknown type (and a missing one)',
    content: '- type: carrier-pigeon\n  host: a\n- host: b\n  port: 2\n',
    problems: [`:1:3: checks[0] (carrier-pigeon): type: unknown check type "carrier-pigeon"; known types: ${types}`, `:3:3: checks[1]: type: missing; one of: ${types}`],
  },
  {
    name: 'missing options',
    content: '- type: tcp\n- type: postgres\n  host: db\n',
    problems: [
      ':1:3: checks[0] (tcp): host: missing (expected a host name or address)',
      ':1:3: checks[0] (tcp): port: missing (expected an integer 1-65535)',
      ':2:3: checks[1] (postgres): port: missing (expected an integer 1-65535)',
      ':2:3: checks[1] (postgres): username: missing (expected a non-empty string)',
      ':2:3: checks[1] (postgres): password: missing (expected a string)',
      ':2:3: checks[1] (postgres): database: missing (expected a non-empty string)',
    ],
  },
  {
    name: 'mistyped options',
    content: '- type: tcp\n  host: [a, b]\n  port: {n: 80}\n  tags: 5\n  name: ""\n',
    problems: [
      ':2:3: checks[0] (tcp): host: expected a host name or address, got a list',
      ':3:3: checks[0] (tcp): port: expected an integer 1-65535, got a mapping',
      ':4:3: checks[0] (tcp): tags: expected a list of tags, got 5',
      ':5:3: checks[0] (tcp): name: expected a non-empty name, got ""',
    ],
  },
  {
    name: 'ports 0 and 70000',
    content: '- {type: tcp, host: a, port: 0}\n- {type: udp, host: a, port: "70000", send: x, expect: ""}\n',
    problems: [':1:24: checks[0] (tcp): port: expected an integer 1-65535, got 0', ':2:24: checks[1] (udp): port: expected an integer 1-65535, got 70000'],
    inline: true,
  },
  {
    name: 'negative, zero, NaN, infinite and absurd timeouts',
    content: ['-1', '0', '.nan', '.inf', '-.inf', '1e9', '"forever"'].map((t) => `- {type: tcp, host: a, port: 1, timeout: ${t}}\n`).join(''),
    problems: ['-1', '0', 'NaN', 'Infinity', '-Infinity', '1000000000', '"forever"'].map(
      (got, i) => `:${i + 1}:33: checks[${i}] (tcp): timeout: expected a number of seconds > 0 and <= 86400, got ${got}`,
    ),
  },
  {
    name: 'duplicate keys',
    content: '- type: tcp\n  host: a\n  port: 1\n  port: 2\n',
    problems: [':4:3: duplicate key "port": each key may appear only once in a mapping'],
    inline: true,
  },
  {
    name: 'bytes that are not UTF-8',
    content: Buffer.concat([Buffer.from('- type: tcp\n  host: caf'), Buffer.from([0xe9]), Buffer.from('\n  port: 1\n')]),
    problems: [':2:12: is not valid UTF-8 text (byte 0xE9); save the file as UTF-8'],
  },
  {
    name: 'a UTF-8 BOM (accepted: positions as an editor shows them)',
    content: '\ufeff- {type: tcp, host: a, port: 0}\n',
    problems: [':1:24: checks[0] (tcp): port: expected an integer 1-65535, got 0'],
    inline: true,
  },
  {
    name: 'a billion laughs alias bomb (refused fast, with a small heap)',
    content: laughs(9),
    problems: [`:1:1: too many YAML alias expansions (more than ${MAX_ALIAS_COUNT}); is this an alias bomb?`],
    env: { NODE_OPTIONS: '--max-old-space-size=96' },
    inline: true,
  },
  {
    name: 'a 20 MB file (refused before parsing)',
    content: twentyMb,
    problems: [`: file is too large (${twentyMb.length} bytes; the limit is ${MAX_CONFIG_BYTES})`],
    env: { NODE_OPTIONS: '--max-old-space-size=96' },
  },
  { name: '10,000 levels of [[[[', content: '['.repeat(10_000) + ']'.repeat(10_000) + '\n', problems: [':1:65: nested more than 64 levels deep; expected a list of checks, each a mapping of options'], inline: true },
  { name: '10,000 levels of - - - -', content: '- '.repeat(10_000) + 'x\n', problems: [':1:129: nested more than 64 levels deep; expected a list of checks, each a mapping of options'] },
  { name: '10,000 levels of {a: {a:', content: '- ' + '{a: '.repeat(10_000) + '1' + '}'.repeat(10_000) + '\n', problems: [DEEP] },
  { name: 'a missing file', content: null, problems: [': file not found'] },
  { name: 'a directory given as the file', content: 'dir', problems: [': is a directory, not a config file'] },
  { name: 'a NUL byte', content: '- type: tcp\n  host: a\0b\n  port: 1\n', problems: [':2:10: contains a NUL byte; a config file must be YAML text'] },
  { name: 'an escape character', content: '- type: tcp\n  host: a\x1b[31mb\n  port: 1\n', problems: [':2:10: contains the control character U+001B; a config file must be YAML text'] },
  {
    name: 'CRLF line endings (accepted, right line numbers)',
    content: '# windows\r\n- type: tcp\r\n  host: a\r\n  port: 1\r\n- type: tcp\r\n  host: b\r\n  port: 0\r\n',
    problems: [':7:3: checks[1] (tcp): port: expected an integer 1-65535, got 0'],
    inline: true,
  },
  {
    name: 'two YAML documents',
    content: '- {type: tcp, host: a, port: 1}\n---\n- {type: tcp, host: b, port: 2}\n',
    problems: [':2:1: a second YAML document starts here; a config file holds one document: a single list of checks'],
    inline: true,
  },
  {
    name: 'tabs used for indentation',
    content: '- type: tcp\n\thost: a\n\tport: 1\n',
    problems: [':2:1: a tab is used for indentation; YAML indents with spaces only', /^:2:\d+: not valid YAML: /, /^:\d+:\d+: not valid YAML: /],
    inline: true,
  },
  {
    name: 'a 1 MB name aliased 999 times (1 GB once expanded)',
    content: `- {type: tcp, host: a, port: 1, name: &n "${'n'.repeat(1024 * 1024)}"}\n` + '- {type: tcp, host: a, port: 1, name: *n}\n'.repeat(999),
    problems: [`:2:39: the YAML aliases expand to more than ${MAX_EXPANDED_CHARS} characters; is this an alias bomb?`],
  },
  {
    name: 'a name longer than the limit',
    content: `- {type: tcp, host: a, port: 1, name: "${'x'.repeat(MAX_NAME_CHARS + 1)}"}\n`,
    problems: [`:1:33: checks[0] (tcp): name: expected a name of at most ${MAX_NAME_CHARS} characters, got ${MAX_NAME_CHARS + 1}`],
  },
  {
    name: 'a NUL and an escape in host, written as YAML escapes',
    content: '- {type: tcp, host: "db\\0.evil", port: 1}\n- {type: tcp, host: "db\\e[2J", port: 1}\n',
    problems: [
      ':1:15: checks[0] (tcp): host: expected a host name or address, got one with the control character U+0000',
      ':2:15: checks[1] (tcp): host: expected a host name or address, got one with the control character U+001B',
    ],
  },
  {
    name: 'an alias with no anchor',
    content: '- {type: tcp, host: a, port: *p}\n',
    problems: [':1:30: alias *p has no anchor &p before it'],
    inline: true,
  },
];

function matches(line: string, want: string | RegExp, prefix: string): boolean {
  if (typeof want === 'string') return line === prefix + want;
  return line.startsWith(prefix) && want.test(line.slice(prefix.length));
}

/** Each expected problem matches one line, in order (extra lines are allowed only for RegExp cascades). */
function assertProblems(lines: string[], problems: (string | RegExp)[], prefix: string, context: string): void {
  let at = 0;
  for (const want of problems) {
    while (at < lines.length && !matches(lines[at]!, want, prefix)) at++;
    assert.ok(at < lines.length, `expected a line ${prefix}${want}\nin order among:\n${lines.join('\n')}\n--- ${context}`);
    at++;
  }
  if (problems.every((p) => typeof p === 'string')) assert.equal(lines.length, problems.length, `exactly these problems:\n${lines.join('\n')}`);
}

function assertClean(r: Ran, what: string): void {
  const all = r.stdout + r.stderr;
  assert.doesNotMatch(all, /^\s+at /m, `${what}: no stack trace`);
  assert.doesNotMatch(all, /RangeError|TypeError|ReferenceError|Maximum call stack|heap out of memory/, `${what}: no internal error`);
  assert.equal(r.signal, null, `${what}: not killed`);
  assert.ok(r.ms < FAST_MS, `${what}: took ${Math.round(r.ms)} ms`);
}

/** A workspace holding the case's file (written as bytes, or a directory, or nothing). */
function workspace(c: Case): string {
  const dir = scratchDir('conn-check-hostile-');
  if (c.content === 'dir') mkdirSync(join(dir, CONFIG));
  else if (c.content !== null) writeFileSync(join(dir, CONFIG), c.content);
  return dir;
}

/** `::error title=...,file=cfg.yaml,line=L,col=C::cfg.yaml:L:C: message`, as @actions/core escapes it. */
function annotationLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('::error title=conn-check%3A invalid config'))
    .map((l) => {
      const m = /^::error title=conn-check%3A invalid config(?:,file=([^,:]+))?(?:,line=(\d+))?(?:,col=(\d+))?::(.*)$/.exec(l);
      assert.ok(m, `annotation shape: ${l}`);
      const message = m[4]!.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
      // the annotation's own position is the message's position
      if (m[1]) {
        const where = `${m[1]}${m[2] ? `:${m[2]}` : ''}${m[2] && m[3] ? `:${m[3]}` : ''}`;
        assert.ok(message.startsWith(`${where}:`), `annotation properties agree with the message: ${l}`);
      }
      return message;
    });
}

describe('hostile configs through the CLI bundle: exit 3, FILE:LINE:COL: problem', { concurrency: 3 }, () => {
  for (const c of cases) {
    test(c.name, async () => {
      const dir = workspace(c);
      const r = await runCli([CONFIG], { cwd: dir, env: c.env });
      assertClean(r, 'cli');
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.equal(r.stdout, '', 'problems go to stderr');
      const lines = r.stderr.trimEnd().split('\n');
      const verdict = lines.pop()!;
      const n = lines.length;
      // A file that cannot be read at all (missing, a directory, too large) says so.
      const unreadable = /: (file not found|is a directory|file is too large)/.test(lines.join('\n'));
      assert.equal(verdict, unreadable ? 'UNKNOWN: cannot read the config file' : `UNKNOWN: invalid config (${n} problem${n === 1 ? '' : 's'})`);
      assertProblems(lines, c.problems, CONFIG, r.stderr);
    });
  }
});

describe('hostile configs through the action bundle: a failed step with ::error annotations', { concurrency: 3 }, () => {
  for (const c of cases) {
    test(c.name, async () => {
      const dir = workspace(c);
      const r = await runAction({ config: CONFIG }, { workspace: dir, env: c.env });
      assertClean(r, 'action');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const messages = annotationLines(r.stdout);
      assertProblems(messages, c.problems, CONFIG, r.stdout);
      const n = messages.length;
      assert.match(r.stdout, new RegExp(`^::error::invalid conn-check config \\(${n} problem${n === 1 ? '' : 's'}\\):%0A`, 'm'));
      assert.match(r.summary, new RegExp(`The config is invalid: ${n} problem`));
      assert.equal(r.outputs.total, undefined, 'nothing ran');
    });
    if (c.inline && typeof c.content === 'string') {
      test(`${c.name}, as the inline checks input`, async () => {
        const r = await runAction({ checks: c.content as string }, { env: c.env });
        assertClean(r, 'action inline');
        assert.equal(r.code, 1, r.stdout + r.stderr);
        // inline checks have no file to point at: the annotation carries no file/line properties
        const inline = r.stdout.split('\n').filter((l) => l.startsWith('::error title=conn-check%3A invalid config::'));
        const messages = inline.map((l) => l.replace(/^::error title=conn-check%3A invalid config::/, ''));
        assertProblems(messages, c.problems, '<checks input>', r.stdout);
      });
    }
  }
});

describe('what must be accepted', { concurrency: 4 }, () => {
  test('a UTF-8 BOM and CRLF line endings: valid, with the right line numbers', async () => {
    const dir = scratchDir('conn-check-hostile-');
    const text = '\ufeff# windows\r\n- type: tcp\r\n  host: 127.0.0.1\r\n  port: 1\r\n\r\n- type: tcp\r\n  host: 127.0.0.1\r\n  port: 2\r\n';
    writeFileSync(join(dir, CONFIG), text);
    const valid = await runCli(['--validate', CONFIG], { cwd: dir });
    assert.equal(valid.code, 0, valid.stderr);
    assert.equal(valid.stdout, 'OK: the config is valid (2 checks)\n');
    const dry = await runCli(['--dry-run', '--format', 'json', CONFIG], { cwd: dir });
    assertClean(dry, 'cli');
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(
      JSON.parse(dry.stdout).map((r: { line: number; status: string }) => [r.line, r.status]),
      [
        [2, 'skipped'],
        [6, 'skipped'],
      ],
    );
    const action = await runAction({ config: CONFIG, 'validate-only': 'true' }, { workspace: dir });
    assertClean(action, 'action');
    assert.equal(action.code, 0, action.stdout);
    assert.match(action.stdout, /^The config is valid: 2 checks\.$/m);
    const inline = await runAction({ checks: text, 'validate-only': 'true' });
    assert.equal(inline.code, 0, inline.stdout);
  });

  test('a document end marker (...) and a leading --- are one document', async () => {
    const r = await runCli(['--validate', '-'], { stdin: '---\n- {type: tcp, host: a, port: 1}\n...\n' });
    assert.equal(r.code, 0, r.stderr);
  });

  test('stdin: the same limits as files (BOM accepted, NUL refused, too large refused)', async () => {
    const bom = await runCli(['--validate', '-'], { stdin: '\ufeff- {type: tcp, host: a, port: 1}\n' });
    assert.equal(bom.code, 0, bom.stderr);
    const nul = await runCli(['--validate', '-'], { stdin: '- {type: tcp, host: a, port: 1}\0\n' });
    assert.equal(nul.code, 3);
    assert.match(nul.stderr, /^<stdin>:1:32: contains a NUL byte; a config file must be YAML text$/m);
    const big = await runCli(['--validate', '-'], { stdin: twentyMb.toString() });
    assertClean(big, 'cli');
    assert.equal(big.code, 3);
    assert.match(big.stderr, new RegExp(`^<stdin>: too large \\(more than ${MAX_CONFIG_BYTES} bytes, the limit\\)$`, 'm'));
  });

  test('stdin that never ends: read up to the cap, then refused (not read to the end first)', async () => {
    // A child that writes forever to the CLI's stdin: the CLI must stop at its cap and exit 3.
    const { spawn } = await import('node:child_process');
    const { CLI, NODE } = await import('./helpers/run.js');
    const producer = spawn(NODE, ['-e', 'const b = Buffer.alloc(65536, "#"); const w = () => { while (process.stdout.write(b)); process.stdout.once("drain", w); }; w(); process.stdout.on("error", () => process.exit(0));'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const cli = spawn(NODE, [CLI, '--validate', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    producer.stdout.pipe(cli.stdin);
    cli.stdin.on('error', () => {});
    let stderr = '';
    cli.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => cli.kill('SIGKILL'), FAST_MS);
    const code = await new Promise<number | null>((res) => cli.on('close', (c) => res(c)));
    clearTimeout(killer);
    producer.kill('SIGKILL');
    assert.equal(code, 3, `exit code (killed after ${FAST_MS} ms if it kept reading): ${stderr}`);
    assert.match(stderr, new RegExp(`^<stdin>: too large \\(more than ${MAX_CONFIG_BYTES} bytes, the limit\\)$`, 'm'));
  });

});
