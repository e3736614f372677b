// probeRemoteApi against a real lab API server over HTTPS, with the lab's own remote secrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { probeRemoteApi } from '../../src/cluster/remote-probe.ts';
import { startLab, type RunningLab } from '../../src/lab/index.ts';

let lab: RunningLab;
let kubeconfig: string;
let rbacKubeconfig: string;

beforeAll(async () => {
  lab = await startLab({ scenario: 'multi-primary', faults: ['remote-rbac-missing:cluster2'] });
  const secretOf = (cluster: string) => lab.mesh.clusters.find((c) => c.name === cluster)!.objects.find((o) => o.kind === 'Secret' && o.metadata.labels?.['istio/multiCluster'] === 'true')!;
  kubeconfig = Buffer.from(Object.values(secretOf('cluster1').data as Record<string, string>)[0], 'base64').toString('utf8');
  // cluster2's secret for cluster1 carries a reader without pods/services/endpointslices.
  rbacKubeconfig = Buffer.from(Object.values(secretOf('cluster2').data as Record<string, string>)[0], 'base64').toString('utf8');
});
afterAll(() => lab?.stop());

const withUser = (text: string, user: object) => {
  const doc = YAML.parse(text);
  doc.users[0].user = user;
  return YAML.stringify(doc);
};

describe('probeRemoteApi', () => {
  it('reaches the peer, reads its version and every access istiod needs', async () => {
    const result = await probeRemoteApi(kubeconfig, { timeoutMs: 3000 });
    expect(result).toMatchObject({ reachable: true, status: 200 });
    expect(result.version).toMatch(/^v1\./);
    expect(result.access).toEqual(['pods', 'services', 'endpointslices', 'namespaces'].map((resource) => ({ resource, allowed: true })));
  });

  it('reports 403s per resource from SelfSubjectAccessReviews', async () => {
    const result = await probeRemoteApi(rbacKubeconfig, { timeoutMs: 3000 });
    expect(result.access.map((a) => [a.resource, a.allowed])).toEqual([
      ['pods', false],
      ['services', false],
      ['endpointslices', false],
      ['namespaces', true],
    ]);
    expect(result.access[0].reason).toBe('list and watch denied');
  });

  it('reports a rejected token as 401 without going further', async () => {
    const result = await probeRemoteApi(withUser(kubeconfig, { token: 'not-a-valid-token' }), { timeoutMs: 3000 });
    expect(result).toMatchObject({ reachable: true, status: 401, access: [] });
    expect(result.error).toMatch(/^401 Unauthorized/);
  });

  it('reports a refused connection as unreachable', async () => {
    const doc = YAML.parse(kubeconfig);
    doc.clusters[0].cluster.server = 'https://127.0.0.1:1';
    const result = await probeRemoteApi(YAML.stringify(doc), { timeoutMs: 3000 });
    expect(result.reachable).toBe(false);
    expect(result.error).toMatch(/connection refused/);
  });

  it('requests the API paths under a server with a query or fragment, as client-go (istiod) does, never paths of the secret\'s choosing', async () => {
    const doc = YAML.parse(kubeconfig);
    const server = doc.clusters[0].cluster.server as string;
    const peer = lab.servers.find((s) => server.startsWith(lab.clusters.find((c) => c.name === s.cluster)!.server))!;
    doc.clusters[0].cluster.server = `${server}/?next=/containers/create#x`;
    peer.audit.length = 0;
    const result = await probeRemoteApi(YAML.stringify(doc), { timeoutMs: 3000 });
    expect(result).toMatchObject({ reachable: true, status: 200 });
    expect(result.access.every((a) => a.allowed)).toBe(true);
    const paths = peer.audit.map((e) => e.path);
    expect(paths).toContain('/version');
    expect(paths.filter((p) => p.includes('?') || p.includes('containers'))).toEqual([]);
  });

  it('never runs exec plugins or reads files named by a secret', async () => {
    const result = await probeRemoteApi(withUser(kubeconfig, { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: '/bin/false' } }));
    expect(result).toEqual({ reachable: false, notProbed: expect.stringMatching(/^the kubeconfig uses exec:/), error: expect.stringMatching(/^not probed: /), access: [] });
    const garbage = await probeRemoteApi('garbage: [');
    expect(garbage.error).toMatch(/^not probed/);
    expect(garbage.notProbed).toBeDefined();
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await probeRemoteApi(kubeconfig, { signal: controller.signal })).toMatchObject({ reachable: false, error: 'aborted' });
  });
});
