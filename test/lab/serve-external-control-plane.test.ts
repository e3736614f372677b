// `meshdoctor lab serve --scenario external-control-plane` run as a real process, read with real
// kubectl (issue 18): the external istiod in external-istiod on cluster1, its istio-kubeconfig, the
// remotes' injector webhooks calling it by URL, and istiod's debug endpoints by exec.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/run-cli.ts';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const required = Boolean(process.env.MESHDOCTOR_REQUIRE_KUBECTL);

let dir: string;
let kubeconfigPath: string;
let serve: ChildProcess | undefined;
let serveOutput = '';

beforeAll(async () => {
  if (!hasKubectl && !required) return;
  dir = mkdtempSync(join(tmpdir(), 'meshdoctor-serve-ecp-'));
  kubeconfigPath = join(dir, 'lab.kubeconfig');
  const child = spawn(process.execPath, [`${REPO_ROOT}bin/meshdoctor.js`, 'lab', 'serve', '--scenario', 'external-control-plane', '--kubeconfig-out', kubeconfigPath], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve = child;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      serveOutput += chunk.toString();
      if (serveOutput.includes('Press Ctrl+C')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`lab serve exited ${code}: ${serveOutput}`)));
  });
}, 60_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((resolve) => serve!.once('exit', resolve));
    serve.kill('SIGINT');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfigPath, HOME: dir }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe.skipIf(!hasKubectl && !required)('real kubectl against lab serve --scenario external-control-plane', () => {
  it('serves three clusters, one context each', async () => {
    const r = await kubectl(['config', 'get-contexts', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['cluster1', 'cluster2', 'cluster3']);
  });

  it('cluster1 runs istiod in external-istiod with EXTERNAL_ISTIOD and the config cluster\'s CLUSTER_ID, and no sidecar', async () => {
    const pods = await kubectl(['--context', 'cluster1', 'get', 'pods', '-A']);
    expect(pods.code).toBe(0);
    expect(pods.stdout).toMatch(/external-istiod\s+istiod-\S+\s+1\/1\s+Running/);
    expect(pods.stdout).not.toMatch(/\s2\/2\s/);
    const env = await kubectl(['--context', 'cluster1', 'get', 'deploy', 'istiod', '-n', 'external-istiod', '-o', 'jsonpath={range .spec.template.spec.containers[0].env[*]}{.name}={.value}{"\\n"}{end}']);
    expect(env.code).toBe(0);
    expect(env.stdout.split('\n')).toEqual(expect.arrayContaining(['EXTERNAL_ISTIOD=true', 'CLUSTER_ID=cluster2']));
    const lb = await kubectl(['--context', 'cluster1', 'get', 'svc', 'istiod-external', '-n', 'external-istiod', '-o', 'jsonpath={.spec.type} {.status.loadBalancer.ingress[0].ip}']);
    expect(lb.stdout).toMatch(/^LoadBalancer \d+\.\d+\.\d+\.\d+$/);
  });

  it('cluster1 holds istio-kubeconfig (key config) for the config cluster and a remote secret for cluster3', async () => {
    const kubeconfig = await kubectl(['--context', 'cluster1', 'get', 'secret', 'istio-kubeconfig', '-n', 'external-istiod', '-o', 'jsonpath={.data.config}']);
    expect(kubeconfig.code).toBe(0);
    const server = await kubectl(['config', 'view', '-o', 'jsonpath={.clusters[?(@.name=="cluster2")].cluster.server}']);
    expect(Buffer.from(kubeconfig.stdout, 'base64').toString()).toContain(server.stdout.trim());
    const secrets = await kubectl(['--context', 'cluster1', 'get', 'secrets', '-n', 'external-istiod', '-l', 'istio/multiCluster=true', '-o', 'name']);
    expect(secrets.stdout.trim()).toBe('secret/istio-remote-secret-cluster3');
  });

  it('the remotes\' injector webhooks call the external istiod by URL; cluster3 names the config cluster on external-istiod', async () => {
    const ip = (await kubectl(['--context', 'cluster1', 'get', 'svc', 'istiod-external', '-n', 'external-istiod', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).stdout;
    for (const [context, network] of [['cluster2', 'network2'], ['cluster3', 'network3']]) {
      const url = await kubectl(['--context', context, 'get', 'mutatingwebhookconfiguration', 'istio-sidecar-injector-external-istiod', '-o', 'jsonpath={.webhooks[0].clientConfig.url}']);
      expect(url.stdout).toBe(`https://${ip}:15017/inject/cluster/${context}/net/${network}`);
      const label = await kubectl(['--context', context, 'get', 'namespace', 'external-istiod', '-o', 'jsonpath={.metadata.labels.topology\\.istio\\.io/network}']);
      expect(label.stdout).toBe(network);
    }
    const annotation = await kubectl(['--context', 'cluster3', 'get', 'namespace', 'external-istiod', '-o', 'jsonpath={.metadata.annotations.topology\\.istio\\.io/controlPlaneClusters}']);
    expect(annotation.stdout).toBe('cluster2');
  });

  it('the remotes\' Istio lives in external-istiod as the guide installs it: the remote profile and the east-west gateway there, no istio-system', async () => {
    for (const context of ['cluster2', 'cluster3']) {
      const services = await kubectl(['--context', context, 'get', 'services', '-n', 'external-istiod', '-o', 'jsonpath={.items[*].metadata.name}']);
      expect(services.stdout.split(' ').sort()).toEqual(['istio-eastwestgateway', 'istiod']);
      const configMaps = await kubectl(['--context', context, 'get', 'configmaps', '-n', 'external-istiod', '-o', 'name']);
      expect(configMaps.stdout.split('\n')).toEqual(expect.arrayContaining(['configmap/istio', 'configmap/istio-sidecar-injector', 'configmap/istio-ca-root-cert']));
      const istioSystem = await kubectl(['--context', context, 'get', 'namespace', 'istio-system']);
      expect(istioSystem.code).not.toBe(0);
      expect(istioSystem.stderr).toContain('NotFound');
    }
    // The cross-network Gateway is the config cluster's (the guide applies expose-services.yaml there, in external-istiod).
    const gateways = await kubectl(['--context', 'cluster2', 'get', 'gateways.networking.istio.io', '-n', 'external-istiod', '-o', 'name']);
    expect(gateways.stdout.trim()).toBe('gateway.networking.istio.io/cross-network-gateway');
  });

  it('exec into the external istiod: clusterz lists the config cluster and cluster3', async () => {
    const r = await kubectl(['--context', 'cluster1', 'exec', '-n', 'external-istiod', 'deploy/istiod', '-c', 'discovery', '--', 'pilot-discovery', 'request', 'GET', '/debug/clusterz']);
    expect(r.code).toBe(0);
    // The config cluster is istiod's own registry (its CLUSTER_ID, no secret); cluster3 comes from its remote secret.
    const clusters = (JSON.parse(r.stdout) as { id: string; secretName: string; syncStatus: string }[]).map((c) => [c.id, c.secretName === '' ? 'local' : 'secret', c.syncStatus]);
    expect(clusters).toEqual([
      ['cluster2', 'local', 'synced'],
      ['cluster3', 'secret', 'synced'],
    ]);
  });
});
