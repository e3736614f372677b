import { describe, expect, it } from 'vitest';
import { runChecks } from '../../src/engine/run.ts';
import { defineCheck } from '../../src/engine/define-check.ts';
import type { Check } from '../../src/engine/types.ts';
import { clusterInfo, memoryReader, MESH } from './fakes.ts';

const meta = (messages: Record<string, 'error' | 'warning' | 'info'>) => ({
  description: 'test check',
  docs: 'https://istio.io',
  messages: Object.fromEntries(Object.entries(messages).map(([id, severity]) => [id, { template: `${id} {{what}}`, severity, hint: 'do it' }])),
});

const failsOn = (cluster: string) =>
  defineCheck({
    id: 'control-plane/fails-on',
    category: 'control-plane',
    scope: 'cluster',
    needs: [],
    meta: meta({ broken: 'error' }),
    async run(ctx) {
      if (ctx.cluster?.name === cluster) ctx.report({ messageId: 'broken', data: { what: 'x' } });
    },
  });

function base(checks: Check[], readers = [memoryReader('c1'), memoryReader('c2')]) {
  return {
    checks,
    readers,
    clusterInfos: readers.map((r) => clusterInfo(r.name)),
    mesh: MESH,
    options: { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date(0) },
    timeoutMs: 1000,
    concurrency: 4,
  };
}

describe('runChecks', () => {
  it('runs cluster checks per cluster and mesh checks once with cluster *', async () => {
    const mesh = defineCheck({ id: 'network/mesh-one', category: 'network', scope: 'mesh', needs: [], meta: meta({ warn: 'warning' }), async run(ctx) {
      ctx.report({ messageId: 'warn', cluster: 'c2' });
    } });
    const results = await runChecks(base([mesh, failsOn('c2')]));
    expect(results.map((r) => [r.checkId, r.cluster, r.outcome])).toEqual([
      ['control-plane/fails-on', 'c1', 'pass'],
      ['control-plane/fails-on', 'c2', 'fail'],
      ['network/mesh-one', '*', 'warn'],
    ]);
    expect(results[1].findings[0]).toMatchObject({ checkId: 'control-plane/fails-on', messageId: 'broken', severity: 'error', cluster: 'c2', message: 'broken x', hint: 'do it' });
    expect(results[2].findings[0].cluster).toBe('c2');
  });

  it('turns a throwing check into error and a hanging one into a timeout error; others go on', async () => {
    const throws = defineCheck({ id: 'services/throws', category: 'services', scope: 'cluster', needs: [], meta: meta({}), async run() {
      throw new Error('unknown registryz shape');
    } });
    let aborted = false;
    const hangs = defineCheck({ id: 'services/hangs', category: 'services', scope: 'mesh', needs: [], meta: meta({}), run: (ctx) => new Promise(() => {
      ctx.signal.addEventListener('abort', () => (aborted = true));
    }) });
    const results = await runChecks({ ...base([throws, hangs, failsOn('c1')]), timeoutMs: 100 });
    const byId = (id: string) => results.filter((r) => r.checkId === id);
    expect(byId('services/throws').map((r) => [r.outcome, r.error])).toEqual([['error', 'unknown registryz shape'], ['error', 'unknown registryz shape']]);
    expect(byId('services/hangs')[0]).toMatchObject({ outcome: 'error' });
    expect(byId('services/hangs')[0].error).toMatch(/timed out after 100ms/);
    expect(aborted).toBe(true);
    expect(byId('control-plane/fails-on')[0].outcome).toBe('fail');
  });

  it('skips with the reason when a needed kind is forbidden, and on offline readers for live-only checks', async () => {
    const needsSecrets = defineCheck({ id: 'certificates/needs-secrets', category: 'certificates', scope: 'cluster', needs: ['secrets'], meta: meta({}), async run() {} });
    const needsExec = defineCheck({ id: 'connectivity/needs-exec', category: 'connectivity', scope: 'cluster', needs: ['exec'], meta: meta({}), async run() {} });
    const readers = [memoryReader('c1', {}, { forbidden: ['secrets'], live: false }), memoryReader('c2')];
    const results = await runChecks(base([needsSecrets, needsExec], readers));
    expect(results.map((r) => [r.checkId, r.cluster, r.outcome, r.skipReason])).toEqual([
      ['certificates/needs-secrets', 'c1', 'skip', 'forbidden: cannot list secrets'],
      ['certificates/needs-secrets', 'c2', 'pass', undefined],
      ['connectivity/needs-exec', 'c1', 'skip', 'needs a live cluster: offline snapshot'],
      ['connectivity/needs-exec', 'c2', 'pass', undefined],
    ]);
  });

  it('skips dependents of a failing check on the same cluster only', async () => {
    const dependent = defineCheck({ id: 'network/dependent', category: 'network', scope: 'cluster', needs: [], dependsOn: ['control-plane/fails-on'], meta: meta({}), async run() {} });
    const results = await runChecks(base([dependent, failsOn('c1')]));
    const dep = results.filter((r) => r.checkId === 'network/dependent');
    expect(dep.map((r) => [r.cluster, r.outcome])).toEqual([['c1', 'skip'], ['c2', 'pass']]);
    expect(dep[0].skipReason).toMatch(/depends on control-plane\/fails-on/);
  });

  it('reports ctx.skip, unknown messageIds as error, severity overrides, and sorted findings', async () => {
    const skipper = defineCheck({ id: 'services/skipper', category: 'services', scope: 'mesh', needs: [], meta: meta({}), async run(ctx) {
      ctx.skip('not a multi-network mesh');
    } });
    const buggy = defineCheck({ id: 'services/buggy', category: 'services', scope: 'mesh', needs: [], meta: meta({}), async run(ctx) {
      ctx.report({ messageId: 'nope' });
    } });
    const many = defineCheck({ id: 'services/many', category: 'services', scope: 'mesh', needs: [], meta: meta({ b: 'warning', a: 'error' }), async run(ctx) {
      ctx.report({ messageId: 'b', cluster: 'c2' });
      ctx.report({ messageId: 'a', cluster: 'c2' });
      ctx.report({ messageId: 'b', cluster: 'c1' });
    } });
    const results = await runChecks({ ...base([skipper, buggy, many]), severityOverrides: { 'services/many/a': 'info' } });
    expect(results.find((r) => r.checkId === 'services/skipper')).toMatchObject({ outcome: 'skip', skipReason: 'not a multi-network mesh' });
    expect(results.find((r) => r.checkId === 'services/buggy')?.outcome).toBe('error');
    const found = results.find((r) => r.checkId === 'services/many')!;
    expect(found.outcome).toBe('warn');
    expect(found.findings.map((f) => [f.cluster, f.messageId, f.severity])).toEqual([['c1', 'b', 'warning'], ['c2', 'b', 'warning'], ['c2', 'a', 'info']]);
  });

  it('never runs more checks at once than the concurrency cap', async () => {
    let active = 0;
    let peak = 0;
    const checks = Array.from({ length: 6 }, (_, i) => defineCheck({ id: `services/slow-${i}`, category: 'services', scope: 'cluster', needs: [], meta: meta({}), async run() {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 10));
      active -= 1;
    } }));
    await runChecks({ ...base(checks), concurrency: 3 });
    expect(peak).toBe(3);
  });

  it('--wait re-runs failing checks until they pass, with fresh data', async () => {
    let attempts = 0;
    const flaky = defineCheck({ id: 'network/flaky', category: 'network', scope: 'mesh', needs: [], meta: meta({ down: 'error' }), async run(ctx) {
      attempts += 1;
      if (attempts < 3) ctx.report({ messageId: 'down' });
    } });
    const readers = [memoryReader('c1')];
    let invalidated = 0;
    readers[0].invalidate = () => (invalidated += 1);
    const results = await runChecks({ ...base([flaky], readers), waitMs: 60_000, waitIntervalMs: 5000, sleep: async () => {} });
    expect(results[0].outcome).toBe('pass');
    expect(attempts).toBe(3);
    expect(invalidated).toBe(2);
  });

  it('--wait gives up at its deadline on its own clock: a check that never passes gets waitMs / interval retries', async () => {
    let attempts = 0;
    const broken = defineCheck({ id: 'network/broken', category: 'network', scope: 'mesh', needs: [], meta: meta({ down: 'error' }), async run(ctx) {
      attempts += 1;
      ctx.report({ messageId: 'down' });
    } });
    // A fake monotonic clock that only the fake sleep advances: no real time passes, none is measured.
    let clock = 0;
    const slept: number[] = [];
    const retries: { failing: string[]; retryInMs: number; leftMs: number }[] = [];
    const rounds: number[] = [];
    const results = await runChecks({
      ...base([broken]),
      waitMs: 30_000,
      waitIntervalMs: 5000,
      onRetry: (failing, retryInMs, leftMs) => retries.push({ failing: failing.map((r) => r.checkId), retryInMs, leftMs }),
      onRound: (total) => rounds.push(total),
      monotonicMs: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    });
    expect(results[0].outcome).toBe('fail');
    expect(slept).toEqual([5000, 5000, 5000, 5000, 5000, 5000]);
    expect(attempts).toBe(7);
    // Each round says what still fails and how much of --wait is left, counting down to the deadline;
    // each retry round announces its own number of tasks (progress counts them afresh).
    expect(retries.map((r) => r.leftMs)).toEqual([30_000, 25_000, 20_000, 15_000, 10_000, 5000]);
    expect(retries.every((r) => r.retryInMs === 5000 && r.failing.join() === 'network/broken')).toBe(true);
    expect(rounds).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('shares one memo among the checks of a round; a --wait retry starts a new one', async () => {
    const started: string[] = [];
    const measure = (id: string, failUntilRound: number) =>
      defineCheck({ id, category: 'connectivity', scope: 'cluster', needs: [], meta: meta({ down: 'error' }), async run(ctx) {
        const round = await ctx.memo.get(`round|${ctx.cluster!.name}`, async () => {
          started.push(ctx.cluster!.name);
          return started.length;
        });
        if (round <= failUntilRound) ctx.report({ messageId: 'down' });
      } });
    // Two checks read the same measurement per cluster: it is taken once per cluster in the first round.
    const results = await runChecks({ ...base([measure('connectivity/a', 0), measure('connectivity/b', 2)]), waitMs: 60_000, waitIntervalMs: 5000, sleep: async () => {} });
    expect(results.map((r) => r.outcome)).toEqual(['pass', 'pass', 'pass', 'pass']);
    // Round 1 measured c1 and c2 (rounds 1, 2: b fails on both); the retry measured afresh (3, 4: b passes).
    expect(started).toEqual(['c1', 'c2', 'c1', 'c2']);
  });

  it('reports cluster checks on an unreachable cluster as error with the reason', async () => {
    const input = base([failsOn('c1')]);
    input.clusterInfos[0] = clusterInfo('c1', { reachable: false, unreachableReason: 'connect ECONNREFUSED 127.0.0.1:1' });
    const results = await runChecks(input);
    expect(results[0]).toMatchObject({ cluster: 'c1', outcome: 'error', error: 'cluster unreachable: connect ECONNREFUSED 127.0.0.1:1' });
  });
});

describe('releasing istiod debug bodies (issue 19)', () => {
  it('releases an endpoint on a cluster once every check declaring it there has finished, and only then', async () => {
    const events: string[] = [];
    const readerOf = (name: string) => ({
      ...memoryReader(name),
      istiodDebug: async (endpoint: string) => (events.push(`read ${name} ${endpoint}`), []),
      releaseIstiodDebug: (endpoint: string) => void events.push(`release ${name} ${endpoint}`),
    });
    const readers = [readerOf('c1'), readerOf('c2')];
    const reading = (id: string, endpoint: string, waitMs: number) =>
      defineCheck({ id, category: 'services', scope: 'cluster', needs: [`istiod:${endpoint}`], meta: meta({}), async run(ctx) {
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        await ctx.cluster.istiodDebug(endpoint);
        events.push(`done ${id} ${ctx.cluster.name}`);
      } });
    const meshWide = defineCheck({ id: 'services/mesh-syncz', category: 'services', scope: 'mesh', needs: ['istiod:syncz'], meta: meta({}), async run(ctx) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      for (const r of ctx.clusters) await r.istiodDebug('syncz');
      events.push('done services/mesh-syncz *');
    } });
    const results = await runChecks(base([reading('services/fast', 'endpointShardz', 0), reading('services/slow', 'endpointShardz', 20), meshWide], readers));
    expect(results.map((r) => r.outcome)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    for (const name of ['c1', 'c2']) {
      const released = events.indexOf(`release ${name} endpointShardz`);
      expect(released).toBeGreaterThan(events.indexOf(`done services/slow ${name}`));
      expect(released).toBeGreaterThan(events.indexOf(`done services/fast ${name}`));
      // A mesh-scope check's endpoint stays until that check is done, on every cluster.
      expect(events.indexOf(`release ${name} syncz`)).toBeGreaterThan(events.indexOf('done services/mesh-syncz *'));
    }
    expect(events.filter((e) => e.startsWith('release')).sort()).toEqual(['release c1 endpointShardz', 'release c1 syncz', 'release c2 endpointShardz', 'release c2 syncz']);
  });
});
