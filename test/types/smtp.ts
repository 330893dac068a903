/** The smtp check's test descriptor (test/types/kit.ts says what each part is for). */
import { defineTypeTest, fail, TIMED_OUT, REFUSED, NXDOMAIN, EXPIRED, WRONG_HOST } from './kit.js';
import * as hostile from '../helpers/hostile.js';
import { startGarbage } from '../helpers/peers.js';
import { startSmtp } from '../helpers/smtp.js';

export default defineTypeTest({
  credentials: (t, s) => ({ host: t.host, port: t.port, username: 'mailer', password: s.pair('mailer', s.secret('smtp'))[1], use_tls: false, from_address: 'a@example.com', to_address: 'b@example.com' }),
  async faults(k) {
    const { H, BAD, PASSWORD, WRONG, refusedPort, blackHole, closer, garbage, banner, tlsExpired, tlsWrongHost, tlsQuiet, caFile, at, peer, drip, server, add } = k;
    const smtpServer = (await server(() => startSmtp({ faultuser: PASSWORD }), (s) => s.stop()))!;
    // plain cells with use_tls: false; implicit TLS with use_tls: true, as these ports are not 465
    const smtp = { username: 'faultuser', password: PASSWORD, use_tls: false };
    const smtps = { username: 'faultuser', password: PASSWORD, use_tls: true, ...caFile };
    add('refused', { host: H, port: refusedPort, ...smtp }, fail('tcp', REFUSED));
    add('blackhole', { ...at(blackHole), ...smtp }, fail('protocol', TIMED_OUT));
    add('closer', { ...at(closer), ...smtp }, fail('protocol', /^the server closed the connection$/));
    add('garbage', { ...at(garbage), ...smtp }, fail('protocol', /^not an SMTP server \(unexpected reply /));
    add('banner', { ...at(banner), ...smtp }, fail('protocol', /^not an SMTP server \(unexpected reply "SSH-2\.0-OpenSSH_9\.6 fault"\)$/));
    add('drip', { ...at(await drip('', '220-drip\r\n')), ...smtp }, fail('protocol', TIMED_OUT, { how: 'a multi-line greeting that never ends' }));
    add('tlsStall', { ...at(blackHole), ...smtps }, fail('tls', TIMED_OUT));
    add('expired', { host: 'localhost', port: tlsExpired.port, ...smtps }, fail('tls', EXPIRED));
    add('wronghost', { host: 'localhost', port: tlsWrongHost.port, ...smtps }, fail('tls', WRONG_HOST));
    add('unresolvable', { host: BAD, port: 25, ...smtp }, fail('resolve', NXDOMAIN));
    add('creds', { host: H, port: smtpServer.port, username: 'faultuser', password: WRONG, use_tls: false }, fail('auth', /^authentication failed for user faultuser \(535 /));
    add('midway', { ...at(await peer(startGarbage(H, '220 fault ESMTP\r\n'))), ...smtp }, fail('protocol', TIMED_OUT, { how: 'the 220 greeting, then silence' }));
    add('midwayTls', { host: 'localhost', port: tlsQuiet.port, ...smtps }, fail('protocol', TIMED_OUT));

    add('flood', { ...at(await peer(hostile.startSmtpEndless())), ...smtp }, fail('protocol', /^the server sent an overlong reply$/, { how: 'a multi-line greeting that never ends, at full speed' }));
    add('inject', { ...at(await peer(hostile.startSmtpInject())), ...smtp }, fail('protocol', /^not an SMTP server \(unexpected reply /, { how: 'a 554 greeting carrying CR and ::commands' }));
  },
});
