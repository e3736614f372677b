import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/version-skew.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';

type Objects = Awaited<ReturnType<typeof fixtureObjects>>;
const setIstiodVersion = (objects: Objects, cluster: string, version: string) => {
  objectNamed(objects, cluster, 'deployments', 'istiod').spec.template.spec.containers[0].image = `docker.io/istio/pilot:${version}`;
};
const sidecarPod = (name: string, version: string, native = false): KubeObject => {
  const proxy = { name: 'istio-proxy', image: `docker.io/istio/proxyv2:${version}` };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'sample', annotations: { 'sidecar.istio.io/status': JSON.stringify({ revision: 'default' }) } },
    spec: native ? { initContainers: [{ ...proxy, restartPolicy: 'Always' }], containers: [{ name: 'app', image: 'app:1' }] } : { containers: [{ name: 'app', image: 'app:1' }, proxy] },
    status: { phase: 'Running' },
  };
};

describe('control-plane/version-skew', () => {
  it('passes on multi-primary-healthy and attaches the versions it saw', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, '*').data.versions).toEqual({
      controlPlanes: [
        { cluster: 'cluster1', revision: 'default', version: '1.31.0' },
        { cluster: 'cluster2', revision: 'default', version: '1.31.0' },
      ],
      proxies: [
        { cluster: 'cluster1', revision: 'default', version: '1.31.0', count: 1, controlPlane: 'cluster1/default', controlPlaneVersion: '1.31.0' },
        { cluster: 'cluster2', revision: 'default', version: '1.31.0', count: 1, controlPlane: 'cluster2/default', controlPlaneVersion: '1.31.0' },
      ],
    });
  });

  it('a remote\'s proxies are served by the primary (primary-remote-healthy passes)', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    const proxies = (runFor(runs, '*').data.versions as { proxies: { cluster: string; controlPlane?: string }[] }).proxies;
    expect(proxies.find((p) => p.cluster === 'cluster2')?.controlPlane).toBe('cluster1/default');
  });

  it('istiodSkew: two minors apart, reported on the older control plane; one minor is fine', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    setIstiodVersion(objects, 'cluster2', '1.30.3');
    // cluster2's gateway proxy (1.31.0) is now ahead of its istiod: that is the only finding.
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual(['cluster2:proxyNewer']);
    setIstiodVersion(objects, 'cluster2', '1.29.1');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toContain('cluster2:istiodSkew');
    expect(runFor(runs, '*').findings.find((f) => f.messageId === 'istiodSkew')!.data).toMatchObject({ version: '1.29.1', newest: '1.31.0' });
  });

  it('proxyTooOld and proxyNewer against the proxies\' own istiod (native sidecars included)', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    objectsOf(objects, 'cluster1', 'pods').push(sidecarPod('old-1', '1.29.0'), sidecarPod('old-2', '1.29.0', true), sidecarPod('ok', '1.30.2'), sidecarPod('new', '1.32.0'));
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(runFor(runs, '*').findings.map((f) => [f.cluster, f.messageId, f.data?.count, f.data?.version])).toEqual([
      ['cluster1', 'proxyNewer', 1, '1.32.0'],
      ['cluster1', 'proxyTooOld', 2, '1.29.0'],
    ]);
  });
});
