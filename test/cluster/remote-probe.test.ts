// probeRemoteApi against a real lab API server over HTTPS, with the lab's own remote secrets.
import dns from 'node:dns';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { probeRemoteApi } from '../../src/cluster/remote-probe.ts';
import { startLab, type RunningLab } from '../../src/lab/index.ts';
import { startFakeApiServer, sendJson, TOKEN, type FakeApiServer } from './helpers/fake-api-server.ts';

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

/** The lab's API servers all listen on 127.0.0.1: probed there only as `--lab` allows it. */
const LAB = { localServers: { loopback: true } };

const withUser = (text: string, user: object) => {
  const doc = YAML.parse(text);
  doc.users[0].user = user;
  return YAML.stringify(doc);
};

describe('probeRemoteApi', () => {
  it('reaches the peer, reads its version and every access istiod needs', async () => {
    const result = await probeRemoteApi(kubeconfig, { timeoutMs: 3000, ...LAB });
    expect(result).toMatchObject({ reachable: true, status: 200 });
    expect(result.version).toMatch(/^v1\./);
    expect(result.access).toEqual(['pods', 'services', 'endpointslices', 'namespaces'].map((resource) => ({ resource, allowed: true })));
  });

  it('reports 403s per resource from SelfSubjectAccessReviews', async () => {
    const result = await probeRemoteApi(rbacKubeconfig, { timeoutMs: 3000, ...LAB });
    expect(result.access.map((a) => [a.resource, a.allowed])).toEqual([
      ['pods', false],
      ['services', false],
      ['endpointslices', false],
      ['namespaces', true],
    ]);
    expect(result.access[0].reason).toBe('list and watch denied');
  });

  it('reports a rejected token as 401 without going further', async () => {
    const result = await probeRemoteApi(withUser(kubeconfig, { token: 'not-a-valid-token' }), { timeoutMs: 3000, ...LAB });
    expect(result).toMatchObject({ reachable: true, status: 401, access: [] });
    expect(result.error).toMatch(/^401 Unauthorized/);
  });

  it('reports a refused connection as unreachable', async () => {
    const doc = YAML.parse(kubeconfig);
    doc.clusters[0].cluster.server = 'https://127.0.0.1:1';
    const result = await probeRemoteApi(YAML.stringify(doc), { timeoutMs: 3000, ...LAB });
    expect(result.reachable).toBe(false);
    expect(result.error).toMatch(/connection refused/);
  });

  it('requests the API paths under a server with a query or fragment, as client-go (istiod) does, never paths of the secret\'s choosing', async () => {
    const doc = YAML.parse(kubeconfig);
    const server = doc.clusters[0].cluster.server as string;
    const peer = lab.servers.find((s) => server.startsWith(lab.clusters.find((c) => c.name === s.cluster)!.server))!;
    doc.clusters[0].cluster.server = `${server}/?next=/containers/create#x`;
    peer.audit.length = 0;
    const result = await probeRemoteApi(YAML.stringify(doc), { timeoutMs: 3000, ...LAB });
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
    expect(await probeRemoteApi(kubeconfig, { signal: controller.signal, ...LAB })).toMatchObject({ reachable: false, error: 'aborted' });
  });
});

// The security rule (issue 11): a remote secret never makes meshdoctor send its credentials to the
// machine meshdoctor runs on or its link-local network (cloud metadata), by address or by a name
// that resolves there, unless the lab, --allow-loopback-remote-secrets or the operator's kubeconfig allows it.
describe('probeRemoteApi: servers on this machine or its metadata service', () => {
  let local: FakeApiServer;
  beforeAll(async () => {
    local = await startFakeApiServer({ http: (_req, res) => sendJson(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0' }) });
  });
  afterAll(() => local?.stop());
  afterEach(() => {
    vi.restoreAllMocks();
    local.requests.length = 0;
  });

  const port = () => new URL(local.url).port;
  /** A remote secret's kubeconfig for `server`, trusting the local server's CA (its certificate names localhost and 127.0.0.1). */
  const secretFor = (server: string, cluster: Record<string, unknown> = {}) =>
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'peer', cluster: { server, 'certificate-authority-data': Buffer.from(local.caPem).toString('base64'), ...cluster } }],
      users: [{ name: 'peer', user: { token: TOKEN } }],
      contexts: [{ name: 'peer', context: { cluster: 'peer', user: 'peer' } }],
      'current-context': 'peer',
    });
  /** dns.lookup as the system resolver would answer with `answers` for `name` (the test's DNS), else as it does. */
  const resolving = (name: string, answers: { address: string; family: number }[]) => {
    const real = dns.lookup.bind(dns);
    return vi.spyOn(dns, 'lookup').mockImplementation(((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
      if (hostname !== name) return (real as (...args: unknown[]) => void)(hostname, options, callback);
      process.nextTick(() => (options.all ? callback(null, answers) : callback(null, answers[0].address, answers[0].family)));
    }) as unknown as typeof dns.lookup);
  };

  it.each([
    ['127.0.0.1', 'loopback'],
    ['localhost', 'loopback'],
    ['LocalHost.', 'loopback'],
    ['api.localhost', 'loopback'],
    ['127.1', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['[::]', 'unspecified'],
    ['169.254.169.254', 'link-local'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['[fd00:ec2::254]', 'metadata'],
  ])('%s: notProbed (%s), and the local server receives no request', async (host, kind) => {
    const result = await probeRemoteApi(secretFor(`https://${host}:${port()}`), { timeoutMs: 3000 });
    expect(result).toEqual({ reachable: false, notProbed: expect.stringContaining(kind), error: expect.stringMatching(/^not probed: /), access: [] });
    expect(local.requests).toEqual([]);
  });

  it('a name that resolves to 127.0.0.1 is refused by the lookup the connection uses, once, and nothing is sent', async () => {
    const lookup = resolving('api.peer.test', [{ address: '127.0.0.1', family: 4 }]);
    const result = await probeRemoteApi(secretFor(`https://api.peer.test:${port()}`, { 'tls-server-name': 'localhost' }), { timeoutMs: 3000 });
    expect(result).toEqual({ reachable: false, notProbed: expect.stringMatching(/resolves to 127\.0\.0\.1, a loopback address/), error: expect.stringMatching(/^not probed: /), access: [] });
    expect(local.requests).toEqual([]);
    // One lookup, the socket's own: no check-then-connect pair a rebinding DNS could answer twice.
    expect(lookup.mock.calls.filter(([hostname]) => hostname === 'api.peer.test')).toHaveLength(1);
  });

  it('an answer with a metadata address among public ones is refused too; loopback allowed does not allow link-local', async () => {
    resolving('metadata.peer.test', [{ address: '192.0.2.10', family: 4 }, { address: '169.254.169.254', family: 4 }]);
    const result = await probeRemoteApi(secretFor('https://metadata.peer.test'), { timeoutMs: 3000, localServers: { loopback: true } });
    expect(result.notProbed).toMatch(/resolves to 169\.254\.169\.254, a link-local address/);
    expect((await probeRemoteApi(secretFor('http://169.254.169.254/latest'), { timeoutMs: 3000, localServers: { loopback: true } })).notProbed).toMatch(/link-local/);
  });

  it('still probes in the lab (loopback allowed), by address and by a name resolving there, and a server of the operator\'s own kubeconfig', async () => {
    expect(await probeRemoteApi(secretFor(local.url), { timeoutMs: 3000, localServers: { loopback: true } })).toMatchObject({ reachable: true, status: 200, version: 'v1.31.0' });
    resolving('api.peer.test', [{ address: '127.0.0.1', family: 4 }]);
    expect(await probeRemoteApi(secretFor(`https://api.peer.test:${port()}`, { 'tls-server-name': 'localhost' }), { timeoutMs: 3000, localServers: { loopback: true } })).toMatchObject({ reachable: true, status: 200 });
    // The operator has a context for this very URL (its trailing slash aside): any address.
    expect(await probeRemoteApi(secretFor(local.url), { timeoutMs: 3000, localServers: { trustedServers: ['https://example.invalid:6443', `${local.url}/`] } })).toMatchObject({ reachable: true, status: 200 });
    expect(local.requests).toContain('/version');
    // Another port of the same machine is not the operator's server.
    local.requests.length = 0;
    expect((await probeRemoteApi(secretFor('https://127.0.0.1:1'), { timeoutMs: 3000, localServers: { trustedServers: [local.url] } })).notProbed).toMatch(/loopback/);
  });
});
