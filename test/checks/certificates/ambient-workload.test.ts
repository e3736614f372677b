// certificates/workload on an ambient mesh: no sidecar holds a workload certificate, ztunnel does,
// for each identity of its node's pods (its /config_dump certificates). The check reads them there
// and judges them as a sidecar's: a pass on the healthy lab, the faults' findings otherwise.
import { describe, expect, it } from 'vitest';
import { brokenProbes, resultOf, runChecksOnLab } from '../../helpers/lab-run.ts';

const SCENARIO = 'ambient-multi-network';
const ID = 'certificates/workload';

const findingsOf = (run: Awaited<ReturnType<typeof runChecksOnLab>>) =>
  [...new Set(run.results.filter((r) => r.checkId === ID).flatMap((r) => r.findings.map((f) => `${f.cluster}:${f.messageId}`)))].sort();

describe('certificates/workload on the ambient lab', () => {
  it('healthy: judges the certificates ztunnel holds and passes', async () => {
    const run = await runChecksOnLab({ scenario: SCENARIO }, { only: [ID] });
    expect(brokenProbes(run)).toEqual([]);
    for (const cluster of ['cluster1', 'cluster2']) expect(resultOf(run.results, ID, cluster).outcome).toBe('pass');
  });

  it.each([
    ['root-mismatch:cluster2', ['cluster2:workloadRootNotShared']],
    ['trust-domain-mismatch:cluster2', ['cluster2:workloadTrustDomainMismatch']],
    ['cacerts-incomplete:cluster2', ['cluster2:workloadIssuerMismatch', 'cluster2:workloadRootNotShared']],
  ])('%s: the ztunnel-held certificates of the faulted cluster fail', async (fault, expected) => {
    const run = await runChecksOnLab({ scenario: SCENARIO, faults: [fault] }, { only: ['certificates', 'control-plane/mesh-config'] });
    expect(brokenProbes(run)).toEqual([]);
    expect(findingsOf(run)).toEqual(expected);
    // The finding names the ztunnel pod that holds the certificate.
    const finding = resultOf(run.results, ID, 'cluster2').findings[0];
    expect(finding.resource).toMatchObject({ kind: 'Pod', namespace: 'istio-system', name: expect.stringMatching(/^ztunnel-/) });
  });

  it('a ztunnel istiod refuses holds no certificate: a skip with the reason, never a pass', async () => {
    const run = await runChecksOnLab({ scenario: SCENARIO, faults: ['ztunnel-cluster-id-default:cluster2'] }, { only: [ID] });
    const result = resultOf(run.results, ID, 'cluster2');
    expect(result.outcome).toBe('skip');
    expect(result.skipReason).toMatch(/no workload certificate/);
    expect(resultOf(run.results, ID, 'cluster1').outcome).toBe('pass');
  });
});
