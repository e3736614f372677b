// What a cluster of the mesh should look like before any object exists: its role, ids, network,
// versions and the knobs faults turn. Object generators read the plan, so a fault that changes
// (say) the cluster id changes it consistently everywhere.
import type { LabEndpoint, LabFault } from '../types.ts';
import { runsIstiod, type LabTopology } from './catalog.ts';

/**
 * The Istio version of a healthy lab cluster: one no row of src/mesh/known-multicluster-issues.ts affects (every
 * row's fix is in the tree of tag 1.31.0-rc.0, and istio.io's 1.30.x page names 1.31 the current release), so
 * control-plane/known-issues passes on a healthy lab. 1.29.x carries istio#60082 and 1.30.0..1.30.3 the rotation defects.
 */
export const ISTIO_VERSION = '1.31.0';
/** The version the `version-skew` fault installs (two minors behind; it also carries istio#60082). */
export const SKEWED_ISTIO_VERSION = '1.29.1';
/** The Kubernetes version the simulated nodes report. */
export const KUBERNETES_VERSION = 'v1.32.2';

/** Plan of one cluster. */
export interface ClusterPlan {
  name: string;
  /** 1-based position: seeds IPs, hashes and resourceVersions. */
  index: number;
  topology: LabTopology;
  /**
   * `primary` runs istiod; `remote` (primary-remote, external-control-plane) is managed by cluster1;
   * `external` (external-control-plane's cluster1) runs the external istiod and no proxies of the mesh.
   */
  role: 'primary' | 'remote' | 'external';
  /** external-control-plane: the config cluster (cluster2), whose API the external istiod reads as its own. */
  configCluster: boolean;
  /**
   * Namespace of the cluster's Istio install: its istiod's, or a remote's remote profile
   * (external-control-plane: `external-istiod` on every cluster, as the istio.io guide installs the
   * external istiod and the remotes alike: snips.sh at 005b9da, snip_get_remote_config_cluster_iop
   * and snip_get_second_remote_cluster_iop, `metadata.namespace: external-istiod`, global.istioNamespace
   * external-istiod; the east-west gateways there too, snip_setup_eastwest_gateways_1..4).
   */
  istiodNamespace: string;
  /** Name of the cluster whose istiod manages this one (itself for a primary). */
  controlPlane: string;
  /** CLUSTER_ID istiod and proxies use (the cluster name unless `duplicate-cluster-id`). */
  istioClusterId: string;
  network: string;
  /** false with `network-label-missing`: neither istio-system's label nor global.network is set. */
  networkKnown: boolean;
  meshId: string;
  trustDomain: string;
  istioVersion: string;
  /** Proxy DNS capture (meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE). */
  dnsCapture: boolean;
  /** A (sidecar-mode, 15443) east-west gateway exists (multi-network sidecar topologies). */
  hasEastWestGateway: boolean;
  /** The cluster runs the ambient data plane (ztunnel; `sample` labelled istio.io/dataplane-mode=ambient). */
  ambient: boolean;
  /** istiod runs with AMBIENT_ENABLE_MULTI_NETWORK=true (false with `ambient-multi-network-off`). */
  ambientMultiNetwork: boolean;
  /** ISTIO_META_CLUSTER_ID of the ztunnel DaemonSet (the chart default `Kubernetes` with `ztunnel-cluster-id-default`). */
  ztunnelClusterId: string;
  /** An istio-east-west Gateway exists (ambient; absent with `ambient-ewgw-missing`). */
  hasAmbientEastWestGateway: boolean;
  /** The gateway's LoadBalancer ingress IP (TEST-NET-1), whether or not it is assigned. */
  eastWestIP: string;
  endpoint: LabEndpoint;
  /** Faults acting on this cluster. */
  faults: Set<string>;
}

/** Namespace of the external istiod (the istio.io guide's). */
export const EXTERNAL_ISTIOD_NAMESPACE = 'external-istiod';

/** Whether a topology has more than one network. */
export function isMultiNetwork(topology: LabTopology): boolean {
  return topology !== 'multi-primary-single-network';
}

/** Plans for every cluster of a mesh, with the faults' plan-level effects applied. */
export function planClusters(topology: LabTopology, endpoints: LabEndpoint[], faults: Required<LabFault>[]): ClusterPlan[] {
  const plans = endpoints.map((endpoint, i): ClusterPlan => {
    const name = endpoint.cluster;
    const primary = runsIstiod(topology, name);
    const external = topology === 'external-control-plane' && primary;
    return {
      name,
      index: i + 1,
      topology,
      role: external ? 'external' : primary ? 'primary' : 'remote',
      configCluster: topology === 'external-control-plane' && i === 1,
      istiodNamespace: topology === 'external-control-plane' ? EXTERNAL_ISTIOD_NAMESPACE : 'istio-system',
      controlPlane: primary ? name : endpoints[0].cluster,
      istioClusterId: name,
      network: isMultiNetwork(topology) ? `network${i + 1}` : 'network1',
      networkKnown: true,
      meshId: 'mesh1',
      trustDomain: 'cluster.local',
      istioVersion: ISTIO_VERSION,
      dnsCapture: true,
      // The external control plane cluster is no member of the mesh: no east-west gateway of its own.
      hasEastWestGateway: isMultiNetwork(topology) && !external && topology !== 'ambient-multi-network',
      ambient: topology === 'ambient-multi-network',
      ambientMultiNetwork: topology === 'ambient-multi-network',
      ztunnelClusterId: name,
      hasAmbientEastWestGateway: topology === 'ambient-multi-network',
      eastWestIP: `192.0.2.${10 + i + 1}`,
      endpoint,
      faults: new Set(faults.filter((f) => f.cluster === name).map((f) => f.name)),
    };
  });
  // The external istiod's CLUSTER_ID is the config cluster's id (istio.io external-controlplane
  // snips.sh at 005b9da: CLUSTER_ID=${REMOTE_CLUSTER_NAME}); it joins no network.
  for (const plan of plans) {
    if (plan.role !== 'external') continue;
    plan.istioClusterId = plans.find((p) => p.configCluster)?.name ?? plan.name;
    plan.networkKnown = false;
  }
  for (const plan of plans) {
    const has = (fault: string) => plan.faults.has(fault);
    if (has('duplicate-cluster-id')) plan.istioClusterId = plans.find((p) => p !== plan)?.name ?? plan.name;
    if (has('mesh-id-mismatch')) plan.meshId = 'mesh2';
    if (has('trust-domain-mismatch')) plan.trustDomain = `${plan.name}.local`;
    if (has('version-skew')) plan.istioVersion = SKEWED_ISTIO_VERSION;
    if (has('remote-only-service-no-dns-capture')) plan.dnsCapture = false;
    if (has('network-label-missing')) plan.networkKnown = false;
    if (has('ewgw-missing')) plan.hasEastWestGateway = false;
    if (has('ambient-multi-network-off')) plan.ambientMultiNetwork = false;
    // The ztunnel chart's default: ISTIO_META_CLUSTER_ID = multiCluster.clusterName | default "Kubernetes"
    // (istio/istio manifests/charts/ztunnel/templates/daemonset.yaml:134-135 at 86c9f01).
    if (has('ztunnel-cluster-id-default')) plan.ztunnelClusterId = 'Kubernetes';
    if (has('ambient-ewgw-missing')) plan.hasAmbientEastWestGateway = false;
  }
  return plans;
}

/** The cluster a primary's remote-secret faults act on: the next cluster (primary-remote: the first remote). */
export function peerOf(plan: ClusterPlan, plans: ClusterPlan[]): ClusterPlan {
  if (plan.topology === 'primary-remote' || plan.topology === 'external-control-plane') return plans.find((p) => p.role === 'remote') ?? plans[1];
  return plans[plan.index % plans.length];
}

/** The network a cluster's objects show: empty when the network is not known (`network-label-missing`). */
export function visibleNetwork(plan: ClusterPlan): string {
  return plan.networkKnown ? plan.network : '';
}
