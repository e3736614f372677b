import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/remote-sync.ts';
import { findingKeys, fixtureObjects, memoryReaders, openFixture, runCheck, runErrors, runFor } from '../helpers.ts';
import { withIstiodDebug } from './edit.ts';

describe('control-plane/remote-sync', () => {
  it.each(['cp-multi-primary', 'cp-istio-1.20'])('passes on %s (1.22+ local entry, and 1.20 remotes only)', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('skips without captured clusterz, and on a remote', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(runFor(runs, 'cluster1').skipped).toMatch(/clusterz was not captured/);
    expect(runFor(runs, 'cluster2').skipped).toMatch(/no istiod/);
  });

  it('peerMissing: clusterz is null (no remotes) while cluster1 is a peer', async () => {
    const { runs } = await runCheck(check, (await openFixture('cp-no-remote-secret')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster2:peerMissing']);
    expect(runFor(runs, 'cluster2').findings[0]).toMatchObject({ resource: { kind: 'Pod', name: 'istiod-7c9d8e6f45-b9t4w' }, data: { peerId: 'cluster1' } });
  });

  it('peerNotSynced: timeout, syncing and closed are errors', async () => {
    const readers = memoryReaders(await fixtureObjects('multi-primary-healthy'));
    readers[0] = withIstiodDebug(readers[0], {
      clusterz: JSON.stringify([
        { id: 'cluster1', secretName: '', syncStatus: 'synced' },
        { id: 'cluster2', secretName: 'istio-system/istio-remote-secret-cluster2', syncStatus: 'timeout' },
        { id: 'cluster3', secretName: 'istio-system/istio-remote-secret-cluster3', syncStatus: 'closed' },
      ]),
    });
    const { runs } = await runCheck(check, readers);
    expect(runFor(runs, 'cluster1').findings.map((f) => `${f.messageId} ${f.data?.peerId} ${f.data?.status} ${f.severity}`).sort()).toEqual([
      'peerNotSynced cluster2 timeout error',
      'peerNotSynced cluster3 closed error',
    ]);
  });

  it('an unknown clusterz shape is an error of the check, not a finding', async () => {
    const readers = memoryReaders(await fixtureObjects('multi-primary-healthy'));
    readers[0] = withIstiodDebug(readers[0], { clusterz: '{"clusters": {}}' });
    expect(runErrors((await runCheck(check, readers)).runs)).toEqual([expect.stringMatching(/^cluster1: .*unknown \/debug\/clusterz format/)]);
  });

  it('skips clusters of unknown role', () => {
    expect(check.appliesTo!({ name: 'c', role: 'unknown', revisions: [], reachable: true, via: 'snapshot' }, { model: 'unknown', multiNetwork: false })).toMatch(/role unknown/);
  });
});
