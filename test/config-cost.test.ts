/**
 * The per-check work of loading a config (issue 15): what a valid check costs is pinned by
 * structure (how many times its URL is parsed), not by time; the shortcuts agree with the
 * long way on the inputs where they could differ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/load.js';
import { fastParse, KeyPositions } from '../src/config/fast-yaml.js';
import { url } from '../src/core/options.js';
import { loadZod } from '../src/core/z.js';
import { fastValidate } from '../src/config/fast-validate.js';
import { safeUrl } from '../src/secrets/url.js';
import { collectSecrets } from '../src/secrets/index.js';
import { credentialName, credentialNamesKept, NAMES_KEPT } from '../src/secrets/collect.js';
import { isCredentialOptionName } from '../src/secrets/rules.js';

/** Runs `fn` with URL replaced by a subclass that counts its constructions. */
async function countingUrls<T>(fn: () => Promise<T>): Promise<{ result: T; built: number }> {
  const Original = globalThis.URL;
  let built = 0;
  globalThis.URL = class extends Original {
    constructor(...args: ConstructorParameters<typeof URL>) {
      super(...args);
      built++;
    }
  } as typeof URL;
  try {
    return { result: await fn(), built };
  } finally {
    globalThis.URL = Original;
  }
}

test('a valid http check has its URL parsed once while loading (name and target share it; the schema and the secrets do not build it)', async () => {
  const text = '- type: http\n  url: http://127.0.0.1:8080/health\n';
  await parseConfig({ file: 'f.yaml', text }, {}); // modules loaded, types compiled
  const { result, built } = await countingUrls(() => parseConfig({ file: 'g.yaml', text: text.replace('8080', '8081') }, {}));
  assert.equal(result.checks.length, 1);
  assert.equal(result.checks[0]!.name, 'http:http://127.0.0.1:8081/health');
  assert.equal(result.checks[0]!.target, 'http://127.0.0.1:8081/health');
  assert.ok(built <= 1, `URL built ${built} times`);
});

test('the url() option says what parsing the URL says, scheme read from the text or not (zod and the fast path)', async () => {
  await loadZod();
  const reference = (v: string, schemes: readonly string[]) => {
    try {
      return schemes.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  };
  const values = [
    'http://a/', 'HTTP://a/', 'Https://a:443/x?y#z', 'http:a', 'http:/a', 'http://', 'http://a:99999/', 'http://[::1/', 'http://[::1]/',
    ' http://a/', '\thttp://a/', 'ht\ttp://a/', 'http\n://a/', 'http://a/\n', 'ftp://a/', 'javascript:alert(1)', 'a+b.c-d://x', 'https:',
    '1http://a/', '', ':', 'http', 'http//a', 'file:///etc/passwd', 'http://a b/', 'http://%zz/', 'http://user:p@ss@h/',
  ];
  for (const schemes of [['http:', 'https:'], ['ws:', 'wss:', 'http:']]) {
    const schema = url(schemes);
    for (const v of values) {
      assert.equal(schema.safeParse(v).success, reference(v, schemes), JSON.stringify(v));
      assert.equal(fastValidate(schema, v) !== undefined, reference(v, schemes), JSON.stringify(v));
    }
  }
});

test('safeUrl keeps the answer of its last URL only: alternating URLs each get their own', () => {
  const a = 'https://user:secret-pass@h.example/p?token=abc&x=1';
  const b = 'http://h.example:8080/';
  for (let i = 0; i < 3; i++) {
    assert.equal(safeUrl(a), 'https://***@h.example/p?token=***&x=***');
    assert.equal(safeUrl(b), 'http://h.example:8080/');
    assert.equal(safeUrl(b), 'http://h.example:8080/');
  }
});

test('a URL with neither @ nor ? holds no secret of its own; with either, its userinfo and credential parameters are found', () => {
  assert.deepEqual([...collectSecrets({ url: 'https://h.example:8443/path#frag' }).secrets], []);
  assert.ok(collectSecrets({ url: 'https://tok-12345678@h.example/' }).secrets.has('tok-12345678'));
  assert.ok(collectSecrets({ url: 'https://h.example/?access_token=tok-87654321' }).secrets.has('tok-87654321'));
  assert.ok(collectSecrets({ url: 'https://u:p#ss/w0rd@h.example/' }).secrets.has('p#ss/w0rd'));
});

test('the option names collectSecrets has judged are remembered, at most NAMES_KEPT of them, with the same answers', () => {
  const names = ['password', 'host', 'api_key', 'client_key', 'ca_file', 'db_password', 'token', 'port'];
  for (let i = 0; i < 3 * NAMES_KEPT; i++) names.push(`option_${i}${i % 3 === 0 ? '_secret' : i % 3 === 1 ? '_file' : ''}`);
  for (const name of names) assert.equal(credentialName(name), isCredentialOptionName(name), name);
  for (const name of names) assert.equal(credentialName(name), isCredentialOptionName(name), name);
  assert.ok(credentialNamesKept() > 0);
  assert.ok(credentialNamesKept() <= NAMES_KEPT, `${credentialNamesKept()} names kept`);
});

test('options without credentials share one empty collection; a URL with a ${VAR} value in it is still collected from', () => {
  const a = collectSecrets({ type: 'tcp', host: 'db', port: 5432 }, { kinds: {} });
  const b = collectSecrets({ type: 'http', url: 'http://h.example/' }, { kinds: { url: 'url' } });
  assert.equal(a.secrets.size + a.tooShort.size, 0);
  assert.equal(a.secrets, b.secrets, 'one shared (read-only) set, not two new ones');
  const inserted = collectSecrets({ url: 'https://h.example/x-tok-12345678' }, { kinds: { url: 'url' }, interpolated: { url: ['x-tok-12345678'] } });
  assert.ok(inserted.secrets.has('x-tok-12345678'));
  assert.notEqual(inserted.secrets, a.secrets);
});

test('fast-parsed items keep their key positions in the lists the file shares, one small object per item, each item seeing its own keys only', () => {
  const items = fastParse('- type: tcp\n  host: a\n  port: 1\n- {type: http, url: "http://b/"}\n- type: tcp\n  port: 2\n')!;
  for (const item of items) assert.ok(item.keys instanceof KeyPositions);
  assert.deepEqual([...items[0]!.keys], [['type', { line: 1, column: 3 }], ['host', { line: 2, column: 3 }], ['port', { line: 3, column: 3 }]]);
  assert.deepEqual(items[1]!.keys.get('url'), { line: 4, column: 16 });
  assert.equal(items[1]!.keys.get('host'), undefined);
  assert.equal(items[2]!.keys.get('host'), undefined);
  assert.deepEqual(items[2]!.keys.get('port'), { line: 6, column: 3 });
});
