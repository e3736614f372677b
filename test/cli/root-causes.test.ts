// Root causes on the demo lab (a cross-network Gateway with ISTIO_MUTUAL on cluster1, cluster2 on
// another root): the JSON report names the two faults as root causes and every other error finding
// as explained by findings of the report.
import { describe, expect, it } from 'vitest';
import type { ReportFindingRef as FindingRef, Report } from '../../src/engine/types.ts';
import { runCliInProcess } from './run-cli.ts';

describe('root causes on the demo lab', () => {
  it('are the shared-root and cross-network-gateway findings; every other error is explained', async () => {
    const run = await runCliInProcess(['all', '--lab', '-o', 'json']);
    expect(run.exitCode).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    const at = (ref: FindingRef) => report.results.find((r) => r.checkId === ref.checkId && r.cluster === ref.cluster)?.findings[ref.index];
    expect(report.rootCauses.map((ref) => `${ref.checkId} [${at(ref)?.cluster}] ${ref.messageId}`).sort()).toEqual([
      'certificates/shared-root [cluster2] rootMismatch',
      'network/cross-network-gateway [cluster1] crossNetworkGatewayIstioMutual',
    ]);
    // References resolve to the findings they name.
    for (const ref of report.rootCauses) expect(at(ref)?.messageId).toBe(ref.messageId);
    const errors = report.results.flatMap((r) => r.findings.filter((f) => f.severity === 'error'));
    expect(errors.length).toBeGreaterThan(2);
    for (const finding of errors) {
      const isRoot = report.rootCauses.some((ref) => at(ref) === finding);
      if (isRoot) continue;
      expect(finding.explainedBy, `${finding.checkId} [${finding.cluster}] ${finding.messageId}`).toBeDefined();
      for (const ref of finding.explainedBy!) expect(at(ref)?.messageId).toBe(ref.messageId);
    }
  });
});
