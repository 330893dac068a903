/**
 * A connection to a server's Unix socket (a `host` that is a path: `/run/mysqld/mysqld.sock`),
 * which the service kit opens instead of TCP; its reads count against the check's budget
 * (net/bounded.ts).
 */
import type { Socket } from 'node:net';
import { capReads } from './bounded.js';
import { openSocket, type Address } from './dial.js';
import { describeError } from './errors.js';
import { CheckError } from '../core/contract.js';

/** A host that is a Unix socket's path. */
export const isSocketPath = (host: string): boolean => host.startsWith('/');

/** Connects to the socket at `path`; a failure is the `tcp` step's (the step that connects). */
export async function connectUnix(path: string, signal: AbortSignal): Promise<Socket> {
  try {
    return capReads(await openSocket({ path }, signal), signal);
  } catch (err) {
    if (signal.aborted) throw err;
    throw new CheckError('tcp', `Unix socket ${path}: ${describeError(err)}`);
  }
}

/**
 * The socket at `path` as a connection the service kit takes: its `address` is the path (a
 * driver given this connection never dials the address again).
 */
export async function connectUnixSocket(path: string, signal: AbortSignal): Promise<{ socket: Socket; address: Address }> {
  return { socket: await connectUnix(path, signal), address: { address: path, family: 4 } };
}
