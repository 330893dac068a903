/**
 * The action's env-file and from-env inputs (the bundle, run as the runner runs it), against
 * a real redis-server: values fill ${VAR}, variables become checks, secrets are masked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runAction } from './helpers/run.js';
import { startRedis, type RedisInstance } from './helpers/redis.js';

const PASSWORD = 'p@ss/w0rd-action#2';
let redis: RedisInstance;

before(async () => {
  redis = await startRedis({ password: PASSWORD });
});
after(async () => redis?.stop());

/** Every output but the ::add-mask:: commands (which carry the secrets to the runner). */
function noLeak(all: string): void {
  const text = all.replace(/^::add-mask::.*$/gm, '');
  for (const s of [PASSWORD, encodeURIComponent(PASSWORD)]) assert.ok(!text.includes(s), `${s} leaked in ${text}`);
}

describe('action inputs env-file and from-env', () => {
  test('env-file fills ${VAR}; the password is registered as a secret and appears nowhere', async () => {
    const r = await runAction(
      { checks: '- {type: redis, host: 127.0.0.1, port: "${REDIS_PORT}", password: "${REDIS_PASSWORD}", name: cache}', 'env-file': 'ci.env' },
      { files: { 'ci.env': `# services\nREDIS_PORT=${redis.port}\nexport REDIS_PASSWORD='${PASSWORD}'\n` } },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^::add-mask::/m);
    noLeak(r.stdout + r.stderr + r.summary + JSON.stringify(r.outputs));
  });

  test('from-env: a check per service URL variable, named after it, and the log says which', async () => {
    const r = await runAction(
      { 'from-env': 'true' },
      { env: { CACHE_URL: `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`, GITHUB_API_URL: 'https://api.github.invalid', HTTPS_PROXY: 'http://proxy.invalid:1' } },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /from-env: checks from (.*, )?CACHE_URL/);
    assert.doesNotMatch(r.stdout, /GITHUB_API_URL|HTTPS_PROXY/);
    const results = JSON.parse(r.outputs.results!) as { name: string; status: string }[];
    assert.deepEqual(results.find((x) => x.name === 'CACHE_URL')?.status, 'passed');
    noLeak(r.stdout + r.stderr + r.summary + JSON.stringify(r.outputs));
  });

  test('a missing env-file fails the step naming the file', async () => {
    const r = await runAction({ checks: '- {type: tcp, host: 127.0.0.1, port: 1}', 'env-file': 'missing.env' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /missing\.env: env file: file not found/);
  });
});
