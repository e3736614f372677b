// The built-in list, and every check end to end through the engine on every fixture: healthy
// fixtures give no error finding, each fault fixture fails the right check on the right cluster.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { runChecks } from '../../src/engine/run.ts';
import { validateChecks } from '../../src/engine/registry.ts';
import { discoverTopology } from '../../src/mesh/topology.ts';
import { ISTIO_NAMESPACE, openFixture } from './helpers.ts';

const SRC_CHECKS = path.resolve(import.meta.dirname, '../../src/checks');

async function runFixture(fixture: string) {
  const { capturedAt, clusters: readers } = await openFixture(fixture);
  const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
  return runChecks({
    checks: BUILTIN_CHECKS,
    readers,
    clusterInfos: clusters,
    mesh,
    options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: capturedAt },
    timeoutMs: 10_000,
    concurrency: 2,
  });
}

describe('BUILTIN_CHECKS', () => {
  it('is valid, sorted by id, and lists every check file', async () => {
    expect(() => validateChecks(BUILTIN_CHECKS)).not.toThrow();
    const ids = BUILTIN_CHECKS.map((c) => c.id);
    expect(ids).toEqual([...ids].sort());
    const files = (await readdir(SRC_CHECKS, { recursive: true }))
      .filter((f) => f.endsWith('.ts') && f.includes(path.sep) && !f.endsWith(`${path.sep}index.ts`))
      .map((f) => f.replace(/\.ts$/, '').split(path.sep).join('/'))
      .sort();
    expect(ids).toEqual(files);
  });

  it('every check documents itself: docs link, details, a hint per message', () => {
    for (const check of BUILTIN_CHECKS) {
      expect(check.meta.docs).toMatch(/^https:\/\//);
      expect(check.meta.details?.length).toBeGreaterThan(0);
      for (const message of Object.values(check.meta.messages)) expect(message.hint.length).toBeGreaterThan(20);
    }
  });
});

describe('built-in checks end to end on fixtures', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy'])('%s: every check passes', async (fixture) => {
    const results = await runFixture(fixture);
    expect(results.map((r) => `${r.checkId} [${r.cluster}] ${r.outcome}`)).toEqual([
      'control-plane/istiod-ready [cluster1] pass',
      'control-plane/istiod-ready [cluster2] pass',
      'network/eastwest-gateway [cluster1] pass',
      'network/eastwest-gateway [cluster2] pass',
      'certificates/shared-root [*] pass',
    ]);
  });

  it.each([
    ['istiod-not-ready', 'control-plane/istiod-ready', 'cluster1', ['istiodPodNotReady', 'istiodUnavailable']],
    ['ewgw-lb-pending', 'network/eastwest-gateway', 'cluster2', ['ewgwLbPending']],
    ['ewgw-nodeport-no-selector', 'network/eastwest-gateway', 'cluster2', ['ewgwNodePortNoSelector']],
    ['root-mismatch', 'certificates/shared-root', '*', ['rootMismatch']],
    ['cacerts-missing', 'certificates/shared-root', '*', ['rootMismatch']],
  ])('%s: %s fails on %s and nothing else fails', async (fixture, checkId, cluster, messageIds) => {
    const results = await runFixture(fixture);
    const failing = results.filter((r) => r.outcome !== 'pass');
    expect(failing.map((r) => `${r.checkId} [${r.cluster}] ${r.outcome}`)).toEqual([`${checkId} [${cluster}] fail`]);
    expect(failing[0].findings.map((f) => f.messageId)).toEqual(messageIds);
    // A mesh-scope finding names the cluster it concerns.
    if (cluster === '*') expect(failing[0].findings.map((f) => f.cluster)).toEqual(['cluster2']);
  });

  it('secrets-forbidden: shared-root passes with an info finding on cluster2', async () => {
    const results = await runFixture('secrets-forbidden');
    const sharedRoot = results.find((r) => r.checkId === 'certificates/shared-root')!;
    expect(sharedRoot.outcome).toBe('pass');
    expect(sharedRoot.findings.map((f) => [f.cluster, f.messageId, f.severity])).toEqual([['cluster2', 'rootFromConfigMap', 'info']]);
    expect(results.filter((r) => r.outcome !== 'pass')).toEqual([]);
  });
});
