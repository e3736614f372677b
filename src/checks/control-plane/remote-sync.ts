// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ and istio/istio pilot/pkg/xds/debug.go (`/debug/clusterz`: the clusters istiod's multicluster controller knows and their sync status).
import { defineCheck } from '../../engine/define-check.ts';
import { parseClusterz } from '../../mesh/debug/clusterz.ts';
import { clustersRunningIstiod, istiodOutputsOrSkip } from '../../mesh/istiod-debug.ts';
import { expectedPeers } from '../../mesh/remote-secrets.ts';
import { BY_EXTERNAL_CONTROL_PLANE, BY_REMOTE_SECRET } from '../../engine/explanations.ts';

export default defineCheck({
  id: 'control-plane/remote-sync',
  category: 'control-plane',
  scope: 'cluster',
  needs: ['istiod:clusterz'],
  dependsOn: ['control-plane/istiod-ready'],
  meta: {
    description: "istiod's /debug/clusterz lists every peer cluster of the mesh as synced",
    details:
      'istiod lists in /debug/clusterz every cluster its multicluster controller built from a remote secret, with its sync ' +
      'status: `synced` once its informers caught up, `syncing` while they list, `timeout` when they could not within ' +
      'PILOT_REMOTE_CLUSTER_TIMEOUT (unreachable server, rejected token, missing RBAC), `closed` after the secret went away. ' +
      'Every format since 1.11 is read: `null` when there are no remotes, and since 1.22 the local cluster listed with an ' +
      'empty secretName. Each istiod pod is asked (each has its own controller). A peer of the mesh missing from the list ' +
      'means no usable remote secret names it.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      peerMissing: {
        template: 'istiod pod {{pod}} does not know peer {{peer}} (cluster id {{peerId}}): its services and endpoints are not discovered',
        severity: 'error',
        explainedBy: [...BY_REMOTE_SECRET, ...BY_EXTERNAL_CONTROL_PLANE],
        hint:
          'See control-plane/remote-secrets for the secret of {{peerId}}; list what istiod loaded: ' +
          'kubectl -n {{namespace}} exec {{pod}} -c discovery -- pilot-discovery request GET /debug/clusterz; ' +
          'kubectl -n {{namespace}} logs {{pod}} -c discovery | grep -i "remote cluster"',
      },
      peerNotSynced: {
        template: 'istiod pod {{pod}} reports {{status}} for cluster {{peerId}} (secret {{secret}})',
        severity: 'error',
        explainedBy: [...BY_REMOTE_SECRET, ...BY_EXTERNAL_CONTROL_PLANE],
        hint:
          'istiod cannot list the peer with the secret\'s credentials: see control-plane/remote-api-access, and the logs: ' +
          'kubectl -n {{namespace}} logs {{pod}} -c discovery | grep -i {{peerId}}. After fixing the secret, istiod retries; ' +
          'restart it if the status stays: kubectl --context=<{{cluster}} context> -n {{namespace}} rollout restart deploy/istiod',
      },
    },
  },
  appliesTo: clustersRunningIstiod,
  async run(ctx) {
    const self = ctx.clusterInfo;
    const outputs = await istiodOutputsOrSkip(ctx, 'clusterz');
    const peers = expectedPeers(self, ctx.clusterInfos, ctx.mesh);
    for (const output of outputs) {
      const entries = parseClusterz(output.body);
      const base = { pod: output.pod, namespace: output.namespace };
      const resource = { kind: 'Pod', namespace: output.namespace, name: output.pod };
      for (const entry of entries) {
        // The local cluster (listed since 1.22) is always synced by definition of being istiod's own.
        if (entry.secretName === '' && entry.id === self.clusterId) continue;
        if (entry.syncStatus !== 'synced') {
          // Finding.peer (for root causes): the cluster of that id, when it is one meshdoctor diagnoses.
          const peer = ctx.clusterInfos.find((i) => i.clusterId === entry.id && i.name !== self.name);
          ctx.report({ messageId: 'peerNotSynced', resource, ...(peer ? { peer: peer.name } : {}), data: { ...base, status: entry.syncStatus, peerId: entry.id, secret: entry.secretName || '(none)' } });
        }
      }
      for (const peer of peers) {
        if (entries.some((e) => e.id === peer.clusterId)) continue;
        ctx.report({ messageId: 'peerMissing', resource, peer: peer.name, data: { ...base, peer: peer.name, peerId: peer.clusterId } });
      }
    }
  },
});
