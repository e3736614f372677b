// Every fault of the lab's catalog against ALL built-in checks, over real HTTPS: the checks the
// catalog names for a fault fail on the fault's cluster, and every error finding is listed here, so
// nothing fails that the fault does not explain. Each row: [fault, error findings, warning findings
// of the named checks that only warn], findings as `checkId [cluster] messageId`.
//
// Knock-on effects listed on purpose: a broken data path also fails connectivity/*; a primary that
// cannot see its peer also has remote-sync, cross-cluster-discovery and gateway-view findings, and
// its sidecars never reach the peer (connectivity/cross-cluster names the cluster that never served).
//
// Root causes (issue 13), on the same runs: the finding of the check the catalog names for the fault
// is a root cause, and every other error finding is explained, through explainedBy, by it. ROOTS
// lists each fault's root-cause findings; `independent` names an error finding that the fault causes
// but that no declaration can truthfully link, with the reason (it must then be a root cause too).
import { describe, expect, it } from 'vitest';
import { LAB_FAULTS, type LabFaultInfo } from '../../src/lab/index.ts';
import { errorKeys, brokenProbes, linkFindings, rootsOf, runChecksOnLab, type LabRun } from '../helpers/lab-run.ts';

const EXPECTED: [fault: string, errors: string[], warnings: string[]][] = [
  ['istiod-not-ready', ['control-plane/istiod-ready [cluster2] istiodPodNotReady', 'control-plane/istiod-ready [cluster2] istiodUnavailable'], []],
  ['duplicate-cluster-id', ['connectivity/cross-cluster [cluster1] noEndpointsForCluster', 'control-plane/cluster-ids [cluster2] clusterIdDuplicate', 'control-plane/remote-secrets [cluster1] keyNotClusterId', 'control-plane/remote-secrets [cluster2] keyIsLocalId', 'network/gateway-view [cluster1] gatewayViewUnexplained', 'network/gateway-view [cluster2] gatewayViewMissing'], []],
  ['mesh-id-mismatch', ['control-plane/mesh-config [cluster2] meshIdMismatch'], []],
  ['trust-domain-mismatch', ['certificates/workload [cluster2] workloadTrustDomainMismatch', 'connectivity/cross-cluster [cluster1] allRequestsFailed', 'connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster1] tlsFailure', 'connectivity/http [cluster2] tlsFailure', 'control-plane/mesh-config [cluster2] trustDomainMismatch'], []],
  ['discovery-selectors-exclude', [], ['control-plane/mesh-config [cluster1] discoverySelectorsExclude']],
  ['version-skew', [], ['control-plane/known-issues [cluster2] knownIssue', 'control-plane/version-skew [cluster2] istiodSkew']],
  ['no-remote-secret', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'control-plane/remote-secrets [cluster1] noRemoteSecret', 'control-plane/remote-sync [cluster1] peerMissing', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] noRemoteSecret'], []],
  ['remote-secret-wrong-id', ['control-plane/remote-secrets [cluster1] keyNotClusterId', 'control-plane/remote-sync [cluster1] peerMissing', 'network/gateway-view [cluster1] gatewayViewUnexplained', 'services/cross-cluster-discovery [cluster1] peerUnderOtherId'], []],
  ['remote-secret-exec-auth', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'control-plane/istiod-logs [cluster1] kubeconfigRejected', 'control-plane/remote-secrets [cluster1] kubeconfigDisallowed', 'control-plane/remote-sync [cluster1] peerMissing', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] peerNotSynced'], []],
  ['remote-secret-expired-token', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'control-plane/istiod-logs [cluster1] remoteSyncFailed', 'control-plane/remote-api-access [cluster1] credentialsRejected', 'control-plane/remote-secrets [cluster1] tokenExpired', 'control-plane/remote-sync [cluster1] peerNotSynced', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] peerNotSynced'], []],
  ['remote-secret-unreachable', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'control-plane/istiod-logs [cluster1] remoteSyncFailed', 'control-plane/remote-api-access [cluster1] peerUnreachable', 'control-plane/remote-sync [cluster1] peerNotSynced', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] peerNotSynced'], []],
  ['remote-rbac-missing', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'control-plane/istiod-logs [cluster1] remoteSyncFailed', 'control-plane/remote-api-access [cluster1] accessDenied', 'control-plane/remote-sync [cluster1] peerNotSynced', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] peerNotSynced'], []],
  ['remote-sync-timeout', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'control-plane/istiod-logs [cluster1] remoteSyncFailed', 'control-plane/remote-sync [cluster1] peerNotSynced', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] peerNotSynced'], []],
  ['proxy-stale', ['control-plane/proxy-sync [cluster1] proxiesStale'], []],
  ['remote-annotation-missing', ['control-plane/primary-remote [cluster2] annotationMissing'], []],
  ['remote-istiod-endpoint-wrong', ['control-plane/primary-remote [cluster2] istiodEndpointsWrong'], []],
  ['service-port-mismatch', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'connectivity/http [cluster2] timeout'], ['services/consistency [cluster2] servicePortsMismatch']],
  ['service-headless-mixed', [], ['services/consistency [cluster2] serviceHeadlessMixed']],
  // istiod leaves uninjected endpoints of another network out of EDS (conformance goldens): calls never leave cluster1.
  ['namespace-not-injected', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster'], ['services/namespace-sameness [cluster2] namespaceNotInjected']],
  ['remote-only-service-no-dns-capture', ['connectivity/dns [cluster1] remoteOnlyNotResolved', 'connectivity/http [cluster1] dnsFailure'], ['services/remote-only-dns [cluster1] remoteOnlyServiceNoDnsCapture']],
  ['legacy-global-config', [], ['services/legacy-global [cluster1] globalDestinationRule', 'services/legacy-global [cluster1] globalServiceEntry']],
  ['uninjected-remote-endpoint', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster'], ['services/endpoints [cluster2] uninjectedRemoteEndpoint']],
  // cluster2's sidecars declare no network, so istiod sends them cluster1's endpoints through its gateway (forceGateway).
  ['network-label-missing', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster2] timeout', 'network/topology [cluster2] networkUnknown', 'services/endpoints [cluster2] endpointNoNetwork'], []],
  ['ewgw-missing', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster2] timeout', 'network/eastwest-gateway [cluster2] ewgwMissing', 'network/gateway-view [cluster2] gatewayViewMissing', 'network/topology [cluster2] networkWithoutGateway'], []],
  ['ewgw-not-ready', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/gateway-reachability [cluster2] gatewayUnreachable', 'connectivity/http [cluster2] upstreamError', 'network/eastwest-gateway [cluster2] ewgwNotReady'], []],
  ['ewgw-lb-pending', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/gateway-reachability [cluster2] gatewayNoAddress', 'connectivity/http [cluster2] timeout', 'network/eastwest-gateway [cluster2] ewgwLbPending', 'network/gateway-view [cluster2] gatewayViewMissing'], []],
  ['ewgw-no-15443', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/gateway-reachability [cluster2] gatewayUnreachable', 'connectivity/http [cluster2] timeout', 'network/eastwest-gateway [cluster2] ewgwNo15443', 'network/gateway-view [cluster2] gatewayViewMissing'], []],
  ['ewgw-network-label-missing', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster2] timeout', 'network/eastwest-gateway [cluster2] ewgwNetworkLabelMissing', 'network/gateway-view [cluster2] gatewayViewMissing'], []],
  ['cross-network-gateway-missing', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster2] upstreamError', 'network/cross-network-gateway [cluster2] crossNetworkGatewayMissing'], []],
  ['cross-network-gateway-istio-mutual', ['connectivity/cross-cluster [cluster1] allRequestsFailed', 'connectivity/http [cluster1] upstreamError', 'network/cross-network-gateway [cluster1] crossNetworkGatewayIstioMutual'], []],
  ['cross-network-gateway-duplicate', ['network/cross-network-gateway [cluster2] crossNetworkGatewayDuplicate'], []],
  ['istiod-not-exposed', ['network/istiod-exposure [cluster1] istiodNotExposed'], []],
  ['networkpolicy-blocks-gateway', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/gateway-reachability [cluster2] gatewayUnreachable', 'connectivity/http [cluster2] timeout', 'network/policies [cluster2] policyBlocksGateway'], []],
  ['eastwest-firewall', ['connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/gateway-reachability [cluster2] gatewayUnreachable', 'connectivity/http [cluster2] timeout'], []],
  ['cacerts-missing', ['certificates/cacerts [cluster2] cacertsMissing', 'certificates/shared-root [cluster2] rootMismatch', 'certificates/workload [cluster2] workloadRootNotShared', 'connectivity/cross-cluster [cluster1] allRequestsFailed', 'connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster1] tlsFailure', 'connectivity/http [cluster2] tlsFailure'], []],
  ['cacerts-incomplete', ['certificates/cacerts [cluster2] cacertsIncomplete', 'certificates/workload [cluster2] workloadIssuerMismatch', 'certificates/workload [cluster2] workloadRootNotShared'], []],
  ['root-mismatch', ['certificates/shared-root [cluster2] rootMismatch', 'certificates/workload [cluster2] workloadRootNotShared', 'connectivity/cross-cluster [cluster1] allRequestsFailed', 'connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster1] tlsFailure', 'connectivity/http [cluster2] tlsFailure'], []],
  ['ca-key-mismatch', ['certificates/chain [cluster2] caKeyMismatch', 'certificates/workload [cluster2] workloadIssuerMismatch'], []],
  ['not-a-ca', ['certificates/chain [cluster2] notACa'], []],
  ['chain-wrong-order', ['certificates/chain [cluster2] chainWrongOrder'], []],
  ['intermediate-expired', ['certificates/expiry [cluster2] certExpired'], []],
  ['intermediate-expiring', [], ['certificates/expiry [cluster2] certExpiring']],
  ['stale-root-configmap', ['certificates/root-distribution [cluster2] rootConfigMapStale'], []],
  ['failover-no-outlier-detection', [], ['services/locality-failover [cluster1] failoverWithoutOutlierDetection']],
  // External control plane scenario (cluster1 the external istiod, cluster2 its config cluster, cluster3 a further remote).
  // Without istio-kubeconfig istiod reads its own cluster as the config cluster: cluster2's services and gateway vanish.
  // The cross-network Gateway lives in cluster2 too, so cluster3's east-west gateway gets no 15443 passthrough listener (connection refused).
  ['external-kubeconfig-missing', ['connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'connectivity/cross-cluster [cluster3] allRequestsFailed', 'connectivity/http [cluster3] upstreamError', 'control-plane/remote-secrets [cluster1] configKubeconfigMissing', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] servicesMissing', 'services/endpoints [cluster1] endpointNoNetwork'], []],
  ['external-webhook-unreachable', ['control-plane/primary-remote [cluster3] webhookUrlUnreachable'], []],
  // Without EXTERNAL_ISTIOD istiod reads remote secrets from the config cluster (there are none) and leads no other remote.
  ['external-istiod-flag-missing', ['certificates/root-distribution [cluster3] remoteRootConfigMapMissing', 'connectivity/cross-cluster [cluster3] noEndpointsForCluster', 'control-plane/primary-remote [cluster1] externalIstiodOff', 'control-plane/proxy-sync [cluster1] proxyUnknownCluster', 'control-plane/remote-sync [cluster1] peerMissing', 'network/gateway-view [cluster1] gatewayViewMissing', 'services/cross-cluster-discovery [cluster1] peerNotSynced'], []],
  // Ambient faults run on the ambient-multi-network scenario (their only topology).
  // ztunnel-view reports on the cluster a ztunnel cannot reach (its peer: the ztunnel's cluster).
  ['ambient-multi-network-off', ['ambient/eastwest-gateway [cluster2] gatewayClassMissing', 'ambient/eastwest-gateway [cluster2] noAddress', 'ambient/multi-network [cluster2] multiNetworkOff', 'ambient/ztunnel-view [cluster1] noRemoteNetworkWorkload', 'ambient/ztunnel-view [cluster2] noRemoteNetworkWorkload', 'connectivity/gateway-reachability [cluster2] gatewayNoAddress'], []],
  // istiod refuses cluster2's ztunnel: every connection of its ambient pods is reset (what no Envoy counts, curl tells).
  ['ztunnel-cluster-id-default', ['ambient/multi-network [cluster2] ztunnelClusterIdMismatch', 'ambient/ztunnel-view [cluster1] noRemoteNetworkWorkload', 'connectivity/cross-cluster [cluster2] allRequestsFailed', 'connectivity/http [cluster2] connectionReset', 'control-plane/istiod-logs [cluster2] clientClaimsCluster'], []],
  ['ambient-ewgw-missing', ['ambient/eastwest-gateway [cluster2] ewgwMissing', 'ambient/ztunnel-view [cluster2] noRemoteNetworkWorkload'], []],
  ['ambient-ewgw-no-address', ['ambient/eastwest-gateway [cluster2] noAddress', 'ambient/ztunnel-view [cluster2] noRemoteNetworkWorkload', 'connectivity/gateway-reachability [cluster2] gatewayNoAddress'], []],
  ['ambient-global-label-asymmetric', ['ambient/global-services [cluster2] globalLabelAsymmetric', 'ambient/ztunnel-view [cluster2] noRemoteNetworkWorkload'], []],
  // istiod judges scope with its own mesh config: cluster1 still shares cluster2's labelled Services, cluster2 shares nothing.
  ['ambient-scope-config-missing', ['ambient/global-services [cluster2] scopeConfigMissing', 'ambient/waypoints [cluster2] waypointNotGlobal'], []],
  ['ambient-waypoint-not-global', ['ambient/global-services [cluster2] globalLabelAsymmetric', 'ambient/waypoints [cluster2] waypointNotGlobal', 'ambient/ztunnel-view [cluster2] noRemoteNetworkWorkload'], []],
];

const ROOTS: Record<string, { roots: string[]; independent?: Record<string, string> }> = {
  'istiod-not-ready': { roots: ['control-plane/istiod-ready [cluster2] istiodPodNotReady', 'control-plane/istiod-ready [cluster2] istiodUnavailable'] },
  'mesh-id-mismatch': { roots: ['control-plane/mesh-config [cluster2] meshIdMismatch'] },
  'trust-domain-mismatch': { roots: ['control-plane/mesh-config [cluster2] trustDomainMismatch'] },
  'discovery-selectors-exclude': { roots: ['control-plane/mesh-config [cluster1] discoverySelectorsExclude'] },
  'version-skew': { roots: ['control-plane/version-skew [cluster2] istiodSkew'] },
  // cluster2 runs with cluster1's id: its secret for cluster1 now equals its own id (ignored), cluster1's secret for it names the wrong id.
  'duplicate-cluster-id': { roots: ['control-plane/cluster-ids [cluster2] clusterIdDuplicate'] },
  'no-remote-secret': { roots: ['control-plane/remote-secrets [cluster1] noRemoteSecret'] },
  'remote-secret-wrong-id': { roots: ['control-plane/remote-secrets [cluster1] keyNotClusterId'] },
  'remote-secret-exec-auth': { roots: ['control-plane/remote-secrets [cluster1] kubeconfigDisallowed'] },
  'remote-secret-expired-token': { roots: ['control-plane/remote-secrets [cluster1] tokenExpired'] },
  'remote-secret-unreachable': { roots: ['control-plane/remote-api-access [cluster1] peerUnreachable'] },
  'remote-rbac-missing': { roots: ['control-plane/remote-api-access [cluster1] accessDenied'] },
  'remote-sync-timeout': { roots: ['control-plane/remote-sync [cluster1] peerNotSynced'] },
  'proxy-stale': { roots: ['control-plane/proxy-sync [cluster1] proxiesStale'] },
  'remote-annotation-missing': { roots: ['control-plane/primary-remote [cluster2] annotationMissing'] },
  'remote-istiod-endpoint-wrong': { roots: ['control-plane/primary-remote [cluster2] istiodEndpointsWrong'] },
  'service-port-mismatch': { roots: ['services/consistency [cluster2] servicePortsMismatch'] },
  'service-headless-mixed': { roots: ['services/consistency [cluster2] serviceHeadlessMixed'] },
  'namespace-not-injected': { roots: ['services/namespace-sameness [cluster2] namespaceNotInjected'] },
  'remote-only-service-no-dns-capture': { roots: ['services/remote-only-dns [cluster1] remoteOnlyServiceNoDnsCapture'] },
  'legacy-global-config': { roots: ['services/legacy-global [cluster1] globalDestinationRule', 'services/legacy-global [cluster1] globalServiceEntry'] },
  'uninjected-remote-endpoint': { roots: ['services/endpoints [cluster2] uninjectedRemoteEndpoint'] },
  'network-label-missing': { roots: ['network/topology [cluster2] networkUnknown'] },
  'ewgw-missing': { roots: ['network/topology [cluster2] networkWithoutGateway'] },
  'ewgw-not-ready': { roots: ['network/eastwest-gateway [cluster2] ewgwNotReady'] },
  'ewgw-lb-pending': { roots: ['network/eastwest-gateway [cluster2] ewgwLbPending'] },
  'ewgw-no-15443': { roots: ['network/eastwest-gateway [cluster2] ewgwNo15443'] },
  'ewgw-network-label-missing': { roots: ['network/eastwest-gateway [cluster2] ewgwNetworkLabelMissing'] },
  'cross-network-gateway-missing': { roots: ['network/cross-network-gateway [cluster2] crossNetworkGatewayMissing'] },
  'cross-network-gateway-istio-mutual': { roots: ['network/cross-network-gateway [cluster1] crossNetworkGatewayIstioMutual'] },
  'cross-network-gateway-duplicate': { roots: ['network/cross-network-gateway [cluster2] crossNetworkGatewayDuplicate'] },
  'istiod-not-exposed': { roots: ['network/istiod-exposure [cluster1] istiodNotExposed'] },
  'networkpolicy-blocks-gateway': { roots: ['network/policies [cluster2] policyBlocksGateway'] },
  // Nothing in the objects is wrong: the TCP probe to the gateway is the first finding of the fault.
  'eastwest-firewall': { roots: ['connectivity/gateway-reachability [cluster2] gatewayUnreachable'] },
  'cacerts-missing': { roots: ['certificates/cacerts [cluster2] cacertsMissing'] },
  'cacerts-incomplete': { roots: ['certificates/cacerts [cluster2] cacertsIncomplete'] },
  'root-mismatch': { roots: ['certificates/shared-root [cluster2] rootMismatch'] },
  'ca-key-mismatch': { roots: ['certificates/chain [cluster2] caKeyMismatch'] },
  'not-a-ca': { roots: ['certificates/chain [cluster2] notACa'] },
  'chain-wrong-order': { roots: ['certificates/chain [cluster2] chainWrongOrder'] },
  'intermediate-expired': { roots: ['certificates/expiry [cluster2] certExpired'] },
  'intermediate-expiring': { roots: ['certificates/expiry [cluster2] certExpiring'] },
  'stale-root-configmap': { roots: ['certificates/root-distribution [cluster2] rootConfigMapStale'] },
  'failover-no-outlier-detection': { roots: ['services/locality-failover [cluster1] failoverWithoutOutlierDetection'] },
  'external-kubeconfig-missing': { roots: ['control-plane/remote-secrets [cluster1] configKubeconfigMissing'] },
  'external-webhook-unreachable': { roots: ['control-plane/primary-remote [cluster3] webhookUrlUnreachable'] },
  'external-istiod-flag-missing': { roots: ['control-plane/primary-remote [cluster1] externalIstiodOff'] },
  'ambient-multi-network-off': { roots: ['ambient/multi-network [cluster2] multiNetworkOff'] },
  'ztunnel-cluster-id-default': { roots: ['ambient/multi-network [cluster2] ztunnelClusterIdMismatch'] },
  'ambient-ewgw-missing': { roots: ['ambient/eastwest-gateway [cluster2] ewgwMissing'] },
  'ambient-ewgw-no-address': { roots: ['ambient/eastwest-gateway [cluster2] noAddress'] },
  'ambient-global-label-asymmetric': { roots: ['ambient/global-services [cluster2] globalLabelAsymmetric'] },
  'ambient-scope-config-missing': { roots: ['ambient/global-services [cluster2] scopeConfigMissing'] },
  'ambient-waypoint-not-global': { roots: ['ambient/waypoints [cluster2] waypointNotGlobal'] },
};

/**
 * The faults' root causes are findings of the checks the catalog names, on the fault's cluster, and
 * the engine makes them root causes; every other error finding leads to them through explainedBy,
 * except the independent ones, which stay root causes of their own.
 */
function expectRootCauses(run: LabRun, faults: readonly LabFaultInfo[], expected: { roots: string[]; independent?: Record<string, string> }): void {
  for (const root of expected.roots) {
    expect(faults.some((f) => f.failsChecks.some((id) => root.startsWith(`${id} [${f.defaultCluster}]`))), `${root}: a named check on the fault's cluster`).toBe(true);
  }
  const linked = linkFindings(run);
  const rootKeys = new Set(linked.filter((n) => n.root).map((n) => n.key));
  for (const root of expected.roots) expect(rootKeys, `root cause ${root}`).toContain(root);
  const independent = expected.independent ?? {};
  for (const node of linked.filter((n) => n.finding.severity === 'error' && !expected.roots.includes(n.key))) {
    if (node.key in independent) expect(node.root, `${node.key} (independent: ${independent[node.key]})`).toBe(true);
    else expect([...rootsOf(node)].filter((key) => expected.roots.includes(key)), `${node.key} leads to a root cause of the fault`).not.toEqual([]);
  }
}

describe('every lab fault against every check', () => {
  it('covers the whole fault catalog', () => {
    expect(EXPECTED.map(([fault]) => fault).sort()).toEqual(LAB_FAULTS.map((f) => f.name).sort());
    expect(Object.keys(ROOTS).sort()).toEqual(LAB_FAULTS.map((f) => f.name).sort());
  });

  it.each(EXPECTED)('%s', async (name, errors, warnings) => {
    const fault = LAB_FAULTS.find((f) => f.name === name)!;
    const scenario = fault.topologies && !fault.topologies.includes('multi-primary') ? fault.topologies[0] : 'multi-primary';
    const run = await runChecksOnLab({ scenario, faults: [name] });
    expect(errorKeys(run)).toEqual(errors);
    expect(brokenProbes(run)).toEqual([]);
    const found = new Set(run.results.flatMap((r) => r.findings.map((f) => `${r.checkId} [${f.cluster}] ${f.messageId}`)));
    for (const warning of warnings) expect(found).toContain(warning);
    // The checks the catalog names fail (or warn) on the fault's cluster.
    for (const checkId of fault.failsChecks) {
      expect([...errors, ...warnings].some((key) => key.startsWith(`${checkId} [${fault.defaultCluster}]`)), `${checkId} on ${fault.defaultCluster}`).toBe(true);
    }
    expectRootCauses(run, [fault], ROOTS[name]);
  });

  // The healthy ambient mesh: no check errs or warns (sidecar-only checks skip with their reason).
  it('ambient-multi-network without faults: no error, no warning, no broken probe', async () => {
    const run = await runChecksOnLab({ scenario: 'ambient-multi-network' });
    expect(brokenProbes(run)).toEqual([]);
    expect(run.results.flatMap((r) => r.findings.filter((f) => f.severity !== 'info').map((f) => `${r.checkId} [${f.cluster}] ${f.messageId}`))).toEqual([]);
    expect(run.results.filter((r) => r.checkId.startsWith('ambient/') && r.outcome === 'pass').length).toBeGreaterThanOrEqual(5);
  });

  // Two independent faults on different clusters: a second root of trust on cluster2 (mTLS with it
  // fails both ways) and cluster1 without cluster2's remote secret (cluster1's sidecars get none of
  // cluster2's endpoints). Each is a root cause, and every other error leads to one of them.
  it('root-mismatch on cluster2 and no-remote-secret on cluster1 at once', async () => {
    const faults = ['root-mismatch', 'no-remote-secret'].map((name) => LAB_FAULTS.find((f) => f.name === name)!);
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: faults.map((f) => ({ name: f.name, cluster: f.defaultCluster })) });
    expect(brokenProbes(run)).toEqual([]);
    // Both faults show: the union of their errors, less what one hides of the other (no request of cluster1 reaches cluster2 to fail its TLS).
    expect(errorKeys(run)).toEqual(expect.arrayContaining(['certificates/shared-root [cluster2] rootMismatch', 'control-plane/remote-secrets [cluster1] noRemoteSecret', 'connectivity/cross-cluster [cluster2] noEndpointsForCluster', 'connectivity/http [cluster1] tlsFailure']));
    expectRootCauses(run, faults, { roots: ['certificates/shared-root [cluster2] rootMismatch', 'control-plane/remote-secrets [cluster1] noRemoteSecret'] });
  });
});
