// Offline behaviour; the live probe is exercised by lab-faults.test.ts and test/cluster/remote-probe.test.ts.
import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/remote-api-access.ts';
import { openFixture, runCheck } from '../helpers.ts';

describe('control-plane/remote-api-access', () => {
  it('skips offline: a snapshot records no reachability', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runs.map((r) => r.skipped)).toEqual(['needs a live cluster: remote API servers are probed only live', 'needs a live cluster: remote API servers are probed only live']);
  });
});
