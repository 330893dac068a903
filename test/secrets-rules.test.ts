/** The credential rules of src/secrets/rules.ts. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCredentialHeaderName } from '../src/secrets/rules.js';

describe('isCredentialHeaderName', () => {
  test('names that carry credentials, by the words they contain, in any case', () => {
    for (const name of [
      'Authorization',
      'Proxy-Authorization',
      'Cookie',
      'set-cookie',
      'X-Api-Key',
      'X-Functions-Key',
      'Ocp-Apim-Subscription-Key',
      'Private-Token',
      'X-Auth-Token',
      'X-Secret',
      'X-PASSWORD',
      'x-passwd',
      'X-Amz-Security-Credential',
      'X-Session-Id',
      'X-Hub-Signature-256',
    ]) {
      assert.equal(isCredentialHeaderName(name), true, name);
    }
  });
  test('ordinary headers are not credentials', () => {
    for (const name of ['Accept', 'Content-Type', 'User-Agent', 'Host', 'X-Request-Id', 'Cache-Control']) {
      assert.equal(isCredentialHeaderName(name), false, name);
    }
  });
  test('names the user lists are credentials too, case-insensitively', () => {
    assert.equal(isCredentialHeaderName('X-Tenant', ['x-tenant']), true);
    assert.equal(isCredentialHeaderName('X-Tenant', ['X-Other']), false);
  });
});
