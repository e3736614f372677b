// Encodes Istio's analyzer IST0170 MultiClusterInconsistentService (istio/istio pkg/config/analysis/analyzers/multicluster/service.go).
import { defineCheck } from '../../engine/define-check.ts';
import type { KubeObject } from '../../cluster/types.ts';
import type { ContextOf } from '../../engine/types.ts';
import { labelsOf, servicePorts, type ServicePort } from '../../mesh/istio-objects.ts';
import { isSystemService, nsName } from '../../mesh/services.ts';
import { istioNamespacesOf } from '../../mesh/roles.ts';

const SAME_EVERYWHERE =
  'Services of the same namespace and name are one service for Istio (namespace sameness): make them identical in every cluster. ' +
  'Compare: kubectl --context=<{{cluster}} context> get service -n {{namespace}} {{name}} -o yaml, and the same with the contexts of {{referenceClusters}}.';

const check = defineCheck({
  id: 'services/consistency',
  category: 'services',
  scope: 'mesh',
  needs: ['services'],
  meta: {
    description: 'A Service present in several clusters has the same type, headlessness and ports everywhere (IST0170)',
    details:
      'istiod merges Services of the same namespace and name from every cluster into one service, and takes its ports and ' +
      'resolution from one of them. When the clusters disagree (headless in one, ClusterIP in another; different types; ' +
      'different port numbers, names or protocols) callers get listeners and clusters that match only some of the ' +
      'endpoints, which Istio\'s analyzer reports as IST0170 MultiClusterInconsistentService. Each finding names the ' +
      'cluster that differs and the clusters on the other side (the majority, or the first cluster on a tie). ' +
      'System services (kube-system, the istio namespace, default/kubernetes) differ per cluster by design and are not compared.',
    docs: 'https://istio.io/latest/docs/reference/config/analysis/ist0170/',
    messages: {
      serviceHeadlessMixed: {
        template: 'Service {{namespace}}/{{name}} is {{value}} in {{cluster}} but {{referenceValue}} in {{referenceClusters}}',
        severity: 'warning',
        hint: SAME_EVERYWHERE + ' Headless (clusterIP: None) cannot be changed in place: delete and recreate the Service.',
      },
      serviceTypeMismatch: {
        template: 'Service {{namespace}}/{{name}} is of type {{value}} in {{cluster}} but {{referenceValue}} in {{referenceClusters}}',
        severity: 'warning',
        hint: SAME_EVERYWHERE,
      },
      servicePortsMismatch: {
        template: 'Service {{namespace}}/{{name}} has ports {{value}} in {{cluster}} but {{referenceValue}} in {{referenceClusters}}',
        severity: 'warning',
        hint: SAME_EVERYWHERE,
      },
      servicePortNameMismatch: {
        template: 'Service {{namespace}}/{{name}} names port {{port}} "{{value}}" in {{cluster}} but "{{referenceValue}}" in {{referenceClusters}}',
        severity: 'warning',
        hint: SAME_EVERYWHERE + ' Istio reads the protocol from the port name prefix (http-, grpc-, tcp-...).',
      },
      servicePortProtocolMismatch: {
        template: 'Service {{namespace}}/{{name}} port {{port}} speaks {{value}} in {{cluster}} but {{referenceValue}} in {{referenceClusters}}',
        severity: 'warning',
        hint: SAME_EVERYWHERE + ' Set the same appProtocol (or port name prefix) and protocol everywhere.',
      },
    },
  },
  async run(ctx) {
    const readable = ctx.clusters.filter((_r, i) => ctx.clusterInfos[i].reachable);
    if (readable.length < 2) ctx.skip('fewer than two readable clusters');
    const byKey = new Map<string, { cluster: string; service: KubeObject }[]>();
    for (const reader of readable) {
      for (const service of await reader.list('services')) {
        const namespace = service.metadata.namespace ?? '';
        if (isSystemService(namespace, service.metadata.name, istioNamespacesOf(ctx.clusterInfos, ctx.options.istioNamespace), labelsOf(service))) continue;
        const list = byKey.get(nsName(service)) ?? [];
        list.push({ cluster: reader.name, service });
        byKey.set(nsName(service), list);
      }
    }
    for (const instances of byKey.values()) if (instances.length > 1) compare(ctx, instances);
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

type Instance = { cluster: string; service: KubeObject };

function compare(ctx: Ctx, instances: Instance[]): void {
  const headless = differences(instances, (s) => (s.spec?.clusterIP === 'None' ? 'headless' : 'not headless (ClusterIP)'));
  for (const d of headless) ctx.report({ messageId: 'serviceHeadlessMixed', ...d });
  if (headless.length) return;
  const types = differences(instances, (s) => String(s.spec?.type ?? 'ClusterIP'));
  for (const d of types) ctx.report({ messageId: 'serviceTypeMismatch', ...d });
  if (types.length) return;
  const ports = differences(instances, (s) => servicePorts(s).map((p) => p.port).sort((a, b) => a - b).join(', ') || '(none)');
  for (const d of ports) ctx.report({ messageId: 'servicePortsMismatch', ...d });
  if (ports.length) return;
  for (const port of servicePorts(instances[0].service).map((p) => p.port)) {
    const portOf = (s: KubeObject) => servicePorts(s).find((p) => p.port === port)!;
    for (const d of differences(instances, (s) => portOf(s).name ?? '')) ctx.report({ messageId: 'servicePortNameMismatch', ...d, data: { ...d.data, port } });
    for (const d of differences(instances, (s) => protocolOf(portOf(s)))) ctx.report({ messageId: 'servicePortProtocolMismatch', ...d, data: { ...d.data, port } });
  }
}

/**
 * Group the clusters by the value of one attribute; the largest group (first cluster's on a tie) is
 * the reference, every cluster outside it is a difference (what its finding says).
 */
function differences(instances: Instance[], valueOf: (service: KubeObject) => string) {
  const groups = new Map<string, string[]>();
  for (const { cluster, service } of instances) {
    const value = valueOf(service);
    groups.set(value, [...(groups.get(value) ?? []), cluster]);
  }
  if (groups.size < 2) return [];
  let reference = [...groups.entries()][0];
  for (const entry of groups) if (entry[1].length > reference[1].length) reference = entry;
  const { namespace = '', name } = instances[0].service.metadata;
  return [...groups]
    .filter(([value]) => value !== reference[0])
    .flatMap(([value, clusters]) =>
      clusters.map((cluster) => ({
        cluster,
        resource: { kind: 'Service', namespace, name },
        data: { namespace, name, cluster, value, referenceValue: reference[0], referenceClusters: reference[1].join(', ') },
      })),
    );
}

/** Istio's protocol of a port (appProtocol, else the name prefix) with its L4 protocol. */
function protocolOf(port: ServicePort & { appProtocol?: string }): string {
  const l4 = port.protocol ?? 'TCP';
  const source = (port.appProtocol ?? port.name ?? '').toLowerCase();
  const prefix = source.split('-')[0];
  const known = ['http', 'http2', 'https', 'grpc', 'grpc-web', 'tls', 'tcp', 'mongo', 'redis', 'mysql'];
  const istio = known.includes(source) ? source : known.includes(prefix) ? prefix : 'auto-detected';
  return `${istio.toUpperCase()}/${l4}`;
}
