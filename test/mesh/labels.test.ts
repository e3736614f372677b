import { describe, expect, it } from 'vitest';
import { labelSelectorMatches, parseLabelSelector, selectorMatches } from '../../src/mesh/labels.ts';

describe('label selectors', () => {
  it('plain map selectors: every pair must match; an empty one matches nothing', () => {
    expect(selectorMatches({ app: 'istiod' }, { app: 'istiod', istio: 'pilot' })).toBe(true);
    expect(selectorMatches({ app: 'istiod', istio: 'x' }, { app: 'istiod', istio: 'pilot' })).toBe(false);
    expect(selectorMatches({}, { app: 'istiod' })).toBe(false);
    expect(selectorMatches(undefined, { app: 'istiod' })).toBe(false);
  });

  it('LabelSelectors: empty matches all; matchLabels and every operator', () => {
    const labels = { a: '1', b: '2' };
    expect(labelSelectorMatches(undefined, labels)).toBe(true);
    expect(labelSelectorMatches({}, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { a: '1' } }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { a: '2' } }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '3'] }] }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['1'] }] }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }, { key: 'b', operator: 'Exists' }] }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, labels)).toBe(false);
  });

  it('parses kubectl selector text into matchExpressions and matches with it', () => {
    const sel = parseLabelSelector('app=curl,version!=v2,tier in (a, b),!legacy,env');
    expect(sel.matchExpressions).toEqual([
      { key: 'app', operator: 'In', values: ['curl'] },
      { key: 'version', operator: 'NotIn', values: ['v2'] },
      { key: 'tier', operator: 'In', values: ['a', 'b'] },
      { key: 'legacy', operator: 'DoesNotExist', values: [] },
      { key: 'env', operator: 'Exists', values: [] },
    ]);
    expect(labelSelectorMatches(sel, { app: 'curl', tier: 'a', env: 'x' })).toBe(true);
    expect(labelSelectorMatches(sel, { app: 'curl', tier: 'c', env: 'x' })).toBe(false);
    expect(labelSelectorMatches(sel, { app: 'curl', tier: 'a', env: 'x', legacy: '1' })).toBe(false);
    expect(labelSelectorMatches(parseLabelSelector(''), { any: 'thing' })).toBe(true);
    expect(() => parseLabelSelector('app=(')).toThrow(/bad label selector/);
  });
});
