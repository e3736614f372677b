// Encodes istiod's gateway discovery as /debug/networkz shows it (istio/istio pilot/pkg/model/network.go, pilot/pkg/serviceregistry/kube/controller/network.go).
import { defineCheck } from '../../engine/define-check.ts';
import { noSidecarReason } from '../../mesh/ambient.ts';
import type { KubeObject } from '../../cluster/types.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import { NetworkzUnavailable, parseNetworkz, type NetworkzGateway } from '../../mesh/debug/networkz.ts';
import { isIpAddress, labelsOf, nodeSelectorOf, servicePorts } from '../../mesh/istio-objects.ts';
import { clusterDomainOf, meshNetworksOf, type MeshNetwork } from '../../mesh/istio-gateways.ts';
import { eastWestGatewaysOf } from '../../mesh/eastwest-gateways.ts';
import { BY_EXTERNAL_CONTROL_PLANE, BY_GATEWAY_UNPUBLISHED_HERE, BY_REMOTE_SECRET, BY_REMOTE_SYNC } from '../../engine/explanations.ts';
import { runsIstiod } from '../../mesh/roles.ts';

const check = defineCheck({
  id: 'network/gateway-view',
  category: 'network',
  scope: 'cluster',
  // istiod's debug endpoints answer only while istiod runs: its own check says why when it does not.
  dependsOn: ['control-plane/istiod-ready'],
  needs: ['istiod:networkz', 'services', 'nodes', 'k8sgateways', 'configmaps'],
  meta: {
    description: 'istiod\'s /debug/networkz lists a gateway for every peer network, and only addresses a gateway explains',
    details:
      'Sidecars reach endpoints of another network through the gateways istiod lists in /debug/networkz: a network ' +
      'missing there is unreachable from this control plane\'s proxies (they get no endpoint for it, or the pod IPs). ' +
      'Each listed address must come from a gateway: a load balancer IP, spec.externalIPs, a Gateway API status ' +
      'address, meshNetworks, or for a NodePort Service the ExternalIP of a node its traffic.istio.io/nodeSelector ' +
      'selects, with the nodePort. istiod resolves a load balancer hostname to IPs, so an IP next to a hostname gateway ' +
      'is expected. An address nothing explains is stale or foreign: traffic to that network goes to the wrong place.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      gatewayViewMissing: {
        template: 'istiod in {{istiodCluster}} lists no gateway for network {{network}} ({{clusters}}): its proxies cannot reach that network. Cause: {{cause}}',
        severity: 'error',
        // Reported on the gateway's cluster when the gateway is the cause (istiod takes no gateway from it),
        // on istiod's cluster when istiod does not watch the peer (its remote secret or sync).
        explainedBy: [...BY_GATEWAY_UNPUBLISHED_HERE, ...BY_REMOTE_SECRET, ...BY_REMOTE_SYNC, ...BY_EXTERNAL_CONTROL_PLANE],
        hint:
          'Compare with the API: kubectl --context {{context}} get svc -A -l topology.istio.io/network={{network}} -o wide; ' +
          'and with istiod: kubectl --context {{istiodContext}} -n istio-system exec deploy/istiod -c discovery -- pilot-discovery request GET /debug/networkz',
      },
      gatewayViewNodePortNoExternalIp: {
        template: 'NodePort gateway {{name}} of network {{network}} selects nodes ({{selector}}) without an ExternalIP: istiod in {{istiodCluster}} has no address for it',
        severity: 'error',
        hint:
          'Give the selected nodes an ExternalIP or select nodes that have one (kubectl --context {{context}} get nodes -o wide; ' +
          'kubectl --context {{context}} -n {{namespace}} annotate service {{name}} traffic.istio.io/nodeSelector=\'{"<node label>":"<label value>"}\' --overwrite).',
      },
      gatewayViewUnexplained: {
        template: 'istiod in {{istiodCluster}} lists gateway {{address}}:{{port}} for network {{network}} (cluster {{gatewayCluster}}), which no gateway Service, Gateway or meshNetworks entry explains',
        severity: 'error',
        explainedBy: [...BY_REMOTE_SECRET, ...BY_REMOTE_SYNC],
        hint:
          'Find where it comes from: kubectl --context {{context}} get svc -A -l topology.istio.io/network={{network}} -o wide, and the meshNetworks of ' +
          'kubectl --context {{istiodContext}} -n istio-system get configmap istio -o yaml; remove the stale entry or fix the gateway\'s address.',
      },
    },
  },
  appliesTo(info) {
    return runsIstiod(info) ? undefined : 'no istiod runs in this cluster';
  },
  async run(ctx) {
    if (!ctx.mesh.multiNetwork) ctx.skip('single-network mesh: no network gateways needed');
    const ambientOnly = noSidecarReason(ctx.clusterInfos);
    if (ambientOnly) ctx.skip(ambientOnly);
    const reader = ctx.cluster;
    const info = ctx.clusterInfo;
    const outputs = await reader.istiodDebug('networkz', { signal: ctx.signal });
    if (outputs.length === 0) ctx.skip('no istiod answered /debug/networkz');
    let listed: NetworkzGateway[];
    try {
      // Every istiod replica watches the same registries; the first answer speaks for them.
      // An HBONE-only entry (Port 0) is an ambient east-west gateway: istiod lists a labelled Service
      // listening on 15008 but not 15443 with Port 0 (pilot/pkg/serviceregistry/kube/controller/
      // network.go:336-351 at istio/istio eed52ebb); sidecars never use it, ambient/* judges it.
      listed = parseNetworkz(outputs[0].body).filter((g) => !(g.port === 0 && g.hbonePort > 0));
    } catch (err) {
      if (err instanceof NetworkzUnavailable) ctx.skip(err.message);
      throw err;
    }

    // This istiod's meshNetworks: fixed gateway addresses, and Services it takes as gateways by registryServiceName.
    const configMaps = await reader.list('configmaps');
    const meshNetworks = meshNetworksOf(configMaps, ctx.options.istioNamespace)?.networks ?? [];
    const peers = await peerGateways(ctx, meshNetworks, clusterDomainOf(configMaps, ctx.options.istioNamespace));
    const base = { istiodCluster: info.name, istiodContext: info.context ?? info.name };

    for (const network of expectedNetworks(ctx, info)) {
      if (listed.some((g) => g.network === network)) continue;
      reportMissing(ctx, network, peers, base);
    }
    for (const entry of listed) {
      if (explained(entry, peers, meshNetworks)) continue;
      const known = ctx.clusterInfos.find((c) => c.clusterId === entry.cluster);
      // A gateway of a cluster meshdoctor cannot read (its id is then unknown too) cannot be checked
      // against that cluster's objects: not a finding; that cluster's own results say it was unreadable.
      if ((known && !known.reachable) || (!known && ctx.clusterInfos.some((c) => !c.reachable))) continue;
      const owner = known ?? info;
      ctx.report({
        messageId: 'gatewayViewUnexplained',
        cluster: owner.name,
        data: { ...base, address: entry.address, port: entry.port, network: entry.network, gatewayCluster: entry.cluster || '<meshNetworks>', context: owner.context ?? owner.name },
      });
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/** A gateway declared in some cluster's API, with what istiod would publish for it. */
interface DeclaredGateway {
  cluster: ClusterInfo;
  kind: 'Service' | 'Gateway';
  namespace: string;
  name: string;
  network?: string;
  /** Addresses with the port istiod pairs them with. */
  endpoints: { address: string; port: number }[];
  /** Some address is a hostname: istiod lists the IPs it resolves to. */
  hostnamePorts: number[];
  type?: string;
  /** NodePort with a nodeSelector: the selector and the ExternalIPs of the nodes it selects. */
  nodePort?: { selector: string; externalIps: number };
  hasGatewayPort: boolean;
  gatewayPort: number;
}

/** Every east-west gateway of every reachable cluster, as this istiod (with its meshNetworks) would discover it. */
async function peerGateways(ctx: Ctx, meshNetworks: MeshNetwork[], clusterDomain: string): Promise<DeclaredGateway[]> {
  const out: DeclaredGateway[] = [];
  for (const [i, reader] of ctx.clusters.entries()) {
    const cluster = ctx.clusterInfos[i];
    if (!cluster.reachable) continue;
    const [services, nodes, k8sGateways] = await Promise.all([reader.list('services'), reader.list('nodes'), reader.listOptional('k8sgateways')]);
    // This istiod's meshNetworks decide which Services it takes as gateways, for every registry it watches.
    const discovery = { networks: meshNetworks, clusterDomain, ...(cluster.clusterId ? { clusterId: cluster.clusterId } : {}) };
    for (const gw of eastWestGatewaysOf(cluster.name, { services, k8sGateways, nodes }, discovery)) {
      if (gw.kind === 'Gateway') {
        out.push({
          cluster,
          kind: 'Gateway',
          namespace: gw.namespace,
          name: gw.name,
          ...(gw.recognisedByIstiod && gw.network ? { network: gw.network } : {}),
          endpoints: gw.addresses.filter(isIpAddress).map((address) => ({ address, port: gw.gatewayPort })),
          hostnamePorts: gw.addresses.some((a) => !isIpAddress(a)) ? [gw.gatewayPort] : [],
          hasGatewayPort: gw.apiGateway?.autoPassthroughListener !== undefined,
          gatewayPort: gw.gatewayPort,
        });
        continue;
      }
      const svc = gw.service!;
      const nodeAddresses = nodeExternalIps(svc, nodes);
      const endpoints = gw.addresses.filter(isIpAddress).map((address) => ({
        address,
        // A node address of a NodePort gateway is dialled on the nodePort.
        port: nodeAddresses.includes(address) ? gw.dialPort : gw.gatewayPort,
      }));
      const selector = nodeSelectorOf(svc);
      out.push({
        cluster,
        kind: 'Service',
        namespace: gw.namespace,
        name: gw.name,
        ...(gw.network ? { network: gw.network } : {}),
        endpoints,
        hostnamePorts: gw.addresses.some((a) => !isIpAddress(a)) ? [gw.gatewayPort] : [],
        type: svc.spec?.type,
        ...(gw.type === 'NodePort' && selector
          ? { nodePort: { selector: Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') || '<all nodes>', externalIps: nodeAddresses.length } }
          : {}),
        hasGatewayPort: servicePorts(svc).some((p) => p.port === gw.gatewayPort),
        gatewayPort: gw.gatewayPort,
      });
    }
  }
  return out;
}

/** ExternalIPs of the nodes a NodePort gateway's nodeSelector annotation selects. */
function nodeExternalIps(svc: KubeObject, nodes: KubeObject[]): string[] {
  const selector = nodeSelectorOf(svc);
  if (svc.spec?.type !== 'NodePort' || !selector) return [];
  return nodes
    .filter((n) => Object.entries(selector).every(([k, v]) => labelsOf(n)[k] === v))
    .flatMap((n) => ((n.status?.addresses ?? []) as { type: string; address: string }[]).filter((a) => a.type === 'ExternalIP').map((a) => a.address));
}

/** Networks whose gateway this istiod must know: every other network, and its own when it serves remotes elsewhere. */
function expectedNetworks(ctx: Ctx, info: ClusterInfo): string[] {
  const networks = new Set<string>();
  const servesOtherNetworks = ctx.clusterInfos.some((c) => c.role === 'remote' && c.network && c.network !== info.network);
  for (const c of ctx.clusterInfos) {
    if (!c.reachable || !c.network) continue;
    if (c.network !== info.network || servesOtherNetworks) networks.add(c.network);
  }
  return [...networks].sort();
}

function reportMissing(ctx: Ctx, network: string, peers: DeclaredGateway[], base: { istiodCluster: string; istiodContext: string }): void {
  const members = ctx.clusterInfos.filter((c) => c.reachable && c.network === network);
  const owner = members[0];
  const data = { ...base, network, clusters: members.map((c) => c.name).join(', '), context: owner.context ?? owner.name };
  const labelled = peers.filter((p) => p.network === network);
  const unlabelled = peers.filter((p) => p.network === undefined && p.cluster.network === network);
  const report = (cluster: ClusterInfo, cause: string, resource?: { kind: string; namespace: string; name: string }) =>
    ctx.report({ messageId: 'gatewayViewMissing', cluster: cluster.name, ...(resource ? { resource } : {}), data: { ...data, cause } });
  const ref = (p: DeclaredGateway) => ({ kind: p.kind, namespace: p.namespace, name: p.name });

  if (labelled.length === 0) {
    if (unlabelled.length > 0) {
      const p = unlabelled[0];
      report(p.cluster, `${p.kind} ${p.namespace}/${p.name} in ${p.cluster.name} lacks the topology.istio.io/network label, so istiod does not take it as a gateway`, ref(p));
    } else report(owner, 'no east-west gateway is labelled for this network in any cluster');
    return;
  }
  const noExternalIp = labelled.find((p) => p.nodePort && p.nodePort.externalIps === 0 && p.endpoints.length === 0);
  if (noExternalIp) {
    ctx.report({
      messageId: 'gatewayViewNodePortNoExternalIp',
      cluster: noExternalIp.cluster.name,
      resource: ref(noExternalIp),
      data: { ...data, name: noExternalIp.name, namespace: noExternalIp.namespace, selector: noExternalIp.nodePort!.selector, context: noExternalIp.cluster.context ?? noExternalIp.cluster.name },
    });
    return;
  }
  const usable = labelled.find((p) => p.hasGatewayPort && (p.endpoints.length > 0 || p.hostnamePorts.length > 0));
  if (!usable) {
    const p = labelled[0];
    const cause = !p.hasGatewayPort ? `${p.kind} ${p.namespace}/${p.name} has no cross-network port (${p.gatewayPort})` : `${p.kind} ${p.namespace}/${p.name} has no external address (load balancer pending?)`;
    report(p.cluster, cause, ref(p));
    return;
  }
  // The gateway itself is fine: the gap is in what this istiod watches, so the finding is its cluster's.
  report(ctx.clusterInfo, `${usable.kind} ${usable.namespace}/${usable.name} in ${usable.cluster.name} looks usable, so istiod probably does not watch ${usable.cluster.name}: check its remote secret and /debug/clusterz`, ref(usable));
}

function explained(entry: NetworkzGateway, peers: DeclaredGateway[], meshNetworks: MeshNetwork[]): boolean {
  const fixed = meshNetworks.flatMap((n) => n.gateways).filter((g) => g.address !== undefined);
  if (fixed.some((m) => m.network === entry.network && m.address === entry.address && m.port === entry.port)) return true;
  const candidates = peers.filter((p) => p.network === entry.network && (entry.cluster === '' || p.cluster.clusterId === undefined || p.cluster.clusterId === entry.cluster));
  return candidates.some(
    (p) => p.endpoints.some((e) => e.address === entry.address && e.port === entry.port) || (isIpAddress(entry.address) && p.hostnamePorts.includes(entry.port)),
  );
}
