import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/services/consistency.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, objectNamed, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { fixtureVariant } from './helpers.ts';

/** Run with cluster2's sample/helloworld edited. */
async function withHelloworld(edit: (svc: KubeObject) => void, extra?: (objects: Map<string, ClusterObjects>) => void) {
  const readers = await fixtureVariant('svc-multi-primary', {
    edit: (objects) => {
      edit(objectNamed(objects, 'cluster2', 'services', 'helloworld'));
      extra?.(objects);
    },
  });
  return (await runCheck(check, readers)).runs;
}

describe('services/consistency', () => {
  it('passes when the shared Service is identical (system services are not compared)', async () => {
    const { runs } = await runCheck(check, (await openFixture('svc-multi-primary')).clusters);
    expect(findingKeys(runs)).toEqual([]);
  });

  it('serviceHeadlessMixed: headless in cluster2 only', async () => {
    const runs = await withHelloworld((svc) => {
      svc.spec.clusterIP = 'None';
      svc.spec.clusterIPs = ['None'];
    });
    expect(findingKeys(runs)).toEqual(['cluster2:serviceHeadlessMixed']);
    expect(runFor(runs, '*').findings[0]).toMatchObject({
      resource: { kind: 'Service', namespace: 'sample', name: 'helloworld' },
      data: { value: 'headless', referenceClusters: 'cluster1' },
    });
  });

  it('serviceTypeMismatch: NodePort in cluster2', async () => {
    const runs = await withHelloworld((svc) => (svc.spec.type = 'NodePort'));
    expect(findingKeys(runs)).toEqual(['cluster2:serviceTypeMismatch']);
  });

  it('servicePortsMismatch: another port number', async () => {
    const runs = await withHelloworld((svc) => (svc.spec.ports = [{ name: 'tcp', port: 5001, protocol: 'TCP', targetPort: 5000 }]));
    expect(findingKeys(runs)).toEqual(['cluster2:servicePortsMismatch']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ value: '5001', referenceValue: '5000' });
  });

  it('servicePortNameMismatch: same number and protocol, another name', async () => {
    const runs = await withHelloworld((svc) => (svc.spec.ports[0].name = 'http-web'));
    expect(findingKeys(runs)).toEqual(['cluster2:servicePortNameMismatch']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ port: 5000, value: 'http-web', referenceValue: 'http' });
  });

  it('servicePortProtocolMismatch: appProtocol grpc in cluster2', async () => {
    const runs = await withHelloworld((svc) => (svc.spec.ports[0].appProtocol = 'grpc'));
    expect(findingKeys(runs)).toEqual(['cluster2:servicePortProtocolMismatch']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ value: 'GRPC/TCP', referenceValue: 'HTTP/TCP' });
  });

  it('names the minority: with three clusters the odd one out is reported, whatever its position', async () => {
    const runs = await withHelloworld(
      () => {},
      (objects) => {
        objects.set('cluster3', structuredClone(objects.get('cluster2')!));
        objectNamed(objects, 'cluster1', 'services', 'helloworld').spec.clusterIP = 'None';
      },
    );
    expect(findingKeys(runs)).toEqual(['cluster1:serviceHeadlessMixed']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ referenceClusters: 'cluster2, cluster3' });
  });
});
