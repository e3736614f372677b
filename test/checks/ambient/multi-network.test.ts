import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/ambient/multi-network.ts';
import { findingKeys, objectNamed, openFixture, runCheck, runFor } from '../helpers.ts';
import { ambientObjects, ambientReaders } from './ambient-mesh.ts';

function env(container: { env: { name: string; value: string }[] }, name: string, value: string | undefined): void {
  container.env = container.env.filter((e) => e.name !== name);
  if (value !== undefined) container.env.push({ name, value });
}

describe('ambient/multi-network', () => {
  it('passes on the healthy ambient mesh', async () => {
    const { runs, clusters } = await runCheck(check, await ambientReaders(await ambientObjects()));
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.map((r) => r.outcome)).toEqual(['pass', 'pass']);
    expect(clusters.map((c) => c.dataPlane?.mode)).toEqual(['ambient', 'ambient']);
  });

  it('skips a sidecar-only mesh with the reason', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runs.map((r) => r.outcome)).toEqual(['skip', 'skip']);
    expect(runs[0].skipped).toMatch(/no cluster runs the ambient data plane/);
  });

  it('multiNetworkOff and ambientOff on the istiod that lacks them (ambient-multi-network-off)', async () => {
    const objects = await ambientObjects();
    const discovery = (cluster: string) => objectNamed(objects, cluster, 'deployments', 'istiod').spec.template.spec.containers[0];
    env(discovery('cluster1'), 'AMBIENT_ENABLE_MULTI_NETWORK', undefined);
    env(discovery('cluster2'), 'PILOT_ENABLE_AMBIENT', 'false');
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:multiNetworkOff', 'cluster2:ambientOff']);
  });

  it('versionTooOld before 1.27', async () => {
    const objects = await ambientObjects();
    const container = objectNamed(objects, 'cluster1', 'deployments', 'istiod').spec.template.spec.containers[0];
    container.image = container.image.replace(/:[^:]+$/, ':1.26.3');
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:versionTooOld']);
  });

  it('ztunnelClusterIdMismatch for a ztunnel left at Kubernetes, ztunnelNetworkMismatch for one without NETWORK (ztunnel-cluster-id-default)', async () => {
    const objects = await ambientObjects();
    const zt = (cluster: string) => objectNamed(objects, cluster, 'daemonsets', 'ztunnel').spec.template.spec.containers[0];
    env(zt('cluster1'), 'ISTIO_META_CLUSTER_ID', undefined);
    env(zt('cluster2'), 'NETWORK', undefined);
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:ztunnelClusterIdMismatch', 'cluster2:ztunnelNetworkMismatch']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ ztunnelId: 'Kubernetes', clusterId: 'cluster1' });
  });

  it('ztunnelNotReady and ztunnelMissing', async () => {
    const objects = await ambientObjects();
    const pod = objects.get('cluster1')!.pods!.find((p) => p.metadata.labels?.app === 'ztunnel')!;
    pod.status.conditions = [{ type: 'Ready', status: 'False' }];
    pod.status.containerStatuses[0].ready = false;
    objects.get('cluster2')!.daemonsets = [];
    objects.get('cluster2')!.pods = objects.get('cluster2')!.pods!.filter((p) => p.metadata.labels?.app !== 'ztunnel');
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:ztunnelNotReady', 'cluster2:ztunnelMissing']);
  });

  it('singleNetwork when both clusters are on one network', async () => {
    const objects = await ambientObjects();
    objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.labels!['topology.istio.io/network'] = 'network1';
    const zt = objectNamed(objects, 'cluster2', 'daemonsets', 'ztunnel').spec.template.spec.containers[0];
    env(zt, 'NETWORK', 'network1');
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:singleNetwork', 'cluster2:singleNetwork']);
  });

  it('remoteTopology in a primary-remote mesh', async () => {
    const objects = await ambientObjects();
    objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.annotations = { 'topology.istio.io/controlPlaneClusters': 'cluster1' };
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toContain('cluster2:remoteTopology');
  });

  it('a mixed mesh: sample sidecar in cluster2, ambient in cluster1 on another network gives sidecarAmbientAcrossNetworks on cluster2 only', async () => {
    const objects = await ambientObjects();
    const sample = objectNamed(objects, 'cluster2', 'namespaces', 'sample');
    delete sample.metadata.labels!['istio.io/dataplane-mode'];
    sample.metadata.labels!['istio-injection'] = 'enabled';
    objects.get('cluster2')!.daemonsets = [];
    objects.get('cluster2')!.pods = objects.get('cluster2')!.pods!.filter((p) => p.metadata.labels?.app !== 'ztunnel');
    const { runs, clusters } = await runCheck(check, await ambientReaders(objects));
    expect(clusters.map((c) => c.dataPlane?.mode)).toEqual(['ambient', 'sidecar']);
    expect(findingKeys(runs)).toEqual(['cluster2:sidecarAmbientAcrossNetworks']);
    expect(runFor(runs, 'cluster1').outcome).toBe('pass');
  });
});
