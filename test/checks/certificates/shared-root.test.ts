import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/shared-root.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, objectsOf, openFixture, runCheck, runFor } from '../helpers.ts';
import { findingTuples, setIstioVersion } from './ca-material.ts';

const FINGERPRINT_PREFIX = /^[0-9a-f]{2}(:[0-9a-f]{2}){7}$/;

describe('certificates/shared-root', () => {
  it('passes on multi-primary-healthy and attaches each cluster\'s root', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    const roots = runFor(runs, '*').data.roots as Record<string, { fingerprint: string; subject: string; notAfter: string; source: string }>;
    expect(Object.keys(roots)).toEqual(['cluster1', 'cluster2']);
    expect(roots.cluster1.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(roots.cluster1.fingerprint).toBe(roots.cluster2.fingerprint);
    expect(roots.cluster1).toMatchObject({ subject: 'O=Istio, CN=Root CA', notAfter: '2036-01-01T00:00:00.000Z', source: 'cacerts' });
  });

  it('passes on primary-remote-healthy: the remote trusts what the primary distributes', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect((runFor(runs, '*').data.roots as Record<string, { source: string }>).cluster2.source).toBe('istio-ca-root-cert');
  });

  it('root-mismatch: cluster2 chains to another root (same subject, other key)', async () => {
    const { runs } = await runCheck(check, (await openFixture('root-mismatch')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster2:rootMismatch']);
    const finding = runFor(runs, '*').findings[0];
    expect(finding.resource).toEqual({ kind: 'Secret', namespace: 'istio-system', name: 'cacerts' });
    expect(finding.data?.root).toMatch(FINGERPRINT_PREFIX);
    expect(finding.data?.peers).toMatch(/^cluster1 \(root [0-9a-f:]+\)$/);
    const roots = runFor(runs, '*').data.roots as Record<string, { fingerprint: string }>;
    expect(roots.cluster1.fingerprint).not.toBe(roots.cluster2.fingerprint);
  });

  it('cacerts-missing: istiod\'s self-signed root differs from the plugged-in one', async () => {
    const { runs } = await runCheck(check, (await openFixture('cacerts-missing')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster2:rootMismatch']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ source: 'istio-ca-secret', subject: 'O=cluster.local' });
  });

  it('a root-cert.pem bundle holding both roots counts as shared trust', async () => {
    const objects = await fixtureObjects('root-mismatch');
    const c1 = objectNamed(objects, 'cluster1', 'secrets', 'cacerts');
    const c2 = objectNamed(objects, 'cluster2', 'secrets', 'cacerts');
    const bundle = Buffer.from(Buffer.from(c1.data['root-cert.pem'], 'base64').toString() + Buffer.from(c2.data['root-cert.pem'], 'base64').toString()).toString('base64');
    c1.data['root-cert.pem'] = bundle;
    // Only one side trusting the other is still a mismatch.
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual(['cluster2:rootMismatch']);
    c2.data['root-cert.pem'] = bundle;
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual([]);
  });

  it('accepts the tls.crt/tls.key/ca.crt form of cacerts', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const secret = objectNamed(objects, 'cluster2', 'secrets', 'cacerts');
    secret.data = { 'tls.crt': secret.data['ca-cert.pem'], 'tls.key': secret.data['ca-key.pem'], 'ca.crt': secret.data['root-cert.pem'] };
    secret.type = 'kubernetes.io/tls';
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual([]);
  });

  it('secrets-forbidden: reads the ConfigMap instead and says so (info)', async () => {
    const { runs } = await runCheck(check, (await openFixture('secrets-forbidden')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster2:rootFromConfigMap']);
    expect(runFor(runs, '*').findings[0].resource).toEqual({ kind: 'ConfigMap', namespace: 'istio-system', name: 'istio-ca-root-cert' });
    expect((runFor(runs, '*').data.roots as Record<string, { source: string }>).cluster2.source).toBe('istio-ca-root-cert');
  });

  it('rootUnreadable: Secrets and ConfigMaps both forbidden', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const readers = memoryReaders(objects, { cluster2: { failing: { secrets: 'forbidden', configmaps: 'forbidden' } } });
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).toEqual(['cluster2:rootUnreadable']);
  });

  it('rootMissing: no CA Secret and no root ConfigMap', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    objects.get('cluster2')!.secrets = objectsOf(objects, 'cluster2', 'secrets').filter((s) => s.metadata.name !== 'cacerts');
    objects.get('cluster2')!.configmaps = objectsOf(objects, 'cluster2', 'configmaps').filter((c) => c.metadata.name !== 'istio-ca-root-cert');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:rootMissing']);
  });

  it('rootUnparseable: a root-cert.pem that is not a certificate', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const pem = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    objectNamed(objects, 'cluster1', 'secrets', 'cacerts').data['root-cert.pem'] = Buffer.from(pem).toString('base64');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:rootUnparseable']);
    expect(runFor(runs, '*').findings[0].data).toMatchObject({ object: 'secret/cacerts' });
  });

  it('ignores unreachable clusters', async () => {
    const objects = await fixtureObjects('root-mismatch');
    const { runs } = await runCheck(check, memoryReaders(objects, { cluster2: { failAll: 'unreachable' } }));
    expect(findingKeys(runs)).toEqual([]);
  });

  it('cacerts without ca-key.pem: istiod before 1.27 signs with istio-ca-secret (judged), 1.27+ would use cacerts', async () => {
    const objects = await fixtureObjects('cacerts-missing');
    const plugged = structuredClone(objectNamed(objects, 'cluster1', 'secrets', 'cacerts'));
    plugged.metadata.namespace = 'istio-system';
    delete plugged.data['ca-key.pem'];
    objects.get('cluster2')!.secrets = [...(objects.get('cluster2')!.secrets ?? []), plugged];
    setIstioVersion(objects, 'cluster2', '1.26.2');
    const old = await runCheck(check, memoryReaders(objects));
    expect(findingTuples(check, old.runs)).toEqual([['certificates/shared-root', 'rootMismatch', 'cluster2', 'error']]);
    expect(runFor(old.runs, '*').findings[0].data).toMatchObject({ source: 'istio-ca-secret' });
    setIstioVersion(objects, 'cluster2', '1.27.0');
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual([]);
  });

  it('Secrets forbidden during a rotation: a ConfigMap bundling [old, new] roots shares trust when any root is trusted', async () => {
    const objects = await fixtureObjects('root-mismatch');
    const c1 = objectNamed(objects, 'cluster1', 'secrets', 'cacerts');
    const c2 = objectNamed(objects, 'cluster2', 'secrets', 'cacerts');
    const text = (s: typeof c1) => Buffer.from(s.data['root-cert.pem'], 'base64').toString();
    // cluster1 trusts both roots; cluster2 (Secrets forbidden) distributes [its old root, cluster1's root].
    c1.data['root-cert.pem'] = Buffer.from(text(c1) + text(c2)).toString('base64');
    const configMap = objectsOf(objects, 'cluster2', 'configmaps').find((c) => c.metadata.name === 'istio-ca-root-cert' && c.metadata.namespace === 'istio-system')!;
    configMap.data = { 'root-cert.pem': text(c2) + text(c1) };
    const readers = memoryReaders(objects, { cluster2: { failing: { secrets: 'forbidden' } } });
    const { runs } = await runCheck(check, readers);
    expect(findingTuples(check, runs)).toEqual([['certificates/shared-root', 'rootFromConfigMap', 'cluster2', 'info']]);
  });
});
