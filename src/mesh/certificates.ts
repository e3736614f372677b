// Reading the certificates an Istio CA keeps in Kubernetes objects: the plugged-in `cacerts` Secret
// (https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/), istiod's self-signed
// `istio-ca-secret`, and the `istio-ca-root-cert` ConfigMap istiod writes into every namespace.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AccessError, type ClusterReader, type KubeObject } from '../cluster/types.ts';
import type { ClusterInfo, ClusterReadContext, ResourceRef } from '../engine/types.ts';
import { privateKeyFacts, signatureVerifies, type CertificateFacts, type PrivateKeyFacts } from './x509-validate.ts';
import { parseVersion } from './istio-objects.ts';
import { controlledElsewhere } from './roles.ts';

export type { CertificateFacts } from './x509-validate.ts';

/** The Secret holding a plugged-in CA. */
export const CACERTS_SECRET = 'cacerts';
/** The Secret istiod writes its self-signed CA to when there is no `cacerts`. */
export const SELF_SIGNED_CA_SECRET = 'istio-ca-secret';
/** The ConfigMap istiod distributes its root(s) in. */
export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';

/**
 * The commands of Istio's "Plug in CA certificates" procedure, for fix hints (`{{namespace}}` is the
 * istio namespace; `$C` is a shell variable the user sets to the cluster's directory in `certs/`).
 */
export const PLUGIN_CA_COMMANDS =
  'in an Istio release: mkdir -p certs && cd certs; make -f ../tools/certs/Makefile.selfsigned.mk root-ca (once per mesh, or use your own root); ' +
  'per cluster, C=<cluster name>: make -f ../tools/certs/Makefile.selfsigned.mk $C-cacerts; ' +
  'kubectl --context=<{{cluster}} context> -n {{namespace}} delete secret cacerts; kubectl --context=<{{cluster}} context> -n {{namespace}} create secret generic cacerts ' +
  '--from-file=$C/ca-cert.pem --from-file=$C/ca-key.pem --from-file=$C/root-cert.pem --from-file=$C/cert-chain.pem; ' +
  'kubectl --context=<{{cluster}} context> -n {{namespace}} rollout restart deployment/istiod; then restart the workloads.';

/**
 * Certificates parsed per PEM bundle at most. Parsing is synchronous (a few ms per certificate): a
 * bundle of 10,000 would hold the event loop for half a minute and time out unrelated checks. A
 * mesh's trust bundle holds a handful of roots; a public-CA bundle some 150.
 */
export const MAX_BUNDLE_CERTIFICATES = 500;

/** A PEM bundle with more than MAX_BUNDLE_CERTIFICATES certificates: read as "could not check". */
export class BundleTooLargeError extends Error {
  readonly count: number;
  /** `where`: the object or data key holding the bundle, when known. */
  constructor(count: number, where?: string) {
    super(`${where ? `${where} ` : ''}holds ${count} certificates; meshdoctor reads at most ${MAX_BUNDLE_CERTIFICATES} per bundle (is a whole system CA bundle, or the same root many times, in it?)`);
    this.name = 'BundleTooLargeError';
    this.count = count;
  }
}

/** A PEM block that is no X.509 certificate; the message says which, in words (no parser internals). */
export class CertificateParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateParseError';
  }
}

/**
 * Every certificate of a PEM bundle, in order. Throws CertificateParseError when one is malformed,
 * and BundleTooLargeError (before parsing any) when it holds more than MAX_BUNDLE_CERTIFICATES.
 */
export function parsePemCertificates(pem: string): CertificateFacts[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length > MAX_BUNDLE_CERTIFICATES) throw new BundleTooLargeError(blocks.length);
  return blocks.map((block, i) => {
    const known = parsed.get(block);
    // A fresh object per call, as before: callers may tell two certificates of one bundle apart by identity.
    if (known) return { ...known };
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(block);
    } catch {
      // The library's text ("End of input reached before message was fully decoded") helps no operator.
      const which = blocks.length > 1 ? `certificate ${i + 1} of ${blocks.length}` : 'the certificate';
      throw new CertificateParseError(`${which} is not a valid X.509 certificate (corrupt or truncated base64/DER)`);
    }
    const facts = certificateFacts(cert);
    if (parsed.size >= PARSED_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
    parsed.set(block, facts);
    return { ...facts };
  });
}

/**
 * Certificates already parsed, by PEM block. The same few certificates (a mesh's roots, each CA) are
 * read by every certificates/ check and several others: 44 parses of 3 certificates in a snapshot
 * analysis of multi-primary-healthy, about a third of its CPU time. Parsed certificates are never
 * changed, so one parse serves them all. Bounded: a long-lived process (lab serve, --wait) forgets
 * the oldest first.
 */
const parsed = new Map<string, CertificateFacts>();
const PARSED_CACHE_SIZE = 2_000;

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

// ---------------------------------------------------------------------------------------------
// The plugged-in CA Secret, in both forms istiod loads
// ---------------------------------------------------------------------------------------------

/** The data keys of each form: `cacerts` files (Istio's tools/certs) or a kubernetes.io/tls-style Secret. */
export const CA_SECRET_KEYS = {
  cacerts: { caCert: 'ca-cert.pem', caKey: 'ca-key.pem', root: 'root-cert.pem', chain: 'cert-chain.pem', crl: 'ca-crl.pem' },
  tls: { caCert: 'tls.crt', caKey: 'tls.key', root: 'ca.crt' },
} as const;

/** The texts of a CA Secret (private key text included: callers must never print it). */
export interface CaSecretMaterial {
  /** `tls` when the Secret holds tls.crt (istiod then reads tls.crt/tls.key/ca.crt), else `cacerts`. */
  form: 'cacerts' | 'tls';
  resource: ResourceRef;
  /** Keys the form needs that are absent or empty, in the form's order. */
  missingKeys: string[];
  /** Data key names of this form, for messages. */
  keys: { caCert: string; caKey: string; root: string; chain?: string };
  caCertText?: string;
  caKeyText?: string;
  rootText?: string;
  /** cert-chain.pem (cacerts form); the tls form keeps its chain after the CA cert in tls.crt. */
  chainText?: string;
  crlText?: string;
}

/** Read a plugged-in CA Secret the way istiod does (istio/istio pilot/pkg/bootstrap/istio_ca.go). */
export function caSecretMaterial(secret: KubeObject): CaSecretMaterial {
  const present = (key: string) => {
    const text = secretText(secret, key);
    return text !== undefined && text.trim() !== '' ? text : undefined;
  };
  const resource = { kind: 'Secret', namespace: secret.metadata.namespace, name: secret.metadata.name };
  if (present('tls.crt') !== undefined) {
    const keys = CA_SECRET_KEYS.tls;
    return {
      form: 'tls',
      resource,
      keys,
      missingKeys: [keys.caCert, keys.caKey, keys.root].filter((k) => present(k) === undefined),
      caCertText: present(keys.caCert),
      caKeyText: present(keys.caKey),
      rootText: present(keys.root),
    };
  }
  const keys = CA_SECRET_KEYS.cacerts;
  return {
    form: 'cacerts',
    resource,
    keys,
    missingKeys: [keys.caCert, keys.caKey, keys.root, keys.chain].filter((k) => present(k) === undefined),
    caCertText: present(keys.caCert),
    caKeyText: present(keys.caKey),
    rootText: present(keys.root),
    chainText: present(keys.chain),
    crlText: present(keys.crl),
  };
}

/** The parsed certificates of a CA Secret, and what its private key tells (never the key). */
export interface ParsedCaMaterial {
  /** The signing certificate (first of ca-cert.pem / tls.crt). */
  caCert: CertificateFacts;
  /** cert-chain.pem in its order (tls form: the certificates after the first of tls.crt). */
  chain: CertificateFacts[];
  /** Certificates after the first in ca-cert.pem (a bundle some tools write). */
  caCertBundleRest: CertificateFacts[];
  /** root-cert.pem / ca.crt. */
  roots: CertificateFacts[];
  key?: PrivateKeyFacts;
}

/** Parse the certificates of a CA Secret. Throws an Error naming the data key that does not parse. */
export function parseCaMaterial(material: CaSecretMaterial): ParsedCaMaterial {
  const certs = (key: string, text: string | undefined): CertificateFacts[] => {
    if (text === undefined) return [];
    try {
      return parsePemCertificates(text);
    } catch (err) {
      if (err instanceof BundleTooLargeError) throw new BundleTooLargeError(err.count, key);
      throw new Error(`${key} does not parse: ${(err as Error).message}`, { cause: err });
    }
  };
  const caCerts = certs(material.keys.caCert, material.caCertText);
  if (caCerts.length === 0) throw new Error(`${material.keys.caCert} holds no PEM certificate`);
  const roots = certs(material.keys.root, material.rootText);
  if (material.rootText !== undefined && roots.length === 0) throw new Error(`${material.keys.root} holds no PEM certificate`);
  const chain = material.form === 'tls' ? caCerts.slice(1) : certs(material.keys.chain ?? 'cert-chain.pem', material.chainText);
  return {
    caCert: caCerts[0],
    chain,
    caCertBundleRest: material.form === 'tls' ? [] : caCerts.slice(1),
    roots,
    key: material.caKeyText === undefined ? undefined : privateKeyFacts(material.caKeyText),
  };
}

/** How cert-chain.pem is ordered relative to the path from ca-cert up. */
export type ChainOrder =
  | { kind: 'in-order' }
  /** Every certificate is on the path, in another order; `expected` lists subjects the right way. */
  | { kind: 'wrong-order'; expected: string[] }
  /** Some certificates are not on ca-cert's path at all. */
  | { kind: 'unrelated'; subjects: string[] };

/**
 * Check the order of cert-chain.pem: each certificate must be followed by its issuer, starting with
 * ca-cert (which Istio's tools/certs puts first; a chain without it starts with ca-cert's issuer).
 * Istio appends this file to every workload certificate, so peers see it in this order.
 */
export function chainOrder(caCert: CertificateFacts, chain: CertificateFacts[]): ChainOrder {
  if (chain.length === 0) return { kind: 'in-order' };
  const sequence = chain.some((c) => c.fingerprint === caCert.fingerprint) ? dedupe(chain) : [caCert, ...dedupe(chain)];
  const ordered = [caCert];
  for (;;) {
    const current = ordered[ordered.length - 1];
    const next = sequence.find((c) => !ordered.includes(c) && c.subject === current.issuer && c.fingerprint !== current.fingerprint && signatureVerifies(current, c));
    if (!next) break;
    ordered.push(next);
  }
  const unrelated = sequence.filter((c) => !ordered.some((o) => o.fingerprint === c.fingerprint));
  if (unrelated.length > 0) return { kind: 'unrelated', subjects: unrelated.map((c) => c.subject) };
  const same = ordered.every((c, i) => sequence[i]?.fingerprint === c.fingerprint);
  return same ? { kind: 'in-order' } : { kind: 'wrong-order', expected: ordered.map((c) => c.subject) };
}

function dedupe(certs: CertificateFacts[]): CertificateFacts[] {
  return certs.filter((c, i) => certs.findIndex((o) => o.fingerprint === c.fingerprint) === i);
}

// ---------------------------------------------------------------------------------------------
// The root of trust of each cluster
// ---------------------------------------------------------------------------------------------

/** Where a cluster's root was read from. */
export type RootSource = 'cacerts' | 'istio-ca-secret' | 'istio-ca-root-cert';

/** The trust facts of one cluster. */
export interface ClusterRoot {
  cluster: string;
  source: RootSource;
  resource: ResourceRef;
  /** The root this cluster's CA (and so its workload certificates) chains to. */
  signing: CertificateFacts;
  /** Every root its workloads trust (the root-cert.pem bundle). */
  trusted: CertificateFacts[];
  /** The certificate istiod signs workload certificates with, when read from a CA Secret. */
  signingCa?: CertificateFacts;
  /**
   * The signing root is a guess: read from a multi-root istio-ca-root-cert ConfigMap (a rotation), where
   * the first certificate need not be the one the CA chains to. Trust then counts any shared root.
   */
  signingUncertain?: boolean;
}

/** Why a cluster's root could not be had: a messageId of certificates/shared-root with its data. */
export type RootProblem = { resource?: ResourceRef } & (
  | { messageId: 'rootMissing'; data: { detail: string } }
  | { messageId: 'rootUnreadable'; data: { reason: string } }
  | { messageId: 'rootUnparseable'; data: { object: string; error: string } }
);

/** The result of reading a cluster's root. */
export type ClusterRootResult = { root: ClusterRoot; secretsForbidden: boolean } | { problem: RootProblem };

/**
 * Read the root of one cluster from the source that tells what its workloads actually use: the
 * plugged-in cacerts, else istiod's self-signed istio-ca-secret, else the istio-ca-root-cert ConfigMap
 * (first for remote clusters, whose own cacerts no istiod uses, and when Secrets are forbidden).
 * `distributedOnProblem`: when the Secret holds a broken root, fall back to the ConfigMap's (for
 * judging other clusters against it: one cluster's broken Secret must not hide another's fault).
 */
export async function readClusterRoot(
  reader: ClusterReader,
  info: ClusterInfo | undefined,
  namespace: string,
  opts: { distributedOnProblem?: boolean } = {},
): Promise<ClusterRootResult> {
  const ignoredCacerts = (secret: KubeObject | undefined) => secret !== undefined && cacertsIgnoredByIstiod(caSecretMaterial(secret), info?.istioVersion);
  const secrets = await listInNamespace(reader, 'secrets', namespace);
  const configMaps = await listInNamespace(reader, 'configmaps', namespace);
  const secretsForbidden = 'forbidden' in secrets;
  if ('forbidden' in secrets && 'forbidden' in configMaps) {
    return { problem: { messageId: 'rootUnreadable', data: { reason: `${secrets.forbidden}; ${configMaps.forbidden}` } } };
  }
  const secretList = 'objects' in secrets ? secrets.objects : [];
  const configMapList = 'objects' in configMaps ? configMaps.objects : [];
  const cacerts = secretList.find((s) => s.metadata.name === CACERTS_SECRET);
  const selfSigned = secretList.find((s) => s.metadata.name === SELF_SIGNED_CA_SECRET);
  const rootConfigMap = configMapList.find((c) => c.metadata.name === ROOT_CERT_CONFIGMAP);

  const remote = controlledElsewhere(info);
  const readers: (() => ClusterRoot | RootProblem | undefined)[] = [
    // An istiod before 1.27 ignores a cacerts without its key and signs with istio-ca-secret.
    () => (ignoredCacerts(cacerts) ? undefined : rootFromCacerts(reader.name, cacerts)),
    () => rootFromSelfSigned(reader.name, selfSigned),
    () => rootFromConfigMap(reader.name, rootConfigMap),
  ];
  if (remote) readers.unshift(readers.pop()!);
  for (const read of readers) {
    const result = read();
    if (result === undefined) continue;
    if ('messageId' in result) {
      // What the cluster's workloads trust is still the distributed root, whatever is wrong with the Secret.
      const distributed = opts.distributedOnProblem ? rootFromConfigMap(reader.name, rootConfigMap) : undefined;
      if (distributed && !('messageId' in distributed)) return { root: distributed, secretsForbidden: false };
      return { problem: result };
    }
    return { root: result, secretsForbidden: secretsForbidden && result.source === 'istio-ca-root-cert' };
  }
  const looked = secretsForbidden
    ? `no ${ROOT_CERT_CONFIGMAP} ConfigMap (Secrets are forbidden)`
    : `no ${CACERTS_SECRET} or ${SELF_SIGNED_CA_SECRET} Secret and no ${ROOT_CERT_CONFIGMAP} ConfigMap`;
  return { problem: { messageId: 'rootMissing', data: { detail: `${looked} in ${namespace}` } } };
}

/**
 * `appliesTo` of the checks of a cluster's own CA (cacerts, chain): a remote cluster runs no CA, its
 * workload certificates come from its control plane's istiod.
 */
export function clustersWithOwnCa(info: ClusterInfo): string | undefined {
  if (controlledElsewhere(info)) return 'remote cluster: its workload certificates come from its control plane\'s istiod';
  return undefined;
}

/**
 * The Secrets of the check's cluster in the istio namespace and the plug-in `cacerts` Secret among
 * them (undefined when absent). Skips the check when the Secrets cannot be read.
 */
export async function readCacertsSecret(ctx: ClusterReadContext): Promise<{ namespace: string; secrets: KubeObject[]; cacerts: KubeObject | undefined }> {
  const namespace = ctx.options.istioNamespace;
  const listed = await listInNamespace(ctx.cluster, 'secrets', namespace);
  if ('forbidden' in listed) return ctx.skip(`cannot read Secrets in ${namespace}: ${listed.forbidden}`);
  return { namespace, secrets: listed.objects, cacerts: listed.objects.find((s) => s.metadata.name === CACERTS_SECRET) };
}

/**
 * List a kind in the istio namespace. ConfigMaps come from the cluster-wide list every check shares,
 * retried namespaced when that is forbidden (a common grant); Secrets are only ever listed in the
 * namespace (never every application's credentials).
 */
export async function listInNamespace(reader: ClusterReader, kind: 'secrets' | 'configmaps', namespace: string): Promise<{ objects: KubeObject[] } | { forbidden: string }> {
  if (kind === 'configmaps') {
    try {
      return { objects: (await reader.list(kind)).filter((o) => o.metadata.namespace === namespace) };
    } catch (err) {
      if (!(err instanceof AccessError) || err.reason !== 'forbidden') throw err;
    }
  }
  try {
    return { objects: await reader.list(kind, { namespace }) };
  } catch (err) {
    if (err instanceof AccessError && err.reason === 'forbidden') return { forbidden: err.message };
    throw err;
  }
}

function parseOrProblem(pem: string | undefined, object: string): CertificateFacts[] | RootProblem {
  if (!pem || pem.startsWith('REDACTED')) return [];
  try {
    return parsePemCertificates(pem);
  } catch (err) {
    // Too many to read is "could not check" (the check errors), never a malformed root.
    if (err instanceof BundleTooLargeError) throw new BundleTooLargeError(err.count, object);
    return { messageId: 'rootUnparseable', data: { object, error: (err as Error).message } };
  }
}

function rootFromCacerts(cluster: string, secret: KubeObject | undefined): ClusterRoot | RootProblem | undefined {
  if (!secret) return undefined;
  const resource = { kind: 'Secret', namespace: secret.metadata.namespace, name: secret.metadata.name };
  const object = `secret/${secret.metadata.name}`;
  const material = caSecretMaterial(secret);
  const trusted = parseOrProblem(material.rootText, object);
  if (!Array.isArray(trusted)) return { ...trusted, resource };
  if (trusted.length === 0) return { messageId: 'rootMissing', resource, data: { detail: `${object} holds no ${material.keys.root} certificate` } };
  const caCerts = parseOrProblem(material.caCertText, object);
  const chain = material.form === 'cacerts' ? parseOrProblem(material.chainText, object) : [];
  const path = [...(Array.isArray(caCerts) ? caCerts : []), ...(Array.isArray(chain) ? chain : [])];
  const signingCa = Array.isArray(caCerts) ? caCerts[0] : undefined;
  return { cluster, source: 'cacerts', resource, signing: signingRoot(path, trusted), trusted, signingCa };
}

function rootFromSelfSigned(cluster: string, secret: KubeObject | undefined): ClusterRoot | RootProblem | undefined {
  if (!secret) return undefined;
  const resource = { kind: 'Secret', namespace: secret.metadata.namespace, name: secret.metadata.name };
  const object = `secret/${secret.metadata.name}`;
  const caCert = parseOrProblem(secretText(secret, 'ca-cert.pem'), object);
  if (!Array.isArray(caCert)) return { ...caCert, resource };
  const bundle = parseOrProblem(secretText(secret, 'root-cert.pem'), object);
  // istiod's self-signed CA is its own root; root-cert.pem is empty unless a bundle was configured.
  const trusted = Array.isArray(bundle) && bundle.length > 0 ? bundle : caCert;
  if (trusted.length === 0) return undefined;
  return { cluster, source: 'istio-ca-secret', resource, signing: signingRoot(caCert, trusted), trusted, signingCa: caCert[0] };
}

function rootFromConfigMap(cluster: string, configMap: KubeObject | undefined): ClusterRoot | RootProblem | undefined {
  if (!configMap) return undefined;
  const resource = { kind: 'ConfigMap', namespace: configMap.metadata.namespace, name: configMap.metadata.name };
  const trusted = parseOrProblem(configMap.data?.['root-cert.pem'], `configmap/${configMap.metadata.name}`);
  if (!Array.isArray(trusted)) return { ...trusted, resource };
  if (trusted.length === 0) return undefined;
  // Without the chain the signing root cannot be told: istiod usually writes the current one first,
  // but a rotation bundle (old and new roots) may list them in either order.
  return { cluster, source: 'istio-ca-root-cert', resource, signing: trusted[0], trusted, signingUncertain: trusted.length > 1 };
}

/** The root of `trusted` that the CA chain ends in: the chain's own copy of it, or its verified issuer. */
function signingRoot(chain: CertificateFacts[], trusted: CertificateFacts[]): CertificateFacts {
  for (const cert of [...chain].reverse()) {
    const same = trusted.find((t) => t.fingerprint === cert.fingerprint);
    if (same) return same;
  }
  const top = chain.at(-1);
  return (top && trusted.find((t) => t.subject === top.issuer && signatureVerifies(top, t))) ?? trusted[0];
}

/**
 * The clusters grouped by the root they chain to, the reference group first: the largest group
 * (ties: one with a plugged-in CA over a self-signed one, then report order). Checks judge a cluster
 * against the reference, so with two clusters and two roots the second cluster is the odd one.
 */
export function groupByRoot(roots: ClusterRoot[]): ClusterRoot[][] {
  const groups = new Map<string, ClusterRoot[]>();
  for (const root of roots) groups.set(root.signing.fingerprint, [...(groups.get(root.signing.fingerprint) ?? []), root]);
  // istiod's own self-signed root is the likely odd one out; a distributed root counts like the CA it came from.
  const pluggedIn = (group: ClusterRoot[]) => (group.some((r) => r.source !== 'istio-ca-secret') ? 1 : 0);
  return [...groups.values()].sort((a, b) => b.length - a.length || pluggedIn(b) - pluggedIn(a) || roots.indexOf(a[0]) - roots.indexOf(b[0]));
}

/**
 * Whether workloads of `a` trust certificates of `b` (b's signing root is in a's bundle). When b's
 * signing root is a guess (a multi-root ConfigMap), any root of b's bundle that a trusts counts.
 */
export function trustsRootOf(a: ClusterRoot, b: ClusterRoot): boolean {
  const candidates = b.signingUncertain ? b.trusted : [b.signing];
  return a.trusted.some((t) => candidates.some((c) => c.fingerprint === t.fingerprint));
}

/**
 * Whether an Istio version is at least major.minor: undefined when the version is unknown or does not
 * parse (`1.27.3`, `1.27.3-distroless`, `v1.27.0` parse).
 */
export function istioVersionAtLeast(version: string | undefined, major: number, minor: number): boolean | undefined {
  const v = parseVersion(version);
  if (!v) return undefined;
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** The first Istio minor whose istiod refuses an incomplete cacerts bundle (istio/istio#55696, checkCABundleCompleteness). */
export const ISTIOD_REFUSES_INCOMPLETE_CACERTS = { major: 1, minor: 27 } as const;

/**
 * Whether istiod of `istioVersion` ignores this CA Secret and signs with istio-ca-secret: before 1.27 it
 * looks for the key file alone (istio_ca.go: no ca-key.pem means self-signed). From 1.27 an incomplete
 * bundle makes istiod fail to start instead, so the Secret is still the CA it would use.
 */
export function cacertsIgnoredByIstiod(material: CaSecretMaterial, istioVersion: string | undefined): boolean {
  if (!material.missingKeys.includes(material.keys.caKey)) return false;
  const { major, minor } = ISTIOD_REFUSES_INCOMPLETE_CACERTS;
  return istioVersionAtLeast(istioVersion, major, minor) === false;
}

/**
 * Whether istiod of `istioVersion` refuses to start on this CA Secret: from 1.27 a bundle without its
 * key (checkCABundleCompleteness) stops istiod, so no root is signed with or distributed at all.
 * False when the version is unknown or older (cacertsIgnoredByIstiod covers those).
 */
export function cacertsRefusedByIstiod(material: CaSecretMaterial, istioVersion: string | undefined): boolean {
  if (!material.missingKeys.includes(material.keys.caKey)) return false;
  const { major, minor } = ISTIOD_REFUSES_INCOMPLETE_CACERTS;
  return istioVersionAtLeast(istioVersion, major, minor) === true;
}

/** Normalized certificate serial (lowercase hex, no separators or leading zeros), to match Envoy's /certs. */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/[^0-9a-f]/g, '').replace(/^0+(?=.)/, '');
}
