import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runOne, runYaml } from './helpers/check.js';
import { freePort, ROOT, spawnNode } from './helpers/run.js';
import { tlsMaterial } from './helpers/tls.js';
import { loadRecorder } from './helpers/load-recorder.js';
import * as hostile from './helpers/hostile.js';
import {
  BASIC_PASSWORD,
  BASIC_USER,
  BEARER_TOKEN,
  DIGEST_PASSWORD,
  DIGEST_USER,
  startHttpServer,
  startProxy,
  startSilentServer,
  type SeenRequest,
  type TestHttpServer,
  type TestProxy,
} from './helpers/http-servers.js';
import { bypassesProxy, envProxyFor } from '../src/net/proxy.js';
import { digestAuthorization, parseChallenges } from '../src/checks/http/auth.js';
import { createHash } from 'node:crypto';
import { ConfigError } from '../src/config/errors.js';
import { parseConfig } from '../src/config/load.js';
import { egressOf } from '../src/report/egress.js';
import type { CheckResult } from '../src/runner/result.js';
import { scratchDir } from './helpers/scratch.js';

const NO_PROXY_ENV: NodeJS.ProcessEnv = {};

let web: TestHttpServer;
let tlsValid: TestHttpServer;
let tlsExpired: TestHttpServer;
let tlsSelf: TestHttpServer;
let tlsWrongHost: TestHttpServer;
let proxy: TestProxy;
let authProxy: TestProxy;
let tlsProxy: TestProxy;
let silent: { port: number; close(): Promise<void> };
const PROXY_USER = 'carol';
const PROXY_PASSWORD = 'pr0xy-s3cret-pw';

before(async () => {
  const m = tlsMaterial();
  [web, tlsValid, tlsExpired, tlsSelf, tlsWrongHost, proxy, authProxy, tlsProxy, silent] = await Promise.all([
    startHttpServer(),
    startHttpServer(m.valid),
    startHttpServer(m.expired),
    startHttpServer(m.selfSigned),
    startHttpServer(m.wrongHost),
    startProxy(),
    startProxy({ auth: { user: PROXY_USER, password: PROXY_PASSWORD } }),
    startProxy({ tls: m.valid }),
    startSilentServer(),
  ]);
});

after(async () => {
  await Promise.all([web, tlsValid, tlsExpired, tlsSelf, tlsWrongHost, proxy, authProxy, tlsProxy, silent].map((s) => s?.close()));
});

/** One check with an empty environment (no proxy variables from the machine). */
function check(options: Record<string, unknown>, env: NodeJS.ProcessEnv = NO_PROXY_ENV, extraCa: string[] = []): Promise<CheckResult> {
  return runOne({ type: 'http', ...options }, { env, extraCa });
}

/** The request the server saw with this marker query value. */
function seenWith(server: TestHttpServer, marker: string): SeenRequest {
  const found = server.seen.filter((r) => r.query.marker?.includes(marker));
  assert.equal(found.length, 1, `expected one request marked ${marker}, saw ${found.length}`);
  return found[0]!;
}

function assertFailed(r: CheckResult, step: string, error: string | RegExp): void {
  assert.equal(r.status, 'failed', `expected a failure, got ${JSON.stringify(r)}`);
  assert.equal(r.step, step, `step: ${JSON.stringify(r)}`);
  if (typeof error === 'string') assert.equal(r.error, error);
  else assert.match(r.error ?? '', error);
}

function assertNoSecret(r: CheckResult, ...secrets: string[]): void {
  const json = JSON.stringify(r);
  for (const s of secrets) {
    assert.ok(!json.includes(s), `secret ${s} leaked: ${json}`);
    const b64 = Buffer.from(s).toString('base64').replace(/=+$/, '');
    assert.ok(!json.includes(b64), `secret ${s} leaked (base64): ${json}`);
  }
}

describe('http: requests', () => {
  test('passes on 200, names the check http:URL, notes the status and time', async () => {
    const r = await check({ url: web.url('/ok') });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `http:${web.url('/ok')}`);
    assert.equal(r.type, 'http');
    assert.equal(r.target, web.url('/ok'));
    assert.ok(r.details?.includes('connected to 127.0.0.1'), JSON.stringify(r.details));
    assert.ok(r.details?.some((d) => /^status 200 in \d+ ms$/.test(d)), JSON.stringify(r.details));
  });

  test('the https alias is the same check', async () => {
    const r = await runOne({ type: 'https', url: web.url('/ok') }, { env: NO_PROXY_ENV });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.type, 'http');
  });

  test('method, repeated headers, body, params merged with the URL query, cookies reach the server', async () => {
    const r = await check({
      url: `${web.url('/echo')}?marker=opts&a=1`,
      method: 'put',
      headers: { 'X-Single': 'one', 'X-Multi': ['first', 'second'], 'X-Number': 42 },
      body: '{"hello": "world"}',
      params: { b: '2', c: ['3', '4'] },
      cookies: { session: 'abc123', theme: 'dark' },
    });
    assert.equal(r.status, 'passed', r.error);
    const seen = seenWith(web, 'opts');
    assert.equal(seen.method, 'PUT');
    assert.deepEqual(seen.headers['x-single'], ['one']);
    assert.deepEqual(seen.headers['x-multi'], ['first', 'second']);
    assert.deepEqual(seen.headers['x-number'], ['42']);
    assert.equal(seen.body, '{"hello": "world"}');
    assert.deepEqual(seen.query, { marker: ['opts'], a: ['1'], b: ['2'], c: ['3', '4'] });
    assert.deepEqual(seen.cookies, { session: 'abc123', theme: 'dark' });
    assert.match(seen.headers['user-agent']![0]!, /^conn-check\//);
  });

  test('a query value is hidden in the name and target', async () => {
    const r = await check({ url: `${web.url('/ok')}?api_key=qv-secret-123&marker=name` });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `http:${web.url('/ok')}?api_key=***&marker=***`);
    assertNoSecret(r, 'qv-secret-123');
  });

  test('HEAD is sent as HEAD', async () => {
    const r = await check({ url: `${web.url('/ok')}?marker=head`, method: 'HEAD' });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(seenWith(web, 'head').method, 'HEAD');
  });
});

describe('http: expected_code', () => {
  const cases: Array<[string, unknown, string]> = [
    ['an int', 404, '/status/404'],
    ['a digit string', '404', '/status/404'],
    ['a list', [200, 204], '/status/204'],
    ['a list of strings', ['201', '204'], '/status/201'],
    ['a class', '2xx', '/status/204'],
    ['a range', '200-399', '/status/302'],
    ['a mixed list', ['2xx', 404], '/status/404'],
  ];
  for (const [what, expected_code, path] of cases) {
    test(`${what} (${JSON.stringify(expected_code)}) passes on ${path}`, async () => {
      const r = await check({ url: web.url(path), expected_code });
      assert.equal(r.status, 'passed', r.error);
    });
  }

  test('default 200: a 500 is "Unexpected response code: 500" at step status', async () => {
    const r = await check({ url: web.url('/status/500') });
    assertFailed(r, 'status', 'Unexpected response code: 500');
    assert.ok(r.details?.some((d) => /^status 500 after \d+ ms$/.test(d)), JSON.stringify(r.details));
  });

  test('a list says what was expected', async () => {
    const r = await check({ url: web.url('/status/500'), expected_code: [200, 204] });
    assertFailed(r, 'status', 'Unexpected response code: 500 (expected 200, 204)');
  });

  test('a class or range says what was expected', async () => {
    const [a, b] = await Promise.all([
      check({ url: web.url('/status/404'), expected_code: '2xx' }),
      check({ url: web.url('/status/404'), expected_code: '200-399' }),
    ]);
    assertFailed(a, 'status', 'Unexpected response code: 404 (expected 2xx)');
    assertFailed(b, 'status', 'Unexpected response code: 404 (expected 200-399)');
  });

  test('invalid forms are config errors', async () => {
    for (const bad of ['abc', 700, '399-200', [], '6xx']) {
      await assert.rejects(
        runYaml(JSON.stringify([{ type: 'http', url: web.url('/ok'), expected_code: bad }]), { env: NO_PROXY_ENV }),
        (err: unknown) => err instanceof ConfigError && /expected_code/.test(String((err as Error).message) + JSON.stringify(err)),
        `expected_code ${JSON.stringify(bad)} should be refused`,
      );
    }
  });
});

describe('http: redirects', () => {
  test('not followed by default: "Unexpected response code: 302"', async () => {
    const r = await check({ url: web.url('/redirect') });
    assertFailed(r, 'status', 'Unexpected response code: 302');
  });

  test('allow_redirects: true follows to 200', async () => {
    const r = await check({ url: web.url('/redirect'), allow_redirects: true });
    assert.equal(r.status, 'passed', r.error);
    assert.ok(r.details?.includes(`followed 1 redirect to ${web.url('/ok')}`), JSON.stringify(r.details));
  });

  test('a redirect loop stops after 10 redirects', async () => {
    const r = await check({ url: web.url('/redirect-loop'), allow_redirects: true });
    assertFailed(r, 'request', 'too many redirects (more than 10)');
  });

  test('303 turns a POST into a GET without body; credentials are not sent to another host', async () => {
    const to = `http://localhost:${web.port}/echo?marker=cross`;
    const r = await check({
      url: `${web.url('/redirect-abs')}?to=${encodeURIComponent(to)}`,
      allow_redirects: true,
      auth: [BASIC_USER, BASIC_PASSWORD],
      headers: { 'X-Kept': 'yes' },
    });
    assert.equal(r.status, 'passed', r.error);
    const seen = seenWith(web, 'cross');
    assert.equal(seen.headers.authorization, undefined, 'Authorization must not follow a redirect to another host');
    assert.deepEqual(seen.headers['x-kept'], ['yes']);

    const p = await check({ url: `${web.url('/see-other')}`, method: 'POST', body: 'data', allow_redirects: true });
    assert.equal(p.status, 'passed', p.error);
    const last = web.seen.at(-1)!;
    assert.equal(last.path, '/echo');
    assert.equal(last.method, 'GET');
    assert.equal(last.body, '');
  });
});

describe('http: a redirect to another origin carries no credential and no body (issue 9)', () => {
  let other: TestHttpServer;
  before(async () => {
    other = await startHttpServer(); // a second server on another loopback port: another origin
  });
  after(() => other.close());
  const SECRET_BODY = 'body-with-a-secret-Zq81x';
  const credentialHeaders = {
    'X-Api-Key': 'api-key-secret-1234',
    'Private-Token': 'private-token-secret-5678',
    'X-Functions-Key': 'functions-key-secret-9012',
    'Proxy-Authorization': 'Basic cHJveHk6c2VjcmV0',
    'Ocp-Apim-Subscription-Key': 'apim-secret-3456',
    'X-Kept': 'yes',
  };
  const hop = (code: number, to: string) => `${web.url('/redirect-abs')}?code=${code}&to=${encodeURIComponent(to)}`;

  for (const code of [307, 308, 302]) {
    test(`${code} to another port: no credential header, no cookie, no body; the result says the origin changed`, async () => {
      const marker = `cross-${code}`;
      const r = await check({
        url: hop(code, `http://127.0.0.1:${other.port}/echo?marker=${marker}`),
        method: 'PUT',
        body: SECRET_BODY,
        allow_redirects: true,
        auth: [BASIC_USER, BASIC_PASSWORD],
        cookies: { session: 'cookie-secret-7890' },
        headers: credentialHeaders,
      });
      assert.equal(r.status, 'passed', r.error);
      const seen = seenWith(other, marker);
      for (const name of ['authorization', 'cookie', 'x-api-key', 'private-token', 'x-functions-key', 'proxy-authorization', 'ocp-apim-subscription-key']) {
        assert.equal(seen.headers[name], undefined, `${name} followed a redirect to another origin`);
      }
      assert.deepEqual(seen.headers['x-kept'], ['yes']);
      assert.equal(seen.body, '', 'the body was re-sent to another origin');
      assert.ok(
        r.details?.some((d) => d === `a redirect changed origin (http://127.0.0.1:${web.port} to http://127.0.0.1:${other.port}): credential headers and the body not sent there`),
        JSON.stringify(r.details),
      );
      // The first hop, to the configured origin, had all of them.
      const first = web.seen.filter((x) => x.path === '/redirect-abs' && x.query.to?.[0]?.includes(marker));
      assert.equal(first.length, 1);
      assert.deepEqual(first[0]!.headers['x-api-key'], ['api-key-secret-1234']);
      assert.equal(first[0]!.body, SECRET_BODY);
    });
  }

  test('a header named in credential_headers does not follow a redirect to another origin either', async () => {
    const r = await check({
      url: hop(302, `http://127.0.0.1:${other.port}/echo?marker=listed`),
      allow_redirects: true,
      headers: { 'X-Tenant': 'tenant-secret-2468', 'X-Kept': 'yes' },
      credential_headers: ['x-tenant'],
    });
    assert.equal(r.status, 'passed', r.error);
    const seen = seenWith(other, 'listed');
    assert.equal(seen.headers['x-tenant'], undefined);
    assert.deepEqual(seen.headers['x-kept'], ['yes']);
  });

  test('307 within the same origin keeps the credential headers and the body, and notes nothing', async () => {
    const r = await check({
      url: hop(307, `http://127.0.0.1:${web.port}/echo?marker=same-307`),
      method: 'PUT',
      body: SECRET_BODY,
      allow_redirects: true,
      headers: credentialHeaders,
    });
    assert.equal(r.status, 'passed', r.error);
    const seen = seenWith(web, 'same-307');
    assert.deepEqual(seen.headers['x-api-key'], ['api-key-secret-1234']);
    assert.deepEqual(seen.headers['private-token'], ['private-token-secret-5678']);
    assert.equal(seen.body, SECRET_BODY);
    assert.ok(!r.details?.some((d) => d.includes('changed origin')), JSON.stringify(r.details));
  });

  test('http to https on the same host is another origin too', async () => {
    const m = tlsMaterial();
    const r = await check({
      url: hop(302, `https://localhost:${tlsValid.port}/echo?marker=upgrade`),
      allow_redirects: true,
      headers: { 'X-Api-Key': 'api-key-secret-1234' },
      ca_file: m.caFile,
    });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(seenWith(tlsValid, 'upgrade').headers['x-api-key'], undefined);
  });
});

describe('http: authentication', () => {
  test('basic auth: right password passes (list and mapping forms)', async () => {
    const [a, b] = await Promise.all([
      check({ url: web.url('/basic'), auth: [BASIC_USER, BASIC_PASSWORD] }),
      check({ url: web.url('/basic'), auth: { username: BASIC_USER, password: BASIC_PASSWORD } }),
    ]);
    assert.equal(a.status, 'passed', a.error);
    assert.equal(b.status, 'passed', b.error);
    assertNoSecret(a, BASIC_PASSWORD);
  });

  test('basic auth: wrong password is "Unexpected response code: 401"', async () => {
    const r = await check({ url: web.url('/basic'), auth: [BASIC_USER, 'wrong-password-x'] });
    assertFailed(r, 'status', 'Unexpected response code: 401');
    assertNoSecret(r, 'wrong-password-x');
  });

  test('credentials in the URL are basic auth and never shown', async () => {
    const u = new URL(web.url('/basic'));
    u.username = BASIC_USER;
    u.password = BASIC_PASSWORD;
    const r = await check({ url: u.href });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `http:http://***@127.0.0.1:${web.port}/basic`);
    assertNoSecret(r, BASIC_PASSWORD);
  });

  for (const alg of ['md5', 'sha256']) {
    test(`digest auth (${alg}): right password passes, wrong one is a 401`, async () => {
      const [ok, bad, mapping] = await Promise.all([
        check({ url: web.url(`/digest/${alg}`), digest_auth: [DIGEST_USER, DIGEST_PASSWORD] }),
        check({ url: web.url(`/digest/${alg}`), digest_auth: [DIGEST_USER, 'wrong-digest-pw'] }),
        check({ url: `${web.url(`/digest/${alg}`)}?x=1`, digest_auth: { username: DIGEST_USER, password: DIGEST_PASSWORD } }),
      ]);
      assert.equal(ok.status, 'passed', ok.error);
      assert.equal(mapping.status, 'passed', mapping.error);
      assertFailed(bad, 'status', 'Unexpected response code: 401');
      assertNoSecret(ok, DIGEST_PASSWORD);
      assertNoSecret(bad, 'wrong-digest-pw');
    });
  }

  test('digest: the server gets no password, only the hash', async () => {
    const before = web.seen.length;
    const r = await check({ url: web.url('/digest/sha256'), digest_auth: [DIGEST_USER, DIGEST_PASSWORD] });
    assert.equal(r.status, 'passed', r.error);
    const mine = web.seen.slice(before).filter((s) => s.path === '/digest/sha256');
    assert.ok(mine.length >= 2);
    for (const s of mine) assert.ok(!JSON.stringify(s).includes(DIGEST_PASSWORD));
  });

  test('bearer_token: right token passes, wrong is a 401, the token never shows', async () => {
    const [ok, bad] = await Promise.all([
      check({ url: web.url('/bearer'), bearer_token: BEARER_TOKEN }),
      check({ url: web.url('/bearer'), bearer_token: 'tok-wrong-000' }),
    ]);
    assert.equal(ok.status, 'passed', ok.error);
    assertFailed(bad, 'status', 'Unexpected response code: 401');
    assertNoSecret(ok, BEARER_TOKEN);
    assertNoSecret(bad, 'tok-wrong-000');
  });

  test('auth options are exclusive (config error)', async () => {
    await assert.rejects(
      runYaml(JSON.stringify([{ type: 'http', url: web.url('/ok'), auth: ['a', 'b'], bearer_token: 'xyz' }]), { env: NO_PROXY_ENV }),
      ConfigError,
    );
  });

  test('WWW-Authenticate parsing: several challenges in one header', () => {
    const c = parseChallenges(['Basic realm="x", Digest realm="a, b", nonce="n1", qop="auth,auth-int", algorithm=SHA-256', 'Bearer']);
    assert.deepEqual(
      c.map((x) => x.scheme),
      ['basic', 'digest', 'bearer'],
    );
    assert.deepEqual(c[1]!.params, { realm: 'a, b', nonce: 'n1', qop: 'auth,auth-int', algorithm: 'SHA-256' });
  });
});

describe('digest responses (unit)', () => {
  const fields = (header: string) => parseChallenges([header])[0]!.params;
  const cases: Array<[string, string, string]> = [
    ['MD5, no qop (RFC 2069)', 'Digest realm="r", nonce="n1"', 'md5'],
    ['SHA-256-sess, qop auth', 'Digest realm="r", nonce="n1", qop="auth", algorithm=SHA-256-sess', 'sha256'],
    ['SHA-512-256, qop auth-int only', 'Digest realm="r", nonce="n1", qop="auth-int", algorithm=SHA-512-256', 'sha512-256'],
  ];
  for (const [what, challenge, hash] of cases) {
    test(what, () => {
      const creds = { username: 'u', password: 'p4ss-word' };
      const header = digestAuthorization(parseChallenges([challenge]), creds, 'POST', '/x?y=1', 'payload')!;
      const f = fields(header);
      const H = (x: string) => createHash(hash).update(x).digest('hex');
      let ha1 = H('u:r:p4ss-word');
      if (/-sess/.test(challenge)) ha1 = H(`${ha1}:n1:${f.cnonce}`);
      const ha2 = f.qop === 'auth-int' ? H(`POST:/x?y=1:${H('payload')}`) : H('POST:/x?y=1');
      const expected = f.qop ? H(`${ha1}:n1:${f.nc}:${f.cnonce}:${f.qop}:${ha2}`) : H(`${ha1}:n1:${ha2}`);
      assert.equal(f.response, expected);
      assert.equal(f.uri, '/x?y=1');
      assert.ok(!header.includes('p4ss-word'));
    });
  }
  test('the strongest algorithm offered is chosen; an unknown one alone is an auth failure', () => {
    const header = digestAuthorization(parseChallenges(['Digest realm="r", nonce="a", algorithm=MD5', 'Digest realm="r", nonce="b", algorithm=SHA-256']), { username: 'u', password: 'p' }, 'GET', '/', undefined)!;
    assert.match(header, /algorithm=SHA-256/);
    assert.throws(
      () => digestAuthorization(parseChallenges(['Digest realm="r", nonce="a", algorithm=SHA-1']), { username: 'u', password: 'p' }, 'GET', '/', undefined),
      (e: unknown) => (e as { step?: string }).step === 'auth' && /unsupported digest algorithm "SHA-1"/.test((e as Error).message),
    );
  });
});

describe('http: body and time', () => {
  test('expected_body: substring and /regex/ pass', async () => {
    const [a, b] = await Promise.all([
      check({ url: web.url('/body'), expected_body: 'conn-check test server' }),
      check({ url: web.url('/body'), expected_body: '/build \\d+\\.\\d+\\.\\d+/' }),
    ]);
    assert.equal(a.status, 'passed', a.error);
    assert.equal(b.status, 'passed', b.error);
  });

  test('expected_body missing: step body', async () => {
    const [a, b, c] = await Promise.all([
      check({ url: web.url('/body'), expected_body: 'goodbye' }),
      check({ url: web.url('/body'), expected_body: '/^build/' }),
      check({ url: web.url('/body'), expected_body: '/\\d{5}/' }),
    ]);
    assertFailed(a, 'body', 'the body does not contain "goodbye"');
    assertFailed(b, 'body', 'the body does not match /^build/');
    assertFailed(c, 'body', 'the body does not match /\\d{5}/');
  });

  test('expected_body reads at most 1 MiB', async () => {
    const r = await check({ url: web.url('/big'), expected_body: 'needle' });
    assertFailed(r, 'body', 'the body does not contain "needle" (first 1 MiB read)');
  });

  test('an invalid regex is a config error', async () => {
    await assert.rejects(runYaml(JSON.stringify([{ type: 'http', url: web.url('/ok'), expected_body: '/(/' }]), { env: NO_PROXY_ENV }), ConfigError);
  });

  test('max_response_time: a slow answer fails at step time, a fast one passes', async () => {
    const [slow, fast] = await Promise.all([
      check({ url: `${web.url('/delay')}?ms=400`, max_response_time: 100 }),
      check({ url: `${web.url('/delay')}?ms=1`, max_response_time: 2000 }),
    ]);
    assertFailed(slow, 'time', /^the response took \d+ ms \(max_response_time 100 ms\)$/);
    assert.equal(fast.status, 'passed', fast.error);
  });
});

describe('http: failures and timeouts', () => {
  test('refused port: step tcp, "connection refused"', async () => {
    const port = await freePort();
    const r = await check({ url: `http://127.0.0.1:${port}/` });
    assertFailed(r, 'tcp', 'connection refused');
  });

  test('unresolvable host: step resolve', async () => {
    const r = await check({ url: 'http://no-such-host.invalid/' });
    assertFailed(r, 'resolve', /^dns resolution failed/);
  });

  test('a server that accepts TCP and never speaks: fails within timeout + margin', async () => {
    const t0 = performance.now();
    const r = await check({ url: `http://127.0.0.1:${silent.port}/`, timeout: 1 });
    const ms = performance.now() - t0;
    assertFailed(r, 'request', 'timed out after 1s');
    assert.ok(ms < 3000, `took ${ms} ms`);
  });

  test('headers never sent (HTTP server): fails within timeout + margin', async () => {
    const t0 = performance.now();
    const r = await check({ url: web.url('/hang'), timeout: 1 });
    assertFailed(r, 'request', 'timed out after 1s');
    assert.ok(performance.now() - t0 < 3000);
  });

  test('a body that never ends: fails at step body within timeout + margin', async () => {
    const t0 = performance.now();
    const r = await check({ url: web.url('/hang-body'), timeout: 1 });
    assertFailed(r, 'body', 'timed out after 1s');
    assert.ok(performance.now() - t0 < 3000);
  });

  test('an https URL against a plain HTTP port: step tls', async () => {
    const r = await check({ url: `https://127.0.0.1:${web.port}/ok` });
    assertFailed(r, 'tls', /did not answer with TLS/);
  });

  test('invalid options are config errors naming the option', async () => {
    for (const bad of [{ url: 'ftp://x/' }, { url: web.url('/ok'), headers: 'x' }, { url: web.url('/ok'), auth: ['only-user'] }, { url: web.url('/ok'), method: 'GE T' }]) {
      await assert.rejects(runYaml(JSON.stringify([{ type: 'http', ...bad }]), { env: NO_PROXY_ENV }), ConfigError, JSON.stringify(bad));
    }
  });
});

describe('http: https', () => {
  test('valid certificate trusted via ca_file, and via extraCa (tls-certs-path)', async () => {
    const m = tlsMaterial();
    const [a, b, c] = await Promise.all([
      check({ url: tlsValid.url('/ok'), ca_file: m.caFile }),
      check({ url: tlsValid.url('/ok') }, NO_PROXY_ENV, [m.ca]),
      check({ url: `https://localhost:${tlsValid.port}/ok`, ca_file: m.caFile }),
    ]);
    assert.equal(a.status, 'passed', a.error);
    assert.equal(b.status, 'passed', b.error);
    assert.equal(c.status, 'passed', c.error);
  });

  test('untrusted CA: step tls', async () => {
    const r = await check({ url: tlsValid.url('/ok') });
    assertFailed(r, 'tls', /^certificate not trusted/);
  });

  test('expired certificate: step tls, "certificate has expired"', async () => {
    const r = await check({ url: tlsExpired.url('/ok'), ca_file: tlsMaterial().caFile });
    assertFailed(r, 'tls', 'certificate has expired');
  });

  test('self-signed certificate: step tls', async () => {
    const r = await check({ url: tlsSelf.url('/ok'), ca_file: tlsMaterial().caFile });
    assertFailed(r, 'tls', 'self-signed certificate (not trusted)');
  });

  test('wrong host: 127.0.0.1 against a cert for wrong.example, and server_name against a valid cert', async () => {
    const m = tlsMaterial();
    const [a, b] = await Promise.all([
      check({ url: tlsWrongHost.url('/ok'), ca_file: m.caFile }),
      check({ url: tlsValid.url('/ok'), ca_file: m.caFile, server_name: 'wrong.example' }),
    ]);
    assertFailed(a, 'tls', /^certificate does not match the host name/);
    assertFailed(b, 'tls', /^certificate does not match the host name/);
  });

  test('server_name matching the certificate passes', async () => {
    const r = await check({ url: tlsWrongHost.url('/ok'), ca_file: tlsMaterial().caFile, server_name: 'wrong.example' });
    assert.equal(r.status, 'passed', r.error);
  });

  test('disable_tls_verification passes against self-signed, expired and wrong-host certs', async () => {
    const rs = await Promise.all([tlsSelf, tlsExpired, tlsWrongHost].map((s) => check({ url: s.url('/ok'), disable_tls_verification: true })));
    for (const r of rs) assert.equal(r.status, 'passed', r.error);
  });
});

describe('http: proxies', () => {
  test('http:// through proxy_host/proxy_port: plain proxying, the proxy saw the absolute URL', async () => {
    const target = `${web.url('/echo')}?marker=viaproxy`;
    const r = await check({ url: target, proxy_host: '127.0.0.1', proxy_port: proxy.port });
    assert.equal(r.status, 'passed', r.error);
    assert.ok(proxy.seen.some((s) => s.method === 'GET' && s.target === target), JSON.stringify(proxy.seen));
    assert.ok(r.details?.includes(`via proxy 127.0.0.1:${proxy.port} (proxy_host)`), JSON.stringify(r.details));
    seenWith(web, 'viaproxy');
  });

  test('https:// through proxy_url: a CONNECT tunnel, TLS verified end to end', async () => {
    const r = await check({ url: tlsValid.url('/ok'), proxy_url: proxy.url, ca_file: tlsMaterial().caFile });
    assert.equal(r.status, 'passed', r.error);
    assert.ok(proxy.seen.some((s) => s.method === 'CONNECT' && s.target === `127.0.0.1:${tlsValid.port}`), JSON.stringify(proxy.seen));
    const bad = await check({ url: tlsSelf.url('/ok'), proxy_url: proxy.url, ca_file: tlsMaterial().caFile });
    assertFailed(bad, 'tls', 'self-signed certificate (not trusted)');
  });

  test('proxy credentials in proxy_url: accepted, never shown', async () => {
    const proxyUrl = `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${authProxy.port}`;
    const [plain, tunnel] = await Promise.all([
      check({ url: `${web.url('/ok')}?marker=authproxy`, proxy_url: proxyUrl }),
      check({ url: tlsValid.url('/ok'), proxy_url: proxyUrl, ca_file: tlsMaterial().caFile }),
    ]);
    assert.equal(plain.status, 'passed', plain.error);
    assert.equal(tunnel.status, 'passed', tunnel.error);
    assertNoSecret(plain, PROXY_PASSWORD);
    assertNoSecret(tunnel, PROXY_PASSWORD);
    const expected = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`;
    assert.ok(authProxy.seen.some((s) => s.method === 'CONNECT' && s.proxyAuthorization === expected));
    assert.ok(authProxy.seen.some((s) => s.method === 'GET' && s.proxyAuthorization === expected));
    // the proxy credentials were not passed on to the server
    assert.equal(seenWith(web, 'authproxy').headers['proxy-authorization'], undefined);
  });

  test('wrong or missing proxy credentials: step proxy, "proxy authentication required (407)"', async () => {
    const wrong = `http://${PROXY_USER}:wrong-proxy-pw@127.0.0.1:${authProxy.port}`;
    const rs = await Promise.all([
      check({ url: web.url('/ok'), proxy_url: wrong }),
      check({ url: tlsValid.url('/ok'), proxy_url: wrong, ca_file: tlsMaterial().caFile }),
      check({ url: web.url('/ok'), proxy_host: '127.0.0.1', proxy_port: authProxy.port }),
    ]);
    for (const r of rs) {
      assertFailed(r, 'proxy', 'proxy authentication required (407)');
      assertNoSecret(r, 'wrong-proxy-pw');
    }
  });

  test('a Proxy-Authorization header in headers goes to the proxy, not to the server', async () => {
    const value = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`;
    const r = await check({ url: `${web.url('/echo')}?marker=proxyheader`, proxy_host: '127.0.0.1', proxy_port: authProxy.port, headers: { 'Proxy-Authorization': value } });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(seenWith(web, 'proxyheader').headers['proxy-authorization'], undefined);
    assertNoSecret(r, PROXY_PASSWORD);
  });

  test('an HTTPS proxy (TLS to the proxy) verified with the CA', async () => {
    const m = tlsMaterial();
    const [a, b] = await Promise.all([
      check({ url: `${web.url('/ok')}?marker=tlsproxy`, proxy_url: tlsProxy.url, ca_file: m.caFile }),
      check({ url: web.url('/ok'), proxy_url: tlsProxy.url }),
    ]);
    assert.equal(a.status, 'passed', a.error);
    assert.ok(tlsProxy.seen.some((s) => s.method === 'CONNECT' && s.target === `127.0.0.1:${web.port}`), JSON.stringify(tlsProxy.seen));
    assertFailed(b, 'tls', /^certificate not trusted/);
  });

  test('a proxy that floods is under the read budget: an endless 103 answer, plain and inside a CONNECT tunnel, ends the check at once', async () => {
    // 103 Early Hints is skipped while the client waits for the final answer, so neither the
    // header nor the body cap applies: only the check's read budget (16 MiB for http) stops it.
    const m = tlsMaterial();
    const [plain, tunnel] = await Promise.all([hostile.startProxyEarlyHints(), hostile.startTunnelEarlyHints(m.valid)]);
    try {
      const timeout = 20;
      const [a, b] = await Promise.all([
        check({ url: web.url('/ok'), proxy_url: `http://127.0.0.1:${plain.port}`, timeout }),
        check({ url: web.url('/ok'), proxy_url: `https://localhost:${tunnel.port}`, ca_file: m.caFile, timeout }),
      ]);
      for (const r of [a, b]) {
        assertFailed(r, 'request', /^the server sent more than 16 MiB \(the read limit for this check\)$/);
        assert.ok(r.duration_ms < (timeout * 1000) / 2, `ran ${r.duration_ms} ms of its ${timeout} s`);
      }
    } finally {
      await Promise.all([plain.close(), tunnel.close()]);
    }
  });

  test('a proxy that refuses the CONNECT tunnel: step proxy', async () => {
    // the test proxy only tunnels to loopback: nothing connects to this name
    const r = await check({ url: 'https://blocked.invalid/', proxy_url: proxy.url });
    assertFailed(r, 'proxy', 'the proxy refused the connection (403)');
  });

  test('a proxy that refuses: step tcp, naming the proxy', async () => {
    const port = await freePort();
    const r = await check({ url: web.url('/ok'), proxy_host: '127.0.0.1', proxy_port: port });
    assertFailed(r, 'tcp', `proxy 127.0.0.1:${port}: connection refused`);
  });

  test('HTTP_PROXY from the environment is honoured', async () => {
    const before = proxy.seen.length;
    const target = `${web.url('/ok')}?marker=envproxy`;
    const r = await check({ url: target }, { HTTP_PROXY: proxy.url });
    assert.equal(r.status, 'passed', r.error);
    assert.ok(proxy.seen.slice(before).some((s) => s.target === target));
    assert.ok(r.details?.includes(`via proxy 127.0.0.1:${proxy.port} (HTTP_PROXY)`), JSON.stringify(r.details));
  });

  test('https_proxy (lower case) for https URLs; HTTP_PROXY is not used for them', async () => {
    const before = proxy.seen.length;
    const dead = `http://127.0.0.1:${await freePort()}`;
    const r = await check({ url: tlsValid.url('/ok'), ca_file: tlsMaterial().caFile }, { https_proxy: proxy.url, HTTP_PROXY: dead });
    assert.equal(r.status, 'passed', r.error);
    assert.ok(proxy.seen.slice(before).some((s) => s.method === 'CONNECT'));
  });

  test('NO_PROXY bypasses the environment proxy', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    for (const noProxy of ['127.0.0.1', '*', `127.0.0.1:${web.port}`, 'example.com, 127.0.0.0/8']) {
      const r = await check({ url: web.url('/ok') }, { HTTP_PROXY: dead, NO_PROXY: noProxy });
      assert.equal(r.status, 'passed', `NO_PROXY=${noProxy}: ${r.error}`);
    }
    const r = await check({ url: web.url('/ok') }, { HTTP_PROXY: dead, NO_PROXY: `127.0.0.1:${web.port + 1},localhost` });
    assertFailed(r, 'tcp', /^proxy 127\.0\.0\.1:\d+: connection refused$/);
  });

  test('an explicit proxy option wins over the environment', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const before = proxy.seen.length;
    const r = await check({ url: `${web.url('/ok')}?marker=explicit`, proxy_url: proxy.url }, { HTTP_PROXY: dead, NO_PROXY: '*' });
    assert.equal(r.status, 'passed', r.error);
    assert.equal(proxy.seen.length, before + 1);
  });

  test('credentials in HTTP_PROXY are used and never shown', async () => {
    const env = { HTTP_PROXY: `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${authProxy.port}` };
    const r = await check({ url: web.url('/ok') }, env);
    assert.equal(r.status, 'passed', r.error);
    assertNoSecret(r, PROXY_PASSWORD);
  });
});

test('egress: the URL host and port (default 80/443), or the proxy from the options', async () => {
  const { checks } = await parseConfig(
    {
      file: 'egress.yaml',
      text: JSON.stringify([
        { type: 'http', url: 'https://api.example.com/x' },
        { type: 'http', url: 'http://[::1]:8080/' },
        { type: 'http', url: 'http://a.example/', proxy_url: 'http://u:p@proxy.example:3128' },
        { type: 'http', url: 'https://a.example/', proxy_host: 'proxy.example' },
      ]),
    },
    {},
  );
  assert.deepEqual(
    checks.map((c) => egressOf(c)),
    [
      [{ protocol: 'tcp', host: 'api.example.com', port: 443 }],
      [{ protocol: 'tcp', host: '::1', port: 8080 }],
      [{ protocol: 'tcp', host: 'proxy.example', port: 3128 }],
      [{ protocol: 'tcp', host: 'proxy.example', port: 8000 }],
    ],
  );
});

describe('NO_PROXY matching (curl rules)', () => {
  const cases: Array<[string, string, number, boolean]> = [
    ['*', 'anything.example', 80, true],
    ['example.com', 'example.com', 80, true],
    ['example.com', 'api.example.com', 80, true],
    ['.example.com', 'example.com', 80, true],
    ['*.example.com', 'a.b.example.com', 443, true],
    ['example.com', 'notexample.com', 80, false],
    ['example.com', 'example.com.evil', 80, false],
    ['EXAMPLE.com', 'Example.COM.', 80, true],
    ['localhost:8080', 'localhost', 8080, true],
    ['localhost:8080', 'localhost', 80, false],
    ['10.0.0.1', '10.0.0.1', 80, true],
    ['10.0.0.1', '10.0.0.2', 80, false],
    ['10.0.0.0/8', '10.20.30.40', 80, true],
    ['10.0.0.0/8', '11.0.0.1', 80, false],
    ['::1', '[::1]', 80, true],
    ['[::1]:443', '[::1]', 443, true],
    ['[::1]:443', '[0:0::1]', 80, false],
    ['fd00::/8', '[fd12::1]', 80, true],
    ['a.com b.com', 'b.com', 80, true],
    ['', 'example.com', 80, false],
  ];
  for (const [list, host, port, expected] of cases) {
    test(`NO_PROXY=${JSON.stringify(list)} ${host}:${port} → ${expected ? 'direct' : 'proxy'}`, () => {
      assert.equal(bypassesProxy(list, host, port), expected);
    });
  }

  test('envProxyFor: scheme-specific variables, lower case first, NO_PROXY', () => {
    const u = new URL('https://api.example.com/x');
    assert.equal(envProxyFor(u, { HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:2' })?.url, 'http://b:2');
    assert.equal(envProxyFor(u, { HTTP_PROXY: 'http://a:1' }), undefined);
    assert.equal(envProxyFor(u, { HTTPS_PROXY: 'http://a:1', NO_PROXY: 'example.com' }), undefined);
    assert.equal(envProxyFor(new URL('http://x/'), { http_proxy: 'p:3128' })?.variable, 'http_proxy');
  });
});

test('nothing of a check keeps the process alive (pass, 401, timeout, proxy)', async () => {
  // A child process runs checks against this process's servers and must exit on its own.
  const script = `
    import { runYaml } from ${JSON.stringify(join(ROOT, 'test/helpers/check.ts'))};
    const results = await runYaml(process.env.CHECKS, { env: {} });
    console.log(JSON.stringify(results.map((r) => [r.status, r.step ?? null])));
  `;
  const checks = JSON.stringify([
    { type: 'http', url: web.url('/ok'), timeout: 20 },
    { type: 'http', url: web.url('/digest/md5'), digest_auth: [DIGEST_USER, 'nope-nope'], timeout: 20 },
    { type: 'http', url: web.url('/hang'), timeout: 1 },
    { type: 'http', url: web.url('/hang-body'), timeout: 1 },
    { type: 'http', url: `http://127.0.0.1:${silent.port}/`, timeout: 1 },
    { type: 'http', url: tlsValid.url('/ok'), proxy_url: proxy.url, timeout: 20 },
    { type: 'http', url: web.url('/ok'), proxy_url: proxy.url, timeout: 20 },
    { type: 'http', url: tlsValid.url('/ok'), proxy_url: `http://${PROXY_USER}:nope-nope@127.0.0.1:${authProxy.port}`, timeout: 20 },
    { type: 'http', url: tlsExpired.url('/ok'), timeout: 20 },
  ]);
  let printedAt = 0;
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, CHECKS: checks },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n') && !printedAt) printedAt = performance.now();
    });
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
  const lingered = performance.now() - printedAt;
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout.trim().split('\n').at(-1)!), [
    ['passed', null],
    ['failed', 'status'],
    ['failed', 'request'],
    ['failed', 'body'],
    ['failed', 'request'],
    ['failed', 'tls'],
    ['passed', null],
    ['failed', 'proxy'],
    ['failed', 'tls'],
  ]);
  // undici keeps idle connections 4 s by default: a dispatcher left open would show here. (It
  // exits ~40 ms after its line when idle; 3 s because a clean-clone CI run, with the 1000-TLS
  // fault test in parallel, once delayed this process's own event loop to 1.5 s.)
  assert.ok(lingered < 3000, `the child took ${Math.round(lingered)} ms to exit after its checks`);
});

test('undici is loaded only for a check that goes through a proxy (node:http serves the others)', async () => {
  // A child process records every module file it loads (helpers/load-recorder.ts); it runs
  // direct http and https checks, writes a marker, then a proxied one.
  const work = scratchDir('conn-check-undici-');
  const log = join(work, 'loaded.txt');
  writeFileSync(log, '');
  const recorder = loadRecorder();
  const m = tlsMaterial();
  const script = `
    import { appendFileSync } from 'node:fs';
    import { runYaml } from ${JSON.stringify(join(ROOT, 'test/helpers/check.ts'))};
    const direct = await runYaml(process.env.DIRECT, { env: {} });
    appendFileSync(process.env.CONN_CHECK_LOAD_LOG, 'MARK\\n');
    const proxied = await runYaml(process.env.PROXIED, { env: {} });
    console.log(JSON.stringify([...direct, ...proxied].map((r) => r.status)));
  `;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONN_CHECK_LOAD_LOG: log,
    DIRECT: JSON.stringify([
      { type: 'http', url: web.url('/ok'), timeout: 20 },
      { type: 'http', url: tlsValid.url('/ok'), ca_file: m.caFile, timeout: 20 },
      { type: 'http', url: web.url('/digest/md5'), digest_auth: [DIGEST_USER, DIGEST_PASSWORD], timeout: 20 },
    ]),
    PROXIED: JSON.stringify([{ type: 'http', url: web.url('/ok'), proxy_url: proxy.url, timeout: 20 }]),
  };
  for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) delete env[k];
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(recorder).href, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout.trim().split('\n').at(-1)!), ['passed', 'passed', 'passed', 'passed']);
  const lines = readFileSync(log, 'utf8').split('\n');
  const mark = lines.indexOf('MARK');
  assert.ok(mark > 0, 'no marker in the load log');
  const isUndici = (u: string) => /\/node_modules\/undici\//.test(u);
  assert.deepEqual(lines.slice(0, mark).filter(isUndici), [], 'direct checks loaded undici');
  assert.ok(lines.slice(0, mark).some((u) => /\/src\/checks\/http\/index\.ts$/.test(u)), 'the recorder did not see the http check load');
  assert.ok(lines.slice(mark).some(isUndici), 'the proxied check did not load undici (the recorder may be blind to it)');
});

describe('http: expected_json and expected_headers', () => {
  test('JSON paths must hold the expected values', async () => {
    const ok = await runOne({ type: 'http', url: web.url('/echo?x=1'), method: 'POST', body: 'hi', expected_json: { method: 'POST', '$.body': 'hi' } }, { env: NO_PROXY_ENV });
    assert.equal(ok.status, 'passed', ok.error);
    const wrong = await runOne({ type: 'http', url: web.url('/echo'), expected_json: { method: 'POST' } }, { env: NO_PROXY_ENV });
    assert.deepEqual([wrong.status, wrong.step, wrong.error], ['failed', 'body', 'the JSON at method is "GET", expected "POST"']);
    const missing = await runOne({ type: 'http', url: web.url('/echo'), expected_json: { 'nothing.here[0]': 1 } }, { env: NO_PROXY_ENV });
    assert.deepEqual([missing.step, missing.error], ['body', 'the JSON has nothing at nothing.here[0]']);
    const notJson = await runOne({ type: 'http', url: web.url('/ok'), expected_json: { a: 1 } }, { env: NO_PROXY_ENV });
    assert.deepEqual([notJson.step, notJson.error], ['body', 'the body is not JSON']);
    await assert.rejects(parseConfig({ file: 't.yaml', text: `- {type: http, url: "http://a/", expected_json: {"a..b": 1}}` }, {}), ConfigError);
  });

  test('headers must be present and contain the text or match the /regex/', async () => {
    const ok = await runOne({ type: 'http', url: web.url('/echo'), expected_headers: { 'Content-Type': 'json', 'content-type': '/^application\\//' } }, { env: NO_PROXY_ENV });
    assert.equal(ok.status, 'passed', ok.error);
    const absent = await runOne({ type: 'http', url: web.url('/echo'), expected_headers: { 'X-Nope': 'x' } }, { env: NO_PROXY_ENV });
    assert.deepEqual([absent.status, absent.step, absent.error], ['failed', 'headers', 'the response has no X-Nope header']);
    const differs = await runOne({ type: 'http', url: web.url('/ok'), expected_headers: { 'content-type': 'json' } }, { env: NO_PROXY_ENV });
    assert.deepEqual([differs.step, differs.error], ['headers', 'header content-type: "text/plain; charset=utf-8" does not contain "json"']);
  });
});

// ---------- the shared TLS assertions and all_addresses (issue 5) ----------

import { dualStackLocalhost } from './helpers/dual-stack.js';
import { createServer as createHttpsServerTls, type Server as HttpsServerTls, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { TLSSocket as TlsSocketSeen } from 'node:tls';

interface Answered {
  port: number;
  /** Per listening address: the SNI names of the TLS connections it accepted. */
  sni: Record<string, (string | false)[]>;
  close(): Promise<void>;
}

/**
 * HTTPS servers (with `tls`; plain HTTP without) on 127.0.0.1 and/or ::1 sharing one port;
 * each answers with its own status. undefined: nothing listens on that address.
 */
async function samePortHttp(v4: number | undefined, v6: number | undefined, tls?: HttpsServerOptions): Promise<Answered> {
  for (let attempt = 0; ; attempt++) {
    const servers: HttpsServerTls[] = [];
    const sni: Record<string, (string | false)[]> = { '127.0.0.1': [], '::1': [] };
    const listen = (status: number, host: string, port: number) =>
      new Promise<number>((resolve, reject) => {
        const handler = (_req: unknown, res: { writeHead(n: number): void; end(s: string): void }) => {
          res.writeHead(status);
          res.end(`answered by ${host}`);
        };
        const s = (tls ? createHttpsServerTls(tls, handler) : createHttpServerPlain(handler)) as HttpsServerTls;
        if (tls) s.on('secureConnection', (sock: TlsSocketSeen) => sni[host]!.push(sock.servername ?? false));
        s.on('tlsClientError', () => {});
        servers.push(s);
        s.once('error', reject);
        s.listen(port, host, () => resolve((s.address() as { port: number }).port));
      });
    const close = () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      ).then(() => {});
    try {
      let port = await freePort();
      if (v4 !== undefined) port = await listen(v4, '127.0.0.1', port);
      if (v6 !== undefined) await listen(v6, '::1', port);
      return { port, sni, close };
    } catch (err) {
      await close();
      if (attempt >= 4) throw err;
    }
  }
}
import { createServer as createHttpServerPlain } from 'node:http';

describe('https: the shared TLS assertions (min_cert_days, min_tls_version, client certificates)', () => {
  const m = tlsMaterial();
  const CERT_LINE = 'TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days';

  test('min_cert_days 60 fails at cert against a 30-day certificate; 7 passes and the details show the days left', async () => {
    const tooSoon = await check({ url: tlsValid.url('/ok'), ca_file: m.caFile, min_cert_days: 60 });
    assertFailed(tooSoon, 'cert', 'certificate expires in 29 days (minimum 60)');
    assert.ok(tooSoon.details?.includes(CERT_LINE), JSON.stringify(tooSoon.details));
    const enough = await check({ url: tlsValid.url('/ok'), ca_file: m.caFile, min_cert_days: 7 });
    assert.equal(enough.status, 'passed', enough.error);
    assert.deepEqual(enough.details?.slice(0, 2), ['connected to 127.0.0.1', CERT_LINE]);
    // without min_cert_days the days left are shown as well
    const plain = await check({ url: tlsValid.url('/ok'), ca_file: m.caFile });
    assert.ok(plain.details?.includes(CERT_LINE), JSON.stringify(plain.details));
    // http:// never notes a certificate
    const http = await check({ url: web.url('/ok'), min_cert_days: 60 });
    assert.equal(http.status, 'passed', http.error);
    assert.ok(!http.details?.some((d) => /cert/.test(d)), JSON.stringify(http.details));
  });

  test('with verification disabled, the days are still checked and the would-be failure is noted', async () => {
    const r = await check({ url: tlsSelf.url('/ok'), disable_tls_verification: true, min_cert_days: 60 });
    assertFailed(r, 'cert', 'certificate expires in 29 days (minimum 60)');
    assert.ok(
      r.details?.some((d) => /^TLSv1\.3, cert CN=localhost \(self-issued\) expires in 29 days; verification disabled \(would fail: self-signed certificate/.test(d)),
      JSON.stringify(r.details),
    );
  });

  test('min_tls_version TLSv1.3 fails at tls against a TLS 1.2-only server; TLSv1.2 passes and notes TLSv1.2', async () => {
    const tls12 = await samePortHttp(200, undefined, { cert: m.valid.cert, key: m.valid.key, maxVersion: 'TLSv1.2' });
    try {
      const url = `https://127.0.0.1:${tls12.port}/`;
      const v13 = await check({ url, ca_file: m.caFile, min_tls_version: 'TLSv1.3' });
      assertFailed(v13, 'tls', 'TLS handshake failed: the server does not offer TLSv1.3 or later (min_tls_version)');
      const v12 = await check({ url, ca_file: m.caFile, min_tls_version: 'TLSv1.2' });
      assert.equal(v12.status, 'passed', v12.error);
      assert.ok(v12.details?.includes('TLSv1.2, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days'), JSON.stringify(v12.details));
      await assert.rejects(check({ url, min_tls_version: 'TLSv1.1' }), /min_tls_version/);
    } finally {
      await tls12.close();
    }
  });

  test('client_cert/client_key: an mTLS server refuses the request without them and answers with them', async () => {
    const mtls = await samePortHttp(200, undefined, { cert: m.valid.cert, key: m.valid.key, ca: m.ca, requestCert: true, rejectUnauthorized: true });
    try {
      const url = `https://localhost:${mtls.port}/`;
      const without = await check({ url, ca_file: m.caFile });
      // TLS 1.3: the client's handshake is done before the server judges it; its refusal (an
      // alert) arrives with the request, so undici reports the closed connection
      assertFailed(without, 'request', 'connection closed by peer');
      const withCert = await check({ url, ca_file: m.caFile, client_cert: m.client.certFile, client_key: m.client.keyFile, min_cert_days: 7 });
      assert.equal(withCert.status, 'passed', withCert.error);
      assert.ok(withCert.details?.includes(CERT_LINE), JSON.stringify(withCert.details));
      const half = await check({ url, ca_file: m.caFile, client_cert: m.client.certFile });
      assertFailed(half, 'tls', 'client_cert and client_key go together');
    } finally {
      await mtls.close();
    }
  });

  test('a redirect to another https server notes that server\'s certificate too, and asserts it', async () => {
    const other = await samePortHttp(200, undefined, { cert: m.selfSigned.cert, key: m.selfSigned.key });
    try {
      const target = `https://127.0.0.1:${other.port}/`;
      const r = await check({ url: tlsValid.url(`/redirect-abs?to=${encodeURIComponent(target)}`), ca_file: m.caFile, allow_redirects: true });
      // the second server's self-signed certificate is not trusted: the request fails at tls
      assert.equal(r.status, 'failed', JSON.stringify(r));
      assert.equal(r.step, 'tls');
      assert.ok(r.details?.includes(CERT_LINE), JSON.stringify(r.details));
    } finally {
      await other.close();
    }
  });
});

describe('http all_addresses: the request at every resolved address', () => {
  const m = tlsMaterial();

  test('https on both addresses: passes, each address noted with its certificate and status; SNI stays the host name', async () => {
    const both = await samePortHttp(200, 200, { cert: m.valid.cert, key: m.valid.key });
    const restore = dualStackLocalhost();
    try {
      const r = await check({ url: `https://localhost:${both.port}/`, ca_file: m.caFile, all_addresses: true, min_cert_days: 7 });
      assert.equal(r.status, 'passed', r.error);
      const cert = 'TLSv1.3, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days';
      assert.deepEqual(
        r.details?.map((d) => d.replace(/in \d+ ms$/, 'in N ms')),
        [`127.0.0.1: ${cert}`, '127.0.0.1: status 200 in N ms', `[::1]: ${cert}`, '[::1]: status 200 in N ms'],
      );
      assert.deepEqual(both.sni, { '127.0.0.1': ['localhost'], '::1': ['localhost'] });
    } finally {
      restore();
      await both.close();
    }
  });

  test('a half-broken dual stack fails naming the address: nothing on ::1 (tcp), or ::1 answering 500 (status)', async () => {
    const restore = dualStackLocalhost();
    const v4only = await samePortHttp(200, undefined, { cert: m.valid.cert, key: m.valid.key });
    const sick = await samePortHttp(200, 500);
    try {
      const r = await check({ url: `https://localhost:${v4only.port}/`, ca_file: m.caFile, all_addresses: true });
      assertFailed(r, 'tcp', '[::1]: connection refused (1 of 2 addresses failed)');
      assert.ok(r.details?.includes('[::1]: connection refused'), JSON.stringify(r.details));
      // without all_addresses the address that works is enough, as before
      const any = await check({ url: `https://localhost:${v4only.port}/`, ca_file: m.caFile });
      assert.equal(any.status, 'passed', any.error);
      const s = await check({ url: `http://localhost:${sick.port}/`, all_addresses: true });
      assertFailed(s, 'status', '[::1]: Unexpected response code: 500 (1 of 2 addresses failed)');
    } finally {
      restore();
      await v4only.close();
      await sick.close();
    }
  });

  test('one address with a certificate that expires too soon fails at cert, naming it', async () => {
    const mixed = await samePortHttp(200, 200, { cert: m.valid.cert, key: m.valid.key });
    const restore = dualStackLocalhost();
    try {
      const r = await check({ url: `https://localhost:${mixed.port}/`, ca_file: m.caFile, all_addresses: true, min_cert_days: 60 });
      assertFailed(r, 'cert', '127.0.0.1: certificate expires in 29 days (minimum 60); [::1]: certificate expires in 29 days (minimum 60) (2 of 2 addresses failed)');
    } finally {
      restore();
      await mixed.close();
    }
  });

  test('all_addresses with a proxy: a config error, or a proxy failure for a proxy from the environment', async () => {
    await assert.rejects(check({ url: web.url('/ok'), all_addresses: true, proxy_url: `http://127.0.0.1:${proxy.port}` }), /all_addresses cannot be used with a proxy/);
    const r = await check({ url: 'http://example.invalid/', all_addresses: true }, { http_proxy: `http://127.0.0.1:${proxy.port}` });
    assertFailed(r, 'proxy', 'all_addresses cannot be used through a proxy (http_proxy is set: add the host to NO_PROXY)');
  });

  test('an IP literal is one address; a server that never answers fails within the timeout', async () => {
    const r = await check({ url: web.url('/ok'), all_addresses: true });
    assert.equal(r.status, 'passed', r.error);
    assert.match(r.details?.[0] ?? '', /^127\.0\.0\.1: status 200 in \d+ ms$/);
    const t0 = performance.now();
    const hung = await check({ url: `http://127.0.0.1:${silent.port}/`, all_addresses: true, timeout: 1 });
    assertFailed(hung, 'request', 'timed out after 1s');
    assert.ok(performance.now() - t0 < 3000);
  });
});

describe('http: one connection per check and per redirect hop (issue 15)', () => {
  /** How many TCP connections `server` accepted while `run` ran a check that must pass. */
  async function accepted(server: { connections: number }, run: () => Promise<CheckResult>): Promise<number> {
    const before = server.connections;
    const r = await run();
    assert.equal(r.status, 'passed', JSON.stringify(r));
    return server.connections - before;
  }

  test('the tcp step is the request\'s own connection: http, https, each redirect hop, the digest round trip', async () => {
    const m = tlsMaterial();
    assert.equal(await accepted(web, () => check({ url: web.url('/ok') })), 1);
    assert.equal(await accepted(tlsValid, () => check({ url: tlsValid.url('/ok'), ca_file: m.caFile })), 1);
    assert.equal(await accepted(web, () => check({ url: web.url('/redirect'), allow_redirects: true })), 2);
    assert.equal(await accepted(web, () => check({ url: web.url('/digest/md5'), digest_auth: [DIGEST_USER, DIGEST_PASSWORD] })), 2);
  });

  test('the TLS material is read before the tcp step, as on the kit: a readable ca_file and a refused port fail at tcp; an unreadable one fails at tls with no connection made', async () => {
    const m = tlsMaterial();
    const refused = await freePort();
    assertFailed(await check({ url: `https://127.0.0.1:${refused}/ok`, ca_file: m.caFile }), 'tcp', 'connection refused');
    const unreadable = '/nonexistent/conn-check/ca.pem';
    const cannot = `cannot read ca_file ${unreadable} (ENOENT)`;
    assertFailed(await check({ url: `https://127.0.0.1:${refused}/ok`, ca_file: unreadable }), 'tls', cannot);
    // with a server listening: it accepts no connection (https, and the files named with an http:// URL)
    for (const [server, url] of [[tlsValid, tlsValid.url('/ok')], [web, web.url('/ok')]] as const) {
      const before = server.connections;
      assertFailed(await check({ url, ca_file: unreadable }), 'tls', cannot);
      assert.equal(server.connections - before, 0, url);
    }
  });

  test('through a proxy, the tcp step\'s connection to the proxy carries the request (plain, CONNECT, an https proxy)', async () => {
    const m = tlsMaterial();
    assert.equal(await accepted(proxy, () => check({ url: web.url('/ok'), proxy_host: '127.0.0.1', proxy_port: proxy.port })), 1);
    assert.equal(await accepted(proxy, () => check({ url: tlsValid.url('/ok'), proxy_url: proxy.url, ca_file: m.caFile })), 1);
    assert.equal(await accepted(tlsProxy, () => check({ url: web.url('/ok'), proxy_url: tlsProxy.url, ca_file: m.caFile })), 1);
  });
});

describe('http: the trust store only for TLS (issue 15)', () => {
  test('usesTls: an https URL, a proxy or TLS files in the options; not a plain http:// URL, redirects or not', async () => {
    const { http } = await import('../src/checks/http/index.js');
    const uses = (o: Record<string, unknown>) => http.usesTls!(o as never);
    assert.equal(uses({ url: 'http://h/' }), false);
    assert.equal(uses({ url: 'http://h/', allow_redirects: true }), false);
    assert.equal(uses({ url: 'https://h/' }), true);
    assert.equal(uses({ url: 'HTTPS://h/' }), true);
    assert.equal(uses({ url: 'http://h/', proxy_url: 'http://p:3128' }), true);
    assert.equal(uses({ url: 'http://h/', proxy_host: 'p' }), true);
    assert.equal(uses({ url: 'http://h/', ca_file: '/ca.pem' }), true);
  });

  test('plain http checks never read the system store; a redirect to https reads it then, and verifies as always', async () => {
    const m = tlsMaterial();
    const to = (server: TestHttpServer) => web.url(`/redirect-abs?to=${encodeURIComponent(server.url('/ok'))}`);
    const script = `
      import { runYaml } from './test/helpers/check.ts';
      import { systemStoreReads } from './src/net/trust.ts';
      const out = [];
      const plain = await runYaml(process.env.PLAIN, { env: {} });
      out.push(plain.map((r) => r.status), systemStoreReads());
      const redirected = await runYaml(process.env.REDIRECTED, { env: {}, extraCa: [process.env.CA] });
      out.push(redirected.map((r) => [r.status, r.step ?? null, r.error ?? null]), systemStoreReads());
      console.log(JSON.stringify(out));
    `;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CA: m.ca,
      PLAIN: JSON.stringify([
        { type: 'http', url: web.url('/ok'), timeout: 20 },
        { type: 'http', url: web.url('/redirect'), allow_redirects: true, timeout: 20 },
        { type: 'http', url: web.url('/digest/sha256'), digest_auth: [DIGEST_USER, DIGEST_PASSWORD], expected_body: 'welcome', timeout: 20 },
      ]),
      REDIRECTED: JSON.stringify([
        { type: 'http', url: to(tlsValid), allow_redirects: true, timeout: 20 },
        { type: 'http', url: to(tlsSelf), allow_redirects: true, timeout: 20 },
        { type: 'http', url: to(tlsExpired), allow_redirects: true, timeout: 20 },
      ]),
    };
    for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) delete env[k];
    const ran = await spawnNode(['--import', 'tsx', '--input-type=module', '-e', script], { env });
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(JSON.parse(ran.stdout.trim().split('\n').at(-1) ?? 'null'), [
      ['passed', 'passed', 'passed'],
      0,
      [
        ['passed', null, null],
        ['failed', 'tls', 'self-signed certificate (not trusted)'],
        ['failed', 'tls', 'certificate has expired'],
      ],
      1,
    ], ran.stderr);
  });
});

describe('http: each client maps its own errors to the same steps and words (errors.ts)', () => {
  test('node:http and undici failures of the same kind are said alike', async () => {
    const { directBody: DIRECT_BODY, directRequest: DIRECT_REQUEST, proxiedBody: PROXIED_BODY, proxiedRequest: PROXIED_REQUEST } = await import('../src/checks/http/errors.js');
    const err = (message: string, extra: Record<string, unknown>) => Object.assign(new Error(message), extra);
    const said = (e: unknown, table: typeof DIRECT_REQUEST, step: 'request' | 'body' = 'request') => {
      const f = table(e, step, {});
      return `${f.step}: ${f.message}`;
    };
    // [node:http's error, undici's error for the same event, what both say]
    const pairs: [unknown, unknown, string][] = [
      [err('socket hang up', { code: 'ECONNRESET' }), err('other side closed', { code: 'UND_ERR_SOCKET' }), 'request: connection closed by peer'],
      [
        err('Parse Error: Expected HTTP/', { code: 'HPE_INVALID_CONSTANT', reason: 'Expected HTTP/' }),
        err('Response does not match the HTTP/1.1 protocol (Expected HTTP/)', { code: 'HPE_INVALID_CONSTANT' }),
        'request: the server did not answer with HTTP',
      ],
      [
        err('Parse Error: Invalid character in chunk size', { code: 'HPE_INVALID_CHUNK_SIZE', reason: 'Invalid character in chunk size' }),
        err('Response does not match the HTTP/1.1 protocol (Invalid character in chunk size)', { code: 'HPE_INVALID_CHUNK_SIZE' }),
        'request: Response does not match the HTTP/1.1 protocol (Invalid character in chunk size) (HPE_INVALID_CHUNK_SIZE)',
      ],
      [err('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }), err('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }), 'request: connection refused'],
    ];
    for (const [direct, proxied, expected] of pairs) {
      assert.equal(said(direct, DIRECT_REQUEST), expected);
      assert.equal(said(proxied, PROXIED_REQUEST), expected);
    }
    assert.equal(said(err('aborted', { code: 'ECONNRESET' }), DIRECT_BODY, 'body'), 'body: connection closed by peer');
    assert.equal(said(err('other side closed', { code: 'UND_ERR_SOCKET' }), PROXIED_BODY, 'body'), 'body: connection closed by peer');
    // node:http on an https connection whose handshake passed: an alert now (TLS 1.3 refusing the client certificate)
    assert.equal(said(err('alert certificate required', { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }), DIRECT_REQUEST), 'request: connection closed by peer');
    // undici's proxy refusals and TLS failures
    assert.equal(said(err('Proxy response (407) !== 200 when HTTP Tunneling', {}), PROXIED_REQUEST), 'proxy: proxy authentication required (407)');
    assert.equal(said(err('Proxy response (403) !== 200 when HTTP Tunneling', {}), PROXIED_REQUEST), 'proxy: the proxy refused the connection (403)');
    assert.equal(said(err('Proxy Authentication Required (407)', { code: 'UND_ERR_INVALID_ARG' }), PROXIED_REQUEST), 'proxy: proxy authentication required (407)');
    assert.equal(said(err('proxy tls', { code: 'UND_ERR_PRX_TLS', cause: err('expired', { code: 'CERT_HAS_EXPIRED' }) }), PROXIED_REQUEST), 'tls: proxy: certificate has expired');
    assert.equal(said(err('expired', { code: 'CERT_HAS_EXPIRED' }), PROXIED_REQUEST), 'tls: certificate has expired');
  });
});
