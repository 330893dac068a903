/** The ssh check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN } from './kit.js';
import { SSH_USER, sshdAvailable, sshKeys, startSshd } from '../helpers/sshd.js';
import { startGarbage } from '../helpers/peers.js';

export default defineTypeTest({
  examples: `
- type: ssh
  host: bastion.internal
  username: deploy
  private_key_file: /home/deploy/.ssh/id_ed25519
  host_key: SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s
`,
  driver: { module: 'ssh2', marker: 'All configured authentication methods failed', options: 'username: u, password: p', loadedOnFailure: true },
  credentials: (t, s) => ({ host: t.host, port: t.port, username: 'deploy', password: s.pair('deploy', s.secret('ssh'))[1] }),
  moreCredentials: (s) => {
    const key = sshKeys().rsaEncrypted;
    s.register(key, ...key.split('\n').filter((l) => l.trim().length >= 8));
    return [
      // a key that is no key (it fails before connecting), and an encrypted key with a wrong passphrase
      { host: '127.0.0.1', port: s.refusedPort, username: 'deploy', private_key: s.secret('ssh-private-key'), passphrase: s.secret('ssh-passphrase') },
      { host: '127.0.0.1', port: s.refusedPort, username: 'deploy', private_key: key, passphrase: s.secret('ssh-wrong-passphrase') },
    ];
  },
  credsTest: 'test/ssh.test.ts (wrong password, unknown user, unknown key)',
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, at, peer, drip, server, add } = k;
    const sshServer = sshdAvailable() ? await server(() => startSshd(), (s) => s.stop()) : undefined;
    // no TLS; the identification line is the server's greeting
    const sshOpts = { username: 'faultuser', password: PASSWORD };
    add('refused', { host: H, port: refusedPort, ...sshOpts }, fail('tcp', REFUSED));
    add('blackhole', { ...at(blackHole), ...sshOpts }, fail('protocol', TIMED_OUT));
    add('closer', { ...at(closer), ...sshOpts }, fail('protocol', /^the server closed the connection before its SSH identification$/));
    add('garbage', { ...at(garbage), ...sshOpts }, fail('protocol', /^the server did not answer with the SSH protocol \(it sent /));
    add('banner', { ...at(await peer(startGarbage(H, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n', { end: true }))), ...sshOpts }, fail('protocol', /^the server closed the connection before its SSH identification$/, { how: 'an HTTP error, then close' }));
    add('drip', { ...at(await drip('SSH-2.0-', 'x')), ...sshOpts }, fail('protocol', TIMED_OUT, { how: 'an identification line that never ends' }));
    add('unresolvable', { host: BAD, port: 22, ...sshOpts }, fail('resolve', NXDOMAIN));
    if (sshServer) add('creds', { host: H, port: sshServer.port, username: SSH_USER, password: WRONG }, fail('auth', /^the server refused the password for user "conncheck-ssh"/));
    add('midway', { ...at(banner), ...sshOpts }, fail('protocol', TIMED_OUT, { how: 'an SSH identification, then silence' }));
  },
});
