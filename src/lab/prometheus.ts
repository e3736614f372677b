// The lab's Prometheus: an HTTP server on 127.0.0.1 answering instant queries (/api/v1/query) over
// Istio's standard request metrics, derived from the simulation: a steady baseline of traffic from
// one injected workload per cluster to every endpoint of every mesh service its istiod knows (each
// path replayed through the sim's Envoy, so faults that break a path answer 503 there), plus what the
// lab's curl really sent (the per-proxy Envoy host counters). Like a real Prometheus it answers from
// its last scrape (every 15 s): a short run sees the state the lab started with, whatever the
// connectivity checks curl meanwhile, so reports stay deterministic.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../cluster/types.ts';
import type { LabMeshState } from './types.ts';
import { meshSimOf, type MeshSim } from './sim/mesh.ts';
import type { ClusterView } from './sim/cluster-view.ts';
import { outboundCluster, proxyNetwork } from './sim/envoy.ts';
import { mtlsVerifies, throughEnvoy, type Client } from './sim/traffic.ts';
import { ambientViewOf, isAmbientPod } from './sim/ambient.ts';
import { hasSidecar, podReady, workloadNameOf } from './sim/objects.ts';
import { evaluate, PromQLError, type LabSeries } from './promql.ts';

/** A running lab Prometheus. */
export interface LabPrometheus {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Stop listening and drop open connections; safe to call twice. */
  stop(): Promise<void>;
}

/** Requests per second of the baseline, per client -> endpoint path. */
const BASELINE_RPS = 1;
/** Envoy's connect timeout as Istio configures it: a path that times out answers 503 after it. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Istio's default buckets of istio_request_duration_milliseconds. */
const DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** Prometheus' default scrape interval. */
const SCRAPE_INTERVAL_MS = 15_000;

/** Options of the lab Prometheus. */
export interface LabPrometheusOptions {
  /** How often the series are re-derived from the sim (default 15 s; 0: on every query). */
  scrapeIntervalMs?: number;
}

/** Start the lab's Prometheus for a mesh on an ephemeral port of 127.0.0.1. */
export async function startLabPrometheus(mesh: LabMeshState, opts: LabPrometheusOptions = {}): Promise<LabPrometheus> {
  const sim = meshSimOf(mesh);
  const interval = opts.scrapeIntervalMs ?? SCRAPE_INTERVAL_MS;
  let scraped = labTrafficSeries(sim);
  let scrapedAt = Date.now();
  const currentSeries = () => {
    if (Date.now() - scrapedAt >= interval) {
      scraped = labTrafficSeries(sim);
      scrapedAt = Date.now();
    }
    return scraped;
  };
  const server = createServer((req, res) => {
    handle(currentSeries, mesh.clock, req, res).catch((err: unknown) => reply(res, 500, { status: 'error', errorType: 'internal', error: String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function handle(currentSeries: () => LabSeries[], clock: () => Date, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://lab');
  if (url.pathname !== '/api/v1/query') return reply(res, 404, { status: 'error', errorType: 'not_found', error: `the lab's Prometheus serves only /api/v1/query, not ${url.pathname}` });
  let params = url.searchParams;
  if (req.method === 'POST') params = new URLSearchParams(await readBody(req));
  else if (req.method !== 'GET') return reply(res, 405, { status: 'error', errorType: 'bad_data', error: `method ${req.method} not allowed` });
  const query = params.get('query');
  if (!query) return reply(res, 400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": no query given' });
  try {
    const now = clock().getTime() / 1000;
    const result = evaluate(query, currentSeries()).map((s) => ({ metric: s.labels, value: [now, formatValue(s.value)] }));
    reply(res, 200, { status: 'success', data: { resultType: 'vector', result } });
  } catch (err) {
    if (!(err instanceof PromQLError)) throw err;
    reply(res, 400, { status: 'error', errorType: 'bad_data', error: `invalid parameter "query": ${err.message}` });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** One kind of request between two workloads, with how often it happens. */
interface Observation {
  source: ClusterView;
  sourcePod: KubeObject;
  destination: ClusterView;
  destinationService: string;
  code: number;
  ms: number;
  perSecond: number;
  increase: number;
  /** Who reports it (default: the source sidecar, and the destination one when it got there). */
  reporters?: string[];
}

/**
 * Istio's request metrics as the lab's proxies would export them right now: istio_requests_total and
 * istio_request_duration_milliseconds_bucket, reported by the source proxy and, for requests that
 * reached the destination workload, by the destination proxy too.
 */
export function labTrafficSeries(sim: MeshSim): LabSeries[] {
  const series = new Map<string, LabSeries>();
  const add = (labels: Record<string, string>, perSecond: number, increase: number) => {
    const key = JSON.stringify(Object.entries(labels));
    const existing = series.get(key);
    if (existing) {
      existing.perSecond += perSecond;
      existing.increase += increase;
    } else series.set(key, { labels, perSecond, increase });
  };
  for (const o of [...baselineTraffic(sim), ...ambientBaselineTraffic(sim), ...countedTraffic(sim)]) {
    const reporters = o.reporters ?? (o.code < 500 ? ['source', 'destination'] : ['source']);
    for (const reporter of reporters) {
      const labels = {
        reporter,
        source_cluster: o.source.id,
        source_workload: workloadNameOf(o.sourcePod),
        source_workload_namespace: o.sourcePod.metadata.namespace ?? 'default',
        destination_cluster: o.destination.id,
        destination_service: o.destinationService,
        response_code: String(o.code),
      };
      add({ __name__: 'istio_requests_total', ...labels }, o.perSecond, o.increase);
      for (const le of [...DURATION_BUCKETS_MS.map(String), '+Inf']) {
        const within = le === '+Inf' || o.ms <= Number(le);
        add({ __name__: 'istio_request_duration_milliseconds_bucket', ...labels, le }, within ? o.perSecond : 0, within ? o.increase : 0);
      }
    }
  }
  return [...series.values()];
}

/** The workload of a cluster that sends the baseline traffic: its first ready injected application pod. */
function baselineClient(view: ClusterView): KubeObject | undefined {
  return [...view.pods.values()]
    .filter((p) => hasSidecar(p) && podReady(p) && p.metadata.namespace !== view.istioNamespace && p.metadata.namespace !== 'kube-system')
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))[0];
}

/** Steady traffic: every endpoint path of every mesh service, from each cluster's baseline client. */
function baselineTraffic(sim: MeshSim): Observation[] {
  const out: Observation[] = [];
  for (const view of sim.views.values()) {
    const pod = baselineClient(view);
    const istiod = sim.controlPlaneOf(view.name);
    if (!pod || !istiod) continue;
    const client: Client = { sim, view, pod, viaSidecar: true };
    for (const service of istiod.services.values()) {
      if (service.headless || service.namespace === view.istioNamespace || service.namespace === 'kube-system') continue;
      for (const port of service.ports) {
        for (const host of outboundCluster(istiod, proxyNetwork(view, pod), service, port, view.id).hosts) {
          // Application traffic only: endpoints that are pods (not the API server behind kubernetes.default).
          for (const ep of host.endpoints.filter((e) => e.pod)) {
            // A deadline under Envoy's connect timeout makes a connect timeout visible as such.
            const outcome = throughEnvoy(client, host, ep, '/hello', 1);
            const { code, ms } = outcome.kind === 'response' ? { code: outcome.status, ms: outcome.ms } : outcome.kind === 'timeout' ? { code: 503, ms: CONNECT_TIMEOUT_MS } : { code: 503, ms: 1 };
            out.push({ source: view, sourcePod: pod, destination: ep.view, destinationService: service.hostname, code, ms, perSecond: BASELINE_RPS, increase: 0 });
          }
        }
      }
    }
  }
  return out;
}

/**
 * Steady ambient traffic: from each cluster's first ready ambient pod to every Service behind a
 * waypoint, over each workload ztunnel knows for it. ztunnel reports TCP metrics only; HTTP request
 * metrics come from the waypoint, as reporter="waypoint" (istio/istio
 * tests/integration/ambient/baseline_test.go:3252 at eed52ebb).
 */
function ambientBaselineTraffic(sim: MeshSim): Observation[] {
  const out: Observation[] = [];
  for (const view of sim.views.values()) {
    const pod = [...view.pods.values()]
      .filter((p) => isAmbientPod(p) && podReady(p))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))[0];
    const istiod = sim.controlPlaneOf(view.name);
    if (!pod || !istiod) continue;
    const ambient = ambientViewOf(sim, istiod);
    for (const entry of ambient.services.filter((s) => s.waypoint)) {
      const host = `${entry.namespace}/${entry.hostname}`;
      for (const w of ambient.workloads.filter((x) => x.services.includes(host) && x.pods.length > 0)) {
        const gwReady = !w.gateway || [...w.gateway.view.pods.values()].some((p) => p.metadata.labels?.['gateway.networking.k8s.io/gateway-name'] === w.gateway!.name && podReady(p));
        for (const target of w.pods) {
          const ok = gwReady && (target.view === view || mtlsVerifies(sim, view, target.view));
          out.push({ source: view, sourcePod: pod, destination: target.view, destinationService: entry.hostname, code: ok ? 200 : 503, ms: target.view === view ? 3 : 21, perSecond: BASELINE_RPS, increase: 0, reporters: ['waypoint'] });
        }
      }
    }
  }
  return out;
}

/** What the lab's curl sent, from the per-proxy Envoy host counters (`cluster/ns/pod` -> cluster -> host). */
function countedTraffic(sim: MeshSim): Observation[] {
  const out: Observation[] = [];
  for (const [proxyKey, byCluster] of sim.stats) {
    const [clusterName, namespace, podName] = proxyKey.split('/');
    const view = sim.views.get(clusterName);
    const pod = view?.pods.get(`${namespace}/${podName}`);
    if (!view || !pod) continue;
    for (const [envoyCluster, byHost] of byCluster) {
      const destinationService = envoyCluster.split('|')[3] ?? envoyCluster;
      for (const [hostKey, stats] of byHost) {
        const destination = destinationOf(sim, view, hostKey);
        if (!destination) continue;
        const base = { source: view, sourcePod: pod, destination, destinationService, perSecond: 0 };
        const timeouts = Math.min(stats.rq_timeout, stats.rq_error);
        if (stats.rq_success) out.push({ ...base, code: 200, ms: destination === view ? 2 : 20, increase: stats.rq_success });
        if (timeouts) out.push({ ...base, code: 503, ms: CONNECT_TIMEOUT_MS, increase: timeouts });
        if (stats.rq_error > timeouts) out.push({ ...base, code: 503, ms: 1, increase: stats.rq_error - timeouts });
      }
    }
  }
  return out;
}

/** The cluster behind an Envoy host `addr:port`: a peer network's gateway, else the pod with that IP. */
function destinationOf(sim: MeshSim, source: ClusterView, hostKey: string): ClusterView | undefined {
  const at = hostKey.lastIndexOf(':');
  const addr = hostKey.slice(0, at);
  const port = Number(hostKey.slice(at + 1));
  const gateway = sim.controlPlaneOf(source.name)?.gateways.find((g) => g.addr === addr && g.port === port);
  if (gateway?.view) return gateway.view;
  const holdsPod = (v: ClusterView) => [...v.pods.values()].some((p) => p.status?.podIP === addr);
  if (holdsPod(source)) return source;
  const views = [...sim.views.values()];
  return views.find((v) => v.physicalNetwork === source.physicalNetwork && holdsPod(v)) ?? views.find(holdsPod);
}
