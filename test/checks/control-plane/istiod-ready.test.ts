import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/istiod-ready.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';

describe('control-plane/istiod-ready', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('istiod-not-ready: the crash-looping pod and the unavailable Deployment on cluster1 only', async () => {
    const { runs } = await runCheck(check, (await openFixture('istiod-not-ready')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster1:istiodPodNotReady', 'cluster1:istiodUnavailable']);
    const notReady = runFor(runs, 'cluster1').findings.find((f) => f.messageId === 'istiodPodNotReady')!;
    expect(notReady.resource).toEqual({ kind: 'Pod', namespace: 'istio-system', name: 'istiod-6d8f7c9b54-x7k2p' });
    expect(notReady.data).toMatchObject({ reason: 'container discovery: CrashLoopBackOff', restarts: 7, revision: 'default' });
  });

  it('istiodMissing: a cluster with neither istiod nor a control plane elsewhere', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const deployments = objectsOf(objects, 'cluster2', 'deployments');
    deployments.splice(deployments.findIndex((d) => d.metadata.name === 'istiod'), 1);
    const { runs, clusters } = await runCheck(check, memoryReaders(objects));
    expect(clusters[1].role).toBe('unknown');
    expect(findingKeys(runs)).toEqual(['cluster2:istiodMissing']);
  });

  it('istiodRestarting: a Ready istiod that restarted 3 times or more is a warning', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const status = objectNamed(objects, 'cluster2', 'pods', 'istiod-7c9d8e6f45-b9t4w').status;
    status.containerStatuses[0].restartCount = 4;
    status.containerStatuses[0].lastState = { terminated: { reason: 'OOMKilled', exitCode: 137 } };
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:istiodRestarting']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ restarts: 4, lastReason: 'OOMKilled' });
  });

  it('istiodUnavailable: a Deployment scaled to zero', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const istiod = objectNamed(objects, 'cluster1', 'deployments', 'istiod');
    istiod.spec.replicas = 0;
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:istiodUnavailable']);
  });

  it('the remote of a primary-remote mesh passes without istiod (not skipped)', async () => {
    const { runs, clusters } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(clusters[1].role).toBe('remote');
    expect(runFor(runs, 'cluster2').findings).toEqual([]);
    expect(runFor(runs, 'cluster2').skipped).toBeUndefined();
  });
});
