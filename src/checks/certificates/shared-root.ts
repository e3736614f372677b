// Encodes https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/ and the multicluster "Configure trust" step (https://istio.io/latest/docs/setup/install/multicluster/before-you-begin/#configure-trust).
import { defineCheck } from '../../engine/define-check.ts';
import { AccessError, type ClusterReader, type KubeObject } from '../../cluster/types.ts';
import type { ClusterInfo, FindingInput, ResourceRef } from '../../engine/types.ts';
import {
  CACERTS_SECRET,
  ROOT_CERT_CONFIGMAP,
  SELF_SIGNED_CA_SECRET,
  findIssuer,
  fingerprintPrefix,
  parsePemCertificates,
  secretText,
  type CertificateFacts,
} from '../../mesh/certificates.ts';

/** Where a cluster's root was read from. */
type RootSource = 'cacerts' | 'istio-ca-secret' | 'istio-ca-root-cert';

/** The trust facts of one cluster. */
interface ClusterRoot {
  cluster: string;
  source: RootSource;
  resource: ResourceRef;
  /** The root this cluster's CA (and so its workload certificates) chains to. */
  signing: CertificateFacts;
  /** Every root its workloads trust (the root-cert.pem bundle). */
  trusted: CertificateFacts[];
}

/** Why a cluster's root could not be had: a finding instead of a root. */
interface RootProblem {
  messageId: 'rootMissing' | 'rootUnreadable' | 'rootUnparseable';
  resource?: ResourceRef;
  data: Record<string, string>;
}

const PLUGIN_CA_HINT =
  'Plug in certificates from one root for every cluster (Istio\'s tools/certs: make -f Makefile.selfsigned.mk root-ca; ' +
  'make -f Makefile.selfsigned.mk <cluster>-cacerts), then in each cluster: kubectl create secret generic cacerts -n {{namespace}} ' +
  '--from-file=<cluster>/ca-cert.pem --from-file=<cluster>/ca-key.pem --from-file=<cluster>/root-cert.pem --from-file=<cluster>/cert-chain.pem; ' +
  'kubectl rollout restart deployment/istiod -n {{namespace}}, then restart workloads so they get new certificates.';

export default defineCheck({
  id: 'certificates/shared-root',
  category: 'certificates',
  scope: 'mesh',
  needs: ['secrets', 'configmaps'],
  meta: {
    description: 'All clusters chain to a root of trust every other cluster trusts',
    details:
      'Cross-cluster mTLS works only when each side trusts the root the other side\'s certificates chain to. Per cluster, ' +
      'the check reads the root from the plugged-in CA (the cacerts Secret: root-cert.pem, or ca.crt in the tls.crt/tls.key/ca.crt ' +
      'form), else istiod\'s self-signed istio-ca-secret, else the istio-ca-root-cert ConfigMap istiod distributes (always for ' +
      'remote clusters, whose workloads trust what the primary distributes, and when Secrets are forbidden). It compares SHA-256 ' +
      'fingerprints; a root-cert.pem bundle holding both roots (a root migration) counts as trust. When roots differ, the clusters ' +
      'outside the largest group sharing a root are reported, with which clusters use which root.',
    docs: 'https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/',
    messages: {
      rootMismatch: {
        template:
          'Cluster {{cluster}} chains to root {{root}} ({{subject}}, from {{source}}), not trusted by {{peers}} (roots by cluster: {{groups}}); cross-cluster mTLS fails with CERTIFICATE_VERIFY_FAILED',
        severity: 'error',
        hint: PLUGIN_CA_HINT,
      },
      rootMissing: {
        template: 'Cluster {{cluster}} has no readable root certificate: {{detail}}',
        severity: 'error',
        hint:
          'Check the CA material: kubectl -n {{namespace}} get secret cacerts istio-ca-secret; kubectl -n {{namespace}} get configmap istio-ca-root-cert. ' +
          'A cluster without any of them has never had a running istiod (or, for a remote, never been reached by its primary).',
      },
      rootUnparseable: {
        template: 'The root certificate in {{object}} of cluster {{cluster}} cannot be parsed: {{error}}',
        severity: 'error',
        hint: 'Look at it: kubectl -n {{namespace}} get {{object}} -o yaml, decode the value and run openssl x509 -noout -text on it; recreate it from the CA files.',
      },
      rootUnreadable: {
        template: 'The root certificate of cluster {{cluster}} could not be read: {{reason}}',
        severity: 'warning',
        hint: 'Grant read access to Secrets or at least ConfigMaps in {{namespace}} (kubectl auth can-i list configmaps -n {{namespace}}), or run with a context that has it.',
      },
      rootFromConfigMap: {
        template: 'Cluster {{cluster}}: Secrets are forbidden, so its root was read from the istio-ca-root-cert ConfigMap (what istiod distributes) instead of cacerts',
        severity: 'info',
        hint: 'For a check of the CA Secret itself, grant list on secrets in {{namespace}}: kubectl auth can-i list secrets -n {{namespace}}',
      },
    },
  },
  async run(ctx) {
    const namespace = ctx.options.istioNamespace;
    const roots: ClusterRoot[] = [];
    for (const [i, reader] of ctx.clusters.entries()) {
      const info = ctx.clusterInfos[i];
      if (info && !info.reachable) continue;
      const result = await readClusterRoot(reader, info, namespace);
      if ('problem' in result) {
        ctx.report({ messageId: result.problem.messageId, cluster: reader.name, resource: result.problem.resource, data: { cluster: reader.name, namespace, ...result.problem.data } });
        continue;
      }
      if (result.secretsForbidden) {
        ctx.report({ messageId: 'rootFromConfigMap', cluster: reader.name, resource: result.root.resource, data: { cluster: reader.name, namespace } });
      }
      roots.push(result.root);
    }

    ctx.attach(
      'roots',
      Object.fromEntries(
        roots.map((r) => [r.cluster, { fingerprint: r.signing.fingerprint, subject: r.signing.subject, notAfter: r.signing.notAfter.toISOString(), source: r.source, bundleSize: r.trusted.length }]),
      ),
    );
    for (const mismatch of findMismatches(roots)) ctx.report({ ...mismatch, data: { ...mismatch.data, namespace } });
  },
});

/** Read the root of one cluster, from the source that tells what its workloads actually use. */
async function readClusterRoot(
  reader: ClusterReader,
  info: ClusterInfo | undefined,
  namespace: string,
): Promise<{ root: ClusterRoot; secretsForbidden: boolean } | { problem: RootProblem }> {
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

  // A remote's own cacerts (if any) is used by no istiod: its workloads trust what the primary distributes.
  const remote = info?.role === 'remote' || info?.role === 'external-controlled';
  const readers: (() => Promise<ClusterRoot | RootProblem | undefined>)[] = [
    () => fromCacerts(reader.name, cacerts),
    () => fromSelfSigned(reader.name, selfSigned),
    () => fromConfigMap(reader.name, rootConfigMap),
  ];
  if (remote) readers.unshift(readers.pop()!);
  for (const read of readers) {
    const result = await read();
    if (result === undefined) continue;
    if ('messageId' in result) return { problem: result };
    return { root: result, secretsForbidden: secretsForbidden && result.source === 'istio-ca-root-cert' };
  }
  const looked = secretsForbidden ? `no ${ROOT_CERT_CONFIGMAP} ConfigMap (Secrets are forbidden)` : `no ${CACERTS_SECRET} or ${SELF_SIGNED_CA_SECRET} Secret and no ${ROOT_CERT_CONFIGMAP} ConfigMap`;
  return { problem: { messageId: 'rootMissing', data: { detail: `${looked} in ${namespace}` } } };
}

async function listInNamespace(reader: ClusterReader, kind: 'secrets' | 'configmaps', namespace: string): Promise<{ objects: KubeObject[] } | { forbidden: string }> {
  try {
    return { objects: (await reader.list(kind)).filter((o) => o.metadata.namespace === namespace) };
  } catch (err) {
    if (!(err instanceof AccessError) || err.reason !== 'forbidden') throw err;
  }
  // A namespaced grant is common for Secrets: ask for just the istio namespace before giving up.
  try {
    return { objects: await reader.list(kind, { namespace }) };
  } catch (err) {
    if (err instanceof AccessError && err.reason === 'forbidden') return { forbidden: err.message };
    throw err;
  }
}

function parse(pem: string | undefined, where: { cluster: string; object: string }): CertificateFacts[] | RootProblem {
  if (!pem || pem.startsWith('REDACTED')) return [];
  try {
    return parsePemCertificates(pem);
  } catch (err) {
    return { messageId: 'rootUnparseable', data: { object: where.object, error: (err as Error).message } };
  }
}

async function fromCacerts(cluster: string, secret: KubeObject | undefined): Promise<ClusterRoot | RootProblem | undefined> {
  if (!secret) return undefined;
  const resource = { kind: 'Secret', namespace: secret.metadata.namespace, name: secret.metadata.name };
  const object = `secret/${secret.metadata.name}`;
  // Two forms istiod loads: ca-cert.pem/ca-key.pem/root-cert.pem/cert-chain.pem, or tls.crt/tls.key/ca.crt.
  const trusted = parse(secretText(secret, 'root-cert.pem') ?? secretText(secret, 'ca.crt'), { cluster, object });
  if (!Array.isArray(trusted)) return { ...trusted, resource };
  if (trusted.length === 0) return { messageId: 'rootMissing', resource, data: { detail: `${object} holds no root-cert.pem (or ca.crt) certificate` } };
  const chain = parse(secretText(secret, 'cert-chain.pem'), { cluster, object });
  const caCert = parse(secretText(secret, 'ca-cert.pem') ?? secretText(secret, 'tls.crt'), { cluster, object });
  const path = [...(Array.isArray(caCert) ? caCert : []), ...(Array.isArray(chain) ? chain : [])];
  return { cluster, source: 'cacerts', resource, signing: await signingRoot(path, trusted), trusted };
}

async function fromSelfSigned(cluster: string, secret: KubeObject | undefined): Promise<ClusterRoot | RootProblem | undefined> {
  if (!secret) return undefined;
  const resource = { kind: 'Secret', namespace: secret.metadata.namespace, name: secret.metadata.name };
  const object = `secret/${secret.metadata.name}`;
  const caCert = parse(secretText(secret, 'ca-cert.pem'), { cluster, object });
  if (!Array.isArray(caCert)) return { ...caCert, resource };
  const bundle = parse(secretText(secret, 'root-cert.pem'), { cluster, object });
  // istiod's self-signed CA is its own root; root-cert.pem is empty unless a bundle was configured.
  const trusted = Array.isArray(bundle) && bundle.length > 0 ? bundle : caCert;
  if (trusted.length === 0) return undefined;
  return { cluster, source: 'istio-ca-secret', resource, signing: await signingRoot(caCert, trusted), trusted };
}

async function fromConfigMap(cluster: string, configMap: KubeObject | undefined): Promise<ClusterRoot | RootProblem | undefined> {
  if (!configMap) return undefined;
  const resource = { kind: 'ConfigMap', namespace: configMap.metadata.namespace, name: configMap.metadata.name };
  const trusted = parse(configMap.data?.['root-cert.pem'], { cluster, object: `configmap/${configMap.metadata.name}` });
  if (!Array.isArray(trusted)) return { ...trusted, resource };
  if (trusted.length === 0) return undefined;
  // Without the chain, the first root of the bundle is the current one (istiod writes it first).
  return { cluster, source: 'istio-ca-root-cert', resource, signing: trusted[0], trusted };
}

/** The root of `trusted` that the CA chain ends in: the chain's own copy of it, or its verified issuer. */
async function signingRoot(chain: CertificateFacts[], trusted: CertificateFacts[]): Promise<CertificateFacts> {
  for (const cert of [...chain].reverse()) {
    const same = trusted.find((t) => t.fingerprint === cert.fingerprint);
    if (same) return same;
  }
  const top = chain.at(-1);
  return (top && (await findIssuer(top, trusted))) ?? trusted[0];
}

/**
 * Clusters whose root the others do not trust. Clusters are grouped by signing root; the reference
 * is the largest group (ties: a plugged-in CA over a self-signed one, then report order), and each
 * cluster outside it that is not mutually trusted with the reference is reported.
 */
function findMismatches(roots: ClusterRoot[]): FindingInput[] {
  const trusts = (a: ClusterRoot, b: ClusterRoot): boolean => a.trusted.some((t) => t.fingerprint === b.signing.fingerprint);
  const groups = new Map<string, ClusterRoot[]>();
  for (const root of roots) groups.set(root.signing.fingerprint, [...(groups.get(root.signing.fingerprint) ?? []), root]);
  if (groups.size < 2) return [];
  const ranked = [...groups.values()].sort(
    (a, b) => b.length - a.length || pluggedIn(b) - pluggedIn(a) || roots.indexOf(a[0]) - roots.indexOf(b[0]),
  );
  const reference = ranked[0];
  const describeGroups = ranked.map((g) => `${g.map((r) => r.cluster).join(', ')}: ${fingerprintPrefix(g[0].signing.fingerprint)}`).join('; ');
  const findings: FindingInput[] = [];
  for (const root of roots) {
    if (reference.includes(root)) continue;
    const distrusting = reference.filter((peer) => !(trusts(peer, root) && trusts(root, peer)));
    if (distrusting.length === 0) continue;
    findings.push({
      messageId: 'rootMismatch',
      cluster: root.cluster,
      resource: root.resource,
      data: {
        cluster: root.cluster,
        root: fingerprintPrefix(root.signing.fingerprint),
        subject: root.signing.subject,
        source: root.source,
        peers: distrusting.map((p) => `${p.cluster} (root ${fingerprintPrefix(p.signing.fingerprint)})`).join(', '),
        groups: describeGroups,
      },
    });
  }
  return findings;
}

function pluggedIn(group: ClusterRoot[]): number {
  return group.some((r) => r.source === 'cacerts') ? 1 : 0;
}
