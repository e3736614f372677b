// A check starts when what it declared has been read, not when every read of the run has (issue 19):
// at 10,000 pods istiod's endpointShardz streams for seconds, and the checks that never read it
// (connectivity probes, remote-secret probes) must not wait for it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runChecks } from '../../src/engine/run.ts';
import { defineCheck } from '../../src/engine/define-check.ts';
import type { IstiodDebugOutput } from '../../src/cluster/types.ts';
import { clusterInfo, memoryReader, MESH } from './fakes.ts';

const meta = { description: 'test check', docs: 'https://istio.io', messages: {} };

describe('checks start when their own reads are in', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a check needing pods while an istiod debug body another check needs is still arriving, and that one after it', async () => {
    const order: string[] = [];
    let arrive!: () => void;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    // One answer per question, as a live reader memoizes it.
    const body = arrived.then((): IstiodDebugOutput[] => {
      order.push('endpointShardz arrived');
      return [{ pod: 'istiod-a', namespace: 'istio-system', revision: 'default', body: '{}' }];
    });
    const reader = { ...memoryReader('c1', { pods: [{ metadata: { namespace: 'sample', name: 'curl' } }] }), istiodDebug: () => body };
    const probes = defineCheck({ id: 'connectivity/early', category: 'connectivity', scope: 'cluster', needs: ['pods'], meta, async run(ctx) {
      order.push(`probes ran with ${(await ctx.cluster.list('pods')).length} pod`);
      // The body arrives only once this check has run: with every check waiting for every read, the run
      // would hang here until the warm-up deadline and this check would run after the body.
      arrive();
    } });
    const endpoints = defineCheck({ id: 'services/late', category: 'services', scope: 'cluster', needs: ['istiod:endpointShardz'], meta, async run(ctx) {
      order.push(`endpoints ran with ${(await ctx.cluster.istiodDebug('endpointShardz')).length} body`);
    } });
    // The clock never moves: the warm-up's deadline (timeoutMs) cannot pass, so a run that waited for
    // every read before any check would never finish (and the test would fail on its own timeout).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const results = await runChecks({
      checks: [endpoints, probes],
      readers: [reader],
      clusterInfos: [clusterInfo('c1')],
      mesh: MESH,
      options: { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date(0) },
      timeoutMs: 20_000,
      concurrency: 4,
    });
    expect(results.map((r) => [r.checkId, r.outcome]).sort()).toEqual([
      ['connectivity/early', 'pass'],
      ['services/late', 'pass'],
    ]);
    expect(order).toEqual(['probes ran with 1 pod', 'endpointShardz arrived', 'endpoints ran with 1 body']);
  }, 10_000);
});
