import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/root-distribution.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';
import { setIstioVersion } from './ca-material.ts';

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

  it('skips when istiod 1.27+ refuses a cacerts without ca-key.pem (no root to compare with), on the remotes it serves too', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    delete objectNamed(objects, 'cluster2', 'secrets', 'cacerts').data['ca-key.pem'];
    // A stale ConfigMap the check would otherwise judge against the refused root.
    objectsOf(objects, 'cluster2', 'configmaps').find((c) => c.metadata.namespace === 'sample' && c.metadata.name === 'istio-ca-root-cert')!.data['root-cert.pem'] = 'stale';
    setIstioVersion(objects, 'cluster2', '1.27.1');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, 'cluster1').skipped).toBeUndefined();
    expect(runFor(runs, 'cluster2').skipped).toMatch(/cacerts.*ca-key\.pem.*1\.27\.1.*certificates\/cacerts/);

    const remote = await fixtureObjects('primary-remote-healthy');
    delete objectNamed(remote, 'cluster1', 'secrets', 'cacerts').data['ca-key.pem'];
    setIstioVersion(remote, 'cluster1', '1.28.0');
    const remoteRuns = (await runCheck(check, memoryReaders(remote))).runs;
    expect(remoteRuns.map((r) => r.skipped)).toEqual([expect.stringContaining('cluster cluster1 lacks ca-key.pem'), expect.stringContaining('cluster cluster1 lacks ca-key.pem')]);
  });

  it('does not skip for a cacerts without ca-key.pem before 1.27 (istiod ignores it and runs its own CA)', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    delete objectNamed(objects, 'cluster2', 'secrets', 'cacerts').data['ca-key.pem'];
    setIstioVersion(objects, 'cluster2', '1.26.3');
    const { runs, clusters } = await runCheck(check, memoryReaders(objects));
    expect(clusters[1].istioVersion).toBe('1.26.3');
    expect(runFor(runs, 'cluster2').skipped ?? '').not.toContain('ca-key.pem');
  });
});
