import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/util/suggest.ts';

describe('did you mean', () => {
  const known = ['network', 'services', 'certificates/shared-root', 'network/topology', 'only', 'output'];

  it('counts insertions, deletions, substitutions and adjacent swaps as one edit each', () => {
    expect([editDistance('network', 'network'), editDistance('netwrok', 'network'), editDistance('netwok', 'network'), editDistance('servces', 'services'), editDistance('a', 'b')]).toEqual([0, 1, 1, 1, 1]);
  });

  it('suggests the nearest known name for a typo, a check by its last segment, and nothing for a different word', () => {
    expect(closestName('netwrok', known)).toBe('network');
    expect(closestName('shared-root', known)).toBe('certificates/shared-root');
    expect(closestName('certificates/shard-root', known)).toBe('certificates/shared-root');
    expect(closestName('topolgy', known)).toBe('network/topology');
    expect(closestName('onyl', known)).toBe('only');
    expect(closestName('NETWORK', known)).toBe('network');
    expect(closestName('dns', known)).toBeUndefined();
    expect(closestName('frobnicate', known)).toBeUndefined();
    expect(closestName('', known)).toBeUndefined();
  });
});
