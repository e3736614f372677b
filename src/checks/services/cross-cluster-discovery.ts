// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ ("Verify the service registry": istiod's /debug/registryz lists each service's clusters in clusterVIPs).
import { isAbsence, unlessAbsent } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterReader, KubeObject } from '../../cluster/types.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import { labelsOf } from '../../mesh/istio-objects.ts';
import { registryKey, type RegistryService } from '../../mesh/debug/registryz.ts';
import { parseClusterz } from '../../mesh/debug/clusterz.ts';
import { findRemoteSecrets, readIstiodSecrets, remoteSecretClusterIds } from '../../mesh/remote-secrets.ts';
import { discoveryFilter, examples, nsName, primaryOutput, readRegistry } from '../../mesh/services.ts';
import { BY_EXTERNAL_CONTROL_PLANE, BY_REMOTE_SECRET, BY_REMOTE_SYNC } from '../../engine/explanations.ts';
import { runsIstiod } from '../../mesh/roles.ts';

const REGISTRYZ = 'kubectl exec -n {{namespace}} {{istiod}} -c discovery -- pilot-discovery request GET /debug/registryz';

const check = defineCheck({
  id: 'services/cross-cluster-discovery',
  category: 'services',
  scope: 'cluster',
  // istiod's debug endpoints answer only while istiod runs: its own check says why when it does not.
  dependsOn: ['control-plane/istiod-ready'],
  // secrets? and deployments?: the remote secrets' keys (in istiod's namespaces), when readable, name the peers.
  needs: ['services', 'namespaces', 'configmaps', 'secrets?', 'deployments?', 'istiod:registryz', 'istiod:clusterz'],
  meta: {
    description: "Each primary's istiod knows the Services of every peer cluster (registryz clusterVIPs)",
    details:
      'A primary\'s istiod builds one registry per cluster it watches: its own, and one per remote secret. /debug/registryz ' +
      'lists every service with the clusters it knows it in (clusterVIPs, or cluster-vips up to Istio 1.11), keyed by ' +
      'cluster id. For every peer cluster of the mesh, this check compares the Services its API holds (in the namespaces ' +
      'this istiod\'s discoverySelectors select) with the peer\'s key in clusterVIPs. A peer that is missing entirely means ' +
      'istiod does not watch it: no remote secret whose data key is the peer\'s cluster id, or the watch never synced ' +
      '(clusterz: syncing/timeout); services then resolve only to local endpoints, or fail when there are none.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      noRemoteSecret: {
        template:
          'istiod {{istiod}} does not discover cluster {{peer}}: no remote secret in {{namespace}} has the data key {{peerId}}, so none of its {{count}} Services are known ({{examples}})',
        severity: 'error',
        explainedBy: [...BY_REMOTE_SECRET, ...BY_REMOTE_SYNC, ...BY_EXTERNAL_CONTROL_PLANE],
        hint:
          'Create the secret from the peer\'s credentials: istioctl create-remote-secret --context=<{{peer}} context> --name={{peerId}} | ' +
          'kubectl apply --context=<{{cluster}} context> -f - ; then check: ' + REGISTRYZ,
      },
      peerNotSynced: {
        template:
          'istiod {{istiod}} has the remote secret {{secret}} for cluster {{peerId}} but its watch is {{status}}: none of the {{count}} Services of {{peer}} are known ({{examples}})',
        severity: 'error',
        explainedBy: [...BY_REMOTE_SECRET, ...BY_REMOTE_SYNC, ...BY_EXTERNAL_CONTROL_PLANE],
        hint:
          'istiod cannot list the peer\'s API with the secret\'s credentials: run meshdoctor --only control-plane/remote-api-access,control-plane/remote-sync, ' +
          'and read istiod\'s log: kubectl logs -n {{namespace}} {{istiod}} -c discovery | grep -i {{peerId}}',
      },
      peerUnderOtherId: {
        template:
          'istiod {{istiod}} knows the Services of cluster {{peer}} under the id {{foundId}}, not its cluster id {{peerId}}: the remote secret\'s data key is wrong',
        severity: 'error',
        explainedBy: [...BY_REMOTE_SECRET, ...BY_REMOTE_SYNC, ...BY_EXTERNAL_CONTROL_PLANE],
        hint:
          'istiod keys a peer by the remote secret\'s data key. Recreate it: istioctl create-remote-secret --context=<{{peer}} context> --name={{peerId}} | kubectl --context=<{{cluster}} context> apply -f - ; ' +
          'then delete the secret holding key {{foundId}} (kubectl get secrets -n {{namespace}} -l istio/multiCluster=true).',
      },
      peerNotDiscovered: {
        template: 'istiod {{istiod}} knows none of the {{count}} Services of cluster {{peer}} ({{peerId}}): {{cause}}',
        severity: 'error',
        explainedBy: [...BY_REMOTE_SECRET, ...BY_REMOTE_SYNC, ...BY_EXTERNAL_CONTROL_PLANE],
        hint: 'Check the remote secret and the watch: kubectl get secrets -n {{namespace}} -l istio/multiCluster=true; ' +
          'kubectl exec -n {{namespace}} {{istiod}} -c discovery -- pilot-discovery request GET /debug/clusterz',
      },
      servicesMissing: {
        template:
          'istiod {{istiod}} lacks {{count}} Service(s) that cluster {{peer}} holds, although it knows {{known}} others of that cluster: {{examples}}',
        severity: 'error',
        hint:
          'Services created in the last seconds may not be synced yet: re-run. Otherwise compare the namespaces with istiod\'s discoverySelectors ' +
          '(kubectl get cm istio -n {{namespace}} -o yaml) and read istiod\'s log for {{peerId}}; check: ' + REGISTRYZ,
        explainedBy: BY_EXTERNAL_CONTROL_PLANE,
      },
      peerUnreadable: {
        template: "Cannot compare with cluster {{peer}}: its Services could not be listed ({{reason}})",
        severity: 'info',
        hint: 'Give meshdoctor a kube context for {{peer}} that can list services and namespaces, then re-run.',
      },
    },
  },
  appliesTo(info) {
    return runsIstiod(info) ? undefined : 'runs no istiod: its Services are checked from its primary';
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const info = ctx.clusterInfo;
    const peers = ctx.clusterInfos.filter((p): p is ClusterInfo & { clusterId: string } => p.name !== info.name && p.reachable && Boolean(p.clusterId));
    if (peers.length === 0) ctx.skip('no peer cluster with a known cluster id');
    const registry = await readRegistry(reader, ctx.signal);
    if (!registry) return ctx.skip('no running istiod answered /debug/registryz');

    const istioNamespace = ctx.options.istioNamespace;
    const configMaps = await reader.list('configmaps', { namespace: istioNamespace });
    const selected = discoveryFilter(configMaps, istioNamespace);
    const knownIds = new Set(ctx.clusterInfos.map((c) => c.clusterId).filter(Boolean));
    const byCluster = servicesByClusterId(registry.services);
    const facts = { ctx, reader, istiod: registry.pod, namespace: istioNamespace, byCluster, knownIds };

    for (const peer of peers) {
      const peerReader = ctx.clusters[ctx.clusterInfos.indexOf(peer)];
      let expected: string[];
      try {
        expected = await meshServicesOf(peerReader, selected);
      } catch (err) {
        // Forbidden is a gap in what was compared; a 500 or a timeout is the check's error.
        if (!isAbsence(err)) throw err;
        ctx.report({ messageId: 'peerUnreadable', data: { peer: peer.name, reason: err.message } });
        ctx.notRead(peer.name, err.message);
        continue;
      }
      await comparePeer(peer, expected, facts);
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/** `namespace/name` of the Kubernetes services istiod knows, per cluster id. */
function servicesByClusterId(services: RegistryService[]): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const service of services) {
    if (service.registry !== 'Kubernetes') continue;
    for (const clusterId of Object.keys(service.clusterVips)) {
      let set = result.get(clusterId);
      if (!set) result.set(clusterId, (set = new Set()));
      set.add(registryKey(service));
    }
  }
  return result;
}

/** `namespace/name` of a cluster's Services in the namespaces istiod selects. */
async function meshServicesOf(reader: ClusterReader, selected: (labels: Record<string, string>) => boolean): Promise<string[]> {
  const [services, namespaces] = await Promise.all([reader.list('services'), reader.list('namespaces')]);
  const labelsByNamespace = new Map(namespaces.map((ns: KubeObject) => [ns.metadata.name, labelsOf(ns)]));
  return services.filter((s) => selected(labelsByNamespace.get(s.metadata.namespace ?? '') ?? {})).map(nsName);
}

interface PeerFacts {
  ctx: Ctx;
  reader: ClusterReader;
  istiod: string;
  namespace: string;
  byCluster: Map<string, Set<string>>;
  knownIds: Set<string | undefined>;
}

async function comparePeer(peer: ClusterInfo & { clusterId: string }, expected: string[], facts: PeerFacts): Promise<void> {
  const { ctx } = facts;
  const peerId = peer.clusterId;
  const known = facts.byCluster.get(peerId) ?? new Set<string>();
  const missing = expected.filter((key) => !known.has(key));
  if (missing.length === 0) return;
  const base = { istiod: facts.istiod, namespace: facts.namespace, peer: peer.name, peerId, count: missing.length, examples: examples(missing) };
  const resource = { kind: 'Pod', namespace: facts.namespace, name: facts.istiod };

  const knownOfPeer = expected.length - missing.length;
  if (knownOfPeer > 0) {
    ctx.report({ messageId: 'servicesMissing', resource, data: { ...base, known: knownOfPeer } });
    return;
  }

  // The whole peer is missing: find out why, from the remote secrets and clusterz.
  const otherId = [...facts.byCluster.entries()].find(
    ([id, keys]) => !facts.knownIds.has(id) && missing.filter((key) => keys.has(key)).length >= missing.length / 2,
  )?.[0];
  if (otherId) {
    ctx.report({ messageId: 'peerUnderOtherId', resource, data: { ...base, foundId: otherId } });
    return;
  }
  const secretKeys = await readSecretKeys(facts.reader, facts.namespace);
  if (secretKeys && !secretKeys.has(peerId)) {
    ctx.report({ messageId: 'noRemoteSecret', resource, data: base });
    return;
  }
  const status = await syncStatusOf(facts.reader, peerId, ctx.signal);
  if (secretKeys && status !== 'synced') {
    ctx.report({ messageId: 'peerNotSynced', resource, data: { ...base, secret: secretKeys.get(peerId) ?? peerId, status: status ?? 'absent from clusterz' } });
    return;
  }
  const cause = secretKeys
    ? `the remote secret exists and clusterz reports it ${status}, yet none of its Services are known (discoverySelectors?)`
    : `remote secrets could not be read${status ? `; clusterz reports ${status}` : ''}`;
  ctx.report({ messageId: 'peerNotDiscovered', resource, data: { ...base, cause } });
}

/** The cluster ids istiod's secrets give it (either form), or undefined when they cannot be listed (forbidden). */
async function readSecretKeys(reader: ClusterReader, namespace: string): Promise<Map<string, string> | undefined> {
  // Deployments say which namespaces hold an external istiod's istio-kubeconfig; without them the
  // istio namespace's remote secrets still answer, as they always did.
  const deployments = await unlessAbsent(reader.list('deployments'));
  const secrets = await unlessAbsent(deployments ? readIstiodSecrets(reader, namespace) : reader.list('secrets', { namespace }));
  return secrets && remoteSecretClusterIds(findRemoteSecrets(secrets, namespace), deployments ?? []);
}

/** The peer's sync status in clusterz; undefined when istiod does not list it (or clusterz is unavailable). */
async function syncStatusOf(reader: ClusterReader, peerId: string, signal: AbortSignal): Promise<string | undefined> {
  // clusterz only explains the cause; what keeps it from being read is remote-sync's to report.
  const output = primaryOutput((await unlessAbsent(reader.istiodDebug('clusterz', { signal }))) ?? []);
  if (!output) return undefined;
  try {
    return parseClusterz(output.body).find((e) => e.id === peerId)?.syncStatus || undefined;
  } catch {
    return undefined; // clusterz only explains the cause; control-plane/remote-sync reports its format
  }
}
