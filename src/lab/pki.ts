// Real X.509 material for the lab: serving certificates of the simulated API servers, Istio CA
// hierarchies (root -> per-cluster intermediate, as Istio's tools/certs makes them) and workload certs.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DAY_MS = 24 * 60 * 60 * 1000;

/** Key algorithms the lab issues. ECDSA P-256 is fast to generate; RSA is what Istio's tools/certs makes. */
export type KeyAlgorithm = 'ecdsa-p256' | 'rsa-2048' | 'rsa-1024';

/** A certificate with its private key, both PEM. */
export interface IssuedCert {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

/** What to issue. Dates default to now - 1 day .. now + validityDays. */
export interface IssueOptions {
  subject: string;
  /** Issuer; omitted = self-signed. */
  issuer?: IssuedCert;
  isCa?: boolean;
  /** basicConstraints pathLenConstraint for a CA. */
  pathLength?: number;
  notBefore?: Date;
  notAfter?: Date;
  validityDays?: number;
  keyAlgorithm?: KeyAlgorithm;
  /** Signature hash; SHA-1 only for the lab's "weak signature" material. */
  hash?: 'SHA-256' | 'SHA-1';
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  /** Server/client auth EKUs for leaf certificates. */
  serverAuth?: boolean;
  clientAuth?: boolean;
  /** Omit keyCertSign from a CA (the `not-a-ca` style breakage). */
  omitKeyCertSign?: boolean;
}

let serial = 1n;
function nextSerial(): string {
  serial += 1n;
  const hex = (BigInt(Date.now()) * 1000n + serial).toString(16);
  return hex.length % 2 ? `0${hex}` : hex;
}

async function generateKeys(alg: KeyAlgorithm, hash: string): Promise<{ keys: CryptoKeyPair; algorithm: Algorithm }> {
  if (alg === 'ecdsa-p256') {
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash } as EcKeyGenParams & { hash: string };
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    return { keys, algorithm };
  }
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash,
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: alg === 'rsa-1024' ? 1024 : 2048,
  } as RsaHashedKeyGenParams;
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { keys, algorithm };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n`;
}

/** Issue a certificate (self-signed when no issuer is given). */
export async function issueCert(opts: IssueOptions): Promise<IssuedCert> {
  const hash = opts.hash ?? 'SHA-256';
  const keyAlgorithm = opts.keyAlgorithm ?? 'ecdsa-p256';
  const { keys, algorithm } = await generateKeys(keyAlgorithm, hash);
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - DAY_MS);
  const notAfter = opts.notAfter ?? new Date(now + (opts.validityDays ?? 365) * DAY_MS);
  const extensions: x509.Extension[] = [];
  if (opts.isCa) {
    extensions.push(new x509.BasicConstraintsExtension(true, opts.pathLength, true));
    const usages = opts.omitKeyCertSign ? x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;
    extensions.push(new x509.KeyUsagesExtension(usages, true));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true));
    const ekus: string[] = [];
    if (opts.serverAuth) ekus.push(x509.ExtendedKeyUsage.serverAuth);
    if (opts.clientAuth) ekus.push(x509.ExtendedKeyUsage.clientAuth);
    if (ekus.length) extensions.push(new x509.ExtendedKeyUsageExtension(ekus));
  }
  const altNames: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  if (altNames.length) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, !opts.subject));
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  if (opts.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(opts.issuer.cert));

  const signingAlgorithm = opts.issuer ? signingAlgorithmOf(opts.issuer.keys.privateKey, hash) : algorithm;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: opts.subject,
    issuer: opts.issuer ? opts.issuer.cert.subject : opts.subject,
    notBefore,
    notAfter,
    signingAlgorithm,
    publicKey: keys.publicKey,
    signingKey: opts.issuer ? opts.issuer.keys.privateKey : keys.privateKey,
    extensions,
  });
  // PEM ends with a newline, as openssl and Go's pem.Encode write it: concatenated into cert-chain.pem,
  // a PEM without one glues '-----END CERTIFICATE----------BEGIN CERTIFICATE-----', which Go's
  // encoding/pem does not decode, so the real istiod refuses the chain (security/pkg/pki/ca/ca.go minTTL
  // -> util.TimeBeforeCertExpires, istio.io/istio v0.0.0-20260827124520-eed52ebb66ad).
  return { cert, keys, certPem: `${cert.toString('pem')}\n`, keyPem: await privateKeyPem(keys.privateKey) };
}

function signingAlgorithmOf(key: CryptoKey, hash: string): Algorithm {
  return key.algorithm.name === 'ECDSA' ? ({ name: 'ECDSA', hash } as EcdsaParams) : ({ name: 'RSASSA-PKCS1-v1_5', hash } as Algorithm);
}

/** A serving certificate for a simulated API server, with its own CA (like kind's per-cluster CA). */
export async function createServingIdentity(clusterName: string): Promise<{ ca: IssuedCert; serving: IssuedCert }> {
  const ca = await issueCert({ subject: `CN=kubernetes-ca-${clusterName}`, isCa: true, validityDays: 3650 });
  const serving = await issueCert({
    subject: 'CN=kube-apiserver',
    issuer: ca,
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ipAddresses: ['127.0.0.1'],
    serverAuth: true,
    validityDays: 365,
  });
  return { ca, serving };
}
