import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/services/locality-failover.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, objectsOf, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { fixtureVariant } from './helpers.ts';

/** A DestinationRule for sample/helloworld with the given spec fields. */
function rule(name: string, spec: Record<string, unknown>, namespace = 'sample'): KubeObject {
  return { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace }, spec: { host: 'helloworld.sample.svc.cluster.local', ...spec } };
}

const FAILOVER = { loadBalancer: { localityLbSetting: { enabled: true, failover: [{ from: 'region1', to: 'region2' }] } } };
const OUTLIER = { outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s' } };

/** svc-multi-primary with these DestinationRules in cluster1, optionally edited further. */
async function withRules(rules: KubeObject[], edit?: (objects: Map<string, ClusterObjects>) => void) {
  const readers = await fixtureVariant('svc-multi-primary', {
    edit: (objects) => {
      objects.get('cluster1')!.destinationrules = rules;
      edit?.(objects);
    },
  });
  return runCheck(check, readers);
}

describe('services/locality-failover', () => {
  it('passes on the fixture, which has no DestinationRule', async () => {
    const { runs } = await runCheck(check, (await openFixture('svc-multi-primary')).clusters);
    expect(runFor(runs, '*').outcome).toBe('pass');
    expect(findingKeys(runs)).toEqual([]);
  });

  it('passes when failover comes with outlierDetection, top level or on the port', async () => {
    const { runs } = await withRules([
      rule('top', { trafficPolicy: { ...FAILOVER, ...OUTLIER } }),
      rule('short', { host: 'helloworld', trafficPolicy: { ...FAILOVER, portLevelSettings: [{ port: { number: 5000 }, ...OUTLIER }] } }),
    ]);
    expect(runFor(runs, '*').outcome).toBe('pass');
  });

  it('failoverWithoutOutlierDetection: failover, failoverPriority or distribute without outlierDetection, on the rule\'s cluster', async () => {
    const { runs } = await withRules([
      rule('failover', { trafficPolicy: FAILOVER }),
      rule('distribute', {
        host: 'helloworld',
        trafficPolicy: { loadBalancer: { localityLbSetting: { distribute: [{ from: 'region1/*', to: { 'region1/*': 80, 'region2/*': 20 } }] } } },
      }),
    ]);
    expect(findingKeys(runs)).toEqual(['cluster1:failoverWithoutOutlierDetection', 'cluster1:failoverWithoutOutlierDetection']);
    const byName = new Map(runFor(runs, '*').findings.map((f) => [f.resource?.name, f]));
    expect([...byName.keys()].sort()).toEqual(['distribute', 'failover']);
    expect(byName.get('failover')!.data).toMatchObject({ setting: 'failover', clusters: 'cluster1, cluster2', where: '' });
    expect(byName.get('distribute')!.data).toMatchObject({ setting: 'distribute' });
  });

  it('failoverWithoutOutlierDetection: a subset that replaces the load balancer, or a port without outlier detection', async () => {
    const { runs } = await withRules([
      rule('subset', { trafficPolicy: OUTLIER, subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { ...FAILOVER } }] }),
      rule('port', { trafficPolicy: { portLevelSettings: [{ port: { number: 5000 }, ...FAILOVER }] } }),
    ]);
    // The subset inherits the rule's outlierDetection: only the port-level failover lacks it.
    expect(findingKeys(runs)).toEqual(['cluster1:failoverWithoutOutlierDetection']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ name: 'port', where: ' (port 5000)' });
  });

  it('does not judge disabled locality settings or hosts one cluster serves', async () => {
    const { runs } = await withRules(
      [
        rule('disabled', { trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: false, failover: [{ from: 'region1', to: 'region2' }] } } } }),
        rule('curl', { host: 'curl.sample.svc.cluster.local', trafficPolicy: FAILOVER }),
        rule('external', { host: 'api.example.com', trafficPolicy: FAILOVER }),
      ],
      (objects) => {
        const service = objectsOf(objects, 'cluster1', 'services').find((s) => s.metadata.name === 'helloworld')!;
        const curl = structuredClone(service);
        curl.metadata.name = 'curl';
        objects.get('cluster1')!.services!.push(curl);
        // Ready endpoints, in cluster1 only.
        const slice = structuredClone(objectsOf(objects, 'cluster1', 'endpointslices').find((e) => e.metadata.labels?.['kubernetes.io/service-name'] === 'helloworld')!);
        slice.metadata.name = 'curl-abcde';
        slice.metadata.labels = { ...slice.metadata.labels, 'kubernetes.io/service-name': 'curl' };
        objects.get('cluster1')!.endpointslices!.push(slice);
      },
    );
    expect(findingKeys(runs)).toEqual([]);
  });

  it('failoverPriorityLabelUnknown: a label neither the pods nor istiod give the endpoints', async () => {
    const priority = (labels: string[]) => ({ loadBalancer: { localityLbSetting: { failoverPriority: labels } }, ...OUTLIER });
    const { runs } = await withRules([
      rule('known', { trafficPolicy: priority(['topology.istio.io/network', 'topology.istio.io/cluster=cluster1', 'app', 'kubernetes.io/hostname']) }),
      rule('typo', { trafficPolicy: priority(['topology.istio.io/netwrok', 'topology.kubernetes.io/region']) }),
    ]);
    // The fixture's nodes have no region label: endpoints get none either.
    expect(findingKeys(runs)).toEqual(['cluster1:failoverPriorityLabelUnknown', 'cluster1:failoverPriorityLabelUnknown']);
    expect(runFor(runs, '*').findings.map((f) => [f.resource?.name, f.data?.label]).sort()).toEqual([
      ['typo', 'topology.istio.io/netwrok'],
      ['typo', 'topology.kubernetes.io/region'],
    ]);
  });

  it('failoverPriorityLabelUnknown: region from the nodes, or from the istio-locality pod label, counts; unreadable nodes leave it unjudged', async () => {
    const byRegion = [rule('region', { trafficPolicy: { loadBalancer: { localityLbSetting: { failoverPriority: ['topology.kubernetes.io/region'] } }, ...OUTLIER } })];
    const fromNode = await withRules(byRegion, (objects) => {
      for (const node of objectsOf(objects, 'cluster2', 'nodes')) node.metadata.labels = { ...node.metadata.labels, 'topology.kubernetes.io/region': 'region2' };
    });
    expect(findingKeys(fromNode.runs)).toEqual([]);
    const fromPod = await withRules(byRegion, (objects) => {
      const pod = objectsOf(objects, 'cluster1', 'pods').find((p) => p.metadata.labels?.app === 'helloworld')!;
      pod.metadata.labels = { ...pod.metadata.labels, 'istio-locality': 'region1.zone1' };
    });
    expect(findingKeys(fromPod.runs)).toEqual([]);
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        objects.get('cluster1')!.destinationrules = byRegion;
      },
      readerOptions: { cluster2: { failing: { nodes: 'forbidden' } } },
    });
    const unreadable = await runCheck(check, readers);
    expect(findingKeys(unreadable.runs)).toEqual([]);
  });
});
