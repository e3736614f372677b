// The check contract, both ways: what a check declares in `needs` is exactly what it reads (as
// Istio's analyzer tests hold each analyzer to its Inputs). Every read a check makes through the
// readers and context the engine hands it is recorded per check: list kinds (with their namespace
// scope), istiod debug endpoints, sidecar admin reads and execs, remote API probes. Every check runs
// through the real engine over every fixture and over lab runs. An undeclared read fails at once; a
// declared need fails only when no run at all read it (the union over runs: one fixture cannot
// exercise every branch of every check).
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSnapshot } from '../../src/cluster/snapshot.ts';
import type { ClusterReader } from '../../src/cluster/types.ts';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import istiodReady from '../../src/checks/control-plane/istiod-ready.ts';
import { runChecks } from '../../src/engine/run.ts';
import { createRunMemo } from '../../src/engine/run-memo.ts';
import { baseNeed, type Check, type CheckContext, type RunMemo } from '../../src/engine/types.ts';
import { discoverTopology } from '../../src/mesh/discovery.ts';
import { runChecksOnLab } from '../helpers/lab-run.ts';
import { FIXTURES_DIR, ISTIO_NAMESPACE } from './helpers.ts';

/** What each check read: check id -> need -> the reads of it (`pods in istio-system`, `proxy:certs of ns/pod`). */
type Reads = Map<string, Map<string, Set<string>>>;

function record(reads: Reads, checkId: string, need: string, detail: string): void {
  const byNeed = reads.get(checkId) ?? new Map<string, Set<string>>();
  reads.set(checkId, byNeed);
  const details = byNeed.get(need) ?? new Set<string>();
  byNeed.set(need, details);
  details.add(detail);
}

/** A reader that records every read before handing it to `inner` (whose own internal calls are not the check's). */
function recordingReader(inner: ClusterReader, note: (need: string, detail: string) => void): ClusterReader {
  return {
    name: inner.name,
    context: inner.context,
    server: inner.server,
    live: inner.live,
    via: inner.via,
    list: (kind, scope) => {
      note(kind, `${kind} in ${scope?.namespace ?? 'all namespaces'} of ${inner.name}`);
      return inner.list(kind, scope);
    },
    listOptional: (kind, scope) => {
      note(kind, `${kind} in ${scope?.namespace ?? 'all namespaces'} of ${inner.name}`);
      return inner.listOptional(kind, scope);
    },
    istiodDebug: (endpoint, opts) => {
      note(`istiod:${endpoint}`, `istiod ${endpoint} of ${inner.name}`);
      return inner.istiodDebug(endpoint, opts);
    },
    istiodLogs: (opts) => {
      note('istiod-logs', `istiod logs of ${inner.name}`);
      return inner.istiodLogs(opts);
    },
    ztunnelConfigDumps: (opts) => {
      note('ztunnel-config', `ztunnel config_dump of ${inner.name}`);
      return inner.ztunnelConfigDumps(opts);
    },
    sidecarAdmin: (pod, what, opts) => {
      note(`proxy:${what}`, `${what} of ${pod.namespace}/${pod.name} in ${inner.name}`);
      return inner.sidecarAdmin(pod, what, opts);
    },
    exec: (pod, container, command, opts) => {
      note('exec', `${command[0]} in ${pod.namespace}/${pod.name}/${container} of ${inner.name}`);
      return inner.exec(pod, container, command, opts);
    },
    version: () => {
      note('live', `version of ${inner.name}`);
      return inner.version();
    },
    ...(inner.invalidate ? { invalidate: () => inner.invalidate!() } : {}),
  };
}

/**
 * A copy of `check` whose run() sees recording readers (one per real reader, so `ctx.cluster` is
 * still one of `ctx.clusters`) and a memo of its own: work shared through the run memo is then read
 * by every check that uses it, not only by the first one to ask (verdicts are the same: the memo
 * only saves repeated work).
 */
function instrument(check: Check, reads: Reads): Check {
  reads.set(check.id, reads.get(check.id) ?? new Map());
  // One memo of its own per engine round (keys name clusters, and fixtures share cluster names).
  const memos = new WeakMap<RunMemo, RunMemo>();
  const memoFor = (round: RunMemo): RunMemo => {
    let memo = memos.get(round);
    if (!memo) {
      memo = createRunMemo();
      memos.set(round, memo);
    }
    return memo;
  };
  const wrappers = new Map<ClusterReader, ClusterReader>();
  const wrap = (reader: ClusterReader): ClusterReader => {
    let wrapped = wrappers.get(reader);
    if (!wrapped) {
      wrapped = recordingReader(reader, (need, detail) => record(reads, check.id, need, detail));
      wrappers.set(reader, wrapped);
    }
    return wrapped;
  };
  const run = (ctx: CheckContext): Promise<void> => {
    const seen: CheckContext = { ...ctx, memo: memoFor(ctx.memo), clusters: ctx.clusters.map(wrap), cluster: ctx.cluster && wrap(ctx.cluster) } as CheckContext;
    if (ctx.probeRemoteApi) {
      const probe = ctx.probeRemoteApi;
      seen.probeRemoteApi = (kubeconfig, opts) => {
        record(reads, check.id, 'live', 'remote API probe');
        return probe(kubeconfig, opts);
      };
    }
    return (check.run as (c: CheckContext) => Promise<void>)(seen);
  };
  return { ...check, run } as Check;
}

/** Reads no need declares, as `checkId reads need (detail)`. */
export function undeclaredReads(checks: Check[], reads: Reads): string[] {
  const found: string[] = [];
  for (const check of checks) {
    const declared = new Set<string>(check.needs.map(baseNeed));
    for (const [need, details] of reads.get(check.id) ?? []) {
      if (!declared.has(need)) found.push(`${check.id} reads ${need} (${[...details].sort()[0]})`);
    }
  }
  return found.sort();
}

/** Declared needs no run read, as `checkId never reads need`. */
function unusedNeeds(checks: Check[], reads: Reads): string[] {
  const found: string[] = [];
  for (const check of checks) {
    const read = reads.get(check.id) ?? new Map();
    for (const need of check.needs) if (!read.has(baseNeed(need))) found.push(`${check.id} never reads ${need}`);
  }
  return found.sort();
}

const FIXTURES = readdirSync(FIXTURES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(path.join(FIXTURES_DIR, entry.name, 'meshdoctor-snapshot.json')))
  .map((entry) => entry.name)
  .sort();

/** Run `checks` through the real engine over a fixture. */
async function runOnFixture(name: string, checks: Check[]): Promise<void> {
  const snapshot = await openSnapshot(path.join(FIXTURES_DIR, name));
  const { clusters, mesh } = await discoverTopology(snapshot.clusters, ISTIO_NAMESPACE);
  await runChecks({
    checks,
    readers: snapshot.clusters,
    clusterInfos: clusters,
    mesh,
    options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: snapshot.capturedAt },
    timeoutMs: 20_000,
    concurrency: 4,
  });
}

/**
 * Lab runs: what only a live mesh exercises (exec probes, sidecar admin, remote API probes), and the
 * faults that lead checks down the branches that read more (discovery selectors, NetworkPolicies,
 * a peer istiod does not sync, a data path that fails and gets attributed to a gateway, a peer with
 * no endpoints, a sidecar whose secrets another CA issued).
 */
const LABS: { scenario: string; faults: string[] }[] = [
  { scenario: 'multi-primary', faults: [] },
  { scenario: 'primary-remote', faults: [] },
  { scenario: 'multi-primary', faults: ['discovery-selectors-exclude'] },
  { scenario: 'multi-primary', faults: ['networkpolicy-blocks-gateway'] },
  { scenario: 'multi-primary', faults: ['remote-sync-timeout'] },
  { scenario: 'multi-primary', faults: ['eastwest-firewall'] },
  { scenario: 'multi-primary', faults: ['no-remote-secret'] },
  { scenario: 'multi-primary', faults: ['cacerts-incomplete'] },
];

describe('every check reads exactly what it declares', () => {
  const reads: Reads = new Map();
  const checks = BUILTIN_CHECKS.map((check) => instrument(check, reads));

  it('has fixtures to run over', () => {
    expect(FIXTURES.length).toBeGreaterThan(10);
  });

  it.each(FIXTURES)('fixture %s: no undeclared read', async (name) => {
    await runOnFixture(name, checks);
    expect(undeclaredReads(BUILTIN_CHECKS, reads)).toEqual([]);
  });

  it.each(LABS)('lab $scenario $faults: no undeclared read', { timeout: 120_000 }, async ({ scenario, faults }) => {
    await runChecksOnLab({ scenario, faults }, { checks });
    expect(undeclaredReads(BUILTIN_CHECKS, reads)).toEqual([]);
  });

  // Last: a need is unused only when no run above read it.
  it('every declared need is read by some run', () => {
    expect(unusedNeeds(BUILTIN_CHECKS, reads)).toEqual([]);
  });

  afterAll(() => {
    reads.clear();
  });
});

describe('the contract test catches a check that reads more than it declares', () => {
  it('reports the one need removed from a copy of a real check', async () => {
    // control-plane/istiod-ready lists pods to tell ready istiod pods; this copy forgets to say so.
    const broken: Check = { ...istiodReady, needs: istiodReady.needs.filter((need) => need !== 'pods') };
    const reads: Reads = new Map();
    await runOnFixture('istiod-not-ready', [instrument(broken, reads)]);
    expect(undeclaredReads([broken], reads).map((line) => line.replace(/ \(.*\)$/, ''))).toEqual(['control-plane/istiod-ready reads pods']);
    expect(unusedNeeds([broken], reads)).toEqual([]);
  });
});
