import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/cluster-ids.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, openFixture, runCheck, runFor } from '../helpers.ts';
import { findingRows } from './edit.ts';

type Objects = Awaited<ReturnType<typeof fixtureObjects>>;
const istiodEnv = (objects: Objects, cluster: string) => objectNamed(objects, cluster, 'deployments', 'istiod').spec.template.spec.containers[0].env as { name: string; value?: string }[];
const setClusterId = (objects: Objects, cluster: string, id: string | undefined) => {
  const env = istiodEnv(objects, cluster);
  const index = env.findIndex((e) => e.name === 'CLUSTER_ID');
  if (id === undefined) env.splice(index, 1);
  else env[index].value = id;
};
const setInjectorClusterName = (objects: Objects, cluster: string, id: string) => {
  const cm = objectNamed(objects, cluster, 'configmaps', 'istio-sidecar-injector');
  const values = JSON.parse(cm.data.values);
  values.global.multiCluster = { ...(values.global.multiCluster ?? {}), clusterName: id };
  cm.data.values = JSON.stringify(values);
};

describe('control-plane/cluster-ids', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy', 'cp-istio-1.20'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs[0].skipped).toBeUndefined();
  });

  it('clusterIdDuplicate: reported on the cluster not named like the id', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    setClusterId(objects, 'cluster2', 'cluster1');
    setInjectorClusterName(objects, 'cluster2', 'cluster1');
    const { runs } = await runCheck(check, memoryReaders(objects));
    // The webhook path still says cluster2: that inconsistency is reported too.
    expect(findingKeys(runs)).toEqual(['cluster2:clusterIdDuplicate', 'cluster2:clusterIdInconsistent']);
    expect(runFor(runs, '*').findings.find((f) => f.messageId === 'clusterIdDuplicate')!.data).toMatchObject({ clusterId: 'cluster1', others: 'cluster1' });
  });

  it('clusterIdUnset: istiod without CLUSTER_ID runs as "Kubernetes"', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    setClusterId(objects, 'cluster1', undefined);
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:clusterIdUnset']);
  });

  it('clusterIdDefault: CLUSTER_ID set to Kubernetes', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    setClusterId(objects, 'cluster2', 'Kubernetes');
    setInjectorClusterName(objects, 'cluster2', 'Kubernetes');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:clusterIdDefault']);
  });

  it('clusterIdInconsistent: the injector gives proxies another id than istiod uses', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    setInjectorClusterName(objects, 'cluster2', 'west');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:clusterIdInconsistent']);
  });

  it('clusterIdFromValueFrom (info): CLUSTER_ID set through valueFrom is neither unset nor the default', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const env = istiodEnv(objects, 'cluster1') as { name: string; value?: string; valueFrom?: unknown }[];
    const entry = env.find((e) => e.name === 'CLUSTER_ID')!;
    delete entry.value;
    entry.valueFrom = { configMapKeyRef: { name: 'cluster-identity', key: 'id' } };
    const cm = objectNamed(objects, 'cluster1', 'configmaps', 'istio-sidecar-injector');
    const values = JSON.parse(cm.data.values);
    delete values.global.multiCluster.clusterName;
    cm.data.values = JSON.stringify(values);
    for (const webhook of objectNamed(objects, 'cluster1', 'mutatingwebhookconfigurations', 'istio-sidecar-injector').webhooks) {
      if (webhook.clientConfig?.service) webhook.clientConfig.service.path = '/inject';
    }
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingRows(check, runs)).toEqual(['control-plane/cluster-ids cluster1 clusterIdFromValueFrom info']);
  });

  it('external control plane: the external istiod carries the config cluster\'s id, which is no duplicate', async () => {
    const { runs, clusters } = await runCheck(check, (await openFixture('external-control-plane-healthy')).clusters, { istioNamespace: 'external-istiod' });
    expect(clusters.map((c) => c.clusterId)).toEqual(['cluster2', 'cluster2']);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs[0].outcome).toBe('pass');
  });
});
