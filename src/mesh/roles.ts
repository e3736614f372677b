// What a cluster's role means for the checks: who runs istiod, who runs proxies, where the mesh's
// config lives. External control plane facts from istio.io "Install Istio with an External Control
// Plane" (istio/istio.io content/en/docs/setup/install/external-controlplane/snips.sh at 005b9da:
// istiod with EXTERNAL_ISTIOD=true and CLUSTER_ID=<config cluster>, Secret istio-kubeconfig made by
// `istioctl create-remote-secret --type=config`) and istio/istio 86c9f01
// pilot/pkg/serviceregistry/kube/controller/multicluster.go:163 (the registry whose id is istiod's
// CLUSTER_ID is the config cluster).
import type { ClusterInfo, MeshInfo } from '../engine/types.ts';

/** Whether the cluster runs an istiod of the mesh (a primary or an external control plane). */
export function runsIstiod(info: ClusterInfo | undefined): boolean {
  return info?.role === 'primary' || info?.role === 'external-control-plane';
}

/** Whether the cluster's control plane runs elsewhere (remote, config cluster, external-controlled). */
export function controlledElsewhere(info: ClusterInfo | undefined): boolean {
  return info?.role === 'remote' || info?.role === 'config' || info?.role === 'external-controlled';
}

/**
 * Why data-plane checks (sidecars, gateways, workload certificates, traffic) do not apply to a
 * cluster, or undefined when they do: an external control plane cluster runs istiod for others and
 * no proxies of the mesh.
 */
export function dataPlaneSkipReason(info: ClusterInfo | undefined): string | undefined {
  if (info?.role === 'external-control-plane') return 'external control plane cluster: it runs istiod for the other clusters and no proxies of the mesh';
  return undefined;
}

/** Whether the cluster is a member of the mesh's data plane (every role but the external control plane). */
export function isMeshMember(info: ClusterInfo | undefined): boolean {
  return info !== undefined && info.role !== 'external-control-plane';
}

/**
 * The namespace of a cluster's Istio install, where checks read its Istio objects (injector and mesh
 * ConfigMaps, webhook Service, remote secrets, the controlPlaneClusters annotation, cacerts): where
 * discovery found it (ClusterInfo.istioNamespace), else its istiod's, else `fallback`
 * (--istio-namespace). The one accessor for a cluster other than the check's own; a cluster-scoped
 * check's ctx.options.istioNamespace is already its cluster's (src/engine/run.ts).
 */
export function istioNamespaceOf(info: ClusterInfo | undefined, fallback: string): string {
  return info?.istioNamespace ?? info?.istiodNamespace ?? fallback;
}

/**
 * Every diagnosed cluster's Istio namespace (`fallback` for a cluster discovery could not place, or
 * when there are none): the namespaces that hold Istio's own objects somewhere in the mesh. The same
 * for every check of a run once discovery placed each cluster, whichever cluster the check runs on.
 */
export function istioNamespacesOf(infos: readonly ClusterInfo[], fallback: string): string[] {
  return infos.length === 0 ? [fallback] : [...new Set(infos.map((info) => istioNamespaceOf(info, fallback)))].sort();
}

/**
 * The cluster holding the mesh config that a cluster's istiod (or its control plane's istiod) reads:
 * an external control plane's config cluster, else the cluster itself.
 */
export function configClusterOf(info: ClusterInfo, infos: readonly ClusterInfo[]): ClusterInfo {
  if (info.role === 'external-control-plane') return infos.find((c) => c.role === 'config' && c.controlPlaneCluster === info.name) ?? info;
  return info;
}

/** The external control plane cluster running a cluster's istiod, when one of the diagnosed clusters is. */
export function externalControlPlaneOf(info: ClusterInfo, infos: readonly ClusterInfo[]): ClusterInfo | undefined {
  const named = info.controlPlaneCluster ? infos.find((c) => c.name === info.controlPlaneCluster) : undefined;
  return named?.role === 'external-control-plane' ? named : undefined;
}

/** Whether the mesh is run by an external control plane among the diagnosed clusters. */
export function hasExternalControlPlane(mesh: MeshInfo, infos: readonly ClusterInfo[]): boolean {
  return mesh.model === 'external-control-plane' && infos.some((c) => c.role === 'external-control-plane');
}
