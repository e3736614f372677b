// Encodes https://istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy/ (a Service present only in a peer cluster resolves in a pod only through Istio's DNS proxy).
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import { resolveAllInPod } from '../../mesh/probes/dns-tcp.ts';
import { probeSettings, targetFqdn } from '../../mesh/probes/options.ts';
import { sourceOrSkip } from '../../mesh/probes/source.ts';
import { targetsOrSkip } from '../../mesh/probes/targets.ts';
import { dataPlaneSkipReason } from '../../mesh/roles.ts';

const ID = 'connectivity/dns';

export default defineCheck({
  id: ID,
  category: 'connectivity',
  scope: 'cluster',
  // An external control plane cluster runs no proxies of the mesh.
  appliesTo: dataPlaneSkipReason,
  needs: ['exec', 'pods', 'namespaces', 'services'],
  meta: {
    description: 'Each probe target\'s FQDN resolves inside a meshed pod of the cluster',
    details:
      'From a source pod per cluster (--probe-from, else a Running pod with a sidecar and getent or nslookup, preferring ' +
      'namespace sample) the check resolves every target\'s FQDN in the application container, the way the application ' +
      'would: `getent hosts <fqdn>` (else nslookup). Targets are --probe-to, else HTTP Services present in two or more ' +
      'clusters plus Services present in one cluster whose namespace has injected pods in another. kube-dns only knows ' +
      'the local cluster\'s Services: a Service that exists only in a peer cluster resolves only when Istio\'s DNS proxy ' +
      '(ISTIO_META_DNS_CAPTURE) answers for it, or when a local Service of the same name exists (even without pods).',
    docs: 'https://istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy/',
    messages: {
      remoteOnlyNotResolved: {
        template:
          '{{fqdn}} does not resolve in {{pod}} ({{detail}}): the Service exists only in {{peers}}, and without DNS capture this cluster\'s kube-dns cannot answer for it',
        severity: 'error',
        // The same service's injected pods here have DNS capture off: only the sidecar's DNS proxy could answer for a Service of a peer cluster.
        explainedBy: [{ check: 'services/remote-only-dns', messages: ['remoteOnlyServiceNoDnsCapture'], when: 'service' }],
        hint:
          'Turn on Istio\'s DNS proxy (install value meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE: "true", or per pod the annotation ' +
          'proxy.istio.io/config: \'{"proxyMetadata":{"ISTIO_META_DNS_CAPTURE":"true"}}\') and restart the workloads, or create the Service ' +
          '{{service}} in this cluster too (it may have no pods). Verify: kubectl exec -n {{namespace}} {{podName}} -c {{container}} -- getent hosts {{fqdn}}',
      },
      notResolved: {
        template: '{{fqdn}} does not resolve in {{pod}}: {{detail}}',
        severity: 'error',
        hint:
          'Check the name and the cluster DNS: kubectl exec -n {{namespace}} {{podName}} -c {{container}} -- cat /etc/resolv.conf; ' +
          'kubectl get service -A | grep {{name}}; kubectl -n kube-system get pods -l k8s-app=kube-dns',
      },
    },
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const settings = probeSettings(ctx.options, ctx.clusterInfos);
    const source = await sourceOrSkip(ctx, settings, ['getent', 'nslookup']);
    const targets = await targetsOrSkip(ctx, settings, source);

    const localServices = await reader.list('services');
    const fqdns = targets.map((target) => targetFqdn(target, source.pod.namespace));
    const resolved = await resolveAllInPod(reader, source, fqdns, settings.timeoutMs, ctx.signal);
    const results = targets.map((target, i) => ({ target, fqdn: fqdns[i], result: resolved[i] }));
    ctx.attach(
      'dns',
      results.map(({ target, fqdn, result }) => ({ target: target.label, fqdn, source: `${source.pod.namespace}/${source.pod.name}`, ...(result.resolved ? { addresses: result.addresses } : { error: result.detail }) })),
    );

    for (const { target, fqdn, result } of results) {
      if (result.resolved) continue;
      const pod = `${source.pod.namespace}/${source.pod.name}`;
      const base = { fqdn, pod, podName: source.pod.name, namespace: source.pod.namespace, container: source.container, detail: result.detail, name: target.service?.name ?? target.host };
      const service = target.service;
      const local = service && localServices.some((s) => s.metadata.namespace === service.namespace && s.metadata.name === service.name);
      if (service && !local) {
        const peers: string[] = [];
        for (const [p, peer] of ctx.clusters.entries()) {
          if (peer === reader || !ctx.clusterInfos[p].reachable) continue;
          const services = (await listIfReadable(peer, 'services')) ?? [];
          if (services.some((s) => s.metadata.namespace === service.namespace && s.metadata.name === service.name)) peers.push(peer.name);
        }
        if (peers.length) {
          ctx.report({ messageId: 'remoteOnlyNotResolved', service: `${service.namespace}/${service.name}`, resource: { kind: 'Service', namespace: service.namespace, name: service.name }, data: { ...base, peers: peers.join(', '), service: `${service.namespace}/${service.name}` } });
          continue;
        }
      }
      ctx.report({ messageId: 'notResolved', data: base });
    }
  },
});
