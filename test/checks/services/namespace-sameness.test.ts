import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/services/namespace-sameness.ts';
import { findingKeys, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';
import { fixtureVariant } from './helpers.ts';

describe('services/namespace-sameness', () => {
  it('passes when the mesh namespace exists and is injected everywhere', async () => {
    const { runs } = await runCheck(check, (await openFixture('svc-multi-primary')).clusters);
    expect(findingKeys(runs)).toEqual([]);
  });

  it('namespaceNotInjected: sample runs without sidecars in cluster2', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        delete objectNamed(objects, 'cluster2', 'namespaces', 'sample').metadata.labels!['istio-injection'];
        for (const pod of objectsOf(objects, 'cluster2', 'pods')) if (pod.metadata.namespace === 'sample') delete pod.metadata.annotations!['sidecar.istio.io/status'];
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster2:namespaceNotInjected']);
    expect(runFor(runs, '*').findings[0]).toMatchObject({ resource: { kind: 'Namespace', name: 'sample' }, data: { pods: 1, injectedIn: 'cluster1' } });
  });

  it('no finding for an uninjected namespace without pods (no clients)', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        delete objectNamed(objects, 'cluster2', 'namespaces', 'sample').metadata.labels!['istio-injection'];
        const pods = objectsOf(objects, 'cluster2', 'pods');
        pods.splice(0, pods.length, ...pods.filter((p) => p.metadata.namespace !== 'sample'));
      },
    });
    expect(findingKeys((await runCheck(check, readers)).runs)).toEqual([]);
  });

  it('namespaceMissing: each cluster lacks the other\'s mesh namespace while running injected pods', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        // cluster2 runs its workloads in `shop` instead of `sample`.
        for (const kind of ['namespaces', 'services', 'endpointslices', 'pods'] as const) {
          for (const obj of objectsOf(objects, 'cluster2', kind)) {
            if (obj.metadata.name === 'sample') obj.metadata.name = 'shop';
            if (obj.metadata.namespace === 'sample') obj.metadata.namespace = 'shop';
          }
        }
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster1:namespaceMissing', 'cluster2:namespaceMissing']);
    expect(runFor(runs, '*').findings.find((f) => f.cluster === 'cluster2')!.data).toMatchObject({ namespace: 'sample', presentIn: 'cluster1', clients: 1 });
  });
});
