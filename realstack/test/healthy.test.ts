// The real stack with the healthy multi-primary scenario (issue 15): real kubectl 1.32 does what the
// lab's kubectl tests do (test/lab/clients-against-lab.test.ts) plus port-forward, meshdoctor finds no
// error, and the apiservers' audit logs show it wrote nothing.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugRequest } from '../../src/lab/sim/debug.ts';
import { meshSimOf } from '../../src/lab/sim/mesh.ts';
import { KUBECTL, type RealStack } from '../stack.ts';
import { auditEvents, buildAndStart, cleanupKubectlHome, kubectl, meshdoctor, writes, type Report } from './helpers.ts';

let stack: RealStack;
beforeAll(async () => {
  stack = await buildAndStart({ scenario: 'multi-primary' });
});
afterAll(async () => {
  await stack?.stop();
  cleanupKubectlHome();
});

const k = (args: string[]) => kubectl(stack.adminKubeconfigPath, args);

async function podName(context: string, namespace: string, selector: string): Promise<string> {
  const r = await k(['--context', context, 'get', 'pods', '-n', namespace, '-l', selector, '-o', 'jsonpath={.items[0].metadata.name}']);
  expect(r.code).toBe(0);
  expect(r.stdout).not.toBe('');
  return r.stdout;
}

describe('the stack', () => {
  it('took every object of the scenario', () => {
    expect(stack.refused).toEqual([]);
  });

  it('runs the client it was asked for: kubectl 1.32', async () => {
    const r = await kubectl(stack.adminKubeconfigPath, ['version', '--client', '-o', 'json']);
    expect(JSON.parse(r.stdout).clientVersion.minor).toBe('32');
    const server = await k(['--context', 'cluster1', 'version', '-o', 'json']);
    expect(JSON.parse(server.stdout).serverVersion.gitVersion).toBe('v1.36.3');
  });
});

describe('real kubectl 1.32 against the real apiservers', () => {
  it('get pods -A lists istiod, the gateway and the sample apps Running (kwok)', async () => {
    const r = await k(['--context', 'cluster1', 'get', 'pods', '-A']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    expect(r.stdout).toMatch(/istio-system\s+istiod-\S+\s+1\/1\s+Running/);
    expect(r.stdout).toMatch(/sample\s+helloworld-v1-\S+\s+2\/2\s+Running/);
  });

  it('-o wide adds the pod IP and node (server-side Table columns)', async () => {
    const r = await k(['--context', 'cluster2', 'get', 'pods', '-n', 'istio-system', '-o', 'wide']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
    expect(r.stdout).toMatch(/istiod-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.20\.\d+\.\d+\s+cluster2-\S+/);
  });

  it('label selectors: the remote secret by istio/multiCluster=true, nothing for a label no object has', async () => {
    const r = await k(['--context', 'cluster1', 'get', 'secrets', '-n', 'istio-system', '-l', 'istio/multiCluster=true']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/istio-remote-secret-cluster2\s+Opaque\s+1/);
    const none = await k(['--context', 'cluster1', 'get', 'pods', '-A', '-l', 'app=no-such-app']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('No resources found');
  });

  it('Istio CRDs: get gateways -A -o yaml shows the cross-network Gateway', async () => {
    const r = await k(['--context', 'cluster1', 'get', 'gateways.networking.istio.io', '-A', '-o', 'yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('name: cross-network-gateway');
    expect(r.stdout).toContain('mode: AUTO_PASSTHROUGH');
  });

  it('exit codes: NotFound is 1; an exec exiting 0 is 0, one exiting 3 is 1 through kwok (docs/lab-fidelity.md, kwok)', async () => {
    const missing = await k(['--context', 'cluster1', 'get', 'pod', '-n', 'sample', 'no-such-pod']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(NotFound)');
    const pod = await podName('cluster1', 'sample', 'app=curl');
    const ok = await k(['--context', 'cluster1', 'exec', '-n', 'sample', pod, '-c', 'curl', '--', 'sh', '-c', 'echo out; exit 0']);
    expect([ok.code, ok.stdout]).toEqual([0, 'out\n']);
    // A kubelet reports the exit code (kubectl exits 3, 'command terminated with exit code 3', as the
    // lab does); kwok wraps the ExitError, so the streaming server calls it an internal error.
    const r = await k(['--context', 'cluster1', 'exec', '-n', 'sample', pod, '-c', 'curl', '--', 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error executing command in container: cmd wait: sh -c exit 3: exit status 3');
  });

  it('exec deploy/istiod -- pilot-discovery request GET /debug/clusterz: the real istiod syncs its peer through the remote secret', async () => {
    for (const [context, peer] of [['cluster1', 'cluster2'], ['cluster2', 'cluster1']]) {
      const r = await k(['--context', context, 'exec', '-n', 'istio-system', 'deploy/istiod', '--', 'pilot-discovery', 'request', 'GET', '/debug/clusterz']);
      expect(r.code).toBe(0);
      const clusters = JSON.parse(r.stdout) as { id: string; secretName: string; syncStatus: string }[];
      expect(clusters.map((c) => [c.id, c.secretName, c.syncStatus]).sort()).toEqual(
        [
          [context, '', 'synced'],
          [peer, `istio-system/istio-remote-secret-${peer}`, 'synced'],
        ].sort(),
      );
    }
  });

  it('exec into a sidecar: pilot-agent answers that no Envoy runs here, with exit code 1', async () => {
    const pod = await podName('cluster1', 'sample', 'app=curl');
    const r = await k(['--context', 'cluster1', 'exec', '-n', 'sample', pod, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'clusters']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no Envoy');
  });

  it('logs of istiod\'s discovery container are the real istiod\'s; a wrong container is refused', async () => {
    const ok = await k(['--context', 'cluster1', 'logs', '-n', 'istio-system', 'deploy/istiod', '-c', 'discovery']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('FLAG: --clusterID="cluster1"');
    const bad = await k(['--context', 'cluster1', 'logs', '-n', 'istio-system', 'deploy/istiod', '-c', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('container nope is not valid');
  });

  it('port-forward to istiod 15014 reaches the real istiod\'s /debug/clusterz (the simulated lab has no port-forward through kubectl)', async () => {
    const pod = await podName('cluster2', 'istio-system', 'app=istiod');
    const child = spawn(KUBECTL, ['--kubeconfig', stack.adminKubeconfigPath, '--context', 'cluster2', 'port-forward', '-n', 'istio-system', `pod/${pod}`, '--address', '127.0.0.1', ':15014'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 15014/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/debug/clusterz`);
      expect(res.status).toBe(200);
      const clusters = (await res.json()) as { id: string; syncStatus: string }[];
      expect(clusters.map((c) => `${c.id} ${c.syncStatus}`).sort()).toEqual(['cluster1 synced', 'cluster2 synced']);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('real istiod against the simulated one', () => {
  it('clusterz of each primary equals what the lab\'s istiod serves for the same model', async () => {
    const sim = meshSimOf(stack.mesh);
    for (const c of stack.clusters) {
      const real = (await (await fetch(`http://127.0.0.1:${c.istiodMonitoring}/debug/clusterz`)).json()) as unknown[];
      const simulated = JSON.parse(debugRequest(sim, sim.istiodIn(c.name)!, 'clusterz').body) as unknown[];
      expect(real, c.name).toEqual(simulated);
    }
  });

  it('istio-ca-root-cert: real istiod publishes it in the namespaces the lab has it in, with the same root', async () => {
    for (const [i, c] of stack.clusters.entries()) {
      const r = await k(['--context', c.name, 'get', 'configmaps', '-A', '--field-selector=metadata.name=istio-ca-root-cert', '-o', 'json']);
      const real = (JSON.parse(r.stdout) as { items: { metadata: { namespace: string }; data: Record<string, string> }[] }).items.map((m) => `${m.metadata.namespace} ${m.data['root-cert.pem'].trim()}`);
      const lab = stack.mesh.clusters[i].objects
        .filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio-ca-root-cert')
        .map((o) => `${o.metadata.namespace} ${((o as { data?: Record<string, string> }).data?.['root-cert.pem'] ?? '').trim()}`);
      expect(real.sort(), c.name).toEqual(lab.sort());
      expect(real.length).toBeGreaterThan(2);
    }
  });
});

describe('meshdoctor against the real stack', () => {
  let report: Report;
  let code: number;
  beforeAll(async () => {
    ({ report, code } = await meshdoctor(stack));
  });

  it('meshdoctor all finds no error on the healthy scenario; only the check that reads Envoy cannot run', () => {
    const errors = report.results.flatMap((r) => r.findings).filter((f) => f.severity === 'error');
    expect(errors).toEqual([]);
    // No Envoy exists here: the sidecars' pilot-agent fails, and certificates/workload says so.
    const couldNotRun = report.results.filter((r) => r.outcome === 'error');
    expect(couldNotRun.map((r) => `${r.checkId} ${r.cluster}`).sort()).toEqual(['certificates/workload cluster1', 'certificates/workload cluster2']);
    for (const r of couldNotRun) expect(r.error).toContain('pilot-agent request GET certs: exit status 1');
    expect(code).toBe(3);
  });

  it('the checks that read istiod pass on real istiod\'s answers', () => {
    const outcome = (id: string) => report.results.filter((r) => r.checkId === id).map((r) => `${r.cluster} ${r.outcome}`).sort();
    expect(outcome('control-plane/istiod-ready')).toEqual(['cluster1 pass', 'cluster2 pass']);
    expect(outcome('control-plane/remote-sync')).toEqual(['cluster1 pass', 'cluster2 pass']);
  });

  it('connectivity checks skip, saying why: the pods have no probe tool (nothing routes pod traffic here)', () => {
    const connectivity = report.results.filter((r) => r.checkId.startsWith('connectivity/'));
    expect(connectivity.map((r) => r.checkId).sort()).toEqual(['connectivity/cross-cluster', 'connectivity/dns', 'connectivity/dns', 'connectivity/gateway-reachability', 'connectivity/gateway-reachability', 'connectivity/http', 'connectivity/http']);
    for (const r of connectivity) {
      expect(r.outcome, `${r.checkId} ${r.cluster}`).toBe('skip');
      expect(r.skipReason, `${r.checkId} ${r.cluster}`).toContain('no probe tools (curl, getent, nslookup, nc)');
    }
  });

  it('the audit logs (level Metadata) show meshdoctor read both clusters and wrote nothing', () => {
    const events = auditEvents(stack, 'meshdoctor');
    for (const c of stack.clusters) expect(events.filter((e) => e.cluster === c.name && e.verb === 'list').length, c.name).toBeGreaterThan(5);
    expect(writes(events).map((e) => `${e.cluster} ${e.verb} ${e.requestURI}`)).toEqual([]);
    // The filter can fail: the stack's own user wrote every object of the scenario.
    expect(writes(auditEvents(stack, 'admin')).length).toBeGreaterThan(100);
  });
});
