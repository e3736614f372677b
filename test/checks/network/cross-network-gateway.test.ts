import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/network/cross-network-gateway.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR, findingKeys, objectNamed, objectsOf, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { edited, readersWithDebug } from './net-helpers.ts';

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
