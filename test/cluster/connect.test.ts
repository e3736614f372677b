import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
  it('adds remote-secret peers: by context when one matches the server, else via the secret', async () => {
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
    const { readers, notes } = await connectClusters({ kubeconfigPath: file, istioNamespace: 'istio-system' });
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
