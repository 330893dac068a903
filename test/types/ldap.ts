/** The ldap check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import { BIND_DN, slapdAvailable, startSlapd } from '../helpers/slapd.js';
import { startReplyOnce } from '../helpers/faults.js';

export default defineTypeTest({
  examples: `
- type: ldap
  url: ldaps://ldap.internal
  bind_dn: cn=reader,dc=example,dc=org
  password: reader-secret
  base_dn: dc=example,dc=org
`,
  driver: { module: 'ldapts', marker: '1.3.6.1.4.1.1466.20037', options: 'bind_dn: "cn=u", password: p', loadedOnFailure: true },
  credentials: (t, s) => ({ host: t.host, port: t.port, bind_dn: 'cn=reader,dc=example,dc=test', password: s.secret('ldap') }),
  credsTest: 'test/ldap.test.ts (wrong password, unknown DN)',
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, peer, drip, server, add, urlOf } = k;
    const slapdServer = slapdAvailable() ? await server(() => startSlapd(), (s) => s.stop()) : undefined;
    // plain cells bind with a password; TLS cells use ldaps://
    const ldapBind = { bind_dn: 'cn=fault,dc=example,dc=test', password: PASSWORD };
    const ldapUrl = (scheme: string, p: { port: number } | number, host?: string) => ({ url: urlOf(scheme, p, host), ...ldapBind });
    /** A BindResponse, success, to the request in `req` (its message id echoed). */
    const ldapBindOk = (req: Buffer) => Buffer.from([0x30, 0x0c, 0x02, 0x01, req[2] === 0x02 && req[3] === 0x01 ? req[4]! : 1, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]);
    add('refused', ldapUrl('ldap', refusedPort), fail('tcp', REFUSED));
    add('blackhole', ldapUrl('ldap', blackHole), fail('auth', TIMED_OUT));
    add('closer', ldapUrl('ldap', closer), fail('auth', /^the server closed the connection \(is this an ldaps:\/\/ port\?\)$/));
    add('garbage', ldapUrl('ldap', garbage), fail('auth', /^the server did not answer with the LDAP protocol \(it sent \\x00/));
    add('banner', ldapUrl('ldap', banner), fail('auth', /^the server did not answer with the LDAP protocol \(it sent SSH-2\.0-/));
    add('drip', ldapUrl('ldap', await drip(Buffer.from([0x30, 0x84, 0x00, 0x10, 0x00, 0x00]), Buffer.from([0]))), fail('auth', TIMED_OUT, { how: 'a message header announcing 1 MiB, then zeros' }));
    add('tlsStall', { ...ldapUrl('ldaps', blackHole), ...caFile }, fail('tls', TIMED_OUT));
    add('expired', { ...ldapUrl('ldaps', tlsExpired, 'localhost'), ...caFile }, fail('tls', EXPIRED));
    add('wronghost', { ...ldapUrl('ldaps', tlsWrongHost, 'localhost'), ...caFile }, fail('tls', WRONG_HOST));
    add('unresolvable', ldapUrl('ldap', 389, BAD), fail('resolve', NXDOMAIN));
    if (slapdServer) add('creds', { url: `ldap://${H}:${slapdServer.port}`, bind_dn: BIND_DN, password: WRONG }, fail('auth', /^invalid credentials for .* \(49\)$/));
    add('midway', { ...ldapUrl('ldap', await peer(startReplyOnce(ldapBindOk))), base_dn: 'dc=example,dc=test' }, fail('query', TIMED_OUT, { how: 'a successful bind, then silence' }));
    add('midwayTls', { ...ldapUrl('ldaps', tlsQuiet, 'localhost'), ...caFile }, fail('auth', TIMED_OUT));
  },
});
