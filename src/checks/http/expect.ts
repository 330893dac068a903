/**
 * What the answer must be: its status (expected_code), headers (expected_headers), body
 * (expected_body, expected_json) and time (max_response_time). The body is read (at most
 * BODY_LIMIT, decompressed within the same bound) only when something is expected of it.
 */
import { decompressCapped } from '../../net/bounded.js';
import { CheckError, type CheckContext } from '../../core/contract.js';
import { now } from '../kit/index.js';
import { show } from '../../core/options.js';
import { jsonPath, type Options } from './options.js';
import { allHeaders, BODY_LIMIT, firstHeader, type Answer, type Headers } from './send.js';

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => isDeepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function showJson(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The body as text: decompressed (at most BODY_LIMIT decoded bytes: net/bounded.ts) and decoded by its charset. */
async function decodeBody(data: Buffer, headers: Headers, signal: AbortSignal): Promise<{ text: string; truncated: boolean }> {
  const encoding = (firstHeader(headers, 'content-encoding') ?? '').trim().toLowerCase();
  const { data: bytes, truncated } = await decompressCapped(data, encoding, BODY_LIMIT, signal);
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(firstHeader(headers, 'content-type') ?? '')?.[1];
  try {
    return { text: new TextDecoder(charset ?? 'utf-8').decode(bytes), truncated };
  } catch {
    return { text: new TextDecoder('utf-8').decode(bytes), truncated };
  }
}

/** Checks the answer against the options; `started` is when the request was sent (core/clock.ts now()). */
export async function expectAnswer(res: Answer, o: Options, started: number, ctx: CheckContext): Promise<void> {
  const status = res.statusCode;
  let matches = false;
  for (const r of o.expected_code.ranges) {
    if (status >= r.lo && status <= r.hi) {
      matches = true;
      break;
    }
  }
  if (!matches) {
    ctx.note(`status ${status} after ${Math.round(now() - started)} ms`);
    throw new CheckError('status', o.expected_code.single ? `Unexpected response code: ${status}` : `Unexpected response code: ${status} (expected ${o.expected_code.label})`);
  }

  if (o.expected_headers) await expectHeaders(res, o.expected_headers, ctx);

  let text: string | undefined;
  let truncated = false;
  if (o.expected_body !== undefined || o.expected_json !== undefined) {
    await ctx.step('body', async () => {
      const read = await res.read(BODY_LIMIT);
      const decoded = await decodeBody(read.data, res.headers, ctx.signal);
      truncated = read.truncated || decoded.truncated;
      text = decoded.text;
    });
  } else {
    await ctx.step('body', () => res.discard());
  }
  const elapsed = Math.round(now() - started);
  ctx.note(`status ${status} in ${elapsed} ms`);
  if (o.expected_body && text !== undefined) await expectBody(o.expected_body, text, truncated, ctx);
  if (o.expected_json && text !== undefined) expectJson(o.expected_json, text, truncated);
  if (o.max_response_time !== undefined && elapsed > o.max_response_time) {
    throw new CheckError('time', `the response took ${elapsed} ms (max_response_time ${o.max_response_time} ms)`);
  }
}

async function expectHeaders(res: Answer, expectedHeaders: NonNullable<Options['expected_headers']>, ctx: CheckContext): Promise<void> {
  for (const [name, expected] of Object.entries(expectedHeaders)) {
    const values = allHeaders(res.headers, name.toLowerCase());
    if (!values.length) throw new CheckError('headers', `the response has no ${name} header`);
    const value = values.join(', ');
    if (!(await ctx.step('headers', () => expected.test(value, ctx.signal)))) {
      throw new CheckError('headers', `header ${name}: ${show(value)} ${expected.regex ? 'does not match' : 'does not contain'} ${expected.label}`);
    }
  }
}

async function expectBody(expected: NonNullable<Options['expected_body']>, text: string, truncated: boolean, ctx: CheckContext): Promise<void> {
  if (!(await ctx.step('body', () => expected.test(text, ctx.signal)))) {
    const what = expected.regex ? `does not match ${expected.label}` : `does not contain ${expected.label}`;
    throw new CheckError('body', `the body ${what}${truncated ? ` (first ${BODY_LIMIT / 1024 / 1024} MiB read)` : ''}`);
  }
}

function expectJson(expectedJson: NonNullable<Options['expected_json']>, text: string, truncated: boolean): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CheckError('body', `the body is not JSON${truncated ? ` (first ${BODY_LIMIT / 1024 / 1024} MiB read)` : ''}`);
  }
  for (const [path, expected] of Object.entries(expectedJson)) {
    let cur: unknown = doc;
    for (const key of jsonPath(path)!) {
      if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) throw new CheckError('body', `the JSON has nothing at ${path}`);
      cur = (cur as Record<string | number, unknown>)[key];
    }
    if (!isDeepEqual(cur, expected)) throw new CheckError('body', `the JSON at ${path} is ${showJson(cur)}, expected ${showJson(expected)}`);
  }
}
