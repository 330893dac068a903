/** Assertions on a check's result, once for every check test. */
import assert from 'node:assert/strict';
import type { CheckResult } from '../../src/runner/result.js';

/**
 * Fails if any of `secrets` appears anywhere in the result(s) (name, error, details...): as
 * written, URL-encoded (userinfo, query strings) or base64-encoded (Basic and SASL PLAIN/LOGIN).
 */
export function assertNoSecrets(r: unknown, secrets: readonly string[]): void {
  const text = JSON.stringify(r) ?? '';
  for (const s of secrets) {
    assert.ok(!text.includes(s), `secret leaked in ${text}`);
    assert.ok(!text.includes(encodeURIComponent(s)), `URL-encoded secret leaked in ${text}`);
    assert.ok(!text.includes(Buffer.from(s).toString('base64')), `base64-encoded secret leaked in ${text}`);
  }
}

/**
 * `failed(r, step, error)`, `passed(r)` and `noSecrets(r, ...more)` for a test file whose
 * servers use `secrets` (or a function giving them, for secrets made in `before`): every failed
 * or passed result is also checked for all of them.
 */
export function resultAssertions(secrets: readonly string[] | (() => readonly string[]) = []) {
  const noSecrets = (r: unknown, ...more: string[]): void => assertNoSecrets(r, [...(typeof secrets === 'function' ? secrets() : secrets), ...more]);
  return {
    noSecrets,
    /** The check failed at `step` with exactly `error` (a string) or a message matching it. */
    failed(r: CheckResult, step: string, error: string | RegExp): void {
      assert.equal(r.status, 'failed', `expected a failure, got ${JSON.stringify(r)}`);
      assert.equal(r.step, step, JSON.stringify(r));
      if (typeof error === 'string') assert.equal(r.error, error);
      else assert.match(r.error ?? '', error);
      noSecrets(r);
    },
    passed(r: CheckResult): void {
      assert.equal(r.status, 'passed', JSON.stringify(r));
      noSecrets(r);
    },
  };
}
