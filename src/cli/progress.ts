/**
 * Progress on stderr while checks run, for a person watching or a log that would otherwise stay
 * silent for minutes: after each retry (how many checks still fail, the time left for --wait
 * or --max-timeout), and during long runs. On a terminal it is one live line, rewritten in
 * place and erased at the end; elsewhere plain lines, few of them (at most one every 5 s for
 * retries, one every 30 s for a long run). With -v each retry is also told on its own line.
 */
import type { CheckSpec } from '../config/index.js';
import type { CheckResult } from '../runner/result.js';
import { now } from '../core/clock.js';

export interface ProgressOptions {
  write: (s: string) => void;
  /** stderr is a terminal: one live line. */
  live: boolean;
  verbose: boolean;
  /** Keeps names and driver text free of secrets. */
  redact: (s: string) => string;
  waitS?: number;
  maxTimeoutS?: number;
  now?: () => number;
}

const LIVE_TICK_MS = 1000;
const LIVE_AFTER_MS = 2000;
const PLAIN_TICK_MS = 30_000;
const PLAIN_RETRY_EVERY_MS = 5000;
const MAX_LINE = 160;

export class Progress {
  private readonly started: number;
  private readonly now: () => number;
  private running = 0;
  private done = 0;
  private readonly failing = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private lastPlain = -Infinity;
  private lastFailingCount = -1;
  private shown = false;

  constructor(private readonly o: ProgressOptions) {
    this.now = o.now ?? now;
    this.started = this.now();
    this.timer = setInterval(() => this.tick(), o.live ? LIVE_TICK_MS : PLAIN_TICK_MS);
    this.timer.unref();
  }

  onStart(): void {
    this.running++;
  }

  onResult(result: CheckResult): void {
    if (result.status !== 'skipped') this.running = Math.max(0, this.running - 1);
    this.done++;
    this.failing.delete(result.name);
    if (this.o.live && this.shown) this.render();
  }

  onRetry(check: CheckSpec, retry: { attempt: number; step?: string; error?: string; delayMs: number }): void {
    const why = `${retry.step ? `${retry.step}: ` : ''}${retry.error ?? 'failed'}`;
    this.failing.set(check.name, why);
    if (this.o.verbose) {
      this.clear();
      this.o.write(this.o.redact(`Retrying ${check.name} in ${secs(retry.delayMs)} (attempt ${retry.attempt} failed: ${why})`) + '\n');
    }
    if (this.o.live) return this.render();
    const t = this.now();
    if (t - this.lastPlain >= PLAIN_RETRY_EVERY_MS || this.failing.size !== this.lastFailingCount) this.plain(t);
  }

  /** Writes a line of its own (-v's "Starting ..."), below nothing: the live line is erased first. */
  say(line: string): void {
    this.clear();
    this.o.write(line);
  }

  /** Erases the live line and stops the timer. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private tick(): void {
    const elapsed = this.now() - this.started;
    if (this.o.live) {
      if (elapsed >= LIVE_AFTER_MS) this.render();
    } else if (elapsed >= PLAIN_TICK_MS) this.plain(this.now());
  }

  private plain(t: number): void {
    this.lastPlain = t;
    this.lastFailingCount = this.failing.size;
    this.o.write(this.o.redact(this.line()) + '\n');
  }

  private render(): void {
    const text = this.o.redact(this.line());
    this.o.write(`\r\x1b[K${text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 3)}...` : text}`);
    this.shown = true;
  }

  private clear(): void {
    if (this.o.live && this.shown) this.o.write('\r\x1b[K');
    this.shown = false;
  }

  /** `conn-check: 7 done, 3 running; 2 still failing (db: tcp: connection refused, +1 more); 41s left of --wait` */
  line(): string {
    const parts = [`${this.done} done, ${this.running} running`];
    if (this.failing.size) {
      const [name, why] = this.failing.entries().next().value as [string, string];
      parts.push(`${this.failing.size} still failing (${name}: ${why}${this.failing.size > 1 ? `, +${this.failing.size - 1} more` : ''})`);
    }
    const elapsedS = (this.now() - this.started) / 1000;
    if (this.o.waitS !== undefined) parts.push(`${Math.max(0, Math.ceil(this.o.waitS - elapsedS))}s left of --wait`);
    else if (this.o.maxTimeoutS !== undefined) parts.push(`${Math.max(0, Math.ceil(this.o.maxTimeoutS - elapsedS))}s left of --max-timeout`);
    else parts.push(`${Math.floor(elapsedS)}s so far`);
    return `conn-check: ${parts.join('; ')}`;
  }
}

function secs(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}
