/**
 * One timer for all the deadlines of a run, instead of a setTimeout (a Timeout object, its async
 * id, its list) and a clearTimeout per check attempt: a binary min-heap of deadlines and one
 * Node timer armed for the earliest. Checks started together with the same timeout arrive in
 * deadline order, so an add is O(1) in practice and a removal O(log n); the timer is re-armed
 * only when a deadline earlier than the one it waits for arrives, or when it fires.
 *
 * The timer is ref'd (as a check's own timer was): a check that ignores its signal and holds
 * nothing open still gets reported at its deadline. close() clears it at the end of the run.
 */
import { now as clock } from '../core/clock.js';

/** What a deadline calls when it passes. */
export interface Expiring {
  expire(): void;
}

export interface Deadline {
  /** When, in milliseconds on the scheduler's clock. */
  readonly at: number;
}

/** The longest delay setTimeout honours (a longer one fires after 1 ms, with a warning). */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Entry extends Deadline {
  target: Expiring;
  /** Position in the heap; -1 once fired or removed. */
  index: number;
}

export class Deadlines {
  private readonly heap: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer is due (Infinity: none armed). */
  private armedAt = Infinity;

  constructor(private readonly now: () => number = clock) {}

  /** How many deadlines are pending. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest pending deadline's time, if any. */
  get next(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Whether a timer is armed (one keeps the process alive while a deadline is pending). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Calls `target.expire()` once `at` has passed, unless the deadline is removed first. */
  add(at: number, target: Expiring): Deadline {
    const e: Entry = { at, target, index: this.heap.length };
    this.heap.push(e);
    this.up(e.index);
    if (at < this.armedAt) this.arm(at);
    return e;
  }

  /** Forgets a deadline (the attempt ended first); a no-op for one that fired or was removed. */
  remove(d: Deadline): void {
    const e = d as Entry;
    const i = e.index;
    if (i < 0) return;
    e.index = -1;
    const last = this.heap.pop()!;
    if (last !== e) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
    // Nothing left to wait for: no timer keeps the process alive. (An armed timer whose deadline
    // went away otherwise just fires early, finds nothing due and re-arms for the next one.)
    if (this.heap.length === 0) this.disarm();
  }

  /** Clears the timer and forgets every deadline. */
  close(): void {
    for (const e of this.heap) e.index = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = at;
    // (at most what setTimeout takes: a later deadline is re-armed for when this one fires)
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(at - this.now()))));
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    // Node's timers run on the event loop's cached clock, which can be a little behind: a
    // deadline up to a millisecond away counts as passed rather than costing another timer.
    const t = this.now() + 1;
    const due: Entry[] = [];
    while (this.heap.length && this.heap[0]!.at <= t) {
      const e = this.heap[0]!;
      this.remove(e);
      due.push(e);
    }
    if (this.heap.length) this.arm(this.heap[0]!.at);
    // (after re-arming: an expire() that adds or removes deadlines finds the heap consistent)
    for (const e of due) e.target.expire();
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      h[i]!.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1]!.at < h[c]!.at) c++;
      if (h[c]!.at >= e.at) break;
      h[i] = h[c]!;
      h[i]!.index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}
