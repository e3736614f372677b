/** Where the CLI writes and what it knows of its environment; tests pass their own. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  version: string;
  columns?: number;
  /** Called on SIGINT/SIGTERM registration (the real process); tests leave it out. */
  onInterrupt?(handler: () => void): () => void;
}
