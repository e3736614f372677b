import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/root-distribution.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';

describe('certificates/root-distribution', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy', 'secrets-forbidden'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('rootConfigMapMissing: an injected namespace without the ConfigMap', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    objects.get('cluster1')!.configmaps = objectsOf(objects, 'cluster1', 'configmaps').filter((c) => !(c.metadata.namespace === 'sample' && c.metadata.name === 'istio-ca-root-cert'));
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:rootConfigMapMissing']);
    expect(runFor(runs, 'cluster1').findings[0].resource).toEqual({ kind: 'Namespace', name: 'sample' });
  });

  it('remoteRootConfigMapMissing: the primary does not write into the remote', async () => {
    const objects = await fixtureObjects('primary-remote-healthy');
    objects.get('cluster2')!.configmaps = objectsOf(objects, 'cluster2', 'configmaps').filter((c) => c.metadata.name !== 'istio-ca-root-cert');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:remoteRootConfigMapMissing', 'cluster2:remoteRootConfigMapMissing']);
    expect(runFor(runs, 'cluster2').findings[0].data?.controlPlane).toBe('cluster1');
  });

  it('rootConfigMapStale: sample holds another root', async () => {
    const stale = await fixtureObjects('root-mismatch');
    const staleRoot = objectsOf(stale, 'cluster2', 'configmaps').find((c) => c.metadata.name === 'istio-ca-root-cert')!.data['root-cert.pem'];
    const objects = await fixtureObjects('multi-primary-healthy');
    objectsOf(objects, 'cluster2', 'configmaps').find((c) => c.metadata.namespace === 'sample' && c.metadata.name === 'istio-ca-root-cert')!.data['root-cert.pem'] = staleRoot;
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:rootConfigMapStale']);
    expect(runFor(runs, 'cluster2').findings[0].resource).toEqual({ kind: 'ConfigMap', namespace: 'sample', name: 'istio-ca-root-cert' });
  });
});
