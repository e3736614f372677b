// The real stack with the healthy multi-primary scenario (issue 15): real kubectl 1.32 does what the
// lab's kubectl tests do (test/lab/clients-against-lab.test.ts) plus port-forward, meshdoctor finds no
// error, and the apiservers' audit logs show it wrote nothing.
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugRequest } from '../../src/lab/sim/debug.ts';
import { meshSimOf } from '../../src/lab/sim/mesh.ts';
import { KUBECTL, type RealStack } from '../stack.ts';
import { USER_AGENT } from '../../src/version.ts';
import { auditEvents, buildAndStart, cleanupKubectlHome, kubectl, meshdoctor, verdict, writes, type Report } from './helpers.ts';

let stack: RealStack;
beforeAll(async () => {
  stack = await buildAndStart({ scenario: 'multi-primary' });
});
afterAll(async () => {
  await stack?.stop();
  cleanupKubectlHome();
});

const k = (args: string[]) => kubectl(stack.adminKubeconfigPath, args);

/** The HTTP status cluster's API server answers a list of istio-system pods with this bearer token. */
function statusWith(token: string, cluster: RealStack['clusters'][number]): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(`${cluster.server}/api/v1/namespaces/istio-system/pods`, { ca: cluster.caPem, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

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

  it('exec into a sidecar: pilot-agent answers certs with the workload certificate of the pod\'s identity; the app container has no pilot-agent', async () => {
    for (const c of stack.clusters) {
      const pod = await podName(c.name, 'sample', 'app=curl');
      const r = await k(['--context', c.name, 'exec', '-n', 'sample', pod, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'certs']);
      expect(r.code, c.name).toBe(0);
      const certs = JSON.parse(r.stdout) as { certificates: { cert_chain: { subject_alt_names: { uri?: string }[] }[] }[] };
      expect(certs.certificates.flatMap((x) => x.cert_chain.flatMap((e) => e.subject_alt_names.map((n) => n.uri)))).toEqual(['spiffe://cluster.local/ns/sample/sa/curl']);
      const info = await k(['--context', c.name, 'exec', '-n', 'sample', pod, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'server_info']);
      const node = (JSON.parse(info.stdout) as { node: { id: string; metadata: { CLUSTER_ID: string } } }).node;
      // The pod's real IP (kwok's), not the model's.
      const ip = (await k(['--context', c.name, 'get', 'pod', '-n', 'sample', pod, '-o', 'jsonpath={.status.podIP}'])).stdout;
      expect([node.id, node.metadata.CLUSTER_ID]).toEqual([`sidecar~${ip}~${pod}.sample~sample.svc.cluster.local`, c.name]);
    }
    const pod = await podName('cluster1', 'sample', 'app=curl');
    const none = await k(['--context', 'cluster1', 'exec', '-n', 'sample', pod, '-c', 'curl', '--', 'pilot-agent', 'request', 'GET', 'certs']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('exit status 127');
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

  it('meshdoctor all finds no error or warning on the healthy scenario, and every check runs or skips', () => {
    expect(verdict(report)).toEqual([]);
    expect(report.results.filter((r) => r.outcome === 'error').map((r) => `${r.checkId} ${r.cluster}`)).toEqual([]);
    expect(code).toBe(0);
  });

  it('certificates/workload passes on the certificates the sidecars\' pilot-agent answers (signed by each cluster\'s CA)', () => {
    const outcome = report.results.filter((r) => r.checkId === 'certificates/workload').map((r) => `${r.cluster} ${r.outcome}`).sort();
    expect(outcome).toEqual(['cluster1 pass', 'cluster2 pass']);
  });

  it('the checks that read istiod pass on real istiod\'s answers', () => {
    const outcome = (id: string) => report.results.filter((r) => r.checkId === id).map((r) => `${r.cluster} ${r.outcome}`).sort();
    expect(outcome('control-plane/istiod-ready')).toEqual(['cluster1 pass', 'cluster2 pass']);
    expect(outcome('control-plane/remote-sync')).toEqual(['cluster1 pass', 'cluster2 pass']);
  });

  it('connectivity checks skip, saying why: the source pods have no probe tool (noProbeTools; nothing routes pod traffic here)', () => {
    const connectivity = report.results.filter((r) => r.checkId.startsWith('connectivity/'));
    expect(connectivity.map((r) => `${r.checkId} ${r.cluster} ${r.outcome} ${r.skipReasonId}`).sort()).toEqual([
      'connectivity/cross-cluster * skip noProbeTools',
      'connectivity/dns cluster1 skip noProbeTools',
      'connectivity/dns cluster2 skip noProbeTools',
      'connectivity/gateway-reachability cluster1 skip noProbeTools',
      'connectivity/gateway-reachability cluster2 skip noProbeTools',
      'connectivity/http cluster1 skip noProbeTools',
      'connectivity/http cluster2 skip noProbeTools',
    ]);
  });

  it('the audit logs (level Metadata) show meshdoctor read both clusters and wrote nothing', () => {
    const events = auditEvents(stack, 'meshdoctor');
    for (const c of stack.clusters) expect(events.filter((e) => e.cluster === c.name && e.verb === 'list').length, c.name).toBeGreaterThan(5);
    expect(writes(events).map((e) => `${e.cluster} ${e.verb} ${e.requestURI}`)).toEqual([]);
    // The filter can fail: the stack's own user wrote every object of the scenario.
    expect(writes(auditEvents(stack, 'admin')).length).toBeGreaterThan(100);
  });

  it('the audit logs name meshdoctor as the client of every request it made, lists and exec streams alike', () => {
    const events = auditEvents(stack, 'meshdoctor');
    // The WebSocket path (exec into istiod and sidecars) sets the header on its own.
    expect(events.some((e) => e.objectRef?.subresource === 'exec')).toBe(true);
    expect([...new Set(events.map((e) => e.userAgent))]).toEqual([USER_AGENT]);
    // The check can fail: the stack's own tools (kubectl, istiod) say who they are too.
    expect(auditEvents(stack, 'admin').some((e) => e.userAgent !== USER_AGENT)).toBe(true);
  });
});

// Last: it changes the stack. A revoked token (issue 15): the reader's token Secret deleted in cluster2,
// the real apiserver refuses the remote secret's token (a legacy token has no exp, so nothing in it
// tells it is dead). The lab has no such fault (remote-secret-expired-token is an expired token).
describe('a revoked token: the reader\'s token Secret of cluster2 deleted', () => {
  let report: Report;
  let before: { id: string; syncStatus: string }[];
  beforeAll(async () => {
    const token = stack.mesh.clusters[1].objects.find((o) => o.kind === 'Secret' && (o as { type?: string }).type === 'kubernetes.io/service-account-token')!;
    const secret = (await k(['--context', 'cluster1', '-n', 'istio-system', 'get', 'secret', 'istio-remote-secret-cluster2', '-o', 'jsonpath={.data.cluster2}'])).stdout;
    const bearer = /token: (\S+)/.exec(Buffer.from(secret, 'base64').toString())![1];
    const cluster2 = stack.clusters[1];
    before = (await (await fetch(`http://127.0.0.1:${stack.clusters[0].istiodMonitoring}/debug/clusterz`)).json()) as { id: string; syncStatus: string }[];
    expect(await statusWith(bearer, cluster2)).toBe(200);
    expect((await k(['--context', 'cluster2', '-n', 'istio-system', 'delete', 'secret', token.metadata.name])).code).toBe(0);
    // A legacy token is valid while its Secret exists (k8s.io/kubernetes v1.36.3
    // pkg/serviceaccount/legacy.go:115-116); the authenticator's getter reads an informer: wait for the 401.
    const deadline = Date.now() + 30_000;
    let code: number | undefined;
    while (Date.now() < deadline && (code = await statusWith(bearer, cluster2)) !== 401) await new Promise((r) => setTimeout(r, 500));
    expect(code).toBe(401);
    ({ report } = await meshdoctor(stack));
  });

  it('meshdoctor: remote-api-access credentialsRejected on cluster1 (the secret\'s cluster), and nothing claims the token expired', () => {
    expect(verdict(report)).toEqual(['control-plane/remote-api-access credentialsRejected cluster1']);
  });

  it('real istiod keeps reporting cluster2 synced: its watches opened before the revocation stay open', async () => {
    const after = (await (await fetch(`http://127.0.0.1:${stack.clusters[0].istiodMonitoring}/debug/clusterz`)).json()) as { id: string; syncStatus: string }[];
    expect(before.map((c) => `${c.id} ${c.syncStatus}`).sort()).toEqual(['cluster1 synced', 'cluster2 synced']);
    expect(after.map((c) => `${c.id} ${c.syncStatus}`).sort()).toEqual(['cluster1 synced', 'cluster2 synced']);
  });
});
