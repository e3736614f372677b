/** Invalid invocation or input: the CLI prints the message as one line and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Error classes whose message is already a clear one-liner for the user (exit 2). */
const USER_INPUT_ERRORS = new Set(['UsageError', 'RegistryError', 'KubeconfigError', 'SnapshotError', 'LabError', 'YError', 'OutputSpecError']);

/** True when the error is about the user's input (exit 2) rather than a bug. */
export function isUserInputError(err: unknown): err is Error {
  return err instanceof Error && USER_INPUT_ERRORS.has(err.name);
}

/** One line, no stack: the first line of the message. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].trim() || 'unknown error';
}
