// Reading the certificates an Istio CA keeps in Kubernetes objects: the plugged-in `cacerts` Secret
// (https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/), istiod's self-signed
// `istio-ca-secret`, and the `istio-ca-root-cert` ConfigMap istiod writes into every namespace.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KubeObject } from '../cluster/types.ts';

/** The Secret holding a plugged-in CA. */
export const CACERTS_SECRET = 'cacerts';
/** The Secret istiod writes its self-signed CA to when there is no `cacerts`. */
export const SELF_SIGNED_CA_SECRET = 'istio-ca-secret';
/** The ConfigMap istiod distributes its root(s) in. */
export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';

/** A certificate with the facts reports show. */
export interface CertificateFacts {
  cert: x509.X509Certificate;
  /** SHA-256 of the DER certificate, lowercase hex. */
  fingerprint: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

/** Every certificate of a PEM bundle, in order. Throws when the text holds a malformed certificate. */
export function parsePemCertificates(pem: string): CertificateFacts[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => certificateFacts(new x509.X509Certificate(block)));
}

/** Facts of a parsed certificate. */
export function certificateFacts(cert: x509.X509Certificate): CertificateFacts {
  return {
    cert,
    fingerprint: createHash('sha256').update(new Uint8Array(cert.rawData)).digest('hex'),
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

/** The first 8 bytes of a fingerprint as `ab:cd:...`, enough to tell roots apart in a message. */
export function fingerprintPrefix(fingerprint: string): string {
  return (fingerprint.slice(0, 16).match(/../g) ?? []).join(':');
}

/**
 * A Secret data value as text. Values are base64 in `data`; the snapshot format's redacted values
 * (`REDACTED`, `REDACTED spki-sha256=...`) and `stringData` stay as they are. Undefined when absent.
 */
export function secretText(secret: KubeObject, key: string): string | undefined {
  const raw = secret.data?.[key];
  if (typeof raw === 'string') {
    if (raw.startsWith('REDACTED')) return raw;
    return Buffer.from(raw, 'base64').toString('utf8');
  }
  const plain = secret.stringData?.[key];
  return typeof plain === 'string' ? plain : undefined;
}

/** The certificate that signed `cert` among `candidates` (signature verified), if any. */
export async function findIssuer(cert: CertificateFacts, candidates: CertificateFacts[]): Promise<CertificateFacts | undefined> {
  for (const candidate of candidates) {
    if (candidate.subject !== cert.issuer) continue;
    try {
      if (await cert.cert.verify({ publicKey: candidate.cert.publicKey, signatureOnly: true })) return candidate;
    } catch {
      // A key type verify() cannot handle: not this candidate.
    }
  }
  return undefined;
}
