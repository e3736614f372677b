// Run built-in checks against a real lab over HTTPS, the way the CLI does: startLab, connect with the
// lab's kubeconfig, discover the topology, run. Used by the per-category lab fault tests.
import { startLab, type StartLabOptions } from '../../src/lab/index.ts';
import { connectClusters } from '../../src/cluster/connect.ts';
import { discoverTopology } from '../../src/mesh/discovery.ts';
import { runChecks } from '../../src/engine/run.ts';
import { probeRemoteApi } from '../../src/cluster/remote-probe.ts';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { withRootCauses } from '../../src/engine/root-causes.ts';
import type { Check, CheckOptions, CheckResult, ClusterInfo, Finding, MeshInfo, ReportFindingRef } from '../../src/engine/types.ts';

export interface LabRun {
  results: CheckResult[];
  clusters: ClusterInfo[];
  mesh: MeshInfo;
  /** Findings of severity error, across all results. */
  errors: Finding[];
}

/**
 * Start a lab, run the given checks (ids or categories; all when omitted) against it, stop it.
 * The lab is always stopped, also when something throws.
 */
export async function runChecksOnLab(
  lab: StartLabOptions,
  select?: { only?: string[]; options?: Partial<CheckOptions>; contexts?: string[]; checks?: Check[] },
): Promise<LabRun> {
  const running = await startLab(lab);
  try {
    // `contexts`: diagnose exactly these (as --context does); default: current context plus its remote-secret peers.
    const { readers } = await connectClusters({ kubeconfigPath: running.kubeconfigPath, istioNamespace: 'istio-system', contexts: select?.contexts ?? running.clusters.map((c) => c.context) });
    const { clusters, mesh } = await discoverTopology(readers, 'istio-system');
    // `checks`: these instead of the built-in ones (e.g. instrumented copies).
    const checks = (select?.checks ?? BUILTIN_CHECKS).filter((c) => !select?.only || select.only.some((s) => c.id === s || c.category === s));
    const results = await runChecks({
      checks,
      readers,
      clusterInfos: clusters,
      mesh,
      options: { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date(), probeCount: 4, sharedLoopback: true, ...select?.options },
      timeoutMs: 20_000,
      concurrency: 8,
      // The lab's API servers all listen on 127.0.0.1: loopback may be probed, as `--lab` allows it.
      probeRemoteApi: (kubeconfig, opts) => probeRemoteApi(kubeconfig, { ...opts, localServers: { loopback: true } }),
    });
    return { results, clusters, mesh, errors: results.flatMap((r) => r.findings.filter((f) => f.severity === 'error')) };
  } finally {
    await running.stop();
  }
}

/** Compact form for assertions: `checkId [cluster] messageId` of every error finding, sorted and unique. */
export function errorKeys(run: LabRun): string[] {
  return [...new Set(run.errors.map((f) => `${f.checkId} [${f.cluster}] ${f.messageId}`))].sort();
}

/** Results whose probe broke (outcome error), as `checkId [cluster]: error`. */
export function brokenProbes(run: LabRun): string[] {
  return run.results.filter((r) => r.outcome === 'error').map((r) => `${r.checkId} [${r.cluster}]: ${r.error}`);
}

/** A finding as the assertions name it: `checkId [cluster] messageId`. */
export function findingKey(f: Finding): string {
  return `${f.checkId} [${f.cluster}] ${f.messageId}`;
}

/** A finding of a run after the engine linked root causes (withRootCauses, as buildReport does). */
export interface LinkedFinding {
  key: string;
  finding: Finding;
  /** Whether the engine made it a root cause. */
  root: boolean;
  /** The findings its `explainedBy` names. */
  explainedBy: LinkedFinding[];
}

/** Every finding of the run, linked to its explainers by the built-in checks' declarations. */
export function linkFindings(run: LabRun): LinkedFinding[] {
  const { results, rootCauses } = withRootCauses(run.results, BUILTIN_CHECKS);
  const at = (ref: ReportFindingRef) => results.find((r) => r.checkId === ref.checkId && r.cluster === ref.cluster)!.findings[ref.index];
  const nodes = new Map<Finding, LinkedFinding>();
  for (const result of results) for (const finding of result.findings) nodes.set(finding, { key: findingKey(finding), finding, root: false, explainedBy: [] });
  for (const ref of rootCauses) nodes.get(at(ref))!.root = true;
  for (const node of nodes.values()) node.explainedBy = (node.finding.explainedBy ?? []).map((ref) => nodes.get(at(ref))!);
  return [...nodes.values()];
}

/** Keys of the root causes a finding leads to by following explainedBy (its own key when it is one). */
export function rootsOf(node: LinkedFinding): Set<string> {
  const roots = new Set<string>();
  const seen = new Set<LinkedFinding>();
  const visit = (n: LinkedFinding) => {
    if (seen.has(n)) return;
    seen.add(n);
    if (n.root) roots.add(n.key);
    n.explainedBy.forEach(visit);
  };
  visit(node);
  return roots;
}

/** The result of a check on a cluster (`*` for mesh scope); throws when the run has none. */
export function resultOf(results: CheckResult[], checkId: string, cluster: string): CheckResult {
  const found = results.find((r) => r.checkId === checkId && r.cluster === cluster);
  if (!found) throw new Error(`no result for ${checkId} on ${cluster}`);
  return found;
}
