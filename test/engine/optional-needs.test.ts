// Optional needs (a trailing `?`): the check reads them when it can and copes when it cannot, so
// neither a forbidden prefetch nor an offline reader decides its outcome; required needs still do.
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../src/engine/run.ts';
import { defineCheck } from '../../src/engine/define-check.ts';
import { AccessError, type ClusterReader } from '../../src/cluster/types.ts';
import type { Check } from '../../src/engine/types.ts';
import { clusterInfo, memoryReader, MESH } from './fakes.ts';

const meta = { description: 'test check', docs: 'https://istio.io', messages: { noSecrets: { template: 'no secrets', severity: 'warning' as const, hint: 'grant it' } } };

/** The engine over `checks` on `readers`, one cluster info per reader. */
function run(checks: Check[], readers: ClusterReader[]) {
  return runChecks({
    checks,
    readers,
    clusterInfos: readers.map((r) => clusterInfo(r.name)),
    mesh: MESH,
    options: { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date(0) },
    timeoutMs: 10_000,
    concurrency: 2,
  });
}

describe('optional needs', () => {
  it('prefetches an optional kind without a forbidden list turning the check into a skip; a required one still skips', async () => {
    const optional = defineCheck({ id: 'certificates/optional-secrets', category: 'certificates', scope: 'cluster', needs: ['configmaps', 'secrets?'], meta, async run(ctx) {
      try {
        await ctx.cluster.list('secrets');
      } catch (err) {
        if (!(err instanceof AccessError && err.reason === 'forbidden')) throw err;
        ctx.report({ messageId: 'noSecrets' });
      }
    } });
    const required = defineCheck({ id: 'certificates/required-secrets', category: 'certificates', scope: 'cluster', needs: ['secrets'], meta, async run() {} });
    const c1 = memoryReader('c1', {}, { forbidden: ['secrets'] });
    const readers = [c1, memoryReader('c2')];
    const results = await run([optional, required], readers);
    expect(results.map((r) => [r.checkId, r.cluster, r.outcome, r.findings.map((f) => f.messageId)])).toEqual([
      ['certificates/optional-secrets', 'c1', 'warn', ['noSecrets']],
      ['certificates/optional-secrets', 'c2', 'pass', []],
      ['certificates/required-secrets', 'c1', 'skip', []],
      ['certificates/required-secrets', 'c2', 'pass', []],
    ]);
    // The optional kind was prefetched like any need.
    expect(c1.listCalls).toContain('secrets');
  });

  it('runs a check with exec? on an offline reader, where one with exec skips', async () => {
    const ran: string[] = [];
    const optionalExec = defineCheck({ id: 'connectivity/optional-exec', category: 'connectivity', scope: 'cluster', needs: ['pods', 'exec?'], meta, async run(ctx) {
      ran.push(ctx.cluster.name);
    } });
    const requiredExec = defineCheck({ id: 'connectivity/required-exec', category: 'connectivity', scope: 'cluster', needs: ['pods', 'exec'], meta, async run() {} });
    const readers = [memoryReader('c1', {}, { live: false })];
    const results = await run([optionalExec, requiredExec], readers);
    expect(results.map((r) => [r.checkId, r.outcome, r.skipReason])).toEqual([
      ['connectivity/optional-exec', 'pass', undefined],
      ['connectivity/required-exec', 'skip', 'needs a live cluster: offline snapshot'],
    ]);
    expect(ran).toEqual(['c1']);
  });

  it('reads an optional istiod debug need only when the check asks for it, never ahead (issue 19)', async () => {
    const asked: string[] = [];
    const reader = { ...memoryReader('c1'), istiodDebug: async (endpoint: string) => (asked.push(endpoint), []) };
    const fallback = defineCheck({ id: 'services/fallback-endpoints', category: 'services', scope: 'cluster', needs: ['istiod:endpointShardz', 'istiod:endpointz?'], meta, async run(ctx) {
      await ctx.cluster.istiodDebug('endpointShardz');
    } });
    const results = await run([fallback], [reader]);
    expect(results.map((r) => r.outcome)).toEqual(['pass']);
    // endpointShardz is warmed and read; the endpointz fallback, never asked for by the check, is not read at all.
    expect(asked).toContain('endpointShardz');
    expect(asked).not.toContain('endpointz');
  });
});
