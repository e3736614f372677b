// Offline behaviour; the live probe is exercised by lab-faults.test.ts and test/cluster/remote-probe.test.ts.
import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/remote-api-access.ts';
import type { RemoteApiProbe } from '../../../src/engine/types.ts';
import { fixtureObjects, memoryReaders, objectNamed, openFixture, runCheck } from '../helpers.ts';
import { editKubeconfig, findingRows } from './edit.ts';

describe('control-plane/remote-api-access', () => {
  it('skips offline: a snapshot records no reachability', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runs.map((r) => r.skipped)).toEqual(['needs a live cluster: offline snapshot', 'needs a live cluster: offline snapshot']);
  });

  it('notProbed (info), never peerUnreachable, for an exec kubeconfig istiod allows, a CA file, or an unusable kubeconfig', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const istiod = objectNamed(objects, 'cluster1', 'deployments', 'istiod');
    istiod.spec.template.spec.containers[0].env.push({ name: 'PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS', value: 'exec' });
    editKubeconfig(objectNamed(objects, 'cluster1', 'secrets', 'istio-remote-secret-cluster2'), 'cluster2', (doc) => {
      doc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws' } };
    });
    editKubeconfig(objectNamed(objects, 'cluster2', 'secrets', 'istio-remote-secret-cluster1'), 'cluster1', (doc) => {
      doc['current-context'] = 'gone';
    });
    const probed: string[] = [];
    const probeRemoteApi = async (kubeconfig: string): Promise<RemoteApiProbe> => {
      probed.push(kubeconfig);
      return { reachable: true, status: 200, access: [] };
    };
    const { runs } = await runCheck(check, memoryReaders(objects), { probeRemoteApi });
    expect(findingRows(check, runs)).toEqual(['control-plane/remote-api-access cluster1 notProbed info', 'control-plane/remote-api-access cluster2 notProbed info']);
    expect(probed).toEqual([]);
  });

  it('notProbed when the probe itself declines (KubeconfigError paths), not peerUnreachable', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const probeRemoteApi = async (): Promise<RemoteApiProbe> => ({ reachable: false, notProbed: 'invalid kubeconfig', error: 'not probed: invalid kubeconfig', access: [] });
    const { runs } = await runCheck(check, memoryReaders(objects), { probeRemoteApi });
    expect(findingRows(check, runs)).toEqual(['control-plane/remote-api-access cluster1 notProbed info', 'control-plane/remote-api-access cluster2 notProbed info']);
  });

  it('accessUnknown (info) when the peer answers but whether list/watch is allowed cannot be told', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const probeRemoteApi = async (): Promise<RemoteApiProbe> => ({
      reachable: true,
      status: 200,
      access: [
        { resource: 'pods', allowed: true },
        { resource: 'endpointslices', allowed: undefined, reason: 'HTTP 500 on list' },
      ],
    });
    const { runs } = await runCheck(check, memoryReaders(objects), { probeRemoteApi });
    expect(findingRows(check, runs)).toEqual(['control-plane/remote-api-access cluster1 accessUnknown info', 'control-plane/remote-api-access cluster2 accessUnknown info']);
  });

  it('loopbackReachable (info) for a secret whose server is a loopback address that answered; a routable one that answers with full access is silent', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    editKubeconfig(objectNamed(objects, 'cluster1', 'secrets', 'istio-remote-secret-cluster2'), 'cluster2', (doc) => {
      doc.clusters[0].cluster.server = 'https://127.0.0.1:6443';
    });
    const access = ['pods', 'services', 'endpointslices', 'namespaces'].map((resource) => ({ resource, allowed: true }));
    const probeRemoteApi = async (): Promise<RemoteApiProbe> => ({ reachable: true, status: 200, access });
    const { runs } = await runCheck(check, memoryReaders(objects), { probeRemoteApi });
    expect(findingRows(check, runs)).toEqual(['control-plane/remote-api-access cluster1 loopbackReachable info']);
  });
});
