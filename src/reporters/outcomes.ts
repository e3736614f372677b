// Presentation helpers over outcomes shared by the human and JUnit reporters. Run totals come
// from report.summary (computed once by the engine); these only group results for one table
// cell or one JUnit suite.
import type { CheckResult, Outcome } from '../engine/types.ts';
import { CATEGORIES } from '../engine/types.ts';

/** Outcomes from worst to best: what a summary cell shows when a group has several. */
export const OUTCOMES_WORST_FIRST: readonly Outcome[] = ['fail', 'error', 'warn', 'skip', 'pass'];

/** Number of results per outcome. */
export type OutcomeCounts = Record<Outcome, number>;

/** Count the outcomes of a group of results (one category, or one cluster x category cell). */
export function countOutcomes(results: readonly CheckResult[]): OutcomeCounts {
  const counts: OutcomeCounts = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
  for (const result of results) counts[result.outcome] += 1;
  return counts;
}

/** The worst outcome present in `counts`, or undefined for an empty group. */
export function worstOutcome(counts: OutcomeCounts): Outcome | undefined {
  return OUTCOMES_WORST_FIRST.find((outcome) => counts[outcome] > 0);
}

/**
 * Results grouped by category, categories in CATEGORIES order (a category a plugin invents goes
 * last, alphabetically), results in report order; empty categories are left out.
 */
export function groupByCategory(results: readonly CheckResult[]): [string, CheckResult[]][] {
  const groups = new Map<string, CheckResult[]>();
  for (const result of results) {
    const group = groups.get(result.category) ?? [];
    group.push(result);
    groups.set(result.category, group);
  }
  const rank = (category: string): number => {
    const index = (CATEGORIES as readonly string[]).indexOf(category);
    return index === -1 ? CATEGORIES.length : index;
  };
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}
