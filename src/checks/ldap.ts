/**
 * ldap: TCP pre-check, TLS (ldaps://, or StartTLS with `starttls`), a simple bind as `bind_dn`
 * (anonymous without it), then with `base_dn` a base-scope search that must return the entry;
 * without it, the root DSE is read (what proves that an anonymous check talks to LDAP).
 * ldapts runs over the very connection the TCP step opened, with no timers of its own.
 */
import * as z from '../core/z.js';
import type { Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { bareHost, hostPort } from '../net/dial.js';
import { nodeTls } from '../net/builtins.js';
import { describeError } from '../net/errors.js';
import { CheckError, defineCheck, type ContainerEnv, type StepName } from '../core/contract.js';
import { bool, host, port, scalarString, text, tlsOptionsShape, url, secret } from '../core/options.js';
import { printable } from '../net/printable.js';
import { withService } from './kit/index.js';

/** What a server may send in all (one base-scope entry, no attribute values, is a few hundred bytes). */

/** Parentheses in a filter are structure only (values escape them as \\28 \\29): they must balance. */
function balanced(filter: string): boolean {
  const f = filter.trim();
  if (!f.startsWith('(') || !f.endsWith(')')) return false;
  let depth = 0;
  for (const ch of f) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

const options = z
  .object({
    url: z.optional(url(['ldap:', 'ldaps:'])),
    host: z.optional(host()),
    port: z.optional(port()),
    starttls: z._default(bool(), false),
    bind_dn: z.optional(text('a DN')),
    password: z.optional(secret(scalarString())),
    base_dn: z.optional(text('a DN')),
    filter: z.optional(text('an LDAP filter such as (objectClass=*)').check(z.refine(balanced, { message: 'expected an LDAP filter in balanced parentheses, such as (objectClass=*)' }))),
    ...tlsOptionsShape(),
  })
  .check(z.refine((o) => o.url !== undefined || o.host !== undefined, { message: 'expected url (ldap:// or ldaps://) or host, got nothing', path: ['url'] }))
  .check(z.refine((o) => o.url === undefined || o.host === undefined, { message: 'expected url or host, got both', path: ['host'] }))
  .check(z.refine((o) => o.url === undefined || /^ldaps?:\/\/[^/?#]*\/?$/i.test(o.url), { message: 'expected ldap://HOST[:PORT] or ldaps://HOST[:PORT] without a path or query (put the DN in base_dn)', path: ['url'] }))
  .check(z.refine((o) => o.port === undefined || o.host !== undefined, { message: 'port goes with host (a url has its own port)', path: ['port'] }))
  .check(z.refine((o) => !(o.starttls && o.url?.startsWith('ldaps:')), { message: 'starttls is for ldap:// (ldaps:// is TLS from the start)', path: ['starttls'] }))
  .check(z.refine((o) => o.password === undefined || o.bind_dn !== undefined, { message: 'password needs a bind_dn', path: ['password'] }))
  // a DN with an empty password is an "unauthenticated bind": servers that allow it treat it as anonymous
  .check(z.refine((o) => o.bind_dn === undefined || (o.password !== undefined && o.password !== ''), { message: 'expected a non-empty password with bind_dn, got nothing', path: ['password'] }))
  .check(z.refine((o) => o.filter === undefined || o.base_dn !== undefined, { message: 'filter needs a base_dn', path: ['filter'] }));
type Options = z.output<typeof options>;

interface Endpoint {
  host: string;
  port: number;
  ldaps: boolean;
}

function endpoint(o: Options): Endpoint {
  if (o.url === undefined) return { host: o.host!, port: o.port ?? 389, ldaps: false };
  const u = new URL(o.url);
  const ldaps = u.protocol === 'ldaps:';
  return { host: bareHost(u.hostname) || 'localhost', port: u.port ? Number(u.port) : ldaps ? 636 : 389, ldaps };
}

/** An LDAP result code, and the server's diagnostic text (cut, printable). */
function resultOf(err: unknown): { code: number; text: string } | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code !== 'number') return undefined;
  const raw = typeof e.message === 'string' ? e.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '') : '';
  return { code: e.code, text: printable(Buffer.from(raw, 'utf8'), 120) };
}

/** Connection-level failures (not an LDAP result). */
function connectionError(err: unknown, step: StepName, o: Options, ep: Endpoint): CheckError {
  if (err instanceof CheckError) return err;
  const m = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : '';
  if (/^Connection closed before message response|^Socket connection not established/.test(m)) {
    return new CheckError(step, !ep.ldaps && !o.starttls ? 'the server closed the connection (is this an ldaps:// port?)' : 'the server closed the connection');
  }
  if (/^Socket error/.test(m)) return new CheckError(step, describeError({ message: m.split('\n')[1] ?? m }));
  if (/Invalid asn1|BER|unexpected|Unable to read|protocol operation|Unknown protocol/i.test(m) || (err as { name?: unknown })?.name === 'MessageParserError') {
    return new CheckError(step, 'the server did not answer with the LDAP protocol');
  }
  return new CheckError(step, describeError(err));
}

const who = (o: Options) => (o.bind_dn !== undefined ? `"${o.bind_dn}"` : 'an anonymous user');

/**
 * The admin bind of the openldap images, from their documented variables: bitnami's LDAP_ROOT
 * (dc=example,dc=org), LDAP_ADMIN_USERNAME (admin) and LDAP_ADMIN_PASSWORD (adminpassword);
 * osixia's LDAP_BASE_DN, else the one LDAP_DOMAIN (example.org) stands for, and
 * LDAP_ADMIN_PASSWORD (admin). The entry searched is the base DN.
 */
function containerOptions(env: ContainerEnv): Record<string, unknown> {
  if (env.has('LDAP_ROOT') || env.has('LDAP_ADMIN_USERNAME') || env.has('LDAP_PORT_NUMBER')) {
    const root = env.get('LDAP_ROOT', 'dc=example,dc=org')!;
    return { bind_dn: `cn=${env.get('LDAP_ADMIN_USERNAME', 'admin')},${root}`, password: env.get('LDAP_ADMIN_PASSWORD', 'adminpassword'), base_dn: root };
  }
  // LDAP_DOMAIN is no secret: its value (or the default of its ${VAR:-...} reference) gives the DN
  const domain = /^(?:\$\{LDAP_DOMAIN:-)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)\}?$/i.exec(env.get('LDAP_DOMAIN', 'example.org')!)?.[1] ?? 'example.org';
  const base = env.has('LDAP_BASE_DN') ? env.get('LDAP_BASE_DN')! : domain.split('.').map((p) => `dc=${p}`).join(',');
  return { bind_dn: `cn=admin,${base}`, password: env.get('LDAP_ADMIN_PASSWORD', 'admin'), base_dn: base };
}

/** The driver, loaded only when a check of this type runs (the runner loads it before the deadlines start). */
const driver = () => import('ldapts');

export const ldap = defineCheck({
  load: driver,
  type: 'ldap',
  summary: 'an LDAP server accepts a bind (or anonymous access) and, with base_dn, returns that entry',
  // `url:` is this type's own option (ldap:// or ldaps://, validated with the rest); declaring the
  // schemes lets a check with only `url: ldaps://...` and no `type` be an ldap check.
  url: { schemes: ['ldap', 'ldaps'], options: (raw) => ({ url: raw }) },
  container: {
    images: ['osixia/openldap', 'bitnami/openldap'],
    port: 389,
    ports: { 'bitnami/openldap': 1389 },
    options: containerOptions,
  },
  options,
  name: (o) => {
    const ep = endpoint(o);
    return `${ep.ldaps ? 'ldaps' : 'ldap'}:${hostPort(ep.host, ep.port)}`;
  },
  target: (o) => hostPort(endpoint(o).host, endpoint(o).port),
  egress: (o) => [{ protocol: 'tcp', host: bareHost(endpoint(o).host), port: endpoint(o).port }],
  insecure: (o) => (endpoint(o).ldaps || o.starttls) && o.disable_tls_verification,
  async run(o, ctx) {
    const ep = endpoint(o);
    const { Client } = await driver();
    // ldaps:// is TLS from the first byte (the kit's); StartTLS is ldapts' (on the kit's connection)
    const spec = { host: ep.host, port: ep.port, tls: (ep.ldaps || o.starttls) && o, tlsMode: ep.ldaps ? ('direct' as const) : ('driver' as const) };
    await withService(ctx, spec, async (service) => {
      let secure: TLSSocket | undefined;
      /** Why the check itself cut the connection (reported at the step that was running). */
      let failure: string | undefined;
      const close = () => {
        secure?.destroy();
        service.stream.destroy();
      };
      // ldapts buffers a message until it is complete, whatever length it announces: the kit's read
      // budget (net/bounded.ts, on every connection) cuts such a server off. Here: the first bytes.
      const counted = new WeakSet<object>();
      const count = function (this: Socket, d: Buffer) {
        // every LDAP message is a BER SEQUENCE (0x30): a stream that starts otherwise is not LDAP
        if (!counted.has(this)) {
          counted.add(this);
          if (d[0] !== 0x30 && !failure) {
            failure = `the server did not answer with the LDAP protocol (it sent ${printable(d.subarray(0, 24), 24)})`;
            return close();
          }
        }
      };
      const guard = async <T>(step: StepName, fn: () => Promise<T>, onError: (err: unknown) => CheckError): Promise<T> =>
        ctx.step(step, async () => {
          try {
            return await fn();
          } catch (err) {
            throw failure !== undefined ? new CheckError(step, failure) : onError(err);
          }
        });
      const given = service.stream;
      const c = new Client({
        // the host and port are not used: the connection is the one opened above
        url: `ldap://${hostPort(ep.host, ep.port)}`,
        // (LDAP is client-first: nothing arrives before ldapts adds its own listener, in the same tick)
        createConnection: (() => given.on('data', count)) as never,
        createSecureConnection: ((opts: ConnectionOptions) => {
          given.off('data', count);
          secure = service.adopt(nodeTls().connect(opts));
          return secure.on('data', count);
        }) as never,
        strictDN: false,
      });

      if (o.starttls) {
        const tlsOptions = service.tlsOptions!;
        await guard('tls', () => c.startTLS(tlsOptions), (err) => {
          const r = resultOf(err);
          if (r) return new CheckError('tls', `the server refused StartTLS: ${r.text || `result code ${r.code}`} (${r.code})`);
          if (secure === undefined || !secure.encrypted) return connectionError(err, 'tls', o, ep);
          return new CheckError('tls', describeError(err));
        });
        service.assertTls(secure!);
      }

      if (o.bind_dn !== undefined) {
        await guard('auth', () => c.bind(o.bind_dn!, o.password!), (err) => {
          const r = resultOf(err);
          if (!r) return connectionError(err, 'auth', o, ep);
          switch (r.code) {
            case 49:
              return new CheckError('auth', `invalid credentials for ${who(o)} (wrong password, or no such DN) (49)`);
            case 13:
              return new CheckError('auth', 'the server requires TLS for a bind (set starttls: true, or use ldaps://) (13)');
            case 8:
              return new CheckError('auth', `the server requires stronger authentication: ${r.text} (8)`);
            case 53:
              return new CheckError('auth', `the server is unwilling to bind ${who(o)}: ${r.text} (53)`);
            case 34:
              return new CheckError('auth', `bind_dn is not a valid DN: ${r.text} (34)`);
            default:
              return new CheckError('auth', `bind failed: ${r.text || `result code ${r.code}`} (${r.code})`);
          }
        });
        ctx.note(`bound as "${o.bind_dn}"`);
      }

      if (o.base_dn !== undefined) {
        const base = o.base_dn;
        const filter = o.filter ?? '(objectClass=*)';
        const found = await guard(
          'query',
          () => c.search(base, { scope: 'base', filter, attributes: ['1.1'], sizeLimit: 1, timeLimit: Math.max(1, Math.ceil(ctx.timeoutMs / 1000)) }),
          (err) => {
            const r = resultOf(err);
            if (!r) {
              const m = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : '';
              if (/^(Invalid attribute name|Invalid expression|Unbalanced parens|Invalid filter)/i.test(m)) return new CheckError('query', `invalid filter ${JSON.stringify(filter.slice(0, 80))}: ${printable(Buffer.from(m, 'utf8'), 80)}`);
              return connectionError(err, 'query', o, ep);
            }
            switch (r.code) {
              case 32:
                return new CheckError('query', `no such object: "${base}" (or hidden from ${who(o)}) (32)`);
              case 50:
                return new CheckError('query', `insufficient access: ${who(o)} may not read "${base}" (50)`);
              case 34:
                return new CheckError('query', `base_dn is not a valid DN: ${r.text} (34)`);
              case 10:
                return new CheckError('query', `the server sent a referral for "${base}" (it holds another part of the tree) (10)`);
              case 13:
                return new CheckError('query', 'the server requires TLS (set starttls: true, or use ldaps://) (13)');
              case 1:
                return new CheckError('query', `the server refused the search: ${r.text || 'operations error'} (1)${o.bind_dn === undefined ? ' (does it require a bind?)' : ''}`);
              default:
                return new CheckError('query', `search failed: ${r.text || `result code ${r.code}`} (${r.code})`);
            }
          },
        );
        if (found.searchEntries.length === 0) {
          throw new CheckError('query', `the search returned no entry: "${base}" does not match ${filter}, or ${who(o)} may not read it`);
        }
        ctx.note(`found "${base}"`);
      } else if (o.bind_dn === undefined) {
        // Anonymous, nothing to search: the root DSE proves an LDAP server answers (its refusal too).
        await guard(
          'protocol',
          () => c.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'], sizeLimit: 1 }).catch((err: unknown) => (resultOf(err) ? undefined : Promise.reject(err))),
          (err) => connectionError(err, 'protocol', o, ep),
        );
        ctx.note('the server answered an anonymous search of the root DSE');
      }
      void c.unbind().catch(() => {});
    });
  },
});
