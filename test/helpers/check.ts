/** Runs checks in-process through the real pipeline (parse, validate, run), for check tests. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parseConfig } from '../../src/config/load.js';
import { runChecks, type RunOptions } from '../../src/runner/run.js';
import type { CheckResult } from '../../src/runner/result.js';
import { ROOT } from './run.js';
import type { resultAssertions } from './results.js';
import { assertClientsClosed, blackHole, listen } from './listen.js';

/** Parses YAML text as a config file and runs its checks; returns results in file order. */
export async function runYaml(yaml: string, opts: Partial<RunOptions> = {}, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  const { checks } = await parseConfig({ file: 'test.yaml', text: yaml }, env);
  const outcome = await runChecks(checks, { connectTimeoutS: 5, ...opts });
  return outcome.results;
}

/** Runs one check given as a mapping of options. */
export async function runOne(options: Record<string, unknown>, opts: Partial<RunOptions> = {}): Promise<CheckResult> {
  const results = await runYaml(JSON.stringify([options]), opts);
  return results[0]!;
}

/** Resource types still alive in this process (timers and sockets a check forgot to close). */
export function liveHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'FSReqCallback');
}

/** Waits (up to `ms`) until no socket or timer of ours is alive, and returns what still is. */
export async function settledHandles(ms = 1000, ignore: string[] = []): Promise<string[]> {
  const relevant = () => liveHandles().filter((h) => /Timeout|TCPSocketWrap|TLSWrap|UDPWrap|Immediate/.test(h) && !ignore.includes(h));
  const end = Date.now() + ms;
  while (relevant().length && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return relevant();
}

/**
 * After a check, nothing of it may stay alive: the handles of `kinds` return to the `baseline`
 * (liveHandles() taken before it); closing sockets get up to a second to go.
 */
export async function assertNoLeaks(baseline: string[], kinds: readonly string[] = ['TCPSocketWrap', 'TLSWrap', 'Timeout', 'ConnectWrap']): Promise<void> {
  const count = (l: string[], k: string) => l.filter((x) => x === k).length;
  let now = liveHandles();
  for (let i = 0; i < 20 && kinds.some((k) => count(now, k) > count(baseline, k)); i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = liveHandles();
  }
  for (const kind of kinds) {
    assert.ok(count(now, kind) <= count(baseline, kind), `${kind} left open: before ${baseline.join(',')} / after ${now.join(',')}`);
  }
}

/**
 * Runs `checks` (through runYaml) in a child process of their own and gives back each result as
 * [status, step], the exit code, stderr and how long the child took. The child exits only when
 * nothing of a check is left alive, so a forgotten socket or timer shows as a long `ms` (or a
 * kill after `killAfterMs`, code null).
 */
export async function runInChild(checks: Record<string, unknown>[], killAfterMs = 15_000): Promise<{ code: number | null; stderr: string; results: [string, string | null][]; ms: number }> {
  const script = `
    import { runYaml } from './test/helpers/check.ts';
    const results = await runYaml(process.argv[1]);
    console.log(JSON.stringify(results.map((r) => [r.status, r.step ?? null])));
  `;
  const t0 = performance.now();
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(checks)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
  const ms = performance.now() - t0;
  assert.equal(out.code, 0, out.stderr);
  return { code: out.code, stderr: out.stderr, results: JSON.parse(out.stdout.trim()) as [string, string | null][], ms };
}

/**
 * runInChild for [check options, [status, step]] pairs: each check must come out so, and the
 * child must exit on its own within 10 s (a surviving timer or socket would keep it alive).
 */
export async function assertChildExits(cases: readonly (readonly [Record<string, unknown>, readonly [string, string | null]])[], killAfterMs?: number): Promise<{ stderr: string }> {
  const out = await runInChild(cases.map(([c]) => c), killAfterMs);
  assert.deepEqual(out.results, cases.map(([, r]) => [...r]));
  assert.ok(out.ms < 10_000, `took ${Math.round(out.ms)} ms`);
  return out;
}

/**
 * A check against a server that accepts and never says a word, once per [extra options, step]:
 * `check(port, { timeout: 1, ...extra })` must fail at `step` with "timed out after 1s", within
 * 3 s, and close its connection; `each` (the caller's secret checks) runs on every result.
 */
export async function silentServerCases(
  check: CheckOptions,
  cases: readonly (readonly [Record<string, unknown>, string])[],
  each: (r: CheckResult) => void = () => {},
  o: {
    /**
     * Also: no socket or timer is left in this process afterwards (assertNoLeaks), and no timer
     * of the check outlives it (a driver's own timer, set past the deadline, must go with it).
     */
    leaks?: boolean;
  } = {},
): Promise<CheckResult[]> {
  const handles = o.leaks ? liveHandles() : undefined;
  const hole = await blackHole();
  const results: CheckResult[] = [];
  try {
    for (const [extra, step] of cases) {
      const timers = () => liveHandles().filter((h) => h === 'Timeout').length;
      const timersBefore = timers();
      const t0 = performance.now();
      const r = await runOne(check(hole.port, { timeout: 1, ...extra }));
      const ms = performance.now() - t0;
      assert.equal(r.status, 'failed', `${JSON.stringify(extra)}: expected a failure, got ${JSON.stringify(r)}`);
      assert.equal(r.step, step, JSON.stringify(r));
      assert.equal(r.error, 'timed out after 1s', JSON.stringify(r));
      if (o.leaks) {
        // (a cleared timer goes at once; 200 ms for the teardown's own promises)
        for (let i = 0; i < 10 && timers() > timersBefore; i++) await new Promise((res) => setTimeout(res, 20));
        assert.ok(timers() <= timersBefore, `${JSON.stringify(extra)}: a timer outlived the check (${timers()} now, ${timersBefore} before)`);
      }
      assert.ok(ms < 3000, `${JSON.stringify(extra)} took ${Math.round(ms)} ms`);
      await assertClientsClosed(hole.sockets);
      each(r);
      results.push(r);
    }
  } finally {
    await hole.close();
  }
  if (handles) await assertNoLeaks(handles);
  return results;
}

/** A check's options for a server on `port`, plus `extra` options. */
export type CheckOptions = (port: number, extra: Record<string, unknown>) => Record<string, unknown>;

/**
 * A check against a server that greets with another protocol's `banner` (an SSH or SMTP server on
 * the port): `check(port, { timeout: 2 })` goes to `expect` (the caller's failed(...)), and the
 * check must close its connection.
 */
export async function otherProtocolCase(check: CheckOptions, banner: string, expect: (r: CheckResult) => void): Promise<void> {
  // it reads (and drops) what comes, so that the client's close is noticed
  const other = await listen((s) => s.resume().write(banner));
  try {
    expect(await runOne(check(other.port, { timeout: 2 })));
    await assertClientsClosed(other.sockets);
  } finally {
    await other.close();
  }
}

/** What an SSH server says first, and an SMTP server: other protocols on a checked port. */
export const SSH_BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n';
export const SMTP_BANNER = '220 mail.example ESMTP\r\n';

/**
 * Runs each check (one after the other, passing and failing ones); a moment (`settleMs`) later
 * no more handles of `kinds` (timers, sockets) are alive in this process than before.
 */
export async function assertLeavesNothing(
  checks: readonly Record<string, unknown>[],
  o: { kinds?: readonly string[]; settleMs?: number } = {},
): Promise<void> {
  const kinds = o.kinds ?? ['Timeout', 'TCPSocketWrap', 'TLSWrap'];
  const count = () => liveHandles().filter((h) => kinds.includes(h)).length;
  const before = count();
  for (const c of checks) await runOne(c);
  await new Promise((r) => setTimeout(r, o.settleMs ?? 100));
  assert.ok(count() <= before, `left behind: ${liveHandles().join(', ')}`);
}

/** The line TLS checks add to details about the test certificate (helpers/tls.ts: 29 days left). */
export const TEST_CERT_LINE = /^TLSv1\.[23], cert CN=localhost \(issuer CN=conn-check test CA\) expires in 29 days$/;

/**
 * min_cert_days against the test certificate (29 days left): `options({ min_cert_days: 60 })`
 * fails at cert; `options({ min_cert_days: 7 })` passes and its details tell the days left.
 * `a` is the file's resultAssertions (so its secrets are looked for too). Gives back the pass.
 */
export async function certDaysCases(options: (extra: Record<string, unknown>) => Record<string, unknown>, a: Pick<ReturnType<typeof resultAssertions>, 'failed' | 'passed'>): Promise<CheckResult> {
  a.failed(await runOne(options({ min_cert_days: 60 })), 'cert', 'certificate expires in 29 days (minimum 60)');
  const enough = await runOne(options({ min_cert_days: 7 }));
  a.passed(enough);
  assert.ok(enough.details?.some((d) => TEST_CERT_LINE.test(d)), `no certificate line in ${JSON.stringify(enough.details)}`);
  return enough;
}
