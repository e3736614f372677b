// The built-in list, and every check end to end through the engine on every fixture: healthy
// fixtures give no error finding, each fault fixture fails the right check on the right cluster.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { runChecks } from '../../src/engine/run.ts';
import { validateChecks } from '../../src/engine/registry.ts';
import { discoverTopology } from '../../src/mesh/discovery.ts';
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

/** Error-severity findings as `checkId [finding cluster] messageId`, sorted and unique. */
function errorKeys(results: Awaited<ReturnType<typeof runFixture>>): string[] {
  const keys = results.flatMap((r) => r.findings.filter((f) => f.severity === 'error').map((f) => `${r.checkId} [${f.cluster}] ${f.messageId}`));
  return [...new Set(keys)].sort();
}

describe('built-in checks end to end on fixtures', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy', 'net-healthy', 'svc-multi-primary'])('%s: no error finding, no broken probe', async (fixture) => {
    const results = await runFixture(fixture);
    expect(errorKeys(results)).toEqual([]);
    expect(results.filter((r) => r.outcome === 'error').map((r) => `${r.checkId} [${r.cluster}]: ${r.error}`)).toEqual([]);
  });

  it.each([
    ['istiod-not-ready', ['control-plane/istiod-ready [cluster1] istiodPodNotReady', 'control-plane/istiod-ready [cluster1] istiodUnavailable']],
    ['ewgw-lb-pending', ['network/eastwest-gateway [cluster2] ewgwLbPending']],
    ['ewgw-nodeport-no-selector', ['network/eastwest-gateway [cluster2] ewgwNodePortNoSelector']],
    ['root-mismatch', ['certificates/shared-root [cluster2] rootMismatch']],
    ['cacerts-missing', ['certificates/cacerts [cluster2] cacertsMissing', 'certificates/shared-root [cluster2] rootMismatch']],
  ])('%s: exactly the expected error findings', async (fixture, expected) => {
    const results = await runFixture(fixture);
    expect(errorKeys(results)).toEqual(expected);
    expect(results.filter((r) => r.outcome === 'error').map((r) => `${r.checkId} [${r.cluster}]: ${r.error}`)).toEqual([]);
  });

  it('secrets-forbidden: shared-root passes with an info finding on cluster2; secret readers skip', async () => {
    const results = await runFixture('secrets-forbidden');
    const sharedRoot = results.find((r) => r.checkId === 'certificates/shared-root')!;
    expect(sharedRoot.outcome).toBe('pass');
    expect(sharedRoot.findings.map((f) => [f.cluster, f.messageId, f.severity])).toEqual([['cluster2', 'rootFromConfigMap', 'info']]);
    expect(errorKeys(results)).toEqual([]);
    const skipped = results.filter((r) => r.cluster === 'cluster2' && r.outcome === 'skip' && /forbidden/.test(r.skipReason ?? ''));
    expect(skipped.map((r) => r.checkId)).toEqual(expect.arrayContaining(['certificates/cacerts', 'certificates/chain']));
  });
});
