import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  decodeTokenClaims,
  expectedPeers,
  findRemoteSecrets,
  isLoopbackServer,
  parseRemoteKubeconfig,
  RemoteKubeconfigError,
  remoteSecretClusterIds,
  sameServer,
} from '../../src/mesh/remote-secrets.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const jwt = (payload: object) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
const kubeconfig = (user: object, cluster: object = { server: 'https://10.0.0.2:6443', 'certificate-authority-data': b64('PEM') }) =>
  YAML.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'c', clusters: [{ name: 'c', cluster }], contexts: [{ name: 'c', context: { cluster: 'c', user: 'c' } }], users: [{ name: 'c', user }] });

describe('remote secrets', () => {
  it('finds labelled secrets in the istio namespace (one entry per key) and the --type=config form anywhere', () => {
    const secrets = [
      { metadata: { name: 'istio-remote-secret-b', namespace: 'istio-system', labels: { 'istio/multiCluster': 'true' } }, data: { b: b64('x'), c: b64('y') } },
      { metadata: { name: 'unlabelled', namespace: 'istio-system' }, data: { d: b64('x') } },
      { metadata: { name: 'labelled-elsewhere', namespace: 'default', labels: { 'istio/multiCluster': 'true' } }, data: { e: b64('x') } },
      { metadata: { name: 'istio-kubeconfig', namespace: 'external-istiod' }, data: { config: b64('z') } },
    ];
    expect(findRemoteSecrets(secrets, 'istio-system').map((e) => [e.secretName, e.key, e.kind, e.kubeconfig])).toEqual([
      ['external-istiod/istio-kubeconfig', 'config', 'config', 'z'],
      ['istio-system/istio-remote-secret-b', 'b', 'remote', 'x'],
      ['istio-system/istio-remote-secret-b', 'c', 'remote', 'y'],
    ]);
  });

  it('cluster ids: a remote secret\'s data keys; an istio-kubeconfig the CLUSTER_ID of the istiod beside it (default Kubernetes), none without one', () => {
    const istiod = (namespace: string, env: { name: string; value: string }[]) => ({
      metadata: { name: 'istiod', namespace, labels: { app: 'istiod' } },
      spec: { template: { spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.24.2', env }] } } },
    });
    const secrets = [
      { metadata: { name: 'istio-remote-secret-b', namespace: 'istio-system', labels: { 'istio/multiCluster': 'true' } }, data: { b: b64('x') } },
      { metadata: { name: 'istio-kubeconfig', namespace: 'external-istiod' }, data: { config: b64('z') } },
      { metadata: { name: 'istio-kubeconfig', namespace: 'unset-istiod' }, data: { config: b64('z') } },
      { metadata: { name: 'istio-kubeconfig', namespace: 'nobody' }, data: { config: b64('z') } },
    ];
    const deployments = [istiod('external-istiod', [{ name: 'CLUSTER_ID', value: 'remote1' }]), istiod('unset-istiod', [])];
    expect([...remoteSecretClusterIds(findRemoteSecrets(secrets, 'istio-system'), deployments)]).toEqual([
      ['remote1', 'external-istiod/istio-kubeconfig'],
      ['b', 'istio-system/istio-remote-secret-b'],
      ['Kubernetes', 'unset-istiod/istio-kubeconfig'],
    ]);
  });

  it('parses server, CA and token of the current context', () => {
    const parsed = parseRemoteKubeconfig(kubeconfig({ token: 'abc' }));
    expect(parsed).toMatchObject({ server: 'https://10.0.0.2:6443', caPem: 'PEM', token: 'abc', disallowed: [], userFields: { token: 'abc' } });
    expect(parsed.caFile).toBeUndefined();
  });

  it('refuses what istiod sanitizes since 1.13, unless allowlisted; oidc is fine', () => {
    expect(parseRemoteKubeconfig(kubeconfig({ exec: { command: 'gke-gcloud-auth-plugin' } })).disallowed).toEqual(['exec']);
    expect(parseRemoteKubeconfig(kubeconfig({ exec: { command: 'x' } }), ['exec']).disallowed).toEqual([]);
    expect(parseRemoteKubeconfig(kubeconfig({ 'auth-provider': { name: 'gcp' } })).disallowed).toEqual(['auth-provider gcp']);
    expect(parseRemoteKubeconfig(kubeconfig({ 'auth-provider': { name: 'oidc' } })).disallowed).toEqual([]);
    expect(parseRemoteKubeconfig(kubeconfig({ tokenFile: '/var/run/t', 'client-certificate': '/c', 'client-key': '/k' })).disallowed).toEqual(['tokenFile', 'client-certificate', 'client-key']);
    const withCaFile = parseRemoteKubeconfig(kubeconfig({ token: 't' }, { server: 'https://x', 'certificate-authority': '/ca.crt' }));
    // Not a sanitizer refusal: a load failure in every version, kept apart from `disallowed`.
    expect(withCaFile.caFile).toBe('/ca.crt');
    expect(withCaFile.disallowed).toEqual([]);
  });

  it('throws RemoteKubeconfigError for garbage', () => {
    expect(() => parseRemoteKubeconfig('[1, 2')).toThrow(RemoteKubeconfigError);
    expect(() => parseRemoteKubeconfig('just text')).toThrow(/not a kubeconfig/);
    expect(() => parseRemoteKubeconfig(YAML.stringify({ clusters: [] }))).toThrow(/no current-context/);
  });

  it('uses the current context only, as clientcmd does: no fallback to the first context, cluster or user', () => {
    const doc = YAML.parse(kubeconfig({ token: 't' }));
    const variant = (edit: (d: typeof doc) => void) => {
      const copy = structuredClone(doc);
      edit(copy);
      return YAML.stringify(copy);
    };
    expect(() => parseRemoteKubeconfig(variant((d) => delete d['current-context']))).toThrow(RemoteKubeconfigError);
    expect(() => parseRemoteKubeconfig(variant((d) => (d['current-context'] = 'gone')))).toThrow(/current-context gone names no context/);
    expect(() => parseRemoteKubeconfig(variant((d) => (d.contexts[0].context.cluster = 'other')))).toThrow(/cluster other, which is not in the file/);
    expect(() => parseRemoteKubeconfig(variant((d) => (d.contexts[0].context.user = 'other')))).toThrow(/user other, which is not in the file/);
    expect(() => parseRemoteKubeconfig(variant((d) => (d.clusters[0].cluster = { 'certificate-authority-data': 'eA==' })))).toThrow(/has no server/);
    // A context without a user is anonymous access, which clientcmd accepts.
    expect(parseRemoteKubeconfig(variant((d) => delete d.contexts[0].context.user)).token).toBeUndefined();
  });

  it('decodes bound and legacy service-account tokens without verifying them', () => {
    expect(decodeTokenClaims(jwt({ exp: 1_700_000_000, iss: 'https://kubernetes.default.svc', 'kubernetes.io': { namespace: 'istio-system', serviceaccount: { name: 'istio-reader-service-account' } } }))).toEqual({
      expiresAt: new Date(1_700_000_000_000),
      issuer: 'https://kubernetes.default.svc',
      serviceAccount: 'istio-system/istio-reader-service-account',
    });
    expect(decodeTokenClaims(jwt({ 'kubernetes.io/serviceaccount/namespace': 'istio-system', 'kubernetes.io/serviceaccount/service-account.name': 'r' }))).toEqual({ serviceAccount: 'istio-system/r' });
    expect(decodeTokenClaims('opaque-token')).toBeUndefined();
  });

  it('tells loopback servers and compares server URLs', () => {
    for (const s of ['https://127.0.0.1:6443', 'https://localhost', 'https://[::1]:443', 'https://127.8.0.1', 'https://0.0.0.0:6443']) expect(isLoopbackServer(s)).toBe(true);
    for (const s of ['https://10.0.0.1:6443', 'https://cluster2-control-plane:6443', 'not a url']) expect(isLoopbackServer(s)).toBe(false);
    // The ranges meshdoctor itself refuses to send credentials to (cluster/local-address.ts): the root's
    // trailing dot and 0.0.0.0/8 included; a link-local server is not judged (a node-local proxy may serve it).
    for (const s of ['https://localhost.:6443', 'https://api.localhost', 'https://0.1.2.3', 'https://2130706433']) expect(isLoopbackServer(s)).toBe(true);
    for (const s of ['https://169.254.20.10:6443', 'https://[fe80::1]:6443']) expect(isLoopbackServer(s)).toBe(false);
    // IPv4-mapped IPv6: URL parsing turns [::ffff:127.0.0.1] into [::ffff:7f00:1].
    for (const s of ['https://[::ffff:127.0.0.1]:6443', 'https://[::ffff:7f00:1]:6443', 'https://[::ffff:127.1.2.3]', 'https://[::ffff:0.0.0.0]']) expect(isLoopbackServer(s)).toBe(true);
    for (const s of ['https://[::ffff:10.0.0.1]:6443', 'https://[::ffff:a00:1]', 'https://[2001:db8::1]']) expect(isLoopbackServer(s)).toBe(false);
    expect(sameServer('https://API.example:443/', 'https://api.example')).toBe(true);
    expect(sameServer('https://a:6443', 'https://a:6444')).toBe(false);
  });

  it('expectedPeers: only a primary has peers; a cluster of unknown role needs no remote secrets', () => {
    const info = (name: string, role: 'primary' | 'remote' | 'unknown') => ({ name, clusterId: name, role, revisions: [], reachable: true, via: 'snapshot' as const });
    const infos = [info('a', 'primary'), info('b', 'primary'), info('c', 'unknown')];
    const mesh = { model: 'multi-primary' as const, multiNetwork: false };
    expect(expectedPeers(infos[0], infos, mesh).map((p) => p.name)).toEqual(['b']);
    expect(expectedPeers(infos[2], infos, mesh)).toEqual([]);
  });
});
