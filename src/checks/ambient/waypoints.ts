// Encodes https://istio.io/latest/docs/ambient/install/multicluster/failover/ (universal waypoints, the waypoint Service labelled istio.io/global) and istio/istio pilot/pkg/serviceregistry/ambient/waypoints.go:210 (86c9f01).
import { defineCheck } from '../../engine/define-check.ts';
import type { KubeObject } from '../../cluster/types.ts';
import type { ContextOf } from '../../engine/types.ts';
import { ambientClusterView, noAmbientReason, runsAmbient, type AmbientClusterView } from '../../mesh/ambient.ts';
import { GATEWAY_NAME_LABEL, isPodReady } from '../../mesh/istio-objects.ts';

/** What one cluster holds for the waypoint checks. */
interface ClusterWaypoints {
  view: AmbientClusterView;
  gateways: KubeObject[];
  pods: KubeObject[];
}

const check = defineCheck({
  id: 'ambient/waypoints',
  category: 'ambient',
  scope: 'mesh',
  needs: ['services', 'namespaces', 'configmaps', 'endpointslices', 'k8sgateways', 'pods'],
  meta: {
    description: 'GLOBAL Services name the same waypoint in every cluster, and each waypoint is itself GLOBAL, deployed and ready',
    details:
      'Waypoints in an ambient multicluster mesh must be "universal": every cluster runs a waypoint of the same name and ' +
      'namespace, and a GLOBAL Service names it (istio.io/use-waypoint) in every cluster where it exists. A request goes ' +
      'through one waypoint, normally the caller\'s cluster\'s, so a waypoint missing in one cluster or named differently ' +
      'breaks that cluster\'s callers (TLS and SAN errors). istio.io\'s failover guide also requires the waypoint\'s own ' +
      'Service to be labelled istio.io/global=true: otherwise traffic through it stays in its cluster (istio#57779, #60985).',
    docs: 'https://istio.io/latest/docs/ambient/install/multicluster/failover/',
    messages: {
      waypointDiffers: {
        template: 'GLOBAL Service {{service}} uses waypoint {{waypoint}} in {{cluster}} but {{others}}: waypoints must be the same in every cluster',
        severity: 'error',
        hint: 'Label the Service alike in every cluster: kubectl --context=<context> -n {{namespace}} label service {{name}} istio.io/use-waypoint=<waypoint> --overwrite, with a waypoint of that name deployed in each (istioctl waypoint apply -n {{namespace}} --name <waypoint>).',
      },
      waypointNotGlobal: {
        template: 'Waypoint Service {{waypoint}} in {{cluster}}, used by GLOBAL Service {{service}}, is not GLOBAL: traffic through the waypoint stays in its cluster',
        severity: 'error',
        // Without the mesh config's serviceScopeConfigs rule no Service is GLOBAL, its label notwithstanding.
        explainedBy: [{ check: 'ambient/global-services', messages: ['scopeConfigMissing'], when: 'cluster' }],
        hint: 'Label the waypoint\'s Service: kubectl --context=<{{cluster}} context> -n {{waypointNamespace}} label service {{waypointName}} istio.io/global=true (in every cluster).',
      },
      waypointMissing: {
        template: 'GLOBAL Service {{service}} uses waypoint {{waypoint}} but {{cluster}} has no waypoint Gateway of that name',
        severity: 'error',
        hint: 'Deploy it: istioctl --context=<{{cluster}} context> waypoint apply -n {{waypointNamespace}} --name {{waypointName}}',
      },
      waypointNotReady: {
        template: 'Waypoint {{waypoint}} in {{cluster}} has no ready pods ({{pods}} found): GLOBAL Service {{service}} behind it gets no traffic there',
        severity: 'error',
        hint: 'See why: kubectl --context=<{{cluster}} context> -n {{waypointNamespace}} get pods -l gateway.networking.k8s.io/gateway-name={{waypointName}}; kubectl --context=<{{cluster}} context> -n {{waypointNamespace}} describe gateways.gateway.networking.k8s.io {{waypointName}}',
      },
    },
  },
  async run(ctx) {
    const noAmbient = noAmbientReason(ctx.clusterInfos);
    if (noAmbient) ctx.skip(noAmbient);
    const clusters = new Map<string, ClusterWaypoints>();
    for (const [i, reader] of ctx.clusters.entries()) {
      const info = ctx.clusterInfos[i];
      if (!info.reachable || !runsAmbient(info.dataPlane)) continue;
      const [view, gateways, pods] = await Promise.all([ambientClusterView(ctx, reader), reader.listOptional('k8sgateways'), reader.list('pods')]);
      clusters.set(reader.name, { view, gateways, pods });
    }
    if (clusters.size === 0) ctx.skip('no readable cluster runs ambient workloads');
    const keys = new Set([...clusters.values()].flatMap((c) => [...c.view.services.values()].filter((s) => s.scope === 'GLOBAL').map((s) => s.key)));
    if (![...keys].some((key) => [...clusters.values()].some((c) => c.view.services.get(key)?.waypoint))) return;
    for (const key of [...keys].sort()) judgeService(ctx, key, clusters);
  },
});
export default check;

type Ctx = ContextOf<typeof check>;

function judgeService(ctx: Ctx, key: string, clusters: Map<string, ClusterWaypoints>): void {
  const [namespace, name] = key.split('/');
  const resource = { kind: 'Service', namespace, name };
  const present = [...clusters].filter(([, c]) => c.view.services.has(key));
  const byCluster = new Map(present.map(([cluster, c]) => [cluster, c.view.services.get(key)?.waypoint]));
  const used = [...byCluster.values()].filter((w): w is string => w !== undefined);
  if (used.length === 0) return;
  if (present.length > 1) {
    // The most common choice is the reference (ties: first in report order); the others differ from it.
    const counts = new Map<string | undefined, number>();
    for (const w of byCluster.values()) counts.set(w, (counts.get(w) ?? 0) + 1);
    const reference = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    for (const [cluster, waypoint] of byCluster) {
      if (waypoint === reference) continue;
      const others = [...byCluster].filter(([c]) => c !== cluster).map(([c, w]) => `${w ?? 'none'} in ${c}`).join(', ');
      ctx.report({ messageId: 'waypointDiffers', cluster, resource, data: { service: key, namespace, name, waypoint: waypoint ?? 'none', cluster, others } });
    }
  }
  for (const [cluster, waypoint] of byCluster) {
    if (!waypoint) continue;
    const c = clusters.get(cluster)!;
    const [waypointNamespace, waypointName] = waypoint.split('/');
    const data = { service: key, waypoint, cluster, waypointNamespace, waypointName };
    const gateway = c.gateways.find((g) => g.metadata.namespace === waypointNamespace && g.metadata.name === waypointName);
    if (!gateway) {
      ctx.report({ messageId: 'waypointMissing', cluster, resource, data });
      continue;
    }
    const wpResource = { kind: 'Gateway', namespace: waypointNamespace, name: waypointName };
    const pods = c.pods.filter((p) => p.metadata.namespace === waypointNamespace && p.metadata.labels?.[GATEWAY_NAME_LABEL] === waypointName);
    if (!pods.some(isPodReady)) ctx.report({ messageId: 'waypointNotReady', cluster, resource: wpResource, data: { ...data, pods: pods.length } });
    // The deployment controller gives the waypoint's Service the Gateway's name.
    const waypointService = c.view.services.get(waypoint);
    if (waypointService && waypointService.scope !== 'GLOBAL') {
      ctx.report({ messageId: 'waypointNotGlobal', cluster, resource: { kind: 'Service', namespace: waypointNamespace, name: waypointName }, data });
    }
  }
}
