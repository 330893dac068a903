/**
 * The output gate (src/report/gate.ts): control characters neutralised, no line that can start a
 * workflow command, redaction before the cut, structured values kept valid. Then a fuzz test:
 * for arbitrary text and secrets, none of that can be broken.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cut, guardLines, neutralise, OutputGate } from '../src/report/gate.js';
import { pairBlobs, secretForms } from '../src/secrets/index.js';
import { renderJson } from '../src/report/json.js';
import { renderText } from '../src/report/text.js';
import { renderSummary } from '../src/report/summary.js';
import type { CheckResult } from '../src/runner/result.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/;
/** A line the runner would run as a command (it trims leading whitespace first). */
const isCommandLine = (l: string) => /^\s*(::|##\[)/.test(l);
const runnerLines = (s: string) => s.split(/\r\n|\r|\n/);

function result(over: Partial<CheckResult>): CheckResult {
  return { name: 'n', type: 'http', target: 't', status: 'failed', step: 'status', error: 'e', duration_ms: 200, tags: [], file: 'f.yaml', line: 1, ...over };
}

describe('the output gate', () => {
  test('control characters become visible escapes: CR, LF, NUL, ESC, C1, U+2028/9, bidi overrides', () => {
    assert.equal(neutralise('a\rb\nc\0d\x1be\x85f\u2028g\u2029h\u202ei\u2066j\tk'), 'a\\rb\\nc\\0d\\u001be\\u0085f\\u2028g\\u2029h\\u202ei\\u2066j\\tk');
  });

  test('a lone CR in server text cannot start a workflow command', () => {
    const gate = new OutputGate();
    const line = `pg FAILED - auth: ${gate.text('password authentication failed\r::error file=.github/workflows/release.yml::pwned')}`;
    for (const l of runnerLines(gate.stream(line))) assert.ok(!isCommandLine(l), l);
  });

  test('a check name from the config that is a workflow command is shown, not run', () => {
    const gate = new OutputGate();
    for (const name of ['::stop-commands::TOKEN', '  ::add-mask::x', '##[error]x', '\u3000::error::x']) {
      const out = gate.stream(renderText([gate.value(result({ name }))], 10));
      for (const l of runnerLines(out)) assert.ok(!isCommandLine(l), `${JSON.stringify(l)} from ${JSON.stringify(name)}`);
      assert.ok(out.includes('\\'), out);
    }
  });

  test('redaction before the cut: no prefix of a long echoed key survives', () => {
    const key = 'ak_' + 'Z9y8X7w6V5u4T3s2R1q0'.repeat(3) + 'end'; // 66 characters
    const gate = new OutputGate([key]);
    const out = gate.text(`server said: ${key} ${key}`, 50);
    assert.ok(!out.includes(key.slice(0, 8)), out);
    assert.equal(out, 'server said: *** ***');
  });

  test('structured values: numbers and null are never masked, JSON stays valid', () => {
    const gate = new OutputGate(['null', '2000', 'true-secret']);
    const r = gate.value(result({ error: 'null 2000 true-secret', duration_ms: 2000, details: ['x'] }));
    const json = renderJson([r]);
    const back = JSON.parse(json) as { duration_ms: number; step: unknown; error: string }[];
    assert.equal(back[0]!.duration_ms, 2000);
    assert.equal(back[0]!.error, '*** *** ***');
  });

  test('a blank line in a name cannot end the summary\'s HTML block', () => {
    const gate = new OutputGate();
    const html = renderSummary([gate.value(result({ name: 'a\n\n# Heading\n\n<script>x</script>' }))], 10);
    assert.doesNotMatch(html, /\n\s*\n/, 'no blank line');
    assert.doesNotMatch(html, /<script>/);
  });

  test('cut: not inside a surrogate pair, marked', () => {
    assert.equal(cut('ab😀cd', 4), 'ab…');
    assert.equal(cut('abc', 3), 'abc');
  });

  test('guardLines splits as the runner does (CR, LF, CRLF) and keeps the separators', () => {
    assert.equal(guardLines('ok\r::x\r\n ::y\n##[z'), 'ok\r\\::x\r\n \\::y\n\\##[z');
  });
});

describe('fuzz: the output gate against arbitrary text and secrets', () => {
  /** Text built of noise and secrets in their wire forms, with hostile pieces mixed in. */
  const hostile = fc.constantFrom('::', '\r', '\n', '\r\n', '::error::x', '##[error]', '\u2028', '\u202e', '\0', '\x1b[31m', '...', '…', ' ', '\u0085');
  const secretArb = fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme' });

  test('no line can start a workflow command, no control character survives, no 8-character piece of a secret form survives, JSON parses', () => {
    fc.assert(
      fc.property(
        fc.array(secretArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.oneof(fc.string({ maxLength: 30, unit: 'binary' }), hostile, fc.nat({ max: 100 })), { maxLength: 25 }),
        fc.string({ maxLength: 10, unit: 'binary' }),
        fc.integer({ min: 8, max: 200 }),
        (secrets, parts, user, max) => {
          // as collect does: each secret, and the blobs it makes with a user name
          const gate = new OutputGate([...secrets, ...secrets.flatMap((s) => pairBlobs(user, s))]);
          const forms = secrets.flatMap((s) => [...secretForms(s), ...pairBlobs(user, s)]);
          // noise and secret forms interleaved: a number picks a form
          const pieces = parts.map((p) => (typeof p === 'number' ? forms[p % forms.length]! : p));
          const raw = pieces.join('');
          const noiseOnly = parts.filter((p) => typeof p !== 'number').join('\u0001');
          const field = gate.text(raw, max);
          const r = gate.value(result({ name: raw, error: raw, target: raw, details: [raw] }), max);
          const outputs = [gate.stream(`x ${field}`), gate.stream(renderText([r], 1, { verbose: true })), renderJson([r]), renderSummary([r], 1)];
          for (const out of outputs) {
            for (const l of runnerLines(out)) assert.ok(!isCommandLine(l), `command line: ${JSON.stringify(l)}`);
          }
          assert.ok(!CONTROL.test(field), `control character in ${JSON.stringify(field)}`);
          assert.ok(field.length <= max, 'cut to its length');
          JSON.parse(outputs[2]!);
          // No 8-character piece of any form, unless the noise itself (gated) holds that piece.
          const gatedNoise = gate.text(noiseOnly, 1e9);
          for (const f of forms) {
            for (let i = 0; i + 8 <= f.length; i++) {
              const piece = f.slice(i, i + 8);
              if (gatedNoise.includes(piece) || neutralise(noiseOnly).includes(piece)) continue;
              for (const out of [field, outputs[0]!, outputs[1]!]) assert.ok(!out.includes(piece), `${JSON.stringify(piece)} of ${JSON.stringify(f)} in ${JSON.stringify(out)}`);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
