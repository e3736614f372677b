// Istio remote secrets read the way istiod's secret controller reads them
// (istio/istio pkg/kube/multicluster/secretcontroller.go): every Secret labelled
// `istio/multiCluster=true` in istiod's namespace, one cluster per data key (the key IS the cluster
// id), each value a kubeconfig sanitized by `sanitizeKubeConfig` since 1.13. Also the `--type=config`
// form of external control planes (`istio-kubeconfig`, key `config`). Parsing only: no I/O.
import { listIfReadable } from '../cluster/absent.ts';
import { localAddressKind } from '../cluster/local-address.ts';
import { parse as parseYaml } from 'yaml';
import type { ClusterReader, KubeObject } from '../cluster/types.ts';
import type { ClusterInfo, MeshInfo } from '../engine/types.ts';
import { containerEnv, findIstiodDeployments, istiodContainer } from './istio-objects.ts';
import { istioNamespaceOf } from './roles.ts';

/** Label istiod selects remote secrets by. */
export const MULTICLUSTER_SECRET_LABEL = 'istio/multiCluster';
/** Name and data key of the `istioctl create-remote-secret --type=config` secret (external control plane). */
export const CONFIG_SECRET_NAME = 'istio-kubeconfig';
export const CONFIG_SECRET_KEY = 'config';
/** istiod env var listing kubeconfig options allowed despite sanitization (comma-separated). */
export const INSECURE_KUBECONFIG_OPTIONS_ENV = 'PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS';

/** One kubeconfig found in a secret: a remote cluster (key = cluster id) or a config-cluster kubeconfig. */
export interface RemoteSecretEntry {
  /** The Secret. */
  secret: KubeObject;
  /** `namespace/name` of the Secret, as clusterz prints it. */
  secretName: string;
  /** The data key: the cluster id istiod gives this cluster (`config` for the config form). */
  key: string;
  /** `remote`: a multiCluster secret; `config`: an external control plane's config-cluster kubeconfig. */
  kind: 'remote' | 'config';
  /** The decoded kubeconfig text (undefined when the value is not base64 text). */
  kubeconfig: string | undefined;
}

/**
 * The remote secrets istiod would read (labelled, in `istioNamespace`) and every `istio-kubeconfig`
 * secret with a `config` key (any namespace: external istiods often live in `external-istiod`).
 * Sorted by secret name then key.
 */
export function findRemoteSecrets(secrets: KubeObject[], istioNamespace: string): RemoteSecretEntry[] {
  const entries: RemoteSecretEntry[] = [];
  for (const secret of secrets) {
    // `istioctl create-remote-secret --type=config` labels istio-kubeconfig istio/multiCluster=true like
    // a remote secret (istio/istio 86c9f01 istioctl/pkg/multicluster/remote_secret.go:133-157, one
    // constructor for both types): by its name and key it is the config cluster's kubeconfig.
    const isConfig = secret.metadata.name === CONFIG_SECRET_NAME && typeof secret.data?.[CONFIG_SECRET_KEY] === 'string';
    const isRemote = !isConfig && secret.metadata.namespace === istioNamespace && secret.metadata.labels?.[MULTICLUSTER_SECRET_LABEL] === 'true';
    if (!isRemote && !isConfig) continue;
    const secretName = `${secret.metadata.namespace ?? ''}/${secret.metadata.name}`;
    const data = (secret.data ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(data)) {
      if (!isRemote && key !== CONFIG_SECRET_KEY) continue;
      entries.push({ secret, secretName, key, kind: isRemote ? 'remote' : 'config', kubeconfig: decodeBase64(value) });
    }
  }
  return entries.sort((a, b) => a.secretName.localeCompare(b.secretName) || a.key.localeCompare(b.key));
}

/** istiod's CLUSTER_ID when its env does not set one (pilot's default). */
const DEFAULT_CLUSTER_ID = 'Kubernetes';

/**
 * The cluster ids the secrets give istiod, each with the secret (`namespace/name`) that gives it: a
 * remote entry registers its data key; the config form (`istio-kubeconfig`) is the kubeconfig of the
 * config cluster of the istiod beside it, which that istiod registers under its own CLUSTER_ID. The
 * one answer to "does a secret give istiod cluster X", whichever form the secret takes. An
 * `istio-kubeconfig` with no istiod in its namespace is mounted by no one and gives no id. On a key
 * in two secrets the first (by name) is named, as control-plane/remote-secrets reports the repeat.
 */
export function remoteSecretClusterIds(entries: RemoteSecretEntry[], deployments: KubeObject[]): Map<string, string> {
  const ids = new Map<string, string>();
  for (const entry of entries) {
    let id: string | undefined = entry.key;
    if (entry.kind === 'config') {
      const istiod = findIstiodDeployments(deployments).find((d) => d.metadata.namespace === entry.secret.metadata.namespace);
      id = istiod ? (containerEnv(istiodContainer(istiod), 'CLUSTER_ID') ?? DEFAULT_CLUSTER_ID) : undefined;
    }
    if (id !== undefined && !ids.has(id)) ids.set(id, entry.secretName);
  }
  return ids;
}

/**
 * The secrets an istiod can read: those of the istio namespace and of every namespace running an
 * istiod (an external control plane's `istio-kubeconfig` lives beside it). Listed per namespace, so
 * namespace-scoped RBAC suffices and no application secret is read.
 */
export async function readIstiodSecrets(reader: ClusterReader, istioNamespace: string): Promise<KubeObject[]> {
  const namespaces = new Set([istioNamespace, ...findIstiodDeployments(await reader.list('deployments')).map((d) => d.metadata.namespace ?? istioNamespace)]);
  const lists = await Promise.all([...namespaces].sort().map((namespace) => reader.list('secrets', { namespace })));
  return lists.flat();
}

function decodeBase64(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  return text.trim() ? text : undefined;
}

/** What a remote kubeconfig says, reduced to what istiod uses: the current context's cluster and user. */
export interface RemoteKubeconfig {
  server: string;
  /** `certificate-authority-data` decoded to PEM, when inline. */
  caPem?: string;
  /** Static bearer token, when there is one. */
  token?: string;
  /** Fields istiod's sanitizer refuses (any user of the file), e.g. `exec`, `auth-provider gcp`, `tokenFile`. */
  disallowed: string[];
  /**
   * `certificate-authority` file path of the current cluster. Not something the sanitizer refuses:
   * the file is not in istiod's pod, so building the client fails in every Istio version.
   */
  caFile?: string;
  /** The current context's `cluster` and `user` mappings as written (empty when absent). */
  clusterFields: Record<string, unknown>;
  userFields: Record<string, unknown>;
}

/** A kubeconfig that cannot be used at all. */
export class RemoteKubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteKubeconfigError';
  }
}

type Named<T> = { name?: unknown } & T;

/**
 * Parse a remote secret's kubeconfig. `allowed` is istiod's allowlist
 * (PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS: `exec`, `tokenFile`, `clientKey`,
 * `clientCertificate`, or an auth provider name). Throws RemoteKubeconfigError when it is not a
 * kubeconfig with a server.
 */
export function parseRemoteKubeconfig(text: string, allowed: readonly string[] = []): RemoteKubeconfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new RemoteKubeconfigError(`not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new RemoteKubeconfigError('not a kubeconfig (not a YAML mapping)');
  const config = doc as Record<string, unknown>;
  const list = <T>(key: string): Named<T>[] => (Array.isArray(config[key]) ? (config[key] as Named<T>[]).filter((e) => e && typeof e === 'object') : []);
  const contexts = list<{ context?: { cluster?: string; user?: string } }>('contexts');
  const clusters = list<{ cluster?: Record<string, unknown> }>('clusters');
  const users = list<{ user?: Record<string, unknown> }>('users');
  // istiod builds the client with clientcmd, which uses the current context and never falls back
  // to the first context, cluster or user of the file.
  const currentName = config['current-context'];
  if (typeof currentName !== 'string' || !currentName) throw new RemoteKubeconfigError('no current-context');
  const current = contexts.find((c) => c.name === currentName);
  if (!current) throw new RemoteKubeconfigError(`current-context ${currentName} names no context of the file`);
  const clusterName = current.context?.cluster;
  const cluster = clusters.find((c) => c.name === clusterName);
  if (!cluster) throw new RemoteKubeconfigError(`context ${currentName} names cluster ${String(clusterName ?? '(none)')}, which is not in the file`);
  const userName = current.context?.user;
  const user = users.find((u) => u.name === userName);
  // No user at all is anonymous access; a user named but missing is a load error.
  if (userName && !user) throw new RemoteKubeconfigError(`context ${currentName} names user ${userName}, which is not in the file`);
  const server = cluster.cluster?.server;
  if (typeof server !== 'string' || !server) throw new RemoteKubeconfigError(`cluster ${String(clusterName)} of the current context has no server`);

  const fields = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
  const result: RemoteKubeconfig = { server: server.replace(/\/+$/, ''), disallowed: [], clusterFields: fields(cluster.cluster), userFields: fields(user?.user) };
  const caData = cluster.cluster?.['certificate-authority-data'];
  if (typeof caData === 'string') result.caPem = Buffer.from(caData, 'base64').toString('utf8');
  const caFile = cluster.cluster?.['certificate-authority'];
  if (typeof caFile === 'string' && caFile) result.caFile = caFile;
  const token = user?.user?.token;
  if (typeof token === 'string' && token) result.token = token;

  // istiod sanitizes every user of the file, not only the current one.
  const allow = new Set(allowed);
  const refuse = (what: string, option: string) => {
    if (!allow.has(option) && !result.disallowed.includes(what)) result.disallowed.push(what);
  };
  for (const entry of users) {
    const u = entry.user ?? {};
    const provider = u['auth-provider'] as { name?: unknown } | undefined;
    if (provider && typeof provider === 'object' && provider.name !== 'oidc') refuse(`auth-provider ${String(provider.name ?? '')}`.trim(), String(provider.name ?? ''));
    if (u.exec !== undefined && u.exec !== null) refuse('exec', 'exec');
    if (typeof u.tokenFile === 'string' && u.tokenFile) refuse('tokenFile', 'tokenFile');
    if (typeof u['client-certificate'] === 'string' && u['client-certificate']) refuse('client-certificate', 'clientCertificate');
    if (typeof u['client-key'] === 'string' && u['client-key']) refuse('client-key', 'clientKey');
  }
  return result;
}

/** The allowlist of an istiod container env value (`exec,tokenFile`). */
export function parseAllowlist(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** The claims meshdoctor reads from a service-account JWT (decoded, never verified). */
export interface TokenClaims {
  /** Expiry, when the token has one (bound tokens; legacy token Secrets have none). */
  expiresAt?: Date;
  /** `namespace/name` of the service account, when the token says. */
  serviceAccount?: string;
  issuer?: string;
}

/** Decode a JWT's payload without verifying it; undefined for a token that is not a JWT. */
export function decodeTokenClaims(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== 'object') return undefined;
  const claims: TokenClaims = {};
  if (typeof payload.exp === 'number') claims.expiresAt = new Date(payload.exp * 1000);
  if (typeof payload.iss === 'string') claims.issuer = payload.iss;
  const bound = payload['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown } } | undefined;
  const legacyNs = payload['kubernetes.io/serviceaccount/namespace'];
  const legacyName = payload['kubernetes.io/serviceaccount/service-account.name'];
  if (typeof bound?.namespace === 'string' && typeof bound.serviceaccount?.name === 'string') {
    claims.serviceAccount = `${bound.namespace}/${bound.serviceaccount.name}`;
  } else if (typeof legacyNs === 'string' && typeof legacyName === 'string') {
    claims.serviceAccount = `${legacyNs}/${legacyName}`;
  } else if (typeof payload.sub === 'string' && payload.sub.startsWith('system:serviceaccount:')) {
    claims.serviceAccount = payload.sub.slice('system:serviceaccount:'.length).replace(':', '/');
  }
  return claims;
}

/**
 * True when the server's host is a loopback address (127.0.0.0/8, ::1, `localhost`, IPv4-mapped
 * forms) or an unspecified one (0.0.0.0/8, ::): from istiod's pod such an address is the pod itself,
 * never a peer's API server. The address ranges are the ones meshdoctor refuses to send cluster
 * credentials to (cluster/local-address.ts); link-local ones are not judged here, as a node-local
 * proxy on one could serve istiod.
 */
export function isLoopbackServer(server: string): boolean {
  let host: string;
  try {
    host = new URL(server).hostname;
  } catch {
    return false;
  }
  const kind = localAddressKind(host);
  return kind === 'loopback' || kind === 'unspecified';
}

/** Normalize a PEM for comparison: the base64 body of its certificates, whitespace removed. */
export function pemFingerprintText(pem: string | undefined): string | undefined {
  if (!pem) return undefined;
  const bodies = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => m[1].replace(/\s+/g, ''));
  return bodies.length ? bodies.sort().join('|') : undefined;
}

/** An API server URL in a form where equal endpoints compare equal: case-insensitive host, default port, no trailing slash. */
export function normalizeServer(server: string): string {
  try {
    const url = new URL(server);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return `${url.protocol}//${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return server.replace(/\/+$/, '').toLowerCase();
  }
}

/** Compare API server URLs as one endpoint (see normalizeServer); false when either is missing. */
export function sameServer(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return normalizeServer(a) === normalizeServer(b);
}

/** The API server CA of a cluster as every pod sees it: `kube-root-ca.crt` (key `ca.crt`) in a namespace. */
export function kubeRootCaOf(configMaps: KubeObject[], namespace: string): string | undefined {
  const cm = configMaps.find((c) => c.metadata.name === 'kube-root-ca.crt' && c.metadata.namespace === namespace);
  const pem = cm?.data?.['ca.crt'];
  return typeof pem === 'string' ? pem : undefined;
}

/**
 * The clusters a control-plane cluster's istiod must discover through remote secrets: in a
 * primary-remote mesh the remotes, otherwise every other primary and remote of the mesh. Only a
 * primary has peers (a cluster of unknown role may be no control plane at all). Clusters whose
 * cluster id is unknown (or equal to this one's: cluster-ids reports that) are left out, and so is
 * everything in an external control plane, whose peers meshdoctor cannot tell.
 */
export function expectedPeers(self: ClusterInfo, infos: ClusterInfo[], mesh: MeshInfo): (ClusterInfo & { clusterId: string })[] {
  // An external istiod reads its config cluster through istio-kubeconfig, the other remotes it runs through remote secrets.
  if (self.role === 'external-control-plane') {
    return infos.filter((info): info is ClusterInfo & { clusterId: string } => info.role === 'remote' && info.controlPlaneCluster === self.name && info.clusterId !== undefined && info.clusterId !== self.clusterId);
  }
  if (self.role !== 'primary') return [];
  if (mesh.model === 'external-control-plane' || mesh.model === 'single-cluster') return [];
  return infos.filter(
    (info): info is ClusterInfo & { clusterId: string } =>
      info !== self &&
      info.name !== self.name &&
      info.clusterId !== undefined &&
      info.clusterId !== self.clusterId &&
      (mesh.model === 'primary-remote' ? info.role === 'remote' : info.role === 'primary' || info.role === 'remote'),
  );
}

/**
 * Which cluster of the run a kubeconfig points at: the one whose API server URL it names (live
 * readers), else the one whose API CA (`kube-root-ca.crt`) it trusts. undefined when none matches.
 */
export async function clusterOfKubeconfig(
  kubeconfig: RemoteKubeconfig,
  readers: ClusterReader[],
  infos: ClusterInfo[],
  istioNamespace: string,
): Promise<ClusterInfo | undefined> {
  const byServer = readers.findIndex((r) => sameServer(r.server, kubeconfig.server));
  if (byServer >= 0) return infos[byServer];
  const wanted = pemFingerprintText(kubeconfig.caPem);
  if (!wanted) return undefined;
  for (let i = 0; i < readers.length; i++) {
    // A cluster that cannot be read, or whose ConfigMaps are forbidden, gives no evidence either way.
    if (!infos[i].reachable) continue;
    // kube-root-ca.crt of the cluster's own Istio namespace (a remote's may be external-istiod).
    const namespace = istioNamespaceOf(infos[i], istioNamespace);
    const configMaps = (await listIfReadable(readers[i], 'configmaps')) ?? (await listIfReadable(readers[i], 'configmaps', { namespace })) ?? [];
    if (pemFingerprintText(kubeRootCaOf(configMaps, namespace)) === wanted) return infos[i];
  }
  return undefined;
}
