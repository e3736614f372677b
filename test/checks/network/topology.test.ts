import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/network/topology.ts';
import type { TopologyPicture } from '../../../src/engine/details.ts';
import { findingKeys, objectNamed, objectsOf, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { REGISTRY_SERVICE_MESH_NETWORKS, edited, findingRows, readersWithDebug, setMeshNetworks } from './net-helpers.ts';
import { SECRET_FORMS, giveClusterId } from '../remote-secret-forms.ts';

async function runEdited(edit: (o: Map<string, ClusterObjects>) => void, fixture = 'multi-primary-healthy') {
  return runCheck(check, readersWithDebug(await edited(fixture, edit)));
}

function forgetNetwork(o: Map<string, ClusterObjects>, cluster: string): void {
  delete objectNamed(o, cluster, 'namespaces', 'istio-system').metadata.labels!['topology.istio.io/network'];
  objectNamed(o, cluster, 'configmaps', 'istio-sidecar-injector').data.values = '{"global":{}}';
  for (const hook of objectNamed(o, cluster, 'mutatingwebhookconfigurations', 'istio-sidecar-injector').webhooks) {
    if (hook.clientConfig.service) hook.clientConfig.service.path = '/inject';
  }
}

describe('network/topology', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy', 'net-healthy'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
  });

  it('attaches the topology picture, with what each control plane sees', async () => {
    const { runs } = await runCheck(check, (await openFixture('net-healthy')).clusters);
    const picture = runFor(runs, '*').data.topology as TopologyPicture;
    expect(picture.networks.map((n) => [n.name, n.clusters.map((c) => c.name)])).toEqual([
      ['network1', ['cluster1']],
      ['network2', ['cluster2']],
    ]);
    expect(picture.networks[0].clusters[0].gateways).toEqual([
      { kind: 'Service', namespace: 'istio-system', name: 'istio-eastwestgateway', addresses: ['172.18.1.10'], recognised: true },
    ]);
    expect(picture.controlPlanes[0]).toEqual({
      cluster: 'cluster1',
      clusterId: 'cluster1',
      sees: [
        { clusterId: 'cluster1', status: 'local' },
        { clusterId: 'cluster2', status: 'synced' },
      ],
    });
    const old = await runCheck(check, (await openFixture('net-networkz-old')).clusters);
    expect((runFor(old.runs, '*').data.topology as TopologyPicture).controlPlanes.map((c) => c.sees.map((s) => `${s.clusterId}:${s.status}`))).toEqual([
      // The shared clusterz parser reads the Go-cased SyncStatus of that format too.
      ['cluster1:local', 'cluster2:synced'],
      ['cluster2:local'],
    ]);
  });

  it('networkUnknown: a cluster without a network in a multi-network mesh (error)', async () => {
    const { runs } = await runEdited((o) => forgetNetwork(o, 'cluster2'));
    expect(findingKeys(runs)).toEqual(['cluster2:networkUnknown']);
    const finding = runFor(runs, '*').findings[0];
    expect(finding.severity).toBe('error');
    expect(finding.data).toMatchObject({ networks: 'network1, network2' });
  });

  it('networkUnknown is a warning when only one network is declared (a flat mesh labelled halfway)', async () => {
    const { runs } = await runEdited((o) => {
      forgetNetwork(o, 'cluster2');
      delete objectNamed(o, 'cluster2', 'services', 'istio-eastwestgateway').metadata.labels!['topology.istio.io/network'];
    });
    expect(findingKeys(runs)).toEqual(['cluster2:networkUnknown']);
    expect(runFor(runs, '*').findings[0].severity).toBe('warning');
  });

  it('networkWithoutGateway: network2 has sidecars but no east-west gateway', async () => {
    const { runs } = await runEdited((o) => {
      const services = objectsOf(o, 'cluster2', 'services');
      services.splice(services.findIndex((s) => s.metadata.name === 'istio-eastwestgateway'), 1);
      o.get('cluster2')!.pods!.push({
        metadata: { name: 'helloworld-v2-1', namespace: 'sample', annotations: { 'sidecar.istio.io/status': '{}' } },
        spec: { containers: [{ name: 'helloworld' }] },
      });
    });
    expect(findingKeys(runs)).toEqual(['cluster2:networkWithoutGateway']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ network: 'network2', clusters: 'cluster2' });
  });

  it('networkWithoutGateway in primary-remote: the primary\'s network serves the remote\'s istiod traffic', async () => {
    const { runs } = await runEdited((o) => {
      const services = objectsOf(o, 'cluster1', 'services');
      services.splice(services.findIndex((s) => s.metadata.name === 'istio-eastwestgateway'), 1);
      o.get('cluster1')!.pods = o.get('cluster1')!.pods!.filter((p) => !p.metadata.annotations?.['sidecar.istio.io/status']);
    }, 'primary-remote-healthy');
    expect(findingKeys(runs)).toEqual(['cluster1:networkWithoutGateway']);
    expect(String(runFor(runs, '*').findings[0].data?.reason)).toMatch(/remote clusters/);
  });

  it('unknownMeshNetworksRegistry: meshNetworks names a registry that is no cluster id (IST0126)', async () => {
    const { runs } = await runEdited((o) => {
      objectNamed(o, 'cluster1', 'configmaps', 'istio').data.meshNetworks = 'networks:\n  network2:\n    endpoints:\n    - fromRegistry: kind-cluster2\n    gateways:\n    - registryServiceName: istio-eastwestgateway.istio-system.svc.cluster.local\n      port: 15443\n';
    });
    expect(findingKeys(runs)).toEqual(['cluster1:unknownMeshNetworksRegistry']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ registry: 'kind-cluster2', network: 'network2' });
  });

  it.each(SECRET_FORMS)('a meshNetworks registry that a secret gives istiod is known, in either form (%s)', async (form) => {
    const { runs } = await runEdited((o) => {
      objectNamed(o, 'cluster1', 'configmaps', 'istio').data.meshNetworks = 'networks:\n  network2:\n    endpoints:\n    - fromRegistry: kind-cluster2\n    gateways:\n    - registryServiceName: istio-eastwestgateway.istio-system.svc.cluster.local\n      port: 15443\n';
      giveClusterId(o, 'cluster1', 'istio-remote-secret-cluster2', 'kind-cluster2', form);
    });
    expect(findingKeys(runs)).toEqual([]);
  });

  it('a gateway meshNetworks names by registryServiceName is recognised, with the network meshNetworks gives', async () => {
    const { runs } = await runEdited((o) => {
      setMeshNetworks(o, REGISTRY_SERVICE_MESH_NETWORKS);
      delete objectNamed(o, 'cluster2', 'services', 'istio-eastwestgateway').metadata.labels!['topology.istio.io/network'];
    }, 'net-healthy');
    expect(findingRows(check, runs)).toEqual([]);
    const picture = runFor(runs, '*').data.topology as TopologyPicture;
    expect(picture.networks.find((n) => n.name === 'network2')!.clusters[0].gateways).toMatchObject([{ name: 'istio-eastwestgateway', recognised: true }]);
  });

  it('networkWithoutGateway when meshNetworks names a Service that does not exist', async () => {
    const { runs } = await runEdited((o) => {
      setMeshNetworks(o, REGISTRY_SERVICE_MESH_NETWORKS.replaceAll('istio-eastwestgateway.istio-system', 'cross-gw.istio-system'));
      const services = objectsOf(o, 'cluster2', 'services');
      services.splice(services.findIndex((s) => s.metadata.name === 'istio-eastwestgateway'), 1);
    }, 'net-healthy');
    expect(findingRows(check, runs)).toEqual(['network/topology networkWithoutGateway cluster2 error']);
  });

  it('podCidrOverlap: two clusters of one network with the same pod CIDR (warning)', async () => {
    const { runs } = await runEdited((o) => {
      const cluster3 = structuredClone(o.get('cluster1')!);
      o.set('cluster3', cluster3);
      for (const ns of cluster3.namespaces!) if (ns.metadata.name === 'istio-system') ns.metadata.labels!['topology.istio.io/network'] = 'network1';
      for (const d of cluster3.deployments!) for (const c of d.spec.template.spec.containers) for (const e of c.env ?? []) if (e.name === 'CLUSTER_ID') e.value = 'cluster3';
    });
    expect(findingKeys(runs)).toEqual(['cluster3:podCidrOverlap']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ cluster: 'cluster1', other: 'cluster3', cidr: '10.10.0.0/24' });
  });
});
