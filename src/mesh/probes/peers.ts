// What the other clusters of the mesh tell a probe: whose pod or gateway an Envoy host address is,
// the east-west gateways a peer network is reached through, and which clusters have ready endpoints
// for a Service. A peer that cannot be read drops out of the mapping instead of failing the probe.
import { AccessError, type ClusterReader } from '../../cluster/types.ts';
import type { CheckContext, ClusterInfo } from '../../engine/types.ts';
import { clusterEastWestGateways, type EastWestGateway } from '../eastwest-gateways.ts';
import { labelsOf } from '../istio-objects.ts';
import { HBONE_PORT, findAmbientEastWestGateways } from '../ambient.ts';

/** What an Envoy host address is in the mesh. */
export interface EndpointOwner {
  cluster: string;
  /** `pod`: a pod IP; `gateway`: a network's east-west gateway address. */
  kind: 'pod' | 'gateway';
  network?: string;
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

/**
 * Every east-west gateway istiod uses, in every readable cluster: the shared model
 * (clusterEastWestGateways: network label, meshNetworks, Gateway API), with node addresses. A peer
 * reaches one on its `addresses` and `dialPort`.
 */
export async function eastWestGateways(ctx: Pick<CheckContext, 'clusters' | 'clusterInfos' | 'options' | 'memo'>): Promise<EastWestGateway[]> {
  const all = await Promise.all(
    ctx.clusters.map(async (reader, i) => {
      if (ctx.clusterInfos[i]?.reachable === false) return [];
      return (await peerRead(() => clusterEastWestGateways(ctx, reader, { nodes: true }), [])).filter((g) => g.recognisedByIstiod);
    }),
  );
  return all.flat();
}

/**
 * The ambient east-west gateways (class istio-east-west) a ztunnel of another network would use, in
 * every readable cluster: those with the network label and an HBONE listener, as istiod takes them
 * (pilot/pkg/serviceregistry/ambient/networks.go:248-290), addressed or not. Peers dial their HBONE
 * listener's port (15008 unless it says otherwise).
 */
export async function ambientEastWestGateways(ctx: Pick<CheckContext, 'clusters' | 'clusterInfos'>): Promise<EastWestGateway[]> {
  const all = await Promise.all(
    ctx.clusters.map(async (reader, i) => {
      if (ctx.clusterInfos[i]?.reachable === false) return [];
      const gateways = findAmbientEastWestGateways(await peerRead(() => reader.listOptional('k8sgateways'), []));
      return gateways
        .filter((g) => g.network !== undefined && g.hboneListener)
        .map((g): EastWestGateway => {
          const port = g.hbonePort ?? HBONE_PORT;
          return { cluster: reader.name, kind: 'Gateway', namespace: g.namespace, name: g.name, network: g.network, recognisedByIstiod: g.usableByPeers, gatewayPort: port, dialPort: port, podPort: port, addresses: g.addresses, selector: { 'gateway.networking.k8s.io/gateway-name': g.name } };
        });
    }),
  );
  return all.flat();
}

/** Map host addresses to the cluster behind them: pod IPs of every cluster and the gateways' addresses. */
export async function endpointOwners(ctx: Pick<CheckContext, 'clusters' | 'clusterInfos' | 'options' | 'memo'>): Promise<Map<string, EndpointOwner>> {
  const { clusters: readers, clusterInfos: infos } = ctx;
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
  for (const gw of await eastWestGateways(ctx)) {
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
