import dns from 'node:dns';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { connectClusters } from '../../src/cluster/connect.ts';
import { createLiveReader } from '../../src/cluster/live-reader.ts';
import { normalizeServer } from '../../src/mesh/remote-secrets.ts';
import { KubeconfigError, loadKubeconfig } from '../../src/cluster/kubeconfig.ts';
import { sendJson, sendStatus, startFakeApiServer, TOKEN } from './helpers/fake-api-server.ts';
import type { FakeApiServer } from './helpers/fake-api-server.ts';

let servers: FakeApiServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'meshdoctor-kc-'));
  dirs.push(dir);
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

function kubeconfigText(entries: { name: string; server: string; caPem: string }[], current?: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: entries.map((e) => ({ name: e.name, cluster: { server: e.server, 'certificate-authority-data': Buffer.from(e.caPem).toString('base64') } })),
    users: entries.map((e) => ({ name: e.name, user: { token: TOKEN } })),
    contexts: entries.map((e) => ({ name: e.name, context: { cluster: e.name, user: e.name } })),
    'current-context': current,
  });
}

describe('loadKubeconfig', () => {
  it('names the problem in one line: missing file, garbage, unknown context, no current context', async () => {
    expect(() => loadKubeconfig('/nonexistent/kubeconfig')).toThrow(KubeconfigError);
    const garbage = await tempFile('garbage', '{{{ this is: not yaml');
    expect(() => loadKubeconfig(garbage)).toThrow(/invalid kubeconfig|not a kubeconfig/);
    const notConfig = await tempFile('text', 'just some words');
    expect(() => loadKubeconfig(notConfig)).toThrow(KubeconfigError);

    const file = await tempFile('config', kubeconfigText([{ name: 'a', server: 'https://a:6443', caPem: 'x' }, { name: 'b', server: 'https://b:6443', caPem: 'x' }]));
    const loaded = loadKubeconfig(file);
    expect(loaded.contexts).toEqual(['a', 'b']);
    expect(() => loaded.forContext('zzz')).toThrow(/unknown context "zzz".*available: a, b/);
    await expect(connectClusters({ kubeconfigPath: file, istioNamespace: 'istio-system' })).rejects.toThrow(/no current context/);
  });

  it('merges KUBECONFIG files with the first one winning, and gives each context its own KubeConfig', async () => {
    const first = await tempFile('one', kubeconfigText([{ name: 'a', server: 'https://first:6443', caPem: 'x' }], 'a'));
    const second = await tempFile('two', kubeconfigText([{ name: 'a', server: 'https://second:6443', caPem: 'x' }, { name: 'b', server: 'https://b:6443', caPem: 'x' }], 'b'));
    const loaded = loadKubeconfig(undefined, { KUBECONFIG: [first, '/missing/ignored', second].join(path.delimiter) });
    expect(loaded.currentContext).toBe('a');
    expect(loaded.serverOf('a')).toBe('https://first:6443');
    const b = loaded.forContext('b');
    expect(b.getCurrentCluster()?.server).toBe('https://b:6443');
    expect(b.getContexts().map((c) => c.name)).toEqual(['b']);
  });

  it('normalizes server URLs for matching', () => {
    expect(normalizeServer('https://API.example.com/')).toBe(normalizeServer('https://api.example.com:443'));
  });
});

describe('connectClusters', () => {
  it('adds remote-secret peers: by context when one matches the server, else via the secret (its server on loopback: --allow-loopback-remote-secrets)', async () => {
    const peerWithContext = await startFakeApiServer({});
    const peerWithoutContext = await startFakeApiServer({ http: (_req, res) => sendJson(res, 200, { major: '1', minor: '30', gitVersion: 'v1.30.0' }) });
    servers.push(peerWithContext, peerWithoutContext);
    const remoteKubeconfig = (name: string, server: FakeApiServer): string =>
      Buffer.from(kubeconfigText([{ name, server: server.url, caPem: server.caPem }], name)).toString('base64');
    const primary = await startFakeApiServer({
      http: (_req, res, url) => {
        if (url.pathname !== '/api/v1/namespaces/istio-system/secrets') return sendStatus(res, 404, 'nope');
        sendJson(res, 200, {
          apiVersion: 'v1',
          metadata: {},
          items: [
            { metadata: { namespace: 'istio-system', name: 'cacerts' }, data: { 'ca-cert.pem': 'eA==' } },
            { metadata: { namespace: 'istio-system', name: 'istio-remote-secret-west', labels: { 'istio/multiCluster': 'true' } }, data: { west: remoteKubeconfig('west', peerWithContext) } },
            { metadata: { namespace: 'istio-system', name: 'istio-remote-secret-far', labels: { 'istio/multiCluster': 'true' } }, data: { far: remoteKubeconfig('far', peerWithoutContext) } },
          ],
        });
      },
    });
    servers.push(primary);
    const file = await tempFile(
      'config',
      kubeconfigText(
        [
          { name: 'kind-east', server: primary.url, caPem: primary.caPem },
          { name: 'kind-west', server: `${peerWithContext.url}/`, caPem: peerWithContext.caPem },
        ],
        'kind-east',
      ),
    );
    // The fake peers listen on 127.0.0.1: 'far', with no context, is read only with the opt-in.
    const { readers, notes } = await connectClusters({ kubeconfigPath: file, istioNamespace: 'istio-system', allowLoopbackRemoteSecrets: true });
    expect(readers.map((r) => [r.name, r.context, r.via])).toEqual([
      ['kind-east', 'kind-east', 'context'],
      ['far', undefined, 'remote-secret'],
      ['kind-west', 'kind-west', 'context'],
    ]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('far');
    // The secret's credentials really reach the peer.
    expect(await readers[1].version()).toMatchObject({ gitVersion: 'v1.30.0' });

    const explicit = await connectClusters({ kubeconfigPath: file, contexts: ['kind-west'], istioNamespace: 'istio-system' });
    expect(explicit.readers.map((r) => r.name)).toEqual(['kind-west']);
    await expect(connectClusters({ kubeconfigPath: file, contexts: ['nope'], istioNamespace: 'istio-system' })).rejects.toBeInstanceOf(KubeconfigError);
  });

  // The security rule (issue 11): a Secret never aims meshdoctor, with its credentials, at this machine.
  it('a peer with no context whose secret names this machine, by address or by a name resolving to it, is not probed: a note, no reader, no request', async () => {
    const local = await startFakeApiServer({ http: (_req, res) => sendJson(res, 200, { major: '1', minor: '30', gitVersion: 'v1.30.0' }) });
    servers.push(local);
    const port = new URL(local.url).port;
    const real = dns.lookup.bind(dns);
    // The test's DNS: api.far.test resolves to 127.0.0.1 (as a hostile or stale record would).
    const lookup = vi.spyOn(dns, 'lookup').mockImplementation(((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
      if (hostname !== 'api.far.test') return (real as (...args: unknown[]) => void)(hostname, options, callback);
      process.nextTick(() => (options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)));
    }) as unknown as typeof dns.lookup);
    const remote = (name: string, server: string, extra: Record<string, unknown> = {}) =>
      Buffer.from(
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name, cluster: { server, 'certificate-authority-data': Buffer.from(local.caPem).toString('base64'), ...extra } }],
          users: [{ name, user: { token: TOKEN } }],
          contexts: [{ name, context: { cluster: name, user: name } }],
          'current-context': name,
        }),
      ).toString('base64');
    const secret = (name: string, data: string) => ({ metadata: { namespace: 'istio-system', name: `istio-remote-secret-${name}`, labels: { 'istio/multiCluster': 'true' } }, data: { [name]: data } });
    const primary = await startFakeApiServer({
      http: (_req, res, url) => {
        if (url.pathname !== '/api/v1/namespaces/istio-system/secrets') return sendStatus(res, 404, 'nope');
        sendJson(res, 200, {
          apiVersion: 'v1',
          metadata: {},
          items: [
            secret('loop', remote('loop', `https://localhost:${port}`)),
            secret('mapped', remote('mapped', `https://[::ffff:127.0.0.1]:${port}`)),
            secret('metadata', remote('metadata', 'http://169.254.169.254')),
            secret('named', remote('named', `https://api.far.test:${port}`, { 'tls-server-name': 'localhost' })),
          ],
        });
      },
    });
    servers.push(primary);
    const file = await tempFile('config', kubeconfigText([{ name: 'east', server: primary.url, caPem: primary.caPem }], 'east'));
    const { readers, notes, trustedServers } = await connectClusters({ kubeconfigPath: file, istioNamespace: 'istio-system' });
    expect(readers.map((r) => r.name)).toEqual(['east']);
    expect(notes.map((n) => /^cluster (\w+) .* not probed: .*(loopback|link-local)/.exec(n)?.slice(1))).toEqual([
      ['loop', 'loopback'],
      ['mapped', 'loopback'],
      ['metadata', 'link-local'],
      ['named', 'loopback'],
    ]);
    expect(notes[3]).toContain('resolves to 127.0.0.1');
    expect(local.requests).toEqual([]);
    expect(lookup.mock.calls.filter(([hostname]) => hostname === 'api.far.test')).toHaveLength(1);
    expect(trustedServers).toEqual([primary.url]);

    // --allow-loopback-remote-secrets: the loopback ones are read (a test stack on this machine); link-local never.
    const allowed = await connectClusters({ kubeconfigPath: file, istioNamespace: 'istio-system', allowLoopbackRemoteSecrets: true });
    expect(allowed.readers.map((r) => [r.name, r.via])).toEqual([
      ['east', 'context'],
      ['loop', 'remote-secret'],
      ['mapped', 'remote-secret'],
      ['named', 'remote-secret'],
    ]);
    expect(allowed.notes.filter((n) => n.includes('not probed'))).toEqual([expect.stringMatching(/^cluster metadata .*link-local/)]);
    expect(local.requests).toContain('/version');
  });

  it('diagnoses the current context alone, with a note, when remote secrets are forbidden', async () => {
    const primary = await startFakeApiServer({ http: (_req, res) => sendStatus(res, 403, 'forbidden') });
    servers.push(primary);
    const file = await tempFile('config', kubeconfigText([{ name: 'only', server: primary.url, caPem: primary.caPem }], 'only'));
    const { readers, notes } = await connectClusters({ kubeconfigPath: file, istioNamespace: 'istio-system' });
    expect(readers.map((r) => r.name)).toEqual(['only']);
    expect(notes[0]).toContain('forbidden');
  });
});

describe('in a pod: the in-cluster configuration when there is no kubeconfig', () => {
  async function serviceAccountDir(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshdoctor-sa-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    return dir;
  }

  it('reads the API with the mounted token and CA, as client-go does; the token is re-read when it rotates', async () => {
    const server = await startFakeApiServer({ http: (_req, res) => sendJson(res, 200, { kind: 'PodList', metadata: {}, items: [] }) });
    servers.push(server);
    const dir = await serviceAccountDir({ token: 'stale-token', 'ca.crt': server.caPem, namespace: 'ci' });
    const home = await serviceAccountDir({});
    const url = new URL(server.url);
    const env = { HOME: home, KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port };
    const loaded = loadKubeconfig(undefined, env, { serviceAccountDir: dir });
    expect([loaded.contexts, loaded.currentContext, loaded.serverOf('in-cluster')]).toEqual([['in-cluster'], 'in-cluster', `https://127.0.0.1:${url.port}`]);
    const reader = () => createLiveReader({ name: 'in-cluster', context: 'in-cluster', kubeConfig: loaded.forContext('in-cluster'), istioNamespace: 'istio-system' });
    await expect(reader().list('pods')).rejects.toMatchObject({ reason: 'unauthorized' });
    // The kubelet rotates the bound token in place.
    await writeFile(path.join(dir, 'token'), TOKEN);
    await expect(reader().list('pods')).resolves.toEqual([]);
  });

  it('outside a pod (no KUBERNETES_SERVICE_HOST, or no token mounted): the one-line "no kubeconfig" error', async () => {
    const home = await serviceAccountDir({});
    const dir = await serviceAccountDir({ 'ca.crt': 'x' });
    expect(() => loadKubeconfig(undefined, { HOME: home }, { serviceAccountDir: dir })).toThrow(KubeconfigError);
    expect(() => loadKubeconfig(undefined, { HOME: home, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, { serviceAccountDir: dir })).toThrow(/not a pod with a service account/);
  });

  it('a kubeconfig, when there is one, wins over the in-cluster configuration (as kubectl)', async () => {
    const file = await tempFile('config', kubeconfigText([{ name: 'ops', server: 'https://10.9.9.9:6443', caPem: 'x' }], 'ops'));
    const dir = await serviceAccountDir({ token: TOKEN });
    const loaded = loadKubeconfig(undefined, { KUBECONFIG: file, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, { serviceAccountDir: dir });
    expect(loaded.contexts).toEqual(['ops']);
  });
});
