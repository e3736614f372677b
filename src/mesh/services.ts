// Helpers of the services/* checks: what istiod knows (registryz, endpoint shards, clusterz), what a
// cluster's API holds (Services, ready endpoints, injected pods), and the mesh config knobs that
// decide what istiod should know (discoverySelectors) and how proxies resolve names (DNS capture).
import { parse as parseYaml } from 'yaml';
import type { ClusterReader, IstiodDebugOutput, KubeObject } from '../cluster/types.ts';
import type { ClusterInfo } from '../engine/types.ts';
import { parseIstiodEndpoints, type ServiceEndpoints } from './debug/endpoint-shardz.ts';
import { parseRegistryz, type RegistryService } from './debug/registryz.ts';
import { annotationsOf, findMeshConfigMaps, inNamespace, labelsOf, meshConfigOf } from './istio-objects.ts';
import { labelSelectorMatches, type LabelMap, type LabelSelector } from './labels.ts';
import { proxyContainer } from './sidecars.ts';

/** Pod annotation overriding the mesh-wide ProxyConfig for one workload. */
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';
/** Proxy metadata that turns on the sidecar DNS proxy (istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy). */
export const DNS_CAPTURE_KEY = 'ISTIO_META_DNS_CAPTURE';

/** Namespaces of Kubernetes itself, whose Services exist per cluster by design. */
const KUBE_SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

/**
 * True for infrastructure Services that each cluster has for itself (kube-dns, kubernetes, istiod,
 * the gateways): they are uninjected by design and legitimately differ between clusters.
 */
export function isSystemService(namespace: string, name: string, istioNamespace: string | readonly string[], labels: LabelMap = {}): boolean {
  if (isSystemNamespace(namespace, istioNamespace)) return true;
  if (namespace === 'default' && name === 'kubernetes') return true;
  // Gateways installed outside istio-system (istio: ingressgateway, Gateway API managed deployments).
  return /gateway$/.test(labels.istio ?? '') || labels['gateway.istio.io/managed'] !== undefined || labels['topology.istio.io/network'] !== undefined;
}

/**
 * True for a namespace Kubernetes or Istio own (no application workloads). `istioNamespace` may list
 * every cluster's Istio namespace (src/mesh/roles.ts istioNamespacesOf): a mesh-wide comparison
 * leaves out each cluster's Istio install, wherever it lives.
 */
export function isSystemNamespace(namespace: string, istioNamespace: string | readonly string[]): boolean {
  return KUBE_SYSTEM_NAMESPACES.has(namespace) || (typeof istioNamespace === 'string' ? namespace === istioNamespace : istioNamespace.includes(namespace));
}

/**
 * Which namespaces an istiod watches: its mesh config's `discoverySelectors` (any selector matches),
 * everything when there are none. Returns a predicate on a namespace's labels.
 */
export function discoveryFilter(configMaps: KubeObject[], istioNamespace: string): (namespaceLabels: LabelMap) => boolean {
  const selectors = meshConfigOf(findMeshConfigMaps(configMaps, istioNamespace)[0])?.discoverySelectors;
  if (!selectors || selectors.length === 0) return () => true;
  return (labels) => selectors.some((s) => typeof s === 'object' && s !== null && labelSelectorMatches(s as LabelSelector, labels));
}

/** Mesh config `defaultConfig.proxyMetadata` of a cluster's istio namespace ({} when none). */
export function meshProxyMetadata(configMaps: KubeObject[], istioNamespace: string): Record<string, string> {
  const raw = meshConfigOf(findMeshConfigMaps(configMaps, istioNamespace)[0])?.raw;
  const metadata = (raw?.defaultConfig as { proxyMetadata?: unknown } | undefined)?.proxyMetadata;
  return stringMap(metadata);
}

/** Where a pod's DNS capture setting comes from, and its value. */
export interface DnsCapture {
  enabled: boolean;
  source: 'sidecar env' | 'pod annotation' | 'mesh config' | 'default (off)';
}

/**
 * Whether the sidecar of an injected pod captures DNS: the `ISTIO_META_DNS_CAPTURE` env of its
 * istio-proxy container (what the injector wrote), else the pod's `proxy.istio.io/config` annotation,
 * else the mesh config's defaultConfig.proxyMetadata. Off by default.
 */
export function dnsCaptureOf(pod: KubeObject, meshMetadata: Record<string, string>): DnsCapture {
  const envValue = proxyContainer(pod)?.env?.find((e) => e.name === DNS_CAPTURE_KEY)?.value;
  if (envValue !== undefined) return { enabled: isTrue(envValue), source: 'sidecar env' };
  const annotation = annotationsOf(pod)[PROXY_CONFIG_ANNOTATION];
  if (annotation) {
    try {
      const value = stringMap((parseYaml(annotation) as { proxyMetadata?: unknown } | null)?.proxyMetadata)[DNS_CAPTURE_KEY];
      if (value !== undefined) return { enabled: isTrue(value), source: 'pod annotation' };
    } catch {
      // An unparseable annotation is ignored by the injector too: fall through to the mesh default.
    }
  }
  const meshValue = meshMetadata[DNS_CAPTURE_KEY];
  if (meshValue !== undefined) return { enabled: isTrue(meshValue), source: 'mesh config' };
  return { enabled: false, source: 'default (off)' };
}

function isTrue(value: string): boolean {
  return /^(true|1|yes)$/i.test(value.trim());
}

function stringMap(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return result;
  for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) result[k] = String(v);
  return result;
}

/** Number of ready endpoints of a Service in its cluster: EndpointSlices, else the Endpoints object. */
export function readyEndpointCount(service: KubeObject, endpointSlices: KubeObject[], endpoints: KubeObject[]): number {
  const namespace = service.metadata.namespace;
  const name = service.metadata.name;
  const slices = inNamespace(endpointSlices, namespace).filter((s) => labelsOf(s)['kubernetes.io/service-name'] === name);
  if (slices.length > 0) {
    let ready = 0;
    for (const slice of slices) {
      for (const ep of (slice.endpoints ?? []) as { addresses?: string[]; conditions?: { ready?: boolean } }[]) {
        // A nil `ready` means ready (discovery.k8s.io/v1 EndpointConditions).
        if (ep.conditions?.ready !== false) ready += ep.addresses?.length ?? 0;
      }
    }
    return ready;
  }
  const legacy = inNamespace(endpoints, namespace).find((e) => e.metadata.name === name);
  return ((legacy?.subsets ?? []) as { addresses?: unknown[] }[]).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
}

/** `namespace/name` of an object. */
export function nsName(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/** The report name of the cluster with an Istio cluster id, undefined when no cluster has it. */
export function clusterNameOfId(infos: ClusterInfo[], clusterId: string): string | undefined {
  return infos.find((i) => i.clusterId === clusterId)?.name;
}

/** The reader and facts of a cluster by report name. */
export function clusterByName(readers: ClusterReader[], infos: ClusterInfo[], name: string): { reader: ClusterReader; info: ClusterInfo } | undefined {
  const index = readers.findIndex((r) => r.name === name);
  return index < 0 ? undefined : { reader: readers[index], info: infos[index] };
}

/** The one istiod output to read: the default revision's first pod (outputs of one revision agree). */
export function primaryOutput(outputs: IstiodDebugOutput[]): IstiodDebugOutput | undefined {
  return outputs.find((o) => o.revision === 'default') ?? outputs[0];
}

/** What one istiod knows about services. */
export interface IstiodServiceView {
  /** istiod pod that answered. */
  pod: string;
  services: RegistryService[];
}

/** istiod's registry (`/debug/registryz`); undefined when the cluster runs no istiod. Throws on an unknown format. */
export async function readRegistry(reader: ClusterReader, signal?: AbortSignal): Promise<IstiodServiceView | undefined> {
  const output = primaryOutput(await reader.istiodDebug('registryz', { signal }));
  if (!output) return undefined;
  try {
    return { pod: output.pod, services: parseRegistryz(output.body) };
  } catch (err) {
    throw new Error(`istiod ${output.pod}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * istiod's endpoints: `/debug/endpointShardz`, or `/debug/endpointz` where that is all an older
 * istiod (or a snapshot of one) has. Undefined when neither answers. Throws on an unknown format.
 */
export async function readEndpointShards(reader: ClusterReader, signal?: AbortSignal): Promise<{ pod: string; source: string; services: ServiceEndpoints[] } | undefined> {
  for (const endpoint of ['endpointShardz', 'endpointz'] as const) {
    const output = primaryOutput(await reader.istiodDebug(endpoint, { signal }));
    // An istiod without the handler answers Go's "404 page not found".
    if (!output || /^\s*404 page not found/.test(output.body)) continue;
    try {
      return { pod: output.pod, source: endpoint, services: parseIstiodEndpoints(endpoint, output.body) };
    } catch (err) {
      throw new Error(`istiod ${output.pod}: ${(err as Error).message}`, { cause: err });
    }
  }
  return undefined;
}

/** Up to `max` items, comma-separated, with "and N more". */
export function examples(items: string[], max = 3): string {
  const sorted = [...items].sort();
  const shown = sorted.slice(0, max).join(', ');
  return sorted.length > max ? `${shown} and ${sorted.length - max} more` : shown;
}
