import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEndpointShardz, parseEndpointz } from '../../../src/mesh/debug/endpoint-shardz.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures');
const REFERENCE = '/work/shared/reference/istio/debug-examples/endpointShardz.synthesized.json';

describe('parseEndpointShardz', () => {
  it('reads provider/cluster shard keys and Addresses (1.24+)', async () => {
    const body = await readFile(path.join(FIXTURES, 'svc-multi-primary/clusters/cluster1/istiod/istiod-6d8f7c9b54-x7k2p/endpointShardz.json'), 'utf8');
    const [hello] = parseEndpointShardz(body);
    expect(hello).toMatchObject({ hostname: 'helloworld.sample.svc.cluster.local', namespace: 'sample' });
    expect(Object.keys(hello.shards)).toEqual(['cluster1', 'cluster2']);
    expect(hello.shards.cluster2[0]).toMatchObject({ addresses: ['10.20.0.21'], network: 'network2', tlsMode: 'istio', workloadName: 'helloworld-v2', healthy: true });
  });

  it('reads bare cluster keys and Address (before 1.14 / up to 1.23), skips other providers, honours HealthStatus', () => {
    const body = JSON.stringify({
      'a.b.svc.cluster.local': {
        b: {
          Shards: {
            c1: [{ Address: '10.0.0.1', Network: '', Labels: { 'security.istio.io/tlsMode': 'disabled' }, HealthStatus: 2 }],
            'External/c1': [{ Address: '1.2.3.4' }],
          },
        },
      },
    });
    const [svc] = parseEndpointShardz(body);
    expect(Object.keys(svc.shards)).toEqual(['c1']);
    expect(svc.shards.c1[0]).toMatchObject({ addresses: ['10.0.0.1'], network: '', tlsMode: 'disabled', healthy: false });
  });

  it("reads the shared reference example", async () => {
    const [svc] = parseEndpointShardz(await readFile(REFERENCE, 'utf8'));
    expect(Object.keys(svc.shards)).toEqual(['cluster1', 'cluster2']);
  });

  it.each([
    ['an array', '[]', /not a JSON object/],
    ['a namespace entry without Shards', '{"a.b.svc": {"b": {"X": 1}}}', /no Shards object/],
    ['a shard that is not a list', '{"a.b.svc": {"b": {"Shards": {"Kubernetes/c1": {}}}}}', /not a list/],
  ])('throws on %s', (_what, body, error) => {
    expect(() => parseEndpointShardz(body)).toThrow(error);
  });
});

describe('parseEndpointz (before Istio 1.20)', () => {
  it('groups the {svc, ep} list by host and cluster (Locality.ClusterID), skipping the trailing {}', async () => {
    const body = await readFile(path.join(FIXTURES, 'svc-istio-1.11/clusters/cluster1/istiod/istiod-6d8f7c9b54-x7k2p/endpointz.json'), 'utf8');
    const [hello] = parseEndpointz(body);
    expect(hello).toMatchObject({ hostname: 'helloworld.sample.svc.cluster.local', namespace: 'sample' });
    expect(hello.shards.cluster2[0]).toMatchObject({ addresses: ['10.20.0.21'], network: 'network2', tlsMode: 'istio' });
  });

  it('throws on a body that is not the list', () => {
    expect(() => parseEndpointz('{}')).toThrow(/not a JSON array/);
    expect(() => parseEndpointz('[{"ep": []}]')).toThrow(/no "svc"/);
  });
});
