import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import {
  SelectorError,
  matchesLabels,
  pageOf,
  parseFieldSelector,
  parseLabelSelector,
  sortedObjects,
} from '../../../src/lab/server/list-query.ts';

function obj(namespace: string | undefined, name: string, labels?: Record<string, string>): KubeObject {
  return { metadata: { name, namespace, labels } };
}

describe('label selectors', () => {
  const labels = { app: 'istiod', 'istio.io/rev': 'canary', tier: 'control' };
  const cases: [string, boolean][] = [
    ['app=istiod', true],
    ['app==istiod', true],
    ['app!=istiod', false],
    ['app!=other', true],
    ['missing!=x', true],
    ['istio.io/rev in (canary,stable)', true],
    ['istio.io/rev in (stable)', false],
    ['istio.io/rev notin (stable, old)', true],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['app=istiod,istio.io/rev in (canary,x),!missing', true],
    ['app=istiod,tier=data', false],
    ['', true],
  ];
  it.each(cases)('%s -> %s', (selector, expected) => {
    expect(matchesLabels(labels, parseLabelSelector(selector))).toBe(expected);
  });

  it('rejects malformed selectors', () => {
    expect(() => parseLabelSelector('app in x')).toThrow(SelectorError);
    expect(() => parseLabelSelector('a=b=c')).toThrow(SelectorError);
  });
});

describe('field selectors', () => {
  it('supports metadata.name and metadata.namespace, rejects unknown fields', () => {
    expect(parseFieldSelector('metadata.name=a,metadata.namespace!=b', 'pods')).toEqual([
      { field: 'metadata.name', negate: false, value: 'a' },
      { field: 'metadata.namespace', negate: true, value: 'b' },
    ]);
    expect(parseFieldSelector('status.phase=Running', 'pods')).toHaveLength(1);
    expect(() => parseFieldSelector('spec.foo=x', 'services')).toThrow(/field label not supported/);
  });
});

describe('sorting and pagination', () => {
  const list = [obj('b', 'x'), obj('a', 'z'), obj('a', 'y', { keep: 'yes' }), obj('a-b', 'a'), obj('b', 'w', { keep: 'yes' })];

  it('orders by namespace then name, and caches per list identity', () => {
    const sorted = sortedObjects(list);
    expect(sorted.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['a/y', 'a/z', 'a-b/a', 'b/w', 'b/x']);
    expect(sortedObjects(list)).toBe(sorted);
  });

  it('walks pages with continue tokens and restricts to a namespace', () => {
    const sorted = sortedObjects(list);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = pageOf(sorted, { labels: [], fields: [], limit: 2, continueToken: token });
      seen.push(...page.items.map((o) => o.metadata.name));
      token = page.continueToken;
    } while (token);
    expect(seen).toEqual(['y', 'z', 'a', 'w', 'x']);
    expect(pageOf(sorted, { namespace: 'a', labels: [], fields: [] }).items.map((o) => o.metadata.name)).toEqual(['y', 'z']);
    expect(pageOf(sorted, { labels: parseLabelSelector('keep=yes'), fields: [], limit: 1 }).continueToken).toBeDefined();
    expect(() => pageOf(sorted, { labels: [], fields: [], continueToken: 'garbage' })).toThrow(SelectorError);
  });

  it('pages 10,000 objects in pages of 500', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => obj(`ns-${i % 37}`, `pod-${i}`, { idx: String(i % 2) }));
    let token: string | undefined;
    let total = 0;
    let pages = 0;
    do {
      const page = pageOf(sortedObjects(many), { labels: parseLabelSelector('idx=1'), fields: [], limit: 500, continueToken: token });
      total += page.items.length;
      pages++;
      token = page.continueToken;
    } while (token);
    expect(total).toBe(5_000);
    expect(pages).toBe(10);
  });
});
