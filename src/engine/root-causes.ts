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
 * is not a problem: it neither explains nor is a root cause). Findings that explain each other form a
 * cycle (a strongly connected component of the "explains" graph), and a cycle is judged as one: when
 * a finding outside it explains any member, every member is a consequence (A and B explain each
 * other, C explains A: C is the root cause); when nothing outside explains it, every member stays a
 * root cause (a finding in a pure cycle never vanishes from the root causes).
 */
export function linkRootCauses(results: readonly CheckResult[], checks: readonly Check[]): RootCauseLinks {
  const byId = new Map(checks.map((check) => [check.id, check]));
  const nodes: Node[] = [];
  results.forEach((result, r) =>
    result.findings.forEach((finding, f) => {
      if (finding.severity !== 'info') nodes.push({ ref: { result: r, finding: f }, finding });
    }),
  );
  // edges[i]: the nodes that explain node i directly, in report order.
  const edges = nodes.map(({ finding }) => {
    const explanations = byId.get(finding.checkId)?.meta.messages[finding.messageId]?.explainedBy ?? [];
    const explainers: number[] = [];
    nodes.forEach((other, j) => {
      if (other.finding.checkId !== finding.checkId && explanations.some((e) => explains(e, other.finding, finding))) explainers.push(j);
    });
    return explainers;
  });
  const component = components(edges);
  // A component is explained when an edge enters it from another component.
  const explainedComponent = new Set<number>();
  edges.forEach((from, i) => {
    if (from.some((j) => component[j] !== component[i])) explainedComponent.add(component[i]);
  });
  const explainedBy = new Map<string, FindingRef[]>();
  const rootCauses: FindingRef[] = [];
  nodes.forEach((node, i) => {
    if (!explainedComponent.has(component[i])) {
      rootCauses.push(node.ref);
      return;
    }
    // Name the explainers outside the cycle where there are some, else the members that explain it.
    const outside = edges[i].filter((j) => component[j] !== component[i]);
    explainedBy.set(refKey(node.ref), (outside.length > 0 ? outside : edges[i]).map((j) => nodes[j].ref));
  });
  return { rootCauses, explainedBy };
}

/** Strongly connected components of the graph (Tarjan, iterative): component[i] for each node i. */
function components(edges: readonly number[][]): number[] {
  const index = new Array<number>(edges.length).fill(-1);
  const low = new Array<number>(edges.length).fill(0);
  const component = new Array<number>(edges.length).fill(-1);
  const stack: number[] = [];
  const onStack = new Set<number>();
  let next = 0;
  let count = 0;
  for (let start = 0; start < edges.length; start++) {
    if (index[start] !== -1) continue;
    // Each frame: a node and the position of the next edge to follow.
    const frames: [number, number][] = [[start, 0]];
    index[start] = low[start] = next++;
    stack.push(start);
    onStack.add(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      const [v, e] = frame;
      if (e < edges[v].length) {
        frame[1]++;
        const w = edges[v][e];
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack.add(w);
          frames.push([w, 0]);
        } else if (onStack.has(w)) low[v] = Math.min(low[v], index[w]);
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1][0];
        low[parent] = Math.min(low[parent], low[v]);
      }
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component[w] = count;
        } while (w !== v);
        count++;
      }
    }
  }
  return component;
}

/** Whether `explainer` (of check `explanation.check`) explains `finding` under the explanation's condition. */
function explains(explanation: Explanation, explainer: Finding, finding: Finding): boolean {
  if (explanation.check !== explainer.checkId || !explanation.messages.includes(explainer.messageId)) return false;
  switch (explanation.when) {
    case 'mesh':
      return true;
    case 'cluster':
      return explainer.cluster === finding.cluster;
    case 'service': {
      const service = serviceOf(explainer);
      return service !== undefined && service === serviceOf(finding) && explainer.cluster === finding.cluster;
    }
    case 'namespace': {
      const namespace = namespaceOf(explainer);
      return namespace !== undefined && namespace === namespaceOf(finding) && explainer.cluster === finding.cluster;
    }
    case 'peer-pair': {
      if (finding.peer === undefined) return false;
      const pair = [finding.cluster, finding.peer];
      // A finding about one cluster (a gateway, a root of trust) explains every pair it is part of.
      if (explainer.peer === undefined) return pair.includes(explainer.cluster);
      return pair.includes(explainer.cluster) && pair.includes(explainer.peer) && explainer.cluster !== explainer.peer;
    }
    case 'peer-view':
      return finding.peer !== undefined && explainer.cluster === finding.peer && explainer.peer === finding.cluster;
  }
}

/** The service a finding concerns, `namespace/name`: its `service`, else its resource when that is a Service. */
function serviceOf(finding: Finding): string | undefined {
  if (finding.service !== undefined) return finding.service;
  const resource = finding.resource;
  return resource?.kind === 'Service' && resource.namespace ? `${resource.namespace}/${resource.name}` : undefined;
}

/** The namespace a finding concerns: its service's, else its resource when that is a Namespace. */
function namespaceOf(finding: Finding): string | undefined {
  const service = serviceOf(finding);
  if (service !== undefined) return service.slice(0, service.indexOf('/'));
  return finding.resource?.kind === 'Namespace' ? finding.resource.name : undefined;
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
