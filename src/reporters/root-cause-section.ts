// Root causes first (issue 13): the findings nothing explains, each with what it explains folded
// under it, so that a reader fixes two faults rather than reading ten errors. The engine linked the
// findings (src/engine/root-causes.ts); this only follows the links the report carries.
import type { ChalkInstance } from 'chalk';
import type { Finding, Report, ReportFindingRef } from '../engine/types.ts';
import { resourcePrefix } from './format.ts';
import { terminalText } from './sanitize.ts';

/** The consequences of one root cause that one check reported about one cluster. */
export interface ConsequenceGroup {
  checkId: string;
  /** The cluster the findings concern (Finding.cluster). */
  cluster: string;
  findings: Finding[];
}

/** A root cause and every finding it leads to, directly or through other consequences. */
export interface RootCauseEntry {
  ref: ReportFindingRef;
  finding: Finding;
  /** By check and cluster, in report order. */
  consequences: ConsequenceGroup[];
}

/** What the section shows. */
export interface RootCauseSummary {
  rootCauses: RootCauseEntry[];
  /** Distinct findings explained (a finding several root causes lead to counts once). */
  explained: number;
}

/** The finding `ref` names in `report`, if the report has it. */
export function findingAt(report: Report, ref: ReportFindingRef): Finding | undefined {
  return report.results.find((result) => result.checkId === ref.checkId && result.cluster === ref.cluster)?.findings[ref.index];
}

/**
 * Each root cause of `report` with the findings it leads to: a consequence folds under every root
 * cause its `explainedBy` chain reaches (a consequence of a consequence under the root cause at the
 * end of the chain), grouped by check and the cluster the finding concerns.
 */
export function summarizeRootCauses(report: Report): RootCauseSummary {
  const resultIndex = new Map(report.results.map((result, r) => [`${result.checkId}\u0000${result.cluster}`, r]));
  const keyOf = (ref: ReportFindingRef): string | undefined => {
    const r = resultIndex.get(`${ref.checkId}\u0000${ref.cluster}`);
    return r === undefined || report.results[r].findings[ref.index] === undefined ? undefined : `${r}:${ref.index}`;
  };
  const rootKeys = new Map<string, number>();
  report.rootCauses.forEach((ref, i) => {
    const key = keyOf(ref);
    if (key !== undefined) rootKeys.set(key, i);
  });
  const parents = new Map<string, string[]>();
  report.results.forEach((result, r) =>
    result.findings.forEach((finding, f) => {
      if (finding.explainedBy) parents.set(`${r}:${f}`, finding.explainedBy.map(keyOf).filter((key): key is string => key !== undefined));
    }),
  );
  // The root causes a consequence's chain reaches; explainers in a cycle are visited once.
  const rootsOf = (start: string): Set<number> => {
    const roots = new Set<number>();
    const seen = new Set([start]);
    const queue = [...(parents.get(start) ?? [])];
    while (queue.length > 0) {
      const key = queue.shift()!;
      if (seen.has(key)) continue;
      seen.add(key);
      const root = rootKeys.get(key);
      if (root !== undefined) roots.add(root);
      else queue.push(...(parents.get(key) ?? []));
    }
    return roots;
  };
  const entries: RootCauseEntry[] = [];
  const entryOf = new Map<number, RootCauseEntry>();
  report.rootCauses.forEach((ref, i) => {
    const finding = findingAt(report, ref);
    if (!finding) return;
    const entry = { ref, finding, consequences: [] };
    entries.push(entry);
    entryOf.set(i, entry);
  });
  let explained = 0;
  report.results.forEach((result, r) =>
    result.findings.forEach((finding, f) => {
      const key = `${r}:${f}`;
      if (!parents.has(key) || rootKeys.has(key)) return;
      const roots = [...rootsOf(key)].sort((a, b) => a - b);
      if (roots.length > 0) explained++;
      for (const root of roots) {
        const entry = entryOf.get(root)!;
        let group = entry.consequences.find((g) => g.checkId === finding.checkId && g.cluster === finding.cluster);
        if (!group) entry.consequences.push((group = { checkId: finding.checkId, cluster: finding.cluster, findings: [] }));
        group.findings.push(finding);
      }
    }),
  );
  return { rootCauses: entries, explained };
}

/**
 * "N root causes explain M findings", each root cause with its message, its hint and its
 * consequences by check and cluster (their messageIds and counts; the listing below has the
 * details). No lines when no finding is an error or a warning. Every text from the report goes
 * through terminalText here, whether or not the caller sanitized the report.
 */
export function rootCauseSection(report: Report, chalk: ChalkInstance): string[] {
  const { rootCauses, explained } = summarizeRootCauses(report);
  if (rootCauses.length === 0) return [];
  const t = terminalText;
  const causes = plural(rootCauses.length, 'root cause');
  const verb = rootCauses.length === 1 ? 'explains' : 'explain';
  const lines = [chalk.bold(explained > 0 ? `${causes} ${verb} ${plural(explained, 'finding')}` : `${causes} (${rootCauses.length === 1 ? 'it explains' : 'they explain'} no other finding)`)];
  // Numbered, so that a root cause's line never reads as a check line of the listing (`  ✖ id [cluster]`).
  const number = (n: number) => `${n}.`.padStart(String(rootCauses.length).length + 1);
  const indent = ' '.repeat(number(1).length + 5);
  rootCauses.forEach(({ finding, consequences }, i) => {
    const mark = finding.severity === 'error' ? chalk.red('✖') : chalk.yellow('‼');
    const prefix = resourcePrefix(finding);
    const where = prefix ? `${t(prefix)}: ` : '';
    lines.push('', `  ${number(i + 1)} ${mark} ${chalk.bold(`${t(finding.checkId)} [${t(finding.cluster)}]`)}`, `${indent}${where}${t(finding.message)}`);
    if (finding.hint) lines.push(`${indent}${chalk.cyan(`hint: ${t(finding.hint)}`)}`);
    if (finding.docsUrl) lines.push(`${indent}${chalk.dim(`docs: ${t(finding.docsUrl)}`)}`);
    if (consequences.length === 0) return;
    const count = consequences.reduce((total, group) => total + group.findings.length, 0);
    lines.push(`${indent}${chalk.dim(`explains ${plural(count, 'finding')}:`)}`);
    const labels = consequences.map((group) => `${t(group.checkId)} [${t(group.cluster)}]`);
    const width = Math.max(...labels.map((label) => label.length));
    consequences.forEach((group, g) => lines.push(`${indent}  ${labels[g].padEnd(width)}  ${messageCounts(group.findings, chalk)}`));
  });
  return lines;
}

/** `tlsFailure`, `workloadRootNotShared x2`: each messageId of `findings` in its severity's colour. */
function messageCounts(findings: readonly Finding[], chalk: ChalkInstance): string {
  const counts = new Map<string, { finding: Finding; count: number }>();
  for (const finding of findings) {
    const seen = counts.get(finding.messageId);
    if (seen) seen.count++;
    else counts.set(finding.messageId, { finding, count: 1 });
  }
  return [...counts.values()]
    .map(({ finding, count }) => {
      const text = `${terminalText(finding.messageId)}${count > 1 ? ` x${count}` : ''}`;
      return finding.severity === 'error' ? chalk.red(text) : chalk.yellow(text);
    })
    .join(', ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * What a finding of `report` is in the root-cause links, for reporters that mark findings in place
 * (JUnit): `root cause`, `consequence of <check> on <cluster>: <messageId>` (each explainer, `; `
 * between, the cluster the explaining finding concerns), or undefined (an info finding, or one the
 * report does not link). Findings are matched by identity: pass findings of this very report.
 */
export function rootCauseNotes(report: Report): (finding: Finding) => string | undefined {
  const roots = new Set(report.rootCauses.map((ref) => findingAt(report, ref)));
  return (finding) => {
    if (roots.has(finding)) return 'root cause';
    if (!finding.explainedBy || finding.explainedBy.length === 0) return undefined;
    const causes = finding.explainedBy.map((ref) => `${ref.checkId} on ${findingAt(report, ref)?.cluster ?? ref.cluster}: ${ref.messageId}`);
    return `consequence of ${causes.join('; ')}`;
  };
}
