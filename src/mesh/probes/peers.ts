// What the other clusters of the mesh tell a probe: whose pod or gateway an Envoy host address is,
// the east-west gateways a peer network is reached through, and which clusters have ready endpoints
// for a Service. A peer that cannot be read drops out of the mapping instead of failing the probe.
import { AccessError, type ClusterReader, type KubeObject } from '../../cluster/types.ts';
import type { ClusterInfo } from '../../engine/types.ts';
import { findEastWestGateways, gatewayAddresses, labelsOf, servicePorts } from '../istio-objects.ts';

/** What an Envoy host address is in the mesh. */
export interface EndpointOwner {
  cluster: string;
  /** `pod`: a pod IP; `gateway`: a network's east-west gateway address. */
  kind: 'pod' | 'gateway';
  network?: string;
}

/** A peer network's east-west gateway as a probe sees it. */
export interface GatewayTarget {
  cluster: string;
  network?: string;
  namespace: string;
  name: string;
  /** Addresses istiod would publish (may be empty: a LoadBalancer still pending). */
  addresses: string[];
  /** The port other networks connect to (the nodePort for a NodePort gateway). */
  port: number;
  type: string;
}

/**
 * Read a peer cluster's data for a probe's bookkeeping. A peer whose data cannot be read (forbidden,
 * unreachable) only drops out of the mapping: it must not stop the probes of a healthy cluster.
 */
export async function peerRead<T>(read: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof AccessError) return fallback;
    throw err;
  }
}

/** Every recognised east-west gateway of the clusters, with its address and the port to reach. */
export async function eastWestGateways(readers: ClusterReader[], infos: ClusterInfo[]): Promise<GatewayTarget[]> {
  const all = await Promise.all(
    readers.map(async (reader, i) => {
      if (infos[i]?.reachable === false) return [];
      const [services, nodes] = await Promise.all([peerRead(() => reader.list('services'), []), peerRead(() => reader.listOptional('nodes'), [] as KubeObject[])]);
      return findEastWestGateways(services)
        .filter((g) => g.recognisedByIstiod)
        .map((g): GatewayTarget => {
          const type = (g.service.spec?.type as string | undefined) ?? 'ClusterIP';
          const svcPort = servicePorts(g.service).find((p) => p.port === g.gatewayPort);
          const port = type === 'NodePort' && svcPort?.nodePort ? svcPort.nodePort : g.gatewayPort;
          return { cluster: reader.name, network: g.network, namespace: g.service.metadata.namespace ?? '', name: g.service.metadata.name, addresses: gatewayAddresses(g.service, nodes), port, type };
        });
    }),
  );
  return all.flat();
}

/** Map host addresses to the cluster behind them: pod IPs of every cluster and the gateways' addresses. */
export async function endpointOwners(readers: ClusterReader[], infos: ClusterInfo[]): Promise<Map<string, EndpointOwner>> {
  const owners = new Map<string, EndpointOwner>();
  await Promise.all(
    readers.map(async (reader, i) => {
      if (infos[i]?.reachable === false) return;
      for (const pod of await peerRead(() => reader.list('pods'), [])) {
        if (pod.spec?.hostNetwork) continue; // a node address, shared by many pods
        const ips = [pod.status?.podIP, ...((pod.status?.podIPs ?? []) as { ip: string }[]).map((p) => p.ip)].filter(Boolean) as string[];
        for (const ip of ips) owners.set(ip, { cluster: reader.name, kind: 'pod', network: infos[i]?.network });
      }
    }),
  );
  for (const gw of await eastWestGateways(readers, infos)) {
    for (const address of gw.addresses) owners.set(address, { cluster: gw.cluster, kind: 'gateway', network: gw.network });
  }
  return owners;
}

/** Clusters whose API has ready endpoints for a Service, with their count. */
export async function readyEndpointsByCluster(readers: ClusterReader[], infos: ClusterInfo[], service: { namespace: string; name: string }): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await Promise.all(
    readers.map(async (reader, i) => {
      if (infos[i]?.reachable === false) return;
      const slices = (await peerRead(() => reader.listOptional('endpointslices', { namespace: service.namespace }), [])).filter((s) => labelsOf(s)['kubernetes.io/service-name'] === service.name);
      let ready = 0;
      if (slices.length) {
        for (const slice of slices) {
          for (const ep of (slice.endpoints ?? []) as { addresses?: string[]; conditions?: { ready?: boolean } }[]) {
            if (ep.conditions?.ready !== false) ready += ep.addresses?.length ? 1 : 0;
          }
        }
      } else {
        const endpoints = (await reader.listOptional('endpoints', { namespace: service.namespace })).find((e) => e.metadata.name === service.name);
        for (const subset of (endpoints?.subsets ?? []) as { addresses?: unknown[] }[]) ready += subset.addresses?.length ?? 0;
      }
      if (ready > 0) counts.set(reader.name, ready);
    }),
  );
  return counts;
}
