// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ ("Remote secrets") and istio/istio pkg/kube/multicluster/secretcontroller.go (data key = cluster id, sanitizeKubeConfig since 1.13).
import { defineCheck } from '../../engine/define-check.ts';
import { containerEnv, findIstiodDeployments, istiodContainer } from '../../mesh/istio-objects.ts';
import { readClusterz } from '../../mesh/istiod-debug.ts';
import {
  INSECURE_KUBECONFIG_OPTIONS_ENV,
  RemoteKubeconfigError,
  clusterOfKubeconfig,
  decodeTokenClaims,
  expectedPeers,
  findRemoteSecrets,
  isLoopbackServer,
  parseAllowlist,
  parseRemoteKubeconfig,
  CONFIG_SECRET_NAME,
  type RemoteKubeconfig,
  type RemoteSecretEntry,
  readIstiodSecrets,
} from '../../mesh/remote-secrets.ts';
import { configClusterOf, controlledElsewhere } from '../../mesh/roles.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';

const check = defineCheck({
  id: 'control-plane/remote-secrets',
  category: 'control-plane',
  scope: 'cluster',
  // configmaps? and clusterz?: the mesh's cluster ids and istiod's sync status, when readable.
  needs: ['secrets', 'deployments', 'configmaps?', 'istiod:clusterz?'],
  meta: {
    description: "Every peer of a control-plane cluster has a remote secret istiod accepts, keyed by the peer's cluster id, with usable credentials",
    details:
      'istiod discovers a peer cluster through a Secret labelled istio/multiCluster=true in its namespace: each data key is the ' +
      'cluster id it gives that peer (the networking.istio.io/cluster annotation is never read) and each value a kubeconfig. ' +
      'istiod ignores a key equal to its own CLUSTER_ID or already used by another secret, and since 1.13 refuses kubeconfigs ' +
      'that run programs or read files (exec, auth providers other than oidc, tokenFile, client certificate/key files) unless ' +
      'PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS allows them; a certificate-authority file path fails in every version (the ' +
      "file is not in istiod's pod), and like clientcmd it uses the current-context only. The check applies the same rules, finds which peer each " +
      'kubeconfig points at (API server URL, else the API CA every pod sees in kube-root-ca.crt; one pointing back at this very cluster is an error), decodes a JWT bearer token ' +
      'without verifying it to judge its expiry (tokens without exp, from long-lived token Secrets, never expire), and flags ' +
      "a loopback server, which from istiod's pod is the pod itself. When istiod's own /debug/clusterz says it syncs that peer, " +
      'the loopback address evidently works where istiod runs (host network, istiod outside the cluster): then it is only ' +
      "noted; against the embedded lab, whose API servers all share this machine's loopback, it is not judged. The " +
      '`--type=config` form (`istio-kubeconfig`, key `config`) of external control planes is validated too.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      configKubeconfigMissing: {
        template: 'External istiod of {{cluster}} has no Secret {{namespace}}/istio-kubeconfig (key config) for its config cluster {{peer}}: it reads its own cluster\'s API instead, so it sees none of {{peer}}\'s config, services or endpoints',
        severity: 'error',
        hint:
          'Create it from the config cluster (istio.io: Install Istio with an External Control Plane): istioctl create-remote-secret --context=<{{peer}} context> --type=config ' +
          '--namespace={{namespace}} --service-account=istiod --create-service-account=false | kubectl apply -f - --context=<{{cluster}} context>; then restart istiod ' +
          '(kubectl --context=<{{cluster}} context> -n {{namespace}} rollout restart deployment/istiod)',
      },
      configKubeconfigWrongCluster: {
        template: 'Secret {{secret}} (the external istiod\'s config cluster kubeconfig) points at {{server}}, not at config cluster {{peer}} (cluster id {{peerId}}, istiod\'s CLUSTER_ID)',
        severity: 'error',
        hint:
          'Recreate it from the config cluster: istioctl create-remote-secret --context=<{{peer}} context> --type=config --namespace={{namespace}} ' +
          '--service-account=istiod --create-service-account=false | kubectl apply -f - --context=<{{cluster}} context>',
      },
      noRemoteSecret: {
        template: 'No remote secret for peer {{peer}} (cluster id {{peerId}}): istiod of {{cluster}} does not discover its services and endpoints',
        severity: 'error',
        hint:
          'Create it from the peer and apply it here: istioctl create-remote-secret --context=<{{peer}} context> --name={{peerId}} | ' +
          'kubectl apply -f - --context=<{{cluster}} context>',
      },
      keyNotClusterId: {
        template: "Secret {{secret}} key {{key}} points at {{peer}}, whose cluster id is {{peerId}}: istiod registers the peer as {{key}}",
        severity: 'error',
        // The peer took another cluster's id (its CLUSTER_ID duplicates one): a secret keyed with its name was right until then.
        explainedBy: [{ check: 'control-plane/cluster-ids', messages: ['clusterIdDuplicate'], when: 'peer-pair' }],
        hint:
          'The data key must be the peer\'s CLUSTER_ID. Recreate the secret with the right name: istioctl create-remote-secret ' +
          '--context=<{{peer}} context> --name={{peerId}} | kubectl --context=<{{cluster}} context> apply -f -, then delete {{secret}}.',
      },
      keyIsLocalId: {
        template: 'Secret {{secret}} key {{key}} equals the local CLUSTER_ID: istiod ignores it',
        severity: 'error',
        // This cluster runs with a peer's id (duplicate CLUSTER_ID), so the peer's secret, keyed with that id, now equals its own.
        explainedBy: [{ check: 'control-plane/cluster-ids', messages: ['clusterIdDuplicate'], when: 'cluster' }],
        hint:
          'Either the secret belongs to another cluster (delete {{secret}}: kubectl -n <its namespace> delete secret <its name>) or two clusters share a ' +
          'CLUSTER_ID (see control-plane/cluster-ids) and one must be reinstalled with its own values.global.multiCluster.clusterName.',
      },
      keyDuplicated: {
        template: 'Cluster id {{key}} appears in {{secret}} and in {{firstSecret}}: istiod keeps only one of them',
        severity: 'error',
        hint: 'Keep one secret per peer cluster: kubectl -n <its namespace> delete secret <the stale one>; istioctl create-remote-secret names secrets istio-remote-secret-<cluster id>.',
      },
      kubeconfigInvalid: {
        template: 'Secret {{secret}} key {{key}} is not a usable kubeconfig: {{reason}}',
        severity: 'error',
        hint: 'Regenerate the secret: istioctl create-remote-secret --context=<{{key}} context> --name={{key}} | kubectl --context=<{{cluster}} context> apply -f -',
      },
      kubeconfigDisallowed: {
        template: 'Secret {{secret}} key {{key}}: istiod refuses this kubeconfig since 1.13 (uses {{fields}})',
        severity: 'error',
        hint:
          'Use a static service-account token: istioctl create-remote-secret --context=<{{key}} context> --name={{key}} creates ' +
          'one for istio-reader-service-account. Allowing {{fields}} through istiod env ' +
          'PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS is insecure and the plugin binary is not in the istiod image.',
      },
      serverLoopback: {
        template: "Secret {{secret}} key {{key}} points at {{server}}, a loopback address: from istiod's pod that is the pod itself ({{evidence}})",
        severity: 'error',
        hint:
          'Give the peer API server address reachable from the pods of this cluster: istioctl create-remote-secret ' +
          '--context=<{{key}} context> --name={{key}} --server=https://<peer API address:port> | kubectl --context=<{{cluster}} context> apply -f - ' +
          '(for kind: the control-plane container IP, `docker inspect <kind cluster name>-control-plane`).',
      },
      caFileUnreadable: {
        template: "Secret {{secret}} key {{key}} names the CA file {{file}}: istiod's pod has no such file, so it cannot build the client for this cluster",
        severity: 'error',
        hint:
          'Inline the CA instead of a file path: istioctl create-remote-secret --context=<{{key}} context> --name={{key}} | kubectl --context=<{{cluster}} context> apply -f - ' +
          'writes certificate-authority-data.',
      },
      secretPointsAtSelf: {
        template: 'Secret {{secret}} key {{key}} points at {{cluster}} itself (server {{server}}), not at peer {{key}}: istiod watches its own cluster twice and never discovers {{key}}',
        severity: 'error',
        hint:
          'The secret was created from the wrong context. Recreate it from the peer: istioctl create-remote-secret --context=<{{key}} context> ' +
          '--name={{key}} | kubectl apply -f - --context=<{{cluster}} context>',
      },
      tokenExpired: {
        template: 'Secret {{secret}} key {{key}}: the bearer token of {{serviceAccount}} expired at {{expiresAt}}',
        severity: 'error',
        hint:
          'Bound tokens expire; use a long-lived token Secret, as istioctl does: istioctl create-remote-secret ' +
          '--context=<{{key}} context> --name={{key}} | kubectl --context=<{{cluster}} context> apply -f -',
      },
      unknownPeer: {
        template: 'Secret {{secret}} key {{key}} points at {{server}}, which is none of the clusters meshdoctor diagnoses',
        severity: 'info',
        hint: 'If {{key}} is part of the mesh, add its context (--context) to diagnose it; if it left the mesh, delete the secret.',
      },
    },
  },
  appliesTo(info) {
    if (controlledElsewhere(info)) return 'no istiod in this cluster: its control plane holds the remote secrets';
    if (info.role === 'unknown') return 'role unknown (no istiod found and nothing names a control plane): cannot tell which peers it needs';
    return undefined;
  },
  async run(ctx) {
    const namespace = ctx.options.istioNamespace;
    const self = ctx.clusterInfo;
    const entries = findRemoteSecrets(await readIstiodSecrets(ctx.cluster, namespace), namespace);
    const istiods = findIstiodDeployments((await ctx.cluster.list('deployments')).filter((d) => d.metadata.namespace === namespace));
    const allowed = parseAllowlist(containerEnv(istiods[0] && istiodContainer(istiods[0]), INSECURE_KUBECONFIG_OPTIONS_ENV));
    // Only corroborating evidence here (remote-sync reports an unreadable clusterz): unknown when it cannot be read.
    let clusterz: Awaited<ReturnType<typeof readClusterz>>;
    let clusterzProblem: string | undefined;
    try {
      clusterz = await readClusterz(ctx.cluster, ctx.signal);
      if (!clusterz) clusterzProblem = "istiod's /debug/clusterz could not be read";
    } catch (err) {
      clusterzProblem = `istiod's /debug/clusterz is unusable (${err instanceof Error ? err.message : String(err)})`;
    }

    const firstSecretOfKey = new Map<string, string>();
    const peersCovered = new Set<string>();
    for (const entry of entries) {
      const ref = { secret: entry.secretName, key: entry.key };
      const resource = { kind: 'Secret', namespace: entry.secret.metadata.namespace, name: entry.secret.metadata.name };
      // The peer a finding about this secret concerns (Finding.peer, for root causes): the cluster of
      // its server when known, else the one whose cluster id is its key.
      const knownById = ctx.clusterInfos.find((i) => i.clusterId === entry.key && i.name !== self.name);
      let peerName = knownById?.name;
      const about = () => (peerName ? { peer: peerName } : {});
      if (entry.kind === 'remote') {
        if (entry.key === self.clusterId) {
          ctx.report({ messageId: 'keyIsLocalId', resource, ...about(), data: ref });
          continue;
        }
        const first = firstSecretOfKey.get(entry.key);
        if (first !== undefined) {
          ctx.report({ messageId: 'keyDuplicated', resource, data: { ...ref, firstSecret: first } });
          continue;
        }
        firstSecretOfKey.set(entry.key, entry.secretName);
      }

      let kubeconfig: RemoteKubeconfig;
      try {
        if (entry.kubeconfig === undefined) throw new RemoteKubeconfigError('empty value');
        kubeconfig = parseRemoteKubeconfig(entry.kubeconfig, allowed);
      } catch (err) {
        if (!(err instanceof RemoteKubeconfigError)) throw err;
        ctx.report({ messageId: 'kubeconfigInvalid', resource, ...about(), data: { ...ref, reason: err.message } });
        continue;
      }
      const peer = await clusterOfKubeconfig(kubeconfig, ctx.clusters, ctx.clusterInfos, namespace);
      if (peer && peer.name !== self.name) peerName = peer.name;
      if (kubeconfig.disallowed.length) ctx.report({ messageId: 'kubeconfigDisallowed', resource, ...about(), data: { ...ref, fields: kubeconfig.disallowed.join(', ') } });
      if (kubeconfig.caFile) ctx.report({ messageId: 'caFileUnreadable', resource, ...about(), data: { ...ref, file: kubeconfig.caFile } });

      if (entry.kind === 'remote') {
        if (peer?.name === self.name) {
          // Keyed as a peer but built from the local context: the peer stays undiscovered.
          ctx.report({ messageId: 'secretPointsAtSelf', resource, data: { ...ref, cluster: self.name, server: kubeconfig.server } });
        } else if (peer && peer.clusterId && peer.clusterId !== entry.key) {
          ctx.report({ messageId: 'keyNotClusterId', resource, peer: peer.name, data: { ...ref, peer: peer.name, peerId: peer.clusterId } });
          peersCovered.add(peer.name);
        } else if (peer || knownById) {
          peersCovered.add((peer ?? knownById)!.name);
        } else {
          ctx.report({ messageId: 'unknownPeer', resource, data: { ...ref, server: kubeconfig.server } });
        }
      }

      // In the embedded lab every API server is on this machine's loopback, which its istiods share.
      if (isLoopbackServer(kubeconfig.server) && !ctx.options.sharedLoopback) {
        // istio-kubeconfig is istiod's own kube client: clusterz lists it under istiod's CLUSTER_ID (the config cluster's id).
        const id = entry.kind === 'config' ? (self.clusterId ?? entry.key) : entry.key;
        const status = clusterz?.find((c) => c.id === id)?.syncStatus;
        // istiod's own report is the only evidence that the address works where istiod runs
        // (host network, istiod outside the cluster): then it is a note; istiod not syncing it, an
        // error; no report to go by (clusterz unreadable), a warning: what was not seen is not judged.
        const synced = status === 'synced';
        const evidence = synced
          ? 'yet istiod reports it synced, so it runs where this address reaches the peer'
          : clusterzProblem !== undefined
            ? `${clusterzProblem}, so whether istiod reaches it is unknown`
            : `istiod reports ${status ?? 'no entry'} for ${id}`;
        const severity = synced ? 'info' : clusterzProblem !== undefined ? 'warning' : 'error';
        ctx.report({ messageId: 'serverLoopback', resource, severity, data: { ...ref, server: kubeconfig.server, evidence } });
      }

      const claims = kubeconfig.token ? decodeTokenClaims(kubeconfig.token) : undefined;
      if (claims?.expiresAt && claims.expiresAt.getTime() <= ctx.options.now.getTime()) {
        ctx.report({
          messageId: 'tokenExpired',
          resource,
          ...about(),
          data: { ...ref, serviceAccount: claims.serviceAccount ?? 'an unknown service account', expiresAt: claims.expiresAt.toISOString() },
        });
      }
    }

    if (self.role === 'external-control-plane') checkConfigKubeconfig(ctx, entries, namespace, await configEntryPeers(ctx, entries, allowed, namespace));

    for (const peer of expectedPeers(self, ctx.clusterInfos, ctx.mesh)) {
      if (peersCovered.has(peer.name) || firstSecretOfKey.has(peer.clusterId)) continue;
      ctx.report({ messageId: 'noRemoteSecret', peer: peer.name, data: { peer: peer.name, peerId: peer.clusterId, cluster: self.name } });
    }
  },
});
export default check;

type Ctx = ContextOf<typeof check>;

/** The cluster each `istio-kubeconfig` entry points at (undefined when unparseable or none of the run's). */
async function configEntryPeers(ctx: Ctx, entries: RemoteSecretEntry[], allowed: ReturnType<typeof parseAllowlist>, namespace: string): Promise<Map<RemoteSecretEntry, { peer?: ClusterInfo; server?: string }>> {
  const out = new Map<RemoteSecretEntry, { peer?: ClusterInfo; server?: string }>();
  for (const entry of entries.filter((e) => e.kind === 'config')) {
    try {
      if (entry.kubeconfig === undefined) throw new RemoteKubeconfigError('empty value');
      const kubeconfig = parseRemoteKubeconfig(entry.kubeconfig, allowed);
      out.set(entry, { peer: await clusterOfKubeconfig(kubeconfig, ctx.clusters, ctx.clusterInfos, namespace), server: kubeconfig.server });
    } catch (err) {
      if (!(err instanceof RemoteKubeconfigError)) throw err;
      out.set(entry, {});
    }
  }
  return out;
}

/**
 * An external istiod reads its config cluster through the kubeconfig in Secret istio-kubeconfig, key
 * config (istio/istio 86c9f01 istioctl/pkg/multicluster/remote_secret.go:78-79), mounted at
 * /var/run/secrets/remote with KUBECONFIG pointing at it; the volume is optional, so without the Secret
 * istiod starts on its in-cluster config (manifests/charts/istio-control/istio-discovery/templates/
 * deployment.yaml:173, :289-291). An unparseable or disallowed one is reported with the other entries.
 */
function checkConfigKubeconfig(ctx: Ctx, entries: RemoteSecretEntry[], namespace: string, peers: Map<RemoteSecretEntry, { peer?: ClusterInfo; server?: string }>): void {
  const self = ctx.clusterInfo;
  const config = configClusterOf(self, ctx.clusterInfos);
  if (config === self) return;
  const data = { cluster: self.name, namespace, peer: config.name, peerId: config.clusterId ?? config.name };
  const own = entries.filter((e) => e.kind === 'config' && e.secret.metadata.namespace === namespace);
  if (own.length === 0) {
    ctx.report({ messageId: 'configKubeconfigMissing', resource: { kind: 'Secret', namespace, name: CONFIG_SECRET_NAME }, peer: config.name, data });
    return;
  }
  for (const entry of own) {
    const found = peers.get(entry);
    if (!found?.peer || found.peer.name === config.name) continue;
    ctx.report({
      messageId: 'configKubeconfigWrongCluster',
      resource: { kind: 'Secret', namespace, name: entry.secret.metadata.name },
      peer: config.name,
      data: { ...data, secret: entry.secretName, server: found.server ?? '' },
    });
  }
}
