/** The tcp check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, pass, REFUSED, NXDOMAIN } from './kit.js';

export default defineTypeTest({
  credentials: (t) => ({ host: t.host, port: t.port }),
  async faults(k) {
    const { H, BAD, refusedPort, blackHole, closer, garbage, banner, at, add } = k;
    // only the connect is checked, so anything that accepts passes (by design).
    add('refused', { host: H, port: refusedPort }, fail('tcp', REFUSED));
    add('blackhole', at(blackHole), pass('the TCP connect succeeds: that is all tcp checks'));
    add('closer', at(closer), pass('the TCP connect succeeds: that is all tcp checks'));
    add('garbage', at(garbage), pass('the TCP connect succeeds: that is all tcp checks'));
    add('banner', at(banner), pass('the TCP connect succeeds: that is all tcp checks'));
    add('unresolvable', { host: BAD, port: 80 }, fail('resolve', NXDOMAIN));
  },
});
