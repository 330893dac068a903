/**
 * memcache (alias memcached): connect, then ask the server for its version, as conn-check did.
 *
 * Without credentials the text protocol's `version` command is used (every memcached and the
 * proxies in front of them speak it). With `username`/`password` the binary protocol is used:
 * SASL PLAIN authentication, then the binary VERSION command. Both run over our own socket, so
 * the address that passed the tcp step is the one asked, and the signal and deadline apply to
 * every read. (memjs was considered: it resolves the host again, reads credentials from
 * MEMCACHIER_* variables, cannot parse IPv6 literals and only half-closes its socket, which
 * leaves a handle open against a server that never answers.)
 */
import * as z from '../core/z.js';
import type { Socket } from 'node:net';
import { CheckError, defineCheck, type StepName } from '../core/contract.js';
import { host, login, passwordNeedsUsername, port } from '../core/options.js';
import { hostAndLogin, parseGeneric } from './url.js';
import { readUntil, serviceCheck, withService } from './kit/index.js';

const options = z
  .object({
    host: host(),
    port: port(),
    ...login(),
  })
  .check(z.refine((o) => o.username === undefined || o.password !== undefined, {
    message: 'expected a password with username (SASL needs both), got nothing',
    path: ['password'],
  }))
  .check(passwordNeedsUsername(' (SASL needs both)'));

/** Bytes as they may appear in a message: printable ASCII kept, the rest escaped, cut short. */
function showBytes(buf: Buffer): string {
  const slice = buf.subarray(0, 40);
  let out = '';
  for (const b of slice) {
    if (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c) out += String.fromCharCode(b);
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `"${out}${buf.length > slice.length ? '...' : ''}"`;
}

function notMemcached(buf: Buffer, step: StepName = 'protocol'): CheckError {
  return new CheckError(step, `not a memcached server (unexpected reply ${showBytes(buf)})`);
}

const MAX_LINE = 1024;

/**
 * The text protocol's `version`. The command is sent three times (27 bytes): a text server
 * answers the first and we stop reading; a binary-only server (memcached -S, SASL on) reads
 * the first 24 bytes as a binary header, sees a bad magic byte and closes the connection,
 * which tells "needs SASL" apart from a silent server.
 */
async function textVersion(socket: Socket, signal: AbortSignal): Promise<string> {
  socket.write('version\r\nversion\r\nversion\r\n');
  const line = await readUntil(
    socket,
    signal,
    (buf) => {
      const end = buf.indexOf('\r\n');
      if (end >= 0) return end;
      if (buf.length > MAX_LINE) throw notMemcached(buf);
      return undefined;
    },
    (buf) =>
      buf.length
        ? notMemcached(buf)
        : new CheckError('protocol', 'the server closed the connection without answering (a memcached with SASL needs username and password)'),
  );
  const m = /^VERSION (\S+)/.exec(line.toString('latin1'));
  if (!m) throw notMemcached(line);
  return m[1]!;
}

interface BinaryResponse {
  opcode: number;
  status: number;
  value: Buffer;
}

const OP_VERSION = 0x0b;
const OP_SASL_AUTH = 0x21;

function binaryRequest(opcode: number, key: string, value: Buffer = Buffer.alloc(0)): Buffer {
  const keyBuf = Buffer.from(key, 'utf8');
  const header = Buffer.alloc(24);
  header[0] = 0x80; // request magic
  header[1] = opcode;
  header.writeUInt16BE(keyBuf.length, 2);
  header.writeUInt32BE(keyBuf.length + value.length, 8);
  header.writeUInt32BE(opcode, 12); // opaque
  return Buffer.concat([header, keyBuf, value]);
}

async function binaryCall(socket: Socket, signal: AbortSignal, request: Buffer, step: 'auth' | 'protocol'): Promise<BinaryResponse> {
  socket.write(request);
  const msg = await readUntil(
    socket,
    signal,
    (buf) => {
      if (buf[0] !== 0x81) throw notMemcached(buf, step);
      if (buf.length < 24) return undefined;
      const total = 24 + buf.readUInt32BE(8);
      if (total > 24 + 64 * 1024) throw notMemcached(buf, step);
      return buf.length >= total ? total : undefined;
    },
    (buf) => (buf.length ? notMemcached(buf, step) : new CheckError(step, 'the server closed the connection without answering')),
  );
  const keyLen = msg.readUInt16BE(2);
  const extLen = msg[4]!;
  return { opcode: msg[1]!, status: msg.readUInt16BE(6), value: msg.subarray(24 + extLen + keyLen) };
}

const STATUS: Record<number, string> = {
  0x20: 'authentication failed',
  0x81: 'unknown command',
  0x83: 'not supported',
};

export const memcache = defineCheck({
  ...serviceCheck('memcache'),
  summary: 'memcached answers a version request (optionally after SASL authentication)',
  url: { schemes: ['memcache', 'memcached'], options: (raw) => hostAndLogin(parseGeneric(raw), 11211) },
  container: { images: ['memcached', 'bitnami/memcached'], port: 11211, options: () => ({}) },
  options,
  legacyNames: (o) => [`memcache:${o.host}:${o.port}:tcp:${o.host}:${o.port}`, `memcache:${o.host}:${o.port}:connect`],
  async run(o, ctx) {
    await withService(ctx, { host: o.host, port: o.port }, async ({ socket }) => {
      socket.on('error', () => {}); // errors surface through the reads
      if (o.username !== undefined && o.password !== undefined) {
        const user = o.username;
        const pass = o.password;
        await ctx.step('auth', async () => {
          const plain = Buffer.from(`\0${user}\0${pass}`, 'utf8');
          const r = await binaryCall(socket, ctx.signal, binaryRequest(OP_SASL_AUTH, 'PLAIN', plain), 'auth');
          if (r.status === 0) return;
          if (r.status === 0x20) throw new CheckError('auth', `authentication failed for user ${user}`);
          if (r.status === 0x81 || r.status === 0x83) throw new CheckError('auth', 'the server does not support SASL authentication (started without -S?)');
          throw new CheckError('auth', `SASL authentication failed (status 0x${r.status.toString(16)}${STATUS[r.status] ? `: ${STATUS[r.status]}` : ''})`);
        });
        const version = await ctx.step('protocol', async () => {
          const r = await binaryCall(socket, ctx.signal, binaryRequest(OP_VERSION, ''), 'protocol');
          if (r.opcode !== OP_VERSION || r.status !== 0) throw new CheckError('protocol', `version request failed (status 0x${r.status.toString(16)})`);
          return r.value.toString('latin1');
        });
        ctx.note(`memcached ${version}`);
      } else {
        const version = await ctx.step('protocol', () => textVersion(socket, ctx.signal));
        ctx.note(`memcached ${version}`);
      }
    });
  },
});
