// Parsers of istiod's endpoint views (istio/istio pilot/pkg/model/endpointshards.go, pilot/pkg/xds/debug.go):
// - /debug/endpointShardz: `{ "<hostname>": { "<namespace>": { "Shards": { "<shard>": [IstioEndpoint] } } } }`,
//   the shard key `Kubernetes/<cluster>` (provider/cluster, Istio >= 1.14) or the bare cluster id before;
// - /debug/endpointz (read before Istio 1.20): `[{"svc": "<hostname>:<port name>", "ep": [ServiceInstance]}]`,
//   hand-written lists that may end in `{}`.
// An IstioEndpoint holds `Address` (up to 1.23) or `Addresses` (1.24+, dual stack). istiod drops a
// shard, and a service, that has no endpoints.

import { parseDebugJson } from './json.ts';

/** One endpoint of a service in one cluster, as istiod holds it. */
export interface ShardEndpoint {
  addresses: string[];
  /** Cluster id of the shard. */
  clusterId: string;
  /** Network istiod assigned; '' when it could not tell one. */
  network: string;
  /** `istio` when the workload has a sidecar, `disabled` otherwise ('' when absent). */
  tlsMode: string;
  workloadName: string;
  labels: Record<string, string>;
  /** False for HealthStatus UnHealthy/Draining/Terminating. */
  healthy: boolean;
}

/** The endpoints istiod holds for one service, per cluster id (Kubernetes shards only). */
export interface ServiceEndpoints {
  hostname: string;
  namespace: string;
  shards: Record<string, ShardEndpoint[]>;
}

/** Parse the body of `endpointShardz` or (older Istio) `endpointz`. */
export function parseIstiodEndpoints(endpoint: 'endpointShardz' | 'endpointz', body: string): ServiceEndpoints[] {
  return endpoint === 'endpointShardz' ? parseEndpointShardz(body) : parseEndpointz(body);
}

/** Parse /debug/endpointShardz. Throws an Error naming the problem when the shape is unknown. */
export function parseEndpointShardz(body: string): ServiceEndpoints[] {
  const doc = parseDebugJson(body, 'endpointShardz');
  if (!isRecord(doc)) throw new Error('endpointShardz is not a JSON object keyed by hostname');
  const result: ServiceEndpoints[] = [];
  for (const [hostname, byNamespace] of Object.entries(doc)) {
    if (!isRecord(byNamespace)) throw new Error(`endpointShardz: entry ${hostname} is not an object keyed by namespace`);
    for (const [namespace, shardSet] of Object.entries(byNamespace)) {
      if (!isRecord(shardSet) || !('Shards' in shardSet) || (shardSet.Shards !== null && !isRecord(shardSet.Shards))) {
        throw new Error(`endpointShardz: ${hostname} in ${namespace} has no Shards object`);
      }
      const shards: Record<string, ShardEndpoint[]> = {};
      for (const [key, endpoints] of Object.entries((shardSet.Shards ?? {}) as Record<string, unknown>)) {
        const clusterId = kubernetesShardCluster(key);
        if (clusterId === undefined) continue;
        if (endpoints !== null && !Array.isArray(endpoints)) throw new Error(`endpointShardz: shard ${key} of ${hostname} is not a list`);
        shards[clusterId] = ((endpoints ?? []) as unknown[]).filter(isRecord).map((ep) => toEndpoint(ep, clusterId));
      }
      result.push({ hostname, namespace, shards });
    }
  }
  return result;
}

/** Parse the legacy /debug/endpointz. Throws an Error naming the problem when the shape is unknown. */
export function parseEndpointz(body: string): ServiceEndpoints[] {
  const doc = parseDebugJson(body, 'endpointz');
  if (!Array.isArray(doc)) throw new Error('endpointz is not a JSON array of {svc, ep}');
  const byHost = new Map<string, ServiceEndpoints>();
  for (const entry of doc) {
    if (!isRecord(entry)) throw new Error('endpointz entry is not an object');
    if (Object.keys(entry).length === 0) continue;
    if (typeof entry.svc !== 'string') throw new Error('endpointz entry has no "svc"');
    const hostname = entry.svc.replace(/:[^:]*$/, '');
    const instances = Array.isArray(entry.ep) ? entry.ep.filter(isRecord) : [];
    for (const instance of instances) {
      const ep = instance.endpoint;
      if (!isRecord(ep)) continue; // the trailing `{}` of the hand-written list
      const service = isRecord(instance.service) ? instance.service : {};
      const attributes = isRecord(service.Attributes) ? service.Attributes : {};
      const namespace = str(ep.Namespace) || str(attributes.Namespace) || hostname.split('.')[1] || '';
      const clusterId = clusterOfEndpoint(ep);
      let service_ = byHost.get(hostname);
      if (!service_) byHost.set(hostname, (service_ = { hostname, namespace, shards: {} }));
      // One instance per service port: keep each address once per cluster.
      const endpoint = toEndpoint(ep, clusterId);
      const shard = (service_.shards[clusterId] ??= []);
      if (!shard.some((e) => e.addresses.join() === endpoint.addresses.join())) shard.push(endpoint);
    }
  }
  return [...byHost.values()];
}

/** Cluster id of a shard key of the Kubernetes provider; undefined for other providers (ServiceEntries). */
function kubernetesShardCluster(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash < 0) return key; // before Istio 1.14 shards were keyed by cluster id alone
  const provider = key.slice(0, slash);
  return provider === 'Kubernetes' ? key.slice(slash + 1) : undefined;
}

function clusterOfEndpoint(ep: Record<string, unknown>): string {
  const locality = isRecord(ep.Locality) ? ep.Locality : {};
  const labels = isRecord(ep.Labels) ? ep.Labels : {};
  return str(locality.ClusterID) || str(labels['topology.istio.io/cluster']) || '';
}

function toEndpoint(ep: Record<string, unknown>, clusterId: string): ShardEndpoint {
  const labels: Record<string, string> = {};
  if (isRecord(ep.Labels)) for (const [k, v] of Object.entries(ep.Labels)) if (typeof v === 'string') labels[k] = v;
  const addresses = Array.isArray(ep.Addresses) ? ep.Addresses.filter((a): a is string => typeof a === 'string') : str(ep.Address) ? [str(ep.Address)] : [];
  // HealthStatus: 1 Healthy, 2 UnHealthy, 3 Draining, 4 Terminating; absent (older Istio) = healthy.
  const health = typeof ep.HealthStatus === 'number' ? ep.HealthStatus : 1;
  return {
    addresses,
    clusterId,
    network: str(ep.Network),
    tlsMode: str(ep.TLSMode) || labels['security.istio.io/tlsMode'] || '',
    workloadName: str(ep.WorkloadName),
    labels,
    healthy: health <= 1,
  };
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
