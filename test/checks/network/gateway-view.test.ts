import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/network/gateway-view.ts';
import { findingKeys, objectNamed, openFixture, runCheck, runErrors, runFor } from '../helpers.ts';
import { REGISTRY_SERVICE_MESH_NETWORKS, edited, findingRows, networkz, readersWithDebug, setMeshNetworks } from './net-helpers.ts';

const GATEWAY = 'istio-eastwestgateway';
const BOTH = networkz(['network1', 'cluster1', '172.18.1.10', 15443], ['network2', 'cluster2', '172.18.2.10', 15443]);

describe('network/gateway-view', () => {
  it.each(['net-healthy', 'net-networkz-old'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('skips without networkz output, and on an istiod too old to serve it', async () => {
    const objects = await edited('net-healthy');
    const none = await runCheck(check, readersWithDebug(objects));
    expect(none.runs.map((r) => r.skipped)).toEqual(['no istiod answered /debug/networkz', 'no istiod answered /debug/networkz']);
    const old = await runCheck(check, readersWithDebug(objects, { cluster1: { networkz: '404 page not found\n' } }));
    expect(runFor(old.runs, 'cluster1').skipped).toMatch(/does not serve/);
  });

  it('an unknown networkz shape is an error of the probe, not a finding', async () => {
    const objects = await edited('net-healthy');
    const { runs } = await runCheck(check, readersWithDebug(objects, { cluster1: { networkz: '{"gateways":[]}' } }));
    expect(runErrors(runs)).toEqual([expect.stringMatching(/^cluster1: .*not a JSON array/)]);
  });

  it('gatewayViewMissing: the LB of cluster2 is pending, so istiod of cluster1 lists no network2 gateway; the finding names cluster2', async () => {
    const objects = await edited('net-healthy', (o) => {
      objectNamed(o, 'cluster2', 'services', GATEWAY).status.loadBalancer = {};
    });
    const only1 = networkz(['network1', 'cluster1', '172.18.1.10', 15443]);
    const { runs } = await runCheck(check, readersWithDebug(objects, { cluster1: { networkz: only1 }, cluster2: { networkz: only1 } }));
    expect(findingKeys(runs)).toEqual(['cluster2:gatewayViewMissing']);
    const finding = runFor(runs, 'cluster1').findings[0];
    expect(finding.resource).toEqual({ kind: 'Service', namespace: 'istio-system', name: GATEWAY });
    expect(finding.data).toMatchObject({ istiodCluster: 'cluster1', network: 'network2' });
  });

  it('gatewayViewMissing: an unlabelled gateway is named as the cause', async () => {
    const objects = await edited('net-healthy', (o) => {
      delete objectNamed(o, 'cluster2', 'services', GATEWAY).metadata.labels!['topology.istio.io/network'];
    });
    const only1 = networkz(['network1', 'cluster1', '172.18.1.10', 15443]);
    const { runs } = await runCheck(check, readersWithDebug(objects, { cluster1: { networkz: only1 }, cluster2: { networkz: only1 } }));
    expect(findingKeys(runs)).toEqual(['cluster2:gatewayViewMissing']);
    expect(String(runFor(runs, 'cluster1').findings[0].data?.cause)).toMatch(/lacks the topology.istio.io\/network label/);
  });

  it('a gateway meshNetworks names by registryServiceName (no network label) explains its address', async () => {
    const objects = await edited('net-healthy', (o) => {
      setMeshNetworks(o, REGISTRY_SERVICE_MESH_NETWORKS);
      delete objectNamed(o, 'cluster2', 'services', GATEWAY).metadata.labels!['topology.istio.io/network'];
    });
    const { runs } = await runCheck(check, readersWithDebug(objects, { cluster1: { networkz: BOTH }, cluster2: { networkz: BOTH } }));
    expect(findingRows(check, runs)).toEqual([]);
  });

  it('gatewayViewUnexplained: an address no gateway explains (stale)', async () => {
    const objects = await edited('net-healthy');
    const stale = networkz(['network1', 'cluster1', '172.18.1.10', 15443], ['network2', 'cluster2', '172.18.2.99', 15443]);
    const { runs } = await runCheck(check, readersWithDebug(objects, { cluster1: { networkz: stale }, cluster2: { networkz: BOTH } }));
    expect(findingKeys(runs)).toEqual(['cluster2:gatewayViewUnexplained']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ address: '172.18.2.99', port: 15443, gatewayCluster: 'cluster2' });
  });

  it('a load balancer hostname resolved by istiod to an IP is expected', async () => {
    const objects = await edited('net-healthy', (o) => {
      objectNamed(o, 'cluster2', 'services', GATEWAY).status.loadBalancer.ingress = [{ hostname: 'ewgw-2.elb.example.com' }];
    });
    const resolved = networkz(['network1', 'cluster1', '172.18.1.10', 15443], ['network2', 'cluster2', '198.51.100.77', 15443]);
    const { runs } = await runCheck(check, readersWithDebug(objects, { cluster1: { networkz: resolved }, cluster2: { networkz: resolved } }));
    expect(findingKeys(runs)).toEqual([]);
  });

  it('a NodePort gateway shows node ExternalIPs with the nodePort; without ExternalIPs it is gatewayViewNodePortNoExternalIp', async () => {
    const nodePort = (withExternalIp: boolean) =>
      edited('net-healthy', (o) => {
        const svc = objectNamed(o, 'cluster2', 'services', GATEWAY);
        svc.spec.type = 'NodePort';
        svc.status.loadBalancer = {};
        svc.metadata.annotations = { 'traffic.istio.io/nodeSelector': '{"kubernetes.io/os":"linux"}' };
        if (withExternalIp) objectNamed(o, 'cluster2', 'nodes', 'cluster2-control-plane').status.addresses.push({ type: 'ExternalIP', address: '203.0.113.7' });
      });
    const viaNode = networkz(['network1', 'cluster1', '172.18.1.10', 15443], ['network2', 'cluster2', '203.0.113.7', 31443]);
    const ok = await runCheck(check, readersWithDebug(await nodePort(true), { cluster1: { networkz: viaNode }, cluster2: { networkz: viaNode } }));
    expect(findingKeys(ok.runs)).toEqual([]);

    const only1 = networkz(['network1', 'cluster1', '172.18.1.10', 15443]);
    const broken = await runCheck(check, readersWithDebug(await nodePort(false), { cluster1: { networkz: only1 }, cluster2: { networkz: only1 } }));
    expect(findingKeys(broken.runs)).toEqual(['cluster2:gatewayViewNodePortNoExternalIp']);
    expect(runFor(broken.runs, 'cluster1').findings[0].data).toMatchObject({ selector: 'kubernetes.io/os=linux', istiodCluster: 'cluster1' });
  });

  it('meshNetworks gateway addresses are explained', async () => {
    const objects = await edited('net-healthy', (o) => {
      objectNamed(o, 'cluster1', 'configmaps', 'istio').data.meshNetworks = 'networks:\n  network3:\n    endpoints:\n    - fromCidr: 10.30.0.0/16\n    gateways:\n    - address: 192.0.2.33\n      port: 15443\n';
    });
    const withVm = networkz(['network1', 'cluster1', '172.18.1.10', 15443], ['network2', 'cluster2', '172.18.2.10', 15443], ['network3', '', '192.0.2.33', 15443]);
    const { runs } = await runCheck(check, readersWithDebug(objects, { cluster1: { networkz: withVm }, cluster2: { networkz: BOTH } }));
    expect(findingKeys(runs)).toEqual([]);
  });
});
