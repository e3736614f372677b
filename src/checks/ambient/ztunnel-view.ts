// Encodes istio/istio pilot/pkg/serviceregistry/ambient/multicluster.go:318-370 and :724-775 (split-horizon workloads, 86c9f01) and istio/ztunnel src/admin.rs:62-89 (config_dump, 62d8265).
import { defineCheck } from '../../engine/define-check.ts';
import { AccessError } from '../../cluster/types.ts';
import type { ContextOf } from '../../engine/types.ts';
import {
  ambientClusterView,
  findAmbientEastWestGateways,
  isSplitHorizonWorkload,
  noAmbientReason,
  parseAmbientz,
  parseZtunnelDump,
  workloadNetwork,
  type AmbientWorkload,
} from '../../mesh/ambient.ts';
import { fingerprintPrefix, parsePemCertificates, readClusterRoot } from '../../mesh/certificates.ts';

/** What one source of the cluster's ambient view (a ztunnel pod, or istiod when no ztunnel could be read) holds. */
interface ViewSource {
  /** `ztunnel <ns>/<pod>` or `istiod <pod> /debug/ambientz`. */
  what: string;
  workloads: AmbientWorkload[];
  /** ztunnel's trusted roots (none from istiod). */
  rootCerts?: string[];
}

const check = defineCheck({
  id: 'ambient/ztunnel-view',
  category: 'ambient',
  scope: 'cluster',
  needs: ['ztunnel-config?', 'istiod:ambientz?', 'services', 'namespaces', 'configmaps', 'endpointslices', 'k8sgateways', 'secrets?'],
  meta: {
    description: 'Sampled ztunnels see every GLOBAL Service\'s peer networks through a known east-west gateway, and trust the mesh root',
    details:
      'For a GLOBAL Service with ready endpoints in a cluster on another network, istiod sends each ztunnel one split-horizon ' +
      'workload per (network, service): uid <network>/SplitHorizonWorkload/..., whose networkGateway is that network\'s ' +
      'east-west gateway address on port 15008. Without it (no usable istio-east-west Gateway on that network: "No network ' +
      'gateway found for network") the ztunnel sends every request to local endpoints only. meshdoctor reads /config_dump of ' +
      'up to three ztunnel pods by port-forward to their localhost:15000 (where ztunnel\'s admin listens); when none can be ' +
      'read it falls back to istiod\'s /debug/ambientz. Every networkGateway address must be a peer\'s istio-east-west ' +
      'Gateway address, and ztunnel\'s trusted roots must include the cluster\'s root (ambient needs one shared root, istio#61719).',
    docs: 'https://istio.io/latest/docs/ambient/install/multicluster/verify/',
    messages: {
      noRemoteNetworkWorkload: {
        template: '{{source}}: no workload for GLOBAL Service {{service}} on network {{peerNetwork}}, where {{peer}} has {{ready}} ready endpoints: istiod found no gateway for that network, so only local endpoints answer',
        severity: 'error',
        explainedBy: [
          { check: 'ambient/eastwest-gateway', messages: ['ewgwMissing', 'noAddress', 'noHboneListener', 'networkLabelMissing', 'networkMismatch', 'gatewayClassMissing'], when: 'peer-pair' },
          // Either end: the ztunnel's istiod without multi-network (or refusing it), or the unreachable cluster's.
          { check: 'ambient/multi-network', messages: ['multiNetworkOff', 'ambientOff', 'ztunnelClusterIdMismatch'], when: 'peer-pair' },
          { check: 'ambient/global-services', messages: ['globalLabelAsymmetric', 'scopeConfigMissing'], when: 'peer-pair' },
        ],
        hint: 'Check network {{peerNetwork}}\'s east-west gateway in {{peer}}: kubectl --context=<{{peer}} context> get gateways.gateway.networking.k8s.io -A -l topology.istio.io/network={{peerNetwork}}; and istiod\'s log here for "No network gateway found for network {{peerNetwork}}".',
      },
      unexplainedGatewayAddress: {
        template: '{{source}} reaches network {{network}} through gateway {{address}}, which no istio-east-west Gateway of that network has as its address ({{known}})',
        severity: 'error',
        hint: 'A stale or hand-made gateway: compare kubectl get gateways.gateway.networking.k8s.io -A -l topology.istio.io/network={{network}} -o wide in every cluster with istioctl ztunnel-config workloads | grep SplitHorizon.',
      },
      rootNotTrusted: {
        template: '{{source}} does not trust this cluster\'s root {{root}} (it trusts {{trusted}}): its mTLS to workloads signed by this cluster\'s CA fails',
        severity: 'error',
        explainedBy: [{ check: 'certificates/shared-root', messages: ['rootMismatch'], when: 'mesh' }],
        hint: 'Plug in certificates from one root for every cluster (cacerts), restart istiod, then ztunnel: kubectl --context=<{{cluster}} context> -n istio-system rollout restart daemonset/ztunnel',
      },
    },
  },
  async run(ctx) {
    const noAmbient = noAmbientReason(ctx.clusterInfos);
    if (noAmbient) ctx.skip(noAmbient);
    const info = ctx.clusterInfo;
    if (!info.dataPlane?.ztunnel) ctx.skip('no ztunnel DaemonSet runs in this cluster');
    const sources = await readSources(ctx);
    const view = await ambientClusterView(ctx, ctx.cluster);
    await judgeRemoteNetworks(ctx, sources, view);
    await judgeGatewayAddresses(ctx, sources);
    await judgeRoots(ctx, sources);
  },
});
export default check;

type Ctx = ContextOf<typeof check>;

/** The sampled ztunnels' dumps; istiod's ambientz when no ztunnel could be read (port-forward denied, no dump in a snapshot). */
async function readSources(ctx: Ctx): Promise<ViewSource[]> {
  let problem: string;
  try {
    const dumps = await ctx.cluster.ztunnelConfigDumps({ signal: ctx.signal });
    if (dumps.length > 0) {
      return dumps.map((dump) => {
        const parsed = parseZtunnelDump(dump.body);
        return { what: `ztunnel ${dump.namespace}/${dump.pod}`, workloads: parsed.workloads, rootCerts: parsed.rootCerts };
      });
    }
    problem = 'no ztunnel pod is running';
  } catch (err) {
    if (!(err instanceof AccessError) || !['forbidden', 'offline', 'not-found'].includes(err.reason)) throw err;
    problem = err.message;
  }
  const outputs = await ctx.cluster.istiodDebug('ambientz', { signal: ctx.signal }).catch((err: unknown) => {
    if (err instanceof AccessError && ['forbidden', 'offline', 'not-found'].includes(err.reason)) return [];
    throw err;
  });
  if (outputs.length === 0) return ctx.skip(`ztunnel's config_dump could not be read (${problem}) and istiod's /debug/ambientz neither`);
  return [{ what: `istiod ${outputs[0].pod} /debug/ambientz`, workloads: parseAmbientz(outputs[0].body) }];
}

async function judgeRemoteNetworks(ctx: Ctx, sources: ViewSource[], view: Awaited<ReturnType<typeof ambientClusterView>>): Promise<void> {
  const info = ctx.clusterInfo;
  if (!ctx.mesh.multiNetwork || info.network === undefined) return;
  for (const [i, peer] of ctx.clusters.entries()) {
    const peerInfo = ctx.clusterInfos[i];
    if (peer === ctx.cluster || !peerInfo.reachable || peerInfo.network === undefined || peerInfo.network === info.network) continue;
    const peerView = await ambientClusterView(ctx, peer).catch((err: unknown) => {
      ctx.notRead(peer.name, err instanceof Error ? err.message : String(err));
      return undefined;
    });
    if (!peerView) continue;
    for (const [key, local] of view.services) {
      // istiod shares a Service by this cluster's scope; the peer's copy must have endpoints to reach.
      if (local.scope !== 'GLOBAL') continue;
      const remote = peerView.services.get(key);
      if (!remote || remote.ready === 0) continue;
      const blind = sources.filter((source) => !source.workloads.some((w) => serves(w, key) && workloadNetwork(w) === peerInfo.network && (isSplitHorizonWorkload(w) || w.networkGateway !== undefined)));
      if (blind.length === 0) continue;
      const [namespace, name] = key.split('/');
      // One finding per Service and peer, however many sampled ztunnels lack it: one cause (istiod's
      // view of that network), and the sampled ztunnels all get it from the same istiod.
      ctx.report({
        messageId: 'noRemoteNetworkWorkload',
        // On the cluster that cannot be reached (as network/gateway-view and connectivity's
        // noEndpointsForCluster do): its network lacks the way in; the ztunnel's cluster is the peer.
        cluster: peer.name,
        resource: { kind: 'Service', namespace, name },
        peer: ctx.cluster.name,
        data: { source: sourcesText(blind, sources.length), service: key, peerNetwork: peerInfo.network, peer: peer.name, ready: remote.ready },
      });
    }
  }
}

/** `ztunnel ns/a`, or `ztunnel ns/a and 2 more of 3 sampled` when several lack the same workload. */
function sourcesText(blind: ViewSource[], sampled: number): string {
  return blind.length === 1 ? blind[0].what : `${blind[0].what} and ${blind.length - 1} more of ${sampled} sampled`;
}

/** Whether a workload serves the Service: ztunnel and istiod name it `<namespace>/<name>.<namespace>.svc.<cluster domain>`. */
function serves(workload: AmbientWorkload, key: string): boolean {
  const [namespace, name] = key.split('/');
  const prefix = `${namespace}/${name}.${namespace}.svc.`;
  return workload.services.some((s) => s.startsWith(prefix));
}

async function judgeGatewayAddresses(ctx: Ctx, sources: ViewSource[]): Promise<void> {
  const known = new Map<string, Set<string>>();
  // Networks with a cluster whose Gateways could not be read: an address there may be explained by what was not read.
  const unreadNetworks = new Set<string | undefined>();
  for (const [i, reader] of ctx.clusters.entries()) {
    if (!ctx.clusterInfos[i].reachable) continue;
    const gateways = await reader.listOptional('k8sgateways').catch(() => undefined);
    if (!gateways) {
      ctx.notRead(reader.name, 'its Gateways could not be listed');
      unreadNetworks.add(ctx.clusterInfos[i].network);
      continue;
    }
    for (const gw of findAmbientEastWestGateways(gateways)) {
      if (!gw.network) continue;
      const set = known.get(gw.network) ?? new Set<string>();
      for (const address of gw.addresses) set.add(address);
      known.set(gw.network, set);
    }
  }
  for (const source of sources) {
    const reported = new Set<string>();
    for (const workload of source.workloads) {
      const gw = workload.networkGateway;
      if (!gw || !isSplitHorizonWorkload(workload)) continue;
      const network = gw.network ?? workloadNetwork(workload);
      if (unreadNetworks.has(network) || unreadNetworks.has(undefined)) continue;
      if (known.get(network)?.has(gw.address) || reported.has(`${network}/${gw.address}`)) continue;
      reported.add(`${network}/${gw.address}`);
      ctx.report({ messageId: 'unexplainedGatewayAddress', data: { source: source.what, network, address: gw.address, known: [...(known.get(network) ?? [])].join(', ') || 'none' } });
    }
  }
}

async function judgeRoots(ctx: Ctx, sources: ViewSource[]): Promise<void> {
  const withRoots = sources.filter((s) => s.rootCerts && s.rootCerts.length > 0);
  if (withRoots.length === 0) return;
  const result = await readClusterRoot(ctx.cluster, ctx.clusterInfo, ctx.options.istioNamespace, { distributedOnProblem: true });
  if (!('root' in result)) return;
  const root = result.root.signing;
  for (const source of withRoots) {
    const trusted = source.rootCerts!.flatMap((pem) => {
      try {
        return parsePemCertificates(pem);
      } catch {
        return [];
      }
    });
    if (trusted.some((c) => c.fingerprint === root.fingerprint)) continue;
    ctx.report({
      messageId: 'rootNotTrusted',
      data: { source: source.what, root: fingerprintPrefix(root.fingerprint), trusted: trusted.map((c) => fingerprintPrefix(c.fingerprint)).join(', ') || 'none' },
    });
  }
}
