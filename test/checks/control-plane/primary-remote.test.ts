import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/primary-remote.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';
import { findingRows } from './edit.ts';

describe('control-plane/primary-remote', () => {
  it('passes on primary-remote-healthy (EndpointSlice form) and skips multi-primary', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
    const multi = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    // Primaries of a multi-primary mesh are looked at (it may have remotes too), then skipped: no remote uses them.
    expect(multi.runs.every((r) => r.skipped === 'no remote cluster of the run uses this primary as its control plane')).toBe(true);
  });

  it('passes with Endpoints (up to 1.27) instead of an EndpointSlice', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    const cluster2 = objects.get('cluster2')!;
    delete cluster2.endpointslices;
    cluster2.endpoints = [
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'istiod', namespace: 'istio-system' },
        subsets: [{ addresses: [{ ip: '172.18.1.10' }], ports: [{ name: 'tcp-istiod', port: 15012 }, { name: 'tcp-webhook', port: 15017 }] }],
      },
    ];
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual([]);
  });

  it('annotationMissing and annotationUnknownPrimary', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    const ns = objectNamed(objects, 'cluster2', 'namespaces', 'istio-system');
    ns.metadata.annotations!['topology.istio.io/controlPlaneClusters'] = 'cluster9';
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual(['cluster2:annotationUnknownPrimary']);
    delete ns.metadata.annotations!['topology.istio.io/controlPlaneClusters'];
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual(['cluster2:annotationMissing']);
  });

  it('istiodEndpointsWrong, istiodEndpointsPorts and istiodEndpointsMissing', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    const slice = objectsOf(objects, 'cluster2', 'endpointslices')[0];
    slice.endpoints[0].addresses = ['198.51.100.7'];
    slice.ports = slice.ports.filter((p: { port: number }) => p.port !== 15017);
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:istiodEndpointsPorts', 'cluster2:istiodEndpointsWrong']);
    expect(runFor(runs, 'cluster2').findings.find((f) => f.messageId === 'istiodEndpointsWrong')!.data).toMatchObject({ addresses: '198.51.100.7', expected: '172.18.1.10' });
    objects.get('cluster2')!.endpointslices = [];
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual(['cluster2:istiodEndpointsMissing']);
  });

  it('webhookPathWrong: the injection path does not carry the remote\'s id and network', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    const webhook = objectsOf(objects, 'cluster2', 'mutatingwebhookconfigurations')[0];
    webhook.webhooks[0].clientConfig.service.path = '/inject';
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:webhookPathWrong']);
  });

  it('externalIstiodOff: the primary of a remote runs without EXTERNAL_ISTIOD=true', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    const env = objectNamed(objects, 'cluster1', 'deployments', 'istiod').spec.template.spec.containers[0].env as { name: string; value?: string }[];
    env.find((e) => e.name === 'EXTERNAL_ISTIOD')!.value = 'false';
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:externalIstiodOff']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ remotes: 'cluster2' });
  });

  it('a revisioned remote (istiod-<rev> Service and EndpointSlice) is checked: istiodEndpointsWrong', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    objectNamed(objects, 'cluster2', 'services', 'istiod').metadata.name = 'istiod-1-22-3';
    for (const slice of objectsOf(objects, 'cluster2', 'endpointslices')) {
      if (slice.metadata.labels?.['kubernetes.io/service-name'] !== 'istiod') continue;
      slice.metadata.labels['kubernetes.io/service-name'] = 'istiod-1-22-3';
      for (const ep of slice.endpoints) ep.addresses = ['10.9.9.9'];
    }
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingRows(check, runs)).toEqual(['control-plane/primary-remote cluster2 istiodEndpointsWrong error']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ service: 'istiod-1-22-3', addresses: '10.9.9.9' });
  });

  it('two primaries plus a remote: the primary the remote uses must run EXTERNAL_ISTIOD (externalIstiodOff)', async () => {
    const multi = await fixtureObjects('multi-primary-healthy');
    const remote = (await fixtureObjects('primary-remote-healthy')).get('cluster2')!;
    const objects = new Map([...multi, ['cluster3', remote]]);
    const { runs, mesh } = await runCheck(check, memoryReaders(objects));
    expect(mesh.model).toBe('multi-primary');
    expect(findingRows(check, runs)).toEqual(['control-plane/primary-remote cluster1 externalIstiodOff error']);
    expect(runFor(runs, 'cluster2').skipped).toMatch(/no remote cluster/);
  });

  describe('external control plane', () => {
    const EXTERNAL = 'external-control-plane-healthy';
    const NS = { istioNamespace: 'external-istiod' };
    const webhookOf = (objects: Awaited<ReturnType<typeof fixtureObjects>>) => objectNamed(objects, 'cluster2', 'mutatingwebhookconfigurations', 'istio-sidecar-injector-external-istiod');

    it('passes: the config cluster needs no controlPlaneClusters annotation, its webhook URL calls the exposed istiod', async () => {
      const { runs } = await runCheck(check, (await openFixture(EXTERNAL)).clusters, NS);
      expect(findingKeys(runs)).toEqual([]);
      expect(runs.map((r) => r.outcome)).toEqual(['pass', 'pass']);
    });

    it('webhookUrlUnreachable: the injector URL names an address where the external istiod is not exposed', async () => {
      const objects = await fixtureObjects(EXTERNAL);
      webhookOf(objects).webhooks[0].clientConfig.url = 'https://198.51.100.7:15017/inject/cluster/cluster2/net/network1';
      const { runs } = await runCheck(check, memoryReaders(objects), NS);
      expect(findingRows(check, runs)).toEqual(['control-plane/primary-remote cluster2 webhookUrlUnreachable error']);
      expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ host: '198.51.100.7', controlPlane: 'cluster1', expected: '172.18.1.20' });
    });

    it('externalIstiodOff: the external istiod runs without EXTERNAL_ISTIOD (still recognised by the webhook calling it)', async () => {
      const objects = await fixtureObjects(EXTERNAL);
      const container = objectNamed(objects, 'cluster1', 'deployments', 'istiod').spec.template.spec.containers[0];
      container.env = (container.env as { name: string }[]).filter((e) => e.name !== 'EXTERNAL_ISTIOD');
      const { runs, clusters } = await runCheck(check, memoryReaders(objects), NS);
      expect(clusters.map((c) => c.role)).toEqual(['external-control-plane', 'config']);
      expect(findingRows(check, runs)).toEqual(['control-plane/primary-remote cluster1 externalIstiodOff error']);
    });
  });
});
