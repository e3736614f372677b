// How probes run in a pod: every probe is an exec with a deadline of its own plus some slack for
// the exec itself, and reads the first line of what the tool printed.
import type { ExecOptions } from '../../cluster/types.ts';

/** Time an exec gets on top of the probe's own timeout (WebSocket handshake, process start). */
export const EXEC_SLACK_MS = 5000;

/** Exec options of a probe bounded by `timeoutMs`. */
export function probeExecOptions(timeoutMs: number, signal?: AbortSignal): ExecOptions {
  return { timeoutMs: timeoutMs + EXEC_SLACK_MS, ...(signal ? { signal } : {}) };
}

/** curl's `-m` in whole-or-fractional seconds. */
export function seconds(ms: number): string {
  return String(Math.max(0.1, ms / 1000));
}

/** The first line of a tool's output ('' when none). */
export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
