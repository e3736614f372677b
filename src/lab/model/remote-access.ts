// Who may talk to each simulated API, and the remote secrets through which primaries read their
// peers: admin tokens, the istio-reader service-account tokens istioctl puts in remote secrets, and
// the remote-secret faults that break them.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import YAML from 'yaml';
import type { LabUser } from '../types.ts';
import { safeHash, uidOf, type ClusterBuilder } from './builder.ts';
import { ISTIO_NAMESPACE } from './istio.ts';
import { peerOf, type ClusterPlan } from './plan.ts';
import { addSecret, addServiceAccount } from './workloads.ts';

const READER_SA = 'istio-reader-service-account';
const READER_TOKEN_SECRET = 'istio-reader-service-account-istio-remote-secret-token';
/** Username of the reader service account in the istio-system install, as the API server's audit log shows it. */
export const READER_USERNAME = readerUsername(ISTIO_NAMESPACE);
/** Username of the reader service account of an Istio install in `namespace`. */
export function readerUsername(namespace: string): string {
  return `system:serviceaccount:${namespace}:${READER_SA}`;
}
const readerGroups = (namespace: string) => ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * A JWT-shaped service-account token. Without `exp` it looks like a legacy token Secret's token
 * (what istioctl creates); with `exp`, like a bound (TokenRequest) token. The signature is random:
 * only the lab's users map decides whether a token is accepted.
 */
export function serviceAccountToken(cluster: string, namespace: string, serviceAccount: string, secretName: string, times?: { iat: number; exp: number }): string {
  const header = { alg: 'RS256', kid: safeHash(`${cluster}/service-account-signing-key`, 43) };
  const saUid = uidOf(`${cluster}/ServiceAccount/${namespace}/${serviceAccount}`);
  const payload = times
    ? {
        aud: ['https://kubernetes.default.svc.cluster.local'],
        exp: times.exp,
        iat: times.iat,
        iss: 'https://kubernetes.default.svc.cluster.local',
        'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid: saUid } },
        nbf: times.iat,
        sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
      }
    : {
        iss: 'kubernetes/serviceaccount',
        'kubernetes.io/serviceaccount/namespace': namespace,
        'kubernetes.io/serviceaccount/secret.name': secretName,
        'kubernetes.io/serviceaccount/service-account.name': serviceAccount,
        'kubernetes.io/serviceaccount/service-account.uid': saUid,
        sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
      };
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.${base64url(randomBytes(256))}`;
}

/** An opaque admin bearer token. */
export function adminToken(cluster: string): string {
  return `lab-${cluster}-${randomBytes(24).toString('base64url')}`;
}

/** The cluster-admin user of a lab kubeconfig. */
export const ADMIN_USER: LabUser = { name: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] };

/** An https://127.0.0.1:<port> URL on which nothing listens (a port bound, then released). */
export async function refusedLoopbackUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}

/** A kubeconfig's `user` entry: a token, or an exec credential plugin. */
export type KubeconfigUser = { token: string } | { exec: Record<string, unknown> };

/** A single-context kubeconfig as `istioctl create-remote-secret` writes it. */
export function remoteKubeconfig(name: string, server: string, caPem: string, user: KubeconfigUser): string {
  return YAML.stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(caPem).toString('base64'), server }, name }],
    contexts: [{ context: { cluster: name, user: name }, name }],
    'current-context': name,
    kind: 'Config',
    preferences: {},
    users: [{ name, user }],
  });
}

/** Per-cluster access: the users each API accepts (token -> user). */
export type UsersByCluster = Map<string, Map<string, LabUser>>;

/**
 * The reader service account and its long-lived token Secret on every cluster a primary reads, the
 * remote secrets on every primary, and the users each cluster accepts. Returns token -> user per cluster.
 */
export async function addRemoteAccess(builders: Map<string, ClusterBuilder>, plans: ClusterPlan[], now: Date): Promise<UsersByCluster> {
  const users: UsersByCluster = new Map(plans.map((p) => [p.name, new Map<string, LabUser>()]));
  const readerTokens = new Map<string, string>();
  const primaries = plans.filter((p) => p.role === 'primary' || p.role === 'external');
  // An external istiod reads its config cluster through istio-kubeconfig, the other remotes through remote secrets.
  const readTargets = (primary: ClusterPlan) =>
    plans.filter((p) => p !== primary && (primary.topology !== 'primary-remote' || p.role === 'remote') && !(primary.role === 'external' && p.configCluster));

  // Every cluster gets the reader SA (both profiles install it); clusters some primary reads get its token Secret.
  for (const plan of plans) {
    const b = builders.get(plan.name)!;
    // In global.istioNamespace (istio/istio 86c9f01 manifests/charts/base/templates/reader-serviceaccount.yaml:16).
    const ns = plan.istiodNamespace;
    addServiceAccount(b, ns, READER_SA, { app: 'istio-reader', release: 'istio' });
    if (!primaries.some((primary) => readTargets(primary).includes(plan))) continue;
    const token = serviceAccountToken(plan.name, ns, READER_SA, READER_TOKEN_SECRET);
    readerTokens.set(plan.name, token);
    users.get(plan.name)!.set(token, { name: readerUsername(ns), groups: readerGroups(ns) });
    addSecret(b, ns, READER_TOKEN_SECRET, { 'ca.crt': plan.endpoint.caPem, namespace: ns, token }, {
      type: 'kubernetes.io/service-account-token',
      annotations: { 'kubernetes.io/service-account.name': READER_SA, 'kubernetes.io/service-account.uid': uidOf(`${plan.name}/ServiceAccount/${ns}/${READER_SA}`) },
    });
  }

  for (const primary of primaries.filter((p) => p.role === 'external')) await addConfigKubeconfig(builders, users, primary, plans);

  for (const primary of primaries) {
    const b = builders.get(primary.name)!;
    const faultyPeer = peerOf(primary, plans);
    for (const peer of readTargets(primary)) {
      const faulted = (fault: string) => peer === faultyPeer && primary.faults.has(fault);
      if (faulted('no-remote-secret')) continue;
      const id = faulted('remote-secret-wrong-id') ? `kind-${peer.name}` : peer.name;
      let token = readerTokens.get(peer.name)!;
      if (faulted('remote-secret-expired-token')) {
        // A bound token that expired yesterday; the peer no longer accepts it.
        const nowSeconds = Math.floor(now.getTime() / 1000);
        token = serviceAccountToken(peer.name, peer.istiodNamespace, READER_SA, READER_TOKEN_SECRET, { iat: nowSeconds - 31 * 86400, exp: nowSeconds - 86400 });
      } else if (faulted('remote-rbac-missing')) {
        // A reader whose ClusterRole binding lost pods, services and endpointslices.
        token = serviceAccountToken(peer.name, peer.istiodNamespace, READER_SA, `${READER_SA}-token-${safeHash(`${primary.name}/rbac`, 5)}`);
        users.get(peer.name)!.set(token, { name: readerUsername(peer.istiodNamespace), groups: readerGroups(peer.istiodNamespace), forbidden: ['pods', 'services', 'endpointslices'] });
      }
      const user: KubeconfigUser = faulted('remote-secret-exec-auth')
        ? {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: 'gke-gcloud-auth-plugin',
              installHint: 'Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin',
              provideClusterInfo: true,
              interactiveMode: 'IfAvailable',
            },
          }
        : { token };
      const server = faulted('remote-secret-unreachable') ? await refusedLoopbackUrl() : peer.endpoint.server;
      addSecret(b, primary.istiodNamespace, `istio-remote-secret-${id}`, { [id]: remoteKubeconfig(id, server, peer.endpoint.caPem, user) }, {
        labels: { 'istio/multiCluster': 'true' },
        annotations: { 'networking.istio.io/cluster': id },
      });
    }
  }
  return users;
}

const ISTIOD_SA = 'istiod';
const ISTIOD_TOKEN_SECRET = 'istiod-istio-kubeconfig-token';

/**
 * What `istioctl create-remote-secret --type=config --service-account=istiod` leaves (istio/istio
 * 86c9f01 istioctl/pkg/multicluster/remote_secret.go:78-79: Secret `istio-kubeconfig`, key `config`;
 * istio.io external-controlplane snip_set_up_the_control_plane_in_the_external_cluster_2): istiod's
 * service account token of the config cluster, in a kubeconfig, in the external istiod's namespace.
 * Absent with `external-kubeconfig-missing`.
 */
async function addConfigKubeconfig(builders: Map<string, ClusterBuilder>, users: UsersByCluster, external: ClusterPlan, plans: ClusterPlan[]): Promise<void> {
  const config = plans.find((p) => p.configCluster);
  if (!config) return;
  const cb = builders.get(config.name)!;
  // The config cluster's istiod service account, in its Istio namespace (the guide's --namespace=external-istiod --service-account=istiod).
  const ns = config.istiodNamespace;
  addServiceAccount(cb, ns, ISTIOD_SA, { app: 'istiod', release: 'istio' });
  const token = serviceAccountToken(config.name, ns, ISTIOD_SA, ISTIOD_TOKEN_SECRET);
  users.get(config.name)!.set(token, { name: `system:serviceaccount:${ns}:${ISTIOD_SA}`, groups: readerGroups(ns) });
  addSecret(cb, ns, ISTIOD_TOKEN_SECRET, { 'ca.crt': config.endpoint.caPem, namespace: ns, token }, {
    type: 'kubernetes.io/service-account-token',
    annotations: { 'kubernetes.io/service-account.name': ISTIOD_SA, 'kubernetes.io/service-account.uid': uidOf(`${config.name}/ServiceAccount/${ns}/${ISTIOD_SA}`) },
  });
  if (external.faults.has('external-kubeconfig-missing')) return;
  addSecret(builders.get(external.name)!, external.istiodNamespace, 'istio-kubeconfig', { config: remoteKubeconfig(config.istioClusterId, config.endpoint.server, config.endpoint.caPem, { token }) });
}
