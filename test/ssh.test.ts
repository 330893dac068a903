import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { assertLeavesNothing, runOne } from './helpers/check.js';
import { resultAssertions } from './helpers/results.js';
import { CLI, cliTextAndJson, freePort } from './helpers/run.js';
import { KEY_PASSPHRASE, SSH_PASSWORD, SSH_USER, sshKeys, sshdAvailable, startSshd, type SshdInstance, type SshKeys } from './helpers/sshd.js';

const WRONG = 'Wr0ng-ssh-pw-19k';
const WRONG_PASSPHRASE = 'Wr0ng-passphrase-8d';

let server: SshdInstance; // password and publickey, with a pre-login banner
let keysOnly: SshdInstance; // PasswordAuthentication no
let pinned: SshdInstance; // only for the host_key mismatch (its log must show no authentication attempt)
let keys: SshKeys;

before(async () => {
  if (!sshdAvailable()) throw new Error('the ssh tests need root and /usr/sbin/sshd (scripts/setup.sh installs openssh-server)');
  keys = sshKeys();
  [server, keysOnly, pinned] = await Promise.all([startSshd({ banner: 'Authorized use only.\r\nSecond line.\n' }), startSshd({ password: false }), startSshd()]);
});

after(async () => {
  await Promise.all([server?.stop(), keysOnly?.stop(), pinned?.stop()]);
});

/** The secrets of these tests: passwords, passphrases, and the lines of the private keys. */
function secrets(): string[] {
  const keyLines = [keys.ed25519, keys.rsaEncrypted, keys.stranger].flatMap((k) => k.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
  return [SSH_PASSWORD, WRONG, KEY_PASSPHRASE, WRONG_PASSPHRASE, ...keyLines];
}
const { failed, passed } = resultAssertions(secrets);

const at = (s: { port: number }) => ({ type: 'ssh', host: '127.0.0.1', port: s.port, username: SSH_USER });
const REFUSED_USER = /^the server refused the password for user "conncheck-ssh" \(wrong password, unknown user, or not allowed to log in\)$/;

describe('ssh against a real OpenSSH server', () => {
  test('the right password passes; the details show the server, its host key (as ssh-keygen prints it), the banner and the method', async () => {
    const r = await runOne({ ...at(server), password: SSH_PASSWORD });
    passed(r);
    assert.equal(r.name, `ssh:127.0.0.1:${server.port}`);
    assert.equal(r.target, `127.0.0.1:${server.port}`);
    assert.deepEqual(r.details, [
      'connected to 127.0.0.1',
      r.details?.[1],
      `host key ssh-ed25519 ${server.fingerprint}`,
      'login banner: Authorized use only.',
      `authenticated as "${SSH_USER}" (password)`,
    ]);
    assert.match(r.details?.[1] ?? '', /^server SSH-2\.0-OpenSSH_\S+/);
  });

  test('an OpenSSH private key (text, or with its newlines written as \\n) passes; localhost and a port as a string too', async () => {
    passed(await runOne({ ...at(server), private_key: keys.ed25519 }));
    const r = await runOne({ ...at(server), host: 'localhost', port: String(server.port), private_key: keys.ed25519.replace(/\n/g, '\\n') });
    passed(r);
    assert.equal(r.details?.at(-1), `authenticated as "${SSH_USER}" (publickey)`);
  });

  test('an encrypted PEM key file with its passphrase passes', async () => {
    const r = await runOne({ ...at(server), private_key_file: keys.rsaEncryptedFile, passphrase: KEY_PASSPHRASE });
    passed(r);
    assert.equal(r.details?.at(-1), `authenticated as "${SSH_USER}" (publickey)`);
  });

  test('host_key: the right fingerprint passes (alone, or in a list)', async () => {
    passed(await runOne({ ...at(server), password: SSH_PASSWORD, host_key: server.fingerprint }));
    passed(await runOne({ ...at(server), password: SSH_PASSWORD, host_key: [`SHA256:${'B'.repeat(43)}`, server.fingerprint] }));
  });

  test('host_key: a mismatch fails at host_key, and the server never saw an authentication request', async () => {
    const other = `SHA256:${'A'.repeat(43)}`;
    const r = await runOne({ ...at(pinned), password: SSH_PASSWORD, private_key: keys.ed25519, host_key: other });
    failed(r, 'host_key', `host key mismatch: the server's ssh-ed25519 key is ${pinned.fingerprint}, expected ${other}`);
    assert.equal(r.details?.at(-1), `host key ssh-ed25519 ${pinned.fingerprint}`);
    // sshd logs every userauth-request at DEBUG1; give it a moment to write
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.doesNotMatch(pinned.log(), /userauth-request/, 'a credential reached the server');
    // the control: the same server logs the requests of a check that pins the right key
    passed(await runOne({ ...at(pinned), password: SSH_PASSWORD, host_key: pinned.fingerprint }));
    for (let i = 0; i < 20 && !/userauth-request .*method password/.test(pinned.log()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(pinned.log(), /userauth-request .*method password/);
  });

  test('a wrong password and an unknown user fail at auth, alike (OpenSSH does not tell them apart)', async () => {
    failed(await runOne({ ...at(server), password: WRONG }), 'auth', REFUSED_USER);
    failed(await runOne({ ...at(server), username: 'nobody-here', password: SSH_PASSWORD }), 'auth', /^the server refused the password for user "nobody-here" /);
  });

  test('a key the server does not know fails at auth', async () => {
    failed(await runOne({ ...at(server), private_key_file: keys.strangerFile }), 'auth', `the server refused the key for user "${SSH_USER}" (wrong key, unknown user, or not allowed to log in)`);
    failed(await runOne({ ...at(server), private_key: keys.stranger, password: WRONG }), 'auth', /^the server refused the key and the password for user "conncheck-ssh" \(wrong credentials/);
  });

  test('a password against a server that takes keys only says which methods it takes', async () => {
    failed(await runOne({ ...at(keysOnly), password: SSH_PASSWORD }), 'auth', `the server accepts none of the given methods (password) for user "${SSH_USER}" (it accepts: publickey)`);
    passed(await runOne({ ...at(keysOnly), private_key: keys.ed25519 }));
  });

  test('an encrypted key without its passphrase, or with a wrong one, fails at auth before connecting', async () => {
    const none = await runOne({ ...at(server), private_key_file: keys.rsaEncryptedFile });
    failed(none, 'auth', `private_key_file ${keys.rsaEncryptedFile} is encrypted: set passphrase`);
    assert.equal(none.details, undefined);
    failed(await runOne({ ...at(server), private_key: keys.rsaEncrypted, passphrase: WRONG_PASSPHRASE }), 'auth', 'private_key: wrong passphrase');
    failed(await runOne({ ...at(server), private_key: 'not a key at all' }), 'auth', 'private_key: not a private key in a format ssh2 reads (OpenSSH, PEM or PPK)');
    failed(await runOne({ ...at(server), private_key_file: `${keys.ed25519File}.pub` }), 'auth', /holds a public key|not a private key/);
    failed(await runOne({ ...at(server), private_key_file: join(keys.dir, 'missing') }), 'auth', `cannot read private_key_file ${join(keys.dir, 'missing')} (ENOENT)`);
  });

  test('a refused port fails at tcp; an unknown host at resolve', async () => {
    failed(await runOne({ ...at({ port: await freePort() }), password: WRONG }), 'tcp', 'connection refused');
    failed(await runOne({ ...at(server), host: 'no-such-host.invalid', password: WRONG }), 'resolve', /^dns resolution failed/);
  });

  test('config errors: no credential, both key options, a passphrase without a key, a malformed host_key', async () => {
    await assert.rejects(runOne({ ...at(server) }), /password: missing \(expected password, private_key or private_key_file\)/);
    await assert.rejects(runOne({ ...at(server), private_key: keys.ed25519, private_key_file: keys.ed25519File }), /expected either private_key or private_key_file, got both/);
    await assert.rejects(runOne({ ...at(server), password: SSH_PASSWORD, passphrase: KEY_PASSPHRASE }), /passphrase needs private_key or private_key_file/);
    await assert.rejects(runOne({ ...at(server), password: SSH_PASSWORD, host_key: 'ab:cd:ef' }), /host_key.*expected a host key fingerprint SHA256:/s);
    await assert.rejects(runOne({ type: 'ssh', host: '127.0.0.1', password: SSH_PASSWORD }), /username/);
  });

  test('a server that sends a line of 9000 bytes is cut off at once (ssh2 bounds the identification at 8 KiB)', async () => {
    const peer = createServer((s) => {
      s.on('error', () => {});
      s.write('x'.repeat(9000));
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const r = await runOne({ ...at(peer.address() as { port: number }), password: SSH_PASSWORD, timeout: 5 });
      failed(r, 'protocol', 'the server did not answer with the SSH protocol (Header line too long)');
    } finally {
      peer.close();
    }
  });

  test('no timer or socket is left in this process after passing and failing checks', async () => {
    await assertLeavesNothing([
      { ...at(server), password: SSH_PASSWORD },
      { ...at(server), password: WRONG },
      { ...at(server), private_key: keys.ed25519, host_key: `SHA256:${'C'.repeat(43)}` },
    ]);
  });
});

describe('ssh through the CLI bundle', { skip: !existsSync(join(CLI, '../../dist/cli/index.js')) && 'dist/ not built (npm run build)' }, () => {
  test('passing and failing checks, verbose: the right lines, no secret in any output', async () => {
    const { text } = await cliTextAndJson(
      [
        { ...at(server), name: 'ssh-password', password: SSH_PASSWORD, host_key: server.fingerprint },
        { ...at(server), name: 'ssh-key', private_key_file: keys.rsaEncryptedFile, passphrase: KEY_PASSPHRASE },
        { ...at(server), name: 'ssh-wrong', password: WRONG },
        { ...at(server), name: 'ssh-wrong-passphrase', private_key: keys.rsaEncrypted, passphrase: WRONG_PASSPHRASE },
        { ...at(server), name: 'ssh-pin', private_key: keys.stranger, host_key: `SHA256:${'D'.repeat(43)}` },
      ],
      secrets(),
    );
    assert.match(text.stdout, new RegExp(`^ssh-password OK .*host key ssh-ed25519 ${server.fingerprint.replace(/[+/]/g, '\\$&')}`, 'm'));
    assert.match(text.stdout, /^ssh-key OK /m);
    assert.match(text.stdout, /^ssh-wrong FAILED - auth: the server refused the password for user "conncheck-ssh"/m);
    assert.match(text.stdout, /^ssh-wrong-passphrase FAILED - auth: private_key: wrong passphrase/m);
    assert.match(text.stdout, /^ssh-pin FAILED - host_key: host key mismatch/m);
  });
});
