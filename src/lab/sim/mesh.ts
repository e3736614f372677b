// The simulation of one whole mesh, shared by the backends of all its clusters (one per
// LabMeshState): cluster views, each istiod's view of the mesh, the Envoy counters of every proxy
// and the workload certificates issued so far.
import type { LabMeshState } from '../types.ts';
import { buildClusterView, type ClusterView } from './cluster-view.ts';
import { buildIstiodView, type IstiodView } from './istiod.ts';

/** Counters of one upstream host, named as Envoy's /clusters prints them. */
export interface HostStats {
  cx_active: number;
  cx_connect_fail: number;
  cx_total: number;
  rq_active: number;
  rq_error: number;
  rq_success: number;
  rq_timeout: number;
  rq_total: number;
}

/** Counters of one proxy: Envoy cluster name -> `addr:port` -> counters. */
export type ProxyStats = Map<string, Map<string, HostStats>>;

/** Shared simulation state of a mesh. Build with `meshSimOf`. */
export class MeshSim {
  readonly mesh: LabMeshState;
  /** Cluster views by cluster name, in the mesh's order. */
  readonly views = new Map<string, ClusterView>();
  /** Envoy host counters per proxy (`cluster/ns/pod`). */
  readonly stats = new Map<string, ProxyStats>();
  /** Round-robin positions (`proxy|envoy cluster` -> next index) and per-pod request sequences. */
  readonly roundRobin = new Map<string, number>();
  /** Smooth weighted round-robin state (`proxy|envoy cluster` -> current weight per host). */
  readonly weightedRoundRobin = new Map<string, number[]>();
  /** Workload certificates being issued or issued, by `cluster/ns/pod`. */
  readonly certs = new Map<string, Promise<unknown>>();
  private readonly istiods = new Map<string, IstiodView | undefined>();

  constructor(mesh: LabMeshState) {
    this.mesh = mesh;
    const singleNetwork = mesh.scenario.includes('single-network');
    mesh.clusters.forEach((c, i) => this.views.set(c.name, buildClusterView(c, i + 1, singleNetwork)));
  }

  /** Whether a fault is injected on this cluster (a fault given without a cluster applies to all). */
  hasFault(name: string, cluster: string): boolean {
    return this.mesh.faults.some((f) => f.name === name && (!f.cluster || f.cluster === cluster));
  }

  /** The view of a cluster by name. */
  view(cluster: string): ClusterView {
    const view = this.views.get(cluster);
    if (!view) throw new Error(`lab sim: unknown cluster ${cluster}`);
    return view;
  }

  /** What the istiod running in this cluster knows (undefined when the cluster runs no istiod). */
  istiodIn(cluster: string): IstiodView | undefined {
    if (!this.istiods.has(cluster)) {
      const view = this.view(cluster);
      this.istiods.set(cluster, view.istiodPods.length ? buildIstiodView(this, view) : undefined);
    }
    return this.istiods.get(cluster);
  }

  /**
   * The istiod serving the proxies of a cluster: its own, else (a remote of primary-remote) the
   * primary named by `topology.istio.io/controlPlaneClusters`, else a primary holding a remote
   * secret for it, else the first primary (where the proxies' discoveryAddress leads).
   */
  controlPlaneOf(cluster: string): IstiodView | undefined {
    const own = this.istiodIn(cluster);
    if (own) return own;
    const view = this.view(cluster);
    const primaries = [...this.views.values()].filter((v) => v.istiodPods.length > 0);
    // istiod reads the annotation on the namespace named like its own (its SystemNamespace: an
    // external istiod's `external-istiod`), istio/istio 86c9f01 multicluster.go:385-413 checkShouldLead.
    const named = (p: ClusterView) =>
      (view.namespaces.get(p.istioNamespace)?.metadata.annotations?.['topology.istio.io/controlPlaneClusters'] ?? '').split(',').map((s) => s.trim());
    const byAnnotation = primaries.find((p) => named(p).includes(p.id) || named(p).includes(p.name));
    if (byAnnotation) return this.istiodIn(byAnnotation.name);
    const bySecret = primaries.find((p) => this.istiodIn(p.name)?.registries.some((r) => r.view === view));
    const chosen = bySecret ?? primaries[0];
    return chosen ? this.istiodIn(chosen.name) : undefined;
  }

  /** The cluster whose API server listens at `server`, if any. */
  clusterAt(server: string): ClusterView | undefined {
    const normalized = server.replace(/\/+$/, '');
    return [...this.views.values()].find((v) => v.state.endpoint.server.replace(/\/+$/, '') === normalized);
  }
}

const registry = new WeakMap<LabMeshState, MeshSim>();

/** The one simulation of a mesh state (created on first use, shared by every backend of the mesh). */
export function meshSimOf(mesh: LabMeshState): MeshSim {
  let sim = registry.get(mesh);
  if (!sim) registry.set(mesh, (sim = new MeshSim(mesh)));
  return sim;
}
