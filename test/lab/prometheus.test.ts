// The lab's Prometheus: the PromQL subset it evaluates, the series it derives from the sim (baseline
// plus the proxies' counters), and its lifecycle in startLab.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { QUERY_ERRORS, QUERY_P95, QUERY_REQUESTS } from '../../src/checks/observability/cross-cluster-traffic.ts';
import { startLab } from '../../src/lab/index.ts';
import { buildMeshState } from '../../src/lab/model/index.ts';
import { labTrafficSeries, startLabPrometheus } from '../../src/lab/prometheus.ts';
import { evaluate, PromQLError, type LabSeries } from '../../src/lab/promql.ts';
import { meshSimOf } from '../../src/lab/sim/mesh.ts';
import { httpRequest, resolveName, type Client } from '../../src/lab/sim/traffic.ts';
import { fakeEndpoints } from './model/helpers.ts';

const series = (name: string, labels: Record<string, string>, perSecond: number, increase = 0): LabSeries => ({ labels: { __name__: name, ...labels }, perSecond, increase });

describe('lab PromQL', () => {
  const requests = [
    series('req', { src: 'a', dst: 'b', code: '200' }, 3),
    series('req', { src: 'a', dst: 'b', code: '503' }, 1, 60),
    series('req', { src: 'b', dst: 'a', code: '200' }, 2),
    series('other', { src: 'a', dst: 'b', code: '200' }, 100),
  ];

  it('rate over a window adds the increase spread over it; sum by either position', () => {
    const byPair = (q: string) => Object.fromEntries(evaluate(q, requests).map((s) => [`${s.labels.src}>${s.labels.dst}`, s.value]));
    expect(byPair('sum by (src, dst) (rate(req[1m]))')).toEqual({ 'a>b': 5, 'b>a': 2 });
    expect(byPair('sum(rate(req{code=~"5.."}[5m])) by (src,dst)')).toEqual({ 'a>b': 1.2 });
    expect(byPair('sum by (src, dst) (rate(req{code!~"2.*",src!="b"}[1m]))')).toEqual({ 'a>b': 2 });
    expect(evaluate('sum(rate(req[1m]))', requests)).toEqual([{ labels: {}, value: 7 }]);
    expect(evaluate('rate(req{src="b"}[1m])', requests)).toEqual([{ labels: { src: 'b', dst: 'a', code: '200' }, value: 2 }]);
  });

  it('histogram_quantile interpolates inside the bucket, NaN without observations, the last finite bound past it', () => {
    const buckets = (counts: number[]) => ['10', '100', '1000', '+Inf'].map((le, i) => series('h_bucket', { le, pair: 'x' }, counts[i]));
    const q = (counts: number[], phi = 0.5) => evaluate(`histogram_quantile(${phi}, sum by (le, pair) (rate(h_bucket[5m])))`, buckets(counts))[0];
    expect(q([0, 10, 10, 10])).toEqual({ labels: { pair: 'x' }, value: 55 });
    expect(q([0, 0, 0, 0]).value).toBeNaN();
    expect(q([0, 0, 0, 10], 0.95).value).toBe(1000);
  });

  it.each(['up', 'sum without (le) (rate(req[1m]))', 'rate(req{src=dst}[1m])', 'sum(rate(req[1m])', 'rate(req[1m]) / rate(req[1m])'])('rejects %s as bad_data', (query) => {
    expect(() => evaluate(query, requests)).toThrow(PromQLError);
  });
});

describe('lab traffic series', () => {
  it('baseline: every cross-cluster pair of a healthy mesh answers 2xx', async () => {
    const sim = meshSimOf(await buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(2) }));
    const all = labTrafficSeries(sim);
    expect(evaluate(QUERY_ERRORS, all)).toEqual([]);
    expect(evaluate(QUERY_REQUESTS, all)).toHaveLength(4);
    expect(evaluate(QUERY_P95, all).every((s) => s.value < 100)).toBe(true);
  });

  it('the lab curl\'s requests add to the rate of their pair (root-mismatch: as 503)', async () => {
    const sim = meshSimOf(await buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(2), faults: [{ name: 'root-mismatch', cluster: 'cluster2' }] }));
    const view = sim.view('cluster1');
    const pod = [...view.pods.values()].find((p) => p.metadata.namespace === 'sample' && p.metadata.labels?.app === 'curl')!;
    const client: Client = { sim, view, pod, viaSidecar: true };
    const errorsTo = () => evaluate(QUERY_ERRORS.replace('[5m]', '[1m]'), labTrafficSeries(sim)).find((s) => s.labels.source_cluster === 'cluster1' && s.labels.destination_cluster === 'cluster2')?.value ?? 0;
    const before = errorsTo();
    const resolved = resolveName(client, 'helloworld.sample')!;
    const statuses = Array.from({ length: 30 }, () => httpRequest(client, resolved, 5000, '/hello', 5)).map((o) => (o.kind === 'response' ? o.status : o.kind));
    const failed = statuses.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(0);
    expect(errorsTo() - before).toBeCloseTo(failed / 60, 6);
  });
});

describe('startLabPrometheus', () => {
  it('answers from its last scrape: curls after it show only at the next scrape', async () => {
    const mesh = await buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(2), faults: [{ name: 'root-mismatch', cluster: 'cluster2' }] });
    const sim = meshSimOf(mesh);
    const scraping = await startLabPrometheus(mesh);
    const live = await startLabPrometheus(mesh, { scrapeIntervalMs: 0 });
    const total = async (url: string) => {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('sum(rate(istio_requests_total{reporter="source"}[1m]))')}`);
      return Number(((await res.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0].value[1]);
    };
    try {
      const before = await total(scraping.url);
      expect(await total(live.url)).toBe(before);
      const view = sim.view('cluster1');
      const pod = [...view.pods.values()].find((p) => p.metadata.namespace === 'sample' && p.metadata.labels?.app === 'curl')!;
      const client: Client = { sim, view, pod, viaSidecar: true };
      for (let i = 0; i < 6; i++) httpRequest(client, resolveName(client, 'helloworld.sample')!, 5000, '/hello', 5);
      expect(await total(scraping.url)).toBe(before);
      expect(await total(live.url)).toBeCloseTo(before + 6 / 60, 6);
    } finally {
      await scraping.stop();
      await live.stop();
    }
  });
});

describe('startLab({ prometheus: true })', () => {
  it('serves the query API on 127.0.0.1 and stops it with the lab', async () => {
    const lab = await startLab({ scenario: 'multi-primary', prometheus: true });
    const url = lab.prometheusUrl!;
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(QUERY_REQUESTS)}`);
      const body = (await res.json()) as { status: string; data: { resultType: string; result: unknown[] } };
      expect(body.status).toBe('success');
      expect(body.data.resultType).toBe('vector');
      expect(body.data.result).toHaveLength(4);
      const bad = await fetch(`${url}/api/v1/query?query=up`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errorType: string }).errorType).toBe('bad_data');
    } finally {
      await lab.stop();
    }
    const port = Number(new URL(url).port);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    expect((await startLab({ scenario: 'multi-primary' }).then(async (l) => (await l.stop(), l))).prometheusUrl).toBeUndefined();
  });
});
