/**
 * No secret leaves the process: distinctive passwords and tokens (some with characters that URL
 * encoding, JSON and HTML escaping and workflow-command escaping change) in every check type of
 * the registry, failing without a server (refused port, black hole, unknown host) and passing or
 * failing against a local HTTP server that echoes what it was sent, literal or from ${VAR}, and
 * in a config that is also invalid. Every byte the CLI (each format and flag) and the action
 * write (stdout, stderr, job summary, outputs, report files) is searched for every form of every
 * secret. (Unit tests of src/secrets/ are in secrets-units.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { refusedPort, runAction, runCli, type Ran } from './helpers/run.js';
import { startBlackHole, startSilentUdp, type Peer } from './helpers/peers.js';
import { typeTests } from './types/index.js';
import type { SecretKit, Target } from './types/kit.js';
import { scratchDir } from './helpers/scratch.js';

// ---------- secrets and the forms they can take in output ----------

/** Every secret handed to the tool (or to its servers), and [user, password] pairs. */
const secrets: string[] = [];
const pairs: [string, string][] = [];
let counter = 0;
/** A distinctive secret; every third one (unless `plain`) with characters that every escaping changes. */
function secret(label: string, plain = false): string {
  counter++;
  const s = counter % 3 === 0 && !plain ? `p@ss/w:rd"\\%-${label}-${counter}&<x>` : `Sx9-pa55-UNIQUE-${label}-${counter}`;
  secrets.push(s);
  return s;
}
function pair(user: string, password: string): [string, string] {
  pairs.push([user, password]);
  return [user, password];
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const htmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
/** @actions/core's escaping of command data and of command properties. */
const commandData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const commandProperty = (s: string) => commandData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
function userinfoEncoded(s: string): string {
  const u = new URL('http://h/');
  u.password = s;
  return u.password;
}

/** Every form a secret may take in output. */
function forms(s: string): string[] {
  const json = JSON.stringify(s).slice(1, -1);
  const all = [
    s,
    encodeURIComponent(s),
    encodeURIComponent(s).replace(/%20/g, '+'),
    encodeURI(s),
    userinfoEncoded(s),
    b64(s),
    b64(s).replace(/=+$/, ''),
    Buffer.from(s).toString('base64url'),
    json,
    JSON.stringify(json).slice(1, -1),
    htmlEscape(s),
    htmlEscape(json),
    commandData(s),
    commandProperty(s),
  ];
  return [...new Set(all)].filter((f) => f.length >= 8);
}

/** Every form of every secret and of every base64("user:password"). */
function needles(): { form: string; of: string }[] {
  const out: { form: string; of: string }[] = [];
  for (const s of secrets) for (const f of forms(s)) out.push({ form: f, of: s });
  for (const [u, p] of pairs) for (const f of [b64(`${u}:${p}`), b64(`${u}:${p}`).replace(/=+$/, '')]) out.push({ form: f, of: `${u}:${p}` });
  return out;
}

/** The leaks in named blobs of output: each with the line it is on. */
function leaks(blobs: Record<string, string>): string[] {
  const found: string[] = [];
  const all = needles();
  for (const [where, text] of Object.entries(blobs)) {
    for (const { form, of } of all) {
      let i = text.indexOf(form);
      while (i !== -1) {
        const start = text.lastIndexOf('\n', i) + 1;
        const end = text.indexOf('\n', i);
        found.push(`${where}: ${JSON.stringify(of)} as ${JSON.stringify(form)} in: ${text.slice(start, end === -1 ? undefined : end).slice(0, 400)}`);
        i = text.indexOf(form, i + 1);
      }
    }
  }
  return found;
}

function assertNoLeaks(blobs: Record<string, string>): void {
  const found = leaks(blobs);
  assert.deepEqual(found, [], `secrets leaked:\n${found.join('\n')}`);
}

/**
 * The action's stdout, minus its `::add-mask::` lines. Those lines are how an action asks the
 * runner to mask a value: the runner consumes them and never shows them, and they must carry
 * the secret itself, so they are the one place a secret legitimately appears. They are removed
 * here (exactly those lines) and, for each secret the config holds, required to be there.
 */
function withoutMasks(stdout: string): { rest: string; masked: Set<string> } {
  const masked = new Set<string>();
  const rest = stdout
    .split('\n')
    .filter((line) => {
      const m = /^::add-mask::(.*)$/.exec(line);
      if (m) masked.add(m[1]!.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));
      return !m;
    })
    .join('\n');
  return { rest, masked };
}

// ---------- servers ----------

/**
 * An HTTP server (and forward proxy) that echoes every request header in its body and in
 * X-Echo-* response headers. Routes: /status/N answers N; /redirect sends a Location with
 * userinfo and a token (server-side secrets the config never saw); absolute-URI (proxy)
 * requests to a path under /deny get a 407; everything else 200.
 */
let echo: Server;
let echoPort: number;
let blackHole: Peer;
let silentUdp: Peer;
let refused: number;
const serverUser = 'srv-user';
let serverSecret: string;
let serverToken: string;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const u = new URL(req.url ?? '/', `http://127.0.0.1:${echoPort}`);
  const echoed = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(req.headers)) headers[`x-echo-${k}`] = String(v).replace(/[^\t\x20-\x7e]/g, '?');
  const proxied = /^https?:\/\//.test(req.url ?? '');
  if (proxied && u.pathname.startsWith('/deny')) {
    res.writeHead(407, { ...headers, 'proxy-authenticate': 'Basic realm="echo"' }).end(echoed);
    return;
  }
  const status = /^\/status\/(\d{3})$/.exec(u.pathname);
  if (status) {
    res.writeHead(Number(status[1]), { ...headers, 'www-authenticate': 'Basic realm="echo"' }).end(echoed);
    return;
  }
  if (u.pathname === '/redirect') {
    const to = `http://${serverUser}:${encodeURIComponent(serverSecret)}@127.0.0.1:${echoPort}/echo?token=${encodeURIComponent(serverToken)}`;
    res.writeHead(302, { ...headers, location: to }).end(echoed);
    return;
  }
  res.writeHead(200, headers).end(echoed);
}

before(async () => {
  echo = createServer(handle);
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
  blackHole = await startBlackHole();
  silentUdp = await startSilentUdp();
  refused = await refusedPort();
  serverSecret = secret('server-redirect-password');
  serverToken = secret('server-redirect-token');
  pair(serverUser, serverSecret);
});

after(async () => {
  echo.closeAllConnections();
  await new Promise<void>((r) => echo.close(() => r()));
  await blackHole.close();
  await silentUdp.close();
});

// ---------- configs ----------

/** The unreachable config: every type against every kind of unreachable target. */
/** Every registered type with its descriptor, loaded before the tests run (the configs below are built synchronously: the tests share `secrets`). */
const TYPES = await typeTests();

function unreachableConfig(env: Record<string, string>): { yaml: string; count: number } {
  const kit: SecretKit = {
    secret,
    pair,
    register: (...values) => secrets.push(...values),
    env,
    silentUdpPort: silentUdp.port,
    refusedPort: refused,
    blackHolePort: blackHole.port,
  };
  const targets: Target[] = [
    { host: '127.0.0.1', port: refused, mode: 'refused' },
    { host: '127.0.0.1', port: blackHole.port, mode: 'blackhole' },
    { host: 'no-such-host.invalid', port: 1234, mode: 'wronghost' },
  ];
  const entries: Record<string, unknown>[] = [];
  for (const { type, test: d } of TYPES) {
    for (const t of targets) entries.push({ type, name: `${type}-${t.mode}`, timeout: 1, ...d.credentials(t, kit) });
    (d.moreCredentials?.(kit) ?? []).forEach((more, i) => entries.push({ type, name: `${type}-more-${i + 1}`, timeout: 1, ...more }));
  }
  return { yaml: JSON.stringify(entries, null, 1) + '\n', count: entries.length };
}

/** HTTP checks against the echo server: credentials in every place, passing and failing. */
function httpConfig(env: Record<string, string>): { yaml: string; passing: string[]; failing: string[] } {
  const base = `http://127.0.0.1:${echoPort}`;
  const [bu, bp] = pair('basic-user', secret('basic'));
  const [du, dp] = pair('digest-user', secret('digest'));
  const [uu, up] = pair('url-user', secret('userinfo'));
  const [pu, pp] = pair('proxy-user', secret('proxy'));
  // interpolated into a URL too: URL-safe characters only
  env.CC_ENV_TOKEN = secret('env-token', true);
  env.CC_ENV_PASSWORD = pair('env-user', secret('env-password', true))[1];
  const checks: Record<string, unknown>[] = [
    { name: 'basic-pass', url: `${base}/echo`, auth: [bu, bp] },
    { name: 'basic-401', url: `${base}/status/401`, auth: { username: bu, password: bp } },
    { name: 'digest-pass', url: `${base}/echo`, digest_auth: [du, dp] },
    { name: 'bearer-body-fail', url: `${base}/echo`, bearer_token: secret('bearer'), expected_body: 'never in the body' },
    { name: 'bearer-regex-fail', url: `${base}/echo`, bearer_token: secret('bearer2'), expected_body: '/^nothing$/' },
    {
      name: 'headers-500',
      url: `${base}/status/500`,
      headers: { Authorization: `Bearer ${secret('auth-header')}`, Cookie: `session=${secret('cookie-header')}; theme=dark`, 'X-Api-Key': secret('api-key-header') },
    },
    { name: 'headers-pass', url: `${base}/echo`, headers: { 'X-Auth-Token': secret('x-auth-token'), 'Proxy-Authorization': `Basic ${b64(`pa:${secret('proxy-auth-header')}`)}` } },
    { name: 'userinfo-pass', url: `http://${uu}:${encodeURIComponent(up)}@127.0.0.1:${echoPort}/echo` },
    { name: 'userinfo-token-only', url: `http://${encodeURIComponent(secret('userinfo-token'))}@127.0.0.1:${echoPort}/status/403` },
    { name: 'query-fail', url: `${base}/echo?token=${encodeURIComponent(secret('query-token'))}&api_key=${encodeURIComponent(secret('query-api-key'))}`, expected_code: 201 },
    { name: 'params-pass', url: `${base}/echo`, params: { access_token: secret('param-token'), page: '1' } },
    { name: 'cookies-pass', url: `${base}/echo`, cookies: { sessionid: secret('cookie-option') } },
    { name: 'proxy-pass', url: 'http://upstream.invalid/echo', proxy_url: `http://${pu}:${encodeURIComponent(pp)}@127.0.0.1:${echoPort}` },
    { name: 'proxy-407', url: 'http://upstream.invalid/deny', proxy_url: `http://${pu}:${encodeURIComponent(pp)}@127.0.0.1:${echoPort}` },
    { name: 'env-bearer-fail', url: `${base}/status/418`, bearer_token: '${CC_ENV_TOKEN}' },
    { name: 'env-basic-pass', url: `${base}/echo`, auth: ['env-user', '${CC_ENV_PASSWORD}'] },
    { name: 'env-url-pass', url: `http://env-user:\${CC_ENV_PASSWORD}@127.0.0.1:${echoPort}/echo?token=\${CC_ENV_TOKEN}` },
    { name: 'redirect-302', url: `${base}/redirect`, bearer_token: secret('redirect-bearer') },
    { name: 'redirect-followed', url: `${base}/redirect`, allow_redirects: true, auth: pair('redir-user', secret('redirect-basic')) },
  ];
  const failing = ['basic-401', 'bearer-body-fail', 'bearer-regex-fail', 'headers-500', 'userinfo-token-only', 'query-fail', 'proxy-407', 'env-bearer-fail', 'redirect-302'];
  const passing = checks.map((c) => c.name as string).filter((n) => !failing.includes(n));
  return { yaml: JSON.stringify(checks.map((c) => ({ type: 'http', timeout: 20, ...c })), null, 1) + '\n', passing, failing };
}

/** An invalid config that holds secrets: the problems must be reported without them. */
function invalidConfig(env: Record<string, string>): string {
  env.CC_BAD_PASSWORD = secret('invalid-env');
  env.CC_BAD_URL_PASSWORD = secret('invalid#url/pass?word', true);
  env.CC_BAD_PARAMS = `access_token=${secret('invalid-params-string', true)}`;
  return [
    `- type: postgres`,
    `  host: 127.0.0.1`,
    `  port: 99999`,
    `  username: app`,
    `  password: ${JSON.stringify(secret('invalid-pg'))}`,
    `  database: app`,
    `- type: http`,
    `  url: ${JSON.stringify(`http://u:${encodeURIComponent(secret('invalid-url'))}@127.0.0.1:99999/`)}`,
    `- type: http`,
    `  url: http://127.0.0.1:1/`,
    `  auth: ${JSON.stringify(`user:${secret('invalid-auth-string')}`)}`,
    `- type: http`,
    `  url: http://127.0.0.1:1/`,
    `  bearer_token: ${JSON.stringify(secret('invalid-both-bearer'))}`,
    `  auth: [u, ${JSON.stringify(secret('invalid-both-auth'))}]`,
    `- type: mysql`,
    `  host: 127.0.0.1`,
    `  port: abc`,
    `  username: root`,
    `  password: \${CC_BAD_PASSWORD}`,
    `- ${JSON.stringify(`postgres://u:${encodeURIComponent(secret('invalid-entry'))}@db/app`)}`,
    `- type: redis`,
    `  host: 127.0.0.1`,
    `  port: 1`,
    `  password: {nested: ${JSON.stringify(secret('invalid-nested'))}}`,
    `- type: http`,
    `  url: ${JSON.stringify(`http://127.0.0.1:1/?token=${encodeURIComponent(secret('invalid-query'))}`)}`,
    `  expected_code: teapot`,
    // a URL password with #, / and ? from the environment: the URL does not parse, the error quotes it
    `- type: http`,
    `  url: "http://deploy:\${CC_BAD_URL_PASSWORD}@127.0.0.1:1/"`,
    // headers and params mistyped as strings, holding secrets
    `- type: http`,
    `  url: http://127.0.0.1:1/`,
    `  headers: ${JSON.stringify(`X-Functions-Key: ${secret('invalid-headers-string', true)}`)}`,
    `- type: http`,
    `  url: http://127.0.0.1:1/`,
    `  params: \${CC_BAD_PARAMS}`,
    // an unknown type: its password is still a secret
    `- type: postgress`,
    `  password: ${JSON.stringify(secret('invalid-unknown-type', true))}`,
    '',
  ].join('\n');
}

// ---------- running ----------

function dir(): string {
  return scratchDir('conn-check-secrets-');
}

/** Runs the CLI in every output mode; returns every blob it wrote, by name. */
async function cliBlobs(file: string, env: Record<string, string>, expectCode: number, out = dir()): Promise<Record<string, string>> {
  const blobs: Record<string, string> = {};
  const runs: [string, string[]][] = [
    ['text', [file]],
    ['json', ['--format', 'json', file]],
    ['junit', ['--format', 'junit', '--output', join(out, 'report.xml'), file]],
    ['markdown', ['--format', 'markdown', file]],
    ['-v -d -U', ['-v', '-d', '-U', file]],
    ['-v -d -t', ['-v', '-d', '-t', '--format', 'json', file]],
    ['validate', ['--validate', file]],
    ['dry-run', ['--dry-run', '-v', file]],
    ['egress', ['--egress', file]],
  ];
  // three at a time: a loaded machine must not turn passing checks into timeouts
  const ran: Ran[] = [];
  for (let i = 0; i < runs.length; i += 3) ran.push(...(await Promise.all(runs.slice(i, i + 3).map(([, args]) => runCli(args, { env, cwd: out })))));
  runs.forEach(([name], i) => {
    const r: Ran = ran[i]!;
    blobs[`cli ${name} stdout`] = r.stdout;
    blobs[`cli ${name} stderr`] = r.stderr;
    assert.doesNotMatch(r.stderr, /^\s+at /m, `cli ${name}: no stack trace`);
    if (name !== 'validate' && name !== 'dry-run' && name !== 'egress') assert.equal(r.code, expectCode, `cli ${name}: exit code\n${r.stdout}\n${r.stderr}`);
  });
  try {
    blobs['cli junit report.xml'] = readFileSync(join(out, 'report.xml'), 'utf8');
  } catch {
    if (expectCode !== 3) throw new Error('the junit report was not written');
  }
  return blobs;
}

/** Runs the action with the file as `config` and as inline `checks`; returns every blob and the masks. */
async function actionBlobs(yaml: string, env: Record<string, string>): Promise<{ blobs: Record<string, string>; masked: Set<string>[]; runs: Ran[] }> {
  const blobs: Record<string, string> = {};
  const masked: Set<string>[] = [];
  const runs: Ran[] = [];
  const ran = await Promise.all([
    runAction({ config: 'deps.yaml' }, { files: { 'deps.yaml': yaml }, env }),
    runAction({ checks: yaml, 'fail-on-error': 'false' }, { env }),
  ]);
  ran.forEach((r, i) => {
    const name = i === 0 ? 'action config' : 'action inline';
    const { rest, masked: m } = withoutMasks(r.stdout);
    masked.push(m);
    runs.push(r);
    blobs[`${name} stdout`] = rest;
    blobs[`${name} stderr`] = r.stderr;
    blobs[`${name} summary`] = r.summary;
    blobs[`${name} GITHUB_OUTPUT`] = readFileSync(join(r.workspace, '.output.txt'), 'utf8');
    assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, `${name}: no stack trace`);
  });
  return { blobs, masked, runs };
}

/** Each secret (raw) and each base64 pair that the config holds must have its ::add-mask:: line. */
function assertMasked(masked: Set<string>, expected: string[]): void {
  const missing = expected.filter((s) => !masked.has(s));
  assert.deepEqual(missing, [], `::add-mask:: lines missing for these secrets`);
}

describe('no secret in any output', { concurrency: 2 }, () => {
  test('every check type, failing without a server: refused, black hole, unknown host', async () => {
    const env: Record<string, string> = {};
    const before = secrets.length;
    const { yaml, count } = unreachableConfig(env);
    const mine = secrets.slice(before);
    const file = join(dir(), 'unreachable.yaml');
    writeFileSync(file, yaml);
    const cli = await cliBlobs(file, env, 2);
    const json = JSON.parse(cli['cli json stdout']!) as { name: string; status: string; step: string; error: string }[];
    assert.equal(json.length, count);
    // (a TCP connect to the black hole passes, unless a loaded machine makes it time out)
    assert.deepEqual(
      json.filter((r) => r.status !== 'failed' && r.name !== 'tcp-blackhole').map((r) => r.name),
      [],
      'every check failed',
    );
    const action = await actionBlobs(yaml, env);
    assert.equal(action.runs[0]!.code, 1);
    assert.equal(action.runs[1]!.code, 0, 'fail-on-error: false');
    assertNoLeaks({ ...cli, ...action.blobs });
    for (const m of action.masked) assertMasked(m, mine);
  });

  test('http against an echo server: basic, digest, bearer, headers, userinfo, query, cookies, proxy, ${VAR}, redirects', async () => {
    const env: Record<string, string> = {};
    const before = secrets.length;
    const { yaml, passing, failing } = httpConfig(env);
    const mine = secrets.slice(before);
    const file = join(dir(), 'http.yaml');
    writeFileSync(file, yaml);
    const cli = await cliBlobs(file, env, 2);
    const json = JSON.parse(cli['cli json stdout']!) as { name: string; status: string; step: string; error: string }[];
    const status = Object.fromEntries(json.map((r) => [r.name, r.status]));
    assert.deepEqual(
      Object.entries(status)
        .filter(([, s]) => s === 'passed')
        .map(([n]) => n)
        .sort(),
      [...passing].sort(),
      `the passing checks pass:\n${cli['cli text stdout']}`,
    );
    assert.deepEqual(
      Object.entries(status)
        .filter(([, s]) => s === 'failed')
        .map(([n]) => n)
        .sort(),
      [...failing].sort(),
    );
    const action = await actionBlobs(yaml, env);
    assert.equal(action.runs[0]!.code, 1);
    // The server's own redirect secrets are not in the config: nothing to mask them with.
    const configSecrets = mine.filter((s) => s !== serverSecret && s !== serverToken);
    assertNoLeaks({ ...cli, ...action.blobs });
    for (const m of action.masked) assertMasked(m, configSecrets);
  });

  test('an invalid config that holds secrets: the problems are reported without them', async () => {
    const env: Record<string, string> = {};
    const yaml = invalidConfig(env);
    const cwd = dir();
    writeFileSync(join(cwd, 'invalid.yaml'), yaml);
    const cli = await cliBlobs('invalid.yaml', env, 3, cwd);
    assert.match(cli['cli text stderr']!, /^invalid\.yaml:3:3: checks\[0\] \(postgres\): port: expected an integer 1-65535, got 99999$/m);
    assert.match(cli['cli text stderr']!, /^invalid\.yaml:8:3: checks\[1\] \(http\): url: expected an absolute URL \(http or https\), got "http:\/\/\*\*\*@127\.0\.0\.1:99999\/"$/m);
    assert.match(cli['cli text stderr']!, /^invalid\.yaml:11:3: checks\[2\] \(http\): auth: expected a \[username, password\] list or a \{username, password\} mapping, got "\*\*\*"$/m);
    assert.match(cli['cli text stderr']!, /^invalid\.yaml:21:3: checks\[5\]: expected a mapping with a type \(- type: tcp \.\.\.\), got the value "postgres:\/\/\*\*\*@db\/app"$/m);
    assert.match(cli['cli text stderr']!, /^UNKNOWN: invalid config \(\d+ problems\)$/m);
    const action = await actionBlobs(yaml, env);
    for (const r of action.runs) assert.equal(r.code, 1);
    assert.match(action.blobs['action config stdout']!, /^::error title=conn-check%3A invalid config,file=deps\.yaml,line=3,col=3::/m);
    assertNoLeaks({ ...cli, ...action.blobs });
    // masks are registered even though the config is invalid
    const expected = [env.CC_BAD_PASSWORD!, env.CC_BAD_URL_PASSWORD!, secrets.find((x) => x.includes('invalid-headers-string'))!, secrets.find((x) => x.includes('invalid-unknown-type'))!];
    for (const m of action.masked) assertMasked(m, expected);
  });
});

describe('credentials found where they were missed, and no over-redaction', { concurrency: 2 }, () => {
  test('X-Functions-Key, Ocp-Apim-Subscription-Key, ${VAR} in body, a query secret with !\'()~: masked everywhere', async () => {
    const base = `http://127.0.0.1:${echoPort}`;
    const start = secrets.length;
    const query = "Sx9-pa55-UNIQUE-query-env!'()~";
    secrets.push(query);
    const env: Record<string, string> = { CC_BODY_SECRET: secret('body-env', true), CC_QUERY_SECRET: query };
    const yaml = JSON.stringify([
      { type: 'http', name: 'fn-key', url: `${base}/status/500`, headers: { 'X-Functions-Key': secret('functions-key') } },
      { type: 'http', name: 'apim-key', url: `${base}/status/500`, headers: { 'Ocp-Apim-Subscription-Key': secret('apim-key') } },
      { type: 'http', name: 'body-var', url: `${base}/status/500`, method: 'POST', body: '{"token": "${CC_BODY_SECRET}"}' },
      { type: 'http', name: 'query-var', url: `${base}/status/500`, params: { q: '${CC_QUERY_SECRET}' } },
    ]);
    const mine = secrets.slice(start);
    const file = join(dir(), 'places.yaml');
    writeFileSync(file, yaml);
    const cli = await cliBlobs(file, env, 2);
    const action = await actionBlobs(yaml, env);
    assertNoLeaks({ ...cli, ...action.blobs });
    for (const m of action.masked) assertMasked(m, mine);
  });

  test('a password "null", a query parameter code=200 and a basic-auth user name do not corrupt or over-mask the output', async () => {
    const base = `http://127.0.0.1:${echoPort}`;
    const yaml = JSON.stringify([
      { type: 'postgres', name: 'pg-null', host: '127.0.0.1', port: refused, username: 'app', password: 'null', database: 'app', timeout: 2 },
      { type: 'http', name: 'code-200', url: `${base}/echo?code=200` },
      { type: 'http', name: 'basic', url: `${base}/echo`, auth: ['admin', secret('basic-admin')] },
      { type: 'tcp', name: 'admin-host', host: '127.0.0.1', port: refused },
    ]);
    const file = join(dir(), 'over.yaml');
    writeFileSync(file, yaml);
    const json = await runCli(['--format', 'json', file]);
    const parsed = JSON.parse(json.stdout) as { name: string; status: string; step: unknown; duration_ms: number }[];
    assert.deepEqual(parsed.map((r) => r.status), ['failed', 'passed', 'passed', 'failed']);
    const action = await runAction({ checks: yaml, 'fail-on-error': 'false' });
    const results = JSON.parse(action.outputs.results!) as { name: string; step: unknown }[];
    assert.equal(results[1]!.step, null, 'JSON null stays null');
    const { masked } = withoutMasks(action.stdout);
    for (const s of ['200', 'admin']) assert.ok(!masked.has(s), `${s} is not masked for the whole job`);
    assert.ok(masked.has(b64(`admin:${secrets.find((x) => x.includes('basic-admin'))!}`)));
  });
});

// ---------- units ----------

test('the leak detector itself finds every form, and the ::add-mask:: filter removes only those lines', () => {
  const s = 'p@ss/w:rd"\\%-detector-self-test';
  secrets.push(s);
  try {
    for (const f of [s, encodeURIComponent(s), b64(s), JSON.stringify(s).slice(1, -1), JSON.stringify(JSON.stringify(s)).slice(1, -1), htmlEscape(s), commandData(s), userinfoEncoded(s)]) {
      assert.equal(leaks({ blob: `x ${f} y` }).length >= 1, true, `finds ${f}`);
    }
    assert.deepEqual(leaks({ blob: 'p@ss/w:rd-nothing' }), []);
    const { rest, masked } = withoutMasks(`::add-mask::${commandData(s)}\nline ${s}\n`);
    assert.ok(masked.has(s));
    assert.equal(leaks({ rest }).length, 1, 'a secret outside ::add-mask:: lines is still found');
  } finally {
    secrets.splice(secrets.indexOf(s), 1);
  }
});
