// Issue 2's acceptance commands, run for real against a started lab: kubectl 1.32 (the SDK
// dispatcher picks it by the server's minor) and @kubernetes/client-node, unchanged.
import { PassThrough } from 'node:stream';
import { CoreV1Api, Exec, KubeConfig, PortForward, type V1Status } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { hasKubectl, kubectlRequired, labForKubectl } from './kubectl-against-lab.ts';
import { sink } from './server/helpers.ts';

const { lab: runningLab, kubectl } = labForKubectl({ scenario: 'multi-primary' });

async function curlPod(): Promise<string> {
  const r = await kubectl(['get', 'pods', '-n', 'sample', '-l', 'app=curl', '-o', 'jsonpath={.items[0].metadata.name}']);
  expect(r.code).toBe(0);
  return r.stdout;
}

describe.skipIf(!hasKubectl && !kubectlRequired)('real kubectl against the lab', () => {
  it('kubectl is there when CI requires it', () => {
    expect(hasKubectl).toBe(true);
  });

  it('get pods -A lists istiod, the gateway and the sample apps', async () => {
    const r = await kubectl(['get', 'pods', '-A']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    expect(r.stdout).toMatch(/istio-system\s+istiod-\S+\s+1\/1\s+Running/);
    expect(r.stdout).toMatch(/sample\s+helloworld-v1-\S+\s+2\/2\s+Running/);
  });

  it('get secrets -l istio/multiCluster=true lists the remote secret', async () => {
    const r = await kubectl(['get', 'secrets', '-n', 'istio-system', '-l', 'istio/multiCluster=true']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/istio-remote-secret-cluster2\s+Opaque\s+1/);
  });

  it('get gateways -A -o yaml shows the cross-network Gateway', async () => {
    const r = await kubectl(['get', 'gateways.networking.istio.io', '-A', '-o', 'yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('name: cross-network-gateway');
    expect(r.stdout).toContain('mode: AUTO_PASSTHROUGH');
  });

  it('exec deploy/istiod -- pilot-discovery request GET /debug/registryz prints istiod\'s registry', async () => {
    const r = await kubectl(['exec', '-n', 'istio-system', 'deploy/istiod', '--', 'pilot-discovery', 'request', 'GET', '/debug/registryz']);
    expect(r.code).toBe(0);
    const registry = JSON.parse(r.stdout) as { hostname: string; clusterVIPs?: { Addresses?: Record<string, string[]> } }[];
    const helloworld = registry.find((s) => s.hostname === 'helloworld.sample.svc.cluster.local');
    expect(Object.keys(helloworld?.clusterVIPs?.Addresses ?? {}).sort()).toEqual(['cluster1', 'cluster2']);
  });

  it('exec <curl pod> -c istio-proxy -- pilot-agent request GET clusters prints Envoy clusters', async () => {
    const r = await kubectl(['exec', '-n', 'sample', await curlPod(), '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'clusters']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^outbound\|5000\|\|helloworld\.sample\.svc\.cluster\.local::\d+\.\d+\.\d+\.\d+:\d+::rq_success::\d+$/m);
  });

  it('kubectl logs answers (the lab simulates no output: an empty log), and names a wrong container', async () => {
    const ok = await kubectl(['logs', '-n', 'istio-system', 'deploy/istiod', '-c', 'discovery']);
    expect(ok.code).toBe(0);
    const bad = await kubectl(['logs', '-n', 'istio-system', 'deploy/istiod', '-c', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('container nope is not valid');
  });

  it('an exec whose command exits 3 makes kubectl exit 3', async () => {
    const r = await kubectl(['exec', '-n', 'sample', await curlPod(), '-c', 'curl', '--', 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('command terminated with exit code 3');
  });
});


describe('@kubernetes/client-node against the lab', () => {
  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(runningLab().kubeconfigPath);
    kc.setCurrentContext('cluster1');
    return kc;
  };

  it('lists pods with a label selector', async () => {
    const pods = await kubeConfig().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'istio-system', labelSelector: 'app=istiod' });
    expect(pods.items.map((p) => p.metadata?.name)).toEqual([expect.stringMatching(/^istiod-/)]);
  });

  it('execs curl in the curl pod and gets helloworld\'s answer', async () => {
    const kc = kubeConfig();
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'sample', labelSelector: 'app=curl' });
    const out = sink();
    const err = sink();
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc).exec('sample', pods.items[0].metadata!.name!, 'curl', ['curl', '-s', 'http://helloworld.sample:5000/hello'], out.stream, err.stream, null, false, resolve).catch(reject);
    });
    expect(status.status).toBe('Success');
    expect(out.text()).toMatch(/^Hello version: v[12], instance: helloworld-v[12]-/);
  });

  it('port-forwards to istiod 15014 and reads /debug/clusterz', async () => {
    const kc = kubeConfig();
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'istio-system', labelSelector: 'app=istiod' });
    const input = new PassThrough();
    const out = sink();
    const errors = sink();
    const ws = (await new PortForward(kc).portForward('istio-system', pods.items[0].metadata!.name!, [15014], out.stream, errors.stream, input)) as WebSocket;
    input.write('GET /debug/clusterz HTTP/1.1\r\nHost: localhost:15014\r\nConnection: close\r\n\r\n');
    const deadline = Date.now() + 10_000;
    while (!out.text().includes('cluster2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ws.close();
    expect(out.text()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(out.text()).toMatch(/"syncStatus":\s*"synced"/);
    expect(errors.text()).toBe('');
  });
});
