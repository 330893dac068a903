/**
 * The service-check kit (src/checks/kit/) on its own: the order of its first steps (TLS
 * material before any connection; several endpoints at once), its teardown (at the end, on
 * failure, on abort), and the error table's rules (codes first, steps, secrets masked in their
 * wire forms, the errors an error wraps).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckError, StopReason, stopKind, type CheckContext, type StepName } from '../src/core/contract.js';
import { errorTable, withService } from '../src/checks/kit/index.js';
import { assertClientsClosed, blackHole } from './helpers/listen.js';

/** A CheckContext like the runner's: steps recorded, notes kept. */
function context(signal = new AbortController().signal): CheckContext & { steps: StepName[]; notes: string[] } {
  const steps: StepName[] = [];
  const notes: string[] = [];
  return {
    signal,
    timeoutMs: 5000,
    extraCa: [],
    env: {},
    steps,
    notes,
    async step(name, fn) {
      steps.push(name);
      return fn();
    },
    note: (d) => void notes.push(d),
  };
}

describe('withService', () => {
  test('reads the TLS material before it connects: an unreadable ca_file fails at tls and opens no connection', async () => {
    const server = await blackHole();
    try {
      const ctx = context();
      await assert.rejects(
        withService(ctx, { host: '127.0.0.1', port: server.port, tls: { ca_file: '/nonexistent/ca.pem' } }, async () => assert.fail('no exchange without TLS material')),
        (err: unknown) => err instanceof CheckError && err.step === 'tls' && /^cannot read ca_file \/nonexistent\/ca\.pem/.test(err.message),
      );
      assert.deepEqual(ctx.steps, ['tls']);
      assert.equal(server.accepted, 0);
    } finally {
      await server.close();
    }
  });

  test('connects (step tcp), notes the address, runs the exchange and closes everything after it, also when it fails', async () => {
    const server = await blackHole();
    try {
      const ctx = context();
      const closed: string[] = [];
      const seen = await withService(ctx, { host: '127.0.0.1', port: server.port }, async (s) => {
        s.onClose(() => closed.push('driver'));
        assert.equal(s.stream, s.socket);
        assert.equal(s.tlsOptions, undefined);
        return s.address.address;
      });
      assert.equal(seen, '127.0.0.1');
      assert.deepEqual(ctx.steps, ['tcp']);
      assert.deepEqual(ctx.notes, ['connected to 127.0.0.1']);
      assert.deepEqual(closed, ['driver']);
      await assertClientsClosed(server.sockets);

      await assert.rejects(
        withService(context(), { host: '127.0.0.1', port: server.port }, async (s) => {
          s.onClose(() => closed.push('again'));
          throw new CheckError('protocol', 'no');
        }),
        /no/,
      );
      assert.deepEqual(closed, ['driver', 'again']);
      await assertClientsClosed(server.sockets);
    } finally {
      await server.close();
    }
  });

  test('tears the connection down as soon as the signal aborts, and stopKind tells a cancelled run from a deadline', async () => {
    const server = await blackHole();
    try {
      const stop = new AbortController();
      const ctx = context(stop.signal);
      let closedAt: number | undefined;
      const running = withService(ctx, { host: '127.0.0.1', port: server.port }, async (s) => {
        s.onClose(() => (closedAt ??= performance.now()));
        await new Promise(() => {}); // a driver that never answers
      });
      running.catch(() => {});
      while (server.sockets.size === 0) await new Promise((r) => setTimeout(r, 10));
      const abortedAt = performance.now();
      stop.abort(new StopReason('cancelled', 'cancelled'));
      assert.equal(stopKind(stop.signal), 'cancelled');
      assert.ok(closedAt !== undefined && closedAt >= abortedAt, 'the driver was closed at the abort');
      await assertClientsClosed(server.sockets);
    } finally {
      await server.close();
    }
  });

  test('endpoints: every endpoint is dialled at once, the first that accepts is used and named; none accepting says each one\'s reason', async () => {
    const server = await blackHole();
    const gone = await blackHole();
    const refused = gone.port;
    await gone.close();
    try {
      const ctx = context();
      const list = [{ host: '127.0.0.1', port: refused }, { host: '127.0.0.1', port: server.port }];
      const port = await withService(ctx, { host: '127.0.0.1', port: refused, endpoints: { list, label: 'bootstrap broker' } }, async (s) => s.socket.remotePort);
      assert.equal(port, server.port);
      assert.deepEqual(ctx.notes, [`connected to 127.0.0.1 (bootstrap broker 127.0.0.1:${server.port})`]);
      await assertClientsClosed(server.sockets);
      const none = [{ host: '127.0.0.1', port: refused }, { host: '127.0.0.1', port: refused }];
      await assert.rejects(
        withService(context(), { host: '127.0.0.1', port: refused, endpoints: { list: none, label: 'broker' } }, async () => assert.fail('nothing accepted')),
        (err: unknown) => err instanceof CheckError && err.step === 'tcp' && err.message === `127.0.0.1:${refused}: connection refused; 127.0.0.1:${refused}: connection refused`,
      );
    } finally {
      await server.close();
    }
  });

  test('stopKind is undefined for a signal the runner did not stop', () => {
    const c = new AbortController();
    assert.equal(stopKind(c.signal), undefined);
    c.abort(new Error('cancelled'));
    assert.equal(stopKind(c.signal), undefined, 'the word alone means nothing');
    const t = new AbortController();
    t.abort(new StopReason('timeout', 'timed out after 1s'));
    assert.equal(stopKind(t.signal), 'timeout');
  });
});

describe('errorTable', () => {
  type C = { user: string; password: string };
  const c: C = { user: 'alice', password: 'Pa ss/wörd-42' };
  const classify = errorTable<C>(
    [
      { code: 18, step: 'auth', say: (_e, o) => `authentication failed for user ${o.user}` },
      { code: 'ECONNRESET', say: 'the server closed the connection' },
      { name: 'TimeoutError', say: 'timed out' },
      { message: /^Handshake terminated by server: (\d+)/, step: 'auth', say: (e) => `refused (${e.match![1]})` },
      { message: /^echo: (.*)/, say: (e) => `the server said ${e.match![1]}` },
    ],
    { secrets: (o) => [o.password] },
  );

  test('a rule with a code matches the code, whatever the message says', () => {
    const err = Object.assign(new Error('Handshake terminated by server: 403'), { code: 18 });
    assert.deepEqual([classify(err, 'protocol', c).step, classify(err, 'protocol', c).message], ['auth', 'authentication failed for user alice']);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    assert.deepEqual([classify(reset, 'query', c).step, classify(reset, 'query', c).message], ['query', 'the server closed the connection']);
  });

  test('names and messages match where the driver gives no code; the first line only', () => {
    const timeout = Object.assign(new Error('whatever'), { name: 'TimeoutError' });
    assert.equal(classify(timeout, 'auth', c).message, 'timed out');
    const refused = classify(new Error('Handshake terminated by server: 530 (NOT-ALLOWED)\nmore'), 'tcp', c);
    assert.deepEqual([refused.step, refused.message], ['auth', 'refused (530)']);
  });

  test('a CheckError passes through; an unknown error gets the shared wording', () => {
    const own = new CheckError('tls', 'mine');
    assert.equal(classify(own, 'auth', c), own);
    const unknown = classify(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'tcp', c);
    assert.deepEqual([unknown.step, unknown.message], ['tcp', 'connection refused']);
  });

  test('the password is masked in the forms a server echoes (plain, URL-encoded, base64)', () => {
    for (const form of [c.password, encodeURIComponent(c.password), Buffer.from(c.password).toString('base64')]) {
      const said = classify(new Error(`echo: login ${form} refused`), 'auth', c).message;
      assert.equal(said, 'the server said login *** refused', form);
    }
    assert.doesNotMatch(classify(new Error(`unexpected ${c.password}`), 'auth', c).message, /wörd/);
  });

  test('causes: the rules also meet the errors an error wraps, rule by rule (the first rule that matches any of them wins)', () => {
    const wrapped = errorTable<C>(
      [
        { code: 'CERT_HAS_EXPIRED', step: 'tls', say: (e) => `tls: ${(e.link as Error).message} in ${(e.err as Error).message}` },
        { code: 'ECONNRESET', say: 'reset' },
      ],
      { causes: true },
    );
    const err = Object.assign(new Error('fetch failed'), { code: 'ECONNRESET', cause: Object.assign(new Error('expired'), { code: 'CERT_HAS_EXPIRED' }) });
    assert.deepEqual([wrapped(err, 'request', c).step, wrapped(err, 'request', c).message], ['tls', 'tls: expired in fetch failed']);
    // without causes no rule reads the wrapped error: the shared wording (which reads the chain) at the running step
    const flat = errorTable<C>([{ code: 'CERT_HAS_EXPIRED', step: 'tls', say: 'expired' }]);
    assert.deepEqual([flat(err, 'request', c).step, flat(err, 'request', c).message], ['request', 'certificate has expired']);
  });
});
