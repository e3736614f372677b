// Exec and port-forward over WebSocket, spoken by @kubernetes/client-node and by a raw `ws` client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { CoreV1Api, Exec, KubeConfig, PortForward, type V1Status } from '@kubernetes/client-node';
import WebSocket from 'ws';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { startApiServer } from '../../../src/lab/server/index.ts';
import type { LabApiServer } from '../../../src/lab/types.ts';
import { ADMIN_TOKEN, FakeBackend } from './fake-backend.ts';
import { kubeconfigYaml, sink } from './helpers.ts';

let server: LabApiServer;
let backend: FakeBackend;
let kc: KubeConfig;

beforeAll(async () => {
  server = await startApiServer({ cluster: 'cluster1' });
  backend = new FakeBackend();
  server.setBackend(backend);
  kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(server.endpoint, ADMIN_TOKEN));
});
afterAll(async () => {
  await server.stop();
});


describe('@kubernetes/client-node', () => {
  it('lists with a label selector', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const secrets = await core.listNamespacedSecret({ namespace: 'istio-system', labelSelector: 'istio/multiCluster=true' });
    expect(secrets.items.map((s) => s.metadata?.name)).toEqual(['istio-remote-secret-cluster2']);
  });

  it('walks limit/continue pages', async () => {
    const pods: KubeObject[] = Array.from({ length: 23 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p-${String(i).padStart(2, '0')}`, namespace: i % 2 ? 'odd' : 'even' },
      spec: { containers: [{ name: 'c' }] },
    }));
    const pagedServer = await startApiServer({ cluster: 'paged' });
    try {
      pagedServer.setBackend(new FakeBackend('paged', { pods }));
      const pagedKc = new KubeConfig();
      pagedKc.loadFromString(kubeconfigYaml(pagedServer.endpoint, ADMIN_TOKEN));
      const core = pagedKc.makeApiClient(CoreV1Api);
      const names: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await core.listPodForAllNamespaces({ limit: 5, _continue: token });
        names.push(...page.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
        token = page.metadata?._continue;
        pages++;
      } while (token);
      expect(pages).toBe(5);
      expect(names).toHaveLength(23);
      expect(names[0]).toBe('even/p-00');
      expect(names[22]).toBe('odd/p-21');
    } finally {
      await pagedServer.stop();
    }
  });

  it('execs a command and reports success', async () => {
    const out = sink();
    const err = sink();
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc).exec('sample', 'helloworld-v1-7d8f9-xyz12', 'helloworld', ['echo', 'hello', 'lab'], out.stream, err.stream, null, false, resolve).catch(reject);
    });
    expect(status.status).toBe('Success');
    expect(out.text()).toBe('hello lab\n');
    expect(backend.execCalls.at(-1)).toMatchObject({ namespace: 'sample', pod: 'helloworld-v1-7d8f9-xyz12', container: 'helloworld', command: ['echo', 'hello', 'lab'] });
    expect(server.audit.at(-1)).toMatchObject({ verb: 'exec', status: 101, user: 'lab-admin' });
  });

  it('execs a failing command and reports its exit code', async () => {
    const out = sink();
    const err = sink();
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc).exec('sample', 'helloworld-v1-7d8f9-xyz12', 'helloworld', ['sh', '-c', 'exit 3'], out.stream, err.stream, null, false, resolve).catch(reject);
    });
    expect(status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    expect(status.message).toBe('command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3');
    expect(err.text()).toBe('failed with 3\n');
  });

  it('port-forwards to istiod 15014 and reads an HTTP response', async () => {
    const input = new PassThrough();
    const out = sink();
    const errors = sink();
    const ws = await new PortForward(kc).portForward('istio-system', 'istiod-5d7f8b9c4-abcde', [15014], out.stream, errors.stream, input);
    input.write('GET /debug/clusterz HTTP/1.1\r\nHost: localhost:15014\r\nConnection: close\r\n\r\n');
    await waitFor(() => out.text().includes('synced'));
    (ws as WebSocket).close();
    expect(out.text()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(out.text()).toContain('"ID":"cluster2"');
    expect(errors.text()).toBe('');
    expect(server.audit.at(-1)).toMatchObject({ verb: 'portforward', status: 101 });
  });

  it('reports a port nobody listens on over the error channel', async () => {
    const input = new PassThrough();
    const out = sink();
    const errors = sink();
    await new PortForward(kc).portForward('sample', 'helloworld-v1-7d8f9-xyz12', [15014], out.stream, errors.stream, input);
    await waitFor(() => errors.text().length > 0);
    expect(errors.text()).toContain('error forwarding port 15014');
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface RawSession {
  ws: WebSocket;
  frames: Buffer[];
  closed: Promise<number>;
}

/** Open an exec WebSocket with a raw client. */
function openExec(query: string, protocols: string[]): Promise<RawSession> {
  const url = `${server.endpoint.server.replace('https', 'wss')}/api/v1/namespaces/sample/pods/helloworld-v1-7d8f9-xyz12/exec?${query}`;
  const ws = new WebSocket(url, protocols, { ca: server.endpoint.caPem, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const frames: Buffer[] = [];
  ws.on('message', (data: Buffer) => frames.push(data));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, frames, closed }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

const channel = (frames: Buffer[], n: number): string =>
  Buffer.concat(frames.filter((f) => f[0] === n).map((f) => f.subarray(1))).toString('utf8');

describe('exec protocol details', () => {
  it('prefers v5 and falls back to v4, closing cleanly with 1000 after the status', async () => {
    const v5 = await openExec('command=echo&command=x&container=helloworld&stdout=1&stderr=1', ['v4.channel.k8s.io', 'v5.channel.k8s.io']);
    expect(v5.ws.protocol).toBe('v5.channel.k8s.io');
    expect(await v5.closed).toBe(1000);
    const v4 = await openExec('command=echo&command=y&container=helloworld&stdout=1&stderr=1', ['v4.channel.k8s.io']);
    expect(v4.ws.protocol).toBe('v4.channel.k8s.io');
    expect(await v4.closed).toBe(1000);
    expect(channel(v4.frames, 1)).toBe('y\n');
    expect(JSON.parse(channel(v4.frames, 3))).toEqual({ metadata: {}, status: 'Success' });
  });

  it('reads stdin until the v5 close signal', async () => {
    const s = await openExec('command=cat&container=helloworld&stdin=1&stdout=1', ['v5.channel.k8s.io']);
    s.ws.send(Buffer.from([0, ...Buffer.from('piped input')]));
    s.ws.send(Buffer.from([255, 0]));
    await s.closed;
    expect(channel(s.frames, 1)).toBe('piped input');
  });

  it('closes without a status for closeWithoutStatus', async () => {
    const s = await openExec('command=half&container=istio-proxy&stdout=1&stderr=1', ['v5.channel.k8s.io']);
    await s.closed;
    expect(channel(s.frames, 1)).toBe('half of it\n');
    expect(s.frames.some((f) => f[0] === 3)).toBe(false);
  });

  it('rejects a missing pod (404) and a wrong container (400) before upgrading', async () => {
    await expect(openExec('command=echo&container=nope', ['v5.channel.k8s.io'])).rejects.toThrow(/HTTP 400/);
    const url = `${server.endpoint.server.replace('https', 'wss')}/api/v1/namespaces/sample/pods/ghost/exec?command=echo`;
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], { ca: server.endpoint.caPem, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);
  });

  it('leaves a hung exec open until stop()', async () => {
    const temp = await startApiServer({ cluster: 'hang' });
    temp.setBackend(new FakeBackend('hang'));
    const url = `${temp.endpoint.server.replace('https', 'wss')}/api/v1/namespaces/sample/pods/helloworld-v1-7d8f9-xyz12/exec?command=hang&container=helloworld&stdout=1`;
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], { ca: temp.endpoint.caPem, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const early = await Promise.race([closed, new Promise((r) => setTimeout(() => r('open'), 200))]);
    expect(early).toBe('open');
    await temp.stop();
    expect(await closed).not.toBe(1000);
  });
});
