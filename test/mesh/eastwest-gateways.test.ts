import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import { createRunMemo } from '../../src/engine/run-memo.ts';
import { discoverTopology } from '../../src/mesh/discovery.ts';
import { clusterEastWestGateways, eastWestGatewaysOf, gatewayPods, whyNoAddress } from '../../src/mesh/eastwest-gateways.ts';
import { eastWestGateways as probeGateways } from '../../src/mesh/probes/peers.ts';
import { ISTIO_NAMESPACE, fixtureObjects, memoryReaders, objectNamed } from '../checks/helpers.ts';

/** cluster2's network2 gateway named only by cluster1's meshNetworks, plus a Gateway API gateway with the Service Istio generates for it. */
async function meshWithEveryKindOfGateway() {
  const objects = await fixtureObjects('multi-primary-healthy');
  const gateway = objectNamed(objects, 'cluster2', 'services', 'istio-eastwestgateway');
  gateway.metadata.name = 'cross-net';
  delete gateway.metadata.labels?.['topology.istio.io/network'];
  const istio = objectNamed(objects, 'cluster1', 'configmaps', 'istio');
  istio.data = {
    ...istio.data,
    meshNetworks: 'networks:\n  network2:\n    endpoints: [{fromRegistry: cluster2}]\n    gateways: [{registryServiceName: cross-net.istio-system.svc.cluster.local, port: 15443}]\n',
  };
  const apiGateway: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { namespace: 'istio-system', name: 'api-eastwest', labels: { 'topology.istio.io/network': 'network2' } },
    spec: { gatewayClassName: 'istio', listeners: [{ name: 'cross-network', port: 15443, protocol: 'TLS', tls: { mode: 'Passthrough', options: { 'gateway.istio.io/listener-protocol': 'auto-passthrough' } } }] },
    status: { addresses: [{ type: 'IPAddress', value: '172.18.2.20' }] },
  };
  const generated: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'istio-system', name: 'api-eastwest-istio', labels: { 'topology.istio.io/network': 'network2', 'gateway.networking.k8s.io/gateway-name': 'api-eastwest' } },
    spec: { type: 'LoadBalancer', selector: { 'gateway.networking.k8s.io/gateway-name': 'api-eastwest' }, ports: [{ name: 'tls', port: 15443 }] },
    status: { loadBalancer: { ingress: [{ ip: '172.18.2.20' }] } },
  };
  const cluster2 = objects.get('cluster2')!;
  cluster2.k8sgateways = [...(cluster2.k8sgateways ?? []), apiGateway];
  cluster2.services = [...(cluster2.services ?? []), generated];
  return memoryReaders(objects);
}

describe('one east-west gateway model', () => {
  it('finds labelled, meshNetworks-named and Gateway API gateways; a generated Service is the Gateway', async () => {
    const readers = await meshWithEveryKindOfGateway();
    const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
    const ctx = { clusters: readers, clusterInfos: clusters, mesh, options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: new Date(0) }, memo: createRunMemo() };

    const found = await clusterEastWestGateways(ctx, readers[1], { nodes: true });
    expect(found.map((g) => [g.kind, g.name, g.network, g.recognisedByIstiod, g.viaMeshNetworks ?? false, g.addresses])).toEqual([
      ['Gateway', 'api-eastwest', 'network2', true, false, ['172.18.2.20']],
      ['Service', 'cross-net', 'network2', true, true, ['172.18.2.10']],
    ]);
    // Discovery (the report's topology header) and the connectivity probes see the same gateways.
    expect(clusters[1].eastWestGateways?.map((g) => g.name)).toEqual(['api-eastwest', 'cross-net']);
    const probed = await probeGateways(ctx);
    expect(probed.filter((g) => g.cluster === 'cluster2').map((g) => [g.name, g.dialPort])).toEqual([
      ['api-eastwest', 15443],
      ['cross-net', 15443],
    ]);
  });

  it('computes a cluster\'s gateways once per run', async () => {
    const readers = await meshWithEveryKindOfGateway();
    const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
    const ctx = { clusters: readers, clusterInfos: clusters, mesh, options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: new Date(0) }, memo: createRunMemo() };
    expect(await clusterEastWestGateways(ctx, readers[1])).toBe(await clusterEastWestGateways(ctx, readers[1]));
    expect(await clusterEastWestGateways({ ...ctx, memo: createRunMemo() }, readers[1])).not.toBe(await clusterEastWestGateways(ctx, readers[1]));
  });

  it('dials a NodePort gateway on its nodePort, and says why a gateway has no address', () => {
    const nodePort: KubeObject = {
      metadata: { namespace: 'istio-system', name: 'eastwest', labels: { 'topology.istio.io/network': 'n1' }, annotations: { 'traffic.istio.io/nodeSelector': '{}' } },
      spec: { type: 'NodePort', selector: { istio: 'eastwestgateway' }, ports: [{ port: 15443, targetPort: 15443, nodePort: 31443 }] },
    };
    const node: KubeObject = { metadata: { name: 'n' }, status: { addresses: [{ type: 'ExternalIP', address: '203.0.113.9' }] } };
    const [gw] = eastWestGatewaysOf('c1', { services: [nodePort], k8sGateways: [], nodes: [node] });
    expect(gw).toMatchObject({ kind: 'Service', dialPort: 31443, gatewayPort: 15443, addresses: ['203.0.113.9'] });
    expect(eastWestGatewaysOf('c1', { services: [nodePort], k8sGateways: [] })[0].addresses).toEqual([]);
    expect(whyNoAddress({ ...gw, type: 'LoadBalancer' })).toBe('LoadBalancer pending');
    const pod = (name: string, labels: Record<string, string>): KubeObject => ({ metadata: { namespace: 'istio-system', name, labels } });
    expect(gatewayPods(gw, [pod('a', { istio: 'eastwestgateway' }), pod('b', { istio: 'ingressgateway' })]).map((p) => p.metadata.name)).toEqual(['a']);
  });
});
