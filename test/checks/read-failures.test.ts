// Errors never become "no objects" (issue 10 §4) and a mesh-wide check never passes on what it could
// not read (issue 11.1). Per failure class of one cluster's list: a 500 or a timeout makes the check
// error (the error result carries the reason); 403 and 404 mean "absent", so the cluster is left out and
// the check, finding nothing, is skipped with the reason instead of passing.
import { describe, expect, it } from 'vitest';
import type { AccessErrorReason, ResourceKindName } from '../../src/cluster/types.ts';
import type { Check } from '../../src/engine/types.ts';
import clusterIds from '../../src/checks/control-plane/cluster-ids.ts';
import versionSkew from '../../src/checks/control-plane/version-skew.ts';
import meshConfig from '../../src/checks/control-plane/mesh-config.ts';
import topology from '../../src/checks/network/topology.ts';
import sharedRoot from '../../src/checks/certificates/shared-root.ts';
import consistency from '../../src/checks/services/consistency.ts';
import namespaceSameness from '../../src/checks/services/namespace-sameness.ts';
import { findingKeys, fixtureObjects, memoryReaders, openFixture, runCheck, runErrors, runFor } from './helpers.ts';

const FIXTURE = 'multi-primary-healthy';

/** Mesh-scope checks and a kind each reads from every cluster. */
const READS: [string, ResourceKindName, Check][] = (
  [
    [clusterIds, 'deployments'],
    [versionSkew, 'deployments'],
    [versionSkew, 'pods'],
    [meshConfig, 'configmaps'],
    [topology, 'services'],
    [topology, 'namespaces'],
  ] as const
).map(([check, kind]) => [check.id, kind, check]);
const MESH_CHECKS = [clusterIds, versionSkew, meshConfig, topology, sharedRoot, consistency, namespaceSameness].map((check) => [check.id, check] as const);

async function runWithFailing(check: Check, kind: ResourceKindName, reason: AccessErrorReason) {
  const readers = memoryReaders(await fixtureObjects(FIXTURE), { cluster2: { failing: { [kind]: reason } } });
  return runCheck(check, readers);
}

describe('a failed list is never "no objects"', () => {
  it.each(READS)('%s passes on the healthy fixture (the baseline the cases below differ from)', async (_id, _kind, check) => {
    const { runs } = await runCheck(check, (await openFixture(FIXTURE)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, '*').skipped).toBeUndefined();
  });

  describe.each(READS)('%s reading %s', (_id, kind, check) => {
    it.each(['bad-response', 'timeout'] as const)('%s on cluster2: the check errors with the reason', async (reason) => {
      const { runs } = await runWithFailing(check, kind, reason);
      expect(findingKeys(runs)).toEqual([]);
      expect(runErrors(runs)).toEqual([expect.stringContaining(`*: ${reason}: cannot list ${kind}`)]);
    });

    it.each(['forbidden', 'not-found'] as const)('%s on cluster2: no finding, skipped naming cluster2 and why', async (reason) => {
      const { runs } = await runWithFailing(check, kind, reason);
      expect(findingKeys(runs)).toEqual([]);
      expect(runFor(runs, '*').skipped).toContain(`cluster2 (${reason}: cannot list ${kind}`);
    });
  });
});

describe('a mesh-scope check does not pass when a cluster is unreachable', () => {
  it.each(MESH_CHECKS)('%s', async (_id, check) => {
    const readers = memoryReaders(await fixtureObjects(FIXTURE), { cluster2: { failAll: 'unreachable' } });
    const { runs, clusters } = await runCheck(check, readers);
    expect(clusters.find((c) => c.name === 'cluster2')?.reachable).toBe(false);
    expect(findingKeys(runs)).toEqual([]);
    const run = runFor(runs, '*');
    // What the user gets: an unanswered cluster is an outage (error, exit 3); a check that compares
    // clusters and had only one to read says so.
    if (run.outcome === 'skip') expect(run.skipped).toBe('fewer than two readable clusters');
    else expect(run).toMatchObject({ outcome: 'error', error: expect.stringMatching(/not everything answered: cluster2 \(unreachable/) });
  });
});
