/**
 * udp: send one datagram and expect one back, equal to `expect`. With `expect: ""` the check
 * is send-only (conn-check-configs' statsd checks): it passes when the datagram goes out and no
 * ICMP port unreachable comes back within a short grace. Sockets are connected so that ICMP
 * errors surface (as ECONNREFUSED). A name with several addresses passes if any one does.
 */
import * as z from '../core/z.js';
import type { Socket as UdpSocket } from 'node:dgram';
import { nodeDgram } from '../net/builtins.js';
import { hostPort, resolveHost, showAddress, untilAborted, type Address } from '../net/dial.js';
import { describeError } from '../net/errors.js';
import { printable } from '../net/printable.js';
import { CheckError, defineCheck } from '../core/contract.js';
import { host, nullMeans, port, scalarString } from '../core/options.js';

const REFUSED = 'connection refused (ICMP port unreachable)';

type Outcome = { ok: true; detail: string } | { ok: false; why: string };

interface Exchange {
  payload: Buffer;
  /** undefined: send-only. */
  expect: Buffer | undefined;
  graceMs: number;
}

/** One datagram to one address over a connected socket; settles with what happened. */
function exchange(addr: Address, port: number, x: Exchange, sockets: Set<UdpSocket>, timers: Set<NodeJS.Timeout>): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const sock = nodeDgram().createSocket({ type: addr.family === 6 ? 'udp6' : 'udp4' });
    sockets.add(sock);
    let settled = false;
    const settle = (o: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(o);
    };
    const failWith = (err: unknown) => {
      const code = (err as { code?: string } | undefined)?.code;
      settle({ ok: false, why: code === 'ECONNREFUSED' ? REFUSED : describeError(err) });
    };
    sock.on('error', failWith);
    sock.on('message', (msg: Buffer) => {
      if (!x.expect) settle({ ok: true, detail: `sent ${x.payload.length} bytes to ${showAddress(addr)} and got a reply (${msg.length} bytes)` });
      else if (msg.equals(x.expect)) settle({ ok: true, detail: `reply from ${showAddress(addr)} matched (${msg.length} bytes)` });
      else settle({ ok: false, why: `unexpected reply: ${printable(msg)}` });
    });
    try {
      sock.connect(port, addr.address, () => {
        if (settled) return;
        sock.send(x.payload, (err) => {
          if (err) return failWith(err);
          if (!x.expect) {
            const t = setTimeout(() => {
              timers.delete(t);
              settle({
                ok: true,
                detail: `sent ${x.payload.length} bytes to ${showAddress(addr)}; no ICMP port unreachable within ${Math.round(x.graceMs)} ms (send-only: delivery is not confirmed)`,
              });
            }, x.graceMs);
            timers.add(t);
          }
        });
      });
    } catch (err) {
      failWith(err);
    }
  });
}

export const udp = defineCheck({
  type: 'udp',
  summary: 'a UDP datagram to host:port gets the expected reply (expect "" only sends it and checks it is not refused)',
  options: z.object({
    host: host(),
    port: port(),
    send: scalarString('the text to send'),
    // `expect:` with no value (as conn-check's tutorial prints it) is send-only, like ""
    expect: nullMeans('', scalarString('the reply to expect ("" or nothing to only send)')),
  }),
  name: (o) => `udp:${hostPort(o.host, o.port)}`,
  legacyNames: (o) => [`udp:${o.host}:${o.port}`],
  target: (o) => hostPort(o.host, o.port),
  egress: (o) => [{ protocol: 'udp', host: o.host, port: o.port }],
  async run(o, ctx) {
    const addrs = await ctx.step('resolve', () => resolveHost(o.host, ctx.signal));
    const sockets = new Set<UdpSocket>();
    const timers = new Set<NodeJS.Timeout>();
    const x: Exchange = {
      payload: Buffer.from(o.send, 'utf8'),
      expect: o.expect === '' ? undefined : Buffer.from(o.expect, 'utf8'),
      graceMs: Math.min(500, ctx.timeoutMs / 2),
    };
    try {
      const detail = await ctx.step('udp', () =>
        untilAborted(
          new Promise<string>((resolve, reject) => {
            const failures: string[] = new Array(addrs.length);
            let pending = addrs.length;
            addrs.forEach((addr, i) => {
              void exchange(addr, o.port, x, sockets, timers).then((outcome) => {
                if (outcome.ok) return resolve(outcome.detail);
                failures[i] = outcome.why;
                if (addrs.length > 1) ctx.note(`${showAddress(addr)}: ${outcome.why}`);
                if (--pending > 0) return;
                const distinct = [...new Set(failures)];
                reject(
                  new CheckError('udp', distinct.length === 1 ? distinct[0]! : addrs.map((a, j) => `${showAddress(a)}: ${failures[j]}`).join('; ')),
                );
              });
            });
          }),
          ctx.signal,
        ),
      );
      ctx.note(detail);
    } finally {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) {
        try {
          s.close();
        } catch {
          // already closed
        }
      }
    }
  },
});
