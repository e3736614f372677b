// `meshdoctor lab export`: a lab mesh written as the per-cluster objects a real istiod would read, so
// that Istio's own code (conformance/istiod, FakeDiscoveryServer) can be run over exactly the state
// the lab serves and its debug output compared with the lab's simulation (docs/lab-fidelity.md).
//
// Layout of DIR:
//   mesh.json                      scenario, faults, and per primary: its cluster id, the registries it
//                                  syncs (the lab's judgement of its remote secrets) and fake sidecars
//   <cluster>/objects.yaml         Namespaces, Nodes, Services, EndpointSlices, Pods (JSON documents)
//   <cluster>/istio.yaml           Istio config of the cluster (Gateways, VirtualServices, ...)
//   <cluster>/mesh.yaml            mesh config of the `istio` ConfigMap ('' when absent)
//   <cluster>/meshNetworks.yaml    meshNetworks of the `istio` ConfigMap ('' when absent)
//   <cluster>/system-namespace.json  the istio-system Namespace (istiod reads its network label)
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject, ResourceKindName } from '../cluster/types.ts';
import { objectsOf, type ClusterView } from './sim/cluster-view.ts';
import type { IstiodView } from './sim/istiod.ts';
import { meshSimOf, type MeshSim } from './sim/mesh.ts';
import { hasSidecar, imageTag, podReady, proxyContainer } from './sim/objects.ts';
import type { LabMeshState } from './types.ts';

/** Kubernetes kinds istiod's service registry reads. */
const KUBE_KINDS: ResourceKindName[] = ['namespaces', 'nodes', 'services', 'endpointslices', 'pods'];
/** Istio config kinds istiod reads from its config cluster. */
const ISTIO_KINDS: ResourceKindName[] = ['gateways', 'virtualservices', 'destinationrules', 'serviceentries', 'workloadentries', 'envoyfilters', 'peerauthentications', 'authorizationpolicies'];

/** A fake sidecar the oracle runs against a primary: its pod and the metadata its proxy sends. */
export interface ExportedProxy {
  cluster: string;
  clusterId: string;
  namespace: string;
  pod: string;
  ip: string;
  /** ISTIO_META_NETWORK of the pod's proxy ('' when unset). */
  network: string;
  labels: Record<string, string>;
  istioVersion: string;
  /** Whether this sidecar's control plane is the primary (it shows in the primary's syncz). */
  connected: boolean;
}

/** One primary of the export. */
export interface ExportedPrimary {
  name: string;
  clusterId: string;
  istioNamespace: string;
  /** Cluster registries istiod syncs: its own first, then every peer whose remote secret the lab judged synced. */
  registries: { id: string; cluster: string }[];
  proxies: ExportedProxy[];
}

/** mesh.json of an export. */
export interface ExportManifest {
  scenario: string;
  faults: { name: string; cluster?: string }[];
  clusters: string[];
  primaries: ExportedPrimary[];
}

/** The manifest of a mesh (what mesh.json holds), from the same simulation the lab serves. */
export function exportManifest(mesh: LabMeshState): ExportManifest {
  const sim = meshSimOf(mesh);
  const primaries: ExportedPrimary[] = [];
  for (const view of sim.views.values()) {
    const istiod = sim.istiodIn(view.name);
    if (!istiod) continue;
    const registries = istiod.registries.filter((r) => r.syncStatus === 'synced').map((r) => ({ id: r.id, cluster: r.view.name }));
    primaries.push({
      name: view.name,
      clusterId: istiod.id,
      istioNamespace: view.istioNamespace,
      registries,
      proxies: registries.flatMap((r) => {
        const proxy = fakeSidecarOf(sim, istiod, sim.view(r.cluster));
        return proxy ? [proxy] : [];
      }),
    });
  }
  return { scenario: mesh.scenario, faults: mesh.faults, clusters: [...sim.views.keys()], primaries };
}

/** The sidecar standing for a cluster: its `curl` pod, else its first ready pod with a sidecar. */
export function fakeSidecarPod(view: ClusterView): KubeObject | undefined {
  const sidecars = [...view.pods.values()].filter((p) => hasSidecar(p) && podReady(p) && p.status?.podIP).sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  return sidecars.find((p) => p.metadata.labels?.app === 'curl') ?? sidecars[0];
}

function fakeSidecarOf(sim: MeshSim, istiod: IstiodView, view: ClusterView): ExportedProxy | undefined {
  const pod = fakeSidecarPod(view);
  if (!pod) return undefined;
  const proxy = proxyContainer(pod);
  const env = (name: string) => proxy?.env?.find((e) => e.name === name)?.value ?? '';
  return {
    cluster: view.name,
    clusterId: env('ISTIO_META_CLUSTER_ID') || view.id,
    namespace: pod.metadata.namespace ?? 'default',
    pod: pod.metadata.name,
    ip: pod.status.podIP,
    network: env('ISTIO_META_NETWORK'),
    labels: pod.metadata.labels ?? {},
    istioVersion: imageTag(proxy?.image) ?? istiod.version,
    connected: sim.controlPlaneOf(view.name) === istiod,
  };
}

/** JSON documents separated the way Istio's fake splits its object strings. */
function documents(objects: KubeObject[]): string {
  return objects.map((o) => JSON.stringify(o)).join('\n---\n') + '\n';
}

/** Write the export of a mesh to `dir` (created). Returns the manifest written. */
export async function exportLab(mesh: LabMeshState, dir: string): Promise<ExportManifest> {
  const sim = meshSimOf(mesh);
  const manifest = exportManifest(mesh);
  await mkdir(dir, { recursive: true });
  for (const view of sim.views.values()) {
    const out = join(dir, view.name);
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'objects.yaml'), documents(KUBE_KINDS.flatMap((k) => objectsOf(view, k))));
    await writeFile(join(out, 'istio.yaml'), documents(ISTIO_KINDS.flatMap((k) => objectsOf(view, k))));
    const cm = objectsOf(view, 'configmaps').find((c) => c.metadata.namespace === view.istioNamespace && c.metadata.name === 'istio');
    await writeFile(join(out, 'mesh.yaml'), typeof cm?.data?.mesh === 'string' ? cm.data.mesh : '');
    await writeFile(join(out, 'meshNetworks.yaml'), typeof cm?.data?.meshNetworks === 'string' ? cm.data.meshNetworks : '');
    const systemNs = view.namespaces.get(view.istioNamespace);
    if (systemNs) await writeFile(join(out, 'system-namespace.json'), `${JSON.stringify(systemNs, null, 2)}\n`);
  }
  await writeFile(join(dir, 'mesh.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** What to build for an export. */
export interface ExportMeshOptions {
  scenario: string;
  faults?: { name: string; cluster?: string }[];
  clusters?: number;
  /** The build moment (object timestamps); fixed so an export is reproducible. */
  now: Date;
}

/**
 * A mesh built for export, without API servers: the endpoints only name where each cluster's API
 * would listen (the sim matches remote secrets against them and never dials them).
 */
export async function buildExportMesh(opts: ExportMeshOptions): Promise<LabMeshState> {
  const { buildMeshState, scenarioInfo } = await import('./model/index.ts');
  const count = opts.clusters ?? scenarioInfo(opts.scenario).defaultClusters ?? 2;
  const endpoints = Array.from({ length: count }, (_, i) => ({
    cluster: `cluster${i + 1}`,
    server: `https://127.0.0.1:${16440 + i}`,
    caPem: '',
  }));
  return buildMeshState({ scenario: opts.scenario, clusters: count, faults: opts.faults ?? [], endpoints, now: opts.now, clock: () => opts.now });
}
