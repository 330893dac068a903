import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { configJsonSchema } from '../src/config/schema.js';

const ROOT = join(import.meta.dirname, '..');
const committed = JSON.parse(readFileSync(join(ROOT, 'schema/conn-check.schema.json'), 'utf8'));

test('schema/conn-check.schema.json is what the zod schemas generate (run npm run schema)', async () => {
  assert.deepEqual(committed, JSON.parse(JSON.stringify(await configJsonSchema())));
});

test('the JSON Schema accepts conn-check files and rejects what the validator rejects', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(committed);
  const valid = parse(readFileSync(join(ROOT, 'test/fixtures/config/valid-conn-check.yaml'), 'utf8'), { version: '1.1' });
  assert.equal(validate(valid), true, JSON.stringify(validate.errors, null, 1));
  const rejects = [
    [{ type: 'tcp', host: 'a', port: 70000 }],
    [{ type: 'tcp', host: 'a' }],
    [{ type: 'carrier-pigeon' }],
    [{ type: 'redis', host: 'a', port: 'abc' }],
    [{ type: 'tcp', host: 'a', port: 1, colour: 'blue' }],
    { type: 'tcp' },
  ];
  for (const doc of rejects) assert.equal(validate(doc), false, JSON.stringify(doc));
  assert.equal(validate([{ type: 'tcp', host: 'a', port: '80', timeout: '2.5', retries: 3, severity: 'warning', tags: 'a, b' }]), true, JSON.stringify(validate.errors));
});

test('the JSON Schema takes url: in place of the options it gives, and the type from its scheme', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(committed);
  for (const doc of [
    [{ url: 'postgres://u:p@db/shop' }],
    [{ url: 'rediss://:p@cache:6380/0', name: 'cache', timeout: 3 }],
    [{ type: 'nats', url: 'tls://n:4222' }],
    [{ type: 'http', url: 'https://example.org/' }],
    [{ url: '${DATABASE_URL}' }],
  ]) assert.equal(validate(doc), true, `${JSON.stringify(doc)}: ${JSON.stringify(validate.errors)}`);
  for (const doc of [[{ url: 'postgres://db/shop', colour: 'blue' }], [{ name: 'neither type nor url' }], [{ type: 'postgres', host: 'db' }]]) {
    assert.equal(validate(doc), false, JSON.stringify(doc));
  }
});
