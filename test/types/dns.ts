/** The dns check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, NXDOMAIN } from './kit.js';

export default defineTypeTest({
  examples: `
- type: dns
  host: example.com
  server: 127.0.0.1:53
  expect: 192.0.2.1
`,
  credentials: (t) => ({ host: 'conn-check.test', server: `${t.host}:${t.port}` }),
  async faults(k) {
    const { H, BAD, garbage, udpRefused, udpSilent, udpGarbage, add } = k;
    // through a given server
    const dnsq = (port: number | string) => ({ host: 'example.test', record_type: 'A', server: `${H}:${port}` });
    add('refused', dnsq(udpRefused), fail('resolve', /^connection refused \(no DNS server at 127\.0\.0\.1:\d+\)$/, { how: 'nothing bound to the server port' }));
    add('blackhole', dnsq(udpSilent.port), fail('resolve', TIMED_OUT, { how: 'a server that never answers' }));
    add('garbage', dnsq(udpGarbage.port), fail('resolve', /^the server sent a malformed answer$/, { how: 'a server answering with random bytes' }));
    add('unresolvable', { host: 'example.test', server: BAD }, fail('resolve', /^DNS server nonexistent\.invalid: dns resolution failed: no such name \(NXDOMAIN\)$/, { how: 'server: nonexistent.invalid' }));
  },
});
