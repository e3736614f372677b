import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/network/istiod-exposure.ts';
import { findingKeys, objectNamed, objectsOf, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { edited, readersWithDebug } from './net-helpers.ts';

async function runEdited(edit: (o: Map<string, ClusterObjects>) => void) {
  return runCheck(check, readersWithDebug(await edited('primary-remote-healthy', edit)));
}

const istiodGateway = (o: Map<string, ClusterObjects>) => objectNamed(o, 'cluster1', 'gateways', 'istiod-gateway');

describe('network/istiod-exposure', () => {
  it('passes on primary-remote-healthy; the remote is skipped', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, 'cluster1').skipped).toBeUndefined();
    expect(runFor(runs, 'cluster2').skipped).toBe('only a primary serves istiod to remote clusters');
  });

  it('skips primaries without remotes (multi-primary)', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runs.map((r) => r.skipped)).toEqual(['no remote cluster is configured by this primary', 'no remote cluster is configured by this primary']);
  });

  it('istiodNotExposed: no istiod-gateway and no istiod-vs', async () => {
    const { runs } = await runEdited((o) => {
      const gateways = objectsOf(o, 'cluster1', 'gateways');
      gateways.splice(gateways.findIndex((g) => g.metadata.name === 'istiod-gateway'), 1);
      objectsOf(o, 'cluster1', 'virtualservices').splice(0);
    });
    expect(findingKeys(runs)).toEqual(['cluster1:istiodNotExposed']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ remotes: 'cluster2' });
  });

  it('istiodPortNotExposed: only 15012 is served', async () => {
    const { runs } = await runEdited((o) => {
      istiodGateway(o).spec.servers.pop();
    });
    expect(findingKeys(runs)).toEqual(['cluster1:istiodPortNotExposed']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ port: 15017, exposed: '15012' });
  });

  it('istiodGatewayWrongMode: AUTO_PASSTHROUGH on 15012', async () => {
    const { runs } = await runEdited((o) => {
      istiodGateway(o).spec.servers[0].tls.mode = 'AUTO_PASSTHROUGH';
    });
    expect(findingKeys(runs)).toEqual(['cluster1:istiodGatewayWrongMode']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ port: 15012, mode: 'AUTO_PASSTHROUGH' });
  });

  it('istiodRouteMissing: the VirtualService routes 15017 elsewhere or is bound to another gateway', async () => {
    const wrongHost = await runEdited((o) => {
      objectNamed(o, 'cluster1', 'virtualservices', 'istiod-vs').spec.tls[1].route[0].destination.host = 'other.istio-system.svc.cluster.local';
    });
    expect(findingKeys(wrongHost.runs)).toEqual(['cluster1:istiodRouteMissing']);
    expect(runFor(wrongHost.runs, 'cluster1').findings[0].data).toMatchObject({ port: 15017 });

    const unbound = await runEdited((o) => {
      objectNamed(o, 'cluster1', 'virtualservices', 'istiod-vs').spec.gateways = ['other-ns/istiod-gateway'];
    });
    expect(findingKeys(unbound.runs)).toEqual(['cluster1:istiodRouteMissing', 'cluster1:istiodRouteMissing']);
  });

  it('accepts the https variant (SIMPLE with a credential, http routes) and revisioned istiod', async () => {
    const { runs } = await runEdited((o) => {
      for (const server of istiodGateway(o).spec.servers) server.tls = { mode: 'SIMPLE', credentialName: 'istiod-cert' };
      const vs = objectNamed(o, 'cluster1', 'virtualservices', 'istiod-vs');
      vs.spec.http = vs.spec.tls.map((rule: { match: { port: number }[]; route: unknown }) => ({ match: [{ port: rule.match[0].port }], route: rule.route }));
      delete vs.spec.tls;
      vs.spec.http[0].route[0].destination.host = 'istiod-canary.istio-system.svc.cluster.local';
    });
    expect(findingKeys(runs)).toEqual([]);
  });

  it('istiodGatewayNoPods and istiodGatewayServicePortMissing', async () => {
    const noPods = await runEdited((o) => {
      istiodGateway(o).spec.selector = { istio: 'nothing' };
    });
    expect(findingKeys(noPods.runs)).toEqual(['cluster1:istiodGatewayNoPods']);

    const noPort = await runEdited((o) => {
      const svc = objectNamed(o, 'cluster1', 'services', 'istio-eastwestgateway');
      svc.spec.ports = svc.spec.ports.filter((p: { port: number }) => p.port !== 15017);
    });
    expect(findingKeys(noPort.runs)).toEqual(['cluster1:istiodGatewayServicePortMissing']);
    expect(runFor(noPort.runs, 'cluster1').findings[0].resource).toEqual({ kind: 'Service', namespace: 'istio-system', name: 'istio-eastwestgateway' });
  });

  it('accepts istiod exposed by its own LoadBalancer Service', async () => {
    const { runs } = await runEdited((o) => {
      const gateways = objectsOf(o, 'cluster1', 'gateways');
      gateways.splice(gateways.findIndex((g) => g.metadata.name === 'istiod-gateway'), 1);
      const svc = objectNamed(o, 'cluster1', 'services', 'istiod');
      svc.spec.type = 'LoadBalancer';
      svc.spec.ports.push({ name: 'webhook', port: 15017, targetPort: 15017 });
    });
    expect(findingKeys(runs)).toEqual([]);
  });
});
