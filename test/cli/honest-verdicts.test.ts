// Honest verdicts under faults (issue 11, "Honest verdicts" causes 1-7): what meshdoctor could not
// check is `skip` or `error` with the reason, never a `pass`, and an outage is never a mesh fault.
// Each case runs the CLI against the lab's transport faults or a corrupted snapshot and asserts the
// outcome, the exit code, and that the other checks still report.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LabTransportOptions } from '../../src/lab/index.ts';
import { startCliLab } from './cli-lab.ts';
import { connectClusters } from '../../src/cluster/connect.ts';
import { discoverTopology } from '../../src/mesh/discovery.ts';
import { runChecks } from '../../src/engine/run.ts';
import { exitCodeFor } from '../../src/engine/exit-code.ts';
import { probeRemoteApi } from '../../src/cluster/remote-probe.ts';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import type { Report } from '../../src/engine/types.ts';
import { runCliInProcess } from './run-cli.ts';
import { errorFindings, resultOf, runAllAgainstLab } from './lab-cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'meshdoctor-honest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BOTH = ['--context', 'cluster1', '--context', 'cluster2'];
const only = (...ids: string[]) => ids.flatMap((id) => ['--only', id]);
const MESH_CHECKS = ['control-plane/version-skew', 'control-plane/cluster-ids', 'control-plane/mesh-config', 'network/topology', 'certificates/shared-root'];

describe('11.1 mesh-scope checks do not pass over clusters they could not read', () => {
  it('a peer whose API is down: every mesh-scope check errors naming it; cluster1 still reports; exit 3', async () => {
    const { report, exitCode } = await runAllAgainstLab({ transport: { cluster2: { down: true } } }, [...BOTH, ...only(...MESH_CHECKS, 'control-plane/istiod-ready')]);
    for (const id of MESH_CHECKS) {
      const result = resultOf(report, id, '*');
      expect([id, result.outcome]).toEqual([id, 'error']);
      expect(result.error).toMatch(/cluster2 \(unreachable: /);
    }
    expect(resultOf(report, 'control-plane/istiod-ready', 'cluster1').outcome).toBe('pass');
    expect(errorFindings(report)).toEqual([]);
    expect(exitCode).toBe(3);
  });

  it('a peer whose Deployments are forbidden: version-skew and cluster-ids skip naming it, no pass', async () => {
    const ids = ['control-plane/version-skew', 'control-plane/cluster-ids'];
    const { report, exitCode } = await runAllAgainstLab({ transport: { cluster2: { forbidden: ['deployments'] } } }, [...BOTH, ...only(...ids, 'control-plane/mesh-config')]);
    for (const id of ids) {
      const result = resultOf(report, id, '*');
      expect([id, result.outcome]).toEqual([id, 'skip']);
      expect(result.skipReason).toMatch(/cluster2 \(forbidden/);
    }
    expect(resultOf(report, 'control-plane/mesh-config', '*').outcome).toBe('pass');
    expect(exitCode).toBe(0);
  });
});

describe('11.2 a peer that is down now is an outage, a secret pointing nowhere is a finding', () => {
  it('the secret names the API server of a kube context that does not answer: remote-api-access errors, exit 3', async () => {
    const { report, exitCode } = await runAllAgainstLab({ transport: { cluster2: { down: true } } }, [...BOTH, ...only('control-plane/remote-api-access', 'control-plane/istiod-ready')]);
    const access = resultOf(report, 'control-plane/remote-api-access', 'cluster1');
    expect(access.outcome).toBe('error');
    expect(access.error).toMatch(/cluster2 \(outage|cluster2 \(its API server .* does not answer/);
    expect(resultOf(report, 'control-plane/istiod-ready', 'cluster1').outcome).toBe('pass');
    expect(errorFindings(report)).toEqual([]);
    expect(exitCode).toBe(3);
  });

  it('the secret names a server no cluster has: peerUnreachable, exit 1', async () => {
    // The fault's server is a closed port of 127.0.0.1, like every lab server: probed only with the opt-in.
    const { report, exitCode } = await runAllAgainstLab({ faults: ['remote-secret-unreachable:cluster1'] }, [...BOTH, ...only('control-plane/remote-api-access'), '--allow-loopback-remote-secrets']);
    expect(errorFindings(report)).toEqual(['control-plane/remote-api-access [cluster1] peerUnreachable']);
    expect(exitCode).toBe(1);
    // Without it that port of the operator's machine is not probed with the secret's token (the security rule): info, exit 0.
    const strict = await runAllAgainstLab({ faults: ['remote-secret-unreachable:cluster1'] }, [...BOTH, ...only('control-plane/remote-api-access')]);
    expect(resultOf(strict.report, 'control-plane/remote-api-access', 'cluster1').findings.map((f) => [f.messageId, f.severity])).toEqual([['notProbed', 'info']]);
    expect(strict.exitCode).toBe(0);
  });

  it('the peer goes down after discovery (mid-run): an error outcome, not a finding (exit 3)', async () => {
    const lab = await startCliLab({});
    try {
      const { readers } = await connectClusters({ kubeconfigPath: lab.kubeconfigPath, istioNamespace: 'istio-system', contexts: ['cluster1', 'cluster2'] });
      const { clusters, mesh } = await discoverTopology(readers, 'istio-system');
      expect(clusters.map((c) => c.reachable)).toEqual([true, true]);
      await lab.servers.find((s) => s.cluster === 'cluster2')!.stop();
      const results = await runChecks({
        checks: BUILTIN_CHECKS.filter((c) => c.id === 'control-plane/remote-api-access'),
        readers,
        clusterInfos: clusters,
        mesh,
        options: { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date(), sharedLoopback: true },
        timeoutMs: 20_000,
        concurrency: 4,
        // The lab's API servers all listen on 127.0.0.1: loopback may be probed, as `--lab` allows it.
        probeRemoteApi: (kubeconfig, opts) => probeRemoteApi(kubeconfig, { ...opts, localServers: { loopback: true } }),
      });
      const cluster1 = results.find((r) => r.cluster === 'cluster1')!;
      expect([cluster1.outcome, cluster1.findings]).toEqual(['error', []]);
      expect(cluster1.error).toMatch(/cluster2 .*does not answer/);
      expect(exitCodeFor(results, 'error')).toBe(3);
    } finally {
      await lab.stop();
    }
  });
});

describe('11.3 remote-secrets does not escalate a loopback server when clusterz cannot be read', () => {
  it.each([
    ['HTTP 500 on pods', { failPaths: ['/api/v1/pods'] }, []],
    ['an exec that hangs', { execHang: true }, ['--timeout', '3s']],
  ] as [string, LabTransportOptions, string[]][])('%s: serverLoopback is not an error (a warning, or the check times out); exit 3', async (_what, transport, extra) => {
    const { report, exitCode } = await runAllAgainstLab({ transport: { cluster1: transport } }, [...BOTH, ...only('control-plane'), ...extra]);
    const secrets = resultOf(report, 'control-plane/remote-secrets', 'cluster1');
    if (transport.execHang) expect([secrets.outcome, secrets.error]).toEqual(['error', expect.stringMatching(/timed out/)]);
    else expect(secrets.findings.map((f) => [f.messageId, f.severity])).toEqual([['serverLoopback', 'warning']]);
    expect(errorFindings(report)).toEqual([]);
    // The checks that could not read what they need say so; cluster2's still report.
    expect(report.results.some((r) => r.cluster === 'cluster1' && r.outcome === 'error')).toBe(true);
    expect(resultOf(report, 'control-plane/istiod-ready', 'cluster2').outcome).toBe('pass');
    expect(exitCode).toBe(3);
  }, 60_000);
});

describe('11.4 certificates/expiry does not vouch for CA material it could not read', () => {
  it('Secrets forbidden and the intermediate expired 5 days ago: skip with the reason, not pass', async () => {
    const { report, exitCode } = await runAllAgainstLab(
      { faults: ['intermediate-expired:cluster2'], transport: { cluster2: { forbidden: ['secrets'] } } },
      [...BOTH, ...only('certificates/expiry')],
    );
    const cluster2 = resultOf(report, 'certificates/expiry', 'cluster2');
    expect(cluster2.outcome).toBe('skip');
    expect(cluster2.skipReason).toMatch(/cannot read Secrets in istio-system .*only the distributed root was judged/);
    expect(resultOf(report, 'certificates/expiry', 'cluster1').outcome).toBe('pass');
    expect(exitCode).toBe(0);
    // With Secrets readable, the same mesh fails.
    const readable = await runAllAgainstLab({ faults: ['intermediate-expired:cluster2'] }, [...BOTH, ...only('certificates/expiry')]);
    expect(errorFindings(readable.report)).toEqual(['certificates/expiry [cluster2] certExpired']);
  });
});

/** Capture the lab into `out` with `meshdoctor snapshot`. */
async function capture(out: string, lab: Parameters<typeof startCliLab>[0], args: string[] = []) {
  const running = await startCliLab(lab);
  try {
    return await runCliInProcess(['snapshot', '--kubeconfig', running.kubeconfigPath, '--out', out, ...args]);
  } finally {
    await running.stop();
  }
}

describe('11.5 a snapshot file cut short is refused', () => {
  it('a resource file cut at an item boundary: exit 2, one line naming the file', async () => {
    const out = join(tmp, 'cut');
    expect((await capture(out, {})).exitCode).toBe(0);
    const file = join(out, 'clusters', 'cluster1', 'resources', 'services.yaml');
    const text = readFileSync(file, 'utf8');
    // Cut before the last item: still valid YAML, one Service fewer.
    writeFileSync(file, text.slice(0, text.lastIndexOf('\n  - ') + 1));
    const run = await runCliInProcess(['all', '--snapshot', out, '-o', 'json']);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/services\.yaml: differs from what was captured \(truncated or edited/);
  });

  it('a snapshot without digests (fixtures, older captures) still opens', async () => {
    const run = await runCliInProcess(['all', '--snapshot', 'fixtures/multi-primary-healthy', '-o', 'json']);
    expect(run.exitCode).toBe(0);
  });
});

describe('11.6 one cluster\'s garbage root hides no other cluster\'s fault, and says why in words', () => {
  it('cluster1\'s cacerts root-cert.pem is garbage, cluster2 chains to another root', async () => {
    const { report, exitCode } = await runAllAgainstLab({ faults: ['root-mismatch:cluster2'] }, [...BOTH, ...only('certificates')], (lab) => {
      const cacerts = lab.mesh.clusters[0].objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'cacerts')!;
      cacerts.data['root-cert.pem'] = Buffer.from('-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n').toString('base64');
    });
    // cluster2's real fault is still found, on cluster2 (cluster1's workloads trust its distributed root).
    expect(errorFindings(report)).toEqual(expect.arrayContaining(['certificates/shared-root [cluster1] rootUnparseable', 'certificates/workload [cluster2] workloadRootNotShared']));
    // No parser internals in meshdoctor's own reasons (an exec's output, relayed, is the pod's words).
    const reasons = report.results.flatMap((r) => [r.skipReason ?? '', ...r.findings.map((f) => f.message)]).join('\n');
    expect(reasons).not.toMatch(/End of input reached|inconsistent offset|Unsupported format of 'raw'/);
    expect(reasons).toMatch(/not a valid X\.509 certificate/);
    expect(exitCode).toBe(1);
  }, 60_000);
});

describe('11.7 a snapshot of an unreachable cluster records it as unreachable', () => {
  it('capture exits 3 and the manifest says so; analysing it reports no mesh fault for that cluster', async () => {
    const out = join(tmp, 'down');
    const run = await capture(out, { transport: { cluster2: { down: true } } }, BOTH);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/cluster cluster2 did not answer/);
    const manifest = JSON.parse(readFileSync(join(out, 'meshdoctor-snapshot.json'), 'utf8')) as { clusters: { name: string; unreachable?: string }[] };
    expect(manifest.clusters.map((c) => [c.name, c.unreachable !== undefined])).toEqual([['cluster1', false], ['cluster2', true]]);

    const offline = await runCliInProcess(['all', '--snapshot', out, '-o', 'json']);
    const report = JSON.parse(offline.stdout) as Report;
    expect(report.clusters.find((c) => c.name === 'cluster2')?.reachable).toBe(false);
    const cluster2Findings = report.results.flatMap((r) => r.findings).filter((f) => f.cluster === 'cluster2').map((f) => `${f.checkId} ${f.messageId}`);
    expect(cluster2Findings).toEqual([]);
    for (const r of report.results.filter((x) => x.cluster === 'cluster2')) {
      if (r.outcome === 'skip') expect(r.skipReason).toMatch(/depends on|needs a live cluster/);
      else expect([r.checkId, r.outcome, r.error]).toEqual([r.checkId, 'error', expect.stringMatching(/cluster unreachable/)]);
    }
    // cluster1 was captured and still reports.
    expect(resultOf(report, 'control-plane/istiod-ready', 'cluster1').outcome).toBe('pass');
    expect(offline.exitCode).toBe(3);
  }, 60_000);
});
