/**
 * --env-file (dotenv files under the environment ${VAR} reads) and --from-env (checks from
 * service URLs in the environment), through the CLI in-process against a real redis-server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { readEnvFile } from '../src/config/env-file.js';
import { checksFromEnv } from '../src/config/from-env.js';
import { startRedis, type RedisInstance } from './helpers/redis.js';
import { scratchDir } from './helpers/scratch.js';

const PASSWORD = 'p@ss/w0rd-envfile#1';
const WRONG = 'Wr0ng-envfile-pw';
let redis: RedisInstance;
let dir: string;

before(async () => {
  redis = await startRedis({ password: PASSWORD });
  dir = scratchDir('conn-check-env-');
});
after(async () => redis?.stop());

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}, stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    readStdin: () => new TextEncoder().encode(stdin),
    env,
    cwd: dir,
  });
  return { code, stdout, stderr, all: stdout + stderr };
}

function noLeak(text: string): void {
  for (const s of [PASSWORD, encodeURIComponent(PASSWORD), WRONG, Buffer.from(PASSWORD).toString('base64')]) assert.ok(!text.includes(s), `${s} leaked in ${text}`);
}

describe('--env-file', () => {
  test('reads dotenv syntax: quotes, comments, export, multi-line values', async () => {
    const p = file('syntax.env', ['# a comment', 'export A=1', "B='single # not a comment'", 'C="double\\nline"', 'D=plain # comment', 'E="multi', 'line"', 'F=', ''].join('\n'));
    assert.deepEqual(await readEnvFile(p), { A: '1', B: 'single # not a comment', C: 'double\nline', D: 'plain', E: 'multi\nline', F: '' });
  });

  test('its values fill ${VAR}; the password is masked everywhere; the environment wins over the file', async () => {
    const env = file('redis.env', `REDIS_PORT=${redis.port}\nREDIS_PASSWORD="${PASSWORD}"\n`);
    const cfg = file('checks.yaml', '- type: redis\n  host: 127.0.0.1\n  port: ${REDIS_PORT}\n  password: ${REDIS_PASSWORD}\n');
    const ok = await cli(['-v', '--env-file', env, cfg]);
    assert.equal(ok.code, 0, ok.all);
    noLeak(ok.all);
    const wrong = await cli(['-v', '--format', 'json', '--env-file', env, cfg], { REDIS_PASSWORD: WRONG });
    assert.equal(wrong.code, 2, wrong.all);
    assert.match(wrong.stdout, /"step": ?"auth"/);
    noLeak(wrong.all);
  });

  test('repeatable: a later file wins over an earlier one', async () => {
    const a = file('a.env', `REDIS_PORT=1\nREDIS_PASSWORD=${WRONG}\n`);
    const b = file('b.env', `REDIS_PORT=${redis.port}\nREDIS_PASSWORD='${PASSWORD}'\n`);
    const r = await cli(['--env-file', a, '--env-file', b, '-'], {}, '- {type: redis, host: 127.0.0.1, port: "${REDIS_PORT}", password: "${REDIS_PASSWORD}"}\n');
    assert.equal(r.code, 0, r.all);
  });

  test('a missing file is a config error naming it (exit 3)', async () => {
    const r = await cli(['--env-file', 'nope.env', '-'], {}, '- {type: tcp, host: 127.0.0.1, port: 1}\n');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /nope\.env: env file: file not found/);
  });
});

describe('--from-env', () => {
  const url = () => `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}/0`;
  test('takes *_URL variables with a known scheme, named after the variable, and says which', async () => {
    const env = {
      REDIS_URL: url(),
      HTTP_PROXY: 'http://proxy.invalid:3128',
      HTTPS_PROXY_URL: 'http://proxy.invalid:3128',
      GITHUB_SERVER_URL: 'https://github.com',
      RUNNER_TEMP_URL: 'http://x.invalid',
      ACTIONS_RESULTS_URL: 'https://results.invalid',
      CACHE_ADDR: '127.0.0.1:6379',
      FTP_URL: 'ftp://files.invalid/',
      HOME: '/root',
    };
    const r = await cli(['--from-env'], env);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stderr, /from-env: checks from REDIS_URL\n/);
    assert.match(r.stderr, /left out FTP_URL \(scheme ftp:\/\/ is not one conn-check reads\)/);
    assert.match(r.stdout, /^REDIS_URL OK$/m);
    noLeak(r.all);
  });

  test('variables from env files count; a wrong password fails at auth, masked', async () => {
    const env = file('app.env', `DATABASE_URL=postgres://u:x@127.0.0.1:1/db\nCACHE_URL=redis://:${WRONG}@127.0.0.1:${redis.port}\n`);
    const r = await cli(['--from-env', '--env-file', env, '--format', 'json', '--connect-timeout', '3'], {});
    assert.equal(r.code, 2, r.all);
    assert.match(r.stderr, /checks from CACHE_URL, DATABASE_URL/);
    const results = JSON.parse(r.stdout) as { name: string; step: string }[];
    assert.deepEqual(results.map((x) => [x.name, x.step]).sort(), [['CACHE_URL', 'auth'], ['DATABASE_URL', 'tcp']]);
    noLeak(r.all);
  });

  test('with a config too; nothing found without a config is exit 3', async () => {
    const cfg = file('tcp.yaml', `- {type: tcp, host: 127.0.0.1, port: ${redis.port}}\n`);
    const both = await cli(['--from-env', cfg], { REDIS_URL: url() });
    assert.equal(both.code, 0, both.all);
    assert.equal((both.stdout.match(/ OK$/gm) ?? []).length, 2, both.stdout);
    const none = await cli(['--from-env'], { PATH: '/usr/bin' });
    assert.equal(none.code, 3, none.all);
    assert.match(none.stderr, /no variable named like a service address/);
  });

  test('a taken variable whose URL does not make a valid check: the error names the variable, without the password', async () => {
    const r = await cli(['--from-env'], { DATABASE_URL: `postgres://:${encodeURIComponent(PASSWORD)}@127.0.0.1/db` });
    assert.equal(r.code, 3, r.all);
    assert.match(r.stderr, /^<environment DATABASE_URL>:1:3: checks\[0\] \(postgres\): username: missing/m);
    noLeak(r.all);
  });

  test('the selection rules', async () => {
    const r = await checksFromEnv({ DATABASE_URL: 'postgres://h/db', MONGODB_URI: 'mongodb://h', SENTRY_DSN: 'https://k@o1.invalid/1', NATS_ADDR: 'nats://n:4222', no_proxy_url: 'http://x', npm_config_registry_url: 'https://registry.npmjs.org/', 'bad-name_URL': 'redis://h' });
    assert.deepEqual(r.taken, ['DATABASE_URL', 'MONGODB_URI', 'NATS_ADDR', 'SENTRY_DSN']);
  });
});
