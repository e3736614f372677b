// A sidecar-mode mesh whose east-west gateways are Gateway API Gateways, as istio.io's multi-network
// install documents them: multi-primary-healthy with each cluster's istioctl-made gateway Service and
// the Istio Gateway cross-network-gateway replaced by a Gateway of class istio labelled with the
// cluster's network, with a TLS listener on 15443 (istiod serves it as auto-passthrough because of the
// label and the port: istio/istio pilot/pkg/serviceregistry/kube/conversion.go:199 IsAutoPassthrough at
// 86c9f01), and the Service and pods Istio's deployment controller makes for it (labels
// gateway.networking.k8s.io/gateway-name and the Gateway's own labels: manifests/charts/istio-control/
// istio-discovery/files/kube-gateway.yaml). istiod's captured view (networkz, syncz...) is the
// fixture's: the gateways keep their addresses. Every check runs through the engine: none may report
// an error or a warning, and no Istio Gateway exists.
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../../src/checks/index.ts';
import type { ClusterReader, KubeObject, ListScope, ResourceKindName } from '../../../src/cluster/types.ts';
import { runChecks } from '../../../src/engine/run.ts';
import { discoverTopology } from '../../../src/mesh/discovery.ts';
import { fixtureObjects, ISTIO_NAMESPACE, openFixture, type ClusterObjects } from '../helpers.ts';

const FIXTURE = 'multi-primary-healthy';
const NAME = 'istio-eastwestgateway';
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** The fixture's reader with its objects replaced: istiod's captured debug output and logs stay. */
function withObjects(base: ClusterReader, objects: ClusterObjects): ClusterReader {
  const list = async (kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]> => {
    const all = objects[kind] ?? [];
    return scope?.namespace === undefined ? all : all.filter((o) => o.metadata.namespace === scope.namespace);
  };
  return new Proxy(base, {
    get(target, prop) {
      if (prop === 'list' || prop === 'listOptional') return list;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function toGatewayApi(objects: ClusterObjects, listenerOptions?: Record<string, string>): void {
  const service = objects.services!.find((s) => s.metadata.name === NAME)!;
  const network = service.metadata.labels!['topology.istio.io/network'];
  const address = service.status.loadBalancer.ingress[0].ip as string;
  const infra = { [GATEWAY_NAME_LABEL]: NAME, 'topology.istio.io/network': network };
  const tls = { mode: 'Passthrough', ...(listenerOptions ? { options: listenerOptions } : {}) };
  objects.k8sgateways = [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: NAME, namespace: ISTIO_NAMESPACE, labels: { 'topology.istio.io/network': network } },
      spec: {
        gatewayClassName: 'istio',
        listeners: [
          { name: 'cross-network', hostname: '*.local', port: 15443, protocol: 'TLS', tls },
          { name: 'istiod-grpc', port: 15012, protocol: 'TLS', tls: { mode: 'Passthrough' } },
          { name: 'istiod-webhook', port: 15017, protocol: 'TLS', tls: { mode: 'Passthrough' } },
        ],
      },
      status: { addresses: [{ type: 'IPAddress', value: address }], conditions: [{ type: 'Accepted', status: 'True' }, { type: 'Programmed', status: 'True' }] },
    },
  ];
  service.metadata.name = `${NAME}-istio`;
  service.metadata.labels = { ...infra };
  service.spec.selector = { [GATEWAY_NAME_LABEL]: NAME };
  service.spec.ports = (service.spec.ports as { name: string }[]).map((p) => ({ ...p, name: { tls: 'cross-network', 'tls-istiod': 'istiod-grpc', 'tls-webhook': 'istiod-webhook' }[p.name] ?? p.name }));
  for (const workload of [...(objects.pods ?? []), ...(objects.deployments ?? [])]) {
    const labels = workload.metadata.labels ?? {};
    if (labels.istio !== 'eastwestgateway') continue;
    workload.metadata.labels = { ...infra, 'service.istio.io/canonical-name': `${NAME}-istio` };
    if (workload.spec?.template) {
      workload.spec.selector = { matchLabels: { [GATEWAY_NAME_LABEL]: NAME } };
      workload.spec.template.metadata.labels = { ...infra };
    }
  }
  // No Istio Gateway: the listener is the config.
  objects.gateways = (objects.gateways ?? []).filter((g) => g.metadata.name !== 'cross-network-gateway');
}

async function runAll(listenerOptions?: Record<string, string>) {
  const objects = await fixtureObjects(FIXTURE);
  for (const cluster of objects.values()) toGatewayApi(cluster, listenerOptions);
  const { capturedAt, clusters: base } = await openFixture(FIXTURE);
  const readers = base.map((reader) => withObjects(reader, objects.get(reader.name)!));
  const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
  const results = await runChecks({
    checks: BUILTIN_CHECKS,
    readers,
    clusterInfos: clusters,
    mesh,
    options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: capturedAt },
    timeoutMs: 10_000,
    concurrency: 2,
  });
  return { objects, clusters, results };
}

const problems = (results: Awaited<ReturnType<typeof runAll>>['results']) =>
  results.flatMap((r) => r.findings.filter((f) => f.severity !== 'info').map((f) => `${r.checkId} [${f.cluster}] ${f.messageId}`));

describe('Gateway API east-west gateways in sidecar mode', () => {
  it.each([
    ['the network label and port 15443 (implicit auto-passthrough)', undefined],
    ['the auto-passthrough listener option', { 'gateway.istio.io/listener-protocol': 'auto-passthrough' }],
  ])('pass every check with no Istio Gateway: %s', async (_, options) => {
    const { objects, clusters, results } = await runAll(options);
    for (const cluster of objects.values()) expect(cluster.gateways ?? []).toEqual([]);
    expect(problems(results)).toEqual([]);
    // Discovery found each cluster's Gateway (not also its generated Service) as its network's gateway.
    expect(clusters.map((c) => c.eastWestGateways?.map((g) => [g.name, g.network, g.addresses]))).toEqual([
      [[NAME, 'network1', ['172.18.1.10']]],
      [[NAME, 'network2', ['172.18.2.10']]],
    ]);
    // network/eastwest-gateway and network/topology judge the Gateways and pass; cross-network-gateway has no
    // Istio-Gateway-bound gateway to judge (skip, with the reason), gateway-view has no captured networkz here.
    const outcome = (id: string) => results.filter((r) => r.checkId === id).map((r) => `${r.cluster} ${r.outcome}`);
    expect(outcome('network/eastwest-gateway')).toEqual(['cluster1 pass', 'cluster2 pass']);
    expect(outcome('network/cross-network-gateway')).toEqual(['cluster1 skip', 'cluster2 skip']);
    expect(results.filter((r) => r.checkId.startsWith('network/') && (r.outcome === 'fail' || r.outcome === 'error' || r.outcome === 'warn'))).toEqual([]);
  });

  it('a TLS listener on another port without the option is no east-west gateway to istiod', async () => {
    const objects = await fixtureObjects(FIXTURE);
    const cluster2 = objects.get('cluster2')!;
    toGatewayApi(cluster2);
    const gateway = cluster2.k8sgateways![0];
    gateway.metadata.labels!['networking.istio.io/gatewayPort'] = '35443';
    const { clusters: base, capturedAt } = await openFixture(FIXTURE);
    const readers = base.map((reader) => withObjects(reader, objects.get(reader.name)!));
    const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
    const check = BUILTIN_CHECKS.find((c) => c.id === 'network/eastwest-gateway')!;
    const results = await runChecks({ checks: [check], readers, clusterInfos: clusters, mesh, options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: capturedAt }, timeoutMs: 10_000, concurrency: 2 });
    expect(problems(results)).toContain('network/eastwest-gateway [cluster2] ewgwGatewayNoAutoPassthrough');
  });
});
