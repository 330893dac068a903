/**
 * net/lookup.ts: the system resolver shared by every check of a run. getaddrinfo runs on libuv's
 * thread pool, which file reads, zlib and crypto share: one lookup per name in flight, at most
 * all threads but one busy with lookups, and a lookup nobody waits for any more never started.
 * The resolver is replaced here (mock.method on node:dns/promises) by one that answers when told.
 */
import { afterEach, test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { lookupAll, maxLookups } from '../src/net/lookup.js';
import { runYaml } from './helpers/check.js';

const dnsPromises = process.getBuiltinModule('node:dns/promises');

interface Asked {
  host: string;
  answer(addresses: string[]): void;
  fail(code: string): void;
}

/** Replaces dns.promises.lookup: each call is recorded and answers when the test says. */
function fakeResolver(): { asked: Asked[]; inFlight: () => number; most: () => number } {
  const asked: Asked[] = [];
  let inFlight = 0;
  let most = 0;
  mock.method(dnsPromises, 'lookup', (host: string) => {
    inFlight++;
    most = Math.max(most, inFlight);
    return new Promise((resolve, reject) => {
      asked.push({
        host,
        answer: (addresses) => (inFlight--, resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))),
        fail: (code) => (inFlight--, reject(Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code }))),
      });
    });
  });
  return { asked, inFlight: () => inFlight, most: () => most };
}

const tick = () => new Promise((r) => setImmediate(r));
const never = new AbortController().signal;

afterEach(() => mock.restoreAll());

test('twenty checks of one name share one lookup, and all get its answer or its failure', async () => {
  const dns = fakeResolver();
  const same = Array.from({ length: 20 }, () => lookupAll('db.internal', 0, never));
  const failing = Array.from({ length: 5 }, () => lookupAll('gone.internal', 0, never).catch((e: NodeJS.ErrnoException) => e.code));
  await tick();
  assert.deepEqual(dns.asked.map((a) => a.host), ['db.internal', 'gone.internal']);
  dns.asked[0]!.answer(['10.0.0.5', 'fd00::5']);
  dns.asked[1]!.fail('ENOTFOUND');
  for (const found of await Promise.all(same)) assert.deepEqual(found, [{ address: '10.0.0.5', family: 4 }, { address: 'fd00::5', family: 6 }]);
  assert.deepEqual(await Promise.all(failing), Array(5).fill('ENOTFOUND'));
  // answered: the next check asks again (nothing is cached past the lookup in flight)
  const again = lookupAll('db.internal', 0, never);
  await tick();
  assert.equal(dns.asked.length, 3);
  dns.asked[2]!.answer(['10.0.0.6']);
  assert.deepEqual(await again, [{ address: '10.0.0.6', family: 4 }]);
  // a family of its own is a lookup of its own
  const v4 = lookupAll('db.internal', 4, never);
  const v6 = lookupAll('db.internal', 6, never);
  await tick();
  assert.equal(dns.asked.length, 5);
  for (const a of dns.asked.slice(3)) a.answer(['10.0.0.7']);
  await Promise.all([v4, v6]);
});

test('at most all threads of the pool but one run lookups; the rest wait their turn', async () => {
  assert.equal(maxLookups({}), 3);
  assert.equal(maxLookups({ UV_THREADPOOL_SIZE: '16' }), 15);
  assert.equal(maxLookups({ UV_THREADPOOL_SIZE: '1' }), 1);
  assert.equal(maxLookups({ UV_THREADPOOL_SIZE: 'lots' }), 3);
  const limit = maxLookups();
  const dns = fakeResolver();
  const all = Array.from({ length: 10 }, (_, i) => lookupAll(`host-${i}.internal`, 0, never));
  await tick();
  assert.equal(dns.asked.length, limit);
  // each answer lets one more begin, in the order asked
  for (let answered = 0; answered < 10; answered++) {
    dns.asked[answered]!.answer([`10.0.0.${answered}`]);
    await tick();
    assert.equal(dns.asked.length, Math.min(10, limit + answered + 1));
  }
  assert.equal(dns.most(), limit);
  assert.deepEqual((await Promise.all(all)).map((f) => f[0]!.address), Array.from({ length: 10 }, (_, i) => `10.0.0.${i}`));
});

test("a check's deadline ends its wait at once; a waiting lookup that nobody wants any more is never started", async () => {
  const limit = maxLookups();
  const dns = fakeResolver();
  const stuck = Array.from({ length: limit }, (_, i) => lookupAll(`stuck-${i}.internal`, 0, never));
  await tick();
  const early = new AbortController();
  const late = new AbortController();
  const shared = [lookupAll('shared.internal', 0, early.signal), lookupAll('shared.internal', 0, late.signal)];
  const alone = new AbortController();
  const abandoned = lookupAll('abandoned.internal', 0, alone.signal);
  early.abort(new Error('deadline A'));
  alone.abort(new Error('deadline B'));
  await assert.rejects(shared[0]!, /deadline A/);
  await assert.rejects(abandoned, /deadline B/);
  // the stuck lookups end; shared.internal (one check still waits) starts, abandoned.internal does not
  for (const a of dns.asked.slice(0, limit)) a.fail('EAI_AGAIN');
  await Promise.allSettled(stuck);
  await tick();
  assert.deepEqual(dns.asked.slice(limit).map((a) => a.host), ['shared.internal']);
  dns.asked[limit]!.answer(['10.0.0.9']);
  assert.deepEqual(await shared[1]!, [{ address: '10.0.0.9', family: 4 }]);
  // asked again later, the abandoned name is a new lookup
  const later = lookupAll('abandoned.internal', 0, never);
  await tick();
  assert.equal(dns.asked.at(-1)!.host, 'abandoned.internal');
  dns.asked.at(-1)!.answer(['10.0.0.10']);
  await later;
});

test('through whole checks: forty checks of a name that does not resolve make one lookup and one explanation, and say the same', async (t) => {
  const dns = fakeResolver();
  // the explanation asks the DNS servers directly (net/dns-reason.ts): one Resolver per explanation
  let resolvers = 0;
  class FakeResolver {
    constructor() {
      resolvers++;
    }
    setServers() {}
    cancel() {}
    resolve4 = () => new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' })), 20));
    resolve6 = () => new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error('queryAAAA ENOTFOUND'), { code: 'ENOTFOUND' })), 20));
  }
  const { Resolver } = dnsPromises;
  dnsPromises.Resolver = FakeResolver as unknown as typeof Resolver;
  t.after(() => void (dnsPromises.Resolver = Resolver));
  const run = runYaml(JSON.stringify(Array.from({ length: 40 }, (_, i) => ({ type: 'tcp', name: `c${i}`, host: 'svc.internal', port: 9, timeout: 5 }))));
  while (dns.asked.length === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(dns.asked.length, 1);
  dns.asked[0]!.fail('ENOTFOUND');
  const results = await run;
  assert.equal(dns.asked.length, 1);
  assert.equal(resolvers, 1);
  for (const r of results) {
    assert.equal(r.step, 'resolve', JSON.stringify(r));
    assert.equal(r.error, 'dns resolution failed: no such name (NXDOMAIN)', JSON.stringify(r));
  }
});
