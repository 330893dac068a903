/** The udp check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, NXDOMAIN } from './kit.js';

export default defineTypeTest({
  credentials: (t, s) => ({ host: t.host, port: t.mode === 'blackhole' ? s.silentUdpPort : t.port, send: 'ping', expect: 'pong' }),
  async faults(k) {
    const { H, BAD, garbage, udpRefused, udpSilent, udpGarbage, at, add } = k;
    // send ping, expect pong
    const udp = { send: 'ping', expect: 'pong' };
    add('refused', { host: H, port: udpRefused, ...udp }, fail('udp', /refused/));
    add('blackhole', { ...at(udpSilent), ...udp }, fail('udp', TIMED_OUT, { how: 'a bound UDP socket that never answers' }));
    add('garbage', { ...at(udpGarbage), ...udp }, fail('udp', /unexpected reply/, { how: 'answers with random bytes' }));
    add('unresolvable', { host: BAD, port: 53, ...udp }, fail('resolve', NXDOMAIN));
  },
});
