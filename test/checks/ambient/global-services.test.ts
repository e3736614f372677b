import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/ambient/global-services.ts';
import { findingKeys, objectNamed, openFixture, runCheck, runFor } from '../helpers.ts';
import { SCOPE_RULE, ambientObjects, ambientReaders } from './ambient-mesh.ts';

describe('ambient/global-services', () => {
  it('passes on the healthy ambient mesh', async () => {
    const { runs } = await runCheck(check, await ambientReaders(await ambientObjects()));
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, '*').outcome).toBe('pass');
  });

  it('skips a sidecar-only mesh', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runFor(runs, '*').outcome).toBe('skip');
  });

  it('globalLabelAsymmetric where the label is missing (ambient-global-label-asymmetric)', async () => {
    const objects = await ambientObjects();
    delete objectNamed(objects, 'cluster2', 'services', 'helloworld').metadata.labels!['istio.io/global'];
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:globalLabelAsymmetric']);
    expect(runFor(runs, '*').findings[0].service).toBe('sample/helloworld');
  });

  it('scopeConfigMissing where the mesh config lost its rule (ambient-scope-config-missing), without an asymmetry finding on top', async () => {
    const objects = await ambientObjects();
    const mesh = objectNamed(objects, 'cluster1', 'configmaps', 'istio');
    mesh.data.mesh = mesh.data.mesh.replace(SCOPE_RULE, '');
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:scopeConfigMissing']);
  });

  it('a namespace selector or another scope does not count as the rule', async () => {
    const objects = await ambientObjects();
    const mesh = objectNamed(objects, 'cluster1', 'configmaps', 'istio');
    mesh.data.mesh = mesh.data.mesh.replace('scope: GLOBAL', 'scope: LOCAL');
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:scopeConfigMissing']);
  });

  it('globalServiceNotLocal and endpointsInOneCluster', async () => {
    const objects = await ambientObjects();
    const services = objects.get('cluster2')!.services!;
    services.splice(services.findIndex((s) => s.metadata.name === 'helloworld'), 1);
    const notLocal = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(notLocal.runs)).toEqual(['cluster2:globalServiceNotLocal']);

    const again = await ambientObjects();
    const slice = again.get('cluster2')!.endpointslices!.find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'helloworld')!;
    slice.endpoints[0].conditions.ready = false;
    const one = await runCheck(check, await ambientReaders(again));
    expect(findingKeys(one.runs)).toEqual(['cluster1:endpointsInOneCluster']);
    expect(runFor(one.runs, '*').outcome).toBe('pass');
  });
});
