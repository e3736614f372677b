import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import renderTopology from '../../../src/reporters/details/topology.ts';
import type { TopologyPicture } from '../../../src/engine/details.ts';
import type { CheckResult } from '../../../src/engine/types.ts';

const result: CheckResult = { checkId: 'network/topology', category: 'network', cluster: '*', outcome: 'pass', durationMs: 1, findings: [] };
const chalk = new Chalk({ level: 0 });

const picture: TopologyPicture = {
  networks: [
    {
      name: 'network1',
      clusters: [{ name: 'cluster1', clusterId: 'cluster1', role: 'primary', gateways: [{ kind: 'Service', namespace: 'istio-system', name: 'istio-eastwestgateway', addresses: ['172.18.1.10'], recognised: true }] }],
    },
    {
      name: 'network2',
      clusters: [
        { name: 'cluster2', clusterId: 'c2', role: 'remote', gateways: [{ kind: 'Service', namespace: 'istio-system', name: 'istio-eastwestgateway', addresses: [], recognised: false }] },
        { name: 'cluster3', role: 'unknown', gateways: [] },
      ],
    },
  ],
  controlPlanes: [
    { cluster: 'cluster1', clusterId: 'cluster1', sees: [{ clusterId: 'cluster1', status: 'local' }, { clusterId: 'c2', status: 'timeout' }] },
    { cluster: 'cluster4', sees: [], error: 'no istiod answered /debug/clusterz' },
  ],
};

describe('topology detail renderer', () => {
  it('draws networks, clusters, gateways with addresses and what each control plane sees', () => {
    expect(renderTopology(picture, { chalk, result })).toEqual([
      'network network1',
      '└─ cluster1 (primary)',
      '   └─ gateway istio-system/istio-eastwestgateway → 172.18.1.10',
      'network network2',
      '├─ cluster2 (remote, id c2)',
      '│  └─ gateway istio-system/istio-eastwestgateway → no address (ignored by istiod: no network label)',
      '└─ cluster3 (unknown)',
      '   └─ no east-west gateway',
      'control planes',
      '├─ istiod in cluster1 sees cluster1 (local), c2 (timeout)',
      '└─ istiod in cluster4 sees unknown (no istiod answered /debug/clusterz)',
    ]);
  });

  it('renders nothing for something that is not a picture', () => {
    expect(renderTopology({ networks: 'x' }, { chalk, result })).toEqual([]);
    expect(renderTopology(undefined, { chalk, result })).toEqual([]);
  });
});
