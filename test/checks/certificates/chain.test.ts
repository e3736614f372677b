import 'reflect-metadata';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/chain.ts';
import type { ChainDetail } from '../../../src/engine/details.ts';
import { redactPrivateKey } from '../../../src/cluster/redact.ts';
import { issueCert } from '../../../src/lab/pki.ts';
import { findingKeys, fixtureObjects, memoryReaders, objectNamed, openFixture, runCheck, runFor } from '../helpers.ts';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { NOT_AFTER, NOT_BEFORE, cacertsData, findingTuples, rootAndIntermediate, secretValue, setCacerts } from './ca-material.ts';

/** Findings of cluster2 as [checkId, messageId, cluster, severity]. */
async function tuplesWith(data: Record<string, string>) {
  const objects = await fixtureObjects('multi-primary-healthy');
  setCacerts(objects, 'cluster2', data);
  const { runs } = await runCheck(check, memoryReaders(objects));
  return findingTuples(check, runs);
}

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

  it('a cacerts that does not parse skips with a reason in words, not the x509 library\'s text (issue 11.6)', async () => {
    const objects = await fixtureObjects('multi-primary-healthy');
    const cacerts = objectNamed(objects, 'cluster2', 'secrets', 'cacerts');
    cacerts.data['root-cert.pem'] = Buffer.from('-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n').toString('base64');
    const { runs } = await runCheck(check, memoryReaders(objects));
    expect(runFor(runs, 'cluster2').skipped).toBe('cacerts does not parse (see certificates/cacerts): root-cert.pem does not parse: the certificate is not a valid X.509 certificate (corrupt or truncated base64/DER)');
    expect(runFor(runs, 'cluster1').skipped).toBeUndefined();
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
    expect(result.run.findings[0].severity).toBe('warning');
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

  it('chainMissingCaCert: cert-chain.pem holds the corporate intermediate and root but not ca-cert (error)', async () => {
    const { root, ca: corpIntermediate } = await rootAndIntermediate();
    const ca = await issueCert({ subject: 'O=Test, CN=Istio CA', issuer: corpIntermediate, isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const base = { 'ca-cert.pem': ca.certPem, 'ca-key.pem': ca.keyPem, 'root-cert.pem': root.certPem };
    expect(await tuplesWith({ ...base, 'cert-chain.pem': corpIntermediate.certPem + root.certPem })).toEqual([['certificates/chain', 'chainMissingCaCert', 'cluster2', 'error']]);
    expect(await tuplesWith({ ...base, 'cert-chain.pem': ca.certPem + corpIntermediate.certPem + root.certPem })).toEqual([]);
  });

  it('ekuTooNarrow: a CA whose extendedKeyUsage lacks clientAuth (error); serverAuth+clientAuth passes', async () => {
    const { root } = await rootAndIntermediate();
    // The lab's PKI puts EKUs on leaves only: issue these CAs directly.
    const caWithEku = async (usages: string[]) => {
      const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: '0a1b',
        subject: 'O=Test, CN=EKU CA',
        issuer: root.cert.subject,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
        publicKey: keys.publicKey,
        signingKey: root.keys.privateKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [
          new x509.BasicConstraintsExtension(true, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          new x509.ExtendedKeyUsageExtension(usages),
          await x509.AuthorityKeyIdentifierExtension.create(root.cert),
        ],
      });
      const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
      return { 'ca-cert.pem': cert.toString('pem'), 'ca-key.pem': keyPem, 'root-cert.pem': root.certPem, 'cert-chain.pem': cert.toString('pem') + root.certPem };
    };
    expect(await tuplesWith(await caWithEku([x509.ExtendedKeyUsage.serverAuth]))).toEqual([['certificates/chain', 'ekuTooNarrow', 'cluster2', 'error']]);
    expect(await tuplesWith(await caWithEku([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]))).toEqual([]);
  });

  it('partialChainAnchor: ca.crt holds a non-self-signed intermediate (warning)', async () => {
    const { ca: corpIntermediate } = await rootAndIntermediate();
    const ca = await issueCert({ subject: 'O=Test, CN=Istio CA', issuer: corpIntermediate, isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    expect(await tuplesWith({ 'tls.crt': ca.certPem, 'tls.key': ca.keyPem, 'ca.crt': corpIntermediate.certPem })).toEqual([['certificates/chain', 'partialChainAnchor', 'cluster2', 'warning']]);
  });

  it('weakSignature stays a warning', async () => {
    const rsaRoot = await issueCert({ subject: 'O=Test, CN=Root CA', isCa: true, keyAlgorithm: 'rsa-2048', hash: 'SHA-1', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const sha1 = await issueCert({ subject: 'O=Test, CN=Cluster CA', issuer: rsaRoot, isCa: true, hash: 'SHA-1', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    expect(await tuplesWith(cacertsData(rsaRoot, sha1))).toEqual([['certificates/chain', 'weakSignature', 'cluster2', 'warning']]);
  });

  it('unsupportedKeyType: an RSA-PSS (id-RSASSA-PSS) CA key, made by openssl (error)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshdoctor-pss-'));
    try {
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'),
        '-subj', '/O=Test/CN=PSS Root', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      const cert = await readFile(path.join(dir, 'c.pem'), 'utf8');
      const key = await readFile(path.join(dir, 'k.pem'), 'utf8');
      const tuples = await tuplesWith({ 'ca-cert.pem': cert, 'ca-key.pem': key, 'root-cert.pem': cert, 'cert-chain.pem': cert });
      expect(tuples).toEqual([['certificates/chain', 'unsupportedKeyType', 'cluster2', 'error']]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('crlRevokesPath and crlInvalid: ca-crl.pem revoking ca-cert, signed by a stranger, or expired (errors)', async () => {
    const { root, ca } = await rootAndIntermediate();
    const crl = async (signer: typeof root, opts: { revoke?: string; nextUpdate?: Date } = {}) =>
      (await x509.X509CrlGenerator.create({
        issuer: signer.cert.subject,
        thisUpdate: NOT_BEFORE,
        nextUpdate: opts.nextUpdate ?? NOT_AFTER,
        entries: opts.revoke ? [{ serialNumber: opts.revoke, revocationDate: NOT_BEFORE }] : [],
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        signingKey: signer.keys.privateKey,
      })).toString('pem');
    const base = cacertsData(root, ca);
    expect(await tuplesWith({ ...base, 'ca-crl.pem': await crl(root) })).toEqual([]);
    expect(await tuplesWith({ ...base, 'ca-crl.pem': await crl(root, { revoke: ca.cert.serialNumber }) })).toEqual([['certificates/chain', 'crlRevokesPath', 'cluster2', 'error']]);
    const stranger = await issueCert({ subject: 'O=Test, CN=Root CA', isCa: true });
    expect(await tuplesWith({ ...base, 'ca-crl.pem': await crl(stranger) })).toEqual([['certificates/chain', 'crlInvalid', 'cluster2', 'error']]);
    expect(await tuplesWith({ ...base, 'ca-crl.pem': await crl(root, { nextUpdate: new Date('2026-06-01T00:00:00Z') }) })).toEqual([['certificates/chain', 'crlInvalid', 'cluster2', 'error']]);
  });
});
