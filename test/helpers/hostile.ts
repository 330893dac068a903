/**
 * The hostile-peer kit (issue 9): one small server per protocol that misbehaves on purpose, for
 * the fault matrix (test/faults.test.ts). On top of the generic peers (peers.ts) and the
 * protocol-aware ones (faults.ts), these attack the client rather than merely fail it:
 *
 *   flood   endless data as fast as the client reads it (a reply, a line, a body that never ends)
 *   frame   a length header the driver must not trust: zero, or huge (then endless data)
 *   bomb    a small compressed body that decodes to gigabytes
 *   inject  CR, LF, `::error ...`, `::stop-commands::` in every text field the protocol carries
 *
 * Every start function listens on a free loopback port; close() ends every connection.
 */
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { BSON } from 'mongodb';
import { listen, mysqlGreeting, natsInfo } from './faults.js';
import type { TcpPeer } from './peers.js';
import { scratchDir } from './scratch.js';

/**
 * Text that would act as workflow commands if it reached stdout as it is: a lone CR, LF, the
 * Unicode line separators, `::error` pointing at a workflow file, `::stop-commands::`,
 * `::add-mask::` and `::set-output`.
 */
export const INJECT = '\r::error file=.github/workflows/release.yml,line=1::INJECTED\r\n::stop-commands::PWNTOKEN\n::add-mask::INJECTED-MASK\u2028::set-output name=INJECTED::b\u2029::warning::INJECTED';
/** The same in a form that fits a single header line or a protocol line (no LF, which would end it). */
export const INJECT_LINE = INJECT.replace(/\n/g, '\r');

/** Every command in INJECT and in injectCert() carries one of these words. */
export const INJECT_WORDS = /INJECTED|PWNTOKEN|CERT-|CERTTOKEN/;

/**
 * The lines of `out` that could act as a workflow command and are not the project's own: every
 * line (split as the runner splits: LF, CRLF and lone CR) that starts with `::`, except the
 * project's annotations (`::error title=conn-check...`), its verdict (`::error::N of M checks
 * failed`, `::warning::N checks failed`) and masks for values that are not injected text.
 */
export function foreignCommands(out: string, opts: { allowOwn: boolean }): string[] {
  const own = [/^::(error|warning|notice) title=conn-check%3A [^:]*::/, /^::error::\d+ of \d+ checks? failed/, /^::warning::\d+ checks? failed \(fail-on-error is false\)/];
  return out
    .split(/\r\n|\r|\n/)
    .map((l) => l.trimStart())
    .filter((l) => l.startsWith('::'))
    .filter((l) => {
      if (!opts.allowOwn) return true;
      if (/^::add-mask::/.test(l)) return INJECT_WORDS.test(l);
      return !own.some((re) => re.test(l));
    });
}

/** Writes `prefix`, then `fill` over and over, as fast as the client reads, until the connection ends. */
export function flood(s: Socket, prefix: string | Buffer, fill: string | Buffer): void {
  const unit = Buffer.from(fill);
  const block = Buffer.alloc(unit.length * Math.ceil((64 * 1024) / unit.length), unit); // whole units only
  s.write(prefix);
  const pump = () => {
    while (!s.destroyed && s.writable) {
      if (!s.write(block)) return void s.once('drain', pump);
    }
  };
  pump();
}

/** Sends `prefix` (after the client's first bytes when `afterRequest`), then floods with `fill`. */
export function startFlood(prefix: string | Buffer, fill: string | Buffer, opts: { afterRequest?: boolean; host?: string } = {}): Promise<TcpPeer> {
  return listen(opts.host ?? '127.0.0.1', (s) => {
    if (opts.afterRequest) s.once('data', () => flood(s, prefix, fill));
    else flood(s, prefix, fill);
  });
}

/** Answers the client's first bytes with `reply(data)`, then keeps reading. */
export function startAnswer(reply: (data: Buffer, s: Socket) => void, host = '127.0.0.1'): Promise<TcpPeer> {
  return listen(host, (s) => {
    s.once('data', (d: Buffer) => reply(d, s));
  });
}

// ---- HTTP --------------------------------------------------------------------------------------

/** gzip members of 16 MiB of zeros each, concatenated: `members` × 16 MiB when decoded (16 KB each on the wire). */
export function gzipBomb(members: number): Buffer {
  const one = gzipSync(Buffer.alloc(16 << 20), { level: 9 });
  return Buffer.concat(Array.from({ length: members }, () => one));
}

/** 8 GiB of zeros as one brotli stream (6 KB; made by test/fixtures/bombs/make.mjs). */
export function brotliBomb(): Buffer {
  return readFileSync(new URL('../fixtures/bombs/zeros-8g.br', import.meta.url));
}

/** Answers every request with `status`, `headers` and `body`, then closes. */
export function startHttpAnswer(head: string, body: Buffer | string = ''): Promise<TcpPeer> {
  return startAnswer((_d, s) => {
    s.write(head);
    s.end(body);
  });
}

/** An HTTP answer whose body is `encoding` of the bomb, with a Content-Length. */
export function startHttpBomb(encoding: 'gzip' | 'br', bomb: Buffer): Promise<TcpPeer> {
  return startHttpAnswer(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${bomb.length}\r\nConnection: close\r\n\r\n`, bomb);
}

/** An HTTP answer with a chunked body (4 KiB chunks) that never ends. */
export function startHttpEndless(): Promise<TcpPeer> {
  return startFlood('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n', `1000\r\n${'a'.repeat(0x1000)}\r\n`, { afterRequest: true });
}

/** An interim answer a client skips while it waits for the final one (so neither the header nor the body cap applies). */
const EARLY_HINTS = 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n';

/** An HTTP proxy that answers a proxied request with 103 Early Hints, forever, at full speed. */
export const startProxyEarlyHints = () => startFlood('', EARLY_HINTS, { afterRequest: true });

/**
 * An HTTPS proxy that answers CONNECT with 200, then answers the request sent through the tunnel
 * with 103 Early Hints, forever, at full speed.
 */
export function startTunnelEarlyHints(pair: { cert: string; key: string }): Promise<TcpPeer> {
  return tlsPeer(pair, (s) =>
    s.once('data', () => {
      s.write('HTTP/1.1 200 Connection established\r\n\r\n');
      s.once('data', () => flood(s, '', EARLY_HINTS));
    }),
  );
}

/** An HTTP answer whose reason phrase, headers and body carry injection text (LF in a header would end it: CR only). */
export function startHttpInject(): Promise<TcpPeer> {
  const body = `${INJECT}\n`;
  return startHttpAnswer(`HTTP/1.1 500 ${INJECT_LINE.replace(/\r/g, ' ')}\r\nX-Inject: ${INJECT_LINE.replace(/\r/g, ' ')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`, body);
}

// ---- Redis -------------------------------------------------------------------------------------

/** `*1000000000`, then integers forever: the reply ioredis would collect into one array. */
export const startRedisHugeArray = () => startFlood('*1000000000\r\n', ':1\r\n', { afterRequest: true });
/** A status line that never ends. */
export const startRedisEndlessLine = () => startFlood('+', 'a', { afterRequest: true });
/** An error reply to everything, carrying injection text. */
export const startRedisInject = () => startAnswer((_d, s) => s.write(`-ERR ${INJECT_LINE}\r\n`));

// ---- MongoDB -----------------------------------------------------------------------------------

/** Answers the first message (hello) with 4 zero bytes: a message of length 0. */
export const startMongoZero = () => startAnswer((_d, s) => s.write(Buffer.alloc(4)));
/** Announces a 2 GiB message, then sends zeros forever. */
export const startMongoHuge = () => startFlood(Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(1), { afterRequest: true });
/** Answers hello with ok: 0 and an errmsg carrying injection text. */
export const startMongoInject = () =>
  startAnswer((d, s) => {
    const requestId = d.readInt32LE(4);
    const opCode = d.readInt32LE(12);
    const doc = BSON.serialize({ ok: 0, errmsg: INJECT, code: 2, codeName: 'BadValue' });
    const header = (len: number, op: number) => {
      const h = Buffer.alloc(16);
      h.writeInt32LE(len, 0);
      h.writeInt32LE(7, 4);
      h.writeInt32LE(requestId, 8);
      h.writeInt32LE(op, 12);
      return h;
    };
    if (opCode === 2013) s.write(Buffer.concat([header(16 + 5 + doc.length, 2013), Buffer.alloc(5), doc]));
    else {
      const fields = Buffer.alloc(20);
      fields.writeInt32LE(1, 16);
      s.write(Buffer.concat([header(16 + 20 + doc.length, 1), fields, doc]));
    }
  });

// ---- PostgreSQL --------------------------------------------------------------------------------

const pgSslRequest = (d: Buffer) => d.length === 8 && d.readUInt32BE(4) === 80877103;
/** A server that answers 'N' to the SSLRequest, then sends `then` to the startup message. */
function startPgAfterStartup(then: (s: Socket) => void): Promise<TcpPeer> {
  return listen('127.0.0.1', (s) => {
    const onData = (d: Buffer) => {
      if (pgSslRequest(d)) return void s.write('N');
      s.off('data', onData); // the startup message: the rest is `then`'s
      then(s);
    };
    s.on('data', onData);
  });
}
/** An ErrorResponse (FATAL 28P01) whose message and detail carry injection text. */
export function pgError(message: string): Buffer {
  const fields = Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C28P01\0M${message}\0D${message}\0`), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head[0] = 0x45;
  head.writeUInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}
export const startPgInject = () => startPgAfterStartup((s) => s.end(pgError(INJECT)));
/** A message header announcing 2 GiB, then zeros forever. */
export const startPgHuge = () => startPgAfterStartup((s) => flood(s, Buffer.from([0x52, 0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(1)));
/** A message whose length (0) is below its own header's. */
export const startPgZero = () => startPgAfterStartup((s) => s.write(Buffer.from([0x52, 0, 0, 0, 0])));
/** Asks for the password in cleartext (AuthenticationCleartextPassword), then accepts the login. */
export function startPgCleartext(): Promise<TcpPeer & { passwords: string[] }> {
  const passwords: string[] = [];
  const peer = startPgAfterStartup((s) => {
    s.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
    s.once('data', (p: Buffer) => {
      passwords.push(p.toString('utf8', 5, p.length - 1));
      const ok = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
      const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
      s.write(Buffer.concat([ok, ready]));
      s.on('data', (q: Buffer) => {
        if (q[0] !== 0x51) return s.end();
        // one row, one int4 column "ok" = 1
        const rowDesc = Buffer.concat([Buffer.from([0x54]), u32(6 + 3 + 18), Buffer.from([0, 1]), Buffer.from('ok\0'), u32(0), Buffer.from([0, 0]), u32(23), Buffer.from([0, 4]), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0, 0])]);
        const dataRow = Buffer.concat([Buffer.from([0x44]), u32(4 + 2 + 4 + 1), Buffer.from([0, 1]), u32(1), Buffer.from('1')]);
        const complete = Buffer.concat([Buffer.from([0x43]), u32(4 + 9), Buffer.from('SELECT 1\0')]);
        s.write(Buffer.concat([rowDesc, dataRow, complete, ready]));
      });
    });
  });
  return peer.then((p) => Object.assign(p, { passwords }));
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

// ---- MySQL -------------------------------------------------------------------------------------

/** An ERR packet instead of a greeting, its message carrying injection text. */
export const startMysqlInject = () =>
  listen('127.0.0.1', (s) => {
    const body = Buffer.concat([Buffer.from([0xff, 0x15, 0x04]), Buffer.from(`#28000${INJECT}`)]);
    s.write(Buffer.concat([Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, body.length >> 16, 0]), body]));
  });
/** Packets of the largest size (16 MiB - 1, which say "more follows"), forever. */
export const startMysqlHuge = () => startFlood(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0]), Buffer.from([0x0a])]), 'x');
/** A greeting, then, to the login, a packet of length 0 and endless more of them. */
export const startMysqlZero = () => listen('127.0.0.1', (s) => {
  s.write(mysqlGreeting(false));
  s.once('data', () => flood(s, '', Buffer.from([0, 0, 0, 2])));
});

// ---- AMQP --------------------------------------------------------------------------------------

/** Connection.Close (530) with injection text as the reply text, in answer to the protocol header. */
export const startAmqpInject = () =>
  startAnswer((_d, s) => {
    const text = Buffer.from(INJECT);
    const payload = Buffer.concat([Buffer.from([0, 10, 0, 50, 0x02, 0x12, text.length > 255 ? 255 : text.length]), text.subarray(0, 255), Buffer.from([0, 10, 0, 11])]);
    const header = Buffer.alloc(7);
    header[0] = 1;
    header.writeUInt32BE(payload.length, 3);
    s.write(Buffer.concat([header, payload, Buffer.from([0xce])]));
  });
/** AMQP 0-9-1 Connection.Start (what a broker answers the protocol header with). */
export function amqpConnectionStart(): Buffer {
  const longstr = (s: string) => {
    const b = Buffer.alloc(4 + s.length);
    b.writeUInt32BE(s.length);
    b.write(s, 4, 'latin1');
    return b;
  };
  const payload = Buffer.concat([Buffer.from([0, 10, 0, 10, 0, 9]), Buffer.alloc(4), longstr('PLAIN AMQPLAIN'), longstr('en_US')]);
  const header = Buffer.alloc(7);
  header[0] = 1;
  header.writeUInt32BE(payload.length, 3);
  return Buffer.concat([header, payload, Buffer.from([0xce])]);
}
/**
 * Connection.Start, then a frame header announcing 64 MiB - 256 bytes (within amqplib's default
 * maximum frame size of 64 MiB: it buffers the frame, copying what it has at every chunk), then
 * zeros forever, at full speed.
 */
export const startAmqpBigFrame = () => startFlood(Buffer.concat([amqpConnectionStart(), Buffer.from([1, 0, 0, 0x03, 0xff, 0xff, 0x00])]), Buffer.alloc(1), { afterRequest: true });
/** A frame header announcing 4 GiB, then zeros forever. */
export const startAmqpHuge = () => startFlood(Buffer.from([1, 0, 0, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(1), { afterRequest: true });

// ---- NATS --------------------------------------------------------------------------------------

/** INFO, then -ERR with injection text to CONNECT. */
export const startNatsInject = () =>
  listen('127.0.0.1', (s) => {
    s.write(natsInfo(false));
    s.once('data', () => s.write(`-ERR '${INJECT_LINE}'\r\n`));
  });
/** An INFO line that never ends, as fast as the client reads. */
export const startNatsEndless = () => startFlood('INFO {"a":"', 'a');

// ---- MQTT --------------------------------------------------------------------------------------

/** A CONNACK announcing the largest remaining length (256 MiB), then zeros forever. */
export const startMqttHuge = () => startFlood(Buffer.from([0x20, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(1), { afterRequest: true });

// ---- SMTP, memcache ----------------------------------------------------------------------------

/** A 554 greeting carrying injection text. */
export const startSmtpInject = () => listen('127.0.0.1', (s) => s.write(`554 ${INJECT_LINE}\r\n`));
/** A multi-line greeting that never ends, as fast as the client reads. */
export const startSmtpEndless = () => startFlood('', '220-flood\r\n');
/** SERVER_ERROR with injection text to everything. */
export const startMemcacheInject = () => startAnswer((_d, s) => s.write(`SERVER_ERROR ${INJECT_LINE}\r\n`));
/** A VERSION line that never ends. */
export const startMemcacheEndless = () => startFlood('VERSION ', '1', { afterRequest: true });

// ---- TLS ---------------------------------------------------------------------------------------

/** A TLS server whose certificate's CN and SAN carry injection text (any TLS port can send one). */
export function startTlsInjectCert(pair: { cert: string; key: string }): Promise<TcpPeer> {
  return tlsPeer(pair, () => {});
}

/** A TLS server on a free loopback port that hands each connection, once secure, to `onSecure`. */
function tlsPeer(pair: { cert: string; key: string }, onSecure: (s: Socket) => void): Promise<TcpPeer> {
  const server = createTlsServer({ cert: pair.cert, key: pair.key }, (s) => {
    s.on('error', () => {});
    onSecure(s);
  });
  server.on('tlsClientError', () => {});
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        host: '127.0.0.1',
        port: (server.address() as { port: number }).port,
        accepted: 0,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/**
 * A self-signed certificate for localhost whose subject (CN, O) and SAN carry injection text:
 * CR, LF and `::` commands (OpenSSL escapes some of them in its own text forms; Node's
 * X509Certificate and getPeerCertificate() hand them over raw).
 */
export function injectCert(): { cert: string; key: string } {
  const dir = scratchDir('conn-check-inject-');
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'k.pem']);
  const cn = 'a\r::error::CERT-CN\n::stop-commands::CERTTOKEN'; // CN: 64 characters at most
  run(['req', '-x509', '-new', '-key', 'k.pem', '-subj', `/CN=${cn}/O=\r::add-mask::CERT-ORG`, '-days', '30', '-addext', 'subjectAltName=DNS:localhost,DNS:a\r::warning::CERT-SAN', '-out', 'c.pem']);
  return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
}

// ---- gRPC (HTTP/2) ---------------------------------------------------------------------------

/** An empty HTTP/2 SETTINGS frame: what an HTTP/2 server sends first. */
export const HTTP2_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/**
 * An HTTP/2 server that only pretends: it sends its SETTINGS at once, then reads the client's
 * frames and calls `onRequest` when the first HEADERS frame (a request) has arrived, so that
 * what it does next meets the client in the middle of its call, not of its handshake.
 */
export function startHttp2Peer(onRequest: (s: Socket) => void, host = '127.0.0.1'): Promise<TcpPeer> {
  return listen(host, (s) => {
    s.on('error', () => {});
    s.write(HTTP2_SETTINGS);
    let buffered = Buffer.alloc(0);
    let at = 24; // after the client's connection preface (PRI * HTTP/2.0...)
    let done = false;
    s.on('data', (d: Buffer) => {
      if (done) return;
      buffered = Buffer.concat([buffered, d]);
      while (buffered.length >= at + 9) {
        const len = buffered.readUIntBE(at, 3);
        if (buffered[at + 3] === 0x01) {
          done = true;
          return onRequest(s);
        }
        at += 9 + len;
      }
    });
  });
}

/** After the request: frames of an unknown type (HTTP/2 says to ignore them), 16 KiB each, forever. */
export function startGrpcEndless(): Promise<TcpPeer> {
  return startHttp2Peer((s) => flood(s, '', Buffer.concat([Buffer.from([0, 0x40, 0, 0xfa, 0, 0, 0, 0, 0]), Buffer.alloc(0x4000)])));
}

/** After the request: a frame header announcing 16 MiB (the client allows 16 KiB), then zeros forever. */
export function startGrpcHugeFrame(): Promise<TcpPeer> {
  return startHttp2Peer((s) => flood(s, Buffer.from([0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1]), Buffer.alloc(1)));
}
