/** The mqtt check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST, CAPPED } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { MQTT_CONNACK_OK, startReplyOnce } from '../helpers/faults.js';

export default defineTypeTest({
  examples: `
- type: mqtt
  host: broker.internal
  port: "1883"
  username: u
  password: p
`,
  driver: { module: 'mqtt', marker: 'mqttjs' },
  credentials: (t, s) => ({ host: t.host, port: t.port, username: 'mq', password: s.pair('mq', s.secret('mqtt'))[1] }),
  credsTest: 'test/mqtt.test.ts (wrong password, unknown user, over TLS)',
  async faults(k) {
    const { H, BAD, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, at, peer, drip, add } = k;
    const mqttTls = { tls: true, ...caFile };
    add('refused', { host: H, port: refusedPort }, fail('tcp', REFUSED));
    add('blackhole', at(blackHole), fail('auth', TIMED_OUT));
    add('closer', at(closer), fail('auth', /^the server closed the connection before CONNACK/));
    add('garbage', at(garbage), fail('auth', TIMED_OUT, { how: 'random bytes that parse as the start of a long packet' }));
    add('banner', at(banner), fail('auth', /^the server did not answer with the MQTT protocol$/));
    add('drip', at(await drip(Buffer.from([0x20, 0x80, 0x80, 0x01]), Buffer.from([0]))), fail('auth', TIMED_OUT, { how: 'a CONNACK announcing 16 KiB, then zeros' }));
    add('tlsStall', { ...at(blackHole), ...mqttTls }, fail('tls', TIMED_OUT));
    add('expired', { host: 'localhost', port: tlsExpired.port, ...mqttTls }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: tlsWrongHost.port, ...mqttTls }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 1883 }, fail('resolve', NXDOMAIN));
    add('midway', at(await peer(startReplyOnce(MQTT_CONNACK_OK))), fail('query', TIMED_OUT, { how: 'CONNACK, then silence' }));
    add('midwayTls', { host: 'localhost', port: tlsQuiet.port, ...mqttTls }, fail('auth', TIMED_OUT));

    add('huge', at(await peer(hostile.startMqttHuge())), fail('auth', CAPPED, { how: 'a CONNACK announcing 256 MiB, then zeros forever' }));
  },
});
