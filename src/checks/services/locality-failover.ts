// Encodes istiod's locality load balancing (istio/istio pilot/pkg/networking/core/loadbalancer/loadbalancer.go,
// LocalityLBSettings.ApplyToCluster: "Failover should only be applied with outlier detection, or traffic will
// never failover"; applyFailoverPriorityPerLocality compares each failoverPriority label of the proxy with the
// endpoint's) and the endpoint labels istiod gives endpoints (pilot/pkg/serviceregistry/util/label/label.go
// AugmentLabels: the pod's labels plus region, zone, subzone, cluster, hostname and network). istio#48084.
import { listIfReadable } from '../../cluster/absent.ts';
import type { ClusterReader, KubeObject } from '../../cluster/types.ts';
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import { inNamespace, labelsOf } from '../../mesh/istio-objects.ts';
import { selectorMatches, type LabelMap } from '../../mesh/labels.ts';
import { examples, readyEndpointCount } from '../../mesh/services.ts';

const REGION = 'topology.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';
const SUBZONE = 'topology.istio.io/subzone';
/** Labels istiod adds to every endpoint of a Kubernetes cluster whatever the pod says (AugmentLabels). */
const ALWAYS_CARRIED = ['topology.istio.io/cluster'];
/** The pod label that overrides the node's locality (`region/zone/subzone`). */
const LOCALITY_LABEL = 'istio-locality';

const check = defineCheck({
  id: 'services/locality-failover',
  category: 'services',
  scope: 'mesh',
  needs: ['destinationrules', 'services', 'endpointslices', 'endpoints?', 'pods', 'nodes?'],
  meta: {
    description: 'Locality failover of a multi-cluster service has outlierDetection, and its failoverPriority labels exist on endpoints',
    details:
      'A DestinationRule\'s `localityLbSetting` (`failover`, `failoverPriority`, `distribute`) is how a multicluster mesh ' +
      'keeps traffic in the caller\'s region, zone, network or cluster and moves it elsewhere when local endpoints fail. ' +
      'istiod applies failover priorities only when the cluster it builds has outlier detection: without ' +
      '`trafficPolicy.outlierDetection` no endpoint is ever ejected, Envoy never drops to a lower priority, and a failing ' +
      'local endpoint keeps its traffic (istio#48084; with `distribute`, a failing locality keeps its weighted share). ' +
      '`failoverPriority` orders endpoints by the labels they share with the caller; a label that no endpoint carries ' +
      'puts every endpoint in the same priority for that label, so the rule does nothing (usually a typo, or a pod label ' +
      'that only some deployments set). Endpoints carry their pod\'s labels plus what istiod adds: region, zone and ' +
      'subzone (from the node or the pod\'s istio-locality label), topology.istio.io/cluster, topology.istio.io/network ' +
      'and kubernetes.io/hostname. Only hosts that are Services with ready endpoints in two or more clusters are judged.',
    docs: 'https://istio.io/latest/docs/tasks/traffic-management/locality-load-balancing/failover/',
    messages: {
      failoverWithoutOutlierDetection: {
        template:
          'DestinationRule {{namespace}}/{{name}} sets localityLbSetting {{setting}} for {{host}} (served by {{clusters}}) without outlierDetection{{where}}: traffic never fails over',
        severity: 'warning',
        hint:
          'Add outlierDetection next to the loadBalancer (e.g. consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s): ' +
          'kubectl --context=<{{cluster}} context> edit destinationrule -n {{namespace}} {{name}}. See https://github.com/istio/istio/issues/48084',
      },
      failoverPriorityLabelUnknown: {
        template:
          'DestinationRule {{namespace}}/{{name}} orders failover of {{host}} by label {{label}}, which no endpoint of it carries (checked {{endpoints}} pods in {{clusters}})',
        severity: 'warning',
        hint:
          'Use labels the endpoints have (topology.istio.io/network, topology.istio.io/cluster, topology.kubernetes.io/region, ' +
          'topology.kubernetes.io/zone, topology.istio.io/subzone or a pod label every deployment sets): kubectl --context=<{{cluster}} context> edit destinationrule -n {{namespace}} {{name}}',
      },
    },
  },
  async run(ctx) {
    const readable = ctx.clusters.map((reader, i) => ({ reader, info: ctx.clusterInfos[i] })).filter((c) => c.info.reachable);
    if (readable.length < 2) ctx.skip('fewer than two readable clusters');
    const serving = await servingByService(ctx, readable);
    for (const { reader } of readable) {
      for (const dr of await reader.listOptional('destinationrules')) judgeRule(ctx, reader.name, dr, serving);
    }
  },
});
export default check;

type Ctx = ContextOf<typeof check>;

/** What one cluster serves for one Service: its backing pods, and the labels istiod adds to their endpoints. */
interface ServingCluster {
  cluster: string;
  pods: KubeObject[];
  /** The Service's port numbers. */
  ports: number[];
  /** Labels every endpoint of the cluster carries besides the pod's (cluster, network, hostname, locality). */
  added: Set<string>;
  /** The cluster's node labels could not be read: region and zone may be carried without us seeing them. */
  nodesUnknown: boolean;
}

/** `namespace/name` -> the clusters where that Service has ready endpoints. */
async function servingByService(ctx: Ctx, clusters: { reader: ClusterReader; info: ClusterInfo }[]): Promise<Map<string, ServingCluster[]>> {
  const byService = new Map<string, ServingCluster[]>();
  for (const { reader, info } of clusters) {
    const [services, slices, endpoints, pods, nodes] = await Promise.all([
      reader.list('services'),
      reader.list('endpointslices'),
      listIfReadable(reader, 'endpoints'),
      reader.list('pods'),
      listIfReadable(reader, 'nodes'),
    ]);
    const nodeLabels = new Map((nodes ?? []).map((n) => [n.metadata.name, labelsOf(n)]));
    for (const service of services) {
      if (readyEndpointCount(service, slices, endpoints ?? []) === 0) continue;
      const selector = service.spec?.selector as LabelMap | undefined;
      const backing = inNamespace(pods, service.metadata.namespace).filter((p) => selectorMatches(selector, labelsOf(p)));
      const added = new Set(ALWAYS_CARRIED);
      if (info.network) added.add('topology.istio.io/network');
      for (const pod of backing) {
        const nodeName = pod.spec?.nodeName as string | undefined;
        if (nodeName) added.add('kubernetes.io/hostname');
        const locality = labelsOf(pod)[LOCALITY_LABEL];
        const fromNode = nodeName ? nodeLabels.get(nodeName) : undefined;
        const parts = locality ? locality.split('.') : [fromNode?.[REGION], fromNode?.[ZONE], fromNode?.[SUBZONE]];
        [REGION, ZONE, SUBZONE].forEach((key, i) => parts[i] && added.add(key));
      }
      const key = `${service.metadata.namespace ?? ''}/${service.metadata.name}`;
      const list = byService.get(key) ?? [];
      const ports = ((service.spec?.ports ?? []) as { port?: number }[]).map((p) => Number(p.port));
      list.push({ cluster: reader.name, pods: backing, ports, added, nodesUnknown: nodes === undefined });
      byService.set(key, list);
    }
  }
  return byService;
}

/** The Services a DestinationRule host names (a short name is the rule's namespace's; `*.ns.svc.<domain>` all of ns). */
function servicesOfHost(host: string, ruleNamespace: string, serving: Map<string, ServingCluster[]>): string[] {
  if (!host.includes('.')) return host === '*' ? [] : [`${ruleNamespace}/${host}`];
  const wildcard = /^\*\.([^.]+)\.svc\./.exec(host);
  if (wildcard) return [...serving.keys()].filter((k) => k.startsWith(`${wildcard[1]}/`));
  const exact = /^([^.*]+)\.([^.]+)\.svc\./.exec(host);
  return exact ? [`${exact[2]}/${exact[1]}`] : [];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Policy = Record<string, any>;

/** A traffic policy as istiod applies it to one cluster it builds: where it comes from, its locality setting and outlier detection. */
interface EffectivePolicy {
  where: string;
  locality?: Policy;
  outlier: boolean;
  /** Ports the policy does not apply to: its own portLevelSettings replace it there. */
  except: number[];
}

/**
 * Every (subset, port) combination the rule names, with the locality setting and outlier detection in
 * effect there: a subset's policy replaces the rule's fields it sets; a port's settings replace the
 * loadBalancer and outlierDetection of the policy they sit in (istiod's MergeTrafficPolicy and
 * applyTrafficPolicy).
 */
function effectivePolicies(spec: Policy): EffectivePolicy[] {
  const out: EffectivePolicy[] = [];
  const visit = (policy: Policy | undefined, where: string, inherited: { locality?: Policy; outlier: boolean }) => {
    const locality = policy?.loadBalancer ? policy.loadBalancer.localityLbSetting : inherited.locality;
    const outlier = policy?.outlierDetection ? true : inherited.outlier;
    const portSettings = (policy?.portLevelSettings ?? []) as Policy[];
    out.push({ where, locality, outlier, except: portSettings.map((p) => Number(p.port?.number)) });
    for (const port of portSettings) {
      const portWhere = `${where ? `${where}, ` : ''}port ${port.port?.number ?? '?'}`;
      out.push({
        where: portWhere,
        locality: port.loadBalancer ? port.loadBalancer.localityLbSetting : locality,
        outlier: port.outlierDetection ? true : outlier,
        except: [],
      });
    }
    return { locality, outlier };
  };
  const top = visit(spec.trafficPolicy as Policy | undefined, '', { outlier: false });
  for (const subset of (spec.subsets ?? []) as Policy[]) {
    if (subset.trafficPolicy) visit(subset.trafficPolicy as Policy, `subset ${subset.name ?? '?'}`, top);
  }
  return out;
}

/** Which of failover, failoverPriority and distribute a locality setting uses (none when disabled). */
function settingsOf(locality: Policy | undefined): string[] {
  if (!locality || locality.enabled === false) return [];
  return ['failover', 'failoverPriority', 'distribute'].filter((key) => Array.isArray(locality[key]) && locality[key].length > 0);
}

function judgeRule(ctx: Ctx, cluster: string, dr: KubeObject, serving: Map<string, ServingCluster[]>): void {
  const host = String(dr.spec?.host ?? '');
  const namespace = dr.metadata.namespace ?? '';
  const name = dr.metadata.name;
  const servedBy = servicesOfHost(host, namespace, serving)
    .map((service) => ({ service, clusters: serving.get(service) ?? [] }))
    .filter((s) => s.clusters.length >= 2);
  if (servedBy.length === 0) return;
  const resource = { kind: 'DestinationRule', namespace, name };
  const clusterNames = [...new Set(servedBy.flatMap((s) => s.clusters.map((c) => c.cluster)))].sort();
  const ports = new Set(servedBy.flatMap((s) => s.clusters.flatMap((c) => c.ports)));
  // A policy whose every port has port-level settings applies nowhere.
  const policies = effectivePolicies((dr.spec ?? {}) as Policy).filter((p) => [...ports].some((port) => !p.except.includes(port)));

  const bare = policies.filter((p) => settingsOf(p.locality).length > 0 && !p.outlier);
  if (bare.length) {
    const setting = [...new Set(bare.flatMap((p) => settingsOf(p.locality)))].join(', ');
    const places = bare.map((p) => p.where).filter(Boolean);
    const where = places.length ? ` (${examples(places)})` : '';
    ctx.report({ messageId: 'failoverWithoutOutlierDetection', cluster, resource, data: { namespace, name, setting, host, clusters: clusterNames.join(', '), where } });
  }

  const labels = new Set(
    policies
      .filter((p) => settingsOf(p.locality).includes('failoverPriority'))
      .flatMap((p) => (p.locality!.failoverPriority as unknown[]).filter((l): l is string => typeof l === 'string'))
      // `label=value` pins the value instead of taking the caller's (priorityLabelOverrides).
      .map((l) => l.split('=')[0]),
  );
  const instances = servedBy.flatMap((s) => s.clusters);
  for (const label of labels) {
    const carried = instances.some(
      (c) => c.added.has(label) || c.pods.some((p) => labelsOf(p)[label] !== undefined) || (c.nodesUnknown && [REGION, ZONE, SUBZONE].includes(label)),
    );
    if (carried) continue;
    const endpoints = instances.reduce((n, c) => n + c.pods.length, 0);
    ctx.report({ messageId: 'failoverPriorityLabelUnknown', cluster, resource, data: { namespace, name, host, label, endpoints, clusters: clusterNames.join(', ') } });
  }
}
