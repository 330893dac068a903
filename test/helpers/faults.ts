/**
 * Protocol-aware misbehaving peers for the fault matrix (test/faults.test.ts), on top of the
 * generic ones in peers.ts. Every start function listens on a free loopback port and returns a
 * Peer whose close() destroys every connection it still holds (and clears its timers).
 */
import { createServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket, createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TcpPeer } from './peers.js';
import { listenOn } from './listen.js';

/** Listens on `host`, tracks sockets and timers so close() leaves nothing alive. */
export function listen(host: string, onConnection: (s: Socket, track: (t: NodeJS.Timeout) => void) => void): Promise<TcpPeer> {
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer();
  const listening = listenOn(server, host, () => {
    for (const t of timers) clearInterval(t);
    timers.clear();
  });
  server.on('connection', (s: Socket) =>
    onConnection(s, (t) => {
      timers.add(t);
      s.once('close', () => {
        clearInterval(t);
        timers.delete(t);
      });
    }),
  );
  return listening;
}

/**
 * A slow drip: sends `prefix` at once, then one byte of `fill` every `intervalMs`, forever
 * (looping over `fill`). A well-chosen prefix keeps a parser waiting for more (an SMTP greeting
 * with continuation lines, an HTTP header that never ends, a TLS record that never completes),
 * and the bytes keep resetting any idle timer a client might rely on.
 */
export function startDrip(opts: { prefix?: string | Buffer; fill?: string | Buffer; intervalMs?: number; host?: string } = {}): Promise<TcpPeer> {
  const prefix = Buffer.from(opts.prefix ?? '');
  const fill = Buffer.from(opts.fill ?? 'x');
  return listen(opts.host ?? '127.0.0.1', (s, track) => {
    if (prefix.length) s.write(prefix);
    let i = 0;
    track(
      setInterval(() => {
        if (s.destroyed) return;
        s.write(fill.subarray(i % fill.length, (i % fill.length) + 1));
        i++;
      }, opts.intervalMs ?? 1000),
    );
  });
}

/** A TLS record header announcing 16 KiB of handshake that never arrives (drip it with zeros). */
export const TLS_RECORD_PREFIX = Buffer.from([0x16, 0x03, 0x03, 0x40, 0x00, 0x02]);

/**
 * Answers the first thing the client sends with `reply(data)` (a function of what arrived, or a
 * fixed buffer), then never sends another byte: a server that stops answering midway.
 */
export function startReplyOnce(reply: string | Buffer | ((data: Buffer) => string | Buffer), host = '127.0.0.1'): Promise<TcpPeer> {
  return listen(host, (s) => {
    s.once('data', (d: Buffer) => {
      s.write(typeof reply === 'function' ? reply(d) : reply);
    });
  });
}

export interface UpgradeOptions {
  host?: string;
  /** Sent as soon as a connection is accepted (a server-first protocol's greeting). */
  greeting?: string | Buffer;
  /** Bytes to read from the client before `reply` and the upgrade (0: upgrade at once). */
  readBytes?: number;
  /** Sent after `readBytes` arrived (e.g. PostgreSQL's 'S'). */
  reply?: string | Buffer;
  /**
   * After the plain part: 'silent' (the TLS handshake never completes), or TLS with these
   * options (certificate and key), after which the server never sends an application byte.
   */
  then: 'silent' | SecureContextOptions;
}

/**
 * A server-side STARTTLS dance for protocols that negotiate TLS inside the protocol
 * (PostgreSQL's SSLRequest, MySQL's greeting and SSL request, NATS's INFO), then either silence
 * or a TLS session (with the given, possibly bad, certificate) that never answers.
 */
export function startUpgrade(opts: UpgradeOptions): Promise<TcpPeer> {
  const context = opts.then === 'silent' ? undefined : createSecureContext(opts.then);
  return listen(opts.host ?? '127.0.0.1', (s) => {
    if (opts.greeting !== undefined) s.write(opts.greeting);
    const want = opts.readBytes ?? 0;
    let got = 0;
    let inner: Duplex | undefined;
    const upgrade = (rest: Buffer) => {
      if (opts.reply !== undefined) s.write(opts.reply);
      if (!context) return;
      // The TLS session runs over a stream fed from this socket's data events: bytes that came
      // with the last plain chunk (MySQL clients send the ClientHello right after the SSL
      // request, without waiting) are not lost, as they would be if the handle were re-wrapped.
      const d = new Duplex({
        read() {},
        write(chunk, _enc, cb) {
          if (s.destroyed) return cb();
          s.write(chunk, () => cb());
        },
        final(cb) {
          s.end();
          cb();
        },
        destroy(err, cb) {
          s.destroy();
          cb(err);
        },
      });
      inner = d;
      s.once('end', () => d.push(null));
      s.once('close', () => d.destroy());
      const secure = new TLSSocket(d, { isServer: true, secureContext: context });
      secure.on('error', () => {});
      if (rest.length) d.push(rest);
    };
    if (want === 0) upgrade(Buffer.alloc(0));
    s.on('data', (chunk: Buffer) => {
      if (inner) return void inner.push(chunk);
      if (got >= want) return;
      const before = got;
      got += chunk.length;
      if (got >= want) upgrade(chunk.subarray(want - before));
    });
  });
}

/**
 * A MySQL protocol 10 greeting (HandshakeV10) offering TLS (CLIENT_SSL), protocol 4.1,
 * secure connection and plugin auth with mysql_native_password. `tls: false` leaves CLIENT_SSL out.
 */
export function mysqlGreeting(tls = true): Buffer {
  const caps = 0x00000200 /* PROTOCOL_41 */ | 0x00008000 /* SECURE_CONNECTION */ | 0x00080000 /* PLUGIN_AUTH */ | 0x00000001 /* LONG_PASSWORD */ | 0x00000008 /* CONNECT_WITH_DB */ | (tls ? 0x00000800 : 0);
  const scramble = Buffer.from('abcdefghijklmnopqrst', 'latin1');
  const body = Buffer.concat([
    Buffer.from([0x0a]),
    Buffer.from('5.7.99-fault\0', 'latin1'),
    Buffer.from([1, 0, 0, 0]), // connection id
    scramble.subarray(0, 8),
    Buffer.from([0]),
    Buffer.from([caps & 0xff, (caps >> 8) & 0xff]),
    Buffer.from([0x21]), // utf8_general_ci
    Buffer.from([0x02, 0x00]), // SERVER_STATUS_AUTOCOMMIT
    Buffer.from([(caps >> 16) & 0xff, (caps >> 24) & 0xff]),
    Buffer.from([21]),
    Buffer.alloc(10),
    scramble.subarray(8),
    Buffer.from([0]),
    Buffer.from('mysql_native_password\0', 'latin1'),
  ]);
  const header = Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, (body.length >> 16) & 0xff, 0]);
  return Buffer.concat([header, body]);
}

/** Bytes of mysql2's SSLRequest packet (4-byte header + 32-byte body). */
export const MYSQL_SSL_REQUEST_BYTES = 36;

/** A NATS INFO line; `tls` sets tls_required. */
export function natsInfo(tls = false): string {
  return `INFO ${JSON.stringify({ server_id: 'FAULTPEER', server_name: 'fault', version: '2.10.0', proto: 1, go: 'go1.22', host: '127.0.0.1', port: 4222, headers: true, max_payload: 1048576, ...(tls ? { tls_required: true } : {}) })}\r\n`;
}

/** MQTT CONNACK, session not present, return code 0 (accepted). */
export const MQTT_CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

/** A memcached binary-protocol success response (no body) to the request in `req`. */
export function memcacheBinaryOk(req: Buffer): Buffer {
  const res = Buffer.alloc(24);
  res[0] = 0x81;
  res[1] = req[1] ?? 0;
  req.copy(res, 12, 12, 16); // opaque
  return res;
}

/** A PostgreSQL AuthenticationCleartextPassword request (answers the StartupMessage). */
export const PG_AUTH_CLEARTEXT = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);
