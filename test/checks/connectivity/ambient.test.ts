// The connectivity checks on an ambient mesh (lab scenario ambient-multi-network): probes run from
// pods captured by ztunnel (no sidecar: curl in the application container), cross-cluster attributes
// each request to the cluster whose pod the response names (helloworld at /hello, as istio.io's
// ambient verification curls it), and gateway-reachability probes the peers' istio-east-west
// Gateways on 15008.
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../src/engine/types.ts';
import { brokenProbes, errorKeys, linkFindings, resultOf, runChecksOnLab } from '../../helpers/lab-run.ts';

const SCENARIO = 'ambient-multi-network';
const CLUSTERS = ['cluster1', 'cluster2'];

interface MatrixData {
  target: string;
  rows: { source: string; pod: string; cells: Record<string, { success: number; errors: number }> }[];
}

const keysOf = (run: { results: CheckResult[] }, messageId: string) =>
  run.results.flatMap((r) => r.findings.filter((f) => f.messageId === messageId).map((f) => `${r.checkId} [${f.cluster}] ${f.messageId}`)).sort();

describe('connectivity checks on an ambient mesh', () => {
  it('healthy: ambient sources reach helloworld in both clusters, and each peer gateway on 15008', async () => {
    const run = await runChecksOnLab({ scenario: SCENARIO }, { only: ['connectivity'], options: { probeCount: 8 } });
    expect(brokenProbes(run)).toEqual([]);
    expect(errorKeys(run)).toEqual([]);
    for (const r of run.results) expect(r.outcome, `${r.checkId} [${r.cluster}]`).toBe('pass');
    const matrix = resultOf(run.results, 'connectivity/cross-cluster', '*').data?.matrix as MatrixData[];
    const hello = matrix.find((m) => m.target === 'helloworld.sample:5000/hello')!;
    expect(hello.rows.map((r) => r.source).sort()).toEqual(CLUSTERS);
    for (const row of hello.rows) {
      // The source is an ambient pod of sample (no sidecar there), not a gateway or system pod.
      expect(row.pod).toMatch(/^sample\//);
      for (const cluster of CLUSTERS) expect(row.cells[cluster]?.success, `${row.source} served by ${cluster}`).toBeGreaterThan(0);
      expect(row.cells.unknown).toBeUndefined();
    }
    for (const cluster of CLUSTERS) {
      const gateways = resultOf(run.results, 'connectivity/gateway-reachability', cluster).data?.gateways as { cluster: string; port: number; reachable: boolean }[];
      expect(gateways.map((g) => [g.cluster, g.port, g.reachable])).toEqual([[cluster === 'cluster1' ? 'cluster2' : 'cluster1', 15008, true]]);
    }
  });

  it('ambient-ewgw-missing: cluster1 never gets an answer from cluster2, explained by the missing gateway', async () => {
    const run = await runChecksOnLab({ scenario: SCENARIO, faults: ['ambient-ewgw-missing:cluster2'] }, { options: { probeCount: 10 } });
    expect(brokenProbes(run)).toEqual([]);
    expect(keysOf(run, 'neverServed')).toEqual(['connectivity/cross-cluster [cluster2] neverServed']);
    const never = linkFindings(run).find((n) => n.key === 'connectivity/cross-cluster [cluster2] neverServed')!;
    expect(never.root).toBe(false);
    expect(never.explainedBy.map((n) => n.key)).toEqual(expect.arrayContaining(['ambient/ztunnel-view [cluster2] noRemoteNetworkWorkload', 'ambient/eastwest-gateway [cluster2] ewgwMissing']));
    // cluster2's own ztunnels still reach cluster1 through cluster1's gateway.
    const hello = (resultOf(run.results, 'connectivity/cross-cluster', '*').data?.matrix as MatrixData[]).find((m) => m.target.startsWith('helloworld'))!;
    expect(hello.rows.find((r) => r.source === 'cluster2')!.cells.cluster1.success).toBeGreaterThan(0);
    expect(hello.rows.find((r) => r.source === 'cluster1')!.cells.cluster2).toBeUndefined();
    // cluster1's istiod says so in its log, as the ambient registry does (multicluster.go:358); cluster2's does not.
    expect(keysOf(run, 'noNetworkGateway')).toEqual(['control-plane/istiod-logs [cluster1] noNetworkGateway']);
  });

  it('a target whose responses name no pod: servingUnknown, never a verdict on the serving clusters', async () => {
    const run = await runChecksOnLab({ scenario: SCENARIO }, { only: ['connectivity/cross-cluster'], options: { probeCount: 6, probeTo: ['helloworld.sample:5000/'] } });
    expect(brokenProbes(run)).toEqual([]);
    expect(keysOf(run, 'servingUnknown')).toEqual(['connectivity/cross-cluster [cluster1] servingUnknown', 'connectivity/cross-cluster [cluster2] servingUnknown']);
    expect(errorKeys(run)).toEqual([]);
    expect(keysOf(run, 'neverServed')).toEqual([]);
    expect(keysOf(run, 'notObserved')).toEqual([]);
  });

  it('ztunnel-cluster-id-default: cluster2\'s requests are reset and lead to the refused ztunnel', async () => {
    const run = await runChecksOnLab({ scenario: SCENARIO, faults: ['ztunnel-cluster-id-default:cluster2'] }, { options: { probeCount: 4 } });
    const linked = linkFindings(run);
    for (const key of ['connectivity/http [cluster2] connectionReset', 'connectivity/cross-cluster [cluster2] allRequestsFailed']) {
      const node = linked.find((n) => n.key === key)!;
      expect(node, key).toBeDefined();
      expect(node.explainedBy.map((n) => n.key)).toContain('ambient/multi-network [cluster2] ztunnelClusterIdMismatch');
    }
  });
});
