/**
 * The default concurrency follows what bounds it: the open-file limit. A run of 1,000 checks
 * nobody answers should take about one timeout when the machine allows 1,000 sockets at once,
 * and never hit EMFILE when it allows fewer. The soft RLIMIT_NOFILE is read on Linux from
 * /proc/self/limits (Node has no getrlimit); elsewhere FALLBACK_OPEN_FILES is assumed. It is read
 * lazily, once, and only when no --concurrency / concurrency input is given.
 */
import { readFileSync } from 'node:fs';
import {
  CONCURRENCY_FD_HEADROOM,
  CONCURRENCY_FDS_PER_CHECK,
  CONCURRENCY_MAX,
  CONCURRENCY_MIN,
  FALLBACK_OPEN_FILES,
} from '../core/constants.js';

/**
 * The soft "Max open files" limit from the text of /proc/self/limits: a number, Infinity for
 * "unlimited", undefined when the line is missing or unreadable.
 */
export function parseOpenFilesLimit(text: string): number | undefined {
  const m = /^Max open files[ \t]+(\S+)/m.exec(text);
  if (!m) return undefined;
  if (m[1] === 'unlimited') return Infinity;
  if (!/^\d{1,15}$/.test(m[1])) return undefined;
  return Number(m[1]);
}

/** The concurrency an open-file limit allows: (limit - headroom) / descriptors per check, clamped. */
export function concurrencyForOpenFiles(limit: number): number {
  const n = Math.floor((limit - CONCURRENCY_FD_HEADROOM) / CONCURRENCY_FDS_PER_CHECK);
  return Math.max(CONCURRENCY_MIN, Math.min(CONCURRENCY_MAX, Number.isNaN(n) ? CONCURRENCY_MIN : n));
}

/** The soft open-file limit of this process, or FALLBACK_OPEN_FILES where it cannot be read. */
export function openFilesLimit(read: () => string = () => readFileSync('/proc/self/limits', 'latin1')): number {
  if (process.platform !== 'linux') return FALLBACK_OPEN_FILES;
  try {
    return parseOpenFilesLimit(read()) ?? FALLBACK_OPEN_FILES;
  } catch {
    return FALLBACK_OPEN_FILES;
  }
}

let cached: number | undefined;

/** The default concurrency of this process, computed on first use. */
export function defaultConcurrency(): number {
  return (cached ??= concurrencyForOpenFiles(openFilesLimit()));
}

/**
 * The default concurrency of a run of `checks` checks, when none is given: never more than the
 * checks, and the open-file limit is read only when it could matter (it never allows fewer than
 * CONCURRENCY_MIN at once).
 */
export function defaultConcurrencyFor(checks: number): number {
  return checks <= CONCURRENCY_MIN ? checks : defaultConcurrency();
}
