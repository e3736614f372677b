// Each cluster's Istio namespace is discovered (issue 18): on the istio.io external control plane
// layout (the external istiod and the remotes' remote profile in external-istiod, no istio-system;
// istio.io external-controlplane snips.sh at 005b9da) every built-in check gives the same verdicts
// with the default --istio-namespace as with --istio-namespace external-istiod, and none of them an
// error or a warning.
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { openFixture, runCheck } from './helpers.ts';

const FIXTURE = 'external-control-plane-healthy';

async function verdicts(istioNamespace: string): Promise<string[]> {
  const out: string[] = [];
  for (const check of BUILTIN_CHECKS) {
    const { runs } = await runCheck(check, (await openFixture(FIXTURE)).clusters, { istioNamespace });
    for (const run of runs) {
      out.push(`${check.id} [${run.cluster}] ${run.outcome}`);
      for (const f of run.findings) out.push(`${check.id} [${run.cluster}] ${f.messageId} ${f.severity}`);
    }
  }
  return out.sort();
}

describe('the per-cluster Istio namespace on the external control plane guide\'s layout', () => {
  it('gives every check the same verdicts without --istio-namespace as with --istio-namespace external-istiod, none an error or a warning', async () => {
    const given = await verdicts('external-istiod');
    const found = await verdicts('istio-system');
    expect(found).toEqual(given);
    expect(found.filter((v) => / (error|warning)$/.test(v) || / (fail|warn|error)$/.test(v))).toEqual([]);
    // Not all skipped: the remote's checks read its Istio objects in external-istiod.
    expect(found).toEqual(expect.arrayContaining(['control-plane/primary-remote [cluster2] pass', 'network/topology [*] pass', 'control-plane/cluster-ids [*] pass']));
  }, 120_000);
});
