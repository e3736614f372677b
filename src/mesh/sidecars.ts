// Which pods run Istio's proxy, and which of them meshdoctor samples. A pod has a sidecar when the
// injector stamped it with `sidecar.istio.io/status`; the `istio-proxy` container may be a native
// sidecar (an init container with restartPolicy Always, Istio's default on recent Kubernetes).
import type { KubeObject } from '../cluster/types.ts';
import { annotationsOf, type ContainerSpec } from './istio-objects.ts';

/** Pod annotation the injector sets on every pod it injected. */
export const SIDECAR_STATUS_ANNOTATION = 'sidecar.istio.io/status';
/** The container Envoy and pilot-agent run in. */
export const PROXY_CONTAINER = 'istio-proxy';

/** A pod has a sidecar when Istio's injector stamped it. */
export function hasSidecar(pod: KubeObject): boolean {
  return annotationsOf(pod)[SIDECAR_STATUS_ANNOTATION] !== undefined;
}

/** The `istio-proxy` container: a regular container, or a native sidecar (init container with restartPolicy Always). */
export function proxyContainer(pod: KubeObject): ContainerSpec | undefined {
  const spec = pod.spec ?? {};
  const all = [...((spec.containers ?? []) as ContainerSpec[]), ...((spec.initContainers ?? []) as (ContainerSpec & { restartPolicy?: string })[]).filter((c) => c.restartPolicy === 'Always')];
  return all.find((c) => c.name === PROXY_CONTAINER);
}

/** The application container: the default-container annotation, else the first container that is not istio-proxy. */
export function applicationContainer(pod: KubeObject): string | undefined {
  const names = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name).filter((n) => n !== PROXY_CONTAINER);
  const preferred = annotationsOf(pod)['kubectl.kubernetes.io/default-container'];
  return preferred && names.includes(preferred) ? preferred : names[0];
}

/** How many workload sidecars certificates/workload judges per cluster (and a snapshot captures at least). */
export const WORKLOAD_SAMPLE_SIZE = 5;

/**
 * The workload sidecars meshdoctor samples: running, not being deleted, injected (the status
 * annotation: gateways run a proxy but are not workloads the injector stamped), sorted by
 * namespace/name and taken round robin over namespaces, at most `max`. Deterministic, and a smaller
 * `max` gives a prefix of a larger one: a snapshot that captured `max >= WORKLOAD_SAMPLE_SIZE`
 * sidecars holds every one the check samples offline.
 */
export function sampleWorkloadSidecars(pods: readonly KubeObject[], max = WORKLOAD_SAMPLE_SIZE): KubeObject[] {
  const candidates = pods
    .filter((p) => hasSidecar(p) && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  const byNamespace = new Map<string, KubeObject[]>();
  for (const pod of candidates) byNamespace.set(pod.metadata.namespace ?? '', [...(byNamespace.get(pod.metadata.namespace ?? '') ?? []), pod]);
  const picked: KubeObject[] = [];
  for (let round = 0; picked.length < max && picked.length < candidates.length; round++) {
    for (const group of byNamespace.values()) if (group[round] && picked.length < max) picked.push(group[round]);
  }
  return picked;
}
