import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/services/legacy-global.ts';
import { findingKeys, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';
import { fixtureVariant } from './helpers.ts';

describe('services/legacy-global', () => {
  it('passes on a current multi-primary install', async () => {
    const { runs } = await runCheck(check, (await openFixture('svc-multi-primary')).clusters);
    expect(findingKeys(runs)).toEqual([]);
  });

  it("flags the seed article's .global objects", async () => {
    const { runs } = await runCheck(check, (await openFixture('seed-article')).clusters);
    expect(findingKeys(runs)).toEqual([
      'hashfoundry-primary:globalDestinationRule',
      'hashfoundry-primary:globalDestinationRule',
      'hashfoundry-primary:globalDestinationRule',
      'hashfoundry-primary:globalServiceEntry',
      'hashfoundry-primary:globalServiceEntry',
      'hashfoundry-primary:globalVirtualService',
    ]);
    const findings = runFor(runs, 'hashfoundry-primary').findings;
    expect(findings.find((f) => f.resource?.name === 'cross-cluster-mtls-dr')!.data).toMatchObject({ host: '*.global', mtls: ' with ISTIO_MUTUAL' });
    expect(findings.find((f) => f.resource?.name === 'remote-service')!.data!.why).toMatch(/240\.0\.0\.1/);
  });

  it('globalServiceEntry: an address in 240.0.0.0/4 alone is enough', async () => {
    const readers = await fixtureVariant('seed-article', {
      edit: (objects) => {
        const se = objectNamed(objects, 'hashfoundry-primary', 'serviceentries', 'remote-service');
        se.spec.hosts = ['remote-service.production.svc.cluster.local'];
        objects.get('hashfoundry-primary')!.destinationrules = [];
        objects.get('hashfoundry-primary')!.virtualservices = [];
        objects.get('hashfoundry-primary')!.serviceentries = [se];
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['hashfoundry-primary:globalServiceEntry']);
    expect(runFor(runs, 'hashfoundry-primary').findings[0].data).toMatchObject({ why: 'addresses 240.0.0.1 from 240.0.0.0/4' });
  });

  it('istiocoredns and multiclusterIngressGateway: the pre-1.8 DNS plugin and gateway', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        const deployments = objectsOf(objects, 'cluster1', 'deployments');
        const coredns = structuredClone(deployments[0]);
        coredns.metadata.name = 'istiocoredns';
        coredns.spec.template.spec.containers = [{ name: 'istio-coredns-plugin', image: 'docker.io/istio/coredns-plugin:0.2-istio-1.1' }];
        deployments.push(coredns);
        const gateways = objectsOf(objects, 'cluster1', 'gateways');
        const legacy = structuredClone(gateways[0]);
        legacy.metadata.name = 'istio-multicluster-ingressgateway';
        legacy.spec.servers = [{ hosts: ['*.global'], port: { name: 'tls', number: 15443, protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' } }];
        gateways.push(legacy);
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster1:istiocoredns', 'cluster1:multiclusterIngressGateway']);
    expect(runFor(runs, 'cluster1').findings.find((f) => f.messageId === 'multiclusterIngressGateway')!.data).toMatchObject({ why: 'serves *.global' });
  });
});
