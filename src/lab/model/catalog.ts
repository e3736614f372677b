// The lab's scenarios and faults by name: what `meshdoctor lab scenarios` lists and what
// buildMeshState accepts. Every fault of the fault table in CHECKS.md is here.
import type { LabFault } from '../types.ts';
import { LabError } from './errors.ts';

/** Topology of a scenario. */
export type LabTopology = 'multi-primary' | 'multi-primary-single-network' | 'primary-remote' | 'external-control-plane' | 'ambient-multi-network';

/** A named scenario. */
export interface LabScenarioInfo {
  name: string;
  description: string;
  topology: LabTopology;
  /** Faults the scenario injects by itself. */
  defaultFaults: LabFault[];
  /** Clusters when none are asked for (2 otherwise). */
  defaultClusters?: number;
}

/** Which clusters a fault can be injected on. */
export type FaultTarget =
  /** any cluster */
  | 'any'
  /** a cluster running istiod (every cluster but the remotes of primary-remote and external-control-plane) */
  | 'primary'
  /** a remote cluster of a primary-remote or external-control-plane mesh */
  | 'remote';

/** A named fault. */
export interface LabFaultInfo {
  name: string;
  description: string;
  /** Cluster used when the fault is given without one; when it does not fit `target`, the first cluster that does. */
  defaultCluster: string;
  target: FaultTarget;
  /** Only meaningful in these topologies (others: an error); omitted = all. */
  topologies?: LabTopology[];
  /** Check ids this fault must make fail (on the fault's cluster or mesh-wide). */
  failsChecks: string[];
}

/** Every scenario the lab can build. */
export const LAB_SCENARIOS: readonly LabScenarioInfo[] = [
  {
    name: 'multi-primary',
    description: 'Every cluster runs istiod, each on its own network with an east-west gateway (multi-primary, multi-network).',
    topology: 'multi-primary',
    defaultFaults: [],
  },
  {
    name: 'multi-primary-single-network',
    description: 'Every cluster runs istiod, all on network1: pods reach each other directly.',
    topology: 'multi-primary-single-network',
    defaultFaults: [],
  },
  {
    name: 'primary-remote',
    description: 'cluster1 runs istiod and exposes it through its east-west gateway; the other clusters are remotes on their own networks.',
    topology: 'primary-remote',
    defaultFaults: [],
  },
  {
    name: 'external-control-plane',
    description:
      'cluster1 runs an external istiod (namespace external-istiod, EXTERNAL_ISTIOD=true, CLUSTER_ID cluster2) and no proxies; cluster2 is its config cluster (read through Secret istio-kubeconfig), cluster3 a further remote; each remote on its own network, its Istio in external-istiod as the guide installs it.',
    topology: 'external-control-plane',
    defaultFaults: [],
    defaultClusters: 3,
  },
  {
    name: 'ambient-multi-network',
    description:
      'Ambient mode, multi-primary on one network per cluster (istio.io\'s ambient multi-primary multi-network guide): ztunnel, istio-east-west Gateways, sample/helloworld istio.io/global=true behind a universal waypoint.',
    topology: 'ambient-multi-network',
    defaultFaults: [],
  },
  {
    name: 'demo',
    description: "multi-primary with the seed article's ISTIO_MUTUAL cross-network Gateway on cluster1 and a second root of trust on cluster2.",
    topology: 'multi-primary',
    defaultFaults: [
      { name: 'cross-network-gateway-istio-mutual', cluster: 'cluster1' },
      { name: 'root-mismatch', cluster: 'cluster2' },
    ],
  },
];

function fault(
  name: string,
  defaultCluster: string,
  target: FaultTarget,
  failsChecks: string[],
  description: string,
  topologies?: LabTopology[],
): LabFaultInfo {
  return { name, description, defaultCluster, target, failsChecks, ...(topologies ? { topologies } : {}) };
}

const PRIMARY_REMOTE: LabTopology[] = ['primary-remote'];
const EXTERNAL_CONTROL_PLANE: LabTopology[] = ['external-control-plane'];
const AMBIENT: LabTopology[] = ['ambient-multi-network'];
// Faults of east-west traffic need more than one network.
const MULTI_NETWORK: LabTopology[] = ['multi-primary', 'primary-remote'];

// "The peer" of a remote-secret fault is the next cluster after the faulted primary (cluster1 -> cluster2,
// the last cluster -> cluster1); in primary-remote, the first remote.
/** Every fault of the lab, in the order of the fault table in CHECKS.md. */
export const LAB_FAULTS: readonly LabFaultInfo[] = [
  fault('istiod-not-ready', 'cluster2', 'primary', ['control-plane/istiod-ready'], 'istiod pods not Ready: CrashLoopBackOff, restarts climbing; debug endpoints unreachable.'),
  fault('duplicate-cluster-id', 'cluster2', 'any', ['control-plane/cluster-ids'], 'The cluster was installed with the cluster id of another cluster (CLUSTER_ID, injector values, proxies).'),
  fault('mesh-id-mismatch', 'cluster2', 'any', ['control-plane/mesh-config'], 'The cluster was installed with meshID mesh2.'),
  fault('trust-domain-mismatch', 'cluster2', 'any', ['control-plane/mesh-config', 'certificates/workload'], 'The cluster\'s mesh config uses trust domain cluster2.local.'),
  fault('discovery-selectors-exclude', 'cluster1', 'primary', ['control-plane/mesh-config'], 'istiod discoverySelectors select istio-discovery=enabled namespaces only, which leaves out `sample`.'),
  fault('version-skew', 'cluster2', 'any', ['control-plane/version-skew', 'control-plane/known-issues'], 'The cluster runs Istio 1.29.1 (istiod and proxies), two minors behind the others, and with it istio#60082.'),
  fault('no-remote-secret', 'cluster1', 'primary', ['control-plane/remote-secrets', 'control-plane/remote-sync', 'services/cross-cluster-discovery'], 'The primary has no remote secret for its peer.'),
  fault('remote-secret-wrong-id', 'cluster1', 'primary', ['control-plane/remote-secrets'], 'The primary\'s remote secret for its peer is keyed `kind-<peer>` instead of the peer\'s cluster id.'),
  fault('remote-secret-exec-auth', 'cluster1', 'primary', ['control-plane/remote-secrets', 'control-plane/istiod-logs'], 'The kubeconfig in the primary\'s remote secret for its peer uses an exec credential plugin.'),
  fault('remote-secret-expired-token', 'cluster1', 'primary', ['control-plane/remote-secrets', 'control-plane/remote-api-access'], 'The token in the primary\'s remote secret for its peer expired; the peer answers 401.'),
  fault('remote-secret-unreachable', 'cluster1', 'primary', ['control-plane/remote-api-access'], 'The server of the primary\'s remote secret for its peer refuses connections.'),
  fault('remote-rbac-missing', 'cluster1', 'primary', ['control-plane/remote-api-access'], 'The credentials of the primary\'s remote secret for its peer get 403 on pods, services and endpointslices.'),
  fault('remote-sync-timeout', 'cluster1', 'primary', ['control-plane/remote-sync', 'services/cross-cluster-discovery', 'control-plane/istiod-logs'], 'istiod reports `timeout` in clusterz for its peer (no object effect).'),
  fault('proxy-stale', 'cluster1', 'primary', ['control-plane/proxy-sync'], 'Several proxies have sent != acked in syncz (no object effect).'),
  fault('remote-annotation-missing', 'cluster2', 'remote', ['control-plane/primary-remote'], 'The remote\'s istio-system lacks topology.istio.io/controlPlaneClusters.', PRIMARY_REMOTE),
  fault('remote-istiod-endpoint-wrong', 'cluster2', 'remote', ['control-plane/primary-remote'], 'The remote\'s istiod Endpoints and EndpointSlice point at 198.51.100.x, not the primary\'s east-west gateway.', PRIMARY_REMOTE),
  fault('service-port-mismatch', 'cluster2', 'any', ['services/consistency'], 'sample/helloworld serves port 5001 (name tcp) in this cluster instead of 5000 http.'),
  fault('service-headless-mixed', 'cluster2', 'any', ['services/consistency'], 'sample/helloworld is headless (clusterIP None) in this cluster only.'),
  fault('namespace-not-injected', 'cluster2', 'any', ['services/namespace-sameness'], '`sample` lacks istio-injection=enabled in this cluster; its pods run without sidecars.'),
  fault('remote-only-service-no-dns-capture', 'cluster1', 'any', ['services/remote-only-dns', 'connectivity/dns'], 'DNS capture is off in this cluster, and sample/hello-remote exists only in the next cluster.'),
  fault('legacy-global-config', 'cluster1', 'any', ['services/legacy-global'], 'The seed article\'s `.global` ServiceEntry (240.0.0.1) and `*.global` ISTIO_MUTUAL DestinationRule exist in `sample`.'),
  fault('uninjected-remote-endpoint', 'cluster2', 'any', ['services/endpoints'], 'The helloworld pods of this cluster run without a sidecar (sidecar.istio.io/inject: "false").', MULTI_NETWORK),
  fault('network-label-missing', 'cluster2', 'any', ['network/topology', 'services/endpoints'], 'istio-system lacks topology.istio.io/network and global.network is empty: its endpoints get no network.'),
  fault('ewgw-missing', 'cluster2', 'any', ['network/topology'], 'The cluster has no east-west gateway.', MULTI_NETWORK),
  fault('ewgw-not-ready', 'cluster2', 'any', ['network/eastwest-gateway'], 'The east-west gateway pods are not Ready.', MULTI_NETWORK),
  fault('ewgw-lb-pending', 'cluster2', 'any', ['network/eastwest-gateway', 'network/gateway-view', 'connectivity/http', 'connectivity/cross-cluster', 'connectivity/gateway-reachability'], 'The east-west gateway LoadBalancer has no ingress address (pending).', MULTI_NETWORK),
  fault('ewgw-no-15443', 'cluster2', 'any', ['network/eastwest-gateway'], 'The east-west gateway Service lacks port 15443.', MULTI_NETWORK),
  fault('ewgw-network-label-missing', 'cluster2', 'any', ['network/eastwest-gateway', 'network/gateway-view'], 'The east-west gateway Service and pods lack topology.istio.io/network.', MULTI_NETWORK),
  fault('cross-network-gateway-missing', 'cluster2', 'primary', ['network/cross-network-gateway'], 'No cross-network-gateway Gateway (in primary-remote: on the primary).', MULTI_NETWORK),
  fault('cross-network-gateway-istio-mutual', 'cluster1', 'primary', ['network/cross-network-gateway', 'connectivity/cross-cluster'], 'The cross-network-gateway uses tls.mode ISTIO_MUTUAL, as in the seed article (istio#31480).', MULTI_NETWORK),
  fault('cross-network-gateway-duplicate', 'cluster2', 'primary', ['network/cross-network-gateway'], 'A second Gateway (eastwest-15443) claims 15443 on the east-west gateway pods.', MULTI_NETWORK),
  fault('istiod-not-exposed', 'cluster1', 'primary', ['network/istiod-exposure'], 'The primary has no istiod-gateway Gateway or istiod-vs VirtualService.', PRIMARY_REMOTE),
  fault('networkpolicy-blocks-gateway', 'cluster2', 'any', ['network/policies'], 'NetworkPolicy deny-eastwest selects the east-west gateway pods and allows only 15021.', MULTI_NETWORK),
  fault('eastwest-firewall', 'cluster2', 'any', ['connectivity/http', 'connectivity/gateway-reachability'], 'TCP to this cluster\'s gateway 15443 times out from other networks (no object effect).', MULTI_NETWORK),
  fault('cacerts-missing', 'cluster2', 'any', ['certificates/cacerts', 'certificates/shared-root'], 'No cacerts Secret: istiod runs its self-signed istio-ca-secret root.'),
  fault('cacerts-incomplete', 'cluster2', 'any', ['certificates/cacerts'], 'cacerts lacks ca-key.pem.'),
  fault('root-mismatch', 'cluster2', 'any', ['certificates/shared-root', 'certificates/workload', 'connectivity/http', 'connectivity/cross-cluster'], 'The cluster\'s intermediate chains to a second root (same subject, different key).'),
  fault('ca-key-mismatch', 'cluster2', 'any', ['certificates/chain'], 'cacerts ca-key.pem is not the key of ca-cert.pem.'),
  fault('not-a-ca', 'cluster2', 'any', ['certificates/chain'], 'The intermediate lacks CA:TRUE and keyCertSign.'),
  fault('chain-wrong-order', 'cluster2', 'any', ['certificates/chain'], 'cert-chain.pem lists the root first.'),
  fault('intermediate-expired', 'cluster2', 'any', ['certificates/expiry'], 'The intermediate CA expired 5 days ago.'),
  fault('intermediate-expiring', 'cluster2', 'any', ['certificates/expiry'], 'The intermediate CA expires in 10 days.'),
  fault('stale-root-configmap', 'cluster2', 'any', ['certificates/root-distribution'], 'sample\'s istio-ca-root-cert ConfigMap holds an old root.'),
  fault('ambient-multi-network-off', 'cluster2', 'primary', ['ambient/multi-network'], 'istiod runs without AMBIENT_ENABLE_MULTI_NETWORK: no istio-east-west GatewayClass, so its Gateway is never programmed, and its ztunnels get no workload of another network.', AMBIENT),
  fault('ztunnel-cluster-id-default', 'cluster2', 'any', ['ambient/multi-network'], 'The ztunnel DaemonSet keeps the chart default ISTIO_META_CLUSTER_ID=Kubernetes: istiod refuses its certificate and xDS requests.', AMBIENT),
  fault('ambient-ewgw-missing', 'cluster2', 'any', ['ambient/eastwest-gateway', 'ambient/ztunnel-view'], 'The cluster has no istio-east-west Gateway: its peers find no gateway for its network.', AMBIENT),
  fault('ambient-ewgw-no-address', 'cluster2', 'any', ['ambient/eastwest-gateway', 'ambient/ztunnel-view'], 'The istio-east-west Gateway has no status.addresses (its LoadBalancer is pending) and is not Programmed.', AMBIENT),
  fault('ambient-global-label-asymmetric', 'cluster2', 'any', ['ambient/global-services'], 'sample/helloworld lacks istio.io/global=true in this cluster only.', AMBIENT),
  fault('ambient-scope-config-missing', 'cluster2', 'primary', ['ambient/global-services'], 'The mesh config lost the ambient profile\'s serviceScopeConfigs rule: istio.io/global does nothing here.', AMBIENT),
  fault('ambient-waypoint-not-global', 'cluster2', 'any', ['ambient/waypoints'], 'The waypoint Service of sample lacks istio.io/global=true in this cluster.', AMBIENT),
  fault('failover-no-outlier-detection', 'cluster1', 'any', ['services/locality-failover'], 'DestinationRule sample/helloworld-failover sets locality failover (region1 -> region2) for helloworld, served by every cluster, without outlierDetection.'),
  fault('external-kubeconfig-missing', 'cluster1', 'primary', ['control-plane/remote-secrets'], 'The external istiod\'s Secret istio-kubeconfig is missing: istiod falls back to its own cluster\'s API as config cluster.', EXTERNAL_CONTROL_PLANE),
  fault('external-webhook-unreachable', 'cluster3', 'remote', ['control-plane/primary-remote'], 'The remote\'s injector webhook clientConfig.url calls 198.51.100.x, not where the external istiod is exposed.', EXTERNAL_CONTROL_PLANE),
  fault('external-istiod-flag-missing', 'cluster1', 'primary', ['control-plane/primary-remote'], 'The external istiod runs without EXTERNAL_ISTIOD=true: it reads remote secrets from the config cluster and leads no other remote.', EXTERNAL_CONTROL_PLANE),
];

const MIN_CLUSTERS = 2;
const MAX_CLUSTERS = 10;

/** The scenario of a name, or an Error listing the known ones. */
export function scenarioInfo(name: string): LabScenarioInfo {
  const found = LAB_SCENARIOS.find((s) => s.name === name);
  if (!found) throw new LabError(`unknown lab scenario "${name}" (known: ${LAB_SCENARIOS.map((s) => s.name).join(', ')})`);
  return found;
}

/** The fault of a name, or an Error pointing at `meshdoctor lab scenarios`. */
export function faultInfo(name: string): LabFaultInfo {
  const found = LAB_FAULTS.find((f) => f.name === name);
  if (!found) throw new LabError(`unknown lab fault "${name}" (run \`meshdoctor lab scenarios\` for the list)`);
  return found;
}

/** Parse `name[:cluster]` (the CLI's --fault) into a LabFault; unknown fault names throw a LabError. */
export function parseFault(text: string): LabFault {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const name = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const cluster = colon === -1 ? undefined : trimmed.slice(colon + 1);
  if (!name) throw new LabError(`bad lab fault "${text}": expected NAME or NAME:CLUSTER`);
  if (cluster !== undefined && !cluster) throw new LabError(`bad lab fault "${text}": empty cluster after ':'`);
  faultInfo(name);
  return cluster ? { name, cluster } : { name };
}

/** Check a cluster count: 2 to 10. */
export function validateClusterCount(count: number): void {
  if (!Number.isInteger(count) || count < MIN_CLUSTERS || count > MAX_CLUSTERS) {
    throw new LabError(`lab clusters must be an integer from ${MIN_CLUSTERS} to ${MAX_CLUSTERS}, got ${count}`);
  }
}

/** Names of the clusters of a lab: cluster1..clusterN. */
export function clusterNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `cluster${i + 1}`);
}

/** Whether a cluster runs istiod in a topology (every cluster but the remotes of primary-remote and external-control-plane). */
export function runsIstiod(topology: LabTopology, cluster: string): boolean {
  return (topology !== 'primary-remote' && topology !== 'external-control-plane') || cluster === 'cluster1';
}

/**
 * The scenario's own faults plus the given ones, each with its cluster resolved and validated
 * (unknown fault, unknown cluster, a cluster the fault cannot apply to: Error). Duplicates collapse.
 */
export function resolveFaults(scenario: LabScenarioInfo, clusters: string[], extra: LabFault[]): Required<LabFault>[] {
  const resolved: Required<LabFault>[] = [];
  for (const requested of [...scenario.defaultFaults, ...extra]) {
    const info = faultInfo(requested.name);
    if (info.topologies && !info.topologies.includes(scenario.topology)) {
      throw new LabError(`lab fault "${info.name}" applies only to ${info.topologies.join(' or ')} meshes, not to scenario "${scenario.name}"`);
    }
    const fits = (cluster: string) =>
      info.target === 'any' ||
      (info.target === 'primary' && runsIstiod(scenario.topology, cluster)) ||
      (info.target === 'remote' && !runsIstiod(scenario.topology, cluster));
    let cluster = requested.cluster;
    if (cluster !== undefined) {
      if (!clusters.includes(cluster)) throw new LabError(`lab fault "${info.name}": unknown cluster "${cluster}" (clusters: ${clusters.join(', ')})`);
      if (!fits(cluster)) throw new LabError(`lab fault "${info.name}" needs a ${info.target === 'primary' ? 'cluster running istiod' : 'remote cluster'}; ${cluster} is not one`);
    } else {
      cluster = clusters.includes(info.defaultCluster) && fits(info.defaultCluster) ? info.defaultCluster : clusters.find(fits);
      if (!cluster) throw new LabError(`lab fault "${info.name}": no cluster of scenario "${scenario.name}" can take it`);
    }
    if (!resolved.some((f) => f.name === info.name && f.cluster === cluster)) resolved.push({ name: info.name, cluster });
  }
  return resolved;
}
