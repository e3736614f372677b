import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/cacerts.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, openFixture, runCheck, runFor } from '../helpers.ts';
import { createPrivateKey } from 'node:crypto';
import { cacertsData, findingTuples, rootAndIntermediate, setCacerts } from './ca-material.ts';

describe('certificates/cacerts', () => {
  it('passes on multi-primary-healthy', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('skips the remote of primary-remote-healthy', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, 'cluster2').skipped).toMatch(/remote cluster/);
  });

  it('cacertsMissing: cluster2 runs the self-signed istio-ca-secret', async () => {
    const { runs } = await runCheck(check, (await openFixture('cacerts-missing')).clusters);
    expect(findingKeys(runs)).toEqual(['cluster2:cacertsMissing']);
    expect(runFor(runs, 'cluster2').findings[0].severity).toBe('error');
  });

  it('cacertsMissing is only info in a single-cluster mesh', async () => {
    const [, cluster2] = (await openFixture('cacerts-missing')).clusters;
    const { runs } = await runCheck(check, [cluster2]);
    expect(runFor(runs, 'cluster2').findings.map((f) => [f.messageId, f.severity])).toEqual([['cacertsMissing', 'info']]);
  });

  it('cacertsIncomplete: ca-key.pem missing (istiod would ignore the Secret)', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    delete objectNamed(objects, 'cluster2', 'secrets', 'cacerts').data['ca-key.pem'];
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:cacertsIncomplete']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ missing: 'ca-key.pem', form: 'cacerts' });
    expect(runFor(runs, 'cluster2').findings[0].resource).toEqual({ kind: 'Secret', namespace: 'istio-system', name: 'cacerts' });
  });

  it('cacertsIncomplete: the tls form without ca.crt', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const secret = objectNamed(objects, 'cluster1', 'secrets', 'cacerts');
    secret.data = { 'tls.crt': secret.data['ca-cert.pem'], 'tls.key': secret.data['ca-key.pem'] };
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:cacertsIncomplete']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ missing: 'ca.crt', form: 'tls' });
  });

  it('accepts real keys in PKCS#8, PKCS#1 and SEC1, and the tls.crt/tls.key/ca.crt form', async () => {
    const ec = await rootAndIntermediate();
    const rsa = await rootAndIntermediate({ keyAlgorithm: 'rsa-2048' });
    const objects = await fixtureObjects('multi-primary-healthy');
    for (const data of [cacertsData(ec.root, ec.ca, 'sec1'), cacertsData(rsa.root, rsa.ca, 'pkcs1'), cacertsData(rsa.root, rsa.ca, 'pkcs8')]) {
      setCacerts(objects, 'cluster1', data);
      setCacerts(objects, 'cluster2', { 'tls.crt': data['cert-chain.pem'], 'tls.key': data['ca-key.pem'], 'ca.crt': data['root-cert.pem'] });
      expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual([]);
    }
  });

  it('cacertsUnparseable: a certificate that is not PEM', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    objectNamed(objects, 'cluster1', 'secrets', 'cacerts').data['ca-cert.pem'] = Buffer.from('not a certificate').toString('base64');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:cacertsUnparseable']);
  });

  it('caKeyUnreadable: an encrypted private key', async () => {
    const { root, ca } = await rootAndIntermediate();
    const objects = await fixtureObjects('multi-primary-healthy');
    setCacerts(objects, 'cluster1', { ...cacertsData(root, ca), 'ca-key.pem': '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n' });
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:caKeyUnreadable']);
  });

  it('skips when Secrets are forbidden', async () => {
    const { runs } = await runCheck(check, (await openFixture('secrets-forbidden')).clusters);
    expect(runFor(runs, 'cluster2').skipped).toMatch(/forbidden/);
  });

  it('caKeyUnreadable: a key file whose first PEM block is EC PARAMETERS (istiod reads only the first block)', async () => {
    const { root, ca } = await rootAndIntermediate();
    const sec1 = createPrivateKey(ca.keyPem).export({ type: 'sec1', format: 'pem' }).toString();
    // What `openssl ecparam -name prime256v1 -genkey` writes: the curve's OID block, then the key.
    const withParams = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${sec1}`;
    const objects = await fixtureObjects('multi-primary-healthy');
    setCacerts(objects, 'cluster2', { ...cacertsData(root, ca), 'ca-key.pem': withParams });
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingTuples(check, runs)).toEqual([['certificates/cacerts', 'caKeyUnreadable', 'cluster2', 'error']]);
    setCacerts(objects, 'cluster2', { ...cacertsData(root, ca), 'ca-key.pem': sec1 });
    expect(findingKeys((await runCheck(check, memoryReaders(objects))).runs)).toEqual([]);
  });

  it('cacertsIncomplete: an empty cert-chain.pem (loads, but workloads get no ca-cert) is an error', async () => {
    const { root, ca } = await rootAndIntermediate();
    const objects = await fixtureObjects('multi-primary-healthy');
    const secret = setCacerts(objects, 'cluster2', cacertsData(root, ca));
    secret.data['cert-chain.pem'] = '';
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingTuples(check, runs)).toEqual([['certificates/cacerts', 'cacertsIncomplete', 'cluster2', 'error']]);
    // Listed but empty is not the same as absent: the consequence names what istiod does with each.
    const emptyConsequence = runFor(runs, 'cluster2').findings[0].data?.consequence;
    delete secret.data['cert-chain.pem'];
    const absent = runFor((await runCheck(check, memoryReaders(objects))).runs, 'cluster2').findings[0].data?.consequence;
    expect(absent).not.toEqual(emptyConsequence);
  });
});
