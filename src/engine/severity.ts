import type { Finding, Severity } from './types.ts';

/** Severities from the most to the least severe. */
export const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** The most severe of `findings` (the first of equals, in report order), if any. */
export function mostSevere(findings: readonly Finding[]): Finding | undefined {
  let worst: Finding | undefined;
  for (const finding of findings) if (!worst || SEVERITY_RANK[finding.severity] < SEVERITY_RANK[worst.severity]) worst = finding;
  return worst;
}
