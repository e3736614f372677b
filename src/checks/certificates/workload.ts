// Encodes Envoy's /certs admin endpoint (https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--certs) as `pilot-agent request GET certs` serves it, and Istio's SPIFFE identities (https://istio.io/latest/docs/concepts/security/#istio-identity).
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import { AccessError, SIDECAR_ADMIN_PATHS, type ClusterReader, type KubeObject, type ZtunnelDumpOutput } from '../../cluster/types.ts';
import type { ClusterInfo, ContextOf, ResourceRef } from '../../engine/types.ts';
import { BundleTooLargeError, fingerprintPrefix, groupByRoot, normalizeSerial, parsePemCertificates, readClusterRoot, trustsRootOf, type CertificateFacts, type ClusterRoot } from '../../mesh/certificates.ts';
import { signatureVerifies } from '../../mesh/x509-validate.ts';
import { CONTROL_PLANE_CLUSTERS_ANNOTATION, annotationsOf, meshConfigOf, findMeshConfigMaps } from '../../mesh/istio-objects.ts';
import { sampleWorkloadSidecars, WORKLOAD_SAMPLE_SIZE } from '../../mesh/sidecars.ts';
import { controlledElsewhere, dataPlaneSkipReason, istioNamespaceOf } from '../../mesh/roles.ts';
import { parseZtunnelDump, runsAmbient } from '../../mesh/ambient.ts';
import * as x509 from '@peculiar/x509';

/** At most this many sidecars per cluster: one exec each, so bounded. */
/** Istio rotates at half the lifetime (SECRET_GRACE_PERIOD_RATIO 0.5): below a quarter left, rotation is stuck. */
const ROTATION_STUCK_RATIO = 0.25;

/** ztunnel certificates judged per cluster: a few identities of each sampled ztunnel (one port-forward each). */
const ZTUNNEL_IDENTITIES = 5;

/** One certificate as Envoy's /certs describes it (no PEM: serial, SANs and dates). */
interface EnvoyCert {
  serial: string;
  uris: string[];
  validFrom?: Date;
  expiration?: Date;
}

/**
 * What a sidecar's /certs tells. Envoy lists only the leaf of each TLS context's chain and only the
 * first certificate of its trust bundle (ssl context_impl.cc), so neither the issuer nor the whole
 * bundle can be judged from it.
 */
interface SidecarCerts {
  /** The workload chain as /certs shows it: the leaf (older or other Envoys may list more). */
  chain: EnvoyCert[];
  /** The trusted roots /certs shows (the first of each bundle). */
  roots: EnvoyCert[];
}

/** The SDS secrets of a sidecar (config_dump?resource=dynamic_active_secrets): the real certificates. */
export interface SidecarSecrets {
  /** The `default` secret's certificate_chain: leaf first, then what istiod appended (ca-cert, intermediates, root). */
  chain: CertificateFacts[];
  /** The `ROOTCA` secret's trusted_ca: the whole trust bundle. */
  bundle: CertificateFacts[];
}

const check = defineCheck({
  id: 'certificates/workload',
  category: 'certificates',
  scope: 'cluster',
  // An external control plane cluster runs no proxies of the mesh.
  appliesTo: dataPlaneSkipReason,
  needs: ['pods', 'namespaces', 'configmaps', 'secrets?', 'proxy:certs', 'proxy:secrets', 'ztunnel-config?'],
  // Secrets (the CA certificate) are read when allowed; without them the issuer is not judged.
  meta: {
    description: 'Sampled sidecars (and ztunnels, for ambient workloads) hold a current certificate from their cluster\'s CA, with the mesh\'s trust domain and root',
    details:
      `Reads Envoy's /certs (pilot-agent request GET certs in istio-proxy) of up to ${WORKLOAD_SAMPLE_SIZE} running sidecars per cluster, ` +
      'spread over namespaces (offline: the snapshot\'s proxies/<ns>/<pod>/certs.json), and their SDS secrets ' +
      `(pilot-agent request GET ${SIDECAR_ADMIN_PATHS.secrets}; offline proxies/<ns>/<pod>/config_dump.json). ` +
      '/certs shows only the leaf and the first root of the bundle, so the issuer and the trust bundle are judged from the ' +
      'secrets: the leaf\'s signature must verify with the key of the cluster\'s CA certificate (of its control plane for a ' +
      'remote), and the ROOTCA bundle must hold the mesh\'s root (any position: a rotation bundles old and new roots). ' +
      'Without the secrets the issuer is not judged. The SPIFFE URI SAN spiffe://<trust domain>/ns/<ns>/sa/<sa> must use ' +
      'the mesh\'s trust domain (or an alias the mesh config declares), or peers\' authorization policies reject it. The ' +
      'proxy\'s trusted roots (ROOTCA) must include the mesh\'s root, and its certificate must chain to a root the other ' +
      'clusters trust. An expired certificate is an error; one with under a quarter of its lifetime left means rotation ' +
      'is stuck (Istio rotates at half) and is a warning. Ambient workloads have no sidecar: their certificates are ' +
      `those ztunnel holds for them, read from the /config_dump of the sampled ztunnels (up to ${ZTUNNEL_IDENTITIES} identities each: ` +
      'certChain, leaf first, and rootCerts) and judged the same way.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/proxy-cmd/#verifying-connectivity-to-istiod',
    messages: {
      workloadIssuerMismatch: {
        template: '{{pod}} holds a certificate not signed by the cluster\'s CA {{ca}} (its issuer: {{issuer}}): it was issued by another or an older CA',
        severity: 'error',
        // Without ca-key.pem istiod cannot sign with the plugged-in CA; with a key that is not ca-cert's, its signatures do not verify against it.
        explainedBy: [
          { check: 'certificates/cacerts', messages: ['cacertsMissing', 'cacertsIncomplete'], when: 'cluster' },
          { check: 'certificates/chain', messages: ['caKeyMismatch'], when: 'cluster' },
        ],
        hint:
          'Compare: istioctl proxy-config secret {{podName}} -n {{podNamespace}} -o json, decoding the chain with openssl x509 -noout -issuer -serial. ' +
          'Restart the workload so it gets a new certificate (kubectl --context=<{{cluster}} context> rollout restart deployment -n {{podNamespace}} <its deployment>); if it persists, fix cacerts and restart istiod first.',
      },
      workloadTrustDomainMismatch: {
        template: '{{pod}} has identity {{identity}}: trust domain {{trustDomain}} is not the mesh\'s {{meshTrustDomain}} (aliases: {{aliases}})',
        severity: 'error',
        // The cluster's mesh config chose that trust domain: its control-plane/mesh-config finding is the cause.
        explainedBy: [{ check: 'control-plane/mesh-config', messages: ['trustDomainMismatch'], when: 'cluster' }],
        hint:
          'Give every cluster the same trust domain (istioctl --context=<{{cluster}} context> install --set meshConfig.trustDomain={{meshTrustDomain}}), or list it as an alias ' +
          'in every cluster (meshConfig.trustDomainAliases), then restart istiod and the workloads.',
      },
      workloadRootNotShared: {
        template: '{{pod}} {{problem}}: peers in {{peers}} reject its mTLS (CERTIFICATE_VERIFY_FAILED)',
        severity: 'error',
        // A sidecar's chain ends at its istiod's root: a cluster CA on another root (or istiod's self-signed one) is the cause.
        explainedBy: [
          { check: 'certificates/shared-root', messages: ['rootMismatch'], when: 'cluster' },
          { check: 'certificates/cacerts', messages: ['cacertsMissing', 'cacertsIncomplete'], when: 'cluster' },
        ],
        hint: 'Plug in a CA issued from the mesh\'s root in this cluster (the commands: meshdoctor explain certificates/shared-root), restart istiod, then the workloads.',
      },
      workloadCertExpired: {
        template: '{{pod}} presents a certificate that expired at {{expiration}}',
        severity: 'error',
        hint: 'The proxy cannot renew it: check istiod reachability from the pod (istioctl proxy-status) and the agent logs (kubectl logs -n {{podNamespace}} {{podName}} -c istio-proxy); then delete the pod so it restarts.',
      },
      workloadCertNotRotated: {
        template: '{{pod}} holds a certificate with {{left}} of its lifetime left (expires {{expiration}}): rotation looks stuck',
        severity: 'warning',
        hint: 'Istio renews at half the lifetime. Check the agent logs (kubectl logs -n {{podNamespace}} {{podName}} -c istio-proxy | grep -i cert) and istiod reachability (istioctl proxy-status).',
      },
    },
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const samples = sampleWorkloadSidecars(await reader.list('pods'));
    // Ambient workloads have no sidecar: their certificates are the ones the node's ztunnel holds for them.
    const ztunnels: ZtunnelHolders | undefined = runsAmbient(ctx.clusterInfo.dataPlane) ? await ztunnelHolders(ctx) : undefined;
    if (samples.length === 0) {
      if (ztunnels && 'holders' in ztunnels) {
        const trust = await trustContext(ctx);
        for (const { holder, certs, secrets } of ztunnels.holders) judgeHolder(ctx, holder, certs, secrets, trust);
        return;
      }
      return ctx.skip(ztunnels ? `no running sidecar to sample, and ${ztunnels.skip}` : 'no running sidecar to sample');
    }

    const sidecars: { pod: KubeObject; certs: SidecarCerts; secrets?: SidecarSecrets }[] = [];
    const failures: string[] = [];
    for (const pod of samples) {
      const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name };
      let body: string;
      try {
        body = await reader.sidecarAdmin(ref, 'certs', { signal: ctx.signal, timeoutMs: 10_000 });
      } catch (err) {
        if (err instanceof AccessError && (err.reason === 'offline' || err.reason === 'not-found')) continue;
        failures.push(`${ref.namespace}/${ref.name}: ${(err as Error).message}`);
        continue;
      }
      const certs = parseEnvoyCerts(body, `${ref.namespace}/${ref.name}`);
      const secretsBody = await readSecrets(reader, ref, ctx.signal);
      sidecars.push({ pod, certs, secrets: secretsBody === undefined ? undefined : parseSdsSecrets(secretsBody, `${ref.namespace}/${ref.name}`) });
    }
    if (sidecars.length === 0) {
      if (failures.length) throw new Error(`no sampled sidecar answered GET certs: ${failures.join('; ')}`);
      return ctx.skip('no /certs output for the sampled sidecars (offline snapshot without proxies/)');
    }

    const trust = await trustContext(ctx);
    for (const { pod, certs, secrets } of sidecars) judgeHolder(ctx, sidecarHolder(pod), certs, secrets, trust);
    for (const { holder, certs, secrets } of ztunnels && 'holders' in ztunnels ? ztunnels.holders : []) judgeHolder(ctx, holder, certs, secrets, trust);
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/**
 * The SDS secrets of a sidecar through its admin endpoint: live, config_dump filtered to the secrets
 * (the full dump is large); offline, the snapshot's config_dump.json. Undefined when unavailable: the
 * issuer is then not judged.
 */
async function readSecrets(reader: ClusterReader, ref: { namespace: string; name: string }, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    return await reader.sidecarAdmin(ref, 'secrets', { signal, timeoutMs: 10_000 });
  } catch (err) {
    if (err instanceof AccessError) return undefined;
    throw err;
  }
}

/**
 * Parse the SDS secrets of a config_dump: filtered by resource (`configs: [{@type: ...DynamicSecret,
 * name, secret}]`) or whole (`configs: [{@type: ...SecretsConfigDump, dynamic_active_secrets: [...]}]`).
 * Certificates are inline_bytes (base64) or inline_string. Throws on an unknown shape.
 */
export function parseSdsSecrets(body: string, where: string): SidecarSecrets | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new Error(`config_dump of ${where} is not JSON`);
  }
  const configs = (doc as { configs?: unknown })?.configs;
  if (!Array.isArray(configs)) throw new Error(`config_dump of ${where}: unknown format (no "configs" array)`);
  const secrets: Record<string, unknown>[] = [];
  for (const config of configs as Record<string, unknown>[]) {
    if (Array.isArray(config?.dynamic_active_secrets)) secrets.push(...(config.dynamic_active_secrets as Record<string, unknown>[]));
    else if (typeof config?.['@type'] === 'string' && (config['@type'] as string).endsWith('SecretsConfigDump.DynamicSecret')) secrets.push(config);
  }
  const pem = (source: unknown): string => {
    const s = source as { inline_bytes?: unknown; inline_string?: unknown } | undefined;
    if (typeof s?.inline_bytes === 'string') return Buffer.from(s.inline_bytes, 'base64').toString('utf8');
    return typeof s?.inline_string === 'string' ? s.inline_string : '';
  };
  const secretNamed = (name: string) => secrets.find((s) => s?.name === name)?.secret as Record<string, { certificate_chain?: unknown; trusted_ca?: unknown }> | undefined;
  const chainPem = pem(secretNamed('default')?.tls_certificate?.certificate_chain);
  const bundlePem = pem(secretNamed('ROOTCA')?.validation_context?.trusted_ca);
  if (!chainPem.includes('BEGIN CERTIFICATE') || !bundlePem.includes('BEGIN CERTIFICATE')) return undefined;
  try {
    return { chain: parsePemCertificates(chainPem), bundle: parsePemCertificates(bundlePem) };
  } catch (err) {
    if (err instanceof BundleTooLargeError) throw new BundleTooLargeError(err.count, `the trust bundle in the config_dump of ${where}`);
    throw new Error(`config_dump of ${where}: a secret's certificate does not parse: ${(err as Error).message}`, { cause: err });
  }
}

/** What sidecars are judged against. */
interface TrustContext {
  /** The CA that signs this cluster's workload certificates (its control plane's), when readable. */
  signingCa?: CertificateFacts;
  /** This cluster's (control plane's) root facts. */
  ownRoot?: ClusterRoot;
  /** The root of the mesh's reference group (see groupByRoot) and its clusters, when the mesh has several. */
  reference?: ClusterRoot[];
  meshTrustDomain?: string;
  aliases: string[];
}

async function trustContext(ctx: Ctx): Promise<TrustContext> {
  const istioNamespace = ctx.options.istioNamespace;
  const controlPlane = await controlPlaneIndex(ctx);
  const roots: ClusterRoot[] = [];
  for (const [i, reader] of ctx.clusters.entries()) {
    const info = ctx.clusterInfos[i];
    const namespace = istioNamespaceOf(info, istioNamespace);
    if (info && !info.reachable) continue;
    let result;
    try {
      // A peer whose CA Secret is broken still has workloads that trust the root istiod distributed there.
      result = await readClusterRoot(reader, info, namespace, { distributedOnProblem: true });
    } catch (err) {
      // Another cluster that cannot be read leaves a gap in the comparison, not an error of this cluster.
      if (reader === ctx.cluster || !(err instanceof AccessError)) throw err;
      ctx.notRead(reader.name, err.message);
      continue;
    }
    if ('root' in result) roots.push(result.root);
  }
  const controlPlaneName = controlPlane === undefined ? undefined : ctx.clusters[controlPlane].name;
  const ownRoot = roots.find((r) => r.cluster === controlPlaneName);
  const groups = groupByRoot(roots);
  const aliases = new Set<string>();
  // Aliases declared by the clusters that use the mesh's trust domain are what peers accept.
  for (const reader of ctx.clusters) {
    if (!ctx.clusterInfos[ctx.clusters.indexOf(reader)]?.reachable) continue;
    const namespace = istioNamespaceOf(ctx.clusterInfos[ctx.clusters.indexOf(reader)], istioNamespace);
    const configMaps = (await listIfReadable(reader, 'configmaps', { namespace })) ?? [];
    const meshConfig = meshConfigOf(findMeshConfigMaps(configMaps, namespace)[0]);
    if (meshConfig && meshConfig.trustDomain === ctx.mesh.trustDomain) for (const a of meshConfig.trustDomainAliases) aliases.add(a);
  }
  return {
    signingCa: ownRoot?.signingCa,
    ownRoot,
    reference: groups.length > 1 || roots.length > 1 ? groups[0] : undefined,
    meshTrustDomain: ctx.mesh.trustDomain,
    aliases: [...aliases],
  };
}

/** Index of the cluster whose istiod signs this cluster's certificates. */
async function controlPlaneIndex(ctx: Ctx): Promise<number | undefined> {
  const self = ctx.clusters.indexOf(ctx.cluster);
  const info: ClusterInfo | undefined = ctx.clusterInfo;
  if (!controlledElsewhere(info)) return self;
  const namespaces = (await listIfReadable(ctx.cluster, 'namespaces')) ?? [];
  const istioNs = namespaces.find((ns) => ns.metadata.name === ctx.options.istioNamespace);
  const named = (istioNs ? annotationsOf(istioNs)[CONTROL_PLANE_CLUSTERS_ANNOTATION] ?? '' : '').split(',').map((s) => s.trim());
  const primaries = ctx.clusterInfos.map((c, i) => ({ c, i })).filter(({ c }) => c.role === 'primary');
  return (primaries.find(({ c }) => c.clusterId !== undefined && named.includes(c.clusterId)) ?? (primaries.length === 1 ? primaries[0] : undefined))?.i;
}

/** The ztunnel-held certificates of a cluster, or why there are none. */
type ZtunnelHolders = { holders: { holder: CertHolder; certs: SidecarCerts; secrets: SidecarSecrets }[] } | { skip: string };

/** Who holds a workload certificate: a sidecar, or a ztunnel for one identity of its node. */
interface CertHolder {
  /** For messages: `Sidecar ns/pod` or `ztunnel ns/pod (for spiffe://...)`. */
  what: string;
  /** The pod, for hints (kubectl and istioctl take a name and -n, not namespace/name) and the finding's resource. */
  podName: string;
  podNamespace: string;
}

function sidecarHolder(pod: KubeObject): CertHolder {
  return { what: `Sidecar ${pod.metadata.namespace}/${pod.metadata.name}`, podName: pod.metadata.name, podNamespace: pod.metadata.namespace ?? 'default' };
}

/**
 * The workload certificates of the sampled ztunnels' /config_dump (certificates[].certChain, leaf
 * first, and rootCerts: istio/ztunnel src/admin.rs CertsDump), as the sidecar path reads Envoy's: the
 * leaf's facts stand for /certs and the PEM chain and roots for the SDS secrets. A skip reason when
 * none can be read.
 */
async function ztunnelHolders(ctx: { cluster: ClusterReader; signal?: AbortSignal }): Promise<ZtunnelHolders> {
  let dumps: ZtunnelDumpOutput[];
  try {
    dumps = await ctx.cluster.ztunnelConfigDumps({ signal: ctx.signal });
  } catch (err) {
    if (err instanceof AccessError && ['forbidden', 'offline', 'not-found'].includes(err.reason)) return { skip: `ztunnel's config_dump could not be read (${err.message})` };
    throw err;
  }
  const holders: { holder: CertHolder; certs: SidecarCerts; secrets: SidecarSecrets }[] = [];
  for (const dump of dumps) {
    for (const entry of parseZtunnelDump(dump.body).certificates.slice(0, ZTUNNEL_IDENTITIES)) {
      const where = `ztunnel ${dump.namespace}/${dump.pod} (for ${entry.identity})`;
      let chain: CertificateFacts[];
      let bundle: CertificateFacts[];
      try {
        chain = parsePemCertificates(entry.chain.join('\n'));
        bundle = parsePemCertificates(entry.roots.join('\n'));
      } catch (err) {
        throw new Error(`config_dump of ${where}: a certificate does not parse: ${(err as Error).message}`, { cause: err });
      }
      if (chain.length === 0) continue;
      const facts = (c: CertificateFacts): EnvoyCert => ({ serial: normalizeSerial(c.cert.serialNumber), uris: uriSans(c), validFrom: c.notBefore, expiration: c.notAfter });
      holders.push({ holder: { what: where, podName: dump.pod, podNamespace: dump.namespace }, certs: { chain: [facts(chain[0])], roots: bundle.slice(0, 1).map(facts) }, secrets: { chain, bundle } });
    }
  }
  return holders.length ? { holders } : { skip: dumps.length ? 'the sampled ztunnels hold no workload certificate' : 'no ztunnel pod is running' };
}

/** The URI SANs of a certificate (its SPIFFE identity). */
function uriSans(c: CertificateFacts): string[] {
  const names = c.cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  return names.filter((n) => n.type === 'url').map((n) => n.value);
}

function judgeHolder(ctx: Ctx, holder: CertHolder, certs: SidecarCerts, secrets: SidecarSecrets | undefined, trust: TrustContext): void {
  const podData = { pod: holder.what, podName: holder.podName, podNamespace: holder.podNamespace };
  const resource: ResourceRef = { kind: 'Pod', namespace: holder.podNamespace, name: holder.podName };
  const leaf = certs.chain[0];
  if (!leaf) throw new Error(`GET certs of ${holder.what} lists no workload certificate`);

  const spiffe = leaf.uris.find((u) => u.startsWith('spiffe://'));
  const trustDomain = spiffe ? /^spiffe:\/\/([^/]+)/.exec(spiffe)?.[1] : undefined;
  if (spiffe && trustDomain && trust.meshTrustDomain && trustDomain !== trust.meshTrustDomain && !trust.aliases.includes(trustDomain)) {
    ctx.report({
      messageId: 'workloadTrustDomainMismatch',
      resource,
      data: { ...podData, identity: spiffe, trustDomain, meshTrustDomain: trust.meshTrustDomain, aliases: trust.aliases.join(', ') || 'none' },
    });
  }

  // The issuer is judged with real crypto on the SDS chain; /certs alone cannot tell it.
  const sdsLeaf = secrets?.chain[0];
  if (trust.signingCa && sdsLeaf && !signatureVerifies(sdsLeaf, trust.signingCa)) {
    const ca = trust.signingCa;
    ctx.report({ messageId: 'workloadIssuerMismatch', resource, data: { ...podData, ca: `${ca.subject} (serial ${normalizeSerial(ca.cert.serialNumber)})`, issuer: sdsLeaf.issuer } });
  }

  const rootProblem = rootNotShared(certs, secrets, trust);
  if (rootProblem) ctx.report({ messageId: 'workloadRootNotShared', resource, data: { ...podData, ...rootProblem } });

  const now = ctx.options.now.getTime();
  if (leaf.expiration && leaf.expiration.getTime() < now) {
    ctx.report({ messageId: 'workloadCertExpired', resource, data: { ...podData, expiration: leaf.expiration.toISOString() } });
  } else if (leaf.expiration && leaf.validFrom) {
    const lifetime = leaf.expiration.getTime() - leaf.validFrom.getTime();
    const left = leaf.expiration.getTime() - now;
    if (lifetime > 0 && left < lifetime * ROTATION_STUCK_RATIO) {
      ctx.report({ messageId: 'workloadCertNotRotated', resource, data: { ...podData, left: `${Math.round((left / lifetime) * 100)}%`, expiration: leaf.expiration.toISOString() } });
    }
  }
}

/** Why the sidecar's certificate or roots do not fit the mesh's reference root, if they do not. */
function rootNotShared(certs: SidecarCerts, secrets: SidecarSecrets | undefined, trust: TrustContext): { problem: string; peers: string } | undefined {
  const reference = trust.reference;
  if (!reference || !trust.ownRoot) return undefined;
  const own = trust.ownRoot;
  const peers = reference.filter((r) => r.cluster !== own.cluster);
  if (peers.length === 0) return undefined;
  const referenceRoot = reference[0].signing;
  const peerNames = peers.map((p) => p.cluster).join(', ');
  if (!peers.every((p) => trustsRootOf(p, own))) {
    return { problem: `chains to root ${fingerprintPrefix(own.signing.fingerprint)} (${own.signing.subject}), not the mesh's root ${fingerprintPrefix(referenceRoot.fingerprint)}`, peers: peerNames };
  }
  // Only the whole bundle (SDS) can show the root is absent: /certs lists its first certificate only.
  if (secrets && !secrets.bundle.some((r) => r.fingerprint === referenceRoot.fingerprint)) {
    const serials = secrets.bundle.map((r) => normalizeSerial(r.cert.serialNumber)).join(', ') || 'none';
    return { problem: `does not trust the mesh's root ${fingerprintPrefix(referenceRoot.fingerprint)} (its ROOTCA serials: ${serials})`, peers: peerNames };
  }
  return undefined;
}

/**
 * Parse Envoy's /certs JSON: `{certificates: [{ca_cert: [...], cert_chain: [...]}]}`, each entry with
 * serial_number, subject_alt_names [{uri|dns|ip_address}], valid_from, expiration_time (older Envoys:
 * a single object instead of arrays). Istio's sidecar lists the workload chain and the ROOTCA bundle.
 */
export function parseEnvoyCerts(body: string, where: string): { chain: EnvoyCert[]; roots: EnvoyCert[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new Error(`GET certs of ${where} is not JSON`);
  }
  const entries = (doc as { certificates?: unknown })?.certificates;
  if (!Array.isArray(entries)) throw new Error(`GET certs of ${where}: unknown format (no "certificates" array)`);
  const list = (value: unknown): EnvoyCert[] => (Array.isArray(value) ? value : value ? [value] : []).map((c) => envoyCert(c, where));
  const chains = entries.map((e) => list((e as Record<string, unknown>).cert_chain)).filter((c) => c.length > 0);
  // The workload chain is the one with a SPIFFE identity (a gateway may hold others too).
  const chain = chains.find((c) => c[0].uris.some((u) => u.startsWith('spiffe://'))) ?? chains[0] ?? [];
  return { chain, roots: entries.flatMap((e) => list((e as Record<string, unknown>).ca_cert)) };
}

function envoyCert(value: unknown, where: string): EnvoyCert {
  if (typeof value !== 'object' || value === null) throw new Error(`GET certs of ${where}: certificate entry is not an object`);
  const entry = value as Record<string, unknown>;
  const sans = Array.isArray(entry.subject_alt_names) ? (entry.subject_alt_names as Record<string, unknown>[]) : [];
  const date = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v) : undefined);
  return {
    serial: typeof entry.serial_number === 'string' ? entry.serial_number : '',
    uris: sans.map((s) => s?.uri).filter((u): u is string => typeof u === 'string'),
    validFrom: date(entry.valid_from),
    expiration: date(entry.expiration_time),
  };
}
