/**
 * The action input `services` (job.services as JSON): tcp checks per mapped port without
 * docker (and a note), credential checks for known images with a `docker` on PATH (here a
 * fake script printing the inspect JSON), against a real PostgreSQL and redis-server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAction } from './helpers/run.js';
import { PG, startPostgres, type PgServers } from './helpers/postgres.js';
import { startRedis, type RedisInstance } from './helpers/redis.js';
import { parseServices, servicesConfig } from '../src/action/services.js';
import { scratchDir } from './helpers/scratch.js';

const PG_ID = 'a1b2c3d4e5f6';
const REDIS_ID = 'f6e5d4c3b2a1';
const OTHER_SECRET = 'unused-Api-Key-77';
let pg: PgServers;
let redis: RedisInstance;
let bin: string;

before(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  bin = scratchDir('conn-check-fake-docker-');
});
after(async () => Promise.all([pg?.stop(), redis?.stop()]));

const jobServices = () =>
  JSON.stringify({
    postgres: { id: PG_ID, network: 'n1', ports: { '5432': String(pg.plain.port) } },
    redis: { id: REDIS_ID, network: 'n1', ports: { '6379': String(redis.port) } },
  });

function inspectJson(password: string) {
  return [
    { Id: `${PG_ID}0000`, Config: { Image: 'postgres:16', Env: [`POSTGRES_USER=${PG.user}`, `POSTGRES_PASSWORD=${password}`, `POSTGRES_DB=${PG.database}`, `APP_API_KEY=${OTHER_SECRET}`, 'PATH=/usr/bin'] } },
    { Id: `${REDIS_ID}0000`, Config: { Image: 'redis:7', Env: ['PATH=/usr/bin'] } },
  ];
}

/** A directory holding a `docker` that prints the inspect JSON (and checks it was asked for inspect). */
function fakeDocker(password: string): string {
  const dir = mkdtempSync(join(bin, 'd-'));
  writeFileSync(join(dir, 'inspect.json'), JSON.stringify(inspectJson(password)));
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\n[ "$1" = inspect ] || exit 9\ncat "${join(dir, 'inspect.json')}"\n`);
  chmodSync(join(dir, 'docker'), 0o755);
  return dir;
}

function noLeak(all: string, secrets: string[]): void {
  const text = all.replace(/^::add-mask::.*$/gm, '');
  for (const s of secrets) assert.ok(!text.includes(s), `${s} leaked in ${text}`);
}

describe('services input: parsing and checks (in-process)', () => {
  test('job.services JSON: ports as strings, bad entries ignored, not JSON is an input error', () => {
    assert.deepEqual(parseServices('{"db":{"id":"abc","ports":{"5432":"49153","x":"1","6379/tcp":70000}}}'), [{ name: 'db', id: 'abc', ports: [[5432, 49153]] }]);
    assert.deepEqual(parseServices(''), []);
    assert.throws(() => parseServices('not json'), /expected the JSON of job\.services/);
    assert.throws(() => parseServices('[1]'), /a list/);
  });

  test('with inspect: a known image gets its credential check, credentials only as references', async () => {
    const r = await servicesConfig(jobServices(), async () => inspectJson(PG.password));
    assert.ok(r.source);
    assert.ok(!r.source.text.includes(PG.password));
    assert.match(r.source.text, /- name: "postgres"\n  type: postgres\n  host: localhost\n  port: \d+\n  username: "\$\{CONN_CHECK_SERVICE_POSTGRES_POSTGRES_USER\}"\n  password: "\$\{CONN_CHECK_SERVICE_POSTGRES_POSTGRES_PASSWORD\}"/);
    assert.equal(r.env.CONN_CHECK_SERVICE_POSTGRES_POSTGRES_PASSWORD, PG.password);
    assert.ok(r.secrets.includes(OTHER_SECRET) && r.secrets.includes(PG.password));
  });

  test('service names and docker messages reach the log on one line (no workflow command injection)', async () => {
    const hostile = JSON.stringify({ 'db\r::warning::injected\n::set-output name=x::y': { id: 'abc', ports: { '5432': '5432' } }, 'q\u2028::error::z': { id: 'abd', ports: {} } });
    const r = await servicesConfig(hostile, async () => {
      throw new Error('docker inspect failed: bad\r::error::from docker');
    });
    for (const note of r.notes) assert.doesNotMatch(note, /[\r\n\u2028]/, note);
    assert.ok(r.notes.some((n) => n.includes('db ::warning::injected ::set-output')), r.notes.join('|'));
  });

  test('without docker: tcp checks and a note saying why', async () => {
    const r = await servicesConfig(jobServices(), async () => {
      throw new Error('docker is not on PATH');
    });
    assert.match(r.source!.text, /- name: "postgres"\n  type: tcp\n/);
    assert.ok(r.notes.some((n) => /docker is not on PATH, so every mapped port gets a TCP check/.test(n)), r.notes.join('\n'));
  });
});

describe('services input (the action bundle)', () => {
  test('without docker on PATH: a tcp check per mapped port, named by the service, and a note', async () => {
    const r = await runAction({ services: jobServices(), wait: '10' }, { env: { PATH: mkdtempSync(join(bin, 'empty-')) } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /docker is not on PATH, so every mapped port gets a TCP check/);
    const results = JSON.parse(r.outputs.results!) as { name: string; type: string; status: string }[];
    assert.deepEqual(results.map((x) => [x.name, x.type, x.status]).sort(), [['postgres', 'tcp', 'passed'], ['redis', 'tcp', 'passed']]);
  });

  test('with docker: postgres logs in with the container\'s credentials, masked; redis answers PING', async () => {
    const r = await runAction({ services: jobServices() }, { env: { PATH: `${fakeDocker(PG.password)}:/usr/bin:/bin` } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const results = JSON.parse(r.outputs.results!) as { name: string; type: string; status: string }[];
    assert.deepEqual(results.map((x) => [x.name, x.type, x.status]).sort(), [['postgres', 'postgres', 'passed'], ['redis', 'redis', 'passed']]);
    assert.match(r.stdout, new RegExp(`^::add-mask::${PG.password}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^::add-mask::${OTHER_SECRET}$`, 'm'));
    noLeak(r.stdout + r.stderr + r.summary + JSON.stringify(r.outputs), [PG.password, OTHER_SECRET]);
  });

  test('with docker and a wrong password in the container: fails at auth, masked', async () => {
    const wrong = 'Wr0ng-services-pw';
    const r = await runAction({ services: jobServices() }, { env: { PATH: `${fakeDocker(wrong)}:/usr/bin:/bin` } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const results = JSON.parse(r.outputs.results!) as { name: string; step: string | null }[];
    assert.equal(results.find((x) => x.name === 'postgres')?.step, 'auth');
    noLeak(r.stdout + r.stderr + r.summary + JSON.stringify(r.outputs), [wrong]);
  });

  test('input services that is not JSON fails the step with a clear message', async () => {
    const r = await runAction({ services: '${{ job.services }}' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /::error::input services: expected the JSON of job\.services/);
  });
});
