// `meshdoctor lab serve --transport ...` run as a real process: every transport fault is reachable
// from the command line and seen by unchanged clients (kubectl, @kubernetes/client-node), so anyone
// can reproduce the reliability cases of docs/reliability.md without the test suite.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CoreV1Api, Exec, KubeConfig, PortForward, type V1Status } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTransportSpecs } from '../../src/lab/transport.ts';
import { REPO_ROOT } from '../cli/run-cli.ts';
import { sink } from './server/helpers.ts';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const required = Boolean(process.env.MESHDOCTOR_REQUIRE_KUBECTL);

const TRANSPORT = [
  'latency:cluster1=400',
  'fail-path:cluster1=/api/v1/pods',
  'forbid:cluster1=secrets,configmaps',
  'exec-fail:cluster1',
  'port-forward-refused:cluster1',
  'exec-hang:cluster2',
  'exec-no-status:cluster3',
  'api-down:cluster4',
];

let dir: string;
let kubeconfigPath: string;
let serve: ChildProcess;
let serveOutput = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshdoctor-serve-'));
  kubeconfigPath = join(dir, 'lab.kubeconfig');
  serve = spawn(process.execPath, [`${REPO_ROOT}bin/meshdoctor.js`, 'lab', 'serve', '--clusters', '4', '--kubeconfig-out', kubeconfigPath, ...TRANSPORT.flatMap((t) => ['--transport', t])], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      serveOutput += chunk.toString();
      if (serveOutput.includes('Press Ctrl+C')) resolve();
    };
    serve.stdout!.on('data', onData);
    serve.stderr!.on('data', onData);
    serve.on('exit', (code) => reject(new Error(`lab serve exited ${code}: ${serveOutput}`)));
  });
}, 60_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((resolve) => serve.once('exit', resolve));
    serve.kill('SIGINT');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfigPath, HOME: dir }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

function kubeConfig(context: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  kc.setCurrentContext(context);
  return kc;
}

async function podName(context: string, namespace: string, selector: string): Promise<string> {
  const pods = await kubeConfig(context).makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: selector });
  return pods.items[0].metadata!.name!;
}

/** Exec with client-node; resolves the status, or 'no status' when the socket closed without one, or 'pending' after `waitMs`. */
async function clientNodeExec(context: string, namespace: string, pod: string, container: string, command: string[], waitMs: number): Promise<V1Status | 'no status' | 'pending'> {
  const kc = kubeConfig(context);
  let ws: WebSocket | undefined;
  const outcome = await new Promise<V1Status | 'no status' | 'pending'>((resolve, reject) => {
    const timer = setTimeout(() => resolve('pending'), waitMs);
    new Exec(kc)
      .exec(namespace, pod, container, command, sink().stream, sink().stream, null, false, (status) => {
        clearTimeout(timer);
        resolve(status);
      })
      .then((socket) => {
        ws = socket as WebSocket;
        ws.on('close', () => setTimeout(() => resolve('no status'), 50));
      })
      .catch(reject);
  });
  ws?.terminate();
  return outcome;
}

describe('lab serve --transport', () => {
  it('parses every documented fault and refuses bad specs', () => {
    expect(parseTransportSpecs(TRANSPORT)).toEqual({
      cluster1: { latencyMs: 400, failPaths: ['/api/v1/pods'], forbidden: ['secrets', 'configmaps'], execFail: true, portForwardRefused: true },
      cluster2: { execHang: true },
      cluster3: { execNoStatus: true },
      cluster4: { down: true },
    });
    expect(parseTransportSpecs(['fail-path=/pods$/']).cluster1.failPaths).toEqual([/pods$/]);
    for (const bad of ['nope', 'latency', 'latency=soon', 'exec-hang=1', 'forbid=widgets', 'fail-path=pods']) {
      expect(() => parseTransportSpecs([bad]), bad).toThrow(expect.objectContaining({ name: 'LabError' }));
    }
    expect(serveOutput).toContain('transport faults: latency:cluster1=400');
  });

  it('latency: an answer takes at least the injected delay', async () => {
    const started = performance.now();
    await kubeConfig('cluster1').makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'istio-system' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('exec-hang: an exec gets no status; exec-no-status: the socket closes without one', async () => {
    const hang = await clientNodeExec('cluster2', 'istio-system', await podName('cluster2', 'istio-system', 'app=istiod'), 'discovery', ['pilot-discovery', 'request', 'GET', '/debug/syncz'], 1500);
    expect(hang).toBe('pending');
    const noStatus = await clientNodeExec('cluster3', 'istio-system', await podName('cluster3', 'istio-system', 'app=istiod'), 'discovery', ['pilot-discovery', 'request', 'GET', '/debug/syncz'], 10_000);
    expect(noStatus).toBe('no status');
  });

  it('port-forward-refused: the error channel says connection refused', async () => {
    const input = new PassThrough();
    const out = sink();
    const errors = sink();
    const pod = await podName('cluster1', 'istio-system', 'app=istiod');
    const ws = (await new PortForward(kubeConfig('cluster1')).portForward('istio-system', pod, [15014], out.stream, errors.stream, input)) as WebSocket;
    const deadline = Date.now() + 10_000;
    while (!errors.text() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ws.terminate();
    expect(errors.text()).toMatch(/connection refused/);
    expect(out.text()).toBe('');
  });

  describe.skipIf(!hasKubectl && !required)('with kubectl', () => {
    it('api-down: the context refuses connections, the others answer', async () => {
      const down = await kubectl(['--context', 'cluster4', 'get', 'namespaces', '--request-timeout', '5s']);
      expect(down.code).not.toBe(0);
      expect(down.stderr).toMatch(/connection refused/);
      const up = await kubectl(['--context', 'cluster2', 'get', 'namespaces']);
      expect(up.code).toBe(0);
    });

    it('fail-path: kubectl sees HTTP 500 on the path and nowhere else', async () => {
      const failed = await kubectl(['--context', 'cluster1', 'get', 'pods', '-A']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/InternalError|injected a failure/);
      expect((await kubectl(['--context', 'cluster1', 'get', 'pods', '-n', 'istio-system'])).code).toBe(0);
    });

    it('forbid: the user is RBAC-limited on the kinds named', async () => {
      const forbidden = await kubectl(['--context', 'cluster1', 'get', 'secrets', '-n', 'istio-system']);
      expect(forbidden.code).toBe(1);
      expect(forbidden.stderr).toMatch(/Forbidden|forbidden/);
      expect((await kubectl(['--context', 'cluster1', 'get', 'services', '-n', 'istio-system'])).code).toBe(0);
    });

    it('exec-fail: kubectl exec exits 1 with the injected error', async () => {
      const pod = await podName('cluster1', 'istio-system', 'app=istiod');
      const r = await kubectl(['--context', 'cluster1', 'exec', '-n', 'istio-system', pod, '-c', 'discovery', '--', 'pilot-discovery', 'request', 'GET', '/debug/syncz']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('injected an exec failure');
    });
  });
});
