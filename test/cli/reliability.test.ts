// Reliability: a cluster whose API is down, HTTP 500s, an RBAC-limited user, exec that hangs or
// closes without a status. meshdoctor must never crash or hang: each becomes skip or error with a
// reason, and the exit code says the run was incomplete (3) unless real findings exist (1).
import { describe, expect, it } from 'vitest';
import { type StartLabOptions } from '../../src/lab/index.ts';
import { startCliLab } from './cli-lab.ts';
import { runCliInProcess } from './run-cli.ts';
import type { Report } from '../../src/engine/types.ts';

async function runAgainst(lab: StartLabOptions, args: string[]): Promise<{ report: Report; exitCode: number; stderr: string }> {
  const running = await startCliLab(lab);
  try {
    const run = await runCliInProcess(['all', '--kubeconfig', running.kubeconfigPath, '-o', 'json', ...args]);
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    return { report: JSON.parse(run.stdout) as Report, exitCode: run.exitCode, stderr: run.stderr };
  } finally {
    await running.stop();
  }
}

describe('reliability against a misbehaving lab', () => {
  it('a peer whose API is down is reported unreachable; its checks error with the reason', async () => {
    const { report, exitCode } = await runAgainst({ scenario: 'multi-primary', transport: { cluster2: { down: true } } }, ['--context', 'cluster1', '--context', 'cluster2', '--skip', 'connectivity']);
    const cluster2 = report.clusters.find((c) => c.name === 'cluster2')!;
    expect(cluster2.reachable).toBe(false);
    expect(cluster2.unreachableReason).toMatch(/ECONNREFUSED|refused/i);
    const perCluster = report.results.filter((r) => r.cluster === 'cluster2');
    expect(perCluster.length).toBeGreaterThan(0);
    for (const result of perCluster) {
      // Its own checks error; checks depending on them skip, saying which dependency could not run.
      if (result.outcome === 'skip') expect(result.skipReason).toMatch(/^depends on .+ which could not run/);
      else expect([result.outcome, result.error]).toEqual(['error', expect.stringMatching(/cluster unreachable/)]);
    }
    // An outage is no mesh fault: cluster1's remote secret names cluster2's API server, which is down
    // now, so remote-api-access cannot tell (error), and no finding says the secret is wrong.
    const errors = report.results.flatMap((r) => r.findings.filter((f) => f.severity === 'error').map((f) => `${f.checkId} [${f.cluster}] ${f.messageId}`));
    expect(errors).toEqual([]);
    expect(report.results.find((r) => r.checkId === 'control-plane/remote-api-access' && r.cluster === 'cluster1')?.outcome).toBe('error');
    expect(exitCode).toBe(3);
  });

  it('HTTP 500 on pods makes the checks that read pods `error`, others still run, exit 3', async () => {
    const { report, exitCode } = await runAgainst({ scenario: 'multi-primary', transport: { cluster1: { failPaths: ['/api/v1/pods'] } } }, ['--only', 'control-plane/istiod-ready', '--only', 'network/eastwest-gateway']);
    const cluster1 = report.results.filter((r) => r.cluster === 'cluster1');
    expect(cluster1.map((r) => r.outcome)).toEqual(['error', 'error']);
    for (const r of cluster1) expect(r.error).toMatch(/500|Internal/i);
    expect(report.results.filter((r) => r.cluster === 'cluster2').map((r) => r.outcome)).toEqual(['pass', 'pass']);
    expect(exitCode).toBe(3);
  });

  it('an RBAC-limited user: checks needing forbidden kinds skip with the reason, no false problem', async () => {
    const { report } = await runAgainst({ scenario: 'multi-primary', transport: { cluster1: { forbidden: ['deployments'] } } }, ['--only', 'control-plane/istiod-ready']);
    const result = report.results.find((r) => r.cluster === 'cluster1')!;
    expect(result.outcome).toBe('skip');
    expect(result.skipReason).toMatch(/forbidden/);
  });

  it('an exec that hangs ends at the check timeout as error, not a hang', async () => {
    const started = Date.now();
    const { report } = await runAgainst(
      { scenario: 'multi-primary', transport: { cluster1: { execHang: true } } },
      ['--only', 'control-plane', '--timeout', '3s'],
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    const debugChecks = report.results.filter((r) => r.cluster === 'cluster1' && ['control-plane/remote-sync', 'control-plane/proxy-sync'].includes(r.checkId));
    // Both checks must be present: an empty list would make the loop below pass without checking anything.
    expect(debugChecks.map((r) => r.checkId).sort()).toEqual(['control-plane/proxy-sync', 'control-plane/remote-sync']);
    for (const result of debugChecks) expect(result.outcome).toBe('error');
  }, 60_000);
});
