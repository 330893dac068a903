/**
 * The system resolver (getaddrinfo, through dns.lookup: /etc/hosts and nsswitch count, as in
 * curl and conn-check) for every check, shared and bounded:
 *  - one lookup in flight per name and family, whose answer every check that asked meanwhile
 *    gets (Go's resolver does the same: singleflight); so is the explanation of a failure;
 *  - at most one thread fewer than libuv's pool in flight at once; a lookup waiting for a thread
 *    that no check waits for any more is dropped.
 * getaddrinfo runs on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise),
 * which file reads, zlib and crypto share. A DNS server that drops queries holds a thread for
 * its whole timeout (5 s with glibc's defaults): seen here, twenty checks of one name that did
 * not resolve held all four threads, and the lookup of "localhost" (from /etc/hosts), ca_file
 * reads, gzip bodies and SCRAM logins of every other check waited behind them for seconds.
 */
import { nodeDnsPromises } from './builtins.js';

export interface Found {
  address: string;
  family: number;
}

interface Flight<T> {
  readonly answer: Promise<T>;
  /** Aborts when no caller waits any more. */
  readonly abandoned: AbortController;
  waiting: number;
}

const flights = new Map<string, Flight<unknown>>();

/**
 * `start()` once per `key` in flight: every caller until it settles gets its answer. A caller
 * whose signal aborts leaves at once (rejected with its reason); when the last one leaves, the
 * signal given to `start` aborts, and the next caller starts anew.
 */
export function shared<T>(key: string, start: (abandoned: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let flight = flights.get(key) as Flight<T> | undefined;
  if (flight === undefined) {
    const abandoned = new AbortController();
    const answer = start(abandoned.signal);
    const made: Flight<T> = { answer, abandoned, waiting: 0 };
    const land = () => {
      if (flights.get(key) === made) flights.delete(key);
    };
    answer.then(land, land);
    flights.set(key, (flight = made));
  }
  const f = flight;
  f.waiting++;
  return new Promise<T>((resolve, reject) => {
    let out = false;
    const leave = () => {
      out = true;
      f.waiting--;
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      if (out) return;
      leave();
      if (f.waiting === 0) {
        if (flights.get(key) === f) flights.delete(key);
        f.abandoned.abort(signal.reason);
      }
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    f.answer.then(
      (value) => {
        if (out) return;
        leave();
        resolve(value);
      },
      (err: unknown) => {
        if (out) return;
        leave();
        reject(err);
      },
    );
  });
}

/** How many lookups may be in flight at once: all threads of the pool but one. */
export function maxLookups(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  const pool = Number.isInteger(size) && size > 0 ? Math.min(size, 1024) : 4;
  return Math.max(1, pool - 1);
}
const LIMIT = maxLookups();
let running = 0;
const waitingForThread: { go: (ok: boolean) => void; abandoned: AbortSignal }[] = [];

/** Resolves true once a lookup may begin, false if `abandoned` aborts first. */
function thread(abandoned: AbortSignal): Promise<boolean> {
  if (running < LIMIT) {
    running++;
    return Promise.resolve(true);
  }
  return new Promise<boolean>((go) => {
    const waiter = { go, abandoned };
    waitingForThread.push(waiter);
    abandoned.addEventListener(
      'abort',
      () => {
        const i = waitingForThread.indexOf(waiter);
        if (i !== -1) waitingForThread.splice(i, 1);
        go(false);
      },
      { once: true },
    );
  });
}

function threadDone(): void {
  running--;
  const next = waitingForThread.shift();
  if (next) {
    running++;
    next.go(true);
  }
}

/**
 * The addresses of `host` for `family` (0: both), as dns.lookup(host, { all, family, verbatim })
 * gives them; rejects with the signal's reason as soon as it aborts.
 */
export function lookupAll(host: string, family: 0 | 4 | 6, signal: AbortSignal): Promise<Found[]> {
  return shared(
    `lookup ${family} ${host}`,
    async (abandoned) => {
      if (!(await thread(abandoned))) throw abandoned.reason;
      try {
        // (the resolver is read at each lookup, so that a test's mock of it counts)
        return (await nodeDnsPromises().lookup(host, { all: true, family, verbatim: true })) as Found[];
      } finally {
        threadDone();
      }
    },
    signal,
  );
}
