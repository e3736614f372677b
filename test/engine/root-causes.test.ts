// Linking findings to the findings of other checks that explain them (src/engine/root-causes.ts):
// the conditions, the cycle rule, and the report() typing of the fields the conditions match on.
import { describe, expect, it } from 'vitest';
import { defineCheck } from '../../src/engine/define-check.ts';
import { runChecks } from '../../src/engine/run.ts';
import { explanationProblems, linkRootCauses, refKey } from '../../src/engine/root-causes.ts';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import type { Check, CheckResult, Finding } from '../../src/engine/types.ts';
import { clusterInfo, memoryReader, MESH } from './fakes.ts';

const root = defineCheck({
  id: 'certificates/root',
  category: 'certificates',
  scope: 'cluster',
  needs: [],
  meta: {
    description: 'd',
    docs: 'https://istio.io',
    messages: {
      rootMismatch: { template: 'other root', severity: 'error', hint: 'h' },
      secretForPeer: { template: 'secret', severity: 'error', hint: 'h' },
      note: { template: 'n', severity: 'info', hint: 'h' },
      namespaceOff: { template: 'ns', severity: 'warning', hint: 'h' },
      // Explained by the traffic check, which it explains: a cycle; and by traffic's upstream, from outside it.
      cyclic: { template: 'c', severity: 'error', hint: 'h', explainedBy: [{ check: 'connectivity/traffic', messages: ['cyclic', 'upstream'], when: 'cluster' }] },
    },
  },
  async run() {},
});

const traffic = defineCheck({
  id: 'connectivity/traffic',
  category: 'connectivity',
  scope: 'cluster',
  needs: [],
  meta: {
    description: 'd',
    docs: 'https://istio.io',
    messages: {
      tlsFailure: {
        template: 'tls',
        severity: 'error',
        hint: 'h',
        explainedBy: [{ check: 'certificates/root', messages: ['rootMismatch', 'secretForPeer', 'note'], when: 'peer-pair' }],
      },
      serviceDown: { template: 's', severity: 'error', hint: 'h', explainedBy: [{ check: 'certificates/root', messages: ['rootMismatch'], when: 'service' }] },
      inNamespace: { template: 'i', severity: 'error', hint: 'h', explainedBy: [{ check: 'certificates/root', messages: ['namespaceOff'], when: 'namespace' }] },
      neverServed: { template: 'n', severity: 'error', hint: 'h', explainedBy: [{ check: 'certificates/root', messages: ['secretForPeer'], when: 'peer-view' }] },
      anywhere: { template: 'a', severity: 'warning', hint: 'h', explainedBy: [{ check: 'certificates/root', messages: ['rootMismatch'], when: 'mesh' }] },
      sameCluster: { template: 'c', severity: 'error', hint: 'h', explainedBy: [{ check: 'certificates/root', messages: ['rootMismatch'], when: 'cluster' }] },
      cyclic: { template: 'c', severity: 'error', hint: 'h', explainedBy: [{ check: 'certificates/root', messages: ['cyclic'], when: 'cluster' }] },
      chained: { template: 'c', severity: 'error', hint: 'h', explainedBy: [{ check: 'certificates/root', messages: ['cyclic'], when: 'cluster' }] },
      upstream: { template: 'u', severity: 'error', hint: 'h' },
    },
  },
  async run(ctx) {
    // The fields a condition matches on are required by report()'s type.
    ctx.report({ messageId: 'tlsFailure', peer: 'east' });
    ctx.report({ messageId: 'serviceDown', service: 'sample/helloworld' });
    // @ts-expect-error a message explained on the same peer pair must name its peer
    ctx.report({ messageId: 'tlsFailure' });
    ctx.report({ messageId: 'neverServed', peer: 'east' });
    // @ts-expect-error a message explained by its peer's view must name its peer
    ctx.report({ messageId: 'neverServed' });
    // @ts-expect-error a message explained on the same service must name its service
    ctx.report({ messageId: 'serviceDown' });
    // Stated as unknown: allowed, and then matched by no service or namespace explanation.
    ctx.report({ messageId: 'inNamespace', service: undefined });
    // @ts-expect-error a message explained on the same namespace must name its service
    ctx.report({ messageId: 'inNamespace' });
    ctx.report({ messageId: 'sameCluster' });
  },
});

const CHECKS: Check[] = [root, traffic];

function finding(checkId: string, messageId: string, cluster: string, extra: Partial<Finding> = {}): Finding {
  const check = CHECKS.find((c) => c.id === checkId)!;
  return { checkId, messageId, cluster, severity: check.meta.messages[messageId].severity, message: messageId, ...extra };
}

/** One result per finding, so a finding's ref is { result: its index, finding: 0 }. */
function results(...findings: Finding[]): CheckResult[] {
  return findings.map((f) => ({ checkId: f.checkId, category: 'connectivity', cluster: f.cluster, outcome: 'fail', durationMs: 0, findings: [f] }));
}

/** Root causes and explanations by result index. */
function link(...findings: Finding[]): { roots: number[]; explainedBy: Record<number, number[]> } {
  const links = linkRootCauses(results(...findings), CHECKS);
  const explainedBy: Record<number, number[]> = {};
  findings.forEach((_f, i) => {
    const by = links.explainedBy.get(refKey({ result: i, finding: 0 }));
    if (by) explainedBy[i] = by.map((ref) => ref.result);
  });
  return { roots: links.rootCauses.map((ref) => ref.result), explainedBy };
}

describe('linkRootCauses', () => {
  it('peer pair: a single-cluster finding explains every pair it is part of, a pair finding only its own pair', () => {
    const links = link(
      finding('certificates/root', 'rootMismatch', 'east'),
      finding('connectivity/traffic', 'tlsFailure', 'west', { peer: 'east' }),
      finding('connectivity/traffic', 'tlsFailure', 'west', { peer: 'north' }),
      finding('certificates/root', 'secretForPeer', 'north', { peer: 'south' }),
      finding('connectivity/traffic', 'tlsFailure', 'south', { peer: 'north' }),
      finding('connectivity/traffic', 'tlsFailure', 'north', { peer: 'west' }),
    );
    expect(links.explainedBy).toEqual({ 1: [0], 4: [3] });
    expect(links.roots).toEqual([0, 2, 3, 5]);
  });

  it("peer view: the peer's finding about this cluster, in that direction only", () => {
    const links = link(
      // north's view of south (say, north's istiod has no secret for south)
      finding('certificates/root', 'secretForPeer', 'north', { peer: 'south' }),
      // south never served north's caller: explained
      finding('connectivity/traffic', 'neverServed', 'south', { peer: 'north' }),
      // north never served south's caller: the other direction, not explained
      finding('connectivity/traffic', 'neverServed', 'north', { peer: 'south' }),
      // a finding about one cluster is nobody's view of a peer
      finding('certificates/root', 'secretForPeer', 'west'),
      finding('connectivity/traffic', 'neverServed', 'east', { peer: 'west' }),
    );
    expect(links.explainedBy).toEqual({ 1: [0] });
    expect(links.roots).toEqual([0, 2, 3, 4]);
  });

  it('service: same service on the same cluster', () => {
    const links = link(
      finding('certificates/root', 'rootMismatch', 'east', { service: 'sample/helloworld' }),
      finding('connectivity/traffic', 'serviceDown', 'east', { service: 'sample/helloworld' }),
      finding('connectivity/traffic', 'serviceDown', 'east', { service: 'sample/other' }),
      finding('connectivity/traffic', 'serviceDown', 'west', { service: 'sample/helloworld' }),
    );
    expect(links.explainedBy).toEqual({ 1: [0] });
    expect(links.roots).toEqual([0, 2, 3]);
  });

  it('service and namespace: a Service or Namespace resource says which the finding concerns', () => {
    const service = { kind: 'Service', namespace: 'sample', name: 'helloworld' };
    const links = link(
      finding('certificates/root', 'rootMismatch', 'east', { resource: service }),
      finding('connectivity/traffic', 'serviceDown', 'east', { service: 'sample/helloworld' }),
      finding('certificates/root', 'namespaceOff', 'east', { resource: { kind: 'Namespace', name: 'sample' } }),
      finding('connectivity/traffic', 'inNamespace', 'east', { service: 'sample/curl' }),
      finding('connectivity/traffic', 'inNamespace', 'east', { service: 'other/curl' }),
      finding('connectivity/traffic', 'inNamespace', 'west', { service: 'sample/curl' }),
      finding('connectivity/traffic', 'inNamespace', 'east'),
      // A finding about a Service explains on its namespace too.
      finding('connectivity/traffic', 'inNamespace', 'east', { resource: service }),
    );
    expect(links.explainedBy).toEqual({ 1: [0], 3: [2], 7: [2] });
    expect(links.roots).toEqual([0, 2, 4, 5, 6]);
  });

  it('cluster and mesh conditions', () => {
    const links = link(
      finding('certificates/root', 'rootMismatch', 'east'),
      finding('connectivity/traffic', 'sameCluster', 'east'),
      finding('connectivity/traffic', 'sameCluster', 'west'),
      finding('connectivity/traffic', 'anywhere', 'west'),
    );
    expect(links.explainedBy).toEqual({ 1: [0], 3: [0] });
    expect(links.roots).toEqual([0, 2]);
  });

  it('an info finding neither explains nor is a root cause', () => {
    const links = link(finding('certificates/root', 'note', 'east'), finding('connectivity/traffic', 'tlsFailure', 'west', { peer: 'east' }));
    expect(links).toEqual({ roots: [1], explainedBy: {} });
  });

  it('a cycle hides neither end: both stay root causes, and what either explains is explained', () => {
    const links = link(
      finding('certificates/root', 'cyclic', 'east'),
      finding('connectivity/traffic', 'cyclic', 'east'),
      finding('connectivity/traffic', 'chained', 'east'),
    );
    expect(links.roots).toEqual([0, 1]);
    expect(links.explainedBy).toEqual({ 2: [0] });
    // The order of the results does not change the verdict.
    const reversed = link(finding('connectivity/traffic', 'cyclic', 'east'), finding('certificates/root', 'cyclic', 'east'));
    expect(reversed.roots).toEqual([0, 1]);
  });

  it('a cycle that something outside explains: the outside finding is the root cause, both ends consequences', () => {
    // A = root cyclic, B = traffic cyclic (A and B explain each other), C = traffic upstream explains A.
    const links = link(
      finding('certificates/root', 'cyclic', 'east'),
      finding('connectivity/traffic', 'cyclic', 'east'),
      finding('connectivity/traffic', 'upstream', 'east'),
      finding('connectivity/traffic', 'chained', 'east'),
    );
    expect(links.roots).toEqual([2]);
    // A names C (outside the cycle), not B; B has only A to name; what A explains stays explained.
    expect(links.explainedBy).toEqual({ 0: [2], 1: [0], 3: [0] });
    // In any order of the results.
    const reordered = link(
      finding('connectivity/traffic', 'upstream', 'east'),
      finding('connectivity/traffic', 'cyclic', 'east'),
      finding('certificates/root', 'cyclic', 'east'),
    );
    expect(reordered.roots).toEqual([0]);
    expect(reordered.explainedBy).toEqual({ 1: [2], 2: [0] });
    // On another cluster C explains nothing: the cycle is pure again and both ends stay root causes.
    const elsewhere = link(
      finding('certificates/root', 'cyclic', 'east'),
      finding('connectivity/traffic', 'cyclic', 'east'),
      finding('connectivity/traffic', 'upstream', 'west'),
    );
    expect(elsewhere.roots).toEqual([0, 1, 2]);
    expect(elsewhere.explainedBy).toEqual({});
  });

  it('each consequence names the finding that explains it', () => {
    const links = link(
      finding('certificates/root', 'cyclic', 'east'),
      finding('connectivity/traffic', 'chained', 'east'),
      finding('connectivity/traffic', 'sameCluster', 'east'),
      finding('certificates/root', 'rootMismatch', 'east'),
    );
    expect(links.roots).toEqual([0, 3]);
    expect(links.explainedBy).toEqual({ 1: [0], 2: [3] });
  });
});

describe('declared explanations', () => {
  it('name existing checks and messageIds, never their own check', () => {
    expect(explanationProblems(BUILTIN_CHECKS)).toEqual([]);
    const selfExplained = defineCheck({
      ...traffic,
      id: 'connectivity/self',
      meta: {
        ...traffic.meta,
        messages: {
          x: {
            template: 't',
            severity: 'error',
            hint: 'h',
            explainedBy: [
              { check: 'connectivity/self', messages: ['x'], when: 'cluster' },
              { check: 'certificates/root', messages: ['nope'], when: 'cluster' },
              { check: 'no/such', messages: ['x'], when: 'mesh' },
            ],
          },
        },
      },
      async run() {},
    });
    expect(explanationProblems([root, traffic, selfExplained])).toEqual([
      'connectivity/self x: explained by its own check',
      'connectivity/self x: certificates/root has no messageId nope',
      'connectivity/self x: explained by unknown check no/such',
    ]);
  });

  it('the engine carries peer and service from report() to the finding', async () => {
    const results = await runChecks({
      checks: [traffic],
      readers: [memoryReader('west')],
      clusterInfos: [clusterInfo('west')],
      mesh: MESH,
      options: { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date(0) },
      timeoutMs: 5000,
      concurrency: 1,
    });
    const found = results[0].findings.map((f) => [f.messageId, f.peer, f.service]);
    expect(found).toContainEqual(['tlsFailure', 'east', undefined]);
    expect(found).toContainEqual(['serviceDown', undefined, 'sample/helloworld']);
  });
});
