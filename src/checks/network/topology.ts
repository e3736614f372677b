// Encodes https://istio.io/latest/docs/ops/configuration/traffic-management/multicluster/ (networks, gateways) and istio's IST0126 analyzer.
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterReader, KubeObject } from '../../cluster/types.ts';
import { listIfReadable, unlessAbsent } from '../../cluster/absent.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import type { TopologyPicture } from '../../engine/details.ts';
import { CONTROL_PLANE_CLUSTERS_ANNOTATION, annotationsOf } from '../../mesh/istio-objects.ts';
import { clusterDomainOf, meshNetworksOf, type MeshNetwork, type MeshNetworksConfig } from '../../mesh/istio-gateways.ts';
import { eastWestGatewaysOf } from '../../mesh/eastwest-gateways.ts';
import { readClusterz } from '../../mesh/istiod-debug.ts';
import { hasSidecar } from '../../mesh/sidecars.ts';
import { findRemoteSecrets, readIstiodSecrets, remoteSecretClusterIds } from '../../mesh/remote-secrets.ts';
import { isMeshMember, istioNamespaceOf, runsIstiod } from '../../mesh/roles.ts';

const UNKNOWN_NETWORK = '<unknown>';

const check = defineCheck({
  id: 'network/topology',
  category: 'network',
  scope: 'mesh',
  needs: ['namespaces', 'configmaps', 'services', 'k8sgateways', 'pods', 'nodes', 'secrets', 'deployments', 'istiod:clusterz'],
  meta: {
    description: 'Every cluster has a network, every network that serves others has an east-west gateway, meshNetworks names known registries',
    details:
      'In a multi-network mesh istiod must know each cluster\'s network (label topology.istio.io/network on the istio ' +
      'namespace, or global.network of the install): endpoints without a network are treated as directly reachable, so ' +
      'calls from other networks go straight to unroutable pod IPs. Each network whose workloads are called from other ' +
      'networks (or whose istiod serves remotes elsewhere) needs an east-west gateway: istiod rewrites remote-network ' +
      'endpoints to that gateway\'s address. meshNetworks entries naming a registry that is no cluster id are ignored ' +
      '(IST0126). Clusters on one network route pod IPs directly, so their pod CIDRs must not overlap. The check also ' +
      'draws the topology: networks, clusters, gateways and their addresses, and which control plane sees which cluster.',
    docs: 'https://istio.io/latest/docs/ops/configuration/traffic-management/multicluster/',
    messages: {
      networkUnknown: {
        template: 'The network of cluster {{cluster}} cannot be told (no topology.istio.io/network on {{namespace}}, no global.network) while the mesh uses networks {{networks}}',
        severity: 'error',
        hint:
          'Label the istio namespace with the cluster\'s network (kubectl --context {{context}} label namespace {{namespace}} topology.istio.io/network=<network name>) ' +
          'and install with --set values.global.network=<network name>; then restart the workloads so their proxies pick it up.',
      },
      networkWithoutGateway: {
        template: 'Network {{network}} (clusters {{clusters}}) has no east-west gateway: other networks cannot reach its endpoints{{reason}}',
        severity: 'error',
        hint:
          'Install one in a cluster of the network: samples/multicluster/gen-eastwest-gateway.sh --network {{network}} | istioctl --context {{context}} install -y -f - ; ' +
          'then kubectl --context {{context}} apply -n istio-system -f samples/multicluster/expose-services.yaml',
      },
      unknownMeshNetworksRegistry: {
        template: 'meshNetworks of cluster {{cluster}} names registry {{registry}} in network {{network}}, which is no cluster id of the mesh (IST0126)',
        severity: 'error',
        hint:
          'Use the cluster ids istiod knows (CLUSTER_ID of each istiod, the data keys of the remote secrets: {{known}}): ' +
          'kubectl --context {{context}} -n {{namespace}} edit configmap {{configMap}}',
      },
      podCidrOverlap: {
        template: 'Clusters {{cluster}} and {{other}} are both on network {{network}} but their pod CIDRs overlap ({{cidr}} and {{otherCidr}}): pod IPs are ambiguous between them',
        severity: 'warning',
        hint: 'Clusters of one network reach pods directly: give them disjoint pod CIDRs, or put them on different networks with east-west gateways.',
      },
    },
  },
  async run(ctx) {
    const readers = ctx.clusters.filter((_r, i) => ctx.clusterInfos[i].reachable);
    const infos = ctx.clusterInfos.filter((i) => i.reachable);
    const meshNetworks = await Promise.all(readers.map((reader, i) => primaryMeshNetworks(reader, infos[i], istioNamespaceOf(infos[i], ctx.options.istioNamespace))));
    // The registryServiceName gateways every control plane applies: a network's entries apply to the registries it lists.
    const allNetworks = meshNetworks.flatMap((m) => m?.networks ?? []);
    const facts = await Promise.all(readers.map((reader, i) => clusterFacts(reader, infos[i], ctx, allNetworks, meshNetworks[i])));

    const declared = new Set<string>();
    for (const f of facts) {
      if (f.info.network) declared.add(f.info.network);
      for (const gw of f.gateways) if (gw.network) declared.add(gw.network);
    }
    const multiNetwork = declared.size > 1 || ctx.mesh.multiNetwork;
    checkUnknownNetworks(ctx, facts, declared, multiNetwork);
    if (multiNetwork) checkGatewaysPerNetwork(ctx, facts);
    checkMeshNetworks(ctx, facts);
    checkPodCidrs(ctx, facts);
    ctx.attach('topology', await picture(ctx, facts));
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

interface ClusterFacts {
  reader: ClusterReader;
  info: ClusterInfo;
  istioNamespace?: KubeObject;
  gateways: { kind: 'Service' | 'Gateway'; namespace: string; name: string; network?: string; addresses: string[]; recognised: boolean }[];
  /** false when the cluster's Services could not be read: it may have gateways no one saw. */
  gatewaysKnown: boolean;
  /** Whether the cluster runs injected workloads; undefined when pods cannot be read. */
  hasMeshWorkloads?: boolean;
  /** Cluster ids named by the istio namespace's controlPlaneClusters annotation. */
  controlPlaneClusters: string[];
  /** meshNetworks of a primary's istio namespace. */
  meshNetworks?: MeshNetworksConfig;
  /** Cluster ids its istiod's secrets give it, either form (remoteSecretClusterIds). */
  remoteSecretKeys: string[];
  podCidrs: string[];
}

/** meshNetworks of a primary (what its istiod reads); undefined for other roles or when it has none. */
async function primaryMeshNetworks(reader: ClusterReader, info: ClusterInfo, istioNamespace: string): Promise<MeshNetworksConfig | undefined> {
  if (info.role !== 'primary') return undefined;
  return meshNetworksOf((await listIfReadable(reader, 'configmaps')) ?? [], istioNamespace);
}

async function clusterFacts(
  reader: ClusterReader,
  info: ClusterInfo,
  ctx: Ctx,
  meshNetworkEntries: MeshNetwork[],
  meshNetworks: MeshNetworksConfig | undefined,
): Promise<ClusterFacts> {
  // Each cluster's Istio objects are in its own Istio namespace (an external control plane's remotes: external-istiod).
  const istioNs = istioNamespaceOf(info, ctx.options.istioNamespace);
  // Without its namespaces and Services a cluster's network and gateways are unknown: no pass for it.
  const essential = (err: Error) => ctx.notRead(reader.name, err.message);
  const [namespaces, services, k8sGateways, pods, nodes, configMaps, secrets, deployments] = await Promise.all([
    listIfReadable(reader, 'namespaces', undefined, essential),
    listIfReadable(reader, 'services', undefined, essential),
    listIfReadable(reader, 'k8sgateways'),
    listIfReadable(reader, 'pods'),
    listIfReadable(reader, 'nodes'),
    listIfReadable(reader, 'configmaps'),
    // Only where istiod reads them (its namespace, an external istiod's): never the cluster's application secrets.
    unlessAbsent(readIstiodSecrets(reader, istioNs)),
    // Which istiod mounts an istio-kubeconfig, and so under which cluster id it registers its cluster.
    listIfReadable(reader, 'deployments'),
  ]);
  const istioNamespace = namespaces?.find((n) => n.metadata.name === istioNs);
  const discovery = {
    networks: meshNetworkEntries,
    clusterDomain: clusterDomainOf(configMaps ?? [], istioNs),
    ...(info.clusterId ? { clusterId: info.clusterId } : {}),
  };
  // Unreadable lists leave the gateways they would show out (tryList); the model is the one every check uses.
  const gateways = eastWestGatewaysOf(info.name, { services: services ?? [], k8sGateways: k8sGateways ?? [], ...(nodes ? { nodes } : {}) }, discovery).map((w) => ({
    kind: w.kind,
    namespace: w.namespace,
    name: w.name,
    ...(w.network ? { network: w.network } : {}),
    addresses: w.addresses,
    recognised: w.recognisedByIstiod,
  }));
  const annotation = istioNamespace ? annotationsOf(istioNamespace)[CONTROL_PLANE_CLUSTERS_ANNOTATION] : undefined;
  const remoteSecretKeys = [...remoteSecretClusterIds(findRemoteSecrets(secrets ?? [], istioNs), deployments ?? []).keys()];
  const podCidrs = (nodes ?? []).flatMap((n) => (Array.isArray(n.spec?.podCIDRs) ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : []) as string[]);
  return {
    reader,
    info,
    istioNamespace,
    gateways,
    gatewaysKnown: services !== undefined,
    hasMeshWorkloads: pods ? pods.some(hasSidecar) : undefined,
    controlPlaneClusters: annotation ? annotation.split(',').map((s) => s.trim()).filter(Boolean) : [],
    ...(meshNetworks ? { meshNetworks } : {}),
    remoteSecretKeys,
    podCidrs: [...new Set(podCidrs)],
  };
}

function contextOf(f: ClusterFacts): string {
  return f.info.context ?? f.info.name;
}

function checkUnknownNetworks(ctx: Ctx, facts: ClusterFacts[], declared: Set<string>, multiNetwork: boolean): void {
  if (declared.size === 0) return; // no cluster uses networks: a single flat network
  for (const f of facts) {
    // An external control plane cluster runs no proxies of the mesh: it joins no network.
    if (f.info.network || f.info.role === 'external-control-plane') continue;
    ctx.report({
      messageId: 'networkUnknown',
      cluster: f.info.name,
      resource: { kind: 'Namespace', name: istioNamespaceOf(f.info, ctx.options.istioNamespace) },
      // With one network declared elsewhere it may be a flat mesh labelled halfway: worth fixing, not yet broken.
      ...(multiNetwork ? {} : { severity: 'warning' as const }),
      data: { cluster: f.info.name, namespace: istioNamespaceOf(f.info, ctx.options.istioNamespace), networks: [...declared].sort().join(', '), context: contextOf(f) },
    });
  }
}

function checkGatewaysPerNetwork(ctx: Ctx, facts: ClusterFacts[]): void {
  const byNetwork = new Map<string, ClusterFacts[]>();
  for (const f of facts) {
    if (!f.info.network) continue;
    byNetwork.set(f.info.network, [...(byNetwork.get(f.info.network) ?? []), f]);
  }
  for (const [network, members] of [...byNetwork.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    // A gateway istiod ignores (no network label) is eastwest-gateway's finding, not a missing one.
    const hasGateway = facts.some((f) => f.gateways.some((g) => (g.network ?? (g.recognised ? undefined : f.info.network)) === network));
    if (hasGateway || members.some((m) => !m.gatewaysKnown)) continue;
    const servesRemotes = members.some((m) =>
      facts.some((other) => other.info.network !== network && other.info.role === 'remote' && m.info.clusterId !== undefined && controlledBy(other, facts).includes(m)),
    );
    const hasWorkloads = members.some((m) => m.hasMeshWorkloads !== false);
    if (!servesRemotes && !hasWorkloads) continue;
    const first = members[0];
    ctx.report({
      messageId: 'networkWithoutGateway',
      cluster: first.info.name,
      data: {
        network,
        clusters: members.map((m) => m.info.name).join(', '),
        reason: servesRemotes ? ', and remote clusters on other networks cannot reach its istiod' : '',
        context: contextOf(first),
      },
    });
  }
}

/** The primaries that configure a remote: its controlPlaneClusters annotation, else every primary. */
function controlledBy(remote: ClusterFacts, facts: ClusterFacts[]): ClusterFacts[] {
  const primaries = facts.filter((f) => f.info.role === 'primary');
  const named = primaries.filter((p) => p.info.clusterId && remote.controlPlaneClusters.includes(p.info.clusterId));
  return named.length > 0 ? named : primaries;
}

function checkMeshNetworks(ctx: Ctx, facts: ClusterFacts[]): void {
  for (const f of facts) {
    if (!f.meshNetworks || f.info.role !== 'primary') continue;
    const known = new Set<string>([...facts.map((x) => x.info.clusterId).filter((id): id is string => !!id), ...f.remoteSecretKeys]);
    for (const network of f.meshNetworks.networks) {
      for (const registry of network.fromRegistries) {
        if (known.has(registry)) continue;
        ctx.report({
          messageId: 'unknownMeshNetworksRegistry',
          cluster: f.info.name,
          resource: { kind: 'ConfigMap', namespace: istioNamespaceOf(f.info, ctx.options.istioNamespace), name: f.meshNetworks.configMap },
          data: {
            cluster: f.info.name,
            registry,
            network: network.name,
            known: [...known].sort().join(', '),
            context: contextOf(f),
            namespace: istioNamespaceOf(f.info, ctx.options.istioNamespace),
            configMap: f.meshNetworks.configMap,
          },
        });
      }
    }
  }
}

/** Parse `a.b.c.d/n` or an IPv6 CIDR into [first, last] as BigInts with the family; undefined when malformed. */
function cidrRange(cidr: string): { family: 4 | 6; first: bigint; last: bigint } | undefined {
  const [address, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  let value: bigint;
  let width: number;
  let family: 4 | 6;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(address)) {
    const octets = address.split('.').map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    value = octets.reduce((acc, o) => (acc << 8n) + BigInt(o), 0n);
    width = 32;
    family = 4;
  } else if (address.includes(':')) {
    const [head, tail] = address.split('::');
    const groups = (s: string | undefined) => (s ? s.split(':') : []);
    const missing = 8 - groups(head).length - groups(tail).length;
    const all = tail !== undefined ? [...groups(head), ...Array(missing).fill('0'), ...groups(tail)] : groups(head);
    if (all.length !== 8) return undefined;
    value = all.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
    width = 128;
    family = 6;
  } else return undefined;
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return undefined;
  const hostBits = BigInt(width - bits);
  const first = (value >> hostBits) << hostBits;
  return { family, first, last: first + (1n << hostBits) - 1n };
}

function checkPodCidrs(ctx: Ctx, facts: ClusterFacts[]): void {
  for (let i = 0; i < facts.length; i++) {
    for (let j = i + 1; j < facts.length; j++) {
      const [a, b] = [facts[i], facts[j]];
      if (!a.info.network || a.info.network !== b.info.network) continue;
      const overlap = firstOverlap(a.podCidrs, b.podCidrs);
      if (!overlap) continue;
      ctx.report({
        messageId: 'podCidrOverlap',
        cluster: b.info.name,
        data: { cluster: a.info.name, other: b.info.name, network: a.info.network, cidr: overlap[0], otherCidr: overlap[1] },
      });
    }
  }
}

function firstOverlap(left: string[], right: string[]): [string, string] | undefined {
  for (const l of left) {
    const lr = cidrRange(l);
    if (!lr) continue;
    for (const r of right) {
      const rr = cidrRange(r);
      if (rr && rr.family === lr.family && lr.first <= rr.last && rr.first <= lr.last) return [l, r];
    }
  }
  return undefined;
}

/** Cluster ids a control plane watches, from /debug/clusterz (parsed by src/mesh/debug/clusterz.ts: every format). */
async function clustersSeenBy(f: ClusterFacts, ctx: Ctx): Promise<TopologyPicture['controlPlanes'][number]> {
  const entry: TopologyPicture['controlPlanes'][number] = { cluster: f.info.name, ...(f.info.clusterId ? { clusterId: f.info.clusterId } : {}), sees: [] };
  let entries;
  try {
    entries = await readClusterz(f.reader, ctx.signal);
  } catch (err) {
    // The picture is a side product: an unreadable clusterz is drawn as such, not a check error.
    return { ...entry, error: err instanceof Error ? err.message : String(err) };
  }
  if (!entries) return { ...entry, error: 'no istiod answered /debug/clusterz' };
  const seen = new Map<string, string>();
  // The local cluster is always watched; clusterz lists it only since 1.22.
  if (f.info.clusterId) seen.set(f.info.clusterId, 'local');
  for (const { id, syncStatus } of entries) {
    if (seen.has(id)) continue;
    seen.set(id, syncStatus || 'known');
  }
  return { ...entry, sees: [...seen.entries()].map(([clusterId, status]) => ({ clusterId, status })) };
}

async function picture(ctx: Ctx, allFacts: ClusterFacts[]): Promise<TopologyPicture> {
  // An external control plane cluster is on no network of the mesh: it shows as a control plane only.
  const facts = allFacts.filter((f) => isMeshMember(f.info));
  const names = [...new Set(facts.map((f) => f.info.network ?? UNKNOWN_NETWORK))].sort((a, b) =>
    a === UNKNOWN_NETWORK ? 1 : b === UNKNOWN_NETWORK ? -1 : a.localeCompare(b),
  );
  const networks = names.map((name) => ({
    name,
    clusters: facts
      .filter((f) => (f.info.network ?? UNKNOWN_NETWORK) === name)
      .map((f) => ({
        name: f.info.name,
        ...(f.info.clusterId ? { clusterId: f.info.clusterId } : {}),
        role: f.info.role,
        gateways: f.gateways.map(({ kind, namespace, name: gwName, addresses, recognised }) => ({ kind, namespace, name: gwName, addresses, recognised })),
      })),
  }));
  const controlPlanes = await Promise.all(allFacts.filter((f) => runsIstiod(f.info)).map((f) => clustersSeenBy(f, ctx)));
  return { networks, controlPlanes };
}
