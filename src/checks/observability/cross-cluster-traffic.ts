// Encodes Istio's standard metrics (https://istio.io/latest/docs/reference/config/metrics/) read per source -> destination cluster, as the seed article's PromQL does.
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterInfo, ContextOf, PromSample } from '../../engine/types.ts';
import type { TrafficDetail, TrafficPair } from '../../engine/details.ts';
import { BY_BROKEN_TRUST, BY_EXTERNAL_CONTROL_PLANE, BY_GATEWAY_ANYWHERE } from '../../engine/explanations.ts';

/** The rate window of every query: long enough to smooth scrapes (15-30 s), short enough to be "now". */
export const TRAFFIC_WINDOW = '5m';
/** Above this share of 5xx answers a cluster pair fails (the seed's alerting threshold). */
export const ERROR_RATE_THRESHOLD = 0.05;
/** Above this p95 a cluster pair is slow (the seed's CrossClusterHighLatency alert). */
export const P95_THRESHOLD_MS = 1000;

// reporter="source": every request is reported by both sidecars; counting one side avoids double
// counting and keeps requests that never reached the destination (connect failures, TLS errors).
// Ambient clients have no sidecar: ztunnel exports TCP metrics only, and HTTP request metrics come
// from the waypoint as reporter="waypoint" (istio/istio tests/integration/ambient/baseline_test.go:3252
// at eed52ebb), so those count too. A sidecar calling through a waypoint is then counted twice, which
// leaves the error ratio as it is.
// The seed's `source_cluster!=destination_cluster` is not valid PromQL (a matcher compares with a
// string, not another label): in-cluster pairs are dropped here instead, after the query.
const SELECTOR = 'reporter=~"source|waypoint",source_cluster!="unknown",destination_cluster!="unknown"';
const BY_PAIR = 'source_cluster, destination_cluster';

/** Requests per second by source and destination cluster. */
export const QUERY_REQUESTS = `sum by (${BY_PAIR}) (rate(istio_requests_total{${SELECTOR}}[${TRAFFIC_WINDOW}]))`;
/** 5xx answers per second by source and destination cluster. */
export const QUERY_ERRORS = `sum by (${BY_PAIR}) (rate(istio_requests_total{${SELECTOR},response_code=~"5.."}[${TRAFFIC_WINDOW}]))`;
/** p95 request duration (ms) by source and destination cluster. */
export const QUERY_P95 = `histogram_quantile(0.95, sum by (le, ${BY_PAIR}) (rate(istio_request_duration_milliseconds_bucket{${SELECTOR}}[${TRAFFIC_WINDOW}])))`;

const HAND_QUERY = "curl -sG {{prometheus}}/api/v1/query --data-urlencode 'query={{query}}'";

const check = defineCheck({
  id: 'observability/cross-cluster-traffic',
  category: 'observability',
  scope: 'mesh',
  needs: [],
  meta: {
    description: 'Cross-cluster requests succeed and are fast, per source -> destination cluster (Istio metrics in Prometheus)',
    details:
      'With --prometheus URL, the check asks Prometheus for Istio\'s standard metrics over the last ' +
      `${TRAFFIC_WINDOW}, as reported by the calling sidecar (reporter="source") or, for ambient clients, the waypoint (reporter="waypoint"), grouped by source_cluster and ` +
      'destination_cluster: the request rate, the rate of 5xx answers (istio_requests_total) and the 95th percentile ' +
      'of istio_request_duration_milliseconds. A pair of different clusters with more than 5% 5xx is an error (cross-cluster ' +
      'mTLS, the east-west gateway or its firewall is typically broken: Envoy answers 503 itself), a p95 above 1 s a ' +
      'warning. A cluster of the mesh whose CLUSTER_ID appears in no series at all (neither as source nor as destination) ' +
      'is a warning: its sidecars are not scraped, or its proxies do not know their cluster id. Clusters whose id is ' +
      'unknown cannot be matched and are not judged. The pair matrix is attached as `traffic`. Skipped without --prometheus.',
    docs: 'https://istio.io/latest/docs/reference/config/metrics/',
    messages: {
      highErrorRate: {
        template:
          '{{percent}}% of requests from cluster {{source}} to cluster {{destination}} fail with 5xx ({{rps}} req/s over {{window}})',
        severity: 'error',
        explainedBy: [...BY_GATEWAY_ANYWHERE, ...BY_BROKEN_TRUST, ...BY_EXTERNAL_CONTROL_PLANE],
        hint:
          `See which codes and flags (UF: upstream connect failure, UH: no healthy upstream, URX: retries exhausted): ${HAND_QUERY}; then run ` +
          'meshdoctor connectivity and meshdoctor certificates on both clusters, and look at a caller\'s sidecar: ' +
          'kubectl logs -n <caller namespace> <caller pod> -c istio-proxy | grep " 503 "',
      },
      highLatency: {
        template: 'p95 latency from cluster {{source}} to cluster {{destination}} is {{p95}} ms over {{window}} (above {{threshold}} ms)',
        severity: 'warning',
        hint:
          `Confirm by hand: ${HAND_QUERY}; a p95 of about 10 s is Envoy's connect timeout (the peer gateway does not ` +
          'answer: firewall, security group); otherwise compare with in-cluster latency of the same service.',
      },
      noMetrics: {
        template: 'No Istio request metrics mention cluster {{cluster}} (CLUSTER_ID {{clusterId}}) over {{window}}',
        severity: 'warning',
        hint:
          `Look for its series: ${HAND_QUERY}; check that Prometheus scrapes that cluster's sidecars (federation or ` +
          'remote write), that its workloads receive traffic, and that the proxies carry ISTIO_META_CLUSTER_ID.',
      },
    },
  },
  async run(ctx) {
    const query = ctx.queryPrometheus;
    if (!query) return ctx.skip('no --prometheus URL given');
    const [requests, errors, p95] = await Promise.all([query(QUERY_REQUESTS), query(QUERY_ERRORS), query(QUERY_P95)]);

    const seen = new Set<string>();
    const pairs = new Map<string, TrafficPair>();
    for (const sample of requests) {
      const key = pairKey(sample);
      if (!key) continue;
      seen.add(sample.labels.source_cluster).add(sample.labels.destination_cluster);
      if (sample.labels.source_cluster === sample.labels.destination_cluster) continue;
      pairs.set(key, { source: sample.labels.source_cluster, destination: sample.labels.destination_cluster, requestsPerSecond: sample.value, errorRate: 0 });
    }
    for (const sample of errors) {
      const pair = pairs.get(pairKey(sample) ?? '');
      // Capped: the two queries are evaluated a moment apart, and a scrape in between can tip the ratio over 1.
      if (pair && pair.requestsPerSecond > 0 && Number.isFinite(sample.value)) pair.errorRate = Math.min(1, sample.value / pair.requestsPerSecond);
    }
    for (const sample of p95) {
      const pair = pairs.get(pairKey(sample) ?? '');
      // NaN: no observation in the window; +Inf: every observation above the highest bucket.
      if (pair && !Number.isNaN(sample.value)) pair.p95Ms = sample.value;
    }

    const matrix = [...pairs.values()].sort((a, b) => a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination));
    const traffic: TrafficDetail = {
      window: TRAFFIC_WINDOW,
      errorRateThreshold: ERROR_RATE_THRESHOLD,
      p95ThresholdMs: P95_THRESHOLD_MS,
      pairs: matrix.map((p) => ({ ...p, requestsPerSecond: round(p.requestsPerSecond, 3), errorRate: round(p.errorRate, 4) })),
    };
    ctx.attach('traffic', traffic);

    const prometheus = ctx.options.prometheus ?? '<prometheus-url>';
    const nameOf = (clusterId: string) => ctx.clusterInfos.find((c) => c.clusterId === clusterId)?.name;
    for (const pair of matrix) {
      const cluster = nameOf(pair.source) ?? '*';
      const selector = `source_cluster="${pair.source}",destination_cluster="${pair.destination}"`;
      if (pair.errorRate > ERROR_RATE_THRESHOLD) {
        ctx.report({
          messageId: 'highErrorRate',
          cluster,
          data: {
            source: pair.source,
            destination: pair.destination,
            percent: round(pair.errorRate * 100, 1),
            rps: round(pair.requestsPerSecond, 2),
            window: TRAFFIC_WINDOW,
            prometheus,
            query: `sum by (response_code, response_flags) (rate(istio_requests_total{reporter=~"source|waypoint",${selector}}[${TRAFFIC_WINDOW}]))`,
          },
        });
      }
      if (pair.p95Ms !== undefined && pair.p95Ms > P95_THRESHOLD_MS) {
        ctx.report({
          messageId: 'highLatency',
          cluster,
          data: {
            source: pair.source,
            destination: pair.destination,
            p95: Number.isFinite(pair.p95Ms) ? Math.round(pair.p95Ms) : 'over the highest bucket',
            threshold: P95_THRESHOLD_MS,
            window: TRAFFIC_WINDOW,
            prometheus,
            query: `histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter=~"source|waypoint",${selector}}[${TRAFFIC_WINDOW}])))`,
          },
        });
      }
    }
    reportSilentClusters(ctx, ctx.clusterInfos, seen, prometheus);
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/** Clusters of the mesh whose id no series mentions. */
function reportSilentClusters(ctx: Ctx, infos: ClusterInfo[], seen: Set<string>, prometheus: string): void {
  for (const info of infos) {
    if (!info.clusterId || seen.has(info.clusterId)) continue;
    ctx.report({
      messageId: 'noMetrics',
      cluster: info.name,
      data: {
        cluster: info.name,
        clusterId: info.clusterId,
        window: TRAFFIC_WINDOW,
        prometheus,
        query: `count by (reporter, source_cluster, destination_cluster) (istio_requests_total{source_cluster="${info.clusterId}"} or istio_requests_total{destination_cluster="${info.clusterId}"})`,
      },
    });
  }
}

/** `source|destination` of a sample, or undefined when a label is missing (a foreign series). */
function pairKey(sample: PromSample): string | undefined {
  const { source_cluster: source, destination_cluster: destination } = sample.labels;
  return source && destination ? `${source}|${destination}` : undefined;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
