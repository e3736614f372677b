import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { issueCert } from '../../src/lab/pki.ts';
import type { IssuedCert } from '../../src/lab/pki.ts';
import { parseRedacted, publicKeySpkiSha256, REDACTED } from '../../src/cluster/redact.ts';
import { TOO_DEEP } from '../../src/cluster/projection.ts';
import { MAX_SNAPSHOT_FILE_BYTES, openSnapshot } from '../../src/cluster/snapshot.ts';
import { SnapshotError } from '../../src/cluster/snapshot-format.ts';
import { writeSnapshot } from '../../src/cluster/snapshot-writer.ts';
import { AccessError, type KubeObject } from '../../src/cluster/types.ts';
import { memoryReader } from './helpers/memory-reader.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'meshdoctor-snap-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const fromB64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** A JWT-shaped token with a recognisable signature. */
const jwtPayload = Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:istio-system:istio-reader-service-account', exp: 2000000000 })).toString('base64url');
const token = `eyJhbGciOiJSUzI1NiJ9.${jwtPayload}.SIGNATURE-MUST-NOT-LEAK`;

function pod(namespace: string, name: string, labels: Record<string, string> = {}, containers = ['app']): KubeObject {
  // An injected workload carries the injector's status annotation (gateways, in istio-system, do not).
  const injected = containers.includes('istio-proxy') && namespace !== 'istio-system';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels, ...(injected ? { annotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}' } } : {}) },
    spec: { containers: containers.map((c) => ({ name: c })) },
    status: { phase: 'Running' },
  };
}

describe('snapshot writer -> reader round trip', () => {
  let root: IssuedCert;
  let ca: IssuedCert;
  beforeAll(async () => {
    root = await issueCert({ subject: 'CN=Root CA', isCa: true, keyAlgorithm: 'rsa-2048' });
    ca = await issueCert({ subject: 'CN=Intermediate CA', isCa: true, issuer: root });
  });

  function objects(): Record<string, KubeObject[]> {
    const remoteKubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: cluster2',
      '  cluster: {server: "https://10.0.0.2:6443", certificate-authority-data: "Q0E="}',
      'users:',
      '- name: cluster2',
      `  user: {token: "${token}"}`,
      'contexts:',
      '- name: cluster2',
      '  context: {cluster: cluster2, user: cluster2}',
      'current-context: cluster2',
    ].join('\n');
    return {
      namespaces: [{ metadata: { name: 'istio-system', labels: { 'topology.istio.io/network': 'network1' } } }],
      pods: [
        pod('istio-system', 'istiod-abc', { app: 'istiod', 'istio.io/rev': '1-24' }, ['discovery']),
        pod('istio-system', 'istio-eastwestgateway-1', { app: 'istio-eastwestgateway' }, ['istio-proxy']),
        pod('sample', 'helloworld-1', { app: 'helloworld' }, ['helloworld', 'istio-proxy']),
        pod('sample', 'plain', {}, ['app']),
      ],
      secrets: [
        {
          metadata: {
            namespace: 'istio-system',
            name: 'cacerts',
            annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"data":{"ca-key.pem":"${b64(ca.keyPem)}"}}` },
          },
          type: 'Opaque',
          data: {
            'ca-cert.pem': b64(ca.certPem),
            'ca-key.pem': b64(ca.keyPem),
            'cert-chain.pem': b64(ca.certPem + root.certPem),
            'root-cert.pem': b64(root.certPem),
          },
        },
        {
          metadata: { namespace: 'istio-system', name: 'istio-remote-secret-cluster2', labels: { 'istio/multiCluster': 'true' } },
          data: { cluster2: b64(remoteKubeconfig) },
        },
        // The --type=config form of an external control plane: redacted the same way.
        { metadata: { namespace: 'external-istiod', name: 'istio-kubeconfig' }, data: { config: b64(remoteKubeconfig) } },
        { metadata: { namespace: 'istio-system', name: 'db-password' }, data: { password: b64('hunter2-very-secret') } },
        // An application's secret: istiod never reads it, so neither is it captured.
        { metadata: { namespace: 'sample', name: 'app-credentials' }, data: { password: b64('app-secret-never-read') } },
      ],
      // The external istiod beside its istio-kubeconfig (its namespace's secrets are what it reads).
      deployments: [{ metadata: { namespace: 'external-istiod', name: 'istiod', labels: { app: 'istiod' } }, spec: { template: { spec: { containers: [{ name: 'discovery', env: [{ name: 'EXTERNAL_ISTIOD', value: 'true' }] }] } } } }],
    };
  }

  it('writes what the reader reads back, redacted', async () => {
    const dir = path.join(await tempDir(), 'snap');
    const reader = memoryReader({
      name: 'cluster1',
      context: 'kind-cluster1',
      objects: objects(),
      forbidden: ['nodes'],
      istiod: { syncz: [{ pod: 'istiod-abc', namespace: 'istio-system', revision: '1-24', body: '[{"cluster_id":"cluster1"}]' }] },
      sidecars: {
        'sample/helloworld-1/clusters': 'outbound|5000||helloworld.sample.svc.cluster.local::default_priority::max_connections::4294967295\n',
        'sample/helloworld-1/certs': '{"certificates":[]}',
        'istio-system/istio-eastwestgateway-1/server_info': '{"state":"LIVE"}',
      },
    });
    const result = await writeSnapshot(dir, { capturedAt: new Date('2026-05-01T10:00:00Z'), istioNamespace: 'istio-system', clusters: [reader] });
    expect(result.skipped.map((s) => s.what)).toContain('nodes');

    const snapshot = await openSnapshot(dir);
    expect(snapshot.capturedAt.toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(snapshot.istioNamespace).toBe('istio-system');
    const [c1] = snapshot.clusters;
    expect(c1).toMatchObject({ name: 'cluster1', context: 'kind-cluster1', live: false, via: 'snapshot' });

    // Objects come back with kind, in namespace order; scope filters.
    const pods = await c1.list('pods');
    expect(pods.map((p) => `${p.kind}:${p.metadata.namespace}/${p.metadata.name}`)).toEqual([
      'Pod:istio-system/istio-eastwestgateway-1',
      'Pod:istio-system/istiod-abc',
      'Pod:sample/helloworld-1',
      'Pod:sample/plain',
    ]);
    expect((await c1.list('pods', { namespace: 'sample' })).length).toBe(2);
    expect(await c1.list('gateways')).toEqual([]);
    expect(await c1.listOptional('virtualservices')).toEqual([]);
    // A kind forbidden at capture stays forbidden offline (a check skips instead of seeing "none").
    await expect(c1.list('nodes')).rejects.toMatchObject({ name: 'AccessError', reason: 'forbidden' });

    // istiod debug: revision from the pod object's label.
    expect(await c1.istiodDebug('syncz')).toEqual([{ pod: 'istiod-abc', namespace: 'istio-system', revision: '1-24', body: '[{"cluster_id":"cluster1"}]' }]);
    expect(await c1.istiodDebug('registryz')).toEqual([]);

    // Sidecar admin: captured outputs; others not-found.
    expect(await c1.sidecarAdmin({ namespace: 'sample', name: 'helloworld-1' }, 'certs')).toBe('{"certificates":[]}');
    expect(await c1.sidecarAdmin({ namespace: 'sample', name: 'helloworld-1' }, 'clusters')).toContain('outbound|5000');
    await expect(c1.sidecarAdmin({ namespace: 'sample', name: 'plain' }, 'certs')).rejects.toMatchObject({ reason: 'not-found' });
    await expect(c1.exec({ namespace: 'sample', name: 'plain' }, 'app', ['true'])).rejects.toMatchObject({ reason: 'offline', cluster: 'cluster1' });
    expect(await c1.version()).toBeUndefined();

    // Redaction: certificates kept, private key reduced to its fingerprint, other values REDACTED.
    const secrets = await c1.list('secrets');
    const cacerts = secrets.find((s) => s.metadata.name === 'cacerts')!;
    expect(fromB64(cacerts.data['ca-cert.pem'])).toBe(ca.certPem);
    expect(fromB64(cacerts.data['root-cert.pem'])).toBe(root.certPem);
    expect(parseRedacted(cacerts.data['ca-key.pem'])?.spkiSha256).toBe(publicKeySpkiSha256(ca.certPem));
    expect(cacerts.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
    expect(secrets.find((s) => s.metadata.name === 'db-password')!.data.password).toBe(REDACTED);
    expect(secrets.map((s) => s.metadata.namespace).filter((ns) => ns !== 'istio-system' && ns !== 'external-istiod')).toEqual([]);
    const remote = fromB64(secrets.find((s) => s.metadata.name === 'istio-remote-secret-cluster2')!.data.cluster2);
    expect(remote).toContain('https://10.0.0.2:6443');
    const redactedToken = (parseYaml(remote) as { users: { user: { token: string } }[] }).users[0].user.token;
    expect(parseRedacted(redactedToken)?.jwtClaims).toMatchObject({ exp: 2000000000 });
    const config = fromB64(secrets.find((s) => s.metadata.name === 'istio-kubeconfig')!.data.config);
    expect(config).toContain('https://10.0.0.2:6443');
    expect(parseRedacted((parseYaml(config) as { users: { user: { token: string } }[] }).users[0].user.token)?.jwtClaims).toMatchObject({ exp: 2000000000 });

    // No written byte holds a private key, the token, its signature or the password.
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    const everything = (await Promise.all(files.map((f) => readFile(path.join(f.parentPath, f.name), 'utf8')))).join('\n');
    for (const secret of ['PRIVATE KEY', b64(ca.keyPem).slice(0, 40), token, 'SIGNATURE-MUST-NOT-LEAK', 'hunter2', b64('hunter2-very-secret'), 'app-credentials', b64('app-secret-never-read')]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('captures each sidecar\'s SDS secrets as config_dump.json, private keys redacted even when Envoy did not', async () => {
    const dir = path.join(await tempDir(), 'snap');
    const base = memoryReader({ name: 'cluster1', objects: objects() });
    const b64text = (text: string) => Buffer.from(text).toString('base64');
    const dump = {
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
          name: 'default',
          secret: { name: 'default', tls_certificate: { certificate_chain: { inline_bytes: b64text(ca.certPem) }, private_key: { inline_bytes: b64text(ca.keyPem) } } },
        },
        { '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret', name: 'ROOTCA', secret: { name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: root.certPem } } } },
      ],
    };
    const commands: string[][] = [];
    const reader = {
      ...base,
      exec: async (_pod: unknown, container: string, command: string[]) => {
        commands.push([container, ...command]);
        return { exitCode: 0, stdout: JSON.stringify(dump), stderr: '' };
      },
    };
    await writeSnapshot(dir, { capturedAt: new Date('2026-05-01T10:00:00Z'), istioNamespace: 'istio-system', clusters: [reader] });
    expect(commands).toContainEqual(['istio-proxy', 'pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_active_secrets']);
    const [c1] = (await openSnapshot(dir)).clusters;
    const written = JSON.parse(await c1.sidecarAdmin({ namespace: 'sample', name: 'helloworld-1' }, 'config_dump'));
    expect(written.configs[0].secret.tls_certificate.private_key).toEqual({ inline_string: '[redacted]' });
    // The secrets read (what certificates/workload asks for) is answered offline by the captured config_dump.
    expect(await c1.sidecarAdmin({ namespace: 'sample', name: 'helloworld-1' }, 'secrets')).toBe(await c1.sidecarAdmin({ namespace: 'sample', name: 'helloworld-1' }, 'config_dump'));
    expect(Buffer.from(written.configs[0].secret.tls_certificate.certificate_chain.inline_bytes, 'base64').toString()).toBe(ca.certPem);
    expect(written.configs[1].secret.validation_context.trusted_ca.inline_string).toBe(root.certPem);
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    const everything = (await Promise.all(files.map((f) => readFile(path.join(f.parentPath, f.name), 'utf8')))).join('\n');
    expect(everything).not.toContain(b64text(ca.keyPem).slice(0, 40));
    expect(everything).not.toContain('PRIVATE KEY');
  });

  it('captures each istiod pod\'s discovery.log with bearer tokens, certificates and private keys redacted', async () => {
    const dir = path.join(await tempDir(), 'snap');
    const base = memoryReader({ name: 'cluster1', objects: objects() });
    const text = [
      `2026-05-01T09:59:00.000000Z\terror\tkube\tremote cluster cluster2 failed to sync after 30s: Authorization: Bearer ${token}`,
      `2026-05-01T09:59:01.000000Z\tinfo\tkube\tkubeconfig users: token: ${token}`,
      `2026-05-01T09:59:02.000000Z\tinfo\tca\tloaded root\n${root.certPem}\n${ca.keyPem}`,
    ].join('\n');
    const reader = { ...base, istiodLogs: async () => [{ pod: 'istiod-abc', namespace: 'istio-system', revision: 'default', text }] };
    await writeSnapshot(dir, { capturedAt: new Date('2026-05-01T10:00:00Z'), istioNamespace: 'istio-system', clusters: [reader] });
    const written = await readFile(path.join(dir, 'clusters', 'cluster1', 'istiod', 'istiod-abc', 'discovery.log'), 'utf8');
    expect(written).toContain('failed to sync after 30s');
    expect(written).not.toContain('SIGNATURE-MUST-NOT-LEAK');
    expect(written).not.toContain(jwtPayload);
    expect(written).not.toContain('-----BEGIN');
    const [c1] = (await openSnapshot(dir)).clusters;
    expect((await c1.istiodLogs()).map((l) => [l.pod, l.text])).toEqual([['istiod-abc', written]]);
  });

  it('records every file\'s sha256; a file cut short or missing is refused, an intact one opens', async () => {
    const dir = await tempDir();
    const reader = memoryReader({ name: 'cluster1', objects: { pods: [pod('sample', 'a'), pod('sample', 'b')], namespaces: [{ metadata: { name: 'sample' } }] } });
    await writeSnapshot(dir, { capturedAt: new Date('2026-11-20T10:00:00Z'), istioNamespace: 'istio-system', clusters: [reader] });
    const manifest = JSON.parse(await readFile(path.join(dir, 'meshdoctor-snapshot.json'), 'utf8')) as { files: Record<string, string> };
    expect(manifest.files['clusters/cluster1/resources/pods.yaml']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await (await openSnapshot(dir)).clusters[0].list('pods')).map((p) => p.metadata.name)).toEqual(['a', 'b']);

    const pods = path.join(dir, 'clusters', 'cluster1', 'resources', 'pods.yaml');
    const text = await readFile(pods, 'utf8');
    await writeFile(pods, text.slice(0, text.lastIndexOf('\n  - ') + 1)); // one item fewer, still valid YAML
    await expect(openSnapshot(dir)).rejects.toThrow(/pods\.yaml: differs from what was captured/);
    await rm(pods);
    await expect(openSnapshot(dir)).rejects.toThrow(/pods\.yaml: missing \(listed in meshdoctor-snapshot\.json\)/);
  });

  it('a kind that failed with 500 reads back as a failure, not as none; an unreachable cluster as unreachable', async () => {
    const dir = await tempDir();
    const flaky = memoryReader({ name: 'cluster1', objects: { namespaces: [{ metadata: { name: 'sample' } }] } });
    const failing = { ...flaky, listOptional: async (kind: Parameters<typeof flaky.list>[0], scope?: Parameters<typeof flaky.list>[1]) => {
      if (kind === 'pods') throw new AccessError('bad-response', 'cluster1', 'HTTP 500 listing pods');
      return flaky.list(kind, scope);
    } };
    const down = memoryReader({ name: 'cluster2', objects: {} });
    const unreachable = { ...down, listOptional: async () => {
      throw new AccessError('unreachable', 'cluster2', 'connect ECONNREFUSED 127.0.0.1:1');
    }, istiodDebug: async () => {
      throw new AccessError('unreachable', 'cluster2', 'connect ECONNREFUSED 127.0.0.1:1');
    } };
    const result = await writeSnapshot(dir, { capturedAt: new Date(), istioNamespace: 'istio-system', clusters: [failing, unreachable] });
    expect(result.unreachable).toEqual([{ cluster: 'cluster2', reason: 'connect ECONNREFUSED 127.0.0.1:1' }]);
    const snapshot = await openSnapshot(dir);
    await expect(snapshot.clusters[0].list('pods')).rejects.toMatchObject({ reason: 'bad-response' });
    expect(await snapshot.clusters[0].list('namespaces')).toHaveLength(1);
    await expect(snapshot.clusters[1].list('namespaces')).rejects.toMatchObject({ reason: 'unreachable' });
  });

  it('refuses to write into a non-empty directory', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'something'), 'x');
    await expect(writeSnapshot(dir, { capturedAt: new Date(), istioNamespace: 'istio-system', clusters: [] })).rejects.toBeInstanceOf(SnapshotError);
  });
});

describe('snapshot reader', () => {
  async function makeSnapshot(files: Record<string, string>): Promise<string> {
    const dir = await tempDir();
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
    return dir;
  }
  const manifest = (clusters = [{ name: 'c1' }]): string =>
    JSON.stringify({ version: 1, capturedAt: '2026-05-01T10:00:00Z', istioNamespace: 'istio-system', clusters });

  describe('reads nothing beyond the snapshot: links and special files are refused before anything is read', () => {
    const podYaml = 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: sample}\n';
    async function refusal(dir: string): Promise<SnapshotError> {
      const err = await openSnapshot(dir).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SnapshotError);
      return err as SnapshotError;
    }

    it('a resource file linked to the operator\'s own file', async () => {
      const outside = await makeSnapshot({ 'manifests/secret.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: operators-own, namespace: sample}\n' });
      const dir = await makeSnapshot({ 'meshdoctor-snapshot.json': manifest(), 'clusters/c1/resources/pods.yaml': podYaml });
      await symlink(path.join(outside, 'manifests/secret.yaml'), path.join(dir, 'clusters/c1/resources/more.yaml'));
      expect((await refusal(dir)).message).toContain(path.join(dir, 'clusters/c1/resources/more.yaml'));
    });

    it('a cluster directory linked elsewhere, and the manifest itself', async () => {
      const outside = await makeSnapshot({ 'resources/pods.yaml': podYaml });
      const dir = await makeSnapshot({ 'meshdoctor-snapshot.json': manifest() });
      await mkdir(path.join(dir, 'clusters'));
      await symlink(outside, path.join(dir, 'clusters/c1'));
      expect((await refusal(dir)).message).toContain(path.join(dir, 'clusters/c1'));

      const other = await makeSnapshot({ 'clusters/c1/resources/pods.yaml': podYaml });
      await symlink(path.join(dir, 'meshdoctor-snapshot.json'), path.join(other, 'meshdoctor-snapshot.json'));
      expect((await refusal(other)).message).toContain('meshdoctor-snapshot.json');
    });

    it('/dev/zero as a sidecar\'s output, a FIFO as istiod\'s: refused at once, neither read nor waited on', async () => {
      const dir = await makeSnapshot({ 'meshdoctor-snapshot.json': manifest(), 'clusters/c1/resources/pods.yaml': podYaml });
      await mkdir(path.join(dir, 'clusters/c1/proxies/sample/a'), { recursive: true });
      await symlink('/dev/zero', path.join(dir, 'clusters/c1/proxies/sample/a/clusters.txt'));
      await refusal(dir);
      await rm(path.join(dir, 'clusters/c1/proxies'), { recursive: true });
      await mkdir(path.join(dir, 'clusters/c1/istiod/istiod-1'), { recursive: true });
      execFileSync('mkfifo', [path.join(dir, 'clusters/c1/istiod/istiod-1/registryz.json')]);
      expect((await refusal(dir)).message).toContain('registryz.json');
    });

    it('an object nested deeper than MAX_OBJECT_DEPTH is cut there, and the snapshot still opens and writes again', async () => {
      const levels = 9_999;
      const deep = `{"apiVersion":"networking.istio.io/v1","kind":"Gateway","metadata":{"namespace":"istio-system","name":"deep"},"spec":{},"status":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
      const dir = await makeSnapshot({ 'meshdoctor-snapshot.json': manifest(), 'clusters/c1/resources/gateways.json': deep });
      const snapshot = await openSnapshot(dir);
      const [gateway] = await snapshot.clusters[0].list('gateways');
      expect(JSON.stringify(gateway)).toContain(JSON.stringify(TOO_DEEP));
      const again = await tempDir();
      await writeSnapshot(again, { capturedAt: snapshot.capturedAt, istioNamespace: 'istio-system', clusters: snapshot.clusters });
      expect((await (await openSnapshot(again)).clusters[0].list('gateways')).map((g) => g.metadata.name)).toEqual(['deep']);
    });

    it('a file larger than any snapshot holds (sparse, so the test writes nothing)', async () => {
      const dir = await makeSnapshot({ 'meshdoctor-snapshot.json': manifest(), 'clusters/c1/resources/pods.yaml': podYaml });
      await writeFile(path.join(dir, 'clusters/c1/resources/huge.yaml'), '');
      await truncate(path.join(dir, 'clusters/c1/resources/huge.yaml'), MAX_SNAPSHOT_FILE_BYTES + 1);
      expect((await refusal(dir)).message).toContain('huge.yaml');
      await truncate(path.join(dir, 'clusters/c1/resources/huge.yaml'), 0);
      expect((await (await openSnapshot(dir)).clusters[0].list('pods')).map((p) => p.metadata.name)).toEqual(['a']);
    });
  });

  it('reads kubectl `get -o yaml` List output, multi-document YAML, JSON and typed lists', async () => {
    const dir = await makeSnapshot({
      'meshdoctor-snapshot.json': manifest(),
      'clusters/c1/resources/kubectl-get.yaml': [
        'apiVersion: v1',
        'items:',
        '- apiVersion: v1',
        '  kind: Service',
        '  metadata: {name: istiod, namespace: istio-system}',
        '- apiVersion: networking.istio.io/v1',
        '  kind: Gateway',
        '  metadata: {name: cross-network-gateway, namespace: istio-system}',
        '- apiVersion: gateway.networking.k8s.io/v1',
        '  kind: Gateway',
        '  metadata: {name: k8s-gw, namespace: istio-system}',
        'kind: List',
        'metadata:',
        '  resourceVersion: ""',
      ].join('\n'),
      'clusters/c1/resources/sub/dir/multi.yml': '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n---\n',
      'clusters/c1/resources/pods.json': JSON.stringify({ apiVersion: 'v1', kind: 'PodList', items: [{ metadata: { name: 'p', namespace: 'x' } }] }),
      'clusters/c1/resources/other.yaml': 'apiVersion: example.com/v1\nkind: Unrelated\nmetadata: {name: ignored}\n',
      'clusters/c1/resources/notes.txt': 'not a resource file',
    });
    const [c1] = (await openSnapshot(dir)).clusters;
    expect((await c1.list('services')).map((s) => s.metadata.name)).toEqual(['istiod']);
    expect((await c1.list('gateways')).map((s) => s.metadata.name)).toEqual(['cross-network-gateway']);
    expect((await c1.list('k8sgateways')).map((s) => s.metadata.name)).toEqual(['k8s-gw']);
    expect((await c1.list('namespaces')).map((s) => s.metadata.name)).toEqual(['a', 'b']);
    expect(await c1.list('pods')).toMatchObject([{ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p' } }]);
  });

  it('serves istiod output of pods without a pod object as revision default, and keeps REDACTED values', async () => {
    const dir = await makeSnapshot({
      'meshdoctor-snapshot.json': manifest(),
      'clusters/c1/resources/s.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: istio-system}\ndata: {token: REDACTED}\n',
      'clusters/c1/istiod/istiod-1/registryz.json': '[]',
      'clusters/c1/istiod/istiod-2/registryz.json': '[{}]',
      'clusters/c1/istiod/istiod-2/syncz.json': '[]',
    });
    const [c1] = (await openSnapshot(dir)).clusters;
    expect((await c1.istiodDebug('registryz')).map((o) => [o.pod, o.revision, o.body])).toEqual([
      ['istiod-1', 'default', '[]'],
      ['istiod-2', 'default', '[{}]'],
    ]);
    expect((await c1.istiodDebug('syncz')).map((o) => o.pod)).toEqual(['istiod-2']);
    expect((await c1.list('secrets'))[0].data.token).toBe('REDACTED');
  });

  const errorCases: [string, Record<string, string> | undefined, RegExp][] = [
    ['missing directory', undefined, /not found or not a directory/],
    ['missing manifest', { 'clusters/c1/x.yaml': '' }, /meshdoctor-snapshot\.json: missing/],
    ['invalid manifest JSON', { 'meshdoctor-snapshot.json': '{nope' }, /meshdoctor-snapshot\.json: invalid JSON/],
    ['unsupported version', { 'meshdoctor-snapshot.json': JSON.stringify({ version: 2, capturedAt: '2026-01-01T00:00:00Z', clusters: [{ name: 'c1' }] }) }, /unsupported version 2/],
    ['bad capturedAt', { 'meshdoctor-snapshot.json': JSON.stringify({ version: 1, capturedAt: 'yesterday', clusters: [{ name: 'c1' }] }) }, /capturedAt/],
    ['no clusters', { 'meshdoctor-snapshot.json': JSON.stringify({ version: 1, capturedAt: '2026-01-01T00:00:00Z', clusters: [] }) }, /"clusters"/],
    ['cluster dir missing', { 'meshdoctor-snapshot.json': manifest([{ name: 'c1' }, { name: 'c2' }]), 'clusters/c1/resources/a.yaml': '' }, /clusters\/c2: missing/],
    ['bad YAML', { 'meshdoctor-snapshot.json': manifest(), 'clusters/c1/resources/bad.yaml': 'kind: [unclosed\n' }, /resources\/bad\.yaml: invalid YAML/],
    ['bad JSON resource', { 'meshdoctor-snapshot.json': manifest(), 'clusters/c1/resources/bad.json': '{' }, /resources\/bad\.json: invalid JSON/],
    ['object without kind', { 'meshdoctor-snapshot.json': manifest(), 'clusters/c1/resources/a.yaml': 'metadata: {name: x}\n' }, /a\.yaml: object without apiVersion and kind/],
    ['object without name', { 'meshdoctor-snapshot.json': manifest(), 'clusters/c1/resources/a.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {}\n' }, /a\.yaml: Pod without metadata\.name/],
  ];
  it.each(errorCases)('%s -> one-line SnapshotError', async (_label, files, message) => {
    const dir = files ? await makeSnapshot(files) : path.join(await tempDir(), 'absent');
    const error = await openSnapshot(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});
