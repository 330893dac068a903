/** The kafka check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { startReplyOnce } from '../helpers/faults.js';
import { kafkaApiVersionsReply, startKafkaFlood, startKafkaHuge, startKafkaServer } from '../helpers/kafka.js';

export default defineTypeTest({
  examples: `
- type: kafka
  brokers: [kafka-1.internal:9093, kafka-2.internal:9093]
  tls: true
  sasl:
    mechanism: SCRAM-SHA-512
    username: reader
    password: reader-secret
  topic: orders
`,
  // no driver: the protocol is spoken by src/net/kafka-wire.ts
  credentials: (t, s) => ({ host: t.host, port: t.port, sasl: { mechanism: 'plain', username: 'producer', password: s.pair('producer', s.secret('kafka'))[1] } }),
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, at, peer, drip, server, add } = k;
    const kafkaServer = await server(() => startKafkaServer({ users: { faultuser: PASSWORD } }), (s) => s.close());
    // SASL PLAIN in every cell: a black hole is met at ApiVersions, before any credential is sent
    const sasl = { sasl: { mechanism: 'plain', username: 'faultuser', password: PASSWORD } };
    const tls = { tls: true, ...caFile, ...sasl };
    add('refused', { host: H, port: refusedPort, ...sasl }, fail('tcp', REFUSED));
    add('blackhole', { ...at(blackHole), ...sasl }, fail('protocol', TIMED_OUT));
    add('closer', { ...at(closer), ...sasl }, fail('protocol', /^(the server closed the connection|connection reset by peer) \(is this a TLS listener\? set tls: true\)$/));
    add('garbage', { ...at(garbage), ...sasl }, fail('protocol', /^the server announced a Kafka response of 16716599 bytes \(more than 1 MiB; is this a Kafka port\?\)$/, { how: 'the first 4 bytes announce a 16 MB response' }));
    add('banner', { ...at(banner), ...sasl }, fail('protocol', /^the server announced a Kafka response of 1397966893 bytes/, { how: '"SSH-" announces a 1.3 GB response' }));
    add('drip', { ...at(await drip(Buffer.from([0, 0, 0x10, 0]), Buffer.from([0]))), ...sasl }, fail('protocol', TIMED_OUT, { how: 'a response size of 4 KiB, then zeros' }));
    add('tlsStall', { ...at(blackHole), ...tls }, fail('tls', TIMED_OUT));
    add('expired', { host: 'localhost', port: tlsExpired.port, ...tls }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: tlsWrongHost.port, ...tls }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 9092, ...sasl }, fail('resolve', NXDOMAIN));
    if (kafkaServer) add('creds', { ...at(kafkaServer), sasl: { mechanism: 'scram-sha-256', username: 'faultuser', password: WRONG } }, fail('auth', /^authentication failed for user "faultuser" \(SASL_AUTHENTICATION_FAILED, 58/, { how: 'SCRAM-SHA-256 with a wrong password' }));
    add('midway', { ...at(await peer(startReplyOnce(kafkaApiVersionsReply()))), ...sasl }, fail('auth', TIMED_OUT, { how: 'ApiVersions answered, then silence' }));
    add('midwayTls', { host: 'localhost', port: tlsQuiet.port, ...tls }, fail('protocol', TIMED_OUT));

    add('flood', { ...at(await peer(startKafkaFlood())), ...sasl }, fail('protocol', /^the server answered with correlation id 0 \(expected 1\): not a Kafka response$/, { how: 'a 1 MiB response that answers nothing, then zeros forever' }));
    add('huge', { ...at(await peer(startKafkaHuge())), ...sasl }, fail('protocol', /^the server announced a Kafka response of 2147483647 bytes/, { how: 'a 2 GiB response size, then zeros forever' }));
    add('inject', { ...at(await peer(startKafkaServer({ users: { faultuser: 'not-this-one' }, failMessage: hostile.INJECT }))), ...sasl }, fail('auth', /^authentication failed for user "faultuser" \(SASL_AUTHENTICATION_FAILED, 58: \\r::error/, { how: 'a SaslAuthenticate error message carrying CR/LF and ::commands' }));
  },
});
