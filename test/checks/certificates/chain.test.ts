import 'reflect-metadata';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import check, { type ChainDetail } from '../../../src/checks/certificates/chain.ts';
import { redactPrivateKey } from '../../../src/cluster/redact.ts';
import { issueCert } from '../../../src/lab/pki.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, openFixture, runCheck, runFor } from '../helpers.ts';
import { NOT_AFTER, NOT_BEFORE, cacertsData, rootAndIntermediate, secretValue, setCacerts } from './ca-material.ts';

async function runWith(data: Record<string, string>) {
  const objects = await fixtureObjects('multi-primary-healthy');
  setCacerts(objects, 'cluster2', data);
  const { runs } = await runCheck(check, memoryReaders(objects));
  return { keys: findingKeys(runs), run: runFor(runs, 'cluster2') };
}

describe('certificates/chain', () => {
  it('passes on multi-primary-healthy (redacted keys compared by fingerprint) and attaches the chain', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    const detail = runFor(runs, 'cluster1').data.chain as ChainDetail;
    expect(detail).toMatchObject({ secret: 'istio-system/cacerts', form: 'cacerts', trusted: true, roots: [] });
    expect(detail.path.map((c) => [c.role, c.subject])).toEqual([
      ['ca-cert', 'O=Istio, CN=Intermediate CA, L=cluster1'],
      ['root', 'O=Istio, CN=Root CA'],
    ]);
    expect(detail.path[1].fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('passes on real material with an intermediate between ca-cert and the root, in the tls form too', async () => {
    const { root, ca: intermediate } = await rootAndIntermediate();
    const ca = await issueCert({ subject: 'O=Test, CN=Cluster CA 2', issuer: intermediate, isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const data = { 'ca-cert.pem': ca.certPem, 'ca-key.pem': ca.keyPem, 'root-cert.pem': root.certPem, 'cert-chain.pem': ca.certPem + intermediate.certPem + root.certPem };
    const result = await runWith(data);
    expect(result.keys).toEqual([]);
    expect((result.run.data.chain as ChainDetail).path.map((c) => c.role)).toEqual(['ca-cert', 'intermediate', 'root']);
    expect((await runWith({ 'tls.crt': ca.certPem + intermediate.certPem, 'tls.key': ca.keyPem, 'ca.crt': root.certPem })).keys).toEqual([]);
  });

  it('chainUntrusted: root-cert.pem is another root than the chain\'s', async () => {
    const objects = await fixtureObjects('root-mismatch');
    const c1 = objectNamed(objects, 'cluster1', 'secrets', 'cacerts');
    objectNamed(objects, 'cluster2', 'secrets', 'cacerts').data['root-cert.pem'] = c1.data['root-cert.pem'];
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:chainUntrusted']);
    expect((runFor(runs, 'cluster2').data.chain as ChainDetail).trusted).toBe(false);
  });

  it('chainWrongOrder: cert-chain.pem lists the root first', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const secret = objectNamed(objects, 'cluster2', 'secrets', 'cacerts');
    secret.data['cert-chain.pem'] = Buffer.from(secretValue(secret, 'root-cert.pem') + secretValue(secret, 'ca-cert.pem')).toString('base64');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:chainWrongOrder']);
    expect(runFor(runs, 'cluster2').findings[0].data?.expected).toBe('O=Istio, CN=Intermediate CA, L=cluster2 -> O=Istio, CN=Root CA');
  });

  it('chainUnrelatedCertificates: cert-chain.pem carries a stray certificate', async () => {
    const { root, ca } = await rootAndIntermediate();
    const stray = await issueCert({ subject: 'CN=stray', isCa: true });
    const result = await runWith({ ...cacertsData(root, ca), 'cert-chain.pem': ca.certPem + root.certPem + stray.certPem });
    expect(result.keys).toEqual(['cluster2:chainUnrelatedCertificates']);
    expect(result.run.findings[0].severity).toBeUndefined();
  });

  it('caKeyMismatch: a real key of another CA, and a redacted fingerprint of one', async () => {
    const { root, ca } = await rootAndIntermediate();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect((await runWith({ ...cacertsData(root, ca), 'ca-key.pem': other })).keys).toEqual(['cluster2:caKeyMismatch']);
    expect((await runWith({ ...cacertsData(root, ca), 'ca-key.pem': redactPrivateKey(other) })).keys).toEqual(['cluster2:caKeyMismatch']);
    expect((await runWith({ ...cacertsData(root, ca), 'ca-key.pem': redactPrivateKey(ca.keyPem) })).keys).toEqual([]);
  });

  it('caKeyUnverifiable: a key redacted without fingerprint', async () => {
    const { root, ca } = await rootAndIntermediate();
    const result = await runWith({ ...cacertsData(root, ca), 'ca-key.pem': 'REDACTED' });
    expect(result.keys).toEqual(['cluster2:caKeyUnverifiable']);
  });

  it('notACa: ca-cert without CA:TRUE, or without keyCertSign', async () => {
    const notCa = await rootAndIntermediate({ isCa: false });
    expect((await runWith(cacertsData(notCa.root, notCa.ca))).keys).toEqual(['cluster2:notACa']);
    const noCertSign = await rootAndIntermediate({ omitKeyCertSign: true });
    const result = await runWith(cacertsData(noCertSign.root, noCertSign.ca));
    expect(result.keys).toEqual(['cluster2:notACa']);
    expect(result.run.findings[0].data).toMatchObject({ role: 'ca-cert', detail: 'keyUsage lacks keyCertSign' });
  });

  it('pathLenViolated: an intermediate with pathLen 0 above ca-cert', async () => {
    const { root, ca: intermediate } = await rootAndIntermediate({ pathLength: 0 });
    const ca = await issueCert({ subject: 'O=Test, CN=Cluster CA 2', issuer: intermediate, isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const result = await runWith({ 'ca-cert.pem': ca.certPem, 'ca-key.pem': ca.keyPem, 'root-cert.pem': root.certPem, 'cert-chain.pem': ca.certPem + intermediate.certPem + root.certPem });
    expect(result.keys).toEqual(['cluster2:pathLenViolated']);
    expect(result.run.findings[0].data?.subject).toBe('O=Test, CN=Cluster CA');
  });

  it('chainSignatureInvalid: ca-cert names the root as issuer but another key signed it', async () => {
    const { root } = await rootAndIntermediate();
    // An impostor with the root's name signs a ca-cert without key identifiers: only the signature tells.
    const impostor = await issueCert({ subject: 'O=Test, CN=Root CA', isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const forged = await x509.X509CertificateGenerator.create({
      serialNumber: '0a1b2c',
      subject: 'O=Test, CN=Cluster CA',
      issuer: 'O=Test, CN=Root CA',
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      publicKey: keys.publicKey,
      signingKey: impostor.keys.privateKey,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
    });
    const pem = forged.toString('pem');
    const result = await runWith({ 'ca-cert.pem': pem, 'ca-key.pem': 'REDACTED spki-sha256=' + '0'.repeat(64), 'root-cert.pem': root.certPem, 'cert-chain.pem': pem + root.certPem });
    expect(result.keys).toEqual(['cluster2:caKeyMismatch', 'cluster2:chainSignatureInvalid']);
  });

  it('weakKey and weakSignature: RSA 1024 and SHA-1 are warnings', async () => {
    const weakKey = await rootAndIntermediate({ keyAlgorithm: 'rsa-1024' });
    const result = await runWith(cacertsData(weakKey.root, weakKey.ca));
    expect(result.keys).toEqual(['cluster2:weakKey']);
    // WebCrypto binds an RSA key to its hash: a SHA-1 root key signs ca-cert with SHA-1 (its own self-signature is not judged).
    const rsaRoot = await issueCert({ subject: 'O=Test, CN=Root CA', isCa: true, keyAlgorithm: 'rsa-2048', hash: 'SHA-1', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const sha1 = await issueCert({ subject: 'O=Test, CN=Cluster CA', issuer: rsaRoot, isCa: true, hash: 'SHA-1', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    expect((await runWith(cacertsData(rsaRoot, sha1))).keys).toEqual(['cluster2:weakSignature']);
  });

  it('leaves validity dates to certificates/expiry', async () => {
    const { root, ca } = await rootAndIntermediate({ notAfter: new Date('2026-02-01T00:00:00Z') });
    expect((await runWith(cacertsData(root, ca))).keys).toEqual([]);
  });

  it('skips without a plugged-in CA', async () => {
    const { runs } = await runCheck(check, (await openFixture('cacerts-missing')).clusters);
    expect(runFor(runs, 'cluster2').skipped).toMatch(/no plugged-in CA/);
  });
});
