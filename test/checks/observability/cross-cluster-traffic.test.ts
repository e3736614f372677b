// observability/cross-cluster-traffic through the engine, with a fake ctx.queryPrometheus answering
// the check's three queries from a table of cluster pairs.
import { describe, expect, it } from 'vitest';
import check, { QUERY_ERRORS, QUERY_P95, QUERY_REQUESTS } from '../../../src/checks/observability/cross-cluster-traffic.ts';
import { AccessError } from '../../../src/cluster/types.ts';
import { runChecks, type RunInput } from '../../../src/engine/run.ts';
import type { PromSample } from '../../../src/engine/types.ts';
import { discoverTopology } from '../../../src/mesh/discovery.ts';
import { ISTIO_NAMESPACE, openFixture } from '../helpers.ts';

/** What the fake Prometheus knows per `source>destination`: req/s, 5xx req/s, p95 ms. */
type Traffic = Record<string, { rps: number; errors?: number; p95?: number }>;

const HEALTHY: Traffic = {
  'cluster1>cluster1': { rps: 10, p95: 3 },
  'cluster1>cluster2': { rps: 4, p95: 25 },
  'cluster2>cluster1': { rps: 4, p95: 25 },
  'cluster2>cluster2': { rps: 10, p95: 3 },
};

function fakePrometheus(traffic: Traffic): { queries: string[]; query: NonNullable<RunInput['queryPrometheus']> } {
  const queries: string[] = [];
  const samples = (value: (t: Traffic[string]) => number | undefined): PromSample[] =>
    Object.entries(traffic).flatMap(([pair, t]) => {
      const [source_cluster, destination_cluster] = pair.split('>');
      const v = value(t);
      return v === undefined ? [] : [{ labels: { source_cluster, destination_cluster }, value: v }];
    });
  return {
    queries,
    query: async (promql) => {
      queries.push(promql);
      if (promql === QUERY_REQUESTS) return samples((t) => t.rps);
      if (promql === QUERY_ERRORS) return samples((t) => t.errors);
      if (promql === QUERY_P95) return samples((t) => t.p95 ?? NaN);
      throw new Error(`unexpected query ${promql}`);
    },
  };
}

async function run(queryPrometheus?: RunInput['queryPrometheus']) {
  const { capturedAt, clusters: readers } = await openFixture('multi-primary-healthy');
  const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
  const [result] = await runChecks({
    checks: [check],
    readers,
    clusterInfos: clusters,
    mesh,
    options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: capturedAt, prometheus: 'http://prometheus:9090' },
    timeoutMs: 10_000,
    concurrency: 2,
    queryPrometheus,
  });
  return result;
}

const keys = (result: Awaited<ReturnType<typeof run>>) => result.findings.map((f) => `${f.checkId} [${f.cluster}] ${f.messageId} ${f.severity}`);

describe('observability/cross-cluster-traffic', () => {
  it('skips without --prometheus', async () => {
    const result = await run(undefined);
    expect(result.outcome).toBe('skip');
    expect(result.skipReason).toBe('no --prometheus URL given');
  });

  it('passes on healthy traffic and attaches the cross-cluster pair matrix', async () => {
    const prometheus = fakePrometheus(HEALTHY);
    const result = await run(prometheus.query);
    expect(result.outcome).toBe('pass');
    expect(prometheus.queries.sort()).toEqual([QUERY_ERRORS, QUERY_P95, QUERY_REQUESTS].sort());
    expect(result.data?.traffic).toEqual({
      window: '5m',
      errorRateThreshold: 0.05,
      p95ThresholdMs: 1000,
      pairs: [
        { source: 'cluster1', destination: 'cluster2', requestsPerSecond: 4, errorRate: 0, p95Ms: 25 },
        { source: 'cluster2', destination: 'cluster1', requestsPerSecond: 4, errorRate: 0, p95Ms: 25 },
      ],
    });
  });

  it('highErrorRate: more than 5% 5xx on a pair, reported on the source cluster', async () => {
    const result = await run(fakePrometheus({ ...HEALTHY, 'cluster1>cluster2': { rps: 4, errors: 1, p95: 25 }, 'cluster2>cluster1': { rps: 100, errors: 4, p95: 25 } }).query);
    expect(keys(result)).toEqual(['observability/cross-cluster-traffic [cluster1] highErrorRate error']);
    expect(result.outcome).toBe('fail');
  });

  it('in-cluster errors are not cross-cluster findings', async () => {
    const result = await run(fakePrometheus({ ...HEALTHY, 'cluster1>cluster1': { rps: 10, errors: 10, p95: 3 } }).query);
    expect(result.outcome).toBe('pass');
  });

  it('highLatency: p95 above 1 s (including above the highest bucket)', async () => {
    const result = await run(fakePrometheus({ ...HEALTHY, 'cluster1>cluster2': { rps: 4, p95: 10_000 }, 'cluster2>cluster1': { rps: 4, p95: Infinity } }).query);
    expect(keys(result)).toEqual(['observability/cross-cluster-traffic [cluster1] highLatency warning', 'observability/cross-cluster-traffic [cluster2] highLatency warning']);
    expect(result.outcome).toBe('warn');
  });

  it('noMetrics: a cluster of the mesh appears in no series', async () => {
    const result = await run(fakePrometheus({ 'cluster1>cluster1': { rps: 10, p95: 3 } }).query);
    expect(keys(result)).toEqual(['observability/cross-cluster-traffic [cluster2] noMetrics warning']);
  });

  it('a Prometheus that cannot be asked is a broken probe (error outcome), not a mesh finding', async () => {
    const result = await run(async () => {
      throw new AccessError('unreachable', '*', 'Prometheus at http://prometheus:9090 unreachable: ECONNREFUSED');
    });
    expect(result.outcome).toBe('error');
    expect(result.error).toMatch(/ECONNREFUSED/);
    expect(result.findings).toEqual([]);
  });
});
