import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeaks, liveHandles, otherProtocolCase, runOne, runYaml, silentServerCases } from './helpers/check.js';
import { assertNoSecrets, resultAssertions } from './helpers/results.js';
import { freePort } from './helpers/run.js';
import { startSmtp, type SmtpTestServer } from './helpers/smtp.js';
import { tlsMaterial } from './helpers/tls.js';
import { SMTPServer } from 'smtp-server';

const USER = 'mailer';
const PASSWORD = 'smtp-Secret-7713';
const users = { [USER]: PASSWORD };

describe('smtp against real SMTP servers (smtp-server)', () => {
  const tls = tlsMaterial();
  let implicit: SmtpTestServer; // TLS from the first byte
  let starttls: SmtpTestServer; // plain, offers STARTTLS, AUTH only after it
  let plain: SmtpTestServer; // plain, no STARTTLS, AUTH allowed
  let heloOnly: SmtpTestServer; // refuses EHLO
  let loginOnly: SmtpTestServer; // AUTH LOGIN only, implicit TLS
  before(async () => {
    [implicit, starttls, plain, heloOnly, loginOnly] = await Promise.all([
      startSmtp(users, { secure: true }),
      startSmtp(users, { starttls: true }),
      startSmtp(users, {}),
      startSmtp(users, { refuseEhlo: true }),
      startSmtp(users, { secure: true, authMethods: ['LOGIN'] }),
    ]);
  });
  after(async () => {
    await Promise.all([implicit, starttls, plain, heloOnly, loginOnly].map((s) => s?.stop()));
  });

  const base = (server: SmtpTestServer, extra: Record<string, unknown> = {}) => ({
    type: 'smtp',
    host: 'localhost',
    port: server.port,
    username: USER,
    password: PASSWORD,
    ca_file: tls.caFile,
    // these servers listen on random ports: unset, use_tls would mean TLS only on 465
    use_tls: true,
    ...extra,
  });

  test('implicit TLS (use_tls): login passes, no mail sent without both addresses', async () => {
    const handles = liveHandles();
    const before = implicit.messages.length;
    const r = await runOne(base(implicit, { from_address: 'only-from@example.test' }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal(r.name, `smtp:localhost:${implicit.port}`);
    assert.equal(r.details![0], 'connected to 127.0.0.1');
    assert.match(r.details![1]!, /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    assert.match(r.details![2]!, /^greeting: 220 smtp\.test ESMTP conn-check test server$/);
    assert.equal(implicit.messages.length, before, 'no message may be sent with only from_address');
    assert.deepEqual(implicit.logins.at(-1), { user: USER, ok: true });
    assertNoSecrets(r, [PASSWORD]);
    await assertNoLeaks(handles);
  });

  test('with from_address and to_address a real e-mail is delivered (subject and message defaults)', async () => {
    const before = implicit.messages.length;
    const r = await runOne(base(implicit, { from_address: 'checks@example.test', to_address: 'ops@example.test' }));
    assert.equal(r.status, 'passed', r.error);
    assert.equal(implicit.messages.length, before + 1);
    const mail = implicit.messages.at(-1)!;
    assert.equal(mail.from, 'checks@example.test');
    assert.deepEqual(mail.to, ['ops@example.test']);
    assert.equal(mail.user, USER);
    assert.equal(mail.secure, true);
    assert.match(mail.data, /^Subject: conn-check test\r$/m);
    assert.match(mail.data, /\r\n\r\nconn-check test message\r\n$/);
    assert.match(r.details!.at(-1)!, /^message sent to ops@example\.test \(250 /);
    assertNoSecrets(r, [PASSWORD]);
  });

  test('own subject and message, dot-stuffed and non-ASCII, arrive intact', async () => {
    const r = await runOne(
      base(plain, { use_tls: false, from_address: 'a@example.test', to_address: 'b@example.test', subject: 'Grüße', message: 'line one\n.leading dot\nlast' }),
    );
    assert.equal(r.status, 'passed', r.error);
    const mail = plain.messages.at(-1)!;
    assert.match(mail.data, /^Subject: =\?UTF-8\?B\?R3LDvMOfZQ==\?=\r$/m);
    assert.match(mail.data, /\r\n\r\nline one\r\n\.leading dot\r\nlast\r\n$/);
  });

  test('STARTTLS: upgrades, then logs in; without starttls the server refuses AUTH on plain text', async () => {
    const handles = liveHandles();
    const [upgraded, refused] = await runYaml(
      JSON.stringify([base(starttls, { use_tls: false, starttls: true, from_address: 'x@example.test', to_address: 'y@example.test' }), base(starttls, { use_tls: false })]),
    );
    assert.equal(upgraded!.status, 'passed', upgraded!.error);
    assert.ok(upgraded!.details!.some((d) => /^TLSv1\.[23], cert CN=localhost /.test(d)));
    assert.equal(starttls.messages.at(-1)!.secure, true);
    assert.equal(refused!.status, 'failed');
    assert.equal(refused!.step, 'auth');
    assert.equal(refused!.error, 'authentication refused: the server wants TLS first (538 Error: Must issue a STARTTLS command first; try starttls: true)');
    assertNoSecrets(upgraded, [PASSWORD]);
    assertNoSecrets(refused, [PASSWORD]);
    await assertNoLeaks(handles);
  });

  test('starttls against a server that does not offer it fails at tls', async () => {
    const r = await runOne(base(plain, { use_tls: false, starttls: true }));
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'tls');
    assert.equal(r.error, 'the server does not offer STARTTLS');
  });

  test('STARTTLS with an untrusted certificate fails at tls', async () => {
    const r = await runOne({ ...base(starttls, { use_tls: false, starttls: true }), ca_file: undefined });
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'tls');
    assert.equal(r.error, 'certificate not trusted: unable to verify its issuer (add the CA with tls-certs-path or ca_file)');
  });

  test('AUTH LOGIN is used when PLAIN is not offered; wrong password fails there too', async () => {
    const [ok, wrong] = await runYaml(JSON.stringify([base(loginOnly), base(loginOnly, { password: `${PASSWORD}x` })]));
    assert.equal(ok!.status, 'passed', ok!.error);
    assert.equal(wrong!.step, 'auth');
    assert.equal(wrong!.error, `authentication failed for user ${USER} (535 Invalid username or password)`);
    assertNoSecrets(wrong, [PASSWORD, `${PASSWORD}x`]);
  });

  test('wrong password and unknown user: authentication failed, no password anywhere', async () => {
    const handles = liveHandles();
    const wrongPw = `${PASSWORD}-nope`;
    const [wrong, unknown] = await runYaml(JSON.stringify([base(implicit, { password: wrongPw }), base(implicit, { username: 'ghost' })]));
    assert.equal(wrong!.status, 'failed');
    assert.equal(wrong!.step, 'auth');
    assert.equal(wrong!.error, `authentication failed for user ${USER} (535 Invalid username or password)`);
    assert.equal(unknown!.step, 'auth');
    assert.equal(unknown!.error, 'authentication failed for user ghost (535 Invalid username or password)');
    assertNoSecrets(wrong, [wrongPw, PASSWORD]);
    assertNoSecrets(unknown, [PASSWORD]);
    await assertNoLeaks(handles);
  });

  test('a server refusing EHLO: fails by default, passes with helo_fallback', async () => {
    const [strict, fallback] = await runYaml(
      JSON.stringify([base(heloOnly, { use_tls: false }), base(heloOnly, { use_tls: false, helo_fallback: true, from_address: 'h@example.test', to_address: 'i@example.test' })]),
    );
    assert.equal(strict!.status, 'failed');
    assert.equal(strict!.step, 'protocol');
    assert.equal(strict!.error, 'EHLO refused (500 Error: command not recognized); set helo_fallback: true to try HELO');
    assert.equal(fallback!.status, 'passed', fallback!.error);
    assert.equal(heloOnly.messages.at(-1)!.from, 'h@example.test');
  });

  test('use_tls: true against a plain port fails at tls', async () => {
    const r = await runOne(base(plain));
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'tls');
    assert.equal(r.error, 'TLS handshake failed: the server did not answer with TLS (is this a plain-text port?)');
    assertNoSecrets(r, [PASSWORD]);
  });

  test('use_tls: false against an implicit-TLS port: no greeting, times out at protocol', async () => {
    const t0 = performance.now();
    const r = await runOne(base(implicit, { use_tls: false, timeout: 1 }));
    assert.equal(r.status, 'failed');
    assert.equal(r.step, 'protocol');
    assert.equal(r.error, 'timed out after 1s');
    assert.ok(performance.now() - t0 < 3000);
  });

  test('use_tls and starttls together are a config error', async () => {
    await assert.rejects(runOne(base(implicit, { starttls: true })), /starttls: expected use_tls: false with starttls: true/);
  });
});

describe('smtp failures without an SMTP server', () => {
  const { failed, noSecrets } = resultAssertions([PASSWORD]);
  const smtp = (port: number, extra: Record<string, unknown> = {}) => ({ type: 'smtp', host: '127.0.0.1', port, username: USER, password: PASSWORD, use_tls: false, ...extra });

  test('refused port', async () => {
    failed(await runOne(smtp(await freePort())), 'tcp', 'connection refused');
  });

  test('a server that accepts and never speaks: timed out within the deadline, at tls or protocol', async () => {
    await silentServerCases(smtp, [[{ use_tls: true }, 'tls'], [{ use_tls: false }, 'protocol']], noSecrets, { leaks: true });
  });

  test('a server that answers something else: not an SMTP server', async () => {
    await otherProtocolCase(smtp, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n', (r) => failed(r, 'protocol', 'not an SMTP server (unexpected reply "HTTP/1.1 400 Bad Request")'));
  });

  test('a server that greets with 554: session refused', async () => {
    await otherProtocolCase(smtp, '554 5.3.2 no service here\r\n', (r) => failed(r, 'protocol', 'the server refused the session (554 5.3.2 no service here)'));
  });
});


// ---------- the shared TLS assertions (issue 5) ----------


describe('smtp: min_cert_days and min_tls_version (implicit TLS and STARTTLS)', () => {
  const tls = tlsMaterial();
  const CERT_LINE = /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in 29 days$/;
  let implicit: SmtpTestServer;
  let starttls: SmtpTestServer;
  let tls12: SMTPServer; // implicit TLS, TLS 1.2 at most
  let tls12Port = 0;
  before(async () => {
    [implicit, starttls] = await Promise.all([startSmtp(users, { secure: true }), startSmtp(users, { starttls: true })]);
    tls12 = new SMTPServer({
      secure: true,
      key: tls.valid.key,
      cert: tls.valid.cert,
      maxVersion: 'TLSv1.2',
      authMethods: ['PLAIN'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
        callback(new Error('Invalid username or password'));
      },
    } as ConstructorParameters<typeof SMTPServer>[0]);
    tls12.on('error', () => {});
    await new Promise<void>((resolve) => tls12.listen(0, '127.0.0.1', () => resolve()));
    tls12Port = (tls12.server.address() as { port: number }).port;
  });
  after(async () => {
    await Promise.all([implicit?.stop(), starttls?.stop(), new Promise<void>((r) => (tls12 ? tls12.close(() => r()) : r()))]);
  });
  const base = (port: number, extra: Record<string, unknown> = {}) => ({ type: 'smtp', host: 'localhost', port, username: USER, password: PASSWORD, ca_file: tls.caFile, use_tls: true, ...extra });

  test('min_cert_days 60 fails at cert (implicit TLS and STARTTLS); 7 passes and the details show the days left', async () => {
    for (const [server, extra] of [
      [implicit, {}],
      [starttls, { use_tls: false, starttls: true }],
    ] as const) {
      const tooSoon = await runOne(base(server.port, { ...extra, min_cert_days: 60 }));
      assert.deepEqual([tooSoon.status, tooSoon.step, tooSoon.error], ['failed', 'cert', 'certificate expires in 29 days (minimum 60)'], JSON.stringify(tooSoon));
      assertNoSecrets(tooSoon, [PASSWORD]);
      const enough = await runOne(base(server.port, { ...extra, min_cert_days: 7 }));
      assert.equal(enough.status, 'passed', enough.error);
      assert.ok(enough.details!.some((d) => CERT_LINE.test(d)), JSON.stringify(enough.details));
    }
  });

  test('a certificate that expires too soon fails before AUTH: the password is never sent', async () => {
    const logins = implicit.logins.length;
    await runOne(base(implicit.port, { min_cert_days: 60 }));
    assert.equal(implicit.logins.length, logins);
  });

  test('min_tls_version TLSv1.3 fails at tls against an SMTP server limited to TLS 1.2; TLSv1.2 passes there', async () => {
    const v13 = await runOne(base(tls12Port, { min_tls_version: 'TLSv1.3' }));
    assert.deepEqual([v13.status, v13.step, v13.error], ['failed', 'tls', 'TLS handshake failed: the server does not offer TLSv1.3 or later (min_tls_version)']);
    const v12 = await runOne(base(tls12Port, { min_tls_version: 'TLSv1.2' }));
    assert.equal(v12.status, 'passed', v12.error);
    assert.ok(v12.details?.includes('TLSv1.2, cert CN=localhost (issuer CN=conn-check test CA) expires in 29 days'), JSON.stringify(v12.details));
    assertNoSecrets(v12, [PASSWORD]);
  });
});
