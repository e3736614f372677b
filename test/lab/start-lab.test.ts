import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import yargs from 'yargs';
import { createLabCommand, type LabCommandIO } from '../../src/cli/lab-command.ts';
import { LabError, startLab, type RunningLab } from '../../src/lab/index.ts';

const execFileAsync = promisify(execFile);
// Real kubectl where installed; CI makes it mandatory (MESHDOCTOR_REQUIRE_KUBECTL=1).
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0 || Boolean(process.env.MESHDOCTOR_REQUIRE_KUBECTL);

/** Whether a TCP connect to a URL's port is refused. */
function refused(server: string): Promise<boolean> {
  const url = new URL(server);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

/** HTTP status of listing pods with a kubeconfig's current context (401/403 as numbers). */
async function listPodsStatus(kubeconfigText: string): Promise<number> {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigText);
  try {
    await kc.makeApiClient(k8s.CoreV1Api).listPodForAllNamespaces();
    return 200;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe('startLab', () => {
  let lab: RunningLab;
  beforeAll(async () => {
    lab = await startLab({ scenario: 'multi-primary', clusters: 3, faults: ['remote-secret-expired-token:cluster1'] });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('writes a private kubeconfig with one context per cluster, current context cluster1', () => {
    expect(statSync(lab.kubeconfigPath).mode & 0o777).toBe(0o600);
    const config = YAML.parse(readFileSync(lab.kubeconfigPath, 'utf8'));
    expect(config['current-context']).toBe('cluster1');
    expect(config.contexts.map((c: { name: string }) => c.name)).toEqual(['cluster1', 'cluster2', 'cluster3']);
    expect(lab.clusters.map((c) => c.context)).toEqual(['cluster1', 'cluster2', 'cluster3']);
    for (const [i, cluster] of lab.clusters.entries()) {
      expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(config.clusters[i].cluster.server).toBe(cluster.server);
      expect(lab.servers[i].endpoint.server).toBe(cluster.server);
    }
  });

  it('serves the model to @kubernetes/client-node on every context', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(lab.kubeconfigPath);
    for (const cluster of lab.clusters) {
      kc.setCurrentContext(cluster.context);
      const pods = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'istio-system' });
      expect(pods.items.some((p) => p.metadata?.name?.startsWith('istiod-'))).toBe(true);
    }
  });

  it('gives remote secrets credentials that really reach the peer API (and an expired token a 401)', async () => {
    const secret = (holder: string, peer: string) => {
      const obj = lab.mesh.clusters.find((c) => c.name === holder)!.objects.find((o) => o.kind === 'Secret' && o.metadata.name === `istio-remote-secret-${peer}`)!;
      return Buffer.from(obj.data[peer], 'base64').toString();
    };
    expect(await listPodsStatus(secret('cluster2', 'cluster1'))).toBe(200);
    expect(await listPodsStatus(secret('cluster1', 'cluster3'))).toBe(200);
    expect(await listPodsStatus(secret('cluster1', 'cluster2'))).toBe(401);
  });

  it.skipIf(!hasKubectl)('works with real kubectl', async () => {
    const env = { ...process.env, KUBECONFIG: lab.kubeconfigPath };
    const pods = await execFileAsync('kubectl', ['get', 'pods', '-A'], { env, timeout: 30_000 });
    expect(pods.stdout).toMatch(/istio-system\s+istiod-\S+\s+1\/1\s+Running/);
    const secrets = await execFileAsync('kubectl', ['--context', 'cluster2', 'get', 'secrets', '-n', 'istio-system', '-l', 'istio/multiCluster=true', '-o', 'name'], { env, timeout: 30_000 });
    expect(secrets.stdout.trim().split('\n').sort()).toEqual(['secret/istio-remote-secret-cluster1', 'secret/istio-remote-secret-cluster3']);
  });
});

describe('startLab lifecycle', () => {
  it('rejects bad input before starting anything', async () => {
    await expect(startLab({ faults: ['no-such-fault'] })).rejects.toBeInstanceOf(LabError);
    await expect(startLab({ scenario: 'nope' })).rejects.toThrow(/unknown lab scenario/);
    await expect(startLab({ clusters: 12 })).rejects.toThrow(/from 2 to 10/);
    await expect(startLab({ faults: ['root-mismatch:cluster5'] })).rejects.toThrow(/unknown cluster "cluster5"/);
  });

  it('stop() closes every port and removes the temp kubeconfig; twice is fine', async () => {
    const lab = await startLab({ latencyMs: 5 });
    expect(existsSync(lab.kubeconfigPath)).toBe(true);
    await lab.stop();
    await lab.stop();
    expect(existsSync(dirname(lab.kubeconfigPath))).toBe(false);
    for (const cluster of lab.clusters) expect(await refused(cluster.server)).toBe(true);
  });
});

describe('meshdoctor lab (CLI)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function cliIO() {
    const out: string[] = [];
    const err: string[] = [];
    let interrupt: (() => void) | undefined;
    const io: LabCommandIO = {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t) },
      cwd: dir,
      onInterrupt(handler) {
        interrupt = handler;
        return () => {
          interrupt = undefined;
        };
      },
    };
    return { io, out, err, interrupt: () => interrupt?.(), interrupted: () => interrupt !== undefined };
  }

  const parse = (args: string[], io: LabCommandIO) =>
    yargs(args)
      .command(createLabCommand(io))
      .strict()
      .exitProcess(false)
      .fail((msg, e) => {
        throw e ?? new Error(msg);
      })
      .parseAsync();

  it('lists scenarios and faults as JSON', async () => {
    const { io, out } = cliIO();
    await parse(['lab', 'scenarios', '-o', 'json'], io);
    const listed = JSON.parse(out.join(''));
    expect(listed.scenarios.map((s: { name: string }) => s.name)).toContain('demo');
    expect(listed.faults.find((f: { name: string }) => f.name === 'root-mismatch').failsChecks).toContain('certificates/shared-root');
  });

  it('lists scenarios and faults as text', async () => {
    const { io, out } = cliIO();
    await parse(['lab', 'scenarios'], io);
    expect(out.join('')).toMatch(/primary-remote/);
    expect(out.join('')).toMatch(/ewgw-lb-pending \[cluster2\]/);
  });

  it('serves until interrupted, writing the kubeconfig and printing how to use it', async () => {
    const { io, out, err, interrupt, interrupted } = cliIO();
    const running = parse(['lab', 'serve', '--scenario', 'demo', '--fault', 'ewgw-lb-pending:cluster2', '--kubeconfig-out', 'kc.yaml'], io);
    const deadline = Date.now() + 20_000;
    while (!interrupted() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const kubeconfigPath = join(dir, 'kc.yaml');
    expect(YAML.parse(readFileSync(kubeconfigPath, 'utf8'))['current-context']).toBe('cluster1');
    const text = out.join('');
    expect(text).toContain(`KUBECONFIG=${kubeconfigPath} kubectl get pods -A`);
    expect(text).toContain(`meshdoctor all --kubeconfig ${kubeconfigPath}`);
    expect(text).toContain('ewgw-lb-pending:cluster2');
    const servers = [...text.matchAll(/https:\/\/127\.0\.0\.1:\d+/g)].map((m) => m[0]);
    expect(servers).toHaveLength(2);
    interrupt();
    await running;
    expect(err.join('')).toContain('lab stopped');
    for (const server of servers) expect(await refused(server)).toBe(true);
  });

  it('turns bad input into a LabError', async () => {
    const { io } = cliIO();
    await expect(parse(['lab', 'serve', '--scenario', 'nope', '--kubeconfig-out', 'x.yaml'], io)).rejects.toBeInstanceOf(LabError);
    await expect(parse(['lab', 'serve', '--fault', 'root-mismatch:cluster7', '--kubeconfig-out', 'x.yaml'], io)).rejects.toThrow(/unknown cluster/);
    expect(existsSync(join(dir, 'x.yaml'))).toBe(false);
  });
});
