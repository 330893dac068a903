/**
 * kafka against:
 *  - librdkafka's mock cluster (kcat; scripts/setup.sh installs it): the protocol path against
 *    a third-party implementation, three brokers;
 *  - a broker of our own (helpers/kafka.ts) for SASL PLAIN/SCRAM with a real password check,
 *    TLS with the test CA, missing topics, ACL refusals and leaderless partitions;
 *  - hostile peers (refused, black hole, closer, garbage, a 2 GiB response size);
 *  - a real Kafka, when the environment names one (the workflow's service container):
 *      CONN_CHECK_TEST_KAFKA=127.0.0.1:9092          a PLAINTEXT listener
 *      CONN_CHECK_TEST_KAFKA_SASL=127.0.0.1:9094     a SASL_PLAINTEXT listener offering PLAIN and
 *                                                    SCRAM-SHA-256 (not SCRAM-SHA-512)
 *      CONN_CHECK_TEST_KAFKA_USER / _PASSWORD        a user of both mechanisms
 *      CONN_CHECK_TEST_KAFKA_TOPIC                   a topic that exists
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertLeavesNothing, runOne, silentServerCases } from './helpers/check.js';
import { ACTION, CLI, cliTextAndJson, freePort, runAction, spawnNode, tempConfig, watchPeakRss } from './helpers/run.js';
import { tlsMaterial, type TlsMaterial } from './helpers/tls.js';
import { resultAssertions } from './helpers/results.js';
import { startCloser, startGarbage, type TcpPeer } from './helpers/peers.js';
import { KCAT, kcatAvailable, startKafkaFlood, startKafkaHuge, startKafkaServer, startMockCluster, type KafkaServer, type MockCluster } from './helpers/kafka.js';
import { KafkaWireError, Reader, ScramClient, scramAttributes } from '../src/net/kafka-wire.js';
import { typeForImage, typeForScheme } from '../src/checks/registry.js';

const PASSWORD = 'kafka-Secret-7q2w';
const WRONG = 'kafka-Wrong-3e4r';
const USER = 'alice';
const { failed, passed } = resultAssertions([PASSWORD, WRONG]);

let mock: MockCluster;
let sasl: KafkaServer; // SASL, all three mechanisms
let plainOnly: KafkaServer; // SASL, PLAIN only
let open: KafkaServer; // no SASL, topics
let secure: KafkaServer; // TLS + SASL
let impostor: KafkaServer; // SCRAM that accepts any proof
let tls: TlsMaterial;
const peers: TcpPeer[] = [];

const TOPICS = { orders: { partitions: 3 }, broken: { partitions: 4, leaderless: [1, 3] }, wide: { partitions: 26_000 } };

before(async () => {
  if (!kcatAvailable()) throw new Error(`the kafka tests need ${KCAT} (scripts/setup.sh installs kcat, whose librdkafka has the mock cluster)`);
  tls = tlsMaterial();
  const users = { [USER]: PASSWORD };
  [mock, sasl, plainOnly, open, secure, impostor] = await Promise.all([
    startMockCluster(3),
    startKafkaServer({ users, topics: TOPICS, brokers: 3, controllerId: 2 }),
    startKafkaServer({ users, mechanisms: ['PLAIN'] }),
    startKafkaServer({ topics: TOPICS, denied: ['secret-topic'] }),
    startKafkaServer({ users, topics: TOPICS, tls: { cert: tls.valid.cert, key: tls.valid.key } }),
    startKafkaServer({ users, forgeScram: true }),
  ]);
});

after(async () => {
  await Promise.all([mock?.stop(), sasl?.close(), plainOnly?.close(), open?.close(), secure?.close(), impostor?.close(), ...peers.map((p) => p.close())]);
});

const at = (s: { port: number }, host = '127.0.0.1') => ({ type: 'kafka', host, port: s.port });
const login = (mechanism: string, password = PASSWORD, username = USER) => ({ sasl: { mechanism, username, password } });

describe('kafka against librdkafka\'s mock cluster', () => {
  test('brokers: metadata passes, with the broker count, the controller and each broker', async () => {
    const r = await runOne({ type: 'kafka', brokers: mock.brokers });
    passed(r);
    assert.equal(r.name, `kafka:${mock.brokers.join(',')}`);
    assert.equal(r.details?.[0], `connected to 127.0.0.1 (bootstrap broker ${mock.brokers[0]})`);
    assert.match(r.details?.[1] ?? '', /^3 brokers, controller -?\d+, cluster \S+$/);
    assert.equal(r.details?.[2], `brokers: ${mock.brokers.map((b, i) => `${i + 1} at ${b}`).join(', ')}`);
  });

  test('host and port, a kafka:// URL, and a topic (the mock creates any topic asked for)', async () => {
    const [host, port] = mock.brokers[1]!.split(':');
    const r = await runOne({ type: 'kafka', host, port, topic: 'conncheck-mock' });
    passed(r);
    assert.match(r.details?.at(-1) ?? '', /^topic "conncheck-mock": \d+ partitions?, each with a leader$/);
    const u = await runOne({ url: `kafka://${mock.brokers.join(',')}` });
    passed(u);
    assert.equal(u.type, 'kafka');
    assert.match(u.details?.[1] ?? '', /^3 brokers/);
  });

  test('a bootstrap list whose first broker is down passes through the next; none up fails at tcp, naming each', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const r = await runOne({ type: 'kafka', brokers: [down, mock.brokers[2]] });
    passed(r);
    assert.equal(r.details?.[0], `connected to 127.0.0.1 (bootstrap broker ${mock.brokers[2]})`);
    const down2 = `127.0.0.1:${await freePort()}`;
    failed(await runOne({ type: 'kafka', brokers: [down, down2] }), 'tcp', `${down}: connection refused; ${down2}: connection refused`);
    failed(await runOne({ type: 'kafka', brokers: ['nonexistent.invalid:9092', 'also-nonexistent.invalid'] }), 'resolve', /^nonexistent\.invalid:9092: dns resolution failed.*; also-nonexistent\.invalid:9092: dns resolution failed/);
  });

  test('sasl against a listener without SASL fails at auth; tls against a plain listener fails at tls', async () => {
    failed(await runOne({ type: 'kafka', brokers: mock.brokers.slice(0, 1), ...login('plain') }), 'auth', /^the server does not (offer|expect) SASL/);
    failed(await runOne({ type: 'kafka', brokers: mock.brokers.slice(0, 1), tls: true, timeout: 3 }), 'tls', /^connection reset by peer$|closed|did not answer with TLS/);
  });
});

describe('kafka against a broker of our own: SASL, TLS, topics', () => {
  test('SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 with the right password pass', async () => {
    for (const m of ['plain', 'scram-sha-256', 'SCRAM-SHA-512']) {
      const r = await runOne({ ...at(sasl), ...login(m), topic: 'orders' });
      passed(r);
      assert.deepEqual(r.details, [
        'connected to 127.0.0.1',
        `authenticated as "${USER}" (SASL ${m.toUpperCase()})`,
        '3 brokers, controller 2, cluster conncheck-test-cluster',
        `brokers: 1 at localhost:${sasl.port}, 2 at broker-2.test:9092, 3 at broker-3.test:9092`,
        'topic "orders": 3 partitions, each with a leader',
      ]);
    }
    // the client speaks Metadata v8 (the newest without tagged fields) when the broker offers it
    assert.deepEqual([...new Set(sasl.metadataVersions)], [8]);
  });

  test('a wrong password fails at auth with each mechanism; so does an unknown user', async () => {
    failed(await runOne({ ...at(sasl), ...login('plain', WRONG) }), 'auth', `authentication failed for user "${USER}" (SASL_AUTHENTICATION_FAILED, 58: Authentication failed: Invalid username or password)`);
    for (const m of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      failed(await runOne({ ...at(sasl), ...login(m.toLowerCase(), WRONG) }), 'auth', `authentication failed for user "${USER}" (SASL_AUTHENTICATION_FAILED, 58: Authentication failed during authentication due to invalid credentials with SASL mechanism ${m})`);
    }
    failed(await runOne({ ...at(sasl), ...login('scram-sha-256', PASSWORD, 'mallory') }), 'auth', /^authentication failed for user "mallory" \(SASL_AUTHENTICATION_FAILED, 58/);
  });

  test('a mechanism the listener does not offer fails at auth, saying what it offers', async () => {
    failed(await runOne({ ...at(plainOnly), ...login('scram-sha-512') }), 'auth', 'the server does not offer SASL SCRAM-SHA-512 (it offers PLAIN) (UNSUPPORTED_SASL_MECHANISM, 33)');
    passed(await runOne({ ...at(plainOnly), ...login('plain') }));
  });

  test('SCRAM: a server that cannot prove it knows the password fails at auth', async () => {
    failed(await runOne({ ...at(impostor), ...login('scram-sha-256') }), 'auth', 'the server could not prove that it knows the password (wrong SCRAM server signature)');
  });

  test('no sasl against a SASL listener: the broker closes the connection at the metadata request, and the message says why', async () => {
    failed(await runOne(at(sasl)), 'query', 'the server closed the connection (does this listener require SASL? set sasl)');
  });

  test('sasl against a listener without SASL: ILLEGAL_SASL_STATE', async () => {
    failed(await runOne({ ...at(open), ...login('plain') }), 'auth', 'the server does not expect SASL here: is this listener without SASL? remove sasl (ILLEGAL_SASL_STATE, 34)');
  });

  test('topics: missing, not authorized, leaderless partitions fail at query; an existing one passes', async () => {
    failed(await runOne({ ...at(open), topic: 'missing' }), 'query', 'topic "missing" does not exist (UNKNOWN_TOPIC_OR_PARTITION, 3)');
    failed(await runOne({ ...at(open), topic: 'secret-topic' }), 'query', 'not authorized to describe topic "secret-topic" (TOPIC_AUTHORIZATION_FAILED, 29)');
    failed(await runOne({ ...at(open), topic: 'broken' }), 'query', 'topic "broken": 2 of 4 partitions have no leader (partition 1, 3)');
    const r = await runOne({ ...at(open), topic: 'orders' });
    passed(r);
    assert.equal(r.details?.[1], '1 broker, controller 1, cluster conncheck-test-cluster');
  });

  test('TLS with the CA passes (the certificate noted); untrusted fails at tls; verification off passes, marked', async () => {
    const base = { ...at(secure, 'localhost'), tls: true, ...login('scram-sha-512'), topic: 'orders' };
    const r = await runOne({ ...base, ca_file: tls.caFile });
    passed(r);
    assert.match(r.details?.[1] ?? '', /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in \d+ days$/);
    assert.equal(r.details?.[2], `authenticated as "${USER}" (SASL SCRAM-SHA-512)`);
    failed(await runOne(base), 'tls', /^self-signed certificate in the chain|^certificate not trusted/);
    const insecure = await runOne({ ...base, disable_tls_verification: true });
    passed(insecure);
    assert.equal(insecure.tls_verification, 'disabled');
    failed(await runOne({ ...base, ca_file: tls.caFile, ...login('plain', WRONG) }), 'auth', /^authentication failed for user "alice"/);
    failed(await runOne({ ...base, ca_file: tls.caFile, min_cert_days: 60 }), 'cert', /^certificate expires in \d+ days \(minimum 60\)$/);
  });

  test('a metadata response of almost 1 MiB (26000 partitions) over TLS: read whole, within the budget', async () => {
    const r = await runOne({ ...at(secure, 'localhost'), tls: true, ca_file: tls.caFile, ...login('plain'), topic: 'wide', timeout: 20 });
    passed(r);
    assert.equal(r.details?.at(-1), 'topic "wide": 26000 partitions, each with a leader');
  });

  test('plain text against a TLS listener: the server closes, and the message asks about tls', async () => {
    failed(await runOne({ ...at(secure), ...login('plain'), timeout: 3 }), 'protocol', 'the server closed the connection (is this a TLS listener? set tls: true)');
  });
});

describe('kafka against misbehaving peers', () => {
  const peer = async (p: Promise<TcpPeer>) => {
    const started = await p;
    peers.push(started);
    return started;
  };

  test('refused fails at tcp; a closer, garbage and a 2 GiB response size fail at protocol, at once', async () => {
    failed(await runOne({ type: 'kafka', host: '127.0.0.1', port: await freePort() }), 'tcp', 'connection refused');
    failed(await runOne({ ...at(await peer(startCloser())), timeout: 3 }), 'protocol', /^(the server closed the connection|connection reset by peer) \(is this a TLS listener\? set tls: true\)$/);
    failed(await runOne({ ...at(await peer(startGarbage())), timeout: 3 }), 'protocol', /^the server announced a Kafka response of 16716599 bytes \(more than 1 MiB; is this a Kafka port\?\)$/);
    failed(await runOne({ ...at(await peer(startGarbage('127.0.0.1', 'SSH-2.0-OpenSSH_9.6\r\n'))), timeout: 3 }), 'protocol', /^the server announced a Kafka response of 1397966893 bytes/);
    const t0 = performance.now();
    failed(await runOne({ ...at(await peer(startKafkaHuge())), timeout: 10 }), 'protocol', 'the server announced a Kafka response of 2147483647 bytes (more than 1 MiB; is this a Kafka port?)');
    assert.ok(performance.now() - t0 < 3000, 'the huge size is refused at once, not at the deadline');
    failed(await runOne({ ...at(await peer(startKafkaFlood())), timeout: 10 }), 'protocol', 'the server answered with correlation id 0 (expected 1): not a Kafka response');
    // with several bootstrap brokers too (each connection under the check's own signal and budget)
    const down = `127.0.0.1:${await freePort()}`;
    const flood = await peer(startKafkaFlood());
    failed(await runOne({ type: 'kafka', brokers: [down, `127.0.0.1:${flood.port}`], timeout: 10 }), 'protocol', 'the server answered with correlation id 0 (expected 1): not a Kafka response');
  });

  test('a black hole times out at protocol (and at tls with tls: true), within the timeout, its connection closed', async () => {
    await silentServerCases((port, extra) => ({ type: 'kafka', host: '127.0.0.1', port, ...login('plain'), ...extra }), [
      [{}, 'protocol'],
      [{ tls: true }, 'tls'],
    ]);
  });

  test('a server sending its 2 GiB response forever: bounded memory in the CLI bundle', { skip: !existsSync(join(CLI, '../../dist/cli/index.js')) && 'dist/ not built (npm run build)' }, async () => {
    const huge = await peer(startKafkaHuge());
    const config = tempConfig(JSON.stringify([{ ...at(huge), name: 'huge', timeout: 5 }]));
    let rss: { stop(): number } | undefined;
    const ran = await spawnNode([CLI, config], { onSpawn: (pid) => (rss = watchPeakRss(pid)) });
    const peak = rss!.stop();
    assert.equal(ran.code, 2, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /^huge FAILED - protocol: the server announced a Kafka response of 2147483647 bytes/m);
    assert.ok(peak < 200, `peak RSS ${Math.round(peak)} MiB`);
  });
});

describe('kafka: SCRAM against RFC 7677\'s test vector', () => {
  test('SCRAM-SHA-256: the client proof and the server signature of the RFC', async () => {
    // RFC 7677 section 3: user "user", password "pencil", client nonce rOprNGfwEbeRWgbNEkqO
    const c = new ScramClient('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(c.first().toString(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = await c.final(Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    assert.equal(final.toString(), 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    c.verify(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
    assert.throws(() => c.verify(Buffer.from('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')), /could not prove/);
  });

  test('a server asking for a million iterations, or a nonce that is not ours, is refused', async () => {
    const c = new ScramClient('sha512', 'u', 'p', 'abc');
    await assert.rejects(c.final(Buffer.from('r=abcdef,s=AAAA,i=1000000')), /asked for 1000000 SCRAM iterations/);
    await assert.rejects(c.final(Buffer.from('r=xyz123,s=AAAA,i=4096')), /nonce that does not extend ours/);
    assert.equal(scramAttributes('r=a=b,s=c').get('r'), 'a=b');
  });
});

describe('kafka: config', () => {
  test('compose images and the kafka:// scheme pick the type', async () => {
    for (const image of ['apache/kafka', 'apache/kafka-native', 'bitnami/kafka', 'confluentinc/cp-kafka']) assert.equal((await typeForImage(image))?.type, 'kafka', image);
    assert.equal((await typeForScheme('kafka'))?.type, 'kafka');
  });

  test('config errors say what is expected', async () => {
    const bad = async (o: Record<string, unknown>, re: RegExp) => assert.rejects(runOne({ type: 'kafka', ...o }), re);
    await bad({}, /brokers: missing \(expected brokers \(a list of host:port\) or host\)/);
    await bad({ brokers: ['a:1'], host: 'b' }, /host: expected brokers or host, got both/);
    await bad({ brokers: ['a:1'], port: 9092 }, /port: port goes with host/);
    await bad({ brokers: ['a:1', 'b:99999'] }, /brokers: expected host:port entries, got "b:99999"/);
    await bad({ host: 'a', sasl: { mechanism: 'gssapi', username: 'u', password: 'pppp' } }, /sasl\.mechanism: expected one of plain, scram-sha-256, scram-sha-512/);
    await bad({ host: 'a', sasl: { mechanism: 'plain', username: 'u' } }, /sasl\.password/);
    await bad({ host: 'a', sasl: { mechanism: 'plain', username: 'u', password: 'pppp', user: 'x' } }, /sasl: unknown key "user"/);
    await bad({ host: 'a', topic: 'a/b' }, /topic: expected a Kafka topic name/);
    await bad({ url: 'kafka://u:p@a:9092' }, /url: the URL has credentials: put them in sasl/);
    await bad({ url: 'kafka://a:9092/path' }, /url: the URL expected kafka:\/\/host:port/);
  });
});

test('kafka: no timer or socket is left in this process after passing and failing checks', async () => {
  await assertLeavesNothing([
    { type: 'kafka', brokers: mock.brokers, topic: 'conncheck-mock' },
    { ...at(sasl), ...login('scram-sha-256', WRONG) },
    { ...at(secure, 'localhost'), tls: true, ca_file: tls.caFile, ...login('plain'), topic: 'missing' },
    { type: 'kafka', brokers: [`127.0.0.1:${await freePort()}`, mock.brokers[0]] },
  ]);
});

describe('kafka through the CLI bundle', { skip: !existsSync(join(CLI, '../../dist/cli/index.js')) && 'dist/ not built (npm run build)' }, () => {
  test('passing and failing checks: the right lines, no password in any output', async () => {
    const { text } = await cliTextAndJson(
      [
        { type: 'kafka', name: 'kafka-mock', brokers: mock.brokers },
        { ...at(sasl), name: 'kafka-scram', ...login('scram-sha-256'), topic: 'orders' },
        { ...at(secure, 'localhost'), name: 'kafka-tls', tls: true, ca_file: tls.caFile, ...login('plain') },
        { ...at(sasl), name: 'kafka-wrong', ...login('scram-sha-512', WRONG) },
        { ...at(open), name: 'kafka-missing', topic: 'missing' },
      ],
      [PASSWORD, WRONG],
    );
    assert.match(text.stdout, /^kafka-mock OK .*3 brokers/m);
    assert.match(text.stdout, /^kafka-scram OK .*authenticated as "alice" \(SASL SCRAM-SHA-256\)/m);
    assert.match(text.stdout, /^kafka-tls OK .*TLSv1\.[23], cert CN=localhost/m);
    assert.match(text.stdout, /^kafka-wrong FAILED - auth: authentication failed for user "alice" \(SASL_AUTHENTICATION_FAILED, 58/m);
    assert.match(text.stdout, /^kafka-missing FAILED - query: topic "missing" does not exist \(UNKNOWN_TOPIC_OR_PARTITION, 3\)/m);
  });
});

describe('kafka through the action bundle', { skip: !existsSync(ACTION) && 'dist/ not built (npm run build)' }, () => {
  test('outputs, summary and masking: a pass against the mock cluster, a wrong SCRAM password, a missing topic', async () => {
    const checks = JSON.stringify([
      { type: 'kafka', name: 'mock', brokers: mock.brokers },
      { ...at(sasl), name: 'wrong', ...login('scram-sha-256', WRONG) },
      { ...at(open), name: 'missing', topic: 'missing' },
    ]);
    const r = await runAction({ checks });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual([r.outputs.passed, r.outputs.failed, r.outputs['failed-checks']], ['1', '2', 'wrong\nmissing']);
    const results = JSON.parse(r.outputs.results!) as { name: string; step: string | null }[];
    assert.deepEqual(results.map((x) => [x.name, x.step]).sort(), [['missing', 'query'], ['mock', null], ['wrong', 'auth']]);
    assert.ok(r.stdout.split('\n').includes(`::add-mask::${WRONG}`), 'the password is masked for the runner');
    const shown = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
    for (const text of [shown, r.stderr, r.summary, JSON.stringify(r.outputs)]) assert.ok(!text.includes(WRONG) && !text.includes(PASSWORD));
    assert.match(r.summary, /authentication failed for user &quot;alice&quot;|authentication failed for user "alice"/);
  });
});

describe('kafka: the wire reader refuses what does not add up', () => {
  test('a count larger than the bytes left, a string past the end', () => {
    const lying = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0]);
    assert.throws(() => new Reader(lying).array((r) => r.int32()), (e: unknown) => e instanceof KafkaWireError && /2147483647 elements in 2 bytes/.test(e.message));
    assert.throws(() => new Reader(Buffer.from([0, 9, 0x41])).string('host'), (e: unknown) => e instanceof KafkaWireError && e.message === 'the server sent a truncated Kafka response (host)');
    assert.deepEqual(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff])).array((r) => r.int32()), []);
  });
});

// ---- a real Kafka (the workflow's service container) ---------------------------------------
const env = process.env;
const REAL = env.CONN_CHECK_TEST_KAFKA?.trim();
const REAL_SASL = env.CONN_CHECK_TEST_KAFKA_SASL?.trim();
const REAL_USER = env.CONN_CHECK_TEST_KAFKA_USER ?? '';
const REAL_PASSWORD = env.CONN_CHECK_TEST_KAFKA_PASSWORD ?? '';
const REAL_TOPIC = env.CONN_CHECK_TEST_KAFKA_TOPIC ?? '';

describe('kafka against a real Kafka (CONN_CHECK_TEST_KAFKA*)', { skip: !REAL && 'no CONN_CHECK_TEST_KAFKA (the workflow sets it; a broker of our own stands in above)' }, () => {
  const real = resultAssertions([REAL_PASSWORD, WRONG]);
  const on = (b: string | undefined) => ({ type: 'kafka', brokers: [b!], timeout: 15 });

  test('the PLAINTEXT listener: metadata, and the topic that exists', async () => {
    const r = await runOne({ ...on(REAL), topic: REAL_TOPIC });
    real.passed(r);
    assert.match(r.details?.[1] ?? '', /^1 broker, controller \d+, cluster \S+$/);
    assert.match(r.details?.at(-1) ?? '', new RegExp(`^topic "${REAL_TOPIC}": 3 partitions, each with a leader$`));
  });

  test('a missing topic fails at query, and is not created by asking (asked twice)', async () => {
    const topic = `conncheck-missing-${process.pid}`;
    for (let i = 0; i < 2; i++) real.failed(await runOne({ ...on(REAL), topic }), 'query', `topic "${topic}" does not exist (UNKNOWN_TOPIC_OR_PARTITION, 3)`);
  });

  test('SASL PLAIN and SCRAM-SHA-256 pass; a wrong password fails at auth with each', { skip: !REAL_SASL && 'no CONN_CHECK_TEST_KAFKA_SASL' }, async () => {
    for (const m of ['plain', 'scram-sha-256']) {
      const r = await runOne({ ...on(REAL_SASL), ...login(m, REAL_PASSWORD, REAL_USER), topic: REAL_TOPIC });
      real.passed(r);
      assert.equal(r.details?.[1], `authenticated as "${REAL_USER}" (SASL ${m.toUpperCase()})`);
      real.failed(await runOne({ ...on(REAL_SASL), ...login(m, WRONG, REAL_USER) }), 'auth', new RegExp(`^authentication failed for user "${REAL_USER}" \\(SASL_AUTHENTICATION_FAILED, 58`));
    }
  });

  test('SCRAM-SHA-512 (not enabled) fails at auth saying what is offered; no sasl on the SASL listener fails at query', { skip: !REAL_SASL && 'no CONN_CHECK_TEST_KAFKA_SASL' }, async () => {
    real.failed(await runOne({ ...on(REAL_SASL), ...login('scram-sha-512', REAL_PASSWORD, REAL_USER) }), 'auth', /^the server does not offer SASL SCRAM-SHA-512 \(it offers (PLAIN, SCRAM-SHA-256|SCRAM-SHA-256, PLAIN)\) \(UNSUPPORTED_SASL_MECHANISM, 33\)$/);
    real.failed(await runOne(on(REAL_SASL)), 'query', /^(the server closed the connection|connection reset by peer) \(does this listener require SASL\? set sasl\)$/);
  });

  test('sasl on the PLAINTEXT listener fails at auth', async () => {
    real.failed(await runOne({ ...on(REAL), ...login('plain', REAL_PASSWORD, REAL_USER) }), 'auth', /ILLEGAL_SASL_STATE|does not (offer|expect) SASL/);
  });
});
