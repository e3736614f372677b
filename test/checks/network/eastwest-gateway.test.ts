import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/network/eastwest-gateway.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, objectsOf, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { REGISTRY_SERVICE_MESH_NETWORKS, findingRows, setMeshNetworks } from './net-helpers.ts';

const GATEWAY = 'istio-eastwestgateway';

async function editedFixture(edit: (objects: Map<string, ClusterObjects>) => void, fixture = 'multi-primary-healthy') {
  const objects = await fixtureObjects(fixture);
  edit(objects);
  return runCheck(check, memoryReaders(objects));
}

function removeGateway(objects: Map<string, ClusterObjects>, cluster: string): void {
  const services = objectsOf(objects, cluster, 'services');
  services.splice(services.findIndex((s) => s.metadata.name === GATEWAY), 1);
}

describe('network/eastwest-gateway', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('ewgw-lb-pending: cluster2 gets ewgwLbPending', async () => {
    const { runs } = await runCheck(check, (await openFixture('ewgw-lb-pending')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster2:ewgwLbPending']);
    expect(runFor(runs, 'cluster2').findings[0].resource).toEqual({ kind: 'Service', namespace: 'istio-system', name: GATEWAY });
  });

  it('ewgw-nodeport-no-selector: cluster2 gets ewgwNodePortNoSelector; the annotation fixes it', async () => {
    const { runs } = await runCheck(check, (await openFixture('ewgw-nodeport-no-selector')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster2:ewgwNodePortNoSelector']);

    const fixed = await editedFixture((objects) => {
      const svc = objectNamed(objects, 'cluster2', 'services', GATEWAY);
      svc.metadata.annotations = { 'traffic.istio.io/nodeSelector': '{"kubernetes.io/os":"linux"}' };
      objectNamed(objects, 'cluster2', 'nodes', 'cluster2-control-plane').status.addresses.push({ type: 'ExternalIP', address: '203.0.113.7' });
    }, 'ewgw-nodeport-no-selector');
    expect(findingKeys(fixed.runs)).toEqual([]);
    expect(fixed.clusters[1].eastWestGateways?.[0].addresses).toEqual(['203.0.113.7']);
  });

  it('ewgwNotReady: no Ready pod behind the selector', async () => {
    const { runs } = await editedFixture((objects) => {
      const pod = objectNamed(objects, 'cluster1', 'pods', 'istio-eastwestgateway-5f7b8c6d9-m4q8r');
      pod.status.conditions.find((c: { type: string }) => c.type === 'Ready').status = 'False';
    });
    expect(findingKeys(runs)).toEqual(['cluster1:ewgwNotReady']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ pods: 1, selector: 'app=istio-eastwestgateway,istio=eastwestgateway' });
  });

  it('ewgwNo15443: the gateway port is not exposed', async () => {
    const { runs } = await editedFixture((objects) => {
      const svc = objectNamed(objects, 'cluster1', 'services', GATEWAY);
      svc.spec.ports = svc.spec.ports.filter((p: { port: number }) => p.port !== 15443);
    });
    expect(findingKeys(runs)).toEqual(['cluster1:ewgwNo15443']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ port: 15443 });
  });

  it('ewgwNo15443 honours networking.istio.io/gatewayPort', async () => {
    const { runs } = await editedFixture((objects) => {
      objectNamed(objects, 'cluster1', 'services', GATEWAY).metadata.labels!['networking.istio.io/gatewayPort'] = '16443';
    });
    expect(findingKeys(runs)).toEqual(['cluster1:ewgwNo15443']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ port: 16443 });
  });

  it('ewgwNetworkLabelMissing: an east-west gateway istiod ignores', async () => {
    const { runs } = await editedFixture((objects) => {
      delete objectNamed(objects, 'cluster2', 'services', GATEWAY).metadata.labels!['topology.istio.io/network'];
    });
    expect(findingKeys(runs)).toEqual(['cluster2:ewgwNetworkLabelMissing']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ network: 'network2' });
  });

  it('a gateway meshNetworks names by registryServiceName needs no network label (istiod takes it as the gateway)', async () => {
    const { runs } = await editedFixture((objects) => {
      setMeshNetworks(objects, REGISTRY_SERVICE_MESH_NETWORKS);
      delete objectNamed(objects, 'cluster2', 'services', GATEWAY).metadata.labels!['topology.istio.io/network'];
    }, 'net-healthy');
    expect(findingRows(check, runs)).toEqual([]);
  });

  it('registryServiceName applies only to the registries its network lists (fromRegistry): cluster2\'s unlabelled gateway is still ignored', async () => {
    const { runs } = await editedFixture((objects) => {
      setMeshNetworks(objects, REGISTRY_SERVICE_MESH_NETWORKS.replace('fromRegistry: cluster2', 'fromRegistry: cluster9'));
      delete objectNamed(objects, 'cluster2', 'services', GATEWAY).metadata.labels!['topology.istio.io/network'];
    }, 'net-healthy');
    expect(findingRows(check, runs)).toEqual(['network/eastwest-gateway ewgwNetworkLabelMissing cluster2 error']);
  });

  it('ewgwNetworkMismatch: labelled for another network', async () => {
    const { runs } = await editedFixture((objects) => {
      objectNamed(objects, 'cluster1', 'services', GATEWAY).metadata.labels!['topology.istio.io/network'] = 'network2';
    });
    expect(findingKeys(runs)).toEqual(['cluster1:ewgwNetworkMismatch']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ gatewayNetwork: 'network2', network: 'network1' });
  });

  it('ewgwHostnameOldIstio: a load balancer hostname before Istio 1.13 (warning), fine after', async () => {
    const withHostname = (version: string) =>
      editedFixture((objects) => {
        objectNamed(objects, 'cluster2', 'services', GATEWAY).status.loadBalancer.ingress = [{ hostname: 'ewgw-2.elb.example.com' }];
        objectNamed(objects, 'cluster2', 'deployments', 'istiod').spec.template.spec.containers[0].image = `docker.io/istio/pilot:${version}`;
      });
    const old = await withHostname('1.12.9');
    expect(findingKeys(old.runs)).toEqual(['cluster2:ewgwHostnameOldIstio']);
    expect(runFor(old.runs, 'cluster2').findings[0].data).toMatchObject({ hostname: 'ewgw-2.elb.example.com', version: '1.12.9' });
    expect(findingKeys((await withHostname('1.13.0')).runs)).toEqual([]);
  });

  it('ewgwNoAddress: a ClusterIP gateway without externalIPs', async () => {
    const { runs } = await editedFixture((objects) => {
      objectNamed(objects, 'cluster1', 'services', GATEWAY).spec.type = 'ClusterIP';
    });
    expect(findingKeys(runs)).toEqual(['cluster1:ewgwNoAddress']);
  });

  it('ewgwMissing: a network without any east-west gateway', async () => {
    const { runs } = await editedFixture((objects) => removeGateway(objects, 'cluster2'));
    expect(findingKeys(runs)).toEqual(['cluster2:ewgwMissing']);
    expect(runFor(runs, 'cluster2').findings[0].data).toEqual({ network: 'network2' });
  });

  it('no ewgwMissing when another cluster of the same network has the gateway', async () => {
    const { runs } = await editedFixture((objects) => {
      const cluster3 = structuredClone(objects.get('cluster2')!);
      objects.set('cluster3', cluster3);
      const services = cluster3.services!;
      services.splice(services.findIndex((s) => s.metadata.name === GATEWAY), 1);
    });
    expect(findingKeys(runs)).toEqual([]);
  });

  it('skips a cluster without a gateway in a single-network mesh', async () => {
    const { runs, mesh } = await editedFixture((objects) => {
      removeGateway(objects, 'cluster1');
      removeGateway(objects, 'cluster2');
      objectNamed(objects, 'cluster2', 'namespaces', 'istio-system').metadata.labels!['topology.istio.io/network'] = 'network1';
      objectNamed(objects, 'cluster2', 'configmaps', 'istio-sidecar-injector').data.values = '{"global":{"network":"network1"}}';
    });
    expect(mesh.multiNetwork).toBe(false);
    expect(runs.map((r) => r.skipped)).toEqual(['single-network mesh', 'single-network mesh']);
  });

  it('ewgwNodePortNoExternalIp and ewgwNodeSelectorInvalid: a NodePort gateway istiod cannot publish', async () => {
    const nodePort = (annotation: string) =>
      editedFixture((objects) => {
        const svc = objectNamed(objects, 'cluster2', 'services', GATEWAY);
        svc.metadata.annotations = { 'traffic.istio.io/nodeSelector': annotation };
      }, 'ewgw-nodeport-no-selector');
    const noExternalIp = await nodePort('{"kubernetes.io/os":"linux"}');
    expect(findingKeys(noExternalIp.runs)).toEqual(['cluster2:ewgwNodePortNoExternalIp']);
    expect(runFor(noExternalIp.runs, 'cluster2').findings[0].data).toMatchObject({ selector: 'kubernetes.io/os=linux', nodes: 1 });
    const invalid = await nodePort('kubernetes.io/os=linux');
    expect(findingKeys(invalid.runs)).toEqual(['cluster2:ewgwNodeSelectorInvalid']);
  });

  describe('Gateway API east-west gateways', () => {
    const apiGateway = (edit: (gw: KubeObject) => void = () => {}) =>
      editedFixture((objects) => {
        const cluster2 = objects.get('cluster2')!;
        removeGateway(objects, 'cluster2');
        // The Service Istio generates for the Gateway is checked as the Gateway.
        cluster2.services!.push({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'eastwest-istio-east-west', namespace: 'istio-system', labels: { 'gateway.networking.k8s.io/gateway-name': 'eastwest', 'topology.istio.io/network': 'network2' } },
          spec: { type: 'LoadBalancer', selector: { 'gateway.networking.k8s.io/gateway-name': 'eastwest' }, ports: [{ name: 'mesh', port: 15443 }] },
          status: { loadBalancer: {} },
        });
        const gateway: KubeObject = {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          metadata: { name: 'eastwest', namespace: 'istio-system', labels: { 'topology.istio.io/network': 'network2' } },
          spec: {
            gatewayClassName: 'istio-east-west',
            listeners: [{ name: 'mesh', port: 15443, protocol: 'TLS', tls: { mode: 'Passthrough', options: { 'gateway.istio.io/listener-protocol': 'auto-passthrough' } } }],
          },
          status: { addresses: [{ type: 'IPAddress', value: '172.18.2.10' }], conditions: [{ type: 'Programmed', status: 'True' }] },
        };
        edit(gateway);
        cluster2.k8sgateways = [gateway];
      });

    it('passes for a programmed, labelled gateway with an auto-passthrough listener and an address', async () => {
      expect(findingKeys((await apiGateway()).runs)).toEqual([]);
    });

    it('ewgwGatewayNotProgrammed, ewgwGatewayNoAddress, ewgwGatewayNoAutoPassthrough, ewgwNetworkLabelMissing', async () => {
      const broken = await apiGateway((gw) => {
        gw.status = { addresses: [], conditions: [{ type: 'Programmed', status: 'False' }] };
      });
      expect(findingKeys(broken.runs)).toEqual(['cluster2:ewgwGatewayNoAddress', 'cluster2:ewgwGatewayNotProgrammed']);
      expect(runFor(broken.runs, 'cluster2').findings[0].resource).toEqual({ kind: 'Gateway', namespace: 'istio-system', name: 'eastwest' });

      // Without the option istiod still serves a TLS listener on 15443 of a labelled Gateway as auto-passthrough
      // (pilot/pkg/serviceregistry/kube/conversion.go:199); a listener without TLS on 15443 it does not.
      const noOption = await apiGateway((gw) => {
        delete gw.spec.listeners[0].tls.options;
      });
      expect(findingKeys(noOption.runs)).toEqual([]);
      const noTls = await apiGateway((gw) => {
        gw.spec.listeners[0] = { name: 'mesh', port: 15443, protocol: 'TCP' };
      });
      expect(findingKeys(noTls.runs)).toEqual(['cluster2:ewgwGatewayNoAutoPassthrough']);

      const unlabelled = await apiGateway((gw) => {
        gw.metadata.labels = {};
      });
      expect(findingKeys(unlabelled.runs)).toEqual(['cluster2:ewgwNetworkLabelMissing']);
    });
  });
});
