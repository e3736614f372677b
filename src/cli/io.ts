/** Where the CLI writes and what it knows of its environment; tests pass their own. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  version: string;
  columns?: number;
  /**
   * "Now" for everything the run judges or shows by time (certificate and token expiry, the lab's
   * mesh certificates, a snapshot's age, the report's start): the wall clock unless a test pins it.
   * Durations are measured on the monotonic clock, not with this.
   */
  now?(): Date;
  /** Called on SIGINT/SIGTERM registration (the real process); tests leave it out. */
  onInterrupt?(handler: () => void): () => void;
}

/** The CLI's "now" (see CliIO.now). */
export function nowOf(io: Pick<CliIO, 'now'>): Date {
  return io.now ? io.now() : new Date();
}
