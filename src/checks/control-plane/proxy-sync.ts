// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/proxy-cmd/ (`istioctl proxy-status`: SYNCED / NOT SENT / STALE from istiod's /debug/syncz).
import { defineCheck } from '../../engine/define-check.ts';
import { BY_EXTERNAL_CONTROL_PLANE } from '../../engine/explanations.ts';
import type { ClusterReader } from '../../cluster/types.ts';
import { clustersRunningIstiod, istiodOutputsOrSkip, readClusterz } from '../../mesh/istiod-debug.ts';
import { ZTUNNEL_TYPES, parseSyncz, type SyncProxy, type XdsTypeStatus } from '../../mesh/debug/syncz.ts';

/** How many proxy names a finding lists before summarizing. */
const LISTED_PROXIES = 5;
/** Types every proxy asks for; a gateway without routes legitimately never gets RDS/EDS. */
const ALWAYS_SENT = new Set(['cluster', 'listener']);
const SIDECAR_SENT = new Set(['cluster', 'listener', 'route', 'endpoint']);
/** A ztunnel is never sent CDS/LDS/RDS/EDS, only workload addresses and authorizations. */
const ZTUNNEL_SENT = new Set<string>(ZTUNNEL_TYPES);

export default defineCheck({
  id: 'control-plane/proxy-sync',
  category: 'control-plane',
  scope: 'cluster',
  // clusterz?: the cluster ids istiod knows, when it answers; unknown ids are then not judged.
  needs: ['istiod:syncz', 'istiod:clusterz?'],
  dependsOn: ['control-plane/istiod-ready'],
  meta: {
    description: "istiod's /debug/syncz shows its proxies acked what it sent, and every proxy's cluster id is a cluster istiod knows",
    details:
      'For every proxy connected to istiod, /debug/syncz holds the last nonce sent and acked per xDS type (what istioctl ' +
      'proxy-status prints): sent != acked is STALE (the proxy did not apply, or rejected, the last push), nothing sent is ' +
      'NOT SENT. Each proxy type is judged on what it is sent: gateways without routes legitimately never get RDS/EDS, so ' +
      'NOT SENT counts only for CDS/LDS, and for RDS/EDS of sidecars; ztunnels get only workload addresses and authorizations ' +
      '(never CDS/LDS). Since 1.24 `resources` lists exactly the types a proxy watches. Stale proxies are a warning, an error when most proxies of a cluster are stale (istiod pushes are not ' +
      'landing). A proxy whose cluster id (ISTIO_META_CLUSTER_ID) is neither istiod\'s own CLUSTER_ID nor a cluster of ' +
      '/debug/clusterz gets configuration built for an unknown cluster (wrong endpoints and network). Formats: 1.10 (no ' +
      'cluster_id), 1.11+ flat fields, `resources` per type URL since 1.24.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/proxy-cmd/',
    messages: {
      proxiesStale: {
        template: '{{count}} of {{total}} proxies of cluster {{proxyCluster}} on istiod {{pod}} are STALE ({{types}}): {{proxies}}',
        severity: 'warning',
        hint:
          'See what the proxies rejected: istioctl proxy-status; kubectl logs -n <proxy namespace> <proxy pod> -c istio-proxy | grep -i "rejected\\|nack"; ' +
          'kubectl -n {{namespace}} logs {{pod}} -c discovery | grep -i "nack\\|push". An EnvoyFilter or config that Envoy rejects is a common cause.',
      },
      proxiesNotSent: {
        template: '{{count}} proxies on istiod {{pod}} were never sent {{types}}: {{proxies}}',
        severity: 'warning',
        hint: 'istiod has not pushed to them yet, or cannot build their config: istioctl proxy-status; kubectl -n {{namespace}} logs {{pod}} -c discovery',
      },
      proxyUnknownCluster: {
        template: '{{count}} proxies on istiod {{pod}} report cluster id {{proxyCluster}}, which istiod does not know: {{proxies}}',
        severity: 'error',
        hint:
          'The injector gave them a cluster id that is not the CLUSTER_ID of their cluster: compare values.global.multiCluster.clusterName ' +
          'of the istio-sidecar-injector ConfigMap with istiod\'s CLUSTER_ID and the remote secret key, fix the install, then restart the pods.',
        // An external istiod that leads no remote (no EXTERNAL_ISTIOD) has no registry for the remote its proxies come from.
        explainedBy: BY_EXTERNAL_CONTROL_PLANE,
      },
    },
  },
  appliesTo: clustersRunningIstiod,
  async run(ctx) {
    const self = ctx.clusterInfo;
    const outputs = await istiodOutputsOrSkip(ctx, 'syncz');
    const known = await knownClusterIds(ctx.cluster, self.clusterId, ctx.signal);

    for (const output of outputs) {
      const proxies = parseSyncz(output.body);
      const base = { pod: output.pod, namespace: output.namespace };
      const resource = { kind: 'Pod', namespace: output.namespace, name: output.pod };

      const byCluster = new Map<string, SyncProxy[]>();
      for (const proxy of proxies) {
        const key = proxy.clusterId ?? self.clusterId ?? self.name;
        // Appended in place: copying the group per proxy made this quadratic in the mesh's proxies.
        const group = byCluster.get(key);
        if (group) group.push(proxy);
        else byCluster.set(key, [proxy]);
      }
      for (const [proxyCluster, group] of [...byCluster].sort(([a], [b]) => a.localeCompare(b))) {
        const stale = group.filter((p) => p.types.some((t) => t.state === 'STALE'));
        if (stale.length) {
          // Most proxies stale means pushes are not landing at all: an outage, not a straggler.
          const severity = stale.length * 2 > group.length ? 'error' : 'warning';
          const types = typeNames(stale.flatMap((p) => p.types.filter((t) => t.state === 'STALE')));
          ctx.report({ messageId: 'proxiesStale', resource, severity, data: { ...base, count: stale.length, total: group.length, proxyCluster, types, proxies: listed(stale) } });
        }
        if (known !== undefined && proxyCluster !== self.clusterId && !known.has(proxyCluster) && group.some((p) => p.clusterId)) {
          ctx.report({ messageId: 'proxyUnknownCluster', resource, data: { ...base, count: group.length, proxyCluster, proxies: listed(group) } });
        }
      }

      const notSent = proxies.filter((p) => notSentTypes(p).length > 0);
      if (notSent.length) {
        ctx.report({ messageId: 'proxiesNotSent', resource, data: { ...base, count: notSent.length, types: typeNames(notSent.flatMap(notSentTypes)), proxies: listed(notSent) } });
      }
    }
  },
});

/** Types a proxy should have been sent but was not, judged only on the types its proxy type is sent. */
function notSentTypes(proxy: SyncProxy): XdsTypeStatus[] {
  return proxy.types.filter((t) => t.state === 'NOT SENT' && expectedTypes(proxy).has(t.type));
}

function expectedTypes(proxy: SyncProxy): Set<string> {
  // Before proxy_type existed a ztunnel is known by its pod name (the DaemonSet is `ztunnel`).
  if (proxy.proxyType === 'ztunnel' || (proxy.proxyType === undefined && proxy.proxy.startsWith('ztunnel-'))) return ZTUNNEL_SENT;
  return proxy.proxyType === 'sidecar' ? SIDECAR_SENT : ALWAYS_SENT;
}

function typeNames(types: XdsTypeStatus[]): string {
  return [...new Set(types.map((t) => t.type))].sort().join(', ');
}

function listed(proxies: SyncProxy[]): string {
  const names = proxies.map((p) => p.proxy).sort();
  return names.length > LISTED_PROXIES ? `${names.slice(0, LISTED_PROXIES).join(', ')} and ${names.length - LISTED_PROXIES} more` : names.join(', ');
}

/**
 * Cluster ids istiod knows: its clusterz entries plus its own CLUSTER_ID (clusterz has no local entry
 * before 1.22). undefined when clusterz cannot be read: then unknown cluster ids cannot be judged.
 */
async function knownClusterIds(reader: Pick<ClusterReader, 'istiodDebug'>, localId: string | undefined, signal: AbortSignal): Promise<Set<string> | undefined> {
  const entries = await readClusterz(reader, signal);
  if (!entries) return undefined;
  const ids = new Set(entries.map((e) => e.id));
  if (localId) ids.add(localId);
  return ids;
}
