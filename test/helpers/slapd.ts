/**
 * Throwaway OpenLDAP servers for the ldap check tests: Debian's slapd with its own slapd.conf,
 * an mdb database and a pid file in a temp directory, on free loopback ports (ldap:// with
 * StartTLS, and ldaps://), the test CA's certificate. The tree:
 *
 *   dc=example,dc=test
 *     ou=people      cn=reader (the bind user, password LDAP_PASSWORD), uid=alice
 *     ou=hidden      readable by nobody: no such object to every user (no disclose right)
 *     ou=sealed      the bind user may see that it exists (disclose), not read it
 *
 * Anonymous users may read ou=people only.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './run.js';
import { canConnect, pidFromFile, startServerProcess, type ServerProcess } from './server-process.js';

export const SLAPD = '/usr/sbin/slapd';
export const BASE = 'dc=example,dc=test';
export const BIND_DN = `cn=reader,ou=people,${BASE}`;
export const LDAP_PASSWORD = 'ldap-Secret-5t2m8';
export const ROOT_DN = `cn=admin,${BASE}`;
export const ROOT_PASSWORD = 'ldap-Root-9w3k1';

export interface SlapdInstance extends ServerProcess {
  /** (port: ldap://, StartTLS offered) */
  /** ldaps://. */
  tlsPort: number;
}

export function slapdAvailable(): boolean {
  return existsSync(SLAPD) && existsSync('/usr/sbin/slapadd') && process.getuid?.() === 0;
}




const TREE = `dn: ${BASE}
objectClass: dcObject
objectClass: organization
dc: example
o: conn-check test

dn: ou=people,${BASE}
objectClass: organizationalUnit
ou: people

dn: ${BIND_DN}
objectClass: person
cn: reader
sn: Reader
userPassword: ${LDAP_PASSWORD}

dn: uid=alice,ou=people,${BASE}
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Example
mail: alice@example.test

dn: ou=hidden,${BASE}
objectClass: organizationalUnit
ou: hidden

dn: cn=ghost,ou=hidden,${BASE}
objectClass: person
cn: ghost
sn: Ghost

dn: ou=sealed,${BASE}
objectClass: organizationalUnit
ou: sealed
`;

export interface SlapdOptions {
  /** TLS files (leaf certificate, key, CA); without them no ldaps port and no StartTLS. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

/** Starts one slapd; retries on a port clash. */
export async function startSlapd(opts: SlapdOptions = {}): Promise<SlapdInstance> {
  let tlsPort = 0;
  const server = await startServerProcess(
    'slapd',
    async (dir, port) => {
      const data = join(dir, 'data');
      mkdirSync(data);
      tlsPort = await freePort();
      const pidFile = join(dir, 'slapd.pid');
      const conf = join(dir, 'slapd.conf');
      writeFileSync(
        conf,
        [
          ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
          'modulepath /usr/lib/ldap',
          'moduleload back_mdb',
          `pidfile ${pidFile}`,
          `argsfile ${join(dir, 'slapd.args')}`,
          ...(opts.tls ? [`TLSCACertificateFile ${opts.tls.caFile}`, `TLSCertificateFile ${opts.tls.certFile}`, `TLSCertificateKeyFile ${opts.tls.keyFile}`] : []),
          'database mdb',
          `suffix "${BASE}"`,
          `rootdn "${ROOT_DN}"`,
          `rootpw ${ROOT_PASSWORD}`,
          `directory ${data}`,
          'maxsize 10485760',
          'access to attrs=userPassword by self write by anonymous auth by * none',
          `access to dn.subtree="ou=hidden,${BASE}" by * none`,
          `access to dn.subtree="ou=sealed,${BASE}" by users disclose by * none`,
          `access to dn.subtree="ou=people,${BASE}" by * read`,
          `access to dn.base="${BASE}" by * read`,
          'access to * by users read by * none',
        ].join('\n') + '\n',
      );
      try {
        execFileSync('/usr/sbin/slapadd', ['-f', conf, '-q'], { input: TREE, stdio: ['pipe', 'pipe', 'pipe'] });
        const urls = [`ldap://127.0.0.1:${port}/`, ...(opts.tls ? [`ldaps://127.0.0.1:${tlsPort}/`] : [])].join(' ');
        // Ubuntu confines /usr/sbin/slapd with AppArmor (no access to a temp directory): a copy
        // of the binary elsewhere is not confined
        let slapd = SLAPD;
        if (existsSync('/etc/apparmor.d/usr.sbin.slapd')) copyFileSync(SLAPD, (slapd = join(dir, 'slapd')));
        execFileSync(slapd, ['-f', conf, '-h', urls], { stdio: 'pipe', timeout: 10_000 });
      } catch (err) {
        throw new Error(`${String(err)} ${(err as { stderr?: Buffer }).stderr?.toString() ?? ''}`);
      }
      return {
        pid: pidFromFile(pidFile),
        ready: async () => (await canConnect(port)) && (!opts.tls || (await canConnect(tlsPort))),
        why: () => 'slapd did not start listening',
      };
    },
    { polls: 250, pollMs: 20, graceMs: 3000 },
  );
  return { ...server, tlsPort };
}
