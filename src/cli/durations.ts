import { UsageError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a duration like `20s`, `1m30s`, `500ms` or a bare number of seconds into milliseconds.
 * Invalid input is a UsageError naming the flag.
 */
export function parseDuration(value: string | number, flag: string): number {
  let ms: number | undefined;
  if (typeof value === 'number' || /^\d+(\.\d+)?$/.test(value)) {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) ms = Math.round(seconds * 1000);
  } else {
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length && parts.map((p) => p[0]).join('') === value) {
      ms = Math.round(parts.reduce((total, [, n, unit]) => total + Number(n) * UNITS[unit], 0));
    }
  }
  if (ms === undefined) throw new UsageError(`invalid duration for ${flag}: "${value}" (use e.g. 20s, 1m30s, 500ms)`);
  // Node timers hold at most 2^31-1 ms (about 24.8 days); a larger one would fire at once.
  if (ms > MAX_TIMER_MS) throw new UsageError(`duration for ${flag} too long: "${value}" (at most 24 days)`);
  return ms;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
