import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/ambient/eastwest-gateway.ts';
import { findingKeys, objectNamed, openFixture, runCheck } from '../helpers.ts';
import { ambientObjects, ambientReaders, eastWestGateway } from './ambient-mesh.ts';

describe('ambient/eastwest-gateway', () => {
  it('passes on the healthy ambient mesh, and the topology shows the gateways', async () => {
    const { runs, clusters } = await runCheck(check, await ambientReaders(await ambientObjects()));
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.map((r) => r.outcome)).toEqual(['pass', 'pass']);
    expect(clusters[1].ambientEastWestGateways).toEqual([{ namespace: 'istio-system', name: 'istio-eastwestgateway', network: 'network2', addresses: ['172.18.2.20'] }]);
  });

  it('skips a sidecar-only mesh', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runs.map((r) => r.outcome)).toEqual(['skip', 'skip']);
  });

  it('ewgwMissing (ambient-ewgw-missing) and gatewayClassMissing', async () => {
    const objects = await ambientObjects();
    objects.get('cluster2')!.k8sgateways = [];
    objects.get('cluster1')!.gatewayclasses = objects.get('cluster1')!.gatewayclasses!.filter((c) => c.metadata.name !== 'istio-east-west');
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:gatewayClassMissing', 'cluster2:ewgwMissing']);
  });

  it('noAddress (ambient-ewgw-no-address), notProgrammed, noHboneListener', async () => {
    const objects = await ambientObjects();
    objectNamed(objects, 'cluster2', 'k8sgateways', 'istio-eastwestgateway').status.addresses = [];
    const gw1 = objectNamed(objects, 'cluster1', 'k8sgateways', 'istio-eastwestgateway');
    gw1.status.conditions[1].status = 'False';
    gw1.spec.listeners[0].protocol = 'TLS';
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:noHboneListener', 'cluster1:notProgrammed', 'cluster2:noAddress']);
  });

  it('networkLabelMissing, networkMismatch', async () => {
    const objects = await ambientObjects();
    delete objectNamed(objects, 'cluster1', 'k8sgateways', 'istio-eastwestgateway').metadata.labels;
    objectNamed(objects, 'cluster2', 'k8sgateways', 'istio-eastwestgateway').metadata.labels!['topology.istio.io/network'] = 'network9';
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:ewgwMissing', 'cluster1:networkLabelMissing', 'cluster2:ewgwMissing', 'cluster2:networkMismatch']);
  });

  it('multiplePerNetwork: two usable gateways on network1', async () => {
    const objects = await ambientObjects();
    const second = eastWestGateway('cluster1');
    second.metadata.name = 'istio-eastwestgateway-2';
    second.status.addresses = [{ type: 'IPAddress', value: '172.18.1.21' }];
    objects.get('cluster1')!.k8sgateways!.push(second);
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:multiplePerNetwork']);
  });
});
