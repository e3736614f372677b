import type { CheckResult, Report, Summary } from './types.ts';

/** The `--fail-on` threshold. */
export type FailOn = Report['failOn'];

/** Exit codes, the same for every output format. 2 (invalid invocation) is decided by the CLI. */
export const EXIT = { ok: 0, findings: 1, usage: 2, incomplete: 3 } as const;

/**
 * Pure: 1 when a finding is at or above the threshold; else 3 when some check could not run
 * (outcome `error`); else 0. With `never`, findings never fail the run, but a run that could not
 * check everything still says so with 3.
 */
export function exitCodeFor(results: CheckResult[], failOn: FailOn): 0 | 1 | 3 {
  const failing = results.some((r) =>
    r.findings.some((f) => (failOn === 'error' && f.severity === 'error') || (failOn === 'warning' && (f.severity === 'error' || f.severity === 'warning'))),
  );
  if (failing) return EXIT.findings;
  if (results.some((r) => r.outcome === 'error')) return EXIT.incomplete;
  return EXIT.ok;
}

/** Totals, computed once here; reporters never re-count. */
export function summarize(results: CheckResult[]): Summary {
  const summary: Summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, errors: 0, warnings: 0 };
  for (const result of results) {
    summary[result.outcome] += 1;
    for (const finding of result.findings) {
      if (finding.severity === 'error') summary.errors += 1;
      else if (finding.severity === 'warning') summary.warnings += 1;
    }
  }
  return summary;
}
