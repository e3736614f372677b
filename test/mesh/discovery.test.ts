import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import { discoverTopology, istioInstallNamespace } from '../../src/mesh/discovery.ts';
import { findInjectionWebhooks } from '../../src/mesh/istio-objects.ts';
import { renderHuman } from '../../src/reporters/human.ts';
import { healthyReport } from '../reporters/helpers.ts';
import { ISTIO_NAMESPACE, fixtureObjects, memoryReader, memoryReaders, objectNamed, objectsOf, openFixture } from '../checks/helpers.ts';

async function topologyOf(fixture: string) {
  const { clusters } = await openFixture(fixture);
  return discoverTopology(clusters, ISTIO_NAMESPACE);
}

/** The facts tests compare, without addresses and via. */
function summary(info: Awaited<ReturnType<typeof topologyOf>>['clusters'][number]) {
  return { name: info.name, clusterId: info.clusterId, network: info.network, role: info.role, revisions: info.revisions, istioVersion: info.istioVersion, reachable: info.reachable };
}

describe('discoverTopology on fixtures', () => {
  it('multi-primary-healthy: two primaries on two networks', async () => {
    const { clusters, mesh } = await topologyOf('multi-primary-healthy');
    expect(clusters.map(summary)).toEqual([
      { name: 'cluster1', clusterId: 'cluster1', network: 'network1', role: 'primary', revisions: ['default'], istioVersion: '1.31.0', reachable: true },
      { name: 'cluster2', clusterId: 'cluster2', network: 'network2', role: 'primary', revisions: ['default'], istioVersion: '1.31.0', reachable: true },
    ]);
    expect(mesh).toEqual({ model: 'multi-primary', meshId: 'mesh1', trustDomain: 'cluster.local', multiNetwork: true });
    expect(clusters[0].context).toBe('kind-cluster1');
    expect(clusters[0].via).toBe('snapshot');
    expect(clusters[0].eastWestGateways).toEqual([{ namespace: 'istio-system', name: 'istio-eastwestgateway', network: 'network1', addresses: ['172.18.1.10'] }]);
    expect(clusters[1].eastWestGateways?.[0].addresses).toEqual(['172.18.2.10']);
  });

  it('primary-remote-healthy: the remote has no istiod, its id and network come from the injector', async () => {
    const { clusters, mesh } = await topologyOf('primary-remote-healthy');
    expect(clusters.map(summary)).toEqual([
      { name: 'cluster1', clusterId: 'cluster1', network: 'network1', role: 'primary', revisions: ['default'], istioVersion: '1.31.0', reachable: true },
      // The remote's version is the injector's global.tag: the proxies it gets.
      { name: 'cluster2', clusterId: 'cluster2', network: 'network2', role: 'remote', revisions: [], istioVersion: '1.31.0', reachable: true },
    ]);
    expect(mesh).toEqual({ model: 'primary-remote', meshId: 'mesh1', trustDomain: 'cluster.local', multiNetwork: true });
  });

  it('external-control-plane-healthy (--istio-namespace external-istiod): external control plane and its config cluster', async () => {
    const { clusters, mesh } = await discoverTopology((await openFixture('external-control-plane-healthy')).clusters, 'external-istiod');
    expect(clusters.map(summary)).toEqual([
      // The external istiod's CLUSTER_ID is its config cluster's id; it joins no network.
      { name: 'cluster1', clusterId: 'cluster2', network: undefined, role: 'external-control-plane', revisions: ['default'], istioVersion: '1.31.0', reachable: true },
      { name: 'cluster2', clusterId: 'cluster2', network: 'network1', role: 'config', revisions: [], istioVersion: '1.31.0', reachable: true },
    ]);
    expect(clusters[1].controlPlaneCluster).toBe('cluster1');
    expect(clusters[0].istiodNamespace).toBeUndefined();
    // Only the config cluster runs proxies: one network.
    expect(mesh).toEqual({ model: 'external-control-plane', meshId: 'mesh1', trustDomain: 'cluster.local', multiNetwork: false });
  });

  it('an external istiod outside --istio-namespace is found in its own namespace', async () => {
    const { clusters } = await discoverTopology((await openFixture('external-control-plane-healthy')).clusters, ISTIO_NAMESPACE);
    expect(clusters.map((c) => [c.role, c.istiodNamespace, c.controlPlaneCluster])).toEqual([
      ['external-control-plane', 'external-istiod', undefined],
      ['config', undefined, 'cluster1'],
    ]);
  });

  it('a primary sharing its id with an istiod-less cluster, with no sign of being external, stays a primary', async () => {
    const objects = await fixtureObjects('external-control-plane-healthy');
    const container = objectNamed(objects, 'cluster1', 'deployments', 'istiod').spec.template.spec.containers[0];
    container.env = (container.env as { name: string }[]).filter((e) => e.name !== 'EXTERNAL_ISTIOD');
    objectNamed(objects, 'cluster2', 'mutatingwebhookconfigurations', 'istio-sidecar-injector-external-istiod').webhooks[0].clientConfig.url = 'https://198.51.100.7:15017/inject/cluster/cluster2/net/network1';
    const { clusters } = await discoverTopology(memoryReaders(objects), 'external-istiod');
    expect(clusters.map((c) => c.role)).toEqual(['primary', 'external-controlled']);
    expect(clusters[1].controlPlaneCluster).toBeUndefined();
  });

  it.each(['ewgw-lb-pending', 'ewgw-nodeport-no-selector', 'istiod-not-ready', 'root-mismatch', 'cacerts-missing', 'secrets-forbidden'])(
    '%s: the fault variants keep the multi-primary topology',
    async (fixture) => {
      const { clusters, mesh } = await topologyOf(fixture);
      expect(clusters.map((c) => [c.clusterId, c.network, c.role])).toEqual([
        ['cluster1', 'network1', 'primary'],
        ['cluster2', 'network2', 'primary'],
      ]);
      expect(mesh.model).toBe('multi-primary');
    },
  );

  it('ewgw-lb-pending: a gateway without an address has none in the topology', async () => {
    const { clusters } = await topologyOf('ewgw-lb-pending');
    expect(clusters[1].eastWestGateways).toEqual([{ namespace: 'istio-system', name: 'istio-eastwestgateway', network: 'network2', addresses: [] }]);
  });
});

describe('discoverTopology fallbacks', () => {
  it('takes CLUSTER_ID from the injector values, then from the webhook path, when istiod has no env', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const istiod = objectNamed(objects, 'cluster1', 'deployments', 'istiod');
    const container = istiod.spec.template.spec.containers[0];
    container.env = container.env.filter((e: { name: string }) => e.name !== 'CLUSTER_ID');
    let { clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[0].clusterId).toBe('cluster1');

    const injector = objectNamed(objects, 'cluster1', 'configmaps', 'istio-sidecar-injector');
    injector.data.values = JSON.stringify({ global: { network: '' } });
    const webhook = objectNamed(objects, 'cluster1', 'mutatingwebhookconfigurations', 'istio-sidecar-injector');
    webhook.webhooks[0].clientConfig.service.path = '/inject/cluster/from-webhook/net/net-from-webhook';
    delete objectNamed(objects, 'cluster1', 'namespaces', 'istio-system').metadata.labels!['topology.istio.io/network'];
    ({ clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE));
    expect(clusters[0]).toMatchObject({ clusterId: 'from-webhook', network: 'net-from-webhook' });
  });

  it('reads the network from global.network when the namespace is not labelled', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    delete objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.labels!['topology.istio.io/network'];
    const { clusters, mesh } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[1].network).toBe('network2');
    expect(mesh.multiNetwork).toBe(true);
  });

  it('lists revisions and strips the distroless suffix from the version', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const deployments = objectsOf(objects, 'cluster1', 'deployments');
    const canary = structuredClone(objectNamed(objects, 'cluster1', 'deployments', 'istiod'));
    canary.metadata.name = 'istiod-canary';
    canary.metadata.labels!['istio.io/rev'] = 'canary';
    canary.spec.template.spec.containers[0].image = 'gcr.io/istio-release/pilot:1.30.0-distroless';
    deployments.push(canary);
    objectNamed(objects, 'cluster1', 'deployments', 'istiod').spec.template.spec.containers[0].image = 'docker.io/istio/pilot:1.31.0-distroless';
    const { clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[0].revisions).toEqual(['canary', 'default']);
    expect(clusters[0].istioVersion).toBe('1.31.0');
  });

  it('marks a cluster unreachable, with the reason, when every list fails that way; never throws', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const readers = memoryReaders(objects, { cluster2: { failAll: 'unreachable' } });
    const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
    expect(clusters[1]).toMatchObject({ name: 'cluster2', reachable: false, role: 'unknown' });
    expect(clusters[1].unreachableReason).toMatch(/unreachable/);
    expect(clusters[0].reachable).toBe(true);
    // cluster1's east-west gateway exists to join networks: with its peer hidden, still multi-network.
    expect(mesh.multiNetwork).toBe(true);
  });

  it('a hidden peer does not make a mesh without east-west gateways multi-network', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    objects.get('cluster1')!.services = objects.get('cluster1')!.services!.filter((s) => !s.metadata.name.includes('eastwest'));
    const readers = memoryReaders(objects, { cluster2: { failAll: 'unreachable' } });
    const { mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
    expect(mesh.multiNetwork).toBe(false);
  });

  it('keeps facts unknown, not the cluster unreachable, when lists are forbidden', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const readers = memoryReaders(objects, { cluster1: { failing: { deployments: 'forbidden', configmaps: 'forbidden' } } });
    const { clusters } = await discoverTopology(readers, ISTIO_NAMESPACE);
    expect(clusters[0]).toMatchObject({ reachable: true, role: 'unknown', network: 'network1', clusterId: 'cluster1' });
    expect(clusters[0].istioVersion).toBeUndefined();
  });

  it('a single primary is a single-cluster mesh', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const { clusters, mesh } = await discoverTopology([memoryReader('cluster1', objects.get('cluster1')!)], ISTIO_NAMESPACE);
    expect(clusters[0].role).toBe('primary');
    expect(mesh).toMatchObject({ model: 'single-cluster', multiNetwork: false });
  });

  it('a remote without annotation whose webhook URL goes through the primary gateway stays a remote', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    delete objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.annotations;
    const webhook = objectNamed(objects, 'cluster2', 'mutatingwebhookconfigurations', 'istio-sidecar-injector');
    webhook.webhooks[0].clientConfig = { url: 'https://172.18.1.10:15017/inject/cluster/cluster2/net/network2' };
    const { clusters, mesh } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[1].role).toBe('remote');
    expect(mesh.model).toBe('primary-remote');
  });

  it('a remote whose injector calls an external URL is externally controlled', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    const remote = objects.get('cluster2')!;
    delete objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.annotations;
    const webhook = objectNamed(objects, 'cluster2', 'mutatingwebhookconfigurations', 'istio-sidecar-injector');
    webhook.webhooks[0].clientConfig = { url: 'https://istiod.external.example.com:15017/inject/cluster/cluster2/net/network2' };
    // An external control plane's config cluster has no istiod Service of its own (no remotePilotAddress).
    remote.services = remote.services!.filter((s) => s.metadata.name !== 'istiod');
    const { clusters, mesh } = await discoverTopology([memoryReader('cluster2', remote)], ISTIO_NAMESPACE);
    expect(clusters[0]).toMatchObject({ role: 'external-controlled', clusterId: 'cluster2', network: 'network2' });
    expect(mesh.model).toBe('external-control-plane');
  });

  it('a remote whose named control plane is not among the clusters means an external control plane', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.annotations!['topology.istio.io/controlPlaneClusters'] = 'elsewhere';
    const { mesh } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(mesh.model).toBe('external-control-plane');
  });

  it('a revisioned remote: a selectorless istiod-<rev> Service makes a remote even without the annotation', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    delete objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.annotations;
    objectNamed(objects, 'cluster2', 'services', 'istiod').metadata.name = 'istiod-1-22-3';
    const { clusters, mesh } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[1].role).toBe('remote');
    expect(mesh.model).toBe('primary-remote');
  });

  it('a remote running a local injector istiod stays a remote (istiod[-<rev>]-remote Service, or the annotation)', async () => {
    for (const [serviceName, keepAnnotation] of [['istiod-remote', false], ['istiod-1-22-3-remote', false], ['istiod-remote-1-22-3', false], ['istiod', true]] as const) {
      const objects = await fixtureObjects('primary-remote-healthy');
      if (!keepAnnotation) delete objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.annotations;
      objectNamed(objects, 'cluster2', 'services', 'istiod').metadata.name = serviceName;
      // enabledLocalInjectorIstiod: an istiod Deployment runs in the remote too.
      const injector = structuredClone(objectNamed(objects, 'cluster1', 'deployments', 'istiod'));
      for (const env of injector.spec.template.spec.containers[0].env) if (env.name === 'CLUSTER_ID') env.value = 'cluster2';
      objectsOf(objects, 'cluster2', 'deployments').push(injector);
      const { clusters, mesh } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
      expect([serviceName, clusters[1].role, mesh.model]).toEqual([serviceName, 'remote', 'primary-remote']);
    }
  });

  it('a primary that names only itself in controlPlaneClusters stays a primary', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const ns = objectNamed(objects, 'cluster1', 'namespaces', 'istio-system');
    ns.metadata.annotations = { ...ns.metadata.annotations, 'topology.istio.io/controlPlaneClusters': 'cluster1' };
    const { clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters.map((c) => c.role)).toEqual(['primary', 'primary']);
  });

  it('prefers the primary\'s mesh id and reads the trust domain from the mesh config', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    objectNamed(objects, 'cluster1', 'configmaps', 'istio').data.mesh = 'trustDomain: example.org\ndefaultConfig:\n  meshId: prod\n';
    const { mesh } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(mesh).toMatchObject({ meshId: 'prod', trustDomain: 'example.org' });
  });
});

describe('discoverTopology east-west gateways named by meshNetworks', () => {
  /** A primary's meshNetworks naming `svc` in istio-system as network2's gateway (fromRegistry cluster2). */
  const meshNetworks = (svc: string) => `networks:
  network2:
    endpoints: [{fromRegistry: cluster2}]
    gateways: [{registryServiceName: ${svc}.istio-system.svc.cluster.local, port: 15443}]
`;

  /** Rename cluster2's gateway Service to a name that does not look east-west, and drop its network label. */
  function disguiseGateway(objects: Awaited<ReturnType<typeof fixtureObjects>>): void {
    const gateway = objectNamed(objects, 'cluster2', 'services', 'istio-eastwestgateway');
    gateway.metadata.name = 'cross-net';
    delete gateway.metadata.labels?.['topology.istio.io/network'];
    if (gateway.spec?.selector) gateway.spec.selector = { app: 'cross-net' };
  }

  function setMeshNetworks(objects: Awaited<ReturnType<typeof fixtureObjects>>, cluster: string, text: string): void {
    const istio = objectNamed(objects, cluster, 'configmaps', 'istio');
    istio.data = { ...istio.data, meshNetworks: text };
  }

  it('lists a Service that a primary\'s meshNetworks names by registryServiceName, on that network', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    disguiseGateway(objects);
    let { clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[1].eastWestGateways).toEqual([]);

    setMeshNetworks(objects, 'cluster1', meshNetworks('cross-net'));
    ({ clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE));
    expect(clusters[1].eastWestGateways).toEqual([{ namespace: 'istio-system', name: 'cross-net', network: 'network2', addresses: ['172.18.2.10'] }]);
    // The entry applies to cluster2's registry only.
    expect(clusters[0].eastWestGateways?.map((g) => g.name)).toEqual(['istio-eastwestgateway']);
  });

  it('reads a remote\'s gateways from its primary\'s meshNetworks, not from its own ConfigMap', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    disguiseGateway(objects);
    setMeshNetworks(objects, 'cluster1', meshNetworks('cross-net'));
    const { clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[1].role).toBe('remote');
    expect(clusters[1].eastWestGateways?.map((g) => [g.name, g.network])).toEqual([['cross-net', 'network2']]);
  });

  it('ignores a malformed meshNetworks instead of failing discovery', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    setMeshNetworks(objects, 'cluster1', 'networks: [not, a, mapping]');
    const { clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters.map((c) => c.eastWestGateways?.map((g) => g.name))).toEqual([['istio-eastwestgateway'], ['istio-eastwestgateway']]);
  });
});

/** A Namespace, a ConfigMap of the injector, a selectorless istiod Service, a webhook calling a Service: the remote profile's pieces. */
const ns = (name: string, annotations?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(annotations ? { annotations } : {}) } });
const injectorConfigMap = (namespace: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name: 'istio-sidecar-injector' }, data: { values: '{"global":{}}', config: '' } });
const remoteIstiodService = (namespace: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace, name: 'istiod' }, spec: { ports: [{ port: 15012 }] } });
const webhookTo = (name: string, namespace: string): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  metadata: { name },
  webhooks: [{ name: 'namespace.sidecar-injector.istio.io', clientConfig: { service: { namespace, name: 'istiod', path: '/inject/cluster/c2/net/n2' } } }],
});
function evidence(objects: { namespaces?: KubeObject[]; configMaps?: KubeObject[]; services?: KubeObject[]; webhookConfigs?: KubeObject[] }) {
  return istioInstallNamespace({ istioNamespace: ISTIO_NAMESPACE, ...objects, webhooks: findInjectionWebhooks(objects.webhookConfigs ?? []) });
}

describe('the Istio namespace of each cluster (issue 18: the guide installs the remotes in external-istiod)', () => {
  it('finds a istiod-less cluster\'s Istio install outside --istio-namespace, and reads its facts there', async () => {
    // The fixture is the guide's layout: the config cluster's remote profile in external-istiod, no istio-system.
    const { clusters } = await discoverTopology((await openFixture('external-control-plane-healthy')).clusters, ISTIO_NAMESPACE);
    expect(clusters.map((c) => [c.name, c.role, c.istioNamespace, c.istiodNamespace, c.network])).toEqual([
      ['cluster1', 'external-control-plane', 'external-istiod', 'external-istiod', undefined],
      ['cluster2', 'config', 'external-istiod', undefined, 'network1'],
    ]);
  });

  it('keeps --istio-namespace for every cluster whose Istio lives there (primary-remote, multi-primary)', async () => {
    for (const fixture of ['primary-remote-healthy', 'multi-primary-healthy']) {
      const { clusters } = await topologyOf(fixture);
      expect(clusters.map((c) => c.istioNamespace)).toEqual([ISTIO_NAMESPACE, ISTIO_NAMESPACE]);
    }
  });

  it('--istio-namespace wins over a namespace that shows less: a remote profile in istio-system beside an annotated external-istiod', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    objectsOf(objects, 'cluster2', 'namespaces').push(ns('external-istiod', { 'topology.istio.io/controlPlaneClusters': 'cluster1' }));
    const { clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[1]).toMatchObject({ role: 'remote', istioNamespace: ISTIO_NAMESPACE });
  });

  it('weighs what the charts put in the release namespace: the webhook\'s Service over ConfigMaps, the webhook\'s name suffix', () => {
    const namespaces = [ns('kube-system'), ns('mesh-a'), ns('mesh-b'), ns('canary-mesh-b')];
    // A Service the webhook calls (4) beats two ConfigMap-style claims (1 each).
    expect(evidence({ namespaces, configMaps: [injectorConfigMap('mesh-a')], webhookConfigs: [webhookTo('anything', 'mesh-b')] })).toEqual({ namespace: 'mesh-b' });
    // istio-sidecar-injector-<rev>-<namespace>: the longest namespace the name ends with.
    const named = { ...webhookTo('istio-sidecar-injector-canary-mesh-b', 'x'), webhooks: [{ name: 'namespace.sidecar-injector.istio.io', clientConfig: { url: 'https://192.0.2.1:15017/inject' } }] };
    expect(evidence({ namespaces, webhookConfigs: [named] })).toEqual({ namespace: 'canary-mesh-b' });
    // Nothing anywhere: --istio-namespace.
    expect(evidence({ namespaces })).toEqual({ namespace: ISTIO_NAMESPACE });
    // A webhook named without a namespace suffix is the chart's for istio-system: with --istio-namespace mesh-a, istio-system.
    const plain = { ...named, metadata: { name: 'istio-sidecar-injector' } };
    const withIstioSystem = [...namespaces, ns('istio-system')];
    expect(istioInstallNamespace({ istioNamespace: 'mesh-a', namespaces: withIstioSystem, webhookConfigs: [plain], webhooks: findInjectionWebhooks([plain]) })).toEqual({ namespace: 'istio-system' });
  });

  it('does not guess between two namespaces claiming equally: --istio-namespace, the tie kept', () => {
    const namespaces = [ns('mesh-a'), ns('mesh-b')];
    const tied = evidence({ namespaces, configMaps: [injectorConfigMap('mesh-b'), injectorConfigMap('mesh-a')], services: [remoteIstiodService('mesh-a'), remoteIstiodService('mesh-b')] });
    expect(tied).toEqual({ namespace: ISTIO_NAMESPACE, tied: ['mesh-a', 'mesh-b'] });
  });

  it('a tie is settled by the external istiod\'s namespace name, once roles are known', async () => {
    const objects = await fixtureObjects('external-control-plane-healthy');
    // A second namespace on the config cluster claiming as much as external-istiod (webhook name 2, two ConfigMaps 2):
    // a selectorless istiod Service (2) and two ConfigMaps (2).
    const c2 = objects.get('cluster2')!;
    c2.namespaces!.push(ns('decoy'));
    const meshConfig: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'decoy', name: 'istio' }, data: { mesh: 'trustDomain: cluster.local' } };
    c2.configmaps = [...(c2.configmaps ?? []), injectorConfigMap('decoy'), meshConfig];
    c2.services = [...(c2.services ?? []), remoteIstiodService('decoy')];
    expect(
      istioInstallNamespace({ istioNamespace: ISTIO_NAMESPACE, namespaces: c2.namespaces, configMaps: c2.configmaps, services: c2.services, webhookConfigs: c2.mutatingwebhookconfigurations, webhooks: findInjectionWebhooks(c2.mutatingwebhookconfigurations ?? []) }),
    ).toEqual({ namespace: ISTIO_NAMESPACE, tied: ['decoy', 'external-istiod'] });
    const { clusters } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[1]).toMatchObject({ role: 'config', istioNamespace: 'external-istiod' });
  });

  it('a hostile namespace name is data: kept as found, shown with visible escapes in the topology table', async () => {
    const hostile = 'mesh\u001b[2J\u001b]8;;http://x\u0007\u202eevil';
    const objects = await fixtureObjects('external-control-plane-healthy');
    const c2 = objects.get('cluster2')!;
    c2.namespaces!.push(ns(hostile));
    c2.mutatingwebhookconfigurations = [webhookTo('istio-sidecar-injector', hostile)];
    const { clusters, mesh } = await discoverTopology(memoryReaders(objects), ISTIO_NAMESPACE);
    expect(clusters[1].istioNamespace).toBe(hostile);
    const text = renderHuman({ ...healthyReport(), clusters, mesh }, { color: false, hideDurations: true });
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u202e');
    expect(text).toContain('mesh\\x1b[2J');
  });
});
