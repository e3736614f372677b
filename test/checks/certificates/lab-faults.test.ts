// Every lab fault CHECKS.md names for a certificates check fails that check on the faulted cluster,
// and the healthy labs give no error finding from any certificates check. One lab run per fault
// serves all six checks.
import { describe, expect, it } from 'vitest';
import { brokenProbes, runChecksOnLab, type LabRun } from '../../helpers/lab-run.ts';

const CATEGORY = 'certificates';

/** `checkId [cluster] messageId` of every finding of the category at `severity` or worse. */
function keys(run: LabRun, severities: string[] = ['error']): string[] {
  const found = run.results.filter((r) => r.category === CATEGORY).flatMap((r) => r.findings.filter((f) => severities.includes(f.severity)));
  return [...new Set(found.map((f) => `${f.checkId} [${f.cluster}] ${f.messageId}`))].sort();
}

describe('certificates checks on the lab', () => {
  it.each(['multi-primary', 'multi-primary-single-network', 'primary-remote'])('%s (healthy): no error finding, no broken probe', async (scenario) => {
    const run = await runChecksOnLab({ scenario }, { only: [CATEGORY] });
    expect(keys(run, ['error', 'warning'])).toEqual([]);
    expect(brokenProbes(run)).toEqual([]);
    // The workload check really sampled sidecars (live /certs), it did not skip.
    expect(run.results.filter((r) => r.checkId === 'certificates/workload').map((r) => r.outcome)).toContain('pass');
  });

  it.each([
    ['cacerts-missing', ['certificates/cacerts [cluster2] cacertsMissing', 'certificates/shared-root [cluster2] rootMismatch']],
    ['cacerts-incomplete', ['certificates/cacerts [cluster2] cacertsIncomplete']],
    ['root-mismatch', ['certificates/shared-root [cluster2] rootMismatch', 'certificates/workload [cluster2] workloadRootNotShared']],
    ['ca-key-mismatch', ['certificates/chain [cluster2] caKeyMismatch']],
    ['not-a-ca', ['certificates/chain [cluster2] notACa']],
    ['chain-wrong-order', ['certificates/chain [cluster2] chainWrongOrder']],
    ['intermediate-expired', ['certificates/expiry [cluster2] certExpired']],
    ['stale-root-configmap', ['certificates/root-distribution [cluster2] rootConfigMapStale']],
    ['trust-domain-mismatch', ['certificates/workload [cluster2] workloadTrustDomainMismatch']],
  ])('%s fails the right check on cluster2', async (fault, expected) => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: [`${fault}:cluster2`] }, { only: [CATEGORY] });
    const errors = keys(run);
    for (const key of expected) expect(errors).toContain(key);
    // Nothing is blamed on the healthy cluster.
    expect(errors.filter((k) => k.includes('[cluster1]'))).toEqual([]);
    expect(brokenProbes(run)).toEqual([]);
  });

  it('intermediate-expiring warns on cluster2', async () => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: ['intermediate-expiring:cluster2'] }, { only: [CATEGORY] });
    expect(keys(run, ['error', 'warning'])).toEqual(['certificates/expiry [cluster2] certExpiring']);
  });
});
