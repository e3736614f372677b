// The pod connectivity probes run from, per cluster: a Running pod with a sidecar, else one captured
// by ztunnel (ambient mode), or the one `--probe-from` names, and the probe tools its application
// container has. Probes exec in the application container, never istio-proxy: its uid 1337 traffic
// bypasses the sidecar (https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/); an ambient
// pod's own traffic is what ztunnel captures
// (https://istio.io/latest/docs/ambient/install/multicluster/verify/ curls from such a pod).
import { AccessError, type ClusterReader, type KubeObject, type PodRef } from '../../cluster/types.ts';
import type { ClusterReadContext, RunMemo } from '../../engine/types.ts';
import { untilAborted } from '../../util/abort.ts';
import { isPodReady, labelsOf } from '../istio-objects.ts';
import { labelSelectorMatches, type LabelMap } from '../labels.ts';
import { applicationContainer, hasSidecar } from '../sidecars.ts';
import { isAmbientPod } from '../ambient.ts';
import { firstLine, probeExecOptions } from './exec.ts';
import type { ProbeSettings } from './options.ts';

/** Candidate pods whose tools are detected per cluster before giving up. */
const MAX_CANDIDATES = 3;
/** The namespace of Istio's verification samples: its pods are preferred as sources. */
const PREFERRED_NAMESPACE = 'sample';
/** Tools a probe can use, in the order they are detected. */
const TOOLS = ['curl', 'getent', 'nslookup', 'nc'] as const;
export type ProbeTool = (typeof TOOLS)[number];

/** The pod probes run from, in one cluster. */
export interface ProbeSource {
  cluster: string;
  pod: PodRef;
  /** Application container the probes exec into. */
  container: string;
  labels: LabelMap;
  tools: Set<ProbeTool>;
  sidecar: boolean;
  /** Captured by ztunnel (ambient mode): no Envoy of its own, its traffic goes through the node's ztunnel. */
  ambient: boolean;
}

/** skipReasonId of a probe check whose candidate source pods have none of the probe tools. */
export const NO_PROBE_TOOLS = 'noProbeTools';

/** A source, or why a cluster has none (with a stable id where there is one). */
export type SourceSelection = { source: ProbeSource } | { skip: string; skipId?: typeof NO_PROBE_TOOLS };

function isRunning(pod: KubeObject): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp && isPodReady(pod);
}

/** Namespaces of Kubernetes and Istio themselves: no application pod to probe from (or to). */
export function isSystemNamespace(namespace: string | undefined, istioNamespace: string | readonly string[]): boolean {
  const istio = typeof istioNamespace === 'string' ? [istioNamespace] : istioNamespace;
  return istio.includes(namespace ?? '') || namespace === 'kube-system' || namespace === 'kube-public' || namespace === 'kube-node-lease' || /^istio-/.test(namespace ?? '');
}

function isGatewayPod(pod: KubeObject): boolean {
  const labels = labelsOf(pod);
  return /gateway/.test(labels.istio ?? '') || labels['gateway.networking.k8s.io/gateway-name'] !== undefined || labels['istio.io/gateway-name'] !== undefined;
}

/** Pods whose image or container name suggests a toolbox: tried first. */
function looksLikeToolbox(pod: KubeObject): boolean {
  return ((pod.spec?.containers ?? []) as { name: string; image?: string }[]).some((c) => /curl|sleep|netshoot|toolbox|busybox/.test(`${c.name} ${c.image ?? ''}`));
}

/**
 * The source pod of a cluster, chosen once per run (the checks of a run probe from the same pod): the
 * first pod matching a `--probe-from` spec, else a Running pod with a sidecar outside system
 * namespaces (namespace `sample` and toolbox-looking images first), whose tools are detected with
 * `command -v`. A pod with curl wins; one with only getent/nslookup is kept (DNS probes still work).
 * Transport failures of the exec throw (the check errors).
 */
export function selectSource(memo: RunMemo, reader: ClusterReader, settings: ProbeSettings): Promise<SourceSelection> {
  const key = JSON.stringify(['probe-source', reader.name, settings.from.map((f) => f.text), settings.timeoutMs]);
  return memo.get(key, () => findSource(reader, settings));
}

async function findSource(reader: ClusterReader, settings: ProbeSettings): Promise<SourceSelection> {
  const [pods, namespaces] = await Promise.all([reader.list('pods'), reader.list('namespaces')]);
  const namespaceOf = new Map(namespaces.map((ns) => [ns.metadata.name, ns]));
  const ambient = (pod: KubeObject) => isAmbientPod(pod, namespaceOf.get(pod.metadata.namespace ?? ''));
  let candidates: KubeObject[];
  if (settings.from.length) {
    candidates = settings.from.flatMap((spec) =>
      pods
        .filter((p) => p.metadata.namespace === spec.namespace && labelSelectorMatches(spec.selector, labelsOf(p)) && isRunning(p))
        .sort((a, b) => Number(hasSidecar(b)) - Number(hasSidecar(a)) || Number(ambient(b)) - Number(ambient(a)) || a.metadata.name.localeCompare(b.metadata.name)),
    );
    if (candidates.length === 0) return { skip: `no Running pod matches --probe-from ${settings.from.map((f) => f.text).join(', ')}` };
  } else {
    // Sidecar pods first (their Envoy counters attribute each request to a cluster), then ambient ones.
    candidates = pods
      .filter((p) => isRunning(p) && (hasSidecar(p) || ambient(p)) && !isGatewayPod(p) && !isSystemNamespace(p.metadata.namespace, settings.systemNamespaces ?? settings.istioNamespace) && applicationContainer(p))
      .sort(
        (a, b) =>
          Number(hasSidecar(b)) - Number(hasSidecar(a)) ||
          Number(b.metadata.namespace === PREFERRED_NAMESPACE) - Number(a.metadata.namespace === PREFERRED_NAMESPACE) ||
          Number(looksLikeToolbox(b)) - Number(looksLikeToolbox(a)) ||
          `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
      );
    if (candidates.length === 0) {
      return { skip: 'no Running pod with an istio-proxy sidecar, nor one captured by ztunnel (ambient), outside system namespaces to probe from (choose one with --probe-from NAMESPACE/LABEL-SELECTOR)' };
    }
  }

  const tried: string[] = [];
  const failedDetections: string[] = [];
  let fallback: ProbeSource | undefined;
  for (const pod of candidates.slice(0, MAX_CANDIDATES)) {
    const container = applicationContainer(pod);
    const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name };
    if (!container) {
      tried.push(`${ref.namespace}/${ref.name} (no application container)`);
      continue;
    }
    const detected = await detectTools(reader, ref, container, settings.timeoutMs);
    const source: ProbeSource = { cluster: reader.name, pod: ref, container, labels: labelsOf(pod), tools: detected.tools, sidecar: hasSidecar(pod), ambient: !hasSidecar(pod) && ambient(pod) };
    if (detected.tools.has('curl')) return { source };
    fallback ??= detected.tools.size > 0 ? source : undefined;
    tried.push(`${ref.namespace}/${ref.name} container ${container} (${detected.note})`);
    if (detected.failed) failedDetections.push(`${ref.namespace}/${ref.name} container ${container}: ${detected.note}`);
  }
  if (fallback) return { source: fallback };
  // An exec that ran and failed says nothing about the tools: that is "could not check", not "none".
  if (failedDetections.length) throw new AccessError('bad-response', reader.name, `cannot detect the probe tools: ${failedDetections.join('; ')}`);
  return {
    skip: `no probe tools (curl, getent, nslookup, nc) in ${tried.join('; ')}: name a pod whose application container has curl with --probe-from NAMESPACE/LABEL-SELECTOR`,
    skipId: NO_PROBE_TOOLS,
  };
}

/** Which probe tools a container has (`command -v`); a container without a shell has none. */
export async function detectTools(reader: ClusterReader, pod: PodRef, container: string, timeoutMs: number): Promise<{ tools: Set<ProbeTool>; note: string; failed?: boolean }> {
  const script = `${TOOLS.map((t) => `command -v ${t}`).join('; ')}; exit 0`;
  const result = await reader.exec(pod, container, ['sh', '-c', script], probeExecOptions(timeoutMs));
  if (result.exitCode !== 0) {
    // The script ends with `exit 0`: another exit code means sh is missing (126/127, "not found"),
    // or the exec itself failed, which tells nothing about the tools.
    if (result.exitCode === 126 || result.exitCode === 127 || /not found|no such file/i.test(result.stderr)) return { tools: new Set(), note: 'no shell (sh)' };
    return { tools: new Set(), note: `tool detection exited ${result.exitCode}: ${firstLine(result.stderr)}`, failed: true };
  }
  const found = new Set(result.stdout.split('\n').map((l) => l.trim().split('/').pop() ?? ''));
  const tools = new Set(TOOLS.filter((t) => found.has(t)));
  return { tools, note: tools.size ? `has ${[...tools].join(', ')}` : 'none of curl, getent, nslookup, nc' };
}

/** The check's skip reason when the source lacks every tool of `needed`. */
export function missingTool(source: ProbeSource, needed: ProbeTool[]): string | undefined {
  if (needed.some((t) => source.tools.has(t))) return undefined;
  const has = source.tools.size ? `it has ${[...source.tools].join(', ')}` : 'it has none of the probe tools';
  return `probe pod ${source.pod.namespace}/${source.pod.name} (container ${source.container}) has no ${needed.join(' or ')}; ${has} (choose another with --probe-from)`;
}

/**
 * The source pod of a per-cluster probe check, with at least one of `tools`. Skips the check
 * (ctx.skip) when the cluster has no source pod or the pod lacks the tools.
 */
export async function sourceOrSkip(ctx: ClusterReadContext, settings: ProbeSettings, tools: ProbeTool[]): Promise<ProbeSource> {
  const selection = await untilAborted(selectSource(ctx.memo, ctx.cluster, settings), ctx.signal);
  if ('skip' in selection) return ctx.skip(selection.skip, selection.skipId);
  const noTool = missingTool(selection.source, tools);
  if (noTool) ctx.skip(noTool);
  return selection.source;
}
