import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/mesh-config.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';

type Objects = Awaited<ReturnType<typeof fixtureObjects>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mesh config YAML edited freely in tests
const editMesh = (objects: Objects, cluster: string, edit: (mesh: Record<string, any>) => void) => {
  const cm = objectNamed(objects, cluster, 'configmaps', 'istio');
  const mesh = YAML.parse(cm.data.mesh);
  edit(mesh);
  cm.data.mesh = YAML.stringify(mesh);
};

describe('control-plane/mesh-config', () => {
  it.each(['multi-primary-healthy', 'primary-remote-healthy'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs[0].skipped).toBeUndefined();
  });

  it('meshIdMismatch: reported on the cluster that differs from the primaries\' mesh', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    editMesh(objects, 'cluster2', (mesh) => {
      mesh.defaultConfig.meshId = 'mesh2';
    });
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:meshIdMismatch']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ meshId: 'mesh2', expected: 'mesh1' });
  });

  it('trustDomainMismatch, and trustDomainAliased (warning) when aliases bridge both ways', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    editMesh(objects, 'cluster2', (mesh) => {
      mesh.trustDomain = 'cluster2.local';
    });
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual(['cluster2:trustDomainMismatch']);
    editMesh(objects, 'cluster2', (mesh) => {
      mesh.trustDomainAliases = ['cluster.local'];
    });
    editMesh(objects, 'cluster1', (mesh) => {
      mesh.trustDomainAliases = ['cluster2.local'];
    });
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual(['cluster2:trustDomainAliased']);
  });

  it('discoverySelectorsExclude: a primary\'s selectors skip an injected namespace with Services of its peer', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    // `sample` is injected in cluster2; give it a Service.
    objectsOf(objects, 'cluster2', 'services').push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'helloworld', namespace: 'sample' }, spec: { ports: [{ port: 5000 }] } });
    editMesh(objects, 'cluster1', (mesh) => {
      mesh.discoverySelectors = [{ matchLabels: { 'istio-discovery': 'enabled' } }, { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] }];
    });
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:discoverySelectorsExclude']);
    expect(runFor(runs, '*').findings[0]).toMatchObject({ resource: { kind: 'Namespace', name: 'sample' }, data: { peer: 'cluster2', services: 'helloworld' } });
    // Labelled to match: nothing to report.
    objectNamed(objects, 'cluster2', 'namespaces', 'sample').metadata.labels!.team = 'a';
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual([]);
  });
});
