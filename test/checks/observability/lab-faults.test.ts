// observability/cross-cluster-traffic against real labs with their Prometheus, queried over HTTP by
// the real client: healthy labs give no finding, faults that break cross-cluster traffic give 5xx on
// the affected pair.
import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/observability/cross-cluster-traffic.ts';
import { connectClusters } from '../../../src/cluster/connect.ts';
import { createPrometheusClient } from '../../../src/cluster/prometheus.ts';
import { runChecks } from '../../../src/engine/run.ts';
import type { CheckResult } from '../../../src/engine/types.ts';
import { startLab } from '../../../src/lab/index.ts';
import { discoverTopology } from '../../../src/mesh/discovery.ts';

async function runOnLab(scenario: string, faults: string[] = []): Promise<CheckResult> {
  const lab = await startLab({ scenario, faults, prometheus: true });
  try {
    const { readers } = await connectClusters({ kubeconfigPath: lab.kubeconfigPath, istioNamespace: 'istio-system', contexts: lab.clusters.map((c) => c.context) });
    const { clusters, mesh } = await discoverTopology(readers, 'istio-system');
    const prometheus = createPrometheusClient(lab.prometheusUrl!);
    const [result] = await runChecks({
      checks: [check],
      readers,
      clusterInfos: clusters,
      mesh,
      options: { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date(), prometheus: lab.prometheusUrl },
      timeoutMs: 20_000,
      concurrency: 2,
      queryPrometheus: (promql, opts) => prometheus.query(promql, opts),
    });
    return result;
  } finally {
    await lab.stop();
  }
}

const keys = (result: CheckResult) => result.findings.map((f) => `[${f.cluster}] ${f.messageId}`);

describe('observability/cross-cluster-traffic on the lab', () => {
  it.each(['multi-primary', 'multi-primary-single-network', 'primary-remote'])('healthy %s: pass, traffic on every cross-cluster pair', async (scenario) => {
    const result = await runOnLab(scenario);
    expect(result.error).toBeUndefined();
    expect(keys(result)).toEqual([]);
    expect(result.outcome).toBe('pass');
    const pairs = (result.data?.traffic as { pairs: { source: string; destination: string; requestsPerSecond: number }[] }).pairs;
    expect(pairs.map((p) => `${p.source}>${p.destination}`)).toEqual(['cluster1>cluster2', 'cluster2>cluster1']);
    expect(pairs.every((p) => p.requestsPerSecond > 0)).toBe(true);
  });

  it('root-mismatch: 5xx both ways between the clusters', async () => {
    const result = await runOnLab('multi-primary', ['root-mismatch:cluster2']);
    expect(keys(result)).toEqual(['[cluster1] highErrorRate', '[cluster2] highErrorRate']);
    expect(result.findings.every((f) => f.severity === 'error')).toBe(true);
  });

  it.each(['ewgw-lb-pending', 'eastwest-firewall', 'cross-network-gateway-istio-mutual'])('%s on cluster2: 5xx from cluster1 to cluster2 only', async (fault) => {
    const result = await runOnLab('multi-primary', [`${fault}:cluster2`]);
    const errors = result.findings.filter((f) => f.severity === 'error').map((f) => `[${f.cluster}] ${f.messageId}`);
    expect(errors).toEqual(['[cluster1] highErrorRate']);
    expect(result.findings.find((f) => f.messageId === 'highErrorRate')?.message).toMatch(/cluster1 to cluster cluster2/);
  });
});
