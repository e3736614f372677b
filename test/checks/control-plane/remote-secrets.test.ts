import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/remote-secrets.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';
import { editKubeconfig, findingRows, jwt, renameKey, withIstiodDebug } from './edit.ts';

const SECRET = 'istio-remote-secret-cluster2';
const secretOf = (objects: Awaited<ReturnType<typeof fixtureObjects>>) => objectNamed(objects, 'cluster1', 'secrets', SECRET);

describe('control-plane/remote-secrets', () => {
  it.each(['multi-primary-healthy', 'cp-multi-primary', 'cp-istio-1.20'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('skips the remote of a primary-remote mesh: its control plane holds the secrets', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, 'cluster2').skipped).toMatch(/no istiod/);
  });

  it('noRemoteSecret: cluster2 has no secret for cluster1', async () => {
    const { runs } = await runCheck(check, (await openFixture('cp-no-remote-secret')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster2:noRemoteSecret']);
    expect(runFor(runs, 'cluster2').findings[0]).toMatchObject({ data: { peer: 'cluster1', peerId: 'cluster1' } });
  });

  it('keyNotClusterId: a key that is not the cluster id of the cluster its API CA identifies', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const secret = secretOf(objects);
    renameKey(secret, 'cluster2', 'kind-cluster2');
    // The peer is identified by the API CA every pod of cluster2 sees.
    const ca = Buffer.from(YAML.parse(Buffer.from(secret.data['kind-cluster2'], 'base64').toString()).clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    objectsOf(objects, 'cluster2', 'configmaps').push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'istio-system' }, data: { 'ca.crt': ca } });
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:keyNotClusterId']);
    expect(runFor(runs, 'cluster1').findings[0]).toMatchObject({ data: { key: 'kind-cluster2', peer: 'cluster2', peerId: 'cluster2' } });
  });

  it('unknownPeer (info) and noRemoteSecret when the key and server match no cluster', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    renameKey(secretOf(objects), 'cluster2', 'kind-cluster2');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:noRemoteSecret', 'cluster1:unknownPeer']);
  });

  it('keyIsLocalId and keyDuplicated: keys istiod ignores', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const secrets = objectsOf(objects, 'cluster1', 'secrets');
    const copy = structuredClone(secretOf(objects));
    copy.metadata.name = 'istio-remote-secret-cluster2-old';
    secrets.push(copy);
    const local = structuredClone(secretOf(objects));
    local.metadata.name = 'istio-remote-secret-self';
    renameKey(local, 'cluster2', 'cluster1');
    secrets.push(local);
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:keyDuplicated', 'cluster1:keyIsLocalId']);
  });

  it('kubeconfigInvalid, and kubeconfigDisallowed for exec (also in the --type=config secret)', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    editKubeconfig(secretOf(objects), 'cluster2', (doc) => {
      doc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'gke-gcloud-auth-plugin' } };
    });
    const broken = objectNamed(objects, 'cluster2', 'secrets', 'istio-remote-secret-cluster1');
    broken.data.cluster1 = Buffer.from('not: [a kubeconfig').toString('base64');
    const config: KubeObject = structuredClone(secretOf(objects));
    config.metadata = { name: 'istio-kubeconfig', namespace: 'external-istiod' };
    renameKey(config, 'cluster2', 'config');
    objectsOf(objects, 'cluster1', 'secrets').push(config);
    // The external istiod that mounts it runs beside it: its namespace's secrets are read too.
    const externalIstiod: KubeObject = structuredClone(objectNamed(objects, 'cluster1', 'deployments', 'istiod'));
    externalIstiod.metadata.namespace = 'external-istiod';
    objectsOf(objects, 'cluster1', 'deployments').push(externalIstiod);
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:kubeconfigDisallowed', 'cluster1:kubeconfigDisallowed', 'cluster2:kubeconfigInvalid']);
    expect(runFor(runs, 'cluster1').findings.map((f) => f.data?.secret)).toEqual(['external-istiod/istio-kubeconfig', 'istio-system/istio-remote-secret-cluster2']);
  });

  it('tokenExpired: a bound token whose exp is before now (capturedAt offline)', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const token = jwt({ exp: Date.parse('2026-11-19T10:00:00Z') / 1000, 'kubernetes.io': { namespace: 'istio-system', serviceaccount: { name: 'istio-reader-service-account' } } });
    editKubeconfig(secretOf(objects), 'cluster2', (doc) => {
      doc.users[0].user = { token };
    });
    const { runs } = await runCheck(check, memoryReaders(objects), { now: new Date('2026-11-20T10:00:00Z') });
    expect(findingKeys(runs)).toEqual(['cluster1:tokenExpired']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ serviceAccount: 'istio-system/istio-reader-service-account', expiresAt: '2026-11-19T10:00:00.000Z' });
    // Not yet expired at an earlier "now".
    expect(findingKeys((await runCheck(check, memoryReaders(objects), { now: new Date('2026-11-18T10:00:00Z') })).runs)).toEqual([]);
  });

  it('serverLoopback: an error when istiod does not sync the peer, info when it does, a warning when clusterz cannot tell', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    editKubeconfig(secretOf(objects), 'cluster2', (doc) => {
      doc.clusters[0].cluster.server = 'https://127.0.0.1:6443';
    });
    const severityWith = async (clusterz: string | undefined) => {
      const readers = memoryReaders(objects);
      if (clusterz !== undefined) readers[0] = withIstiodDebug(readers[0], { clusterz });
      const { runs } = await runCheck(check, readers);
      return runFor(runs, 'cluster1').findings.map((f) => [f.messageId, f.severity]);
    };
    const entry = (syncStatus: string) => JSON.stringify([{ id: 'cluster2', secretName: `istio-system/${SECRET}`, syncStatus }]);
    expect(await severityWith(entry('timeout'))).toEqual([['serverLoopback', 'error']]);
    expect(await severityWith(entry('synced'))).toEqual([['serverLoopback', 'info']]);
    // No istiod answered, or its answer is cut short: no evidence either way, so no error (issue 11.3).
    expect(await severityWith(undefined)).toEqual([['serverLoopback', 'warning']]);
    expect(await severityWith(entry('synced').slice(0, 30))).toEqual([['serverLoopback', 'warning']]);
  });

  it('secretPointsAtSelf: keyed as the peer, but the kubeconfig trusts the local API CA', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const secret = secretOf(objects);
    const ca = Buffer.from(YAML.parse(Buffer.from(secret.data.cluster2, 'base64').toString()).clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    // cluster1's pods see this CA as their own API server's: the secret was made from cluster1's context.
    objectsOf(objects, 'cluster1', 'configmaps').push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'istio-system' }, data: { 'ca.crt': ca } });
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingRows(check, runs)).toEqual(['control-plane/remote-secrets cluster1 secretPointsAtSelf error']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ key: 'cluster2', cluster: 'cluster1' });
  });

  it('caFileUnreadable: a certificate-authority file path, apart from the sanitizer refusals', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    editKubeconfig(secretOf(objects), 'cluster2', (doc) => {
      doc.clusters[0].cluster = { server: doc.clusters[0].cluster.server, 'certificate-authority': '/etc/kubernetes/pki/ca.crt' };
    });
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingRows(check, runs)).toEqual(['control-plane/remote-secrets cluster1 caFileUnreadable error']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ file: '/etc/kubernetes/pki/ca.crt' });
  });

  it('kubeconfigInvalid for a dangling current-context: istiod does not fall back to the first context', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    editKubeconfig(secretOf(objects), 'cluster2', (doc) => {
      doc['current-context'] = 'gone';
    });
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingRows(check, runs)).toEqual(['control-plane/remote-secrets cluster1 kubeconfigInvalid error']);
  });

  it('skips clusters of unknown role: only a primary needs remote secrets', () => {
    expect(check.appliesTo!({ name: 'c', role: 'unknown', revisions: [], reachable: true, via: 'snapshot' }, { model: 'unknown', multiNetwork: false })).toMatch(/role unknown/);
  });

  describe('external control plane (istio-kubeconfig)', () => {
    const EXTERNAL = 'external-control-plane-healthy';
    const NS = { istioNamespace: 'external-istiod' };

    it('passes: the labelled istio-kubeconfig is the config cluster kubeconfig, not a remote secret keyed config', async () => {
      const { runs, clusters } = await runCheck(check, (await openFixture(EXTERNAL)).clusters, NS);
      expect(clusters.map((c) => c.role)).toEqual(['external-control-plane', 'config']);
      expect(runs.flatMap((r) => r.findings.map((f) => `${f.cluster}:${f.messageId}`))).toEqual([]);
      expect(runFor(runs, 'cluster1').outcome).toBe('pass');
      expect(runFor(runs, 'cluster2').skipped).toMatch(/no istiod/);
    });

    it('configKubeconfigMissing: the external istiod has no istio-kubeconfig', async () => {
      const objects = await fixtureObjects(EXTERNAL);
      objects.get('cluster1')!.secrets = objectsOf(objects, 'cluster1', 'secrets').filter((s) => s.metadata.name !== 'istio-kubeconfig');
      const { runs } = await runCheck(check, memoryReaders(objects), NS);
      expect(findingKeys(runs)).toEqual(['cluster1:configKubeconfigMissing']);
      expect(runFor(runs, 'cluster1').findings[0]).toMatchObject({ peer: 'cluster2', resource: { kind: 'Secret', namespace: 'external-istiod', name: 'istio-kubeconfig' } });
    });

    it('configKubeconfigWrongCluster: istio-kubeconfig holds the external cluster\'s own API', async () => {
      const objects = await fixtureObjects(EXTERNAL);
      const ownCa = objectNamed(objects, 'cluster1', 'configmaps', 'kube-root-ca.crt').data['ca.crt'];
      editKubeconfig(objectNamed(objects, 'cluster1', 'secrets', 'istio-kubeconfig'), 'config', (doc) => {
        doc.clusters[0].cluster = { server: 'https://cluster1-control-plane:6443', 'certificate-authority-data': Buffer.from(ownCa).toString('base64') };
      });
      const { runs } = await runCheck(check, memoryReaders(objects), NS);
      expect(findingKeys(runs)).toEqual(['cluster1:configKubeconfigWrongCluster']);
      expect(runFor(runs, 'cluster1').findings[0]).toMatchObject({ peer: 'cluster2', data: { secret: 'external-istiod/istio-kubeconfig', peerId: 'cluster2' } });
    });
  });
});
