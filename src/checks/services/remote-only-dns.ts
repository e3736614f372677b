// Encodes https://istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy/ ("a service only in a remote cluster cannot be resolved without DNS capture").
import { defineCheck } from '../../engine/define-check.ts';
import type { KubeObject } from '../../cluster/types.ts';
import { labelsOf } from '../../mesh/istio-objects.ts';
import { dnsCaptureOf, examples, isSystemService, meshProxyMetadata, nsName } from '../../mesh/services.ts';
import { istioNamespacesOf } from '../../mesh/roles.ts';
import { hasSidecar } from '../../mesh/sidecars.ts';
import { dataPlaneSkipReason } from '../../mesh/roles.ts';

export default defineCheck({
  id: 'services/remote-only-dns',
  category: 'services',
  scope: 'cluster',
  // An external control plane cluster runs no proxies of the mesh.
  appliesTo: dataPlaneSkipReason,
  needs: ['services', 'pods', 'configmaps'],
  meta: {
    description: 'Services that exist only in peer clusters are resolvable here: local callers have DNS capture on',
    details:
      'Kubernetes DNS answers only for Services of its own cluster. A Service that exists only in a peer cluster has no ' +
      'record here, so an injected pod calling it fails at name resolution before its sidecar sees the request, unless the ' +
      'sidecar\'s DNS proxy answers (ISTIO_META_DNS_CAPTURE: "true", from the mesh config defaultConfig.proxyMetadata or ' +
      'the pod\'s proxy.istio.io/config annotation). This check lists, per Service found only in peers, the injected pods of ' +
      'its namespace here whose DNS capture is off. A Service whose namespace has no injected pods here has no local caller ' +
      'to break and is not reported; the common fix besides DNS capture is a selectorless copy of the Service in this cluster.',
    docs: 'https://istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy/',
    messages: {
      remoteOnlyServiceNoDnsCapture: {
        template:
          'Service {{service}} exists only in {{peers}}; {{pods}} injected pod(s) of {{namespace}} here have DNS capture off ({{source}}) and cannot resolve it: {{examples}}',
        severity: 'warning',
        hint:
          'Turn on Istio\'s DNS proxy (install value meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE: "true", or per pod the annotation ' +
          'proxy.istio.io/config: \'{"proxyMetadata":{"ISTIO_META_DNS_CAPTURE":"true"}}\') and restart the workloads, or create the Service {{service}} ' +
          'here too: copy it from {{peers}} (kubectl get service -o yaml), drop clusterIP, clusterIPs and selector, apply with --context=<{{cluster}} context>.',
      },
    },
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const istioNamespace = ctx.options.istioNamespace;
    const peers = ctx.clusters.filter((r, i) => r.name !== reader.name && ctx.clusterInfos[i].reachable);
    if (peers.length === 0) ctx.skip('no readable peer cluster');
    const [local, pods, configMaps] = await Promise.all([reader.list('services'), reader.list('pods'), reader.list('configmaps', { namespace: istioNamespace })]);
    const localKeys = new Set(local.map(nsName));

    // Services that only peers hold, with the peers holding them; each cluster's Istio install is none of them.
    const istioNamespaces = istioNamespacesOf(ctx.clusterInfos, istioNamespace);
    const remoteOnly = new Map<string, { service: KubeObject; peers: string[] }>();
    for (const peer of peers) {
      for (const service of await peer.list('services')) {
        const key = nsName(service);
        if (localKeys.has(key) || isSystemService(service.metadata.namespace ?? '', service.metadata.name, istioNamespaces, labelsOf(service))) continue;
        const entry = remoteOnly.get(key) ?? { service, peers: [] };
        entry.peers.push(peer.name);
        remoteOnly.set(key, entry);
      }
    }
    if (remoteOnly.size === 0) return;

    const meshMetadata = meshProxyMetadata(configMaps, istioNamespace);
    for (const [key, { service, peers: holders }] of [...remoteOnly.entries()].sort()) {
      const namespace = service.metadata.namespace ?? '';
      const callers = pods.filter((p) => p.metadata.namespace === namespace && p.status?.phase === 'Running' && hasSidecar(p));
      const blind = callers.map((p) => ({ pod: p, capture: dnsCaptureOf(p, meshMetadata) })).filter((c) => !c.capture.enabled);
      if (blind.length === 0) continue;
      ctx.report({
        messageId: 'remoteOnlyServiceNoDnsCapture',
        resource: { kind: 'Service', namespace, name: service.metadata.name },
        data: {
          service: key,
          namespace,
          cluster: reader.name,
          peers: holders.join(', '),
          pods: blind.length,
          source: [...new Set(blind.map((b) => b.capture.source))].join(', '),
          examples: examples(blind.map((b) => b.pod.metadata.name)),
        },
      });
    }
  },
});
