import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/known-issues.ts';
import { explainText } from '../../../src/cli/catalog.ts';
import { KNOWN_MULTICLUSTER_ISSUES } from '../../../src/mesh/known-multicluster-issues.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, openFixture, runCheck, runFor } from '../helpers.ts';

type Objects = Awaited<ReturnType<typeof fixtureObjects>>;
const setIstiodVersion = (objects: Objects, cluster: string, version: string) => {
  objectNamed(objects, cluster, 'deployments', 'istiod').spec.template.spec.containers[0].image = `docker.io/istio/pilot:${version}`;
};
const issues = (runs: Awaited<ReturnType<typeof runCheck>>['runs']) => runFor(runs, '*').findings.map((f) => [f.cluster, f.messageId, f.data?.issue]);

describe('control-plane/known-issues', () => {
  it('passes on multi-primary-healthy (1.31.0, no row affects it)', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, '*').skipped).toBeUndefined();
  });

  it('knownIssue: a 1.29.x istiod has istio#60082, on its cluster only', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    setIstiodVersion(objects, 'cluster2', '1.29.4');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(issues(runs)).toEqual([['cluster2', 'knownIssue', 60082]]);
    expect(runFor(runs, '*').findings[0].resource).toMatchObject({ kind: 'Deployment', name: 'istiod' });
  });

  it('knownIssue: one finding per row for 1.30.1, none for 1.30.3\'s fixed #60612', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    setIstiodVersion(objects, 'cluster1', '1.30.1');
    setIstiodVersion(objects, 'cluster2', '1.30.3');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(issues(runs).sort()).toEqual([
      ['cluster1', 'knownIssue', 60612],
      ['cluster1', 'knownIssue', 60920],
      ['cluster1', 'knownIssue', 61043],
      ['cluster2', 'knownIssue', 60920],
      ['cluster2', 'knownIssue', 61043],
    ]);
  });

  it('reads an external istiod in its own namespace (external-istiod), not --istio-namespace', async () => {
    const healthy = await runCheck(check, (await openFixture('external-control-plane-healthy')).clusters);
    expect(findingKeys(healthy.runs)).toEqual([]);
    expect(runFor(healthy.runs, '*').skipped).toBeUndefined();
    const objects = await fixtureObjects('external-control-plane-healthy');
    setIstiodVersion(objects, 'cluster1', '1.29.4');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(issues(runs)).toEqual([['cluster1', 'knownIssue', 60082]]);
    expect(runFor(runs, '*').findings[0].resource).toMatchObject({ kind: 'Deployment', namespace: 'external-istiod', name: 'istiod' });
  });

  it('ambient-only rows need the ambient data plane in the mesh', async () => {
    const sidecar = await fixtureObjects('multi-primary-healthy');
    setIstiodVersion(sidecar, 'cluster1', '1.28.1');
    expect(issues((await runCheck(check, memoryReaders(sidecar))).runs)).toEqual([]);
    const ambient = await fixtureObjects('ambient-multi-network');
    setIstiodVersion(ambient, 'cluster1', '1.28.1');
    expect(issues((await runCheck(check, memoryReaders(ambient))).runs)).toEqual([['cluster1', 'knownIssue', 58047]]);
  });

  it('skips when no istiod version can be read, never passes', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    for (const cluster of ['cluster1', 'cluster2']) objectNamed(objects, cluster, 'deployments', 'istiod').spec.template.spec.containers[0].image = 'docker.io/istio/pilot@sha256:0123';
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(runFor(runs, '*').skipped).toMatch(/no istiod Deployment/);
  });

  it('explain lists every row with its issue link', () => {
    const text = explainText(check);
    for (const row of KNOWN_MULTICLUSTER_ISSUES) expect(text).toContain(`https://github.com/istio/istio/issues/${row.issue}`);
  });
});
