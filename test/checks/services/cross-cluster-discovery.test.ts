import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/services/cross-cluster-discovery.ts';
import { findingKeys, objectNamed, objectsOf, openFixture, runCheck, runErrors, runFor } from '../helpers.ts';
import { fixtureVariant } from './helpers.ts';
import { SECRET_FORMS, giveClusterId } from '../remote-secret-forms.ts';

type RegistryEntry = { hostname: string; clusterVIPs: { Addresses: Record<string, string[]> } };

/** cluster1's registryz with cluster2's key removed (or renamed). */
function dropPeerKey(rename?: string) {
  return (cluster: string, endpoint: string, body: unknown) => {
    if (cluster !== 'cluster1' || endpoint !== 'registryz') return body;
    for (const svc of body as RegistryEntry[]) {
      const vips = svc.clusterVIPs.Addresses;
      if (rename && vips.cluster2) vips[rename] = vips.cluster2;
      delete vips.cluster2;
    }
    return body;
  };
}

describe('services/cross-cluster-discovery', () => {
  it.each(['svc-multi-primary', 'svc-istio-1.11'])('passes on %s', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.map((r) => r.skipped)).toEqual([undefined, undefined]);
  });

  it('noRemoteSecret: cluster1 has no secret keyed cluster2 and knows none of its Services', async () => {
    const { runs } = await runCheck(check, (await openFixture('svc-no-remote-secret')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster1:noRemoteSecret']);
    const finding = runFor(runs, 'cluster1').findings[0];
    expect(finding.data).toMatchObject({ peer: 'cluster2', peerId: 'cluster2', count: 3, istiod: 'istiod-6d8f7c9b54-x7k2p' });
    expect(finding.resource).toEqual({ kind: 'Pod', namespace: 'istio-system', name: 'istiod-6d8f7c9b54-x7k2p' });
  });

  it('peerNotSynced: the secret exists but clusterz reports timeout', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      debug: (cluster, endpoint, body) => {
        if (cluster === 'cluster1' && endpoint === 'clusterz') for (const e of body as { id: string; syncStatus: string }[]) if (e.id === 'cluster2') e.syncStatus = 'timeout';
        return dropPeerKey()(cluster, endpoint, body);
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster1:peerNotSynced']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ status: 'timeout', secret: 'istio-system/istio-remote-secret-cluster2' });
  });

  it.each(SECRET_FORMS)('the secret giving istiod cluster2 counts in either form (%s): peerNotSynced, not noRemoteSecret', async (form) => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (o) => giveClusterId(o, 'cluster1', 'istio-remote-secret-cluster2', 'cluster2', form),
      debug: (cluster, endpoint, body) => {
        if (cluster === 'cluster1' && endpoint === 'clusterz') for (const e of body as { id: string; syncStatus: string }[]) if (e.id === 'cluster2') e.syncStatus = 'timeout';
        return dropPeerKey()(cluster, endpoint, body);
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster1:peerNotSynced']);
    expect(runFor(runs, 'cluster1').findings[0].data?.secret).toBe(form === 'remote secret' ? 'istio-system/istio-remote-secret-cluster2' : 'external-istiod/istio-kubeconfig');
  });

  it('peerNotDiscovered: secret present, synced, yet nothing known', async () => {
    const { runs } = await runCheck(check, await fixtureVariant('svc-multi-primary', { debug: dropPeerKey() }));
    expect(findingKeys(runs)).toEqual(['cluster1:peerNotDiscovered']);
  });

  it('peerUnderOtherId: the Services are known under a key that is no cluster id', async () => {
    const { runs } = await runCheck(check, await fixtureVariant('svc-multi-primary', { debug: dropPeerKey('kind-cluster2') }));
    expect(findingKeys(runs)).toEqual(['cluster1:peerUnderOtherId']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ foundId: 'kind-cluster2', peerId: 'cluster2' });
  });

  it('servicesMissing: a peer Service istiod does not know while it knows the others', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        const extra = structuredClone(objectNamed(objects, 'cluster2', 'services', 'helloworld'));
        extra.metadata.name = 'ratings';
        objectsOf(objects, 'cluster2', 'services').push(extra);
      },
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster1:servicesMissing']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ count: 1, known: 3, examples: 'sample/ratings' });
  });

  it('respects discoverySelectors: namespaces istiod does not watch are not expected', async () => {
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        const mesh = objectNamed(objects, 'cluster1', 'configmaps', 'istio');
        mesh.data.mesh += '\ndiscoverySelectors:\n- matchLabels:\n    istio-injection: enabled\n';
      },
      debug: (cluster, endpoint, body) =>
        cluster === 'cluster1' && endpoint === 'registryz' ? (body as RegistryEntry[]).filter((s) => s.hostname.startsWith('helloworld.')) : body,
    });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual([]);
  });

  it('peerUnreadable: a peer whose Services are forbidden is not judged, and no pass vouches for it', async () => {
    const readers = await fixtureVariant('svc-multi-primary', { readerOptions: { cluster2: { failing: { services: 'forbidden' } } } });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, 'cluster1').skipped).toMatch(/cluster2 \(forbidden: cannot list services/);
  });

  it('peerUnreadable is reported next to a problem with another peer (alone it is a skip, as above)', async () => {
    // A third cluster, a copy of cluster2 under its own id, whose Services are forbidden; cluster1's
    // istiod has lost cluster2's Services, so cluster1's run fails and keeps the info finding.
    const readers = await fixtureVariant('svc-multi-primary', {
      edit: (objects) => {
        const third = structuredClone(objects.get('cluster2')!);
        const istiod = (third.deployments ?? []).find((d) => d.metadata.name === 'istiod')!;
        for (const env of istiod.spec.template.spec.containers[0].env) if (env.name === 'CLUSTER_ID') env.value = 'cluster3';
        for (const ns of third.namespaces ?? []) if (ns.metadata.uid) ns.metadata.uid = `${ns.metadata.uid}-3`;
        objects.set('cluster3', third);
      },
      debug: dropPeerKey(),
      readerOptions: { cluster3: { failing: { services: 'forbidden' } } },
    });
    const { runs } = await runCheck(check, readers);
    expect(runFor(runs, 'cluster1').findings.map((f) => `${f.messageId} ${f.data?.peer}`).sort()).toEqual(['peerNotDiscovered cluster2', 'peerUnreadable cluster3']);
  });

  it('a peer whose Services list fails (500, timeout) makes the check error, not "no services"', async () => {
    for (const reason of ['bad-response', 'timeout'] as const) {
      const readers = await fixtureVariant('svc-multi-primary', { readerOptions: { cluster2: { failing: { services: reason } } } });
      // cluster1 cannot list its peer's Services; cluster2 cannot list its own.
      expect(runErrors((await runCheck(check, readers)).runs)).toEqual([`cluster1: ${reason}: cannot list services`, `cluster2: ${reason}: cannot list services`]);
    }
  });

  it('an unknown registryz format is an error of the check, not a finding', async () => {
    const readers = await fixtureVariant('svc-multi-primary', { rawDebug: { 'cluster1/registryz': '{"services": []}' } });
    expect(runErrors((await runCheck(check, readers)).runs)).toEqual([expect.stringMatching(/^cluster1: .*istiod istiod-6d8f7c9b54-x7k2p: registryz is not a JSON array/)]);
  });

  it('skips a remote cluster (no istiod)', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(runFor(runs, 'cluster2').skipped).toMatch(/runs no istiod/);
  });
});
