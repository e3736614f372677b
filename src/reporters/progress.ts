// Progress on stderr while checks run, so stdout stays a clean report (a JSON document may be
// piped from it).
import ora from 'ora';
import { terminalText } from './sanitize.ts';

/** Progress of a run, as the engine reports it. */
export interface Progress {
  /** Called once, with the number of (check, cluster) runs planned. */
  start(total: number): void;
  /** One run finished. */
  tick(checkId: string, cluster: string): void;
  /** `--wait` between rounds: the line reads `text` (what fails, the time left) until the next start. */
  waiting(text: string): void;
  /** Clear the spinner (also after an early abort). */
  stop(): void;
  /** Whether a line is drawn in place; when not, the caller prints what it has to say as lines. */
  readonly live: boolean;
}

/** Options of createProgress. */
export interface ProgressOptions {
  /** Show a spinner; see shouldShowProgress. False returns a no-op. */
  enabled: boolean;
  /** Where to draw; stderr by default. Only a terminal stream (with cursor control) gets a spinner. */
  stream?: ProgressStream;
}

/** The least a caller's stream has; a spinner needs a tty.WriteStream (see isTerminalStream). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** A spinner only makes sense on an interactive stderr, and CI logs would fill with its frames. */
export function shouldShowProgress(
  stream: { isTTY?: boolean } = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return stream.isTTY === true && !env.CI;
}

/** ora moves the cursor and waits for 'drain': a test double with only write() would crash it. */
function isTerminalStream(stream: ProgressStream): stream is ProgressStream & NodeJS.WritableStream {
  const candidate = stream as Partial<Record<'cursorTo' | 'clearLine' | 'moveCursor' | 'once', unknown>>;
  return stream.isTTY === true && [candidate.cursorTo, candidate.clearLine, candidate.moveCursor, candidate.once].every((method) => typeof method === 'function');
}

const NO_PROGRESS: Progress = { start() {}, tick() {}, waiting() {}, stop() {}, live: false };

/** An ora spinner reading "running checks (12/40) <last check> [cluster]", or a no-op when disabled. */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (!options.enabled || !isTerminalStream(stream)) return NO_PROGRESS;
  // A TTY that reports no width (docker run -t, kubectl exec -t) makes ora redraw in a tight loop.
  const columns = (stream as { columns?: number }).columns;
  if (!columns || columns <= 0) return NO_PROGRESS;
  // The caller decided: do not let ora second-guess the stream; leave stdin alone (no raw mode).
  const spinner = ora({ stream, isEnabled: true, discardStdin: false });
  let done = 0;
  let total = 0;
  return {
    live: true,
    // Called again for each --wait round with that round's tasks: the count never passes its total.
    start(planned) {
      total = planned;
      done = 0;
      if (spinner.isSpinning) spinner.text = `running checks (0/${total}) ...`;
      else spinner.start(`running checks (0/${total}) ...`);
    },
    waiting(text) {
      spinner.text = terminalText(text);
    },
    tick(checkId, cluster) {
      done = Math.min(done + 1, total);
      spinner.text = terminalText(`running checks (${done}/${total}) ... ${checkId} [${cluster}]`);
    },
    stop() {
      if (spinner.isSpinning) spinner.stop();
    },
  };
}
