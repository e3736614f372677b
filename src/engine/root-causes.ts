// Root causes: after the run, each finding is linked to the findings of other checks that explain it
// (its message's meta `explainedBy`); a finding nothing explains is a root cause. Pure: the same
// results and checks give the same links.
import type { Check, CheckResult, Explanation, Finding, ReportFindingRef } from './types.ts';

/** A finding by position: `results[result].findings[finding]` of the report. */
export interface FindingRef {
  result: number;
  finding: number;
}

/** What linking found. */
export interface RootCauseLinks {
  /** Error and warning findings nothing explains, in report order. */
  rootCauses: FindingRef[];
  /** Per explained finding (key: refKey), the findings that explain it directly, in report order. */
  explainedBy: Map<string, FindingRef[]>;
}

/** The key of `ref` in RootCauseLinks.explainedBy. */
export function refKey(ref: FindingRef): string {
  return `${ref.result}:${ref.finding}`;
}

interface Node {
  ref: FindingRef;
  finding: Finding;
}

/**
 * Link findings to their explanations. Only error and warning findings take part (an `info` finding
 * is not a problem: it neither explains nor is a root cause). A cycle does not hide both ends: a
 * finding is explained only by findings it does not itself explain, directly or through others, so
 * when A explains B and B explains A (and nothing else explains either) both stay root causes.
 */
export function linkRootCauses(results: readonly CheckResult[], checks: readonly Check[]): RootCauseLinks {
  const byId = new Map(checks.map((check) => [check.id, check]));
  const nodes: Node[] = [];
  results.forEach((result, r) =>
    result.findings.forEach((finding, f) => {
      if (finding.severity !== 'info') nodes.push({ ref: { result: r, finding: f }, finding });
    }),
  );
  // edges[i]: the nodes that explain node i directly.
  const edges = nodes.map(({ finding }) => {
    const explanations = byId.get(finding.checkId)?.meta.messages[finding.messageId]?.explainedBy ?? [];
    const explainers: number[] = [];
    nodes.forEach((other, j) => {
      if (other.finding.checkId !== finding.checkId && explanations.some((e) => explains(e, other.finding, finding))) explainers.push(j);
    });
    return explainers;
  });
  // explainedFrom[i]: every node that explains node i, directly or through others.
  const explainedFrom = nodes.map((_node, i) => {
    const seen = new Set<number>();
    const stack = [...edges[i]];
    while (stack.length > 0) {
      const j = stack.pop()!;
      if (seen.has(j)) continue;
      seen.add(j);
      stack.push(...edges[j]);
    }
    return seen;
  });
  const explainedBy = new Map<string, FindingRef[]>();
  const rootCauses: FindingRef[] = [];
  nodes.forEach((node, i) => {
    // An explainer that node i explains back (the same cycle) does not count.
    const outside = edges[i].filter((j) => !explainedFrom[j].has(i));
    if (outside.length === 0) rootCauses.push(node.ref);
    else explainedBy.set(refKey(node.ref), outside.map((j) => nodes[j].ref));
  });
  return { rootCauses, explainedBy };
}

/** Whether `explainer` (of check `explanation.check`) explains `finding` under the explanation's condition. */
function explains(explanation: Explanation, explainer: Finding, finding: Finding): boolean {
  if (explanation.check !== explainer.checkId || !explanation.messages.includes(explainer.messageId)) return false;
  switch (explanation.when) {
    case 'mesh':
      return true;
    case 'cluster':
      return explainer.cluster === finding.cluster;
    case 'service':
      return explainer.service !== undefined && explainer.service === finding.service && explainer.cluster === finding.cluster;
    case 'peer-pair': {
      if (finding.peer === undefined) return false;
      const pair = [finding.cluster, finding.peer];
      // A finding about one cluster (a gateway, a root of trust) explains every pair it is part of.
      if (explainer.peer === undefined) return pair.includes(explainer.cluster);
      return pair.includes(explainer.cluster) && pair.includes(explainer.peer) && explainer.cluster !== explainer.peer;
    }
  }
}

/** Problems in the declared explanations of `checks`: unknown checks or messageIds, a check explaining itself. */
export function explanationProblems(checks: readonly Check[]): string[] {
  const byId = new Map(checks.map((check) => [check.id, check]));
  const problems: string[] = [];
  for (const check of checks) {
    for (const [messageId, message] of Object.entries(check.meta.messages)) {
      for (const explanation of message.explainedBy ?? []) {
        const where = `${check.id} ${messageId}`;
        const other = byId.get(explanation.check);
        if (explanation.check === check.id) problems.push(`${where}: explained by its own check`);
        else if (!other) problems.push(`${where}: explained by unknown check ${explanation.check}`);
        else for (const id of explanation.messages) if (!(id in other.meta.messages)) problems.push(`${where}: ${explanation.check} has no messageId ${id}`);
      }
    }
  }
  return problems;
}

/**
 * The report's view of the links: copies of `results` whose explained findings carry `explainedBy`,
 * and the root causes, both as references by check, result cluster and index (ReportFindingRef).
 */
export function withRootCauses(results: readonly CheckResult[], checks: readonly Check[]): { results: CheckResult[]; rootCauses: ReportFindingRef[] } {
  const links = linkRootCauses(results, checks);
  const toReport = (ref: FindingRef): ReportFindingRef => {
    const result = results[ref.result];
    return { checkId: result.checkId, cluster: result.cluster, index: ref.finding, messageId: result.findings[ref.finding].messageId };
  };
  return {
    results: results.map((result, r) => ({
      ...result,
      findings: result.findings.map((finding, f) => {
        const by = links.explainedBy.get(refKey({ result: r, finding: f }));
        return by ? { ...finding, explainedBy: by.map(toReport) } : finding;
      }),
    })),
    rootCauses: links.rootCauses.map(toReport),
  };
}
