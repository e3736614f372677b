import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NetworkzUnavailable, parseNetworkz } from '../../../src/mesh/debug/networkz.ts';

describe('parseNetworkz', () => {
  it('reads the current format (the reference example)', () => {
    const body = readFileSync('/work/shared/reference/istio/debug-examples/networkz.synthesized.json', 'utf8');
    expect(parseNetworkz(body)).toEqual([
      { network: 'network1', cluster: 'cluster1', address: '34.75.71.237', port: 15443, hbonePort: 0 },
      { network: 'network2', cluster: 'cluster2', address: '34.122.91.98', port: 15443, hbonePort: 0 },
    ]);
  });

  it('reads the four-field form, lower-case keys and null', () => {
    expect(parseNetworkz('[{"Network":"n1","Cluster":"c1","Addr":"1.2.3.4","Port":15443}]')).toEqual([{ network: 'n1', cluster: 'c1', address: '1.2.3.4', port: 15443, hbonePort: 0 }]);
    expect(parseNetworkz('[{"network":"n1","addr":"1.2.3.4","port":31443}]')).toEqual([{ network: 'n1', cluster: '', address: '1.2.3.4', port: 31443, hbonePort: 0 }]);
    expect(parseNetworkz('null\n')).toEqual([]);
  });

  it('throws on unknown shapes, and NetworkzUnavailable on a 404', () => {
    expect(() => parseNetworkz('404 page not found')).toThrow(NetworkzUnavailable);
    expect(() => parseNetworkz('{"a":1}')).toThrow(/not a JSON array/);
    expect(() => parseNetworkz('[{"Network":"n1"}]')).toThrow(/entry 0 lacks Network\/Addr\/Port/);
    expect(() => parseNetworkz('<html>')).toThrow(/not JSON/);
  });
});
