// How cluster access words what went wrong: one line of an error, a duration in seconds. A leaf
// module, so kubeconfig parsing, exec credentials and the HTTP layer share it without importing
// one another.

/** The first line of an error's message. */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** A duration as `3s` or `2.5s`. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
