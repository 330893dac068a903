/**
 * What a PostgreSQL server may send a client, checked before the driver (pg) sees a byte: a
 * frame inspector (net/bounded.ts) for one connection of a postgres check. It sits where the
 * server's bytes first arrive (the kit's connection under the loopback relay, or pg's own
 * socket), so a server that is not PostgreSQL, or one that announces a message no client reads,
 * ends the check at the server's first bytes, whatever the driver has or has not read yet.
 *
 * The rules are libpq's (fe-protocol3.c): a message's length counts itself (4 bytes), so less
 * is no message; a message of any type but the seven that carry data or text may not exceed
 * 30000 bytes ("lost synchronization with server"); and no message may exceed the check's read
 * limit, which it would reach anyway, a megabyte of zeros later.
 */
import { formatBytes, headerFrames, type FrameInspector } from './bounded.js';
import { printable } from './printable.js';

/** libpq's VALID_LONG_MESSAGE_TYPE: RowDescription, DataRow, CopyData, FunctionCallResponse, ErrorResponse, NoticeResponse, NotificationResponse. */
const LONG_TYPES = new Set([0x54, 0x44, 0x64, 0x56, 0x45, 0x4e, 0x41]);
/** libpq's limit for every other type. */
const SHORT_MAX = 30000;

/**
 * What a server answers first. To an SSLRequest: the single byte 'S' or 'N' (nothing follows
 * until the client speaks again), or an ErrorResponse ('E'). To a startup message: an
 * authentication request, an error, a notice or a protocol version negotiation.
 */
const sslReply = (b: Buffer) => (b.length === 1 && (b[0] === 0x53 || b[0] === 0x4e)) || b[0] === 0x45;
const STARTUP_REPLIES = [0x52, 0x45, 0x4e, 0x76];

/**
 * The inspector for one connection: `sslRequest` when the client opens it with an SSLRequest
 * (after an 'S', the rest is TLS, whose plain text gets an inspector of its own: pgFrames(false)
 * on the TLS socket), else the server's first message answers the startup message.
 * `readLimit` is the check's read budget.
 */
export function pgFrames(sslRequest: boolean, readLimit: number): FrameInspector {
  let first = true;
  let tls = false;
  const messages = headerFrames(5, (header) => {
    const length = header.readUInt32BE(1);
    if (length < 4) return `the server sent a message the client could not read (a message length of ${length})`;
    if (length > SHORT_MAX && !LONG_TYPES.has(header[0]!)) {
      return `the server announced a PostgreSQL message of ${length} bytes (more than the ${SHORT_MAX} bytes libpq accepts for one of type "${printable(header.subarray(0, 1), 1)}")`;
    }
    if (length > readLimit) return `the server announced a PostgreSQL message of ${length} bytes (more than the ${formatBytes(readLimit)} read limit for this check)`;
    return length - 4;
  });
  return (chunk) => {
    if (tls || chunk.length === 0) return undefined;
    if (first) {
      first = false;
      if (!(sslRequest ? sslReply(chunk) : STARTUP_REPLIES.includes(chunk[0]!))) {
        return `the server does not speak PostgreSQL: its first bytes are "${printable(chunk, 32)}"`;
      }
      if (sslRequest && chunk[0] === 0x53) {
        tls = true;
        return undefined;
      }
      // 'N': no TLS here (pg ends this connection; prefer retries on a new one)
      if (sslRequest && chunk[0] === 0x4e) return undefined;
    }
    return messages(chunk);
  };
}
