// Encodes istio/istio pilot/pkg/serviceregistry/ambient/services.go:338-383 (matchServiceScope, 86c9f01), manifests/helm-profiles/ambient.yaml:6-12 and https://istio.io/latest/docs/ambient/install/multicluster/ ("service scope must match across all clusters").
import { defineCheck } from '../../engine/define-check.ts';
import type { ContextOf } from '../../engine/types.ts';
import { ambientClusterView, noAmbientReason, rulesHonourGlobalLabel, runsAmbient, type AmbientClusterView } from '../../mesh/ambient.ts';
import { isSystemNamespace } from '../../mesh/services.ts';
import { istioNamespaceOf, istioNamespacesOf } from '../../mesh/roles.ts';

const check = defineCheck({
  id: 'ambient/global-services',
  category: 'ambient',
  scope: 'mesh',
  needs: ['services', 'namespaces', 'configmaps', 'endpointslices'],
  meta: {
    description: 'Services shared across ambient clusters are GLOBAL in every cluster: the mesh config maps istio.io/global=true to GLOBAL, and labels match',
    details:
      'In ambient mode a Service is shared across clusters only when its scope is GLOBAL. istiod decides the scope from its own ' +
      'cluster\'s meshConfig.serviceScopeConfigs (the ambient profile maps the label istio.io/global=true to GLOBAL); a mesh ' +
      'config replaced without that rule makes the label do nothing. istiod reads only the local cluster\'s scope, so a Service ' +
      'GLOBAL in one cluster and LOCAL in another is shared one way only, and istio.io requires the same scope in every ' +
      'cluster. A GLOBAL Service whose ready endpoints are all in one cluster is noted: nothing fails over to another cluster.',
    docs: 'https://istio.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/',
    messages: {
      scopeConfigMissing: {
        template: 'The mesh config of {{cluster}} has no serviceScopeConfigs rule that makes istio.io/global=true Services GLOBAL ({{rules}} rules): the label does nothing and every Service stays in its cluster',
        severity: 'error',
        hint:
          'Restore the ambient profile\'s rule in meshConfig: serviceScopeConfigs: [{servicesSelector: {matchExpressions: [{key: istio.io/global, operator: In, values: ["true"]}]}, scope: GLOBAL}] ' +
          '(helm --kube-context=<{{cluster}} context> upgrade istiod istio/istiod -n istio-system --reuse-values --set profile=ambient), then restart istiod.',
      },
      globalLabelAsymmetric: {
        template: 'Service {{service}} is GLOBAL in {{globalIn}} but LOCAL in {{cluster}}: scope must match in every cluster, and {{cluster}} neither shares nor receives it',
        severity: 'error',
        // A waypoint's own Service left LOCAL is the waypoint check's finding; the asymmetry follows from it.
        explainedBy: [{ check: 'ambient/waypoints', messages: ['waypointNotGlobal'], when: 'service' }],
        hint: 'Label it the same way everywhere: kubectl --context=<{{cluster}} context> -n {{namespace}} label service {{name}} istio.io/global=true',
      },
      globalServiceNotLocal: {
        template: 'Service {{service}} is GLOBAL in {{globalIn}} and namespace {{namespace}} runs ambient in {{cluster}}, which has no Service of that name: its workloads get no VIP for it (istio#60888)',
        severity: 'warning',
        hint: 'Create the Service in {{cluster}} too (the same ports, labelled istio.io/global=true), even with no local endpoints.',
      },
      endpointsInOneCluster: {
        template: 'GLOBAL Service {{service}} exists in {{clusters}} but only {{servingCluster}} has ready endpoints: nothing to fail over to',
        severity: 'info',
        hint: 'Nothing to do if that is intended; for failover run the workload in more than one cluster.',
      },
    },
  },
  async run(ctx) {
    const noAmbient = noAmbientReason(ctx.clusterInfos);
    if (noAmbient) ctx.skip(noAmbient);
    const views = new Map<string, AmbientClusterView>();
    for (const [i, reader] of ctx.clusters.entries()) {
      const info = ctx.clusterInfos[i];
      if (!info.reachable || !runsAmbient(info.dataPlane)) continue;
      views.set(reader.name, await ambientClusterView(ctx, reader));
    }
    if (views.size === 0) ctx.skip('no readable cluster runs ambient workloads');
    judgeScopeConfig(ctx, views);
    judgeServices(ctx, views);
  },
});
export default check;

type Ctx = ContextOf<typeof check>;

function judgeScopeConfig(ctx: Ctx, views: Map<string, AmbientClusterView>): void {
  for (const [cluster, view] of views) {
    // A cluster without its own mesh config (no istiod) is judged by its primary's.
    if (!view.meshConfigFound) continue;
    if (!rulesHonourGlobalLabel(view.rules)) {
      const namespace = istioNamespaceOf(ctx.clusterInfos.find((c) => c.name === cluster), ctx.options.istioNamespace);
      ctx.report({ messageId: 'scopeConfigMissing', cluster, resource: { kind: 'ConfigMap', namespace, name: 'istio' }, data: { cluster, rules: view.rules.length } });
    }
  }
}

function judgeServices(ctx: Ctx, views: Map<string, AmbientClusterView>): void {
  const keys = new Set([...views.values()].flatMap((view) => [...view.services.keys()]));
  for (const key of [...keys].sort()) {
    const [namespace, name] = key.split('/');
    if (isSystemNamespace(namespace, istioNamespacesOf(ctx.clusterInfos, ctx.options.istioNamespace))) continue;
    const present = [...views].filter(([, view]) => view.services.has(key));
    const globalIn = present.filter(([, view]) => view.services.get(key)?.scope === 'GLOBAL').map(([cluster]) => cluster);
    if (globalIn.length === 0) continue;
    const data = { service: key, namespace, name, globalIn: globalIn.join(', ') };
    const resource = { kind: 'Service', namespace, name };
    for (const [cluster, view] of present) {
      // A cluster whose mesh config lost the rule has every Service LOCAL: scopeConfigMissing is the one finding.
      if (view.meshConfigFound && !rulesHonourGlobalLabel(view.rules)) continue;
      if (view.services.get(key)?.scope === 'LOCAL') ctx.report({ messageId: 'globalLabelAsymmetric', cluster, resource, service: key, data: { ...data, cluster } });
    }
    for (const [cluster, view] of views) {
      if (view.services.has(key)) continue;
      const ns = view.namespaces.get(namespace);
      if (ns && ns.metadata.labels?.['istio.io/dataplane-mode'] === 'ambient') ctx.report({ messageId: 'globalServiceNotLocal', cluster, resource, data: { ...data, cluster } });
    }
    const serving = present.filter(([, view]) => (view.services.get(key)?.ready ?? 0) > 0).map(([cluster]) => cluster);
    if (globalIn.length > 1 && serving.length === 1) {
      ctx.report({ messageId: 'endpointsInOneCluster', cluster: serving[0], resource, data: { service: key, clusters: present.map(([c]) => c).join(', '), servingCluster: serving[0] } });
    }
  }
}
