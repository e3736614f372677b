// Work the checks of one run share. Some answers cost traffic or time and must be asked once per
// run, not once per check: the connectivity probe round is sent once per source pod and read by
// connectivity/http and connectivity/cross-cluster alike (the Envoy counters would count the other
// check's requests if each sent its own). The engine owns the memo: runChecks makes one per round,
// so a `--wait` retry measures afresh instead of judging the round it already judged.
import type { RunMemo } from './types.ts';

/** A memo for one run round. */
export function createRunMemo(): RunMemo {
  const entries = new Map<string, Promise<unknown>>();
  return {
    get<T>(key: string, start: () => Promise<T>): Promise<T> {
      const existing = entries.get(key);
      if (existing) return existing as Promise<T>;
      const value = start();
      // A rejection is shared with every caller (one answer per question); keep it from being
      // reported as unhandled when nobody else asks.
      value.catch(() => undefined);
      entries.set(key, value);
      return value;
    },
  };
}
