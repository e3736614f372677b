// Every lab fault CHECKS.md names for a control-plane check makes it fail on the named cluster, and
// the control-plane errors of each run are exactly what the fault explains. One lab per case, all
// control-plane checks per lab. Contexts are passed explicitly (as --context would): some faults
// break the remote secrets through which the default run finds its peers.
import { describe, expect, it } from 'vitest';
import { brokenProbes, errorKeys, runChecksOnLab } from '../../helpers/lab-run.ts';

const CONTEXTS = { contexts: ['cluster1', 'cluster2'], only: ['control-plane'] };

describe('control-plane checks on the lab', () => {
  it.each(['multi-primary', 'multi-primary-single-network', 'primary-remote'])('healthy %s: no error finding, no broken probe', async (scenario) => {
    const run = await runChecksOnLab({ scenario }, CONTEXTS);
    expect(errorKeys(run)).toEqual([]);
    expect(brokenProbes(run)).toEqual([]);
    // The lab's API servers share this machine's loopback: not a finding there.
    expect(run.results.flatMap((r) => r.findings).map((f) => f.messageId)).toEqual([]);
  });

  it.each([
    ['multi-primary', 'istiod-not-ready:cluster2', ['control-plane/istiod-ready [cluster2] istiodPodNotReady', 'control-plane/istiod-ready [cluster2] istiodUnavailable']],
    [
      'multi-primary',
      'duplicate-cluster-id:cluster2',
      // cluster1's secret names cluster2, whose id is now cluster1; cluster2's secret key equals its own id.
      ['control-plane/cluster-ids [cluster2] clusterIdDuplicate', 'control-plane/remote-secrets [cluster1] keyNotClusterId', 'control-plane/remote-secrets [cluster2] keyIsLocalId'],
    ],
    ['multi-primary', 'mesh-id-mismatch:cluster2', ['control-plane/mesh-config [cluster2] meshIdMismatch']],
    ['multi-primary', 'trust-domain-mismatch:cluster2', ['control-plane/mesh-config [cluster2] trustDomainMismatch']],
    ['multi-primary', 'no-remote-secret:cluster1', ['control-plane/remote-secrets [cluster1] noRemoteSecret', 'control-plane/remote-sync [cluster1] peerMissing']],
    ['multi-primary', 'remote-secret-wrong-id:cluster1', ['control-plane/remote-secrets [cluster1] keyNotClusterId', 'control-plane/remote-sync [cluster1] peerMissing']],
    ['multi-primary', 'remote-secret-exec-auth:cluster1', ['control-plane/istiod-logs [cluster1] kubeconfigRejected', 'control-plane/remote-secrets [cluster1] kubeconfigDisallowed', 'control-plane/remote-sync [cluster1] peerMissing']],
    [
      'multi-primary',
      'remote-secret-expired-token:cluster1',
      ['control-plane/istiod-logs [cluster1] remoteSyncFailed', 'control-plane/remote-api-access [cluster1] credentialsRejected', 'control-plane/remote-secrets [cluster1] tokenExpired', 'control-plane/remote-sync [cluster1] peerNotSynced'],
    ],
    ['multi-primary', 'remote-secret-unreachable:cluster1', ['control-plane/istiod-logs [cluster1] remoteSyncFailed', 'control-plane/remote-api-access [cluster1] peerUnreachable', 'control-plane/remote-sync [cluster1] peerNotSynced']],
    ['multi-primary', 'remote-rbac-missing:cluster1', ['control-plane/istiod-logs [cluster1] remoteSyncFailed', 'control-plane/remote-api-access [cluster1] accessDenied', 'control-plane/remote-sync [cluster1] peerNotSynced']],
    ['multi-primary', 'remote-sync-timeout:cluster1', ['control-plane/istiod-logs [cluster1] remoteSyncFailed', 'control-plane/remote-sync [cluster1] peerNotSynced']],
    ['multi-primary', 'proxy-stale:cluster1', ['control-plane/proxy-sync [cluster1] proxiesStale']],
    ['primary-remote', 'no-remote-secret:cluster1', ['control-plane/proxy-sync [cluster1] proxyUnknownCluster', 'control-plane/remote-secrets [cluster1] noRemoteSecret', 'control-plane/remote-sync [cluster1] peerMissing']],
    ['primary-remote', 'remote-annotation-missing:cluster2', ['control-plane/primary-remote [cluster2] annotationMissing']],
    ['primary-remote', 'remote-istiod-endpoint-wrong:cluster2', ['control-plane/primary-remote [cluster2] istiodEndpointsWrong']],
  ])('%s + %s', async (scenario, fault, expected) => {
    const run = await runChecksOnLab({ scenario, faults: [fault] }, CONTEXTS);
    expect(errorKeys(run)).toEqual(expected);
    expect(brokenProbes(run)).toEqual([]);
  });

  it.each([
    ['discovery-selectors-exclude:cluster1', 'control-plane/mesh-config', 'cluster1', 'discoverySelectorsExclude'],
    ['version-skew:cluster2', 'control-plane/version-skew', 'cluster2', 'istiodSkew'],
  ])('%s: %s warns on %s (%s) and nothing errors', async (fault, checkId, cluster, messageId) => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: [fault] }, CONTEXTS);
    expect(errorKeys(run)).toEqual([]);
    const result = run.results.find((r) => r.checkId === checkId)!;
    expect(result.outcome).toBe('warn');
    expect(result.findings.map((f) => [f.cluster, f.messageId, f.severity])).toEqual([[cluster, messageId, 'warning']]);
  });
});
