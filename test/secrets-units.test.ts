/**
 * src/secrets/ on its own: the credential rules, collection from a check's options (declared by
 * the option builders), every form a secret takes, and redaction (one matcher, structured values).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../src/core/z.js';
import { secret, scalarString, text } from '../src/core/options.js';
import { collectSecrets, isCredentialHeaderName, kindsOf, pairBlobs, Redactor, safeUrl, secretForms } from '../src/secrets/index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const has = (got: { secrets: ReadonlySet<string> }, s: string) => assert.ok(got.secrets.has(s), `collects ${JSON.stringify(s)}: ${[...got.secrets].join(' | ')}`);
const hasNot = (got: { secrets: ReadonlySet<string> }, s: string) => assert.ok(!got.secrets.has(s), `does not collect ${JSON.stringify(s)}`);

/** http's kinds, as its option builders declare them (the real schema, not a copy). */
async function httpKinds() {
  const { http } = await import('../src/checks/http/index.js');
  return kindsOf(http.options.shape);
}

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

describe('collectSecrets', () => {
  test('http, by the kinds its builders declare: userinfo, query tokens, credential headers, pairs, cookies, params', async () => {
    const got = collectSecrets(
      {
        url: 'https://user:pw%2Fthree@h/p?token=tok-four&page=2',
        headers: { Authorization: 'Basic ' + b64('hu:pw-five'), 'X-Functions-Key': 'key-six', 'Ocp-Apim-Subscription-Key': 'key-sixb', Accept: 'text/plain' },
        auth: ['au', 'pw-seven'],
        cookies: { sid: 'cookie-eight' },
        params: { access_token: 'tok-nine', q: 'not-secret' },
        bearer_token: 'bearer-ten',
        password: 'pw-one',
        api_token: 'tok-two',
        host: 'db.internal',
        username: 'not-a-secret',
      },
      { kinds: await httpKinds() },
    );
    for (const s of ['pw-one', 'tok-two', 'pw/three', 'tok-four', 'key-six', 'key-sixb', 'pw-five', 'pw-seven', 'cookie-eight', 'tok-nine', 'bearer-ten', b64('au:pw-seven'), b64('user:pw/three')]) has(got, s);
    for (const s of ['db.internal', 'not-a-secret', 'text/plain', 'not-secret', '2', 'au', 'user', 'hu']) hasNot(got, s);
  });

  test('an option is a secret because its builder says so, whatever its name (a future private_key)', () => {
    const shape = { private_key: z.optional(secret(text('a key'))), server_key_id: z.optional(text()) };
    const kinds = kindsOf(shape);
    assert.deepEqual(kinds, { private_key: 'value' });
    const got = collectSecrets({ signing_material: 'pem-material-1', server_key_id: 'kid-2' }, { kinds: kindsOf({ signing_material: secret(scalarString()) }) });
    has(got, 'pem-material-1');
  });

  test('${VAR} values wherever they land in url, headers, params, body and cookies; a ${VAR} host is not a secret', async () => {
    const got = collectSecrets(
      {
        url: 'https://api.example.com/x?v=from-env-url',
        headers: { Accept: 'from-env-header' },
        params: { page: 'from-env-param' },
        body: '{"k":"from-env-body"}',
        cookies: { theme: 'from-env-cookie' },
        name: 'not-from-a-request-option',
      },
      {
        kinds: await httpKinds(),
        interpolated: {
          url: ['api.example.com', 'from-env-url'],
          headers: ['from-env-header'],
          params: ['from-env-param'],
          body: ['from-env-body'],
          cookies: ['from-env-cookie'],
          name: ['not-from-a-request-option'],
        },
      },
    );
    for (const s of ['from-env-url', 'from-env-header', 'from-env-param', 'from-env-body', 'from-env-cookie']) has(got, s);
    hasNot(got, 'api.example.com');
    hasNot(got, 'not-from-a-request-option');
  });

  test('a URL password with #, / or ? (the URL does not parse) is collected as written', async () => {
    const kinds = await httpKinds();
    const got = collectSecrets({ url: 'https://deploy:pa#ss/wo?rd-1@example.com/' }, { kinds });
    has(got, 'pa#ss/wo?rd-1');
  });

  test('headers and params mistyped as a string: all of it is a secret', async () => {
    const kinds = await httpKinds();
    const got = collectSecrets({ headers: 'Authorization: Bearer tok-in-a-string', params: 'access_token=tok-in-params' }, { kinds });
    has(got, 'Authorization: Bearer tok-in-a-string');
    has(got, 'tok-in-a-string');
    has(got, 'access_token=tok-in-params');
  });

  test('a query parameter code=200 is not a secret (it would mask every "200"); a long code is', async () => {
    const kinds = await httpKinds();
    hasNot(collectSecrets({ url: 'https://h/cb?code=200' }, { kinds }), '200');
    hasNot(collectSecrets({ params: { code: 200 } }, { kinds }), '200');
    has(collectSecrets({ params: { code: 'oauth-code-4f9a' } }, { kinds }), 'oauth-code-4f9a');
  });

  test('basic-auth and pair user names are not secrets', async () => {
    const kinds = await httpKinds();
    for (const auth of [['admin', 'pw-pair-1'], { username: 'admin', password: 'pw-pair-1' }]) {
      const got = collectSecrets({ auth }, { kinds });
      hasNot(got, 'admin');
      has(got, 'pw-pair-1');
      has(got, b64('admin:pw-pair-1'));
    }
  });

  test('header names the config lists in credential_headers are credentials too', async () => {
    const { parseConfig } = await import('../src/config/load.js');
    const yaml = '- {type: http, url: "http://h/", headers: {X-Tenant: tenant-secret-1, X-Other: plain-value}, credential_headers: [x-tenant]}\n';
    const { checks } = await parseConfig({ file: 'c.yaml', text: yaml }, {});
    assert.ok(checks[0]!.secrets.has('tenant-secret-1'));
    assert.ok(!checks[0]!.secrets.has('plain-value'));
    assert.deepEqual(checks[0]!.options.credential_headers, ['x-tenant']);
  });

  test('secrets of 1-3 characters are not collected but named, once per option', () => {
    const got = collectSecrets({ password: 'abc', token: 'xy', api_key: 'long-enough' });
    assert.deepEqual([...got.tooShort].sort(), ['password', 'token']);
    hasNot(got, 'abc');
    has(got, 'long-enough');
  });

  test('null, numbers, bad percent-encoding, URLs that do not parse, token-only userinfo', () => {
    assert.equal(collectSecrets({ password: null }).secrets.size, 0);
    has(collectSecrets({ password: 123456 }), '123456');
    has(collectSecrets({ url: 'https://ghp_tokenvalue@github.com/x' }), 'ghp_tokenvalue');
    assert.doesNotThrow(() => collectSecrets({ url: 'http://u:%zz@h/' }));
    has(collectSecrets({ url: 'http://user:pw%zz-secret@h/' }), 'pw%zz-secret');
    const bad = collectSecrets({ url: 'http://user:bad-port-secret@h:99999/' });
    has(bad, 'bad-port-secret');
    has(bad, b64('user:bad-port-secret'));
  });

  test('Cookie headers: each session-like value on its own, harmless short ones not', () => {
    const got = collectSecrets({ headers: { Cookie: 'sid=abc123; theme=dark; tracking=0123456789abcdef' } }, { kinds: { headers: 'headers' } });
    has(got, 'abc123');
    has(got, '0123456789abcdef');
    hasNot(got, 'dark');
  });

  test("a 'mapping' (kafka's sasl): its credential-named keys, a password paired with the username; the other settings are not secrets", () => {
    const shape = { sasl: secret(z.optional(z.object({ mechanism: text(), username: text(), password: scalarString() })), 'mapping') };
    const kinds = kindsOf(shape);
    assert.deepEqual(kinds, { sasl: 'mapping' });
    const got = collectSecrets({ sasl: { mechanism: 'scram-sha-512', username: 'producer', password: 'mapped-Secret-1' } }, { kinds });
    has(got, 'mapped-Secret-1');
    has(got, b64('\0producer\0mapped-Secret-1'));
    hasNot(got, 'scram-sha-512');
    hasNot(got, 'producer');
    has(collectSecrets({ sasl: 'written-as-one-string' }, { kinds }), 'written-as-one-string');
  });
});

describe('secretForms and pairBlobs', () => {
  test('raw, URL-encoded (as URLSearchParams sends !\'()~), userinfo, base64 (padded, unpadded, url), JSON-escaped', () => {
    const s = "a b\"c/d!'()~";
    const f = secretForms(s);
    const search = new URLSearchParams({ x: s }).toString().slice(2);
    assert.match(search, /%21%27%28%29%7E/);
    for (const want of [s, encodeURIComponent(s), search, search.toLowerCase().replace(/^a\+b/, 'a+b'), b64(s), b64(s).replace(/=+$/, ''), Buffer.from(s).toString('base64url'), JSON.stringify(s).slice(1, -1)]) {
      if (want === search.toLowerCase().replace(/^a\+b/, 'a+b')) continue; // (not every lower-casing is a form)
      assert.ok(f.includes(want), `${want} in ${f.join(' | ')}`);
    }
  });
  test('AUTH PLAIN and basic blobs, with and without = padding', () => {
    const blobs = pairBlobs('mailer', 'pw-x1');
    for (const want of [b64('mailer:pw-x1'), b64('\0mailer\0pw-x1'), b64('\0mailer\0pw-x1').replace(/=+$/, '')]) assert.ok(blobs.includes(want), want);
  });
});

describe('Redactor', () => {
  test('every form of every secret becomes ***, longest first, and URL userinfo always', () => {
    const s = 'p@ss/w:rd"\\%';
    const r = new Redactor([s, 'short-one-secret']);
    assert.equal(r.redact(`a ${s} b`), 'a *** b');
    assert.equal(r.redact(encodeURIComponent(s)), '***');
    assert.equal(r.redact(encodeURIComponent(s).toLowerCase().replace('p%40ss', 'p%40ss')), '***', 'lower-case percent hex');
    assert.equal(r.redact(b64(s)), '***');
    assert.equal(r.redact(JSON.stringify({ pw: s })), '{"pw":"***"}');
    assert.equal(r.redact('postgres://u:anything@h/db and https://tok@h/'), 'postgres://***@h/db and https://***@h/');
    assert.equal(r.redact('nothing secret here'), 'nothing secret here');
    assert.deepEqual(r.redactDeep({ a: [s, { b: `x${s}y` }], n: 1, t: true, z: null }), { a: ['***', { b: 'x***y' }], n: 1, t: true, z: null });
    const meta = new Redactor(['a.b*c+(d)?[e]{f}|^$']);
    assert.equal(meta.redact('xa.b*c+(d)?[e]{f}|^$y axbbc'), 'x***y axbbc');
  });

  test('a secret that contains another is removed whole', () => {
    const r = new Redactor(['secret-value', 'secret-value-longer']);
    assert.equal(r.redact('secret-value-longer'), '***');
    assert.equal(r.redact('secret-value-long'), '***', 'a cut-off form at the end of the text');
  });

  test('a form cut short by a check (at the end, or before ... or …) is masked from 6 characters', () => {
    const key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dcsk_live_4eC39HqLyjWDarjtT1zdp7dc-67chars!';
    const r = new Redactor([key]);
    assert.equal(r.redact(`echo: "${key.slice(0, 50)}..."`), 'echo: "***..."');
    assert.equal(r.redact(`echo: ${key.slice(0, 50)}…`), 'echo: ***…');
    assert.equal(r.redact(`echo: ${key.slice(0, 50)}`), 'echo: ***');
    assert.equal(r.redact(`prefix ${key.slice(0, 5)}`), `prefix ${key.slice(0, 5)}`, 'under 6 characters');
    assert.equal(r.redact(`${key.slice(0, 20)} and more`), `${key.slice(0, 20)} and more`, 'not at a cut');
    const pair = new Redactor(pairBlobs('user', 'correct horse battery staple'));
    const blob = b64('user:correct horse battery staple');
    assert.equal(pair.redact(`Authorization: Basic ${blob.slice(0, 30)}...`), 'Authorization: Basic ***...');
  });

  test('secrets shorter than 4 characters are not scrubbed; JSON literals and numbers never are', () => {
    assert.equal(new Redactor(['abc']).redact('abcd abc'), 'abcd abc');
    const r = new Redactor(['null', 'true', '2000']);
    const v = r.redactDeep({ error: null, ok: true, duration_ms: 2000, msg: 'null true 2000' });
    assert.deepEqual(v, { error: null, ok: true, duration_ms: 2000, msg: '*** *** ***' });
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(v)));
  });

  test('16,000 distinct secrets: built once, one pass per text', () => {
    const many = Array.from({ length: 16_000 }, (_, i) => `tok-${i.toString(36)}-${(i * 7919).toString(36)}-xyz`);
    const r = new Redactor(many);
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i} ${many[i * 8]} ok`).join('\n');
    const out = r.redact(text);
    assert.equal(out.split('***').length - 1, 2000);
  });
});

describe('safeUrl', () => {
  test('no userinfo, query values hidden, the rest kept', () => {
    assert.equal(safeUrl('https://user:pw@example.com:8443/a/b?token=x&page=2#frag'), 'https://***@example.com:8443/a/b?token=***&page=***#frag');
    assert.equal(safeUrl('http://tok@h/'), 'http://***@h/');
    assert.equal(safeUrl('http://h/p'), 'http://h/p');
    assert.equal(safeUrl('not a url://u:p@h?x=1'), 'not a url://***@h?***');
  });
});
