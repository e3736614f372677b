import { UsageError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a duration like `20s`, `1m30s`, `500ms` or a bare number of seconds into milliseconds.
 * Invalid input is a UsageError naming the flag.
 */
export function parseDuration(value: string | number, flag: string): number {
  if (typeof value === 'number' || /^\d+(\.\d+)?$/.test(value)) {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  } else {
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length && parts.map((p) => p[0]).join('') === value) {
      return Math.round(parts.reduce((total, [, n, unit]) => total + Number(n) * UNITS[unit], 0));
    }
  }
  throw new UsageError(`invalid duration for ${flag}: "${value}" (use e.g. 20s, 1m30s, 500ms)`);
}
