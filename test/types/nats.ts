/** The nats check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { natsInfo } from '../helpers/faults.js';
import { startGarbage } from '../helpers/peers.js';
import { startNats } from '../helpers/nats.js';

export default defineTypeTest({
  examples: `
- type: nats
  host: nats.internal
  port: 4222
  username: u
  password: p
`,
  driver: { module: '@nats-io/transport-node', marker: '_INBOX' },
  credentials: (t, s) => ({ host: t.host, port: t.port, token: s.secret('nats-token') }),
  moreCredentials: (s) => [
    // nats takes a token or a user and password
    { host: '127.0.0.1', port: s.blackHolePort, username: 'nu', password: s.pair('nu', s.secret('nats-password'))[1] },
  ],
  credsTest: 'test/nats.test.ts (wrong password, unknown user, token)',
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, caFile, at, peer, drip, upgrade, server, add } = k;
    const natsTls = { greeting: natsInfo(true) };
    const natsServer = await server(() => startNats({ user: { name: 'faultuser', password: PASSWORD } }), (s) => s.stop());
    const natsTlsOpts = { tls: true, ...caFile };
    add('refused', { host: H, port: refusedPort }, fail('tcp', REFUSED));
    add('blackhole', at(blackHole), fail('protocol', TIMED_OUT));
    add('closer', at(closer), fail('protocol', /^the server closed the connection before its INFO$/));
    add('garbage', at(garbage), fail('protocol', /^the server did not answer with the NATS protocol$/));
    add('banner', at(banner), fail('protocol', /^the server did not answer with the NATS protocol$/));
    add('drip', at(await drip('INFO {', ' ')), fail('protocol', TIMED_OUT, { how: 'an INFO line that never ends' }));
    add('tlsStall', { ...at(await upgrade(natsTls, 'silent')), ...natsTlsOpts }, fail('tls', TIMED_OUT, { how: 'INFO with tls_required, then silence' }));
    add('expired', { host: 'localhost', port: (await upgrade(natsTls, 'expired')).port, ...natsTlsOpts }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: (await upgrade(natsTls, 'wrong')).port, ...natsTlsOpts }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 4222 }, fail('resolve', NXDOMAIN));
    if (natsServer) add('creds', { host: H, port: natsServer.port, username: 'faultuser', password: WRONG }, fail('auth', /^authentication failed for user "faultuser"/));
    add('midway', at(await peer(startGarbage(H, natsInfo(false)))), fail('auth', TIMED_OUT, { how: 'INFO, then silence' }));
    add('midwayTls', { host: 'localhost', port: (await upgrade(natsTls, 'valid')).port, ...natsTlsOpts }, fail('auth', TIMED_OUT));

    add('flood', at(await peer(hostile.startNatsEndless())), fail('protocol', /^the server did not answer with the NATS protocol$/, { how: 'an INFO line that never ends, at full speed' }));
    add('inject', { ...at(await peer(hostile.startNatsInject())), username: 'faultuser', password: PASSWORD }, fail('auth', TIMED_OUT, { how: "-ERR carrying CR and ::commands (the client waits on for its PONG)" }));
  },
});
