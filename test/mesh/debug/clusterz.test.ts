import { describe, expect, it } from 'vitest';
import { parseClusterz } from '../../../src/mesh/debug/clusterz.ts';

describe('parseClusterz', () => {
  it('reads null and [] (no remotes, up to 1.20) as no clusters', () => {
    expect(parseClusterz('null\n')).toEqual([]);
    expect(parseClusterz('[]')).toEqual([]);
  });

  it('reads remotes only (1.11-1.21) and the local entry with an empty secretName (1.22+)', () => {
    const body = JSON.stringify([
      { id: 'cluster1', secretName: '', syncStatus: 'synced' },
      { id: 'cluster2', secretName: 'istio-system/istio-remote-secret-cluster2', syncStatus: 'timeout' },
    ]);
    expect(parseClusterz(body)).toEqual([
      { id: 'cluster1', secretName: '', syncStatus: 'synced' },
      { id: 'cluster2', secretName: 'istio-system/istio-remote-secret-cluster2', syncStatus: 'timeout' },
    ]);
  });

  it('throws with the reason on shapes no Istio serves', () => {
    expect(() => parseClusterz('<html>')).toThrow(/not JSON/);
    expect(() => parseClusterz('{"clusters": []}')).toThrow(/expected a JSON array/);
    expect(() => parseClusterz('[{"name": "x"}]')).toThrow(/entry 0/);
  });
});
