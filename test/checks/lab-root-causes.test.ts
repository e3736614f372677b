// Root causes on lab faults (issue 13): the check the fault is named after is a root cause on the
// fault's cluster, and the knock-on findings the checks declare as its consequences are explained.
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { withRootCauses } from '../../src/engine/root-causes.ts';
import { runChecksOnLab } from '../helpers/lab-run.ts';

// [fault, its named check's root-cause finding, findings that must be explained], as `checkId [cluster] messageId`.
const CASES: [fault: string, root: string, explained: string[]][] = [
  ['no-remote-secret', 'control-plane/remote-secrets [cluster1] noRemoteSecret', ['control-plane/remote-sync [cluster1] peerMissing', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] noRemoteSecret']],
  ['remote-secret-expired-token', 'control-plane/remote-secrets [cluster1] tokenExpired', ['control-plane/remote-api-access [cluster1] credentialsRejected', 'control-plane/remote-sync [cluster1] peerNotSynced', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] peerNotSynced']],
  ['remote-sync-timeout', 'control-plane/remote-sync [cluster1] peerNotSynced', ['network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] peerNotSynced']],
  ['root-mismatch', 'certificates/shared-root [cluster2] rootMismatch', ['certificates/workload [cluster2] workloadRootNotShared', 'connectivity/cross-cluster [cluster1] allRequestsFailed', 'connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster1] tlsFailure', 'connectivity/http [cluster2] tlsFailure']],
  ['trust-domain-mismatch', 'control-plane/mesh-config [cluster2] trustDomainMismatch', ['certificates/workload [cluster2] workloadTrustDomainMismatch', 'connectivity/cross-cluster [cluster1] allRequestsFailed', 'connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster1] tlsFailure', 'connectivity/http [cluster2] tlsFailure']],
  ['cross-network-gateway-istio-mutual', 'network/cross-network-gateway [cluster1] crossNetworkGatewayIstioMutual', ['connectivity/cross-cluster [cluster1] allRequestsFailed', 'connectivity/http [cluster1] upstreamError']],
];

describe('root causes of lab faults', () => {
  it.each(CASES)('%s', async (fault, root, explained) => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: [fault] });
    const { results, rootCauses } = withRootCauses(run.results, BUILTIN_CHECKS);
    const keyOf = (checkId: string, cluster: string, index: number) => {
      const finding = results.find((r) => r.checkId === checkId && r.cluster === cluster)!.findings[index];
      return `${checkId} [${finding.cluster}] ${finding.messageId}`;
    };
    expect(rootCauses.map((ref) => keyOf(ref.checkId, ref.cluster, ref.index))).toContain(root);
    const explainedKeys = results.flatMap((r) => r.findings.filter((f) => f.explainedBy).map((f) => `${f.checkId} [${f.cluster}] ${f.messageId}`));
    for (const key of explained) expect(explainedKeys).toContain(key);
    // Every root cause of these single faults is an error or warning nothing explains; none of the listed consequences is one.
    for (const key of explained) expect(rootCauses.map((ref) => keyOf(ref.checkId, ref.cluster, ref.index))).not.toContain(key);
  });
});
