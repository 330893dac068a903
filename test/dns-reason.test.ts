/**
 * "dns resolution failed" says why: after getaddrinfo fails, the name is asked of the DNS
 * servers directly. A real dnsmasq gives NXDOMAIN and "no address"; a UDP peer that answers
 * every query with SERVFAIL and a UDP black hole give the other two. Through a real check, the
 * system resolver's answer for a .invalid name (RFC 6761: never exists).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { explainLookupFailure } from '../src/net/dns-reason.js';
import { runOne } from './helpers/check.js';
import { startDnsmasq, type DnsmasqInstance } from './helpers/dnsmasq.js';

let ns: DnsmasqInstance;
const udp: UdpSocket[] = [];

async function bound(onMessage?: (msg: Buffer, socket: UdpSocket, port: number, address: string) => void): Promise<string> {
  const s = createSocket('udp4');
  udp.push(s);
  if (onMessage) s.on('message', (msg, from) => onMessage(msg, s, from.port, from.address));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return `127.0.0.1:${s.address().port}`;
}

before(async () => {
  ns = await startDnsmasq(['--host-record=web.test,192.0.2.10', '--txt-record=textonly.test,hello'], ['test'], 'web.test');
});
after(async () => {
  await ns?.stop();
  for (const s of udp) s.close();
});

const live = () => new AbortController().signal;

test('a name that does not exist: NXDOMAIN', async () => {
  assert.equal(await explainLookupFailure('nope.test', 'ENOTFOUND', live(), [ns.server]), 'dns resolution failed: no such name (NXDOMAIN)');
});

test('a name without addresses: no A or AAAA record', async () => {
  assert.equal(await explainLookupFailure('textonly.test', 'ENOTFOUND', live(), [ns.server]), 'dns resolution failed: the name has no address (no A or AAAA record)');
});

test('a server that fails: SERVFAIL', async () => {
  // Answers every query with its own header and question, QR+RD+RA set and RCODE 2.
  const server = await bound((msg, s, port, address) => {
    const reply = Buffer.from(msg);
    reply.writeUInt16BE(0x8182, 2);
    s.send(reply, port, address);
  });
  assert.equal(await explainLookupFailure('web.test', 'EAI_AGAIN', live(), [server]), 'dns resolution failed: the DNS server failed (SERVFAIL)');
});

test('a server that never answers: timed out, within the explaining query\'s bound', async () => {
  const hole = await bound();
  const t0 = performance.now();
  assert.equal(await explainLookupFailure('web.test', 'EAI_AGAIN', live(), [hole]), 'dns resolution failed: no answer from the DNS server (timed out)');
  assert.ok(performance.now() - t0 < 6000);
});

test('the check\'s deadline cuts the explaining query short', async () => {
  const hole = await bound();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const t0 = performance.now();
  assert.equal(await explainLookupFailure('web.test', 'EAI_AGAIN', ac.signal, [hole]), 'dns resolution failed: temporary failure');
  assert.ok(performance.now() - t0 < 1500, `took ${Math.round(performance.now() - t0)} ms`);
});

test('a name the server does have (the system resolver failed for its own reasons): getaddrinfo\'s word', async () => {
  assert.equal(await explainLookupFailure('web.test', 'ENOTFOUND', live(), [ns.server]), 'dns resolution failed: name not found');
});

test('through a tcp check and the system resolver: a .invalid name is NXDOMAIN', async () => {
  const r = await runOne({ type: 'tcp', host: 'no-such-host.invalid', port: 80, timeout: 5 });
  assert.equal(r.step, 'resolve');
  assert.equal(r.error, 'dns resolution failed: no such name (NXDOMAIN)');
});
