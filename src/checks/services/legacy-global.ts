// Encodes the Istio 1.8 upgrade notes (https://istio.io/latest/news/releases/1.8.x/announcing-1.8/upgrade-notes/): the `.global` replicated-control-plane design was removed.
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import type { KubeObject } from '../../cluster/types.ts';
import { containersOf } from '../../mesh/istio-objects.ts';

const MIGRATE =
  'Since Istio 1.8 every cluster\'s services are discovered through remote secrets and called by their own name ' +
  '(name.namespace.svc.cluster.local; DNS capture for remote-only ones): https://istio.io/latest/docs/setup/install/multicluster/';

export default defineCheck({
  id: 'services/legacy-global',
  category: 'services',
  scope: 'cluster',
  needs: ['serviceentries', 'destinationrules', 'virtualservices', 'gateways', 'deployments', 'services', 'configmaps'],
  meta: {
    description: 'No leftovers of the pre-1.8 `.global` multicluster design (ServiceEntries, DestinationRules, istiocoredns)',
    details:
      'Before Istio 1.8, "replicated control planes" reached remote services through hand-made ServiceEntries for ' +
      '<name>.<namespace>.global with addresses from 240.0.0.0/4, a "*.global" ISTIO_MUTUAL DestinationRule, the ' +
      'istiocoredns plugin resolving .global names, and the istio-multicluster-ingressgateway Gateway. Current Istio ' +
      'ignores that design (istiocoredns is gone, .global names do not resolve) and its pieces conflict with automatic ' +
      'cross-cluster discovery: the ServiceEntry endpoints are the remote names, the DestinationRule forces ISTIO_MUTUAL on ' +
      'traffic that the east-west gateway must pass through untouched. Many articles still copy it (the seed article does).',
    docs: 'https://istio.io/latest/news/releases/1.8.x/announcing-1.8/upgrade-notes/',
    messages: {
      globalServiceEntry: {
        template: 'ServiceEntry {{namespace}}/{{name}} is a pre-1.8 `.global` entry ({{why}})',
        severity: 'warning',
        hint: `Delete it: kubectl --context=<{{cluster}} context> delete serviceentry -n {{namespace}} {{name}}. ${MIGRATE}`,
      },
      globalDestinationRule: {
        template: 'DestinationRule {{namespace}}/{{name}} targets the `.global` host {{host}}{{mtls}}',
        severity: 'warning',
        hint: `Delete it: kubectl --context=<{{cluster}} context> delete destinationrule -n {{namespace}} {{name}}; auto mTLS needs no DestinationRule. ${MIGRATE}`,
      },
      globalVirtualService: {
        template: 'VirtualService {{namespace}}/{{name}} routes `.global` hosts ({{hosts}})',
        severity: 'warning',
        hint: `Route the real host instead (name.namespace.svc.cluster.local; per-cluster subsets by the topology.istio.io/cluster label): kubectl --context=<{{cluster}} context> edit virtualservice -n {{namespace}} {{name}}. ${MIGRATE}`,
      },
      istiocoredns: {
        template: '{{kind}} {{namespace}}/{{name}} is the istiocoredns plugin of the pre-1.8 design',
        severity: 'warning',
        hint: `Remove istiocoredns and the "global" forwarding block from CoreDNS (kubectl --context=<{{cluster}} context> edit configmap -n kube-system coredns); enable DNS capture if remote-only services must resolve. ${MIGRATE}`,
      },
      multiclusterIngressGateway: {
        template: 'Gateway {{namespace}}/{{name}} is the pre-1.8 istio-multicluster-ingressgateway ({{why}})',
        severity: 'warning',
        hint:
          'Replace it with the 15443 AUTO_PASSTHROUGH Gateway: kubectl --context=<{{cluster}} context> apply -n istio-system -f samples/multicluster/expose-services.yaml, ' +
          `then kubectl --context=<{{cluster}} context> delete gateway -n {{namespace}} {{name}}. ${MIGRATE}`,
      },
    },
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const [serviceEntries, destinationRules, virtualServices, gateways, deployments, services, configMaps] = await Promise.all([
      reader.listOptional('serviceentries'),
      reader.listOptional('destinationrules'),
      reader.listOptional('virtualservices'),
      reader.listOptional('gateways'),
      reader.list('deployments'),
      reader.list('services'),
      listIfReadable(reader, 'configmaps', { namespace: 'kube-system' }).then((found) => found ?? []),
    ]);
    const ref = (kind: string, obj: KubeObject) => ({ kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name });
    const base = (obj: KubeObject) => ({ namespace: obj.metadata.namespace ?? '', name: obj.metadata.name });

    for (const se of serviceEntries) {
      const hosts = strings(se.spec?.hosts).filter(isGlobalHost);
      const addresses = strings(se.spec?.addresses).filter(inClassE);
      if (hosts.length === 0 && addresses.length === 0) continue;
      const why = [hosts.length ? `hosts ${hosts.join(', ')}` : '', addresses.length ? `addresses ${addresses.join(', ')} from 240.0.0.0/4` : ''].filter(Boolean).join('; ');
      ctx.report({ messageId: 'globalServiceEntry', resource: ref('ServiceEntry', se), data: { ...base(se), why } });
    }
    for (const dr of destinationRules) {
      const host = String(dr.spec?.host ?? '');
      if (!isGlobalHost(host)) continue;
      const mtls = dr.spec?.trafficPolicy?.tls?.mode === 'ISTIO_MUTUAL' ? ' with ISTIO_MUTUAL' : '';
      ctx.report({ messageId: 'globalDestinationRule', resource: ref('DestinationRule', dr), data: { ...base(dr), host, mtls } });
    }
    for (const vs of virtualServices) {
      const hosts = strings(vs.spec?.hosts).filter(isGlobalHost);
      if (hosts.length) ctx.report({ messageId: 'globalVirtualService', resource: ref('VirtualService', vs), data: { ...base(vs), hosts: hosts.join(', ') } });
    }
    for (const gw of gateways) {
      const globalHosts = ((gw.spec?.servers ?? []) as { hosts?: unknown }[]).flatMap((s) => strings(s.hosts)).filter(isGlobalHost);
      const named = gw.metadata.name === 'istio-multicluster-ingressgateway';
      if (!named && globalHosts.length === 0) continue;
      const why = globalHosts.length ? `serves ${globalHosts.join(', ')}` : 'by name';
      ctx.report({ messageId: 'multiclusterIngressGateway', resource: ref('Gateway', gw), data: { ...base(gw), why } });
    }
    const isCoreDns = (obj: KubeObject, podSpec?: unknown) =>
      obj.metadata.name === 'istiocoredns' || containersOf(podSpec).some((c) => /istio-coredns-plugin|istiocoredns/.test(c.image ?? ''));
    for (const d of deployments) if (isCoreDns(d, d.spec?.template?.spec)) ctx.report({ messageId: 'istiocoredns', resource: ref('Deployment', d), data: { ...base(d), kind: 'Deployment' } });
    for (const s of services) if (s.metadata.name === 'istiocoredns') ctx.report({ messageId: 'istiocoredns', resource: ref('Service', s), data: { ...base(s), kind: 'Service' } });
    const coredns = configMaps.find((cm) => cm.metadata.name === 'coredns');
    if (coredns && /^\s*global:53\s*\{/m.test(String(coredns.data?.Corefile ?? ''))) {
      ctx.report({ messageId: 'istiocoredns', resource: ref('ConfigMap', coredns), data: { ...base(coredns), kind: 'ConfigMap (CoreDNS forwards "global" to istiocoredns)' } });
    }
  },
});

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** `x.y.global`, `*.global`. */
function isGlobalHost(host: string): boolean {
  return /(^|\.)global\.?$/.test(host);
}

/** An IPv4 address or CIDR in 240.0.0.0/4 (class E), where the old design allocated `.global` VIPs. */
function inClassE(address: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/\d{1,2})?$/.exec(address.trim());
  if (!match || match.slice(1, 5).some((octet) => Number(octet) > 255)) return false;
  return Number(match[1]) >= 240;
}
