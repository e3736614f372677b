// Workload certificates as istiod's CA issues them: signed by the control plane cluster's CA
// (cacerts, else istiod's self-signed istio-ca-secret, else a CA the sim makes up), 24 h validity,
// SPIFFE URI SAN. Issued once per pod and cached; rendered as Envoy's /certs and config_dump secrets.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KubeObject } from '../../cluster/types.ts';
import { issueCert, type IssuedCert } from '../pki.ts';
import { objectsOf, type ClusterView } from './cluster-view.ts';
import type { MeshSim } from './mesh.ts';
import { secretText } from './objects.ts';

/** A workload's certificate with the chain and roots its Envoy holds. */
export interface WorkloadCert {
  leaf: IssuedCert;
  /** Intermediates after the leaf (PEM, cert-chain order without the root). */
  chainPems: string[];
  rootPem: string;
}

const HOUR_MS = 3600 * 1000;
const selfSignedCas = new WeakMap<ClusterView, Promise<IssuedCert>>();

/** The CA of a cluster's istiod, with the chain above it and its root. */
async function signingCaOf(ca: ClusterView): Promise<{ issuer: IssuedCert; chainPems: string[]; rootPem: string }> {
  const secrets = objectsOf(ca, 'secrets').filter((s) => s.metadata.namespace === ca.istioNamespace);
  for (const [name, certKey, keyKey] of [
    ['cacerts', 'ca-cert.pem', 'ca-key.pem'],
    ['cacerts', 'tls.crt', 'tls.key'],
    ['istio-ca-secret', 'ca-cert.pem', 'ca-key.pem'],
  ] as const) {
    const secret = secrets.find((s) => s.metadata.name === name);
    const certPem = secretText(secret, certKey);
    const keyPem = secretText(secret, keyKey);
    if (!certPem || !keyPem) continue;
    const issuer = await importIssuer(certPem, keyPem).catch(() => undefined);
    if (!issuer) continue;
    const chainText = secretText(secret, 'cert-chain.pem') ?? certPem;
    const rootPem = secretText(secret, 'root-cert.pem') ?? secretText(secret, 'ca.crt') ?? certPem;
    const chainPems = splitPems(chainText).filter((p) => normalize(p) !== normalize(rootPem));
    return { issuer, chainPems: chainPems.length ? chainPems : [certPem], rootPem };
  }
  // No usable CA material: istiod would self-sign; the sim makes up a root for this cluster.
  let selfSigned = selfSignedCas.get(ca);
  if (!selfSigned) {
    selfSigned = issueCert({ subject: 'O=cluster.local', isCa: true, validityDays: 3650 });
    selfSignedCas.set(ca, selfSigned);
  }
  const issuer = await selfSigned;
  return { issuer, chainPems: [], rootPem: issuer.certPem };
}

async function importIssuer(certPem: string, keyPem: string): Promise<IssuedCert> {
  const cert = new x509.X509Certificate(certPem);
  const publicKey = await cert.publicKey.export();
  const algorithm =
    publicKey.algorithm.name === 'ECDSA'
      ? { name: 'ECDSA', namedCurve: (publicKey.algorithm as EcKeyAlgorithm).namedCurve }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const der = x509.PemConverter.decode(keyPem)[0];
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm, true, ['sign']);
  return { cert, certPem, keyPem, keys: { publicKey, privateKey } as CryptoKeyPair };
}

function splitPems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => `${p}\n`) ?? [];
}

function normalize(pem: string): string {
  return pem.replace(/\s+/g, '');
}

/** The workload cert of a pod (issued on first request, then cached for the mesh). */
export function workloadCertOf(sim: MeshSim, view: ClusterView, pod: KubeObject): Promise<WorkloadCert> {
  const key = `${view.name}/${pod.metadata.namespace}/${pod.metadata.name}`;
  let cached = sim.certs.get(key) as Promise<WorkloadCert> | undefined;
  if (!cached) {
    cached = issueWorkloadCert(sim, view, pod);
    sim.certs.set(key, cached);
  }
  return cached;
}

async function issueWorkloadCert(sim: MeshSim, view: ClusterView, pod: KubeObject): Promise<WorkloadCert> {
  const controlPlane = sim.controlPlaneOf(view.name);
  const caView = controlPlane?.view ?? view;
  const { issuer, chainPems, rootPem } = await signingCaOf(caView);
  const trustDomain = caView.meshConfig.trustDomain || 'cluster.local';
  const sa = pod.spec?.serviceAccountName ?? 'default';
  const now = sim.mesh.clock().getTime();
  const leaf = await issueCert({
    subject: '',
    issuer,
    uris: [`spiffe://${trustDomain}/ns/${pod.metadata.namespace}/sa/${sa}`],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 24 * HOUR_MS),
    serverAuth: true,
    clientAuth: true,
  });
  return { leaf, chainPems, rootPem };
}

function certEntry(cert: x509.X509Certificate, now: Date): Record<string, unknown> {
  const sans = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  const days = Math.max(0, Math.floor((cert.notAfter.getTime() - now.getTime()) / (24 * HOUR_MS)));
  return {
    path: '<inline>',
    serial_number: cert.serialNumber.toLowerCase(),
    subject_alt_names: sans.map((n) => (n.type === 'url' ? { uri: n.value } : n.type === 'dns' ? { dns: n.value } : { ip_address: n.value })),
    days_until_expiration: String(days),
    valid_from: cert.notBefore.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    expiration_time: cert.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/**
 * Envoy's /certs JSON as a real sidecar prints it: per TLS context, `cert_chain` holds only the leaf
 * (ContextImpl::getCertChainInformation reads each context's leaf) and `ca_cert` only the first
 * certificate of the trust bundle (the validator keeps the first one it loads).
 */
export function certsJson(wc: WorkloadCert, now: Date): string {
  // Parse the first only: a trust bundle of thousands must not hold the lab's event loop.
  const firstPem = splitPems(wc.rootPem)[0];
  const firstRoot = firstPem ? new x509.X509Certificate(firstPem) : undefined;
  const body = { certificates: [{ ca_cert: firstRoot ? [certEntry(firstRoot, now)] : [], cert_chain: [certEntry(wc.leaf.cert, now)] }] };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/**
 * Envoy's config_dump reduced to its SecretsConfigDump (what `istioctl proxy-config secret` reads).
 * With `resource=dynamic_active_secrets` Envoy lists each DynamicSecret as a config of its own.
 */
export function configDumpJson(wc: WorkloadCert, resource?: string): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const lastUpdated = wc.leaf.cert.notBefore.toISOString();
  const body = {
    configs: [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
        dynamic_active_secrets: [
          {
            name: 'default',
            version_info: lastUpdated,
            last_updated: lastUpdated,
            secret: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
              name: 'default',
              tls_certificate: {
                certificate_chain: { inline_bytes: b64([wc.leaf.certPem, ...wc.chainPems].join('')) },
                private_key: { inline_bytes: b64('[redacted]') },
              },
            },
          },
          {
            name: 'ROOTCA',
            version_info: lastUpdated,
            last_updated: lastUpdated,
            secret: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
              name: 'ROOTCA',
              validation_context: { trusted_ca: { inline_bytes: b64(wc.rootPem) } },
            },
          },
        ],
      },
    ],
  };
  if (resource === 'dynamic_active_secrets') {
    const filtered = body.configs[0].dynamic_active_secrets.map((s) => ({ '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret', ...s }));
    return `${JSON.stringify({ configs: filtered }, null, 2)}\n`;
  }
  return `${JSON.stringify(body, null, 2)}\n`;
}
