import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/network/cross-network-gateway.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR, findingKeys, objectNamed, objectsOf, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { edited, findingRows, readersWithDebug } from './net-helpers.ts';

const GATEWAY = 'cross-network-gateway';

async function runEdited(edit: (o: Map<string, ClusterObjects>) => void, fixture = 'multi-primary-healthy') {
  return runCheck(check, readersWithDebug(await edited(fixture, edit)));
}

function server(o: Map<string, ClusterObjects>, cluster: string, name = GATEWAY) {
  return objectNamed(o, cluster, 'gateways', name).spec.servers[0];
}

describe('network/cross-network-gateway', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('accepts networking.istio.io v1beta1 and v1alpha3, and hosts "*"', async () => {
    for (const version of ['v1beta1', 'v1alpha3']) {
      const { runs } = await runEdited((o) => {
        objectNamed(o, 'cluster1', 'gateways', GATEWAY).apiVersion = `networking.istio.io/${version}`;
        server(o, 'cluster1').hosts = ['*'];
      });
      expect(findingKeys(runs)).toEqual([]);
    }
  });

  it('crossNetworkGatewayIstioMutual: the seed article\'s ISTIO_MUTUAL server', async () => {
    const { runs } = await runEdited((o) => {
      server(o, 'cluster1').tls.mode = 'ISTIO_MUTUAL';
    });
    expect(findingKeys(runs)).toEqual(['cluster1:crossNetworkGatewayIstioMutual']);
    const finding = runFor(runs, 'cluster1').findings[0];
    expect(finding.resource).toEqual({ kind: 'Gateway', namespace: 'istio-system', name: GATEWAY });
    expect(finding.data).toMatchObject({ port: 15443, server: 0 });
  });

  it('crossNetworkGatewaySimple and crossNetworkGatewayWrongServer', async () => {
    const simple = await runEdited((o) => {
      server(o, 'cluster2').tls = { mode: 'SIMPLE', credentialName: 'ewgw-cert' };
    });
    expect(findingKeys(simple.runs)).toEqual(['cluster2:crossNetworkGatewaySimple']);
    const passthrough = await runEdited((o) => {
      server(o, 'cluster2').tls.mode = 'PASSTHROUGH';
    });
    expect(findingKeys(passthrough.runs)).toEqual(['cluster2:crossNetworkGatewayWrongServer']);
    expect(runFor(passthrough.runs, 'cluster2').findings[0].data).toMatchObject({ mode: 'PASSTHROUGH', protocol: 'TLS' });
  });

  it('crossNetworkGatewayHosts: hosts that do not cover mesh services', async () => {
    const { runs } = await runEdited((o) => {
      server(o, 'cluster1').hosts = ['*.global'];
    });
    expect(findingKeys(runs)).toEqual(['cluster1:crossNetworkGatewayHosts']);
  });

  it('crossNetworkGatewayMissing: no Gateway opens 15443 on the gateway pods', async () => {
    const { runs } = await runEdited((o) => {
      objectsOf(o, 'cluster2', 'gateways').splice(0);
    });
    expect(findingKeys(runs)).toEqual(['cluster2:crossNetworkGatewayMissing']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ port: 15443, configCluster: 'cluster2' });
  });

  it('crossNetworkGatewayNoPods: a selector that matches no pod (instead of a missing finding)', async () => {
    const { runs } = await runEdited((o) => {
      objectNamed(o, 'cluster2', 'gateways', GATEWAY).spec.selector = { istio: 'eastwest-gateway' };
    });
    expect(findingKeys(runs)).toEqual(['cluster2:crossNetworkGatewayNoPods']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ selector: 'istio=eastwest-gateway' });
  });

  it('crossNetworkGatewayDuplicate: two Gateways claim 15443 on the same pods (IST0145)', async () => {
    const { runs } = await runEdited((o) => {
      const copy = structuredClone(objectNamed(o, 'cluster2', 'gateways', GATEWAY));
      copy.metadata.name = 'eastwest-15443';
      objectsOf(o, 'cluster2', 'gateways').push(copy);
    });
    expect(findingKeys(runs)).toEqual(['cluster2:crossNetworkGatewayDuplicate']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ gateways: 'istio-system/cross-network-gateway, istio-system/eastwest-15443' });
  });

  /** A second Gateway on cluster1, a copy of the sample one edited by `edit`. */
  function addGateway(o: Map<string, ClusterObjects>, name: string, edit: (gateway: ReturnType<typeof objectNamed>) => void) {
    const copy = structuredClone(objectNamed(o, 'cluster1', 'gateways', GATEWAY));
    copy.metadata.name = name;
    edit(copy);
    objectsOf(o, 'cluster1', 'gateways').push(copy);
  }

  it('no duplicate for Gateways selecting disjoint pods of one gateway Service (revision canary)', async () => {
    const { runs } = await runEdited((o) => {
      const pod = objectsOf(o, 'cluster1', 'pods').find((p) => p.metadata.name.startsWith('istio-eastwestgateway'))!;
      pod.metadata.labels!['istio.io/rev'] = '1-28';
      const canary = structuredClone(pod);
      canary.metadata.name = `${pod.metadata.name}-canary`;
      canary.metadata.labels!['istio.io/rev'] = '1-29';
      objectsOf(o, 'cluster1', 'pods').push(canary);
      objectNamed(o, 'cluster1', 'gateways', GATEWAY).spec.selector = { istio: 'eastwestgateway', 'istio.io/rev': '1-28' };
      addGateway(o, 'cross-network-gateway-canary', (g) => (g.spec.selector = { istio: 'eastwestgateway', 'istio.io/rev': '1-29' }));
    });
    expect(findingRows(check, runs)).toEqual([]);
  });

  it('no duplicate for disjoint hosts; hosts narrowed to some namespaces are a warning each (crossNetworkGatewayHostsPartial)', async () => {
    const { runs } = await runEdited((o) => {
      server(o, 'cluster1').hosts = ['*.team-a.svc.cluster.local'];
      addGateway(o, 'cross-network-team-b', (g) => (g.spec.servers[0].hosts = ['*.team-b.svc.cluster.local']));
    });
    expect(findingRows(check, runs)).toEqual([
      'network/cross-network-gateway crossNetworkGatewayHostsPartial cluster1 warning',
      'network/cross-network-gateway crossNetworkGatewayHostsPartial cluster1 warning',
    ]);
    expect(runFor(runs, 'cluster1').findings.map((f) => f.data?.hosts).sort()).toEqual(['*.team-a.svc.cluster.local', '*.team-b.svc.cluster.local']);
  });

  it('crossNetworkGatewayDuplicate when a narrowed Gateway overlaps the *.local one on the same pods', async () => {
    const { runs } = await runEdited((o) => addGateway(o, 'cross-network-team-a', (g) => (g.spec.servers[0].hosts = ['*.team-a.svc.cluster.local'])));
    expect(findingRows(check, runs)).toEqual([
      'network/cross-network-gateway crossNetworkGatewayDuplicate cluster1 error',
      'network/cross-network-gateway crossNetworkGatewayHostsPartial cluster1 warning',
    ]);
  });

  it('judges hosts against the install\'s cluster domain (global.proxy.clusterDomain)', async () => {
    const setDomain = (o: Map<string, ClusterObjects>) => {
      const injector = objectNamed(o, 'cluster1', 'configmaps', 'istio-sidecar-injector');
      injector.data.values = injector.data.values.replace('"clusterDomain":"cluster.local"', '"clusterDomain":"mesh.internal"');
    };
    const custom = await runEdited((o) => {
      setDomain(o);
      server(o, 'cluster1').hosts = ['*.mesh.internal'];
    });
    expect(findingRows(check, custom.runs)).toEqual([]);
    const local = await runEdited(setDomain);
    expect(findingRows(check, local.runs)).toEqual(['network/cross-network-gateway crossNetworkGatewayHosts cluster1 error']);
  });

  it('a public ingress Gateway on 15443 that selects no east-west gateway is not judged', async () => {
    const { runs } = await runEdited((o) => {
      objectsOf(o, 'cluster1', 'gateways').push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'public-tls', namespace: 'istio-ingress' },
        spec: {
          selector: { istio: 'ingressgateway' },
          servers: [{ port: { number: 15443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }],
        },
      });
    });
    expect(findingRows(check, runs)).toEqual([]);
  });

  it('a public ingress Gateway on 15443 does not hide crossNetworkGatewayMissing', async () => {
    const { runs } = await runEdited((o) => {
      const gateways = objectsOf(o, 'cluster1', 'gateways');
      gateways.splice(gateways.findIndex((g) => g.metadata.name === GATEWAY), 1);
      gateways.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'public-tls', namespace: 'istio-ingress' },
        spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 15443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE' } }] },
      });
    });
    expect(findingRows(check, runs)).toEqual(['network/cross-network-gateway crossNetworkGatewayMissing cluster1 error']);
  });

  it('crossNetworkGatewayNoPods for an AUTO_PASSTHROUGH Gateway on 15443 whose selector matches nothing', async () => {
    const { runs } = await runEdited((o) => addGateway(o, 'cross-network-typo', (g) => (g.spec.selector = { app: 'gw-typo' })));
    expect(findingRows(check, runs)).toEqual(['network/cross-network-gateway crossNetworkGatewayNoPods cluster1 error']);
  });

  it('primary-remote: the Gateway in the primary configures the remote\'s gateway; without it both clusters miss it', async () => {
    const { runs } = await runEdited((o) => {
      objectsOf(o, 'cluster1', 'gateways').splice(objectsOf(o, 'cluster1', 'gateways').findIndex((g) => g.metadata.name === GATEWAY), 1);
    }, 'primary-remote-healthy');
    expect(findingKeys(runs)).toEqual(['cluster1:crossNetworkGatewayMissing', 'cluster2:crossNetworkGatewayMissing']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ configCluster: 'cluster1' });
  });

  it('a Gateway API east-west gateway with an auto-passthrough listener needs no Istio Gateway', async () => {
    const { runs } = await runEdited((o) => {
      const objects = o.get('cluster2')!;
      objectsOf(o, 'cluster2', 'gateways').splice(0);
      objects.services = objects.services!.filter((s) => s.metadata.name !== 'istio-eastwestgateway');
      objects.k8sgateways = [
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          metadata: { name: 'eastwest', namespace: 'istio-system', labels: { 'topology.istio.io/network': 'network2' } },
          spec: { gatewayClassName: 'istio-east-west', listeners: [{ name: 'mesh', port: 15443, protocol: 'TLS', tls: { mode: 'Passthrough', options: { 'gateway.istio.io/listener-protocol': 'auto-passthrough' } } }] },
          status: { addresses: [{ type: 'IPAddress', value: '172.18.2.10' }] },
        },
      ];
    });
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, 'cluster2').skipped).toBe('no east-west gateway in this cluster');
  });

  it('skips in a single-network mesh', async () => {
    const { runs } = await runEdited((o) => {
      objectNamed(o, 'cluster2', 'namespaces', 'istio-system').metadata.labels!['topology.istio.io/network'] = 'network1';
      objectNamed(o, 'cluster2', 'configmaps', 'istio-sidecar-injector').data.values = '{"global":{"network":"network1"}}';
    });
    expect(runs.map((r) => r.skipped)).toEqual(['single-network mesh: no cross-network traffic', 'single-network mesh: no cross-network traffic']);
  });

  it.runIf(existsSync(path.join(FIXTURES_DIR, 'seed-article')))('flags the seed article\'s ISTIO_MUTUAL Gateway', async () => {
    const { runs } = await runCheck(check, (await openFixture('seed-article')).clusters);
    const mutual = runs.flatMap((r) => r.findings).filter((f) => f.messageId === 'crossNetworkGatewayIstioMutual');
    expect(mutual.length).toBeGreaterThan(0);
    expect(mutual[0].resource).toMatchObject({ kind: 'Gateway', name: 'cross-network-gateway' });
  });
});
