/**
 * smtp (in conn-check's code, not its README): TCP, implicit TLS (use_tls) or a STARTTLS upgrade
 * (starttls), the greeting and EHLO (HELO with helo_fallback), AUTH as the
 * user, and, only when both from_address and to_address are set, a real e-mail sent.
 *
 * The SMTP dialogue is spoken over our own socket (a small client below) rather than through
 * nodemailer's SMTPConnection: nodemailer falls back to HELO on its own, upgrades to STARTTLS
 * whenever offered and wraps TLS errors into text, which would blur the steps this check
 * reports. Our socket is the address that passed the tcp step, TLS uses the shared helpers, and
 * every read obeys the check's signal.
 *
 * use_tls unset: implicit TLS on 465 (SMTPS), a plain connection on any other port (with
 * starttls: true, upgraded), noted in the result. conn-check defaulted use_tls to true and then
 * logged in with implicit TLS, so the files that worked with it point at 465; an explicit
 * use_tls: true means implicit TLS on any port.
 */
import * as z from '../core/z.js';
import { nodeCrypto, nodeOs } from '../net/builtins.js';
import { CheckError, defineCheck, type StepName } from '../core/contract.js';
import { bool, host, port, scalarString, secret, text, tlsOptionsShape } from '../core/options.js';
import { pairBlobs, Redactor } from '../secrets/index.js';
import { defined, flag, hostAndLogin, parseGeneric } from './url.js';
import type { Socket } from 'node:net';
import { MessageReader, serviceCheck, withService } from './kit/index.js';

const noLineBreaks = (what: string) => text(what).check(z.refine((v) => !/[\r\n]/.test(v), { message: `expected ${what} without line breaks` }));
const address = () => noLineBreaks('an e-mail address').check(z.refine((v) => !/[<>\s]/.test(v), { message: 'expected a bare e-mail address (no <>, no spaces)' }));

const options = z
  .object({
    host: host(),
    port: port(),
    username: text('a non-empty user name'),
    password: secret(scalarString('a password')),
    from_address: z.optional(address()),
    to_address: z.optional(address()),
    subject: z._default(scalarString('a subject'), 'conn-check test'),
    message: z._default(scalarString('a message'), 'conn-check test message'),
    helo_fallback: z._default(bool(), false),
    use_tls: z.optional(bool()),
    starttls: z._default(bool(), false),
    ...tlsOptionsShape(),
  })
  .check(z.refine((o) => !(o.use_tls && o.starttls), {
    message: 'expected use_tls: false with starttls: true (use_tls is TLS from the first byte, starttls upgrades a plain connection)',
    path: ['starttls'],
  }));
type Options = z.output<typeof options>;

interface Reply {
  code: number;
  lines: string[];
}

/** Bytes as they may appear in a message: printable ASCII kept, the rest escaped, cut short. */
function showBytes(s: string): string {
  const cut = s.length > 60 ? `${s.slice(0, 60)}...` : s;
  return JSON.stringify(cut);
}

const MAX_REPLY = 64 * 1024;

/** Reads SMTP replies (`250-...` continued, `250 ...` final) from the current socket. */
class ReplyReader {
  private readonly reader: MessageReader;
  constructor(socket: Socket, signal: AbortSignal) {
    this.reader = new MessageReader(socket, signal);
  }

  /** Switches to another socket (after STARTTLS). */
  use(socket: Socket): void {
    this.reader.use(socket);
  }

  write(line: string): void {
    this.reader.write(`${line}\r\n`);
  }

  /** The next complete reply; `step` names the failure when the server closes or babbles. */
  async read(step: StepName): Promise<Reply> {
    let reply: Reply | undefined;
    await this.reader.read(
      (buf) => {
        const parsed = parseReply(buf.toString('latin1'), step);
        reply = parsed?.reply;
        return parsed?.length;
      },
      (buf) =>
        buf.length
          ? new CheckError(step, `not an SMTP server (unexpected reply ${showBytes(buf.toString('latin1'))})`)
          : new CheckError(step, 'the server closed the connection'),
    );
    return reply!;
  }
}

/** The reply at the start of `text` and its length, once it is complete. */
function parseReply(text: string, step: StepName): { reply: Reply; length: number } | undefined {
  const lines: string[] = [];
  let pos = 0;
  for (;;) {
    const end = text.indexOf('\n', pos);
    if (end < 0) {
      if (text.length > MAX_REPLY) throw new CheckError(step, 'the server sent an overlong reply');
      return undefined;
    }
    const line = text.slice(pos, end).replace(/\r$/, '');
    pos = end + 1;
    const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
    if (!m) throw new CheckError(step, `not an SMTP server (unexpected reply ${showBytes(line)})`);
    lines.push(m[3]!);
    if (m[2] !== '-') return { reply: { code: Number(m[1]), lines }, length: pos };
  }
}

/** A reply as shown in messages, without anything that looks like the credentials (masked before the cut). */
function showReply(r: Reply, o: Options): string {
  const t = `${r.code}${r.lines[0] ? ` ${r.lines[0]}` : ''}`;
  const masked = o.password ? new Redactor([o.password, ...pairBlobs(o.username, o.password)]).redact(t) : t;
  return masked.length > 120 ? `${masked.slice(0, 117)}...` : masked;
}

/** Extensions from an EHLO reply: keyword → parameters. */
function extensions(r: Reply): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of r.lines.slice(1)) {
    const [kw, ...params] = line.trim().split(/[\s=]+/);
    if (kw) map.set(kw.toUpperCase(), params.map((p) => p.toUpperCase()));
  }
  return map;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** RFC 2047 for a header value with non-ASCII characters. */
function headerText(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${b64(s)}?=`;
}

function buildMessage(o: Options, from: string, to: string): string {
  const body = o.message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  const headers = [
    `From: <${from}>`,
    `To: <${to}>`,
    `Subject: ${headerText(o.subject.replace(/[\r\n]+/g, ' '))}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${nodeCrypto().randomBytes(12).toString('hex')}@conn-check>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    'X-Mailer: conn-check',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}${body.endsWith('\r\n') ? '' : '\r\n'}.`;
}

/** The port that says implicit TLS when use_tls is not set. */
const SMTPS_PORT = 465;

export const smtp = defineCheck({
  ...serviceCheck('smtp'),
  summary: 'SMTP login (and, with from_address and to_address, a real e-mail sent)',
  url: { schemes: ['smtp', 'smtps'], options: fromUrl },
  options,
  // conn-check's steps had no common prefix; its tls step ran unless use_tls was false
  usesTls: (o) => o.use_tls === true || o.starttls || (o.use_tls === undefined && o.port === SMTPS_PORT),
  legacyNames: (o) => [`tcp:${o.host}:${o.port}`, ...(o.use_tls === false ? [] : [`tls:${o.host}:${o.port}`]), `smtp:${o.host}:${o.port}`],
  async run(given, ctx) {
    const o = { ...given, use_tls: given.use_tls ?? (!given.starttls && given.port === SMTPS_PORT) };
    if (given.use_tls === undefined && !given.starttls) {
      ctx.note(o.use_tls ? `implicit TLS: use_tls is not set and ${SMTPS_PORT} is the SMTPS port` : `plain SMTP, no TLS: use_tls is not set and port ${o.port} is not the SMTPS port (${SMTPS_PORT}); set starttls: true to upgrade`);
    }
    await withService(ctx, { host: o.host, port: o.port, tls: (o.use_tls || o.starttls) && o, tlsMode: o.starttls ? 'upgrade' : 'direct' }, async (service) => {
      const secure = o.use_tls || o.starttls; // (by the time it matters, STARTTLS is done)
      const io = new ReplyReader(service.stream, ctx.signal);
      const clientName = nodeOs().hostname() || 'localhost';

      const hello = async (): Promise<Map<string, string[]> | undefined> => {
        io.write(`EHLO ${clientName}`);
        const ehlo = await io.read('protocol');
        if (ehlo.code === 250) return extensions(ehlo);
        if (!o.helo_fallback) throw new CheckError('protocol', `EHLO refused (${showReply(ehlo, o)}); set helo_fallback: true to try HELO`);
        io.write(`HELO ${clientName}`);
        const helo = await io.read('protocol');
        if (helo.code !== 250) throw new CheckError('protocol', `EHLO and HELO refused (${showReply(helo, o)})`);
        return undefined; // HELO: no extensions known
      };

      let ext = await ctx.step('protocol', async () => {
        const greeting = await io.read('protocol');
        if (greeting.code !== 220) throw new CheckError('protocol', `the server refused the session (${showReply(greeting, o)})`);
        ctx.note(`greeting: ${showReply(greeting, o)}`);
        return hello();
      });

      if (o.starttls) {
        await ctx.step('tls', async () => {
          if (ext && !ext.has('STARTTLS')) throw new CheckError('tls', 'the server does not offer STARTTLS');
          io.write('STARTTLS');
          const r = await io.read('tls');
          if (r.code !== 220) throw new CheckError('tls', `STARTTLS refused (${showReply(r, o)})`);
          io.use(await service.startTls());
        });
        ext = await ctx.step('protocol', hello);
      }

      await ctx.step('auth', async () => {
        const auth = ext?.get('AUTH');
        if (ext && !auth) {
          throw new CheckError(
            'auth',
            secure ? 'the server does not offer authentication (no AUTH in its EHLO reply)' : 'the server does not offer authentication on a plain connection (no AUTH in its EHLO reply; try starttls: true)',
          );
        }
        const mechanisms = auth ?? ['PLAIN'];
        let r: Reply;
        if (mechanisms.includes('PLAIN')) {
          io.write(`AUTH PLAIN ${b64(`\0${o.username}\0${o.password}`)}`);
          r = await io.read('auth');
        } else if (mechanisms.includes('LOGIN')) {
          io.write('AUTH LOGIN');
          r = await io.read('auth');
          if (r.code === 334) {
            io.write(b64(o.username));
            r = await io.read('auth');
            if (r.code === 334) {
              io.write(b64(o.password));
              r = await io.read('auth');
            }
          }
        } else {
          throw new CheckError('auth', `no supported AUTH mechanism (the server offers ${mechanisms.join(' ') || 'none'}; PLAIN or LOGIN needed)`);
        }
        if (r.code === 235) return;
        if (r.code === 535 || r.code === 534 || r.code === 454) throw new CheckError('auth', `authentication failed for user ${o.username} (${showReply(r, o)})`);
        if (r.code === 538 || r.code === 530) throw new CheckError('auth', `authentication refused: the server wants TLS first (${showReply(r, o)}; try starttls: true)`);
        throw new CheckError('auth', `authentication failed (${showReply(r, o)})`);
      });

      if (o.from_address && o.to_address) {
        const from = o.from_address;
        const to = o.to_address;
        await ctx.step('send', async () => {
          io.write(`MAIL FROM:<${from}>`);
          let r = await io.read('send');
          if (r.code !== 250) throw new CheckError('send', `sender ${from} refused (${showReply(r, o)})`);
          io.write(`RCPT TO:<${to}>`);
          r = await io.read('send');
          if (r.code !== 250 && r.code !== 251) throw new CheckError('send', `recipient ${to} refused (${showReply(r, o)})`);
          io.write('DATA');
          r = await io.read('send');
          if (r.code !== 354) throw new CheckError('send', `DATA refused (${showReply(r, o)})`);
          io.write(buildMessage(o, from, to));
          r = await io.read('send');
          if (r.code !== 250) throw new CheckError('send', `message refused (${showReply(r, o)})`);
          ctx.note(`message sent to ${to} (${showReply(r, o)})`);
        });
      }
      // a polite goodbye; its answer is waited for a short moment at most
      io.write('QUIT');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([io.read('protocol').catch(() => {}), new Promise((r) => (timer = setTimeout(r, 500)))]);
      clearTimeout(timer);
    });
  },
});

/**
 * `smtp[s]://user:password@host[:port]`, as nodemailer reads it: smtps is TLS from the first
 * byte (port 465), smtp plain (port 587) upgraded by STARTTLS with `?starttls=true` (or
 * nodemailer's `requireTLS=true`); `tls.rejectUnauthorized=false` skips verification.
 */
function fromUrl(raw: string): Record<string, unknown> {
  const u = parseGeneric(raw);
  const secure = u.scheme === 'smtps' || flag(u.params, 'secure') === true;
  const reject = flag(u.params, 'tls.rejectUnauthorized');
  return defined({
    ...hostAndLogin(u, secure ? 465 : 587),
    use_tls: secure,
    starttls: secure ? undefined : flag(u.params, 'starttls', 'requireTLS'),
    disable_tls_verification: reject === undefined ? undefined : !reject,
  });
}
