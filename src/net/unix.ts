/**
 * A connection to a server's Unix socket (a `host` that is a path: `/run/mysqld/mysqld.sock`),
 * or over TCP for any other host: the one call a check makes for both. Reads count against the
 * check's budget either way (net/bounded.ts).
 */
import type { Socket } from 'node:net';
import { capReads } from './bounded.js';
import { connectTcp, openSocket, showAddress } from './dial.js';
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

/** The Unix socket when `host` is a path, else TCP; `where` is what answered, for the report. */
export async function connectHost(host: string, port: number, signal: AbortSignal): Promise<{ socket: Socket; where: string }> {
  if (isSocketPath(host)) return { socket: await connectUnix(host, signal), where: `Unix socket ${host}` };
  const { socket, address } = await connectTcp(host, port, signal);
  return { socket, where: showAddress(address) };
}
