/**
 * Real SMTP servers (the `smtp-server` package) in-process on free loopback ports, with a
 * real password check (AUTH PLAIN and LOGIN), STARTTLS or implicit TLS with the test CA's
 * certificate, optionally refusing EHLO, and recording every message they accept.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { tlsMaterial } from './tls.js';
import { started } from './listen.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  data: string;
  secure: boolean;
}

export interface SmtpTestServer {
  port: number;
  messages: ReceivedMail[];
  /** Every AUTH attempt: user name and whether it passed. */
  logins: { user: string; ok: boolean }[];
  stop(): Promise<void>;
}

export interface SmtpServerMode {
  /** Implicit TLS (TLS from the first byte, like port 465). */
  secure?: boolean;
  /** Offer STARTTLS on the plain port (and then refuse AUTH before it). Default: false. */
  starttls?: boolean;
  /** Answer EHLO with 500 (a HELO-only server). */
  refuseEhlo?: boolean;
  /** AUTH mechanisms offered. Default: PLAIN and LOGIN. */
  authMethods?: string[];
  /** Where to listen (default: a free port on 127.0.0.1), e.g. 127.0.0.2:465. */
  listen?: { host: string; port: number };
}

export async function startSmtp(users: Record<string, string>, mode: SmtpServerMode = {}): Promise<SmtpTestServer> {
  const { valid } = tlsMaterial();
  const messages: ReceivedMail[] = [];
  const logins: { user: string; ok: boolean }[] = [];
  const disabled: string[] = [];
  if (!mode.starttls) disabled.push('STARTTLS');
  if (mode.refuseEhlo) disabled.push('EHLO');
  const options: SMTPServerOptions = {
    secure: !!mode.secure,
    key: valid.key,
    cert: valid.cert,
    name: 'smtp.test',
    banner: 'conn-check test server',
    authMethods: mode.authMethods ?? ['PLAIN', 'LOGIN'],
    disabledCommands: disabled,
    // a plain-port server without STARTTLS still takes AUTH (as many relays inside a network do);
    // one that offers STARTTLS refuses AUTH before it
    allowInsecureAuth: !mode.starttls,
    logger: false,
    onAuth(auth, _session, callback) {
      const ok = auth.username !== undefined && users[auth.username] !== undefined && users[auth.username] === auth.password;
      logins.push({ user: auth.username ?? '', ok });
      if (!ok) return callback(new Error('Invalid username or password'));
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          data: Buffer.concat(chunks).toString('utf8'),
          secure: !!session.secure,
        });
        callback(null);
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => {});
  await started(server.server, (done) => server.listen(mode.listen?.port ?? 0, mode.listen?.host ?? '127.0.0.1', done));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    messages,
    logins,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
