import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/services/remote-only-dns.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, objectNamed, objectsOf, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { fixtureVariant } from './helpers.ts';

/** cluster2's helloworld becomes hello-remote (only in cluster2); `edit` then changes cluster1. */
async function remoteOnly(edit: (objects: Map<string, ClusterObjects>, pod: KubeObject) => void) {
  const readers = await fixtureVariant('svc-multi-primary', {
    edit: (objects) => {
      objectNamed(objects, 'cluster2', 'services', 'helloworld').metadata.name = 'hello-remote';
      const pod = objectsOf(objects, 'cluster1', 'pods').find((p) => p.metadata.namespace === 'sample')!;
      edit(objects, pod);
    },
  });
  return (await runCheck(check, readers)).runs;
}

/** Drop the ISTIO_META_DNS_CAPTURE env the injector wrote into the pod's sidecar. */
function dropSidecarEnv(pod: KubeObject): void {
  const proxy = pod.spec.initContainers.find((c: { name: string }) => c.name === 'istio-proxy');
  proxy.env = proxy.env.filter((e: { name: string }) => e.name !== 'ISTIO_META_DNS_CAPTURE');
}

describe('services/remote-only-dns', () => {
  it('passes when every Service exists locally', async () => {
    const { runs } = await runCheck(check, (await openFixture('svc-multi-primary')).clusters);
    expect(findingKeys(runs)).toEqual([]);
  });

  it('passes for a remote-only Service when the callers capture DNS (sidecar env)', async () => {
    expect(findingKeys(await remoteOnly(() => {}))).toEqual([]);
  });

  it('remoteOnlyServiceNoDnsCapture: injected callers with DNS capture off', async () => {
    const runs = await remoteOnly((_objects, pod) => dropSidecarEnv(pod));
    expect(findingKeys(runs)).toEqual(['cluster1:remoteOnlyServiceNoDnsCapture']);
    expect(runFor(runs, 'cluster1').findings[0]).toMatchObject({
      resource: { kind: 'Service', namespace: 'sample', name: 'hello-remote' },
      data: { peers: 'cluster2', pods: 1, source: 'default (off)', examples: 'helloworld-v1-5c9d7b8f6d-k7x2m' },
    });
  });

  it('reads the env value: ISTIO_META_DNS_CAPTURE "false" is off', async () => {
    const runs = await remoteOnly((_objects, pod) => {
      pod.spec.initContainers.find((c: { name: string }) => c.name === 'istio-proxy').env[0].value = 'false';
    });
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ source: 'sidecar env' });
  });

  it('honours the mesh config proxyMetadata', async () => {
    const runs = await remoteOnly((objects, pod) => {
      dropSidecarEnv(pod);
      const mesh = objectNamed(objects, 'cluster1', 'configmaps', 'istio');
      mesh.data.mesh = mesh.data.mesh.replace('proxyMetadata: {}', 'proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"');
    });
    expect(findingKeys(runs)).toEqual([]);
  });

  it('honours the pod annotation proxy.istio.io/config', async () => {
    const runs = await remoteOnly((_objects, pod) => {
      dropSidecarEnv(pod);
      pod.metadata.annotations!['proxy.istio.io/config'] = 'proxyMetadata:\n  ISTIO_META_DNS_CAPTURE: "true"\n';
    });
    expect(findingKeys(runs)).toEqual([]);
  });

  it('no finding without possible local callers (no injected pod in the namespace)', async () => {
    const runs = await remoteOnly((_objects, pod) => {
      dropSidecarEnv(pod);
      delete pod.metadata.annotations!['sidecar.istio.io/status'];
    });
    expect(findingKeys(runs)).toEqual([]);
  });
});
