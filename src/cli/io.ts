/** What the CLI reads and writes: the process's streams and environment, or a test's. */
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Reads standard input, stopping once it has more than `limit` bytes (the caller refuses those). */
  readStdin: (limit: number) => Uint8Array;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal?: AbortSignal;
  /** Which of stdout and stderr are terminals (colour, the live progress line). */
  isTTY?: { stdout?: boolean; stderr?: boolean };
}
