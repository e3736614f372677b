import { describe, expect, it } from 'vitest';
import { buildMeshState } from '../../../src/lab/model/index.ts';
import { fakeEndpoints, objectsOf } from './helpers.ts';

describe('lab scale knobs', () => {
  // How fast it builds is measured by the benchmark, not here: a loaded machine must not fail the suite.
  it('builds 10,000 extra pods per cluster, with unique IPs and full endpoints', async () => {
    const mesh = await buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(2), scale: { namespaces: 10, servicesPerNamespace: 20, podsPerService: 50 } });
    for (const cluster of mesh.clusters) {
      const pods = objectsOf(cluster, 'Pod');
      expect(pods.filter((p) => p.metadata.namespace?.startsWith('scale-'))).toHaveLength(10_000);
      expect(new Set(pods.map((p) => p.status.podIP)).size).toBe(pods.length);
      const slices = objectsOf(cluster, 'EndpointSlice', 'scale-3').filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'svc-7');
      expect(slices.flatMap((s) => s.endpoints)).toHaveLength(50);
      expect(objectsOf(cluster, 'Namespace').filter((n) => n.metadata.labels?.['istio-injection'] === 'enabled')).toHaveLength(11);
    }
  });
});
