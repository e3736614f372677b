import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRegistryz } from '../../../src/mesh/debug/registryz.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures');

describe('parseRegistryz', () => {
  it('reads the 1.12+ shape (clusterVIPs.Addresses)', async () => {
    const body = await readFile(path.join(FIXTURES, 'svc-multi-primary/clusters/cluster1/istiod/istiod-6d8f7c9b54-x7k2p/registryz.json'), 'utf8');
    const hello = parseRegistryz(body).find((s) => s.name === 'helloworld')!;
    expect(hello).toMatchObject({ namespace: 'sample', registry: 'Kubernetes', hostname: 'helloworld.sample.svc.cluster.local' });
    expect(hello.clusterVips).toEqual({ cluster1: ['10.96.10.50'], cluster2: ['10.96.20.50'] });
    expect(hello.ports).toEqual([{ name: 'http', port: 5000, protocol: 'HTTP' }]);
    expect(hello.labels).toEqual({ app: 'helloworld', service: 'helloworld' });
  });

  it('reads the <= 1.11 shape (cluster-vips, trailing {})', async () => {
    const body = await readFile(path.join(FIXTURES, 'svc-istio-1.11/clusters/cluster1/istiod/istiod-6d8f7c9b54-x7k2p/registryz.json'), 'utf8');
    const services = parseRegistryz(body);
    expect(services.map((s) => s.name)).toEqual(['helloworld', 'istio-eastwestgateway', 'istiod']);
    expect(services[0].clusterVips).toEqual({ cluster1: ['10.96.10.50'], cluster2: ['10.96.20.50'] });
  });

  it('keeps headless (0.0.0.0), null Addresses, ServiceEntries and hostname-only names', () => {
    const services = parseRegistryz(
      JSON.stringify([
        { hostname: 'db.shop.svc.cluster.local', clusterVIPs: { Addresses: { c1: ['0.0.0.0'] } } },
        { hostname: 'api.example.com', Attributes: { ServiceRegistry: 'External', Name: 'api.example.com', Namespace: 'shop' }, clusterVIPs: { Addresses: null } },
      ]),
    );
    expect(services[0]).toMatchObject({ name: 'db', namespace: 'shop', registry: 'Kubernetes', clusterVips: { c1: ['0.0.0.0'] } });
    expect(services[1]).toMatchObject({ registry: 'External', clusterVips: {} });
  });

  it.each([
    ['not JSON', '404 page not found', /not JSON/],
    ['an object', '{}', /not a JSON array/],
    ['an entry without hostname', '[{"ports": []}]', /entry 0 has no hostname/],
    ['an entry without any VIP field', '[{"hostname": "a.b.svc.cluster.local"}]', /unknown format/],
    ['clusterVIPs of the wrong type', '[{"hostname": "a.b.svc", "clusterVIPs": []}]', /not an object/],
  ])('throws on %s', (_what, body, error) => {
    expect(() => parseRegistryz(body)).toThrow(error);
  });
});
