import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveReader } from '../../src/cluster/live-reader.ts';
import { MAX_OBJECT_DEPTH, TOO_DEEP } from '../../src/cluster/projection.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { sendChannel, sendJson, sendStatus, startFakeApiServer } from './helpers/fake-api-server.ts';
import type { FakeApiHandlers, FakeApiServer } from './helpers/fake-api-server.ts';

let servers: FakeApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});
async function serve(handlers: FakeApiHandlers): Promise<FakeApiServer> {
  const server = await startFakeApiServer(handlers);
  servers.push(server);
  return server;
}
function readerOf(server: FakeApiServer, extra: { requestTimeoutMs?: number; token?: string } = {}) {
  return createLiveReader({ name: 'c1', context: 'ctx1', kubeConfig: server.kubeConfig(extra.token), istioNamespace: 'istio-system', requestTimeoutMs: extra.requestTimeoutMs });
}
const item = (namespace: string, name: string, extra: Partial<KubeObject> = {}): KubeObject => ({ metadata: { namespace, name }, ...extra });

describe('live reader lists', () => {
  it('cuts what nests deeper than MAX_OBJECT_DEPTH (a status the API server keeps 10,000 levels deep): nothing downstream can overflow on it', async () => {
    // Built as text, as a real API server sends it (JSON.stringify itself overflows on such a value).
    const levels = 9_999;
    const deepStatus = `${'{"a":'.repeat(levels)}"bottom"${'}'.repeat(levels)}`;
    const gateway = `{"metadata":{"namespace":"istio-system","name":"deep"},"spec":{"selector":{"istio":"eastwestgateway"}},"status":${deepStatus}}`;
    const server = await serve({
      http: (_req, res) => {
        const text = `{"kind":"GatewayList","apiVersion":"networking.istio.io/v1","metadata":{},"items":[${gateway}]}`;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      },
    });
    const [read] = await readerOf(server).list('gateways');
    expect(read.spec).toEqual({ selector: { istio: 'eastwestgateway' } });
    // Everything checks read is kept; the status is cut at the limit, and the object is ordinary data again.
    let node: unknown = read;
    let depth = 0;
    while (typeof node === 'object' && node !== null) {
      node = depth === 0 ? (node as { status: unknown }).status : (node as { a: unknown }).a;
      depth += 1;
    }
    expect(node).toBe(TOO_DEEP);
    expect(depth).toBe(MAX_OBJECT_DEPTH);
    expect(() => structuredClone(read)).not.toThrow();
    expect(JSON.parse(JSON.stringify(read)).metadata.name).toBe('deep');
  });

  it('follows continue tokens with limit=500 and adds apiVersion/kind to items', async () => {
    const server = await serve({
      http: (_req, res, url) => {
        expect(url.searchParams.get('limit')).toBe('500');
        const page = url.searchParams.get('continue') ?? 'first';
        const next = { first: 'p2', p2: 'p3', p3: '' }[page];
        sendJson(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { continue: next }, items: [item('ns', `pod-${page}`)] });
      },
    });
    const pods = await readerOf(server).list('pods');
    expect(pods.map((p) => [p.apiVersion, p.kind, p.metadata.name])).toEqual([
      ['v1', 'Pod', 'pod-first'],
      ['v1', 'Pod', 'pod-p2'],
      ['v1', 'Pod', 'pod-p3'],
    ]);
    expect(server.requests).toEqual(['/api/v1/pods?limit=500', '/api/v1/pods?limit=500&continue=p2', '/api/v1/pods?limit=500&continue=p3']);
  });

  it('asks for what remains, up to LIST_PAGE_MAX per page, once the server says a list is large (issue 19)', async () => {
    const server = await serve({
      http: (_req, res, url) => {
        const page = url.searchParams.get('continue') ?? 'first';
        const [next, remainingItemCount] = ({ first: ['p2', 6000], p2: ['p3', 3500], p3: ['p4', 1000], p4: ['', undefined] } as Record<string, [string, number | undefined]>)[page];
        sendJson(res, 200, { apiVersion: 'v1', metadata: { continue: next, remainingItemCount }, items: [item('ns', `pod-${page}`)] });
      },
    });
    const pods = await readerOf(server).list('pods');
    expect(pods.map((p) => p.metadata.name)).toEqual(['pod-first', 'pod-p2', 'pod-p3', 'pod-p4']);
    expect(server.requests.map((r) => new URL(r, 'https://x').searchParams.get('limit'))).toEqual(['500', '2500', '2500', '1000']);
  });

  it('restarts a list once from the first page when a continue token expires (410 Gone)', async () => {
    let expired = 0;
    const server = await serve({
      http: (_req, res, url) => {
        const page = url.searchParams.get('continue') ?? 'first';
        // The first p2 token expires; the restarted list gets fresh tokens.
        if (page === 'p2' && expired++ === 0) {
          sendStatus(res, 410, 'The provided continue parameter is too old to display a consistent list result.');
          return;
        }
        const next = { first: 'p2', p2: '' }[page];
        sendJson(res, 200, { apiVersion: 'v1', metadata: { continue: next }, items: [item('ns', `pod-${page}`)] });
      },
    });
    const pods = await readerOf(server).list('pods');
    expect(pods.map((p) => p.metadata.name)).toEqual(['pod-first', 'pod-p2']);
    expect(server.requests).toEqual([
      '/api/v1/pods?limit=500',
      '/api/v1/pods?limit=500&continue=p2',
      '/api/v1/pods?limit=500',
      '/api/v1/pods?limit=500&continue=p2',
    ]);
  });

  it('fails with bad-response when the token expires again after the restart, or on the first page', async () => {
    const server = await serve({
      http: (_req, res, url) => {
        if (url.pathname === '/api/v1/services') {
          sendStatus(res, 410, 'too old resource version');
          return;
        }
        if (url.searchParams.get('continue')) sendStatus(res, 410, 'The provided continue parameter is too old to display a consistent list result.');
        else sendJson(res, 200, { apiVersion: 'v1', metadata: { continue: 'p2' }, items: [item('ns', 'pod-first')] });
      },
    });
    const reader = readerOf(server);
    await expect(reader.list('pods')).rejects.toMatchObject({ reason: 'bad-response', message: expect.stringContaining('HTTP 410') });
    expect(server.requests).toEqual(['/api/v1/pods?limit=500', '/api/v1/pods?limit=500&continue=p2', '/api/v1/pods?limit=500', '/api/v1/pods?limit=500&continue=p2']);
    await expect(reader.list('services')).rejects.toMatchObject({ reason: 'bad-response', message: expect.stringContaining('HTTP 410') });
    expect(server.requests.filter((r) => r.startsWith('/api/v1/services'))).toEqual(['/api/v1/services?limit=500']);
  });

  it('sends one request for concurrent callers and serves namespace scopes from a cluster-wide list', async () => {
    const server = await serve({
      http: (_req, res) => {
        setTimeout(() => sendJson(res, 200, { apiVersion: 'v1', metadata: {}, items: [item('a', 'x'), item('b', 'y')] }), 50);
      },
    });
    const reader = readerOf(server);
    const results = await Promise.all([reader.list('services'), reader.list('services'), reader.listOptional('services'), reader.list('services', { namespace: 'b' })]);
    expect(results[0]).toBe(results[1]);
    expect(results[3].map((s) => s.metadata.name)).toEqual(['y']);
    expect(server.requests).toEqual(['/api/v1/services?limit=500']);
  });

  it('maps 403 to forbidden with a short reason, and remembers it', async () => {
    const server = await serve({ http: (_req, res) => sendStatus(res, 403, 'secrets is forbidden: User "x" cannot list resource "secrets"') });
    const reader = readerOf(server);
    const error = await reader.list('secrets', { namespace: 'istio-system' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AccessError', reason: 'forbidden', cluster: 'c1', message: 'forbidden: cannot list secrets in istio-system' });
    await expect(reader.listOptional('secrets', { namespace: 'istio-system' })).rejects.toMatchObject({ reason: 'forbidden' });
    expect(server.requests.length).toBe(1);
  });

  it('tries Istio API versions in order on 404; all 404 is not-found (listOptional: [])', async () => {
    const server = await serve({
      http: (_req, res, url) => {
        if (url.pathname === '/apis/networking.istio.io/v1beta1/gateways') sendJson(res, 200, { apiVersion: 'networking.istio.io/v1beta1', metadata: {}, items: [item('istio-system', 'gw')] });
        else sendStatus(res, 404, 'the server could not find the requested resource');
      },
    });
    const reader = readerOf(server);
    expect(await reader.list('gateways')).toMatchObject([{ apiVersion: 'networking.istio.io/v1beta1', kind: 'Gateway', metadata: { name: 'gw' } }]);
    await expect(reader.list('peerauthentications')).rejects.toMatchObject({ reason: 'not-found' });
    expect(await reader.listOptional('peerauthentications')).toEqual([]);
    expect(server.requests.map((r) => r.split('?')[0])).toEqual([
      '/apis/networking.istio.io/v1/gateways',
      '/apis/networking.istio.io/v1beta1/gateways',
      '/apis/security.istio.io/v1/peerauthentications',
      '/apis/security.istio.io/v1beta1/peerauthentications',
    ]);
  });

  it('maps 401, 5xx and non-JSON to unauthorized and bad-response', async () => {
    const server = await serve({
      http: (_req, res, url) => {
        if (url.pathname === '/api/v1/nodes') sendStatus(res, 500, 'etcdserver: leader changed');
        else res.end('<html>proxy error</html>');
      },
    });
    await expect(readerOf(server, { token: 'wrong' }).list('pods')).rejects.toMatchObject({ reason: 'unauthorized' });
    const reader = readerOf(server);
    await expect(reader.list('nodes')).rejects.toMatchObject({ reason: 'bad-response', message: expect.stringContaining('HTTP 500') });
    await expect(reader.list('pods')).rejects.toMatchObject({ reason: 'bad-response' });
  });

  it('maps refused connections, untrusted certificates and silence to unreachable and timeout', async () => {
    const server = await serve({ http: () => {} });
    // A port nobody listens on: take one and release it.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const refused = server.kubeConfig();
    refused.clusters[0] = { ...refused.clusters[0], server: `https://127.0.0.1:${port}` };
    await expect(createLiveReader({ name: 'c1', kubeConfig: refused, istioNamespace: 'istio-system' }).list('pods')).rejects.toMatchObject({
      reason: 'unreachable',
      message: expect.stringContaining('connection refused'),
    });

    const untrusted = server.kubeConfig();
    untrusted.clusters[0] = { ...untrusted.clusters[0], caData: undefined };
    await expect(createLiveReader({ name: 'c1', kubeConfig: untrusted, istioNamespace: 'istio-system' }).list('pods')).rejects.toMatchObject({
      reason: 'unreachable',
      message: expect.stringContaining('TLS'),
    });

    const started = Date.now();
    await expect(readerOf(server, { requestTimeoutMs: 300 }).list('pods')).rejects.toMatchObject({ reason: 'timeout' });
    // The 300 ms request deadline ended it (the server never answers): a wide margin for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reads /version', async () => {
    const server = await serve({ http: (_req, res) => sendJson(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.2' }) });
    expect(await readerOf(server).version()).toEqual({ major: '1', minor: '31', gitVersion: 'v1.31.2' });
  });
});

describe('live reader istiod debug and sidecar admin', () => {
  const istiodPods = {
    apiVersion: 'v1',
    metadata: {},
    items: [
      { metadata: { namespace: 'istio-system', name: 'istiod-b', labels: { app: 'istiod', 'istio.io/rev': '1-24' } }, status: { phase: 'Running' } },
      { metadata: { namespace: 'istio-system', name: 'istiod-a', labels: { app: 'istiod' } }, status: { phase: 'Running' } },
      { metadata: { namespace: 'istio-system', name: 'istiod-old', labels: { app: 'istiod' } }, status: { phase: 'Failed' } },
      { metadata: { namespace: 'istio-system', name: 'eastwest', labels: { app: 'istio-eastwestgateway' } }, status: { phase: 'Running' } },
    ],
  };

  it('execs pilot-discovery in each running istiod, once per endpoint', async () => {
    const server = await serve({
      http: (_req, res) => sendJson(res, 200, istiodPods),
      ws: (ws, url) => {
        const pod = url.pathname.split('/')[6];
        expect(url.searchParams.get('container')).toBe('discovery');
        expect(url.searchParams.getAll('command')).toEqual(['pilot-discovery', 'request', 'GET', '/debug/syncz']);
        sendChannel(ws, 1, `[{"pod":"${pod}"}]`);
        sendChannel(ws, 3, JSON.stringify({ status: 'Success' }));
        ws.close();
      },
    });
    const reader = readerOf(server);
    const [first, second] = await Promise.all([reader.istiodDebug('syncz'), reader.istiodDebug('syncz')]);
    expect(first).toBe(second);
    expect(first).toEqual([
      { pod: 'istiod-a', namespace: 'istio-system', revision: 'default', body: '[{"pod":"istiod-a"}]' },
      { pod: 'istiod-b', namespace: 'istio-system', revision: '1-24', body: '[{"pod":"istiod-b"}]' },
    ]);
    expect(server.requests.filter((r) => r.includes('/exec?')).length).toBe(2);
    expect(server.requests.some((r) => r.includes('/proxy'))).toBe(false);
  });

  it('keeps half the per-cluster cap free of istiod debug reads: a probe exec is not held behind their bodies (issue 19)', async () => {
    const held: (() => void)[] = [];
    let debugInFlight = 0;
    let mostDebugInFlight = 0;
    const server = await serve({
      http: (_req, res) => sendJson(res, 200, istiodPods),
      ws: (ws, url) => {
        const answer = (text: string) => {
          sendChannel(ws, 1, text);
          sendChannel(ws, 3, JSON.stringify({ status: 'Success' }));
          ws.close();
        };
        if (url.searchParams.get('container') !== 'discovery') return answer('probed');
        // istiod's bodies stream for seconds at 10,000 pods: hold them until the probe has answered.
        mostDebugInFlight = Math.max(mostDebugInFlight, ++debugInFlight);
        held.push(() => {
          debugInFlight--;
          answer('{}');
        });
      },
    });
    const reader = readerOf(server);
    const endpoints = ['endpointShardz', 'syncz', 'registryz', 'clusterz', 'networkz', 'configz'];
    const debug = Promise.all(endpoints.map((e) => reader.istiodDebug(e)));
    await vi.waitFor(() => expect(held.length).toBeGreaterThan(0));
    // Six endpoints x two istiods would fill all six slots of the cluster; the probe gets one.
    const probe = await reader.exec({ namespace: 'sample', name: 'curl' }, 'curl', ['true'], { timeoutMs: 5000 });
    expect(probe.stdout).toBe('probed');
    // Answer the held reads, and those that take the freed lanes, until every read has its body.
    let settled = false;
    const all = debug.finally(() => (settled = true));
    while (!settled) {
      held.splice(0).forEach((release) => release());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await all).map((outputs) => outputs.length)).toEqual(endpoints.map(() => 2));
    // Never more than half of the cluster's 6 slots held by istiod's bodies.
    expect(mostDebugInFlight).toBeGreaterThan(0);
    expect(mostDebugInFlight).toBeLessThanOrEqual(3);
  });

  it('falls back to port-forward to 15014 when exec is forbidden', async () => {
    const server = await serve({
      http: (_req, res) => sendJson(res, 200, { ...istiodPods, items: istiodPods.items.slice(0, 1) }),
      rejectUpgrade: (url) => (url.pathname.endsWith('/exec') ? 403 : undefined),
      protocols: ['v4.channel.k8s.io'],
      ws: (ws, url) => {
        expect(url.pathname).toBe('/api/v1/namespaces/istio-system/pods/istiod-b/portforward');
        expect(url.searchParams.get('ports')).toBe('15014');
        const port = Buffer.alloc(2);
        port.writeUInt16LE(15014);
        sendChannel(ws, 0, port);
        sendChannel(ws, 1, port);
        ws.on('message', (data: Buffer) => {
          expect(data[0]).toBe(0);
          expect(data.subarray(1).toString()).toMatch(/^GET \/debug\/registryz HTTP\/1\.1\r\n/);
          const body = '[{"hostname":"istiod.istio-system.svc.cluster.local"}]';
          sendChannel(ws, 0, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
          sendChannel(ws, 0, body.slice(10));
        });
      },
    });
    const outputs = await readerOf(server).istiodDebug('registryz');
    expect(outputs).toEqual([{ pod: 'istiod-b', namespace: 'istio-system', revision: '1-24', body: '[{"hostname":"istiod.istio-system.svc.cluster.local"}]' }]);
  });

  it('runs pilot-agent in istio-proxy for sidecar admin and reports a non-zero exit as bad-response', async () => {
    const server = await serve({
      ws: (ws, url) => {
        expect(url.searchParams.get('container')).toBe('istio-proxy');
        const what = url.searchParams.getAll('command')[3];
        if (what === 'certs') {
          sendChannel(ws, 1, '{"certificates":[]}');
          sendChannel(ws, 3, JSON.stringify({ status: 'Success' }));
        } else {
          sendChannel(ws, 2, 'Error: no admin');
          sendChannel(ws, 3, JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '1' }] } }));
        }
        ws.close();
      },
    });
    const reader = readerOf(server);
    expect(await reader.sidecarAdmin({ namespace: 'sample', name: 'hello' }, 'certs')).toBe('{"certificates":[]}');
    await expect(reader.sidecarAdmin({ namespace: 'sample', name: 'hello' }, 'server_info')).rejects.toMatchObject({ reason: 'bad-response' });
  });
});
