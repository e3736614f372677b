import { describe, expect, it } from 'vitest';
import { LAB_FAULTS, LAB_SCENARIOS, LabError, buildMeshState, parseFault } from '../../../src/lab/model/index.ts';
import { fakeEndpoints } from './helpers.ts';

// The fault table of CHECKS.md, which the lab must cover.
const TABLE_FAULTS = [
  'istiod-not-ready', 'duplicate-cluster-id', 'mesh-id-mismatch', 'trust-domain-mismatch', 'discovery-selectors-exclude',
  'version-skew', 'no-remote-secret', 'remote-secret-wrong-id', 'remote-secret-exec-auth', 'remote-secret-expired-token',
  'remote-secret-unreachable', 'remote-rbac-missing', 'remote-sync-timeout', 'proxy-stale', 'remote-annotation-missing',
  'remote-istiod-endpoint-wrong', 'service-port-mismatch', 'service-headless-mixed', 'namespace-not-injected',
  'remote-only-service-no-dns-capture', 'legacy-global-config', 'uninjected-remote-endpoint', 'network-label-missing',
  'ewgw-missing', 'ewgw-not-ready', 'ewgw-lb-pending', 'ewgw-no-15443', 'ewgw-network-label-missing',
  'cross-network-gateway-missing', 'cross-network-gateway-istio-mutual', 'cross-network-gateway-duplicate',
  'istiod-not-exposed', 'networkpolicy-blocks-gateway', 'eastwest-firewall', 'cacerts-missing', 'cacerts-incomplete',
  'root-mismatch', 'ca-key-mismatch', 'not-a-ca', 'chain-wrong-order', 'intermediate-expired', 'intermediate-expiring',
  'stale-root-configmap', 'failover-no-outlier-detection',
  'external-kubeconfig-missing', 'external-webhook-unreachable', 'external-istiod-flag-missing',
  'ambient-multi-network-off', 'ztunnel-cluster-id-default', 'ambient-ewgw-missing', 'ambient-ewgw-no-address',
  'ambient-global-label-asymmetric', 'ambient-scope-config-missing', 'ambient-waypoint-not-global',
];

describe('lab catalog', () => {
  it('lists the scenarios', () => {
    expect(LAB_SCENARIOS.map((s) => s.name)).toEqual(['multi-primary', 'multi-primary-single-network', 'primary-remote', 'external-control-plane', 'ambient-multi-network', 'demo']);
  });

  it('has exactly the faults of the CHECKS.md table, each naming checks it fails and a default cluster', () => {
    expect(LAB_FAULTS.map((f) => f.name).sort()).toEqual([...TABLE_FAULTS].sort());
    for (const fault of LAB_FAULTS) {
      expect(fault.failsChecks.length).toBeGreaterThan(0);
      for (const id of fault.failsChecks) expect(id).toMatch(/^[a-z-]+\/[a-z0-9-]+$/);
      expect(fault.defaultCluster).toMatch(/^cluster\d+$/);
      expect(fault.description).toBeTruthy();
    }
  });

  it.each([
    [{ scenario: 'nope' }, /unknown lab scenario "nope"/],
    [{ faults: [{ name: 'nope' }] }, /unknown lab fault "nope"/],
    [{ faults: [{ name: 'root-mismatch', cluster: 'cluster9' }] }, /unknown cluster "cluster9"/],
    [{ faults: [{ name: 'remote-annotation-missing' }] }, /applies only to primary-remote/],
    [{ faults: [{ name: 'external-kubeconfig-missing' }] }, /applies only to external-control-plane/],
    [{ scenario: 'primary-remote', faults: [{ name: 'istiod-not-ready', cluster: 'cluster2' }] }, /needs a cluster running istiod/],
    [{ scenario: 'multi-primary-single-network', faults: [{ name: 'ewgw-lb-pending' }] }, /applies only to/],
    [{ clusters: 1 }, /from 2 to 10/],
    [{ clusters: 11 }, /from 2 to 10/],
    [{ scale: { namespaces: 100, servicesPerNamespace: 100, podsPerService: 100 } }, /at most/],
  ])('rejects bad input %o with one clear line', async (input, message) => {
    const count = (input as { clusters?: number }).clusters ?? 2;
    const run = buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(Math.min(Math.max(count, 1), 10)), ...input });
    await expect(run).rejects.toThrow(message);
    await expect(run).rejects.toBeInstanceOf(LabError);
    const err = await run.catch((e: Error) => e);
    expect((err as Error).message).not.toContain('\n');
  });

  it('resolves a fault on a remote-only target to the primary when its default cluster is a remote', async () => {
    const mesh = await buildMeshState({ scenario: 'primary-remote', endpoints: fakeEndpoints(2), faults: [{ name: 'istiod-not-ready' }] });
    expect(mesh.faults).toEqual([{ name: 'istiod-not-ready', cluster: 'cluster1' }]);
  });

  it('parses NAME[:CLUSTER]', () => {
    expect(parseFault('root-mismatch')).toEqual({ name: 'root-mismatch' });
    expect(parseFault('root-mismatch:cluster3')).toEqual({ name: 'root-mismatch', cluster: 'cluster3' });
    expect(() => parseFault('nope:cluster1')).toThrow(LabError);
    expect(() => parseFault(':cluster1')).toThrow(/expected NAME/);
    expect(() => parseFault('root-mismatch:')).toThrow(/empty cluster/);
  });
});
