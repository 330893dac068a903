import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { resultAssertions } from './helpers/results.js';
import { runOne, settledHandles } from './helpers/check.js';
import { freePort } from './helpers/run.js';
import { startDnsmasq, type DnsmasqInstance } from './helpers/dnsmasq.js';

let ns: DnsmasqInstance;

before(async () => {
  ns = await startDnsmasq(
    [
      '--host-record=web.test,192.0.2.10',
      '--host-record=web.test,2001:db8::10',
      '--host-record=multi.test,192.0.2.1',
      '--host-record=multi.test,192.0.2.2',
      '--cname=alias.test,web.test',
      '--mx-host=mx.test,mail.test,10',
      '--mx-host=mx.test,mail2.test,20',
      '--txt-record=txt.test,v=spf1 -all',
      '--txt-record=txt.test,hello world',
      '--srv-host=_http._tcp.test,web.test,8080,0,5',
    ],
    ['test'],
    'web.test',
  );
});

after(async () => {
  await ns?.stop();
});

const { failed, passed } = resultAssertions();

const q = (host: string, extra: Record<string, unknown> = {}) => ({ type: 'dns', host, server: ns.server, ...extra });

describe('dns against a real dnsmasq', () => {
  test('A with expect passes; name, target and details say what was asked and answered', async () => {
    const r = await runOne(q('web.test', { expect: '192.0.2.10' }));
    passed(r);
    assert.equal(r.name, `dns:web.test:A@${ns.server}`);
    assert.equal(r.target, ns.server);
    assert.deepEqual(r.details, [`asked ${ns.server}`, 'answers: 192.0.2.10']);
  });

  test('A without expect passes; several expected answers must all be there (record_type in any case)', async () => {
    passed(await runOne(q('multi.test')));
    const r = await runOne(q('multi.test', { record_type: 'a', expect: ['192.0.2.2', '192.0.2.1'] }));
    passed(r);
    assert.equal(r.details?.[1], 'answers: 192.0.2.1, 192.0.2.2');
  });

  test('an expected answer that is missing fails at expect, naming it and the answers', async () => {
    failed(await runOne(q('multi.test', { expect: ['192.0.2.1', '192.0.2.99'] })), 'expect', 'expected 192.0.2.99 among the answers, got 192.0.2.1, 192.0.2.2');
  });

  test('AAAA compares addresses, not spellings', async () => {
    passed(await runOne(q('web.test', { record_type: 'AAAA', expect: '2001:DB8:0:0::10' })));
    failed(await runOne(q('web.test', { record_type: 'AAAA', expect: '2001:db8::11' })), 'expect', 'expected 2001:db8::11 among the answers, got 2001:db8::10');
  });

  test('CNAME: names compare without case and the root dot', async () => {
    passed(await runOne(q('alias.test', { record_type: 'CNAME', expect: 'WEB.test.' })));
  });

  test('MX: expect compares the exchange; details list preference and exchange', async () => {
    const r = await runOne(q('mx.test', { record_type: 'MX', expect: 'mail2.test' }));
    passed(r);
    assert.equal(r.details?.[1], 'answers: 10 mail.test, 20 mail2.test');
    failed(await runOne(q('mx.test', { record_type: 'MX', expect: 'mx.other' })), 'expect', 'expected mx.other among the answers, got mail.test, mail2.test');
  });

  test('TXT: expect compares whole records; a comma inside an expected value does not split it', async () => {
    passed(await runOne(q('txt.test', { record_type: 'TXT', expect: 'v=spf1 -all' })));
    failed(
      await runOne(q('txt.test', { record_type: 'TXT', expect: 'v=spf1 a,mx -all' })),
      'expect',
      'expected "v=spf1 a,mx -all" among the answers, got "hello world", "v=spf1 -all"',
    );
  });

  test('SRV: expect is target:port', async () => {
    const r = await runOne(q('_http._tcp.test', { record_type: 'SRV', expect: 'web.test:8080' }));
    passed(r);
    assert.equal(r.details?.[1], 'answers: web.test:8080 (priority 0, weight 5)');
    failed(await runOne(q('_http._tcp.test', { record_type: 'SRV', expect: 'web.test:80' })), 'expect', 'expected web.test:80 among the answers, got web.test:8080');
  });

  test('NXDOMAIN: "name not found (NXDOMAIN)" at resolve', async () => {
    failed(await runOne(q('nope.test')), 'resolve', 'name not found (NXDOMAIN)');
  });

  test('a name without records of the type: "no TYPE records"', async () => {
    failed(await runOne(q('web.test', { record_type: 'TXT' })), 'resolve', 'no TXT records');
    failed(await runOne(q('multi.test', { record_type: 'AAAA' })), 'resolve', 'no AAAA records');
    failed(await runOne(q('test', { record_type: 'NS' })), 'resolve', 'no NS records');
  });

  test('a server that refuses the query (no upstream for this name): REFUSED', async () => {
    failed(await runOne(q('example.com')), 'resolve', 'the server refused the query (REFUSED)');
  });

  test('server given by name and port', async () => {
    const r = await runOne(q('web.test', { server: `localhost:${ns.port}`, expect: '192.0.2.10' }));
    passed(r);
    assert.equal(r.name, `dns:web.test:A@localhost:${ns.port}`);
    assert.equal(r.details?.[0], `asked 127.0.0.1:${ns.port}`);
  });

  test('no DNS server on the port: connection refused at resolve', async () => {
    const port = await freePort();
    failed(await runOne(q('web.test', { server: `127.0.0.1:${port}` })), 'resolve', `connection refused (no DNS server at 127.0.0.1:${port})`);
  });

  test('a UDP black hole (bound, never answers) times out at resolve within timeout + margin', async () => {
    const hole: UdpSocket = createSocket('udp4');
    let received = 0;
    hole.on('message', () => received++);
    await new Promise<void>((resolve) => hole.bind(0, '127.0.0.1', resolve));
    try {
      const t0 = performance.now();
      const r = await runOne(q('web.test', { server: `127.0.0.1:${hole.address().port}`, timeout: 1 }));
      const ms = performance.now() - t0;
      failed(r, 'resolve', 'timed out after 1s');
      assert.ok(ms < 3000, `took ${ms} ms`);
      assert.ok(received >= 1, 'the query never reached the black hole');
    } finally {
      await new Promise<void>((resolve) => hole.close(resolve));
    }
    assert.deepEqual(await settledHandles(), [], 'the cancelled query left something behind');
  });

  test('without server: A/AAAA through the system resolver (getaddrinfo, /etc/hosts)', async () => {
    const r = await runOne({ type: 'dns', host: 'localhost', expect: '127.0.0.1' });
    passed(r);
    assert.equal(r.name, 'dns:localhost:A');
    assert.equal(r.target, 'system resolver');
    assert.equal(r.details?.[0], 'asked the system resolver (getaddrinfo)');
    assert.match(r.details?.[1] ?? '', /^answers: .*127\.0\.0\.1/);
  });

  test('name is the display name, host what is resolved', async () => {
    const r = await runOne(q('web.test', { name: 'web in the test zone', expect: '192.0.2.10' }));
    passed(r);
    assert.equal(r.name, 'web in the test zone');
  });

  test('invalid options are config errors', async () => {
    await assert.rejects(runOne({ type: 'dns' }), /host: missing \(expected a host name\)/);
    await assert.rejects(runOne({ type: 'dns', host: 'web.test', record_type: 'PTR' }), /record_type.*expected one of A, AAAA, CNAME, MX, TXT, SRV, NS, got "PTR"/s);
    await assert.rejects(runOne({ type: 'dns', host: 'web.test', server: '127.0.0.1:99999' }), /server.*expected a DNS server as host or host:port, got "127\.0\.0\.1:99999"/s);
    await assert.rejects(runOne({ type: 'dns', host: 'web.test', expect: [] }), /expect.*expected a string or a list of strings, got an empty list/s);
  });

  test('nothing of the checks keeps the process alive', async () => {
    passed(await runOne(q('web.test')));
    failed(await runOne(q('nope.test')), 'resolve', 'name not found (NXDOMAIN)');
    assert.deepEqual(await settledHandles(), []);
  });
});
