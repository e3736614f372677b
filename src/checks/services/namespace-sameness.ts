// Encodes https://istio.io/latest/docs/ops/configuration/traffic-management/multicluster/ (namespace sameness) and https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/.
import { defineCheck } from '../../engine/define-check.ts';
import type { KubeObject } from '../../cluster/types.ts';
import type { ContextOf } from '../../engine/types.ts';
import { labelsOf } from '../../mesh/istio-objects.ts';
import { isSystemNamespace } from '../../mesh/services.ts';
import { istioNamespacesOf } from '../../mesh/roles.ts';
import { hasSidecar } from '../../mesh/sidecars.ts';

/** What meshdoctor knows of one namespace in one cluster. */
interface NamespaceState {
  cluster: string;
  exists: boolean;
  injected: boolean;
  services: number;
  pods: number;
  injectedPods: number;
}

const check = defineCheck({
  id: 'services/namespace-sameness',
  category: 'services',
  scope: 'mesh',
  needs: ['namespaces', 'services', 'pods'],
  meta: {
    description: 'A namespace with mesh services exists, and is injected, in every cluster whose workloads may call them',
    details:
      'Istio treats a namespace of the same name as the same namespace in every cluster: a Service sample/helloworld in two ' +
      'clusters is one service with the endpoints of both. Workloads of that namespace in a cluster where it is not injected ' +
      'run without sidecars: they cannot be reached with mTLS from other networks and call the service without the mesh ' +
      '(no cross-cluster load balancing, no mTLS). A cluster with injected workloads but without the namespace at all has ' +
      'no local Service for the name, so its pods resolve it only with DNS capture (see services/remote-only-dns).',
    docs: 'https://istio.io/latest/docs/ops/configuration/traffic-management/multicluster/',
    messages: {
      namespaceNotInjected: {
        template:
          'Namespace {{namespace}} is not injected in {{cluster}} ({{pods}} pods without sidecar) but holds mesh services injected in {{injectedIn}}',
        severity: 'warning',
        hint:
          'Enable injection and restart the workloads: kubectl --context=<{{cluster}} context> label namespace {{namespace}} istio-injection=enabled ' +
          '(or istio.io/rev=<revision name>), then kubectl --context=<{{cluster}} context> rollout restart deployment -n {{namespace}}.',
      },
      namespaceMissing: {
        template:
          'Namespace {{namespace}} holds mesh services in {{presentIn}} but does not exist in {{cluster}}, whose {{clients}} injected pods may call them',
        severity: 'warning',
        hint:
          'Create it with the same injection label so the services resolve and share policy: kubectl --context=<{{cluster}} context> create namespace {{namespace}} && ' +
          'kubectl --context=<{{cluster}} context> label namespace {{namespace}} istio-injection=enabled (or turn on DNS capture for remote-only services).',
      },
    },
  },
  async run(ctx) {
    const indexes = ctx.clusterInfos.map((info, i) => i).filter((i) => ctx.clusterInfos[i].reachable);
    if (indexes.length < 2) ctx.skip('fewer than two readable clusters');
    // Every cluster's Istio namespace is Istio's, not an application's (an external control plane's remotes: external-istiod).
    const istioNamespace = istioNamespacesOf(ctx.clusterInfos, ctx.options.istioNamespace);
    const states = new Map<string, NamespaceState[]>();
    const clientsByCluster = new Map<string, number>();
    for (const i of indexes) {
      const reader = ctx.clusters[i];
      const [namespaces, services, pods] = await Promise.all([reader.list('namespaces'), reader.list('services'), reader.list('pods')]);
      const appPods = pods.filter((p) => !isSystemNamespace(p.metadata.namespace ?? '', istioNamespace) && p.status?.phase !== 'Succeeded');
      clientsByCluster.set(reader.name, appPods.filter(hasSidecar).length);
      for (const ns of namespaces) {
        if (isSystemNamespace(ns.metadata.name, istioNamespace)) continue;
        const list = states.get(ns.metadata.name) ?? [];
        list.push(stateOf(reader.name, ns, services, appPods));
        states.set(ns.metadata.name, list);
      }
    }
    const clusterNames = indexes.map((i) => ctx.clusters[i].name);
    for (const [namespace, present] of states) judge(ctx, namespace, present, clusterNames, clientsByCluster);
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

function stateOf(cluster: string, ns: KubeObject, services: KubeObject[], pods: KubeObject[]): NamespaceState {
  const name = ns.metadata.name;
  const inNamespace = pods.filter((p) => p.metadata.namespace === name);
  const injectedPods = inNamespace.filter(hasSidecar).length;
  const labels = labelsOf(ns);
  const labelled =
    labels['istio-injection'] === 'enabled' ||
    (labels['istio.io/rev'] !== undefined && labels['istio-injection'] !== 'disabled') ||
    labels['istio.io/dataplane-mode'] === 'ambient';
  return {
    cluster,
    exists: true,
    // Pods already injected count too: injection may come from a webhook objectSelector or per pod.
    injected: labelled || (inNamespace.length > 0 && injectedPods === inNamespace.length),
    services: services.filter((s) => s.metadata.namespace === name).length,
    pods: inNamespace.length,
    injectedPods,
  };
}

function judge(ctx: Ctx, namespace: string, present: NamespaceState[], clusters: string[], clientsByCluster: Map<string, number>): void {
  const meshSides = present.filter((s) => s.injected && s.services > 0);
  if (meshSides.length === 0) return;
  const resource = { kind: 'Namespace', name: namespace };
  for (const state of present) {
    if (state.injected || state.pods === 0) continue;
    const injectedIn = meshSides.map((s) => s.cluster).join(', ');
    ctx.report({ messageId: 'namespaceNotInjected', cluster: state.cluster, resource, data: { namespace, cluster: state.cluster, pods: state.pods - state.injectedPods, injectedIn } });
  }
  for (const cluster of clusters) {
    if (present.some((s) => s.cluster === cluster)) continue;
    const clients = clientsByCluster.get(cluster) ?? 0;
    if (clients === 0) continue;
    const presentIn = meshSides.map((s) => s.cluster).join(', ');
    ctx.report({ messageId: 'namespaceMissing', cluster, resource, data: { namespace, cluster, presentIn, clients } });
  }
}
