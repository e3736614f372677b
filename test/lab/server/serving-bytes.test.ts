// What the lab serves from its caches (issue 19) is byte for byte what it served before them: list
// bodies equal JSON.stringify of the whole list, a changed list is served changed, exec output is
// framed at exactly 64 KiB of UTF-8 per frame, and Envoy's /clusters shows the traffic sent since
// the last reading.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ExecResult, KubeObject } from '../../../src/cluster/types.ts';
import { startLab, type RunningLab } from '../../../src/lab/index.ts';
import { startApiServer } from '../../../src/lab/server/index.ts';
import { framesOf } from '../../../src/lab/server/exec-session.ts';
import { debugRequest } from '../../../src/lab/sim/debug.ts';
import { clustersText, hostStats, outboundClusters, proxyNetwork, statsOf, type LbHost, type OutboundCluster } from '../../../src/lab/sim/envoy.ts';
import { meshSimOf } from '../../../src/lab/sim/index.ts';
import { MeshSim, type ProxyStats } from '../../../src/lab/sim/mesh.ts';
import { proxyContainer } from '../../../src/lab/sim/objects.ts';
import type { LabApiServer, LabEndpoint, LabExecOutcome, LabExecRequest } from '../../../src/lab/types.ts';
import { ADMIN_TOKEN, FakeBackend } from './fake-backend.ts';
import { call } from './helpers.ts';

const FRAME = 64 * 1024;

/** The frames the exec session sent before its caches: the UTF-8 bytes cut every 64 KiB, each behind the channel byte. */
function framesBefore(channel: number, text: string): Buffer[] {
  const data = Buffer.from(text);
  const out: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += FRAME) out.push(Buffer.concat([Buffer.from([channel]), data.subarray(offset, offset + FRAME)]));
  return out;
}

/** A big output whose multi-byte characters straddle frame boundaries. */
function bigText(seed: number): string {
  const pieces = ['a', 'é', '€', '𝄞', '{"k":"v"}\n', '\ud800', 'zz'];
  let text = '';
  let x = seed;
  while (text.length < 3 * FRAME + 123) {
    x = (x * 1103515245 + 12345) % 2147483648;
    text += pieces[x % pieces.length];
  }
  return text;
}

/** A frozen outcome handed out on every call, as the sim hands out a debug body rendered once. */
class BigOutputBackend extends FakeBackend {
  readonly shared: ExecResult = Object.freeze({ exitCode: 0, stdout: bigText(7), stderr: '' });
  override async exec(req: LabExecRequest): Promise<LabExecOutcome> {
    if (req.command[0] === 'big') return this.shared;
    return super.exec(req);
  }
}

/** Run a command over a raw exec WebSocket; every frame received, in order. */
function execFrames(endpoint: LabEndpoint, token: string, pod: string, container: string, command: string[]): Promise<Buffer[]> {
  const query = [...command.map((c) => `command=${encodeURIComponent(c)}`), `container=${container}`, 'stdout=1', 'stderr=1'].join('&');
  const ws = new WebSocket(`${endpoint.server.replace('https', 'wss')}/api/v1/namespaces/${pod}/exec?${query}`, ['v5.channel.k8s.io'], { ca: endpoint.caPem, headers: { authorization: `Bearer ${token}` } });
  const frames: Buffer[] = [];
  ws.on('message', (data: Buffer) => frames.push(data));
  return new Promise((resolve, reject) => {
    ws.on('close', () => resolve(frames));
    ws.on('error', reject);
  });
}

/** /clusters as src/lab/sim/envoy.ts rendered it before its plans (issue 19), line by line. */
function clustersTextBefore(clusters: readonly OutboundCluster[], stats: ProxyStats): string {
  const lines: string[] = [];
  const header = (name: string, eds: boolean) => {
    lines.push(`${name}::observability_name::${name}`);
    for (const [prio, conn, pending, req, retries] of [
      ['default_priority', 4294967295, 4294967295, 4294967295, 4294967295],
      ['high_priority', 1024, 1024, 1024, 3],
    ] as const) {
      lines.push(`${name}::${prio}::max_connections::${conn}`, `${name}::${prio}::max_pending_requests::${pending}`, `${name}::${prio}::max_requests::${req}`, `${name}::${prio}::max_retries::${retries}`);
    }
    lines.push(`${name}::added_via_api::true`);
    if (eds) lines.push(`${name}::eds_service_name::${name}`);
  };
  const host = (name: string, addr: string, h: LbHost | undefined) => {
    const s = hostStats(stats, name, addr);
    for (const k of ['cx_active', 'cx_connect_fail', 'cx_total', 'rq_active', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total'] as const) lines.push(`${name}::${addr}::${k}::${s[k]}`);
    const [region = '', zone = '', subZone = ''] = (h?.locality ?? '').split('/');
    lines.push(`${name}::${addr}::hostname::`, `${name}::${addr}::health_flags::healthy`, `${name}::${addr}::weight::${h?.weight ?? 1}`, `${name}::${addr}::region::${region}`, `${name}::${addr}::zone::${zone}`);
    lines.push(`${name}::${addr}::sub_zone::${subZone}`, `${name}::${addr}::canary::false`, `${name}::${addr}::priority::0`, `${name}::${addr}::success_rate::-1`, `${name}::${addr}::local_origin_success_rate::-1`);
  };
  header('BlackHoleCluster', false);
  for (const c of clusters) {
    header(c.name, !c.service.headless);
    for (const h of c.hosts) host(c.name, `${h.address}:${h.port}`, h);
  }
  header('PassthroughCluster', false);
  header('xds-grpc', false);
  host('xds-grpc', './etc/istio/proxy/XDS', undefined);
  return `${lines.join('\n')}\n`;
}

const stdoutOf = (frames: Buffer[]): string => Buffer.concat(frames.filter((f) => f[0] === 1).map((f) => f.subarray(1))).toString('utf8');

describe('exec framing', () => {
  it('cuts output into the frames it was cut into before, multi-byte characters and lone surrogates included', () => {
    for (const text of ['', 'x', 'é'.repeat(FRAME), bigText(1), bigText(2), `${'a'.repeat(FRAME - 1)}€b`, '\ud83d'.repeat(FRAME + 5)]) {
      expect(framesOf(1, text)).toEqual(framesBefore(1, text));
      expect(framesOf(2, Buffer.from(text))).toEqual(framesBefore(2, text));
    }
  });
});

describe('the API server', () => {
  let server: LabApiServer;
  let backend: BigOutputBackend;
  beforeAll(async () => {
    server = await startApiServer({ cluster: 'cluster1' });
    backend = new BigOutputBackend();
    const pods = backend.objects.pods!;
    for (let i = 0; i < 40; i++) {
      pods.push({ ...pods[1], metadata: { ...pods[1].metadata, name: `many-${String(i).padStart(2, '0')}`, labels: { app: i % 2 ? 'odd' : 'even', 'ünï': 'cödé' } } });
    }
    server.setBackend(backend);
  });
  afterAll(() => server.stop());

  const get = async (path: string) => (await call(server.endpoint, path, { token: ADMIN_TOKEN })).body;
  const sortedPods = (): KubeObject[] =>
    [...backend.objects.pods!].sort((a, b) => {
      const ka = `${a.metadata.namespace}\u0000${a.metadata.name}`;
      const kb = `${b.metadata.namespace}\u0000${b.metadata.name}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  const listOf = (kind: string, apiVersion: string, items: KubeObject[], metadata: Record<string, unknown>) =>
    JSON.stringify({ kind: `${kind}List`, apiVersion, metadata, items: items.map((o) => ({ ...o, apiVersion })) });

  it('serves a list body equal to JSON.stringify of the whole list, the first time and again', async () => {
    const expected = listOf('Pod', 'v1', sortedPods(), { resourceVersion: '101' });
    expect(await get('/api/v1/pods')).toBe(expected);
    expect(await get('/api/v1/pods')).toBe(expected);
    const odd = sortedPods().filter((p) => p.metadata.labels?.app === 'odd');
    expect(await get('/api/v1/namespaces/sample/pods?labelSelector=app%3Dodd')).toBe(listOf('Pod', 'v1', odd, { resourceVersion: '101' }));
  });

  it('serves pages equal to JSON.stringify of each page', async () => {
    const all = sortedPods();
    let token: string | undefined;
    let seen = 0;
    do {
      const body = await get(`/api/v1/pods?limit=7${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      const page = JSON.parse(body) as { metadata: { continue?: string; remainingItemCount?: number } };
      token = page.metadata.continue;
      const items = all.slice(seen, seen + 7);
      seen += items.length;
      const metadata = token ? { resourceVersion: '101', continue: token, remainingItemCount: all.length - seen } : { resourceVersion: '101' };
      expect(body).toBe(listOf('Pod', 'v1', items, metadata));
    } while (token);
    expect(seen).toBe(all.length);
  });

  it('rewrites apiVersion per version served, each cached apart', async () => {
    const gateways = backend.objects.gateways!;
    expect(await get('/apis/networking.istio.io/v1/gateways')).toBe(listOf('Gateway', 'networking.istio.io/v1', gateways, { resourceVersion: '1' }));
    expect(await get('/apis/networking.istio.io/v1beta1/gateways')).toBe(listOf('Gateway', 'networking.istio.io/v1beta1', gateways, { resourceVersion: '1' }));
  });

  it('serves a changed list changed', async () => {
    const before = await get('/api/v1/pods');
    // A change hands out a new array (LabBackend.list): here one pod relabelled, one added.
    const pods = backend.objects.pods!.map((p) => (p.metadata.name === 'many-03' ? { ...p, metadata: { ...p.metadata, labels: { app: 'changed' } } } : p));
    pods.push({ ...pods[1], metadata: { ...pods[1].metadata, name: 'added', resourceVersion: '205' } });
    backend.objects.pods = pods;
    const after = await get('/api/v1/pods');
    expect(after).not.toBe(before);
    expect(after).toBe(listOf('Pod', 'v1', sortedPods(), { resourceVersion: '205' }));
    expect(JSON.parse(await get('/api/v1/namespaces/sample/pods/many-03')).metadata.labels).toEqual({ app: 'changed' });
  });

  it('frames a shared output the same on every exec, then sends the status', async () => {
    const expected = framesBefore(1, backend.shared.stdout);
    for (let i = 0; i < 2; i++) {
      const frames = await execFrames(server.endpoint, ADMIN_TOKEN, 'sample/pods/helloworld-v1-7d8f9-xyz12', 'helloworld', ['big']);
      expect(frames.slice(0, -1)).toEqual(expected);
      expect(JSON.parse(frames.at(-1)!.subarray(1).toString('utf8'))).toEqual({ metadata: {}, status: 'Success' });
    }
  });
});

describe('the lab', () => {
  let lab: RunningLab;
  beforeAll(async () => {
    lab = await startLab({ clusters: 2 });
  });
  afterAll(() => lab.stop());

  const cluster1 = () => lab.mesh.clusters[0];
  const podNamed = (prefix: string) => [...meshSimOf(lab.mesh).view('cluster1').pods.values()].find((p) => p.metadata.name.startsWith(prefix))!;
  const exec = (pod: KubeObject, container: string, command: string[]) =>
    execFrames(cluster1().endpoint, cluster1().adminToken, `${pod.metadata.namespace}/pods/${pod.metadata.name}`, container, command);

  it('serves an istiod debug body as rendered, framed as before, on every read', async () => {
    const sim = meshSimOf(lab.mesh);
    const istiod = podNamed('istiod-');
    for (const path of ['/debug/syncz', '/debug/endpointShardz', '/debug/registryz']) {
      const body = debugRequest(sim, sim.istiodIn('cluster1')!, path).body;
      for (let i = 0; i < 2; i++) {
        const frames = await exec(istiod, 'discovery', ['pilot-discovery', 'request', 'GET', path]);
        expect(frames.slice(0, -1)).toEqual(framesBefore(1, body));
      }
    }
  });

  it("renders every proxy's outbound clusters and /clusters as before, zero and counted", async () => {
    const sim = meshSimOf(lab.mesh);
    const fresh = new MeshSim(lab.mesh);
    let proxies = 0;
    for (const view of sim.views.values()) {
      const istiod = sim.controlPlaneOf(view.name);
      if (!istiod) continue;
      for (const pod of view.pods.values()) {
        if (!proxyContainer(pod)) continue;
        proxies++;
        const clusters = outboundClusters(istiod, proxyNetwork(view, pod), view.id);
        expect(outboundClusters(istiod, proxyNetwork(view, pod), view.id)).toBe(clusters);
        // Built again from scratch, on a simulation of its own: the same clusters.
        expect(clusters).toEqual(outboundClusters(fresh.controlPlaneOf(view.name)!, proxyNetwork(view, pod), view.id));
        const stats = statsOf(sim, `${view.name}/${pod.metadata.namespace}/${pod.metadata.name}`);
        expect(clustersText(clusters, stats)).toBe(clustersTextBefore(clusters, stats));
        // Counters of a host read at zero before, then counted: shown counted.
        const first = clusters.find((c) => c.hosts.length > 0)!;
        const counted = hostStats(stats, first.name, `${first.hosts[0].address}:${first.hosts[0].port}`);
        counted.rq_total += 2;
        counted.rq_error += 1;
        const text = clustersText(clusters, stats);
        expect(text).toBe(clustersTextBefore(clusters, stats));
        expect(text).toContain(`${first.name}::${first.hosts[0].address}:${first.hosts[0].port}::rq_total::2\n`);
        counted.rq_total -= 2;
        counted.rq_error -= 1;
        expect(clustersText(clusters, stats)).toBe(clustersTextBefore(clusters, stats));
      }
    }
    expect(proxies).toBeGreaterThan(3);
  });

  it("shows in a sidecar's /clusters the requests sent since the last reading", async () => {
    const curl = podNamed('curl-');
    const clusters = async () => stdoutOf(await exec(curl, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'clusters']));
    const totals = (text: string) => text.split('\n').filter((l) => l.startsWith('outbound|5000||helloworld.sample.svc.cluster.local::') && l.endsWith(`::rq_total::${l.split('::').pop()}`) && l.includes('::rq_total::'));
    const sum = (text: string) => totals(text).reduce((n, l) => n + Number(l.split('::').pop()), 0);
    const before = await clusters();
    expect(totals(before).length).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      const out = stdoutOf(await exec(curl, 'curl', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://helloworld.sample:5000/hello']));
      expect(out).toBe('200');
    }
    const after = await clusters();
    expect(sum(after)).toBe(sum(before) + 3);
  });
});
