/** Runs checks in-process through the real pipeline (parse, validate, run), for check tests. */
import { parseConfig } from '../../src/config/load.js';
import { runChecks, type RunOptions } from '../../src/runner/run.js';
import type { CheckResult } from '../../src/runner/result.js';

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
