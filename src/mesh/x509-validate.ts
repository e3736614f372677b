// An X.509 chain validator for CA material, with the verdicts of `openssl verify -CAfile root -untrusted
// chain target` (RFC 5280 section 6 as OpenSSL applies it): every link is checked on its own (signature,
// issuer name and key identifiers, validity at `now`, CA:TRUE, keyCertSign, pathLen), not merely linked.
// test/mesh/openssl-agreement.test.ts compares the verdicts with the openssl CLI on a generated corpus.
import 'reflect-metadata';
import { X509Certificate as NodeX509Certificate, createHash, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { parseRedacted, privateKeySpkiSha256 } from '../cluster/redact.ts';

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

/** Why a chain is invalid, in the classes openssl's error codes fall into. */
export type ChainProblemClass = 'untrusted' | 'signature' | 'expired' | 'not-yet-valid' | 'not-a-ca' | 'path-length';

/** What is weak but accepted (openssl rejects it only from `-auth_level 2`). */
export type ChainWeaknessClass = 'weak-key' | 'weak-signature';

/** One problem of one certificate of the path. */
export interface ChainFinding<C extends string> {
  class: C;
  /** Position in the path: 0 is the target, as openssl's "error N at D depth". */
  depth: number;
  subject: string;
  /** What exactly is wrong, for messages. */
  detail: string;
}

/** The verdict on a chain. */
export interface ChainVerdict {
  /** No problem (weaknesses do not make a chain invalid). */
  valid: boolean;
  /** The path built: the target first, then each issuer; the last is the trust anchor when `trusted`. */
  path: CertificateFacts[];
  /** Whether the path ends in a certificate of `roots`. */
  trusted: boolean;
  problems: ChainFinding<ChainProblemClass>[];
  weaknesses: ChainFinding<ChainWeaknessClass>[];
}

/** What to validate. */
export interface ChainInput {
  /** The certificate to validate (Istio: the first certificate of ca-cert.pem). */
  target: CertificateFacts;
  /** Certificates that may complete the path but are not trusted (cert-chain.pem, the rest of ca-cert.pem). */
  untrusted: CertificateFacts[];
  /** Trust anchors (root-cert.pem). */
  roots: CertificateFacts[];
  /** The moment validity is judged at. */
  now: Date;
  /**
   * The target is a CA that will issue certificates (Istio's ca-cert): it must itself be a CA with
   * keyCertSign, and it counts against its issuers' pathLen, as when openssl verifies a leaf it issued.
   */
  targetIsCa?: boolean;
}

/** Paths longer than this are certainly a loop or garbage (openssl's default depth limit is 100). */
const MAX_DEPTH = 16;
/** RSA keys below this size are weak (NIST: 112-bit security needs 2048). */
const MIN_RSA_BITS = 2048;
/** Signature hashes that no longer resist collisions. */
const WEAK_HASHES = new Set(['SHA-1', 'MD5', 'MD2', 'MD4']);
const WEAK_SIGNATURE_OIDS = new Map([
  ['1.2.840.113549.1.1.5', 'SHA-1'],
  ['1.2.840.10045.4.1', 'SHA-1'],
  ['1.2.840.10040.4.3', 'SHA-1'],
  ['1.2.840.113549.1.1.4', 'MD5'],
  ['1.2.840.113549.1.1.2', 'MD2'],
]);

/** Validate `target` up to a root, the way openssl verify does. Never throws on certificate content. */
export function validateChain(input: ChainInput): ChainVerdict {
  const { path, trusted, missing } = buildPath(input);
  const problems: ChainFinding<ChainProblemClass>[] = [];
  const weaknesses: ChainFinding<ChainWeaknessClass>[] = [];
  const at = (depth: number) => ({ depth, subject: path[depth].subject });

  if (!trusted) problems.push({ class: 'untrusted', ...at(path.length - 1), detail: missing });

  for (const [depth, cert] of path.entries()) {
    if (cert.notBefore.getTime() > input.now.getTime()) {
      problems.push({ class: 'not-yet-valid', ...at(depth), detail: `not valid before ${cert.notBefore.toISOString()}` });
    }
    if (cert.notAfter.getTime() < input.now.getTime()) {
      problems.push({ class: 'expired', ...at(depth), detail: `expired ${cert.notAfter.toISOString()}` });
    }
    const issuer = path[depth + 1];
    if (issuer && !signatureVerifies(cert, issuer)) {
      problems.push({ class: 'signature', ...at(depth), detail: `signature does not verify with the key of ${issuer.subject}` });
    }
    const mustBeCa = depth > 0 || input.targetIsCa === true;
    if (mustBeCa) {
      const reason = notACaReason(cert);
      if (reason) problems.push({ class: 'not-a-ca', ...at(depth), detail: reason });
    }
    const pathLength = basicConstraints(cert)?.pathLength;
    if (depth > 0 && pathLength !== undefined) {
      // CAs below this one, not counting the target unless it issues certificates itself (RFC 5280 6.1.4 (l)).
      const below = path.slice(input.targetIsCa ? 0 : 1, depth).filter((c) => !isSelfIssued(c)).length;
      if (below > pathLength) {
        problems.push({ class: 'path-length', ...at(depth), detail: `pathLen ${pathLength} allows ${pathLength} CA(s) below it, the chain has ${below}` });
      }
    }
    const rsaBits = rsaModulusBits(cert);
    if (rsaBits !== undefined && rsaBits < MIN_RSA_BITS) weaknesses.push({ class: 'weak-key', ...at(depth), detail: `RSA ${rsaBits}-bit key` });
    // A trust anchor's signature on itself protects nothing: openssl and Go ignore it, so do we.
    const selfSignedAnchor = trusted && depth === path.length - 1 && isSelfIssued(cert);
    const hash = signatureHash(cert);
    if (!selfSignedAnchor && hash && WEAK_HASHES.has(hash)) weaknesses.push({ class: 'weak-signature', ...at(depth), detail: `${hash} signature` });
  }
  return { valid: problems.length === 0, path, trusted, problems, weaknesses };
}

/**
 * Follow issuers from the target: trust anchors first (openssl's trusted-first), then the untrusted
 * certificates. An issuer candidate has the child's issuer name as subject and, when both carry key
 * identifiers, the child's authority key id as subject key id; among several, one valid at `now` wins.
 */
function buildPath(input: ChainInput): { path: CertificateFacts[]; trusted: boolean; missing: string } {
  const isRoot = (c: CertificateFacts) => input.roots.some((r) => r.fingerprint === c.fingerprint);
  const path = [input.target];
  for (;;) {
    const current = path[path.length - 1];
    if (isRoot(current)) return { path, trusted: true, missing: '' };
    if (isSelfIssued(current) && signatureVerifies(current, current)) {
      return { path, trusted: false, missing: `${current.subject} is self-signed and not in the root bundle` };
    }
    if (path.length >= MAX_DEPTH) return { path, trusted: false, missing: `no root within ${MAX_DEPTH} certificates` };
    const seen = new Set(path.map((c) => c.fingerprint));
    const candidates = [...input.roots, ...input.untrusted].filter((c) => !seen.has(c.fingerprint) && mayHaveIssued(c, current));
    const issuer = candidates.find((c) => validAt(c, input.now)) ?? candidates[0];
    if (!issuer) return { path, trusted: false, missing: `the issuer of ${current.subject} (${current.issuer}) is not in the chain or the root bundle` };
    path.push(issuer);
  }
}

/** Name and key-identifier match (not the signature: that is checked per link, as openssl does). */
function mayHaveIssued(issuer: CertificateFacts, child: CertificateFacts): boolean {
  if (issuer.subject !== child.issuer) return false;
  const aki = authorityKeyId(child);
  const ski = subjectKeyId(issuer);
  return !aki || !ski || aki === ski;
}

/** Whether `cert`'s signature verifies with `issuer`'s public key. */
export function signatureVerifies(cert: CertificateFacts, issuer: CertificateFacts): boolean {
  try {
    return nodeCert(cert).verify(nodeCert(issuer).publicKey);
  } catch {
    return false;
  }
}

/** Why a certificate cannot act as a CA (openssl's check_ca), or undefined when it can. */
function notACaReason(cert: CertificateFacts): string | undefined {
  const constraints = basicConstraints(cert);
  const usage = keyUsage(cert);
  if (constraints && !constraints.ca) return 'basicConstraints CA:FALSE';
  if (!constraints) {
    // A self-signed version 1 root without extensions is a CA by tradition; anything else needs CA:TRUE.
    if (!(x509Version(cert) === 1 && isSelfIssued(cert))) return 'no basicConstraints CA:TRUE';
  }
  if (usage !== undefined && (usage & x509.KeyUsageFlags.keyCertSign) === 0) return 'keyUsage lacks keyCertSign';
  return undefined;
}

/** The certificate's version (1 or 3), read from the DER: the tbsCertificate's optional [0] field. */
function x509Version(cert: CertificateFacts): number {
  const der = new Uint8Array(cert.cert.rawData);
  // SEQUENCE (certificate) then SEQUENCE (tbsCertificate): skip both headers.
  let offset = 0;
  for (let i = 0; i < 2; i++) {
    const lengthByte = der[offset + 1];
    offset += 2 + (lengthByte & 0x80 ? lengthByte & 0x7f : 0);
  }
  // [0] EXPLICIT INTEGER: a0 03 02 01 <version - 1>; absent means version 1.
  return der[offset] === 0xa0 ? der[offset + 4] + 1 : 1;
}

function basicConstraints(cert: CertificateFacts): { ca: boolean; pathLength?: number } | undefined {
  const ext = safe(() => cert.cert.getExtension(x509.BasicConstraintsExtension));
  return ext ? { ca: ext.ca, pathLength: ext.pathLength } : undefined;
}

function keyUsage(cert: CertificateFacts): number | undefined {
  return safe(() => cert.cert.getExtension(x509.KeyUsagesExtension))?.usages;
}

function subjectKeyId(cert: CertificateFacts): string | undefined {
  return safe(() => cert.cert.getExtension(x509.SubjectKeyIdentifierExtension))?.keyId?.toLowerCase();
}

function authorityKeyId(cert: CertificateFacts): string | undefined {
  return safe(() => cert.cert.getExtension(x509.AuthorityKeyIdentifierExtension))?.keyId?.toLowerCase();
}

/** Subject equals issuer (and the key ids agree): the certificate claims to have issued itself. */
export function isSelfIssued(cert: CertificateFacts): boolean {
  return cert.subject === cert.issuer && mayHaveIssued(cert, cert);
}

function validAt(cert: CertificateFacts, now: Date): boolean {
  return cert.notBefore.getTime() <= now.getTime() && now.getTime() <= cert.notAfter.getTime();
}

/** The RSA modulus size of a certificate's key, undefined for other key types. */
export function rsaModulusBits(cert: CertificateFacts): number | undefined {
  const key: KeyObject | undefined = safe(() => nodeCert(cert).publicKey);
  if (!key || (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss')) return undefined;
  return key.asymmetricKeyDetails?.modulusLength;
}

/** The hash of a certificate's signature algorithm (`SHA-256`, `SHA-1`...), when known. */
export function signatureHash(cert: CertificateFacts): string | undefined {
  const fromOid = WEAK_SIGNATURE_OIDS.get(signatureOid(cert) ?? '');
  if (fromOid) return fromOid;
  const algorithm = safe(() => cert.cert.signatureAlgorithm) as { hash?: { name?: string } | string } | undefined;
  const hash = algorithm?.hash;
  return typeof hash === 'string' ? hash : hash?.name;
}

/** The OID of the outer signatureAlgorithm (robust to algorithms @peculiar/x509 does not know). */
function signatureOid(cert: CertificateFacts): string | undefined {
  // Node 24's X509Certificate exposes it; older typings do not declare it.
  return safe(() => (nodeCert(cert) as NodeX509Certificate & { signatureAlgorithmOid?: string }).signatureAlgorithmOid);
}

/** SHA-256 of a certificate's DER SubjectPublicKeyInfo, lowercase hex: what key fingerprints compare. */
export function certificateSpkiSha256(cert: CertificateFacts): string {
  return createHash('sha256').update(new Uint8Array(cert.cert.publicKey.rawData)).digest('hex');
}

/** What a private-key value of a Secret tells without keeping the key. */
export type PrivateKeyFacts =
  | { kind: 'key'; spkiSha256: string }
  /** Redacted by a snapshot writer, with the key's fingerprint kept. */
  | { kind: 'redacted'; spkiSha256: string }
  /** Redacted without a fingerprint: nothing can be compared. */
  | { kind: 'redacted-opaque' }
  /** Not a private key openssl/node can read (encrypted, corrupt, not PEM). */
  | { kind: 'unreadable'; reason: string };

/**
 * The fingerprint of the public half of a PEM private key (PKCS#8, PKCS#1 or SEC1) or of a redacted
 * value. The key itself never leaves this function, nor does any part of it reach the reason.
 */
export function privateKeyFacts(text: string): PrivateKeyFacts {
  const redacted = parseRedacted(text.trim());
  if (redacted) return redacted.spkiSha256 ? { kind: 'redacted', spkiSha256: redacted.spkiSha256 } : { kind: 'redacted-opaque' };
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text)) return { kind: 'unreadable', reason: 'the private key is encrypted (istiod needs it unencrypted)' };
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return { kind: 'unreadable', reason: 'no PEM private key block' };
  // istiod (Go's pem.Decode) reads the first PEM block only: `openssl ecparam -genkey` puts EC PARAMETERS first.
  const firstBlock = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? '';
  if (!/PRIVATE KEY$/.test(firstBlock)) return { kind: 'unreadable', reason: `the first PEM block is ${firstBlock}, not the key (istiod reads only the first block): remove it (openssl pkey -in key.pem -out ca-key.pem)` };
  const spki = privateKeySpkiSha256(text);
  return spki ? { kind: 'key', spkiSha256: spki } : { kind: 'unreadable', reason: 'the private key block does not parse' };
}

const nodeCerts = new WeakMap<CertificateFacts, NodeX509Certificate>();
function nodeCert(cert: CertificateFacts): NodeX509Certificate {
  let parsed = nodeCerts.get(cert);
  if (!parsed) {
    parsed = new NodeX509Certificate(Buffer.from(cert.cert.rawData));
    nodeCerts.set(cert, parsed);
  }
  return parsed;
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * Why a CA's extendedKeyUsage keeps its workload certificates from mTLS, if it does: OpenSSL and
 * BoringSSL (Envoy) check the ssl_client/ssl_server purpose on every CA of the chain, so a CA that
 * lists EKUs must list both serverAuth and clientAuth, as `openssl verify -purpose sslserver|sslclient`
 * shows. anyExtendedKeyUsage alone does not satisfy OpenSSL's purpose check (Go would accept it), so
 * it is flagged too. No EKU extension: no limit.
 */
export function ekuRestriction(cert: CertificateFacts): string | undefined {
  const usages = safe(() => cert.cert.getExtension(x509.ExtendedKeyUsageExtension))?.usages.map(String);
  if (!usages) return undefined;
  const missing = [[EKU_SERVER_AUTH, 'serverAuth'], [EKU_CLIENT_AUTH, 'clientAuth']].filter(([oid]) => !usages.includes(oid)).map(([, name]) => name);
  return missing.length ? `extendedKeyUsage lacks ${missing.join(' and ')}` : undefined;
}

/** Whether the certificate's key is RSA-PSS (SPKI id-RSASSA-PSS), which Go's crypto/x509 cannot use. */
export function hasRsaPssKey(cert: CertificateFacts): boolean {
  return safe(() => nodeCert(cert).publicKey.asymmetricKeyType) === 'rsa-pss';
}
