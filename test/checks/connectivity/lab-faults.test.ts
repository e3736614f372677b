// The connectivity checks against real labs over HTTPS: healthy scenarios pass with every cluster
// serving, each lab fault CHECKS.md names for these checks fails the right check on the right
// cluster with a message naming the cause, and an exec that hangs ends as `error`, not a hang.
import { describe, expect, it } from 'vitest';
import { brokenProbes, errorKeys, resultOf, runChecksOnLab } from '../../helpers/lab-run.ts';

const CONNECTIVITY = ['connectivity'];

interface MatrixData {
  target: string;
  serving: string[];
  rows: { source: string; cells: Record<string, { success: number; errors: number }> }[];
}

describe('connectivity checks on healthy labs', () => {
  for (const scenario of ['multi-primary', 'multi-primary-single-network', 'primary-remote']) {
    it(`${scenario}: every source reaches every target and every cluster serves`, async () => {
      const run = await runChecksOnLab({ scenario }, { only: CONNECTIVITY, options: { probeCount: 6 } });
      expect(brokenProbes(run)).toEqual([]);
      expect(errorKeys(run)).toEqual([]);
      const matrix = resultOf(run.results, 'connectivity/cross-cluster', '*').data?.matrix as MatrixData[];
      const hello = matrix.find((m) => m.target.startsWith('helloworld.sample'));
      expect(hello).toBeDefined();
      expect(hello!.rows.map((r) => r.source).sort()).toEqual(['cluster1', 'cluster2']);
      for (const row of hello!.rows) {
        for (const cluster of ['cluster1', 'cluster2']) {
          expect(row.cells[cluster]?.success, `${row.source} served by ${cluster}`).toBeGreaterThan(0);
          expect(row.cells[cluster]?.errors).toBe(0);
        }
      }
      for (const cluster of ['cluster1', 'cluster2']) {
        expect(resultOf(run.results, 'connectivity/http', cluster).outcome).toBe('pass');
        expect(resultOf(run.results, 'connectivity/dns', cluster).outcome).toBe('pass');
      }
    });
  }
});

describe('connectivity checks on lab faults', () => {
  it('root-mismatch: http and cross-cluster fail on cluster2 naming the TLS error', async () => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: ['root-mismatch:cluster2'] }, { only: CONNECTIVITY });
    expect(brokenProbes(run)).toEqual([]);
    const keys = errorKeys(run);
    expect(keys).toContain('connectivity/http [cluster2] tlsFailure');
    expect(keys).toContain('connectivity/cross-cluster [cluster2] allRequestsFailed');
    const messages = run.errors.filter((f) => f.cluster === 'cluster2').map((f) => f.message);
    expect(messages.every((m) => /TLS error|CERTIFICATE_VERIFY_FAILED/.test(m))).toBe(true);
    expect(keys.filter((k) => k.includes('gateway-reachability') || k.includes('connectivity/dns'))).toEqual([]);
  });

  it('ewgw-lb-pending: http, cross-cluster and gateway-reachability fail on cluster2 naming the missing address', async () => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: ['ewgw-lb-pending:cluster2'] }, { only: CONNECTIVITY });
    expect(brokenProbes(run)).toEqual([]);
    const keys = errorKeys(run);
    expect(keys).toEqual(
      expect.arrayContaining([
        'connectivity/cross-cluster [cluster2] allRequestsFailed',
        'connectivity/gateway-reachability [cluster2] gatewayNoAddress',
        'connectivity/http [cluster2] timeout',
      ]),
    );
    for (const f of run.errors) expect(f.message).toMatch(/no address/);
  });

  it('eastwest-firewall: http and gateway-reachability fail on cluster2', async () => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: ['eastwest-firewall:cluster2'] }, { only: CONNECTIVITY });
    expect(brokenProbes(run)).toEqual([]);
    expect(errorKeys(run)).toEqual(
      expect.arrayContaining(['connectivity/gateway-reachability [cluster2] gatewayUnreachable', 'connectivity/http [cluster2] timeout']),
    );
  });

  it('cross-network-gateway-istio-mutual: cross-cluster fails on cluster1', async () => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: ['cross-network-gateway-istio-mutual:cluster1'] }, { only: CONNECTIVITY });
    expect(brokenProbes(run)).toEqual([]);
    expect(errorKeys(run)).toContain('connectivity/cross-cluster [cluster1] allRequestsFailed');
    expect(run.errors.find((f) => f.checkId === 'connectivity/cross-cluster')?.message).toMatch(/connection termination/);
  });

  it('remote-only-service-no-dns-capture: dns fails on cluster1', async () => {
    const run = await runChecksOnLab({ scenario: 'multi-primary', faults: ['remote-only-service-no-dns-capture:cluster1'] }, { only: CONNECTIVITY });
    expect(brokenProbes(run)).toEqual([]);
    expect(errorKeys(run)).toContain('connectivity/dns [cluster1] remoteOnlyNotResolved');
    expect(errorKeys(run).filter((k) => k.startsWith('connectivity/dns'))).toEqual(['connectivity/dns [cluster1] remoteOnlyNotResolved']);
  });

  it('an exec that hangs ends at the timeout as error, not a hang', async () => {
    const started = Date.now();
    const run = await runChecksOnLab(
      { scenario: 'multi-primary', transport: { cluster2: { execHang: true } } },
      { only: CONNECTIVITY, options: { probeTimeoutMs: 300, probeCount: 2 } },
    );
    // Bounded by the probe deadlines (a hang would never end): a wide margin for a loaded machine.
    expect(Date.now() - started).toBeLessThan(45_000);
    for (const id of ['connectivity/dns', 'connectivity/http', 'connectivity/gateway-reachability']) {
      const r = resultOf(run.results, id, 'cluster2');
      expect(r.outcome, id).toBe('error');
      expect(r.error).toMatch(/no result within|timed out/);
    }
    expect(resultOf(run.results, 'connectivity/http', 'cluster1').outcome).toBe('pass');
    // cross-cluster keeps cluster1's row and names cluster2 as a source whose probe broke.
    const cross = resultOf(run.results, 'connectivity/cross-cluster', '*');
    expect(cross.outcome).toBe('pass');
    expect(cross.findings.filter((f) => f.messageId === 'sourceProbeFailed').map((f) => [f.checkId, f.cluster, f.severity])).toEqual([['connectivity/cross-cluster', 'cluster2', 'info']]);
    const hello = (cross.data?.matrix as (MatrixData & { unmeasured: { source: string; probeFailed: boolean }[] })[]).find((m) => m.target.startsWith('helloworld.sample'))!;
    expect(hello.rows.map((r) => r.source)).toEqual(['cluster1']);
    expect(hello.rows[0].cells.cluster1.success + hello.rows[0].cells.cluster2.success).toBe(2);
    expect(hello.unmeasured).toEqual([{ source: 'cluster2', reason: expect.stringMatching(/no result within/), probeFailed: true }]);
  });
});
