import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/services/endpoints.ts';
import { findingKeys, objectsOf, openFixture, runCheck, runErrors, runFor } from '../helpers.ts';
import { fixtureVariant } from './helpers.ts';

type Shardz = Record<string, Record<string, { Shards: Record<string, Record<string, unknown>[]> }>>;

/** Edit the helloworld shards of the given istiods' endpointShardz. */
function editShards(clusters: string[], edit: (shards: Record<string, Record<string, unknown>[]>) => void) {
  return (cluster: string, endpoint: string, body: unknown) => {
    if (endpoint === 'endpointShardz' && clusters.includes(cluster)) edit((body as Shardz)['helloworld.sample.svc.cluster.local'].sample.Shards);
    return body;
  };
}

describe('services/endpoints', () => {
  it.each(['svc-multi-primary', 'svc-istio-1.11'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.map((r) => r.skipped)).toEqual([undefined, undefined]);
  });

  it('shardMissing: cluster2 has a ready endpoint but cluster1\'s istiod holds no shard for it', async () => {
    const readers = await fixtureVariant('svc-multi-primary', { debug: editShards(['cluster1'], (shards) => delete shards['Kubernetes/cluster2']) });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster1:shardMissing']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ owner: 'cluster2', ownerId: 'cluster2', count: 1, examples: 'sample/helloworld' });
  });

  it('endpointNoNetwork: cluster2\'s endpoints have no network in a multi-network mesh (reported on cluster2)', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      debug: editShards(['cluster1', 'cluster2'], (shards) => {
        for (const ep of shards['Kubernetes/cluster2']) ep.Network = '';
      }),
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster2:endpointNoNetwork', 'cluster2:endpointNoNetwork']);
  });

  it('uninjectedRemoteEndpoint (warning): cluster1 sees cluster2\'s helloworld without a sidecar', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      debug: editShards(['cluster1', 'cluster2'], (shards) => {
        for (const ep of shards['Kubernetes/cluster2']) ep.TLSMode = 'disabled';
      }),
    });
    const { runs } = await runCheck(check, readers);
    // cluster2's own istiod sees them on its own network: only cluster1's view reports.
    expect(findingKeys(runs)).toEqual(['cluster2:uninjectedRemoteEndpoint']);
    const finding = runFor(runs, 'cluster1').findings[0];
    expect(finding.resource).toEqual({ kind: 'Service', namespace: 'sample', name: 'helloworld' });
    expect(finding.data).toMatchObject({ network: 'network2', observerNetwork: 'network1', tlsMode: 'disabled', workloads: 'helloworld-v2' });
  });

  it('noHealthyEndpoints: a multi-cluster service with no ready endpoint anywhere', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        for (const cluster of ['cluster1', 'cluster2']) {
          for (const slice of objectsOf(objects, cluster, 'endpointslices')) for (const ep of slice.endpoints) ep.conditions.ready = false;
        }
      },
      debug: (_cluster, endpoint, body) => (endpoint === 'endpointShardz' ? {} : body),
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster1:noHealthyEndpoints', 'cluster2:noHealthyEndpoints']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ service: 'sample/helloworld', clusters: 'cluster1, cluster2' });
  });

  /** Give helloworld the labels of a Helm gateway installed outside istio-system (registryz Attributes.Labels). */
  const asHelmGateway = (endpoint: string, body: unknown) => {
    if (endpoint !== 'registryz') return body;
    const hello = (body as { hostname: string; Attributes: Record<string, unknown> }[]).find((s) => s.hostname.startsWith('helloworld.'))!;
    hello.Attributes.Labels = { app: 'istio-ingressgateway', istio: 'ingressgateway' };
    return body;
  };

  it('a Helm gateway outside istio-system (istio: ...gateway label in registryz) is no uninjected application', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      debug: (cluster, endpoint, body) => {
        if (endpoint === 'endpointShardz') for (const ep of (body as Shardz)['helloworld.sample.svc.cluster.local'].sample.Shards['Kubernetes/cluster2']) ep.TLSMode = 'disabled';
        return asHelmGateway(endpoint, body);
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual([]);
  });

  it('a Helm gateway outside istio-system without ready endpoints is no noHealthyEndpoints', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        for (const cluster of ['cluster1', 'cluster2']) {
          for (const slice of objectsOf(objects, cluster, 'endpointslices')) for (const ep of slice.endpoints) ep.conditions.ready = false;
        }
      },
      debug: (_cluster, endpoint, body) => (endpoint === 'endpointShardz' ? {} : asHelmGateway(endpoint, body)),
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual([]);
  });

  it('reads Istio 1.11 endpointz (Address, no endpointShardz): an uninjected remote endpoint is seen too', async () => {
    const readers = await fixtureVariant('svc-istio-1.11', {
      debug: (cluster, endpoint, body) => {
        if (cluster !== 'cluster1' || endpoint !== 'endpointz') return body;
        const ep = (body as { ep: { endpoint?: Record<string, unknown> }[] }[])[0].ep.find((e) => e.endpoint?.Address === '10.20.0.21')!;
        ep.endpoint!.TLSMode = 'disabled';
        return body;
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster2:uninjectedRemoteEndpoint']);
  });

  it('an unknown endpointShardz format is an error of the check', async () => {
    const readers = await fixtureVariant('svc-multi-primary', { rawDebug: { 'cluster1/endpointShardz': '[]' } });
    expect(runErrors((await runCheck(check, readers)).runs)).toEqual([expect.stringMatching(/^cluster1: .*endpointShardz is not a JSON object/)]);
  });
});
