// Encodes istio/istio pilot/pkg/serviceregistry/ambient/networks.go:248-290 (remoteK8sGatewayToNetworkGateways, 86c9f01) and https://istio.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/.
import { defineCheck } from '../../engine/define-check.ts';
import type { ContextOf } from '../../engine/types.ts';
import { EAST_WEST_CLASS, findAmbientEastWestGateways, noAmbientReason, runsAmbient, type AmbientEastWestGateway } from '../../mesh/ambient.ts';

const GATEWAY_HINT =
  'samples/multicluster/gen-eastwest-gateway.sh --network {{network}} --ambient | kubectl --context=<{{cluster}} context> apply -f - (a Gateway istio-system/istio-eastwestgateway of class istio-east-west, ' +
  'label topology.istio.io/network={{network}}, listener {name: mesh, port: 15008, protocol: HBONE, tls: {mode: Terminate, options: {gateway.istio.io/tls-terminate-mode: ISTIO_MUTUAL}}})';

const check = defineCheck({
  id: 'ambient/eastwest-gateway',
  category: 'ambient',
  scope: 'cluster',
  needs: ['k8sgateways', 'gatewayclasses'],
  meta: {
    description: 'An ambient cluster with peers on other networks has an istio-east-west Gateway that peers\' istiods can use: network label, HBONE listener, an address',
    details:
      'In ambient mode the east-west gateway is a Gateway API Gateway of class istio-east-west (istiod registers the class only ' +
      'with AMBIENT_ENABLE_MULTI_NETWORK=true). A peer\'s istiod reads it from this cluster\'s API and uses it only when it has ' +
      'the topology.istio.io/network label, status.addresses of type IPAddress or Hostname, and a listener with protocol ' +
      'HBONE and tls.mode Terminate: otherwise ztunnels elsewhere get no way to this network and only local endpoints ' +
      'answer. The label must name this cluster\'s network (the label on its istio namespace). With several such ' +
      'Gateways on one network istiod uses the first (istio#56960).',
    docs: 'https://istio.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/',
    messages: {
      ewgwMissing: {
        template: 'Network {{network}} has peers on other networks ({{peers}}) but no istio-east-west Gateway labelled topology.istio.io/network={{network}} in this cluster: peers\' ztunnels cannot reach its workloads',
        severity: 'error',
        hint: `Create it: ${GATEWAY_HINT}`,
      },
      gatewayClassMissing: {
        template: 'GatewayClass istio-east-west does not exist: istiod registers it only with AMBIENT_ENABLE_MULTI_NETWORK=true, so no controller deploys an east-west gateway',
        severity: 'error',
        explainedBy: [{ check: 'ambient/multi-network', messages: ['multiNetworkOff', 'ambientOff'], when: 'cluster' }],
        hint: 'Turn on multi-network in istiod: helm --kube-context=<{{cluster}} context> upgrade istiod istio/istiod -n istio-system --reuse-values --set env.AMBIENT_ENABLE_MULTI_NETWORK="true"',
      },
      noHboneListener: {
        template: 'Gateway {{name}} (class istio-east-west) has no listener with protocol HBONE and tls.mode Terminate: peers\' istiods ignore it',
        severity: 'error',
        hint: 'Add the listener: kubectl --context=<{{cluster}} context> -n {{namespace}} edit gateways.gateway.networking.k8s.io {{name}} and set {name: mesh, port: 15008, protocol: HBONE, tls: {mode: Terminate, options: {gateway.istio.io/tls-terminate-mode: ISTIO_MUTUAL}}}',
      },
      noAddress: {
        template: 'Gateway {{name}} (class istio-east-west, network {{network}}) has no status.addresses: peers\' istiods get no address for network {{network}}',
        severity: 'error',
        // istiod without multi-network registers no istio-east-west class: no controller programs the Gateway or writes its addresses.
        explainedBy: [{ check: 'ambient/multi-network', messages: ['multiNetworkOff', 'ambientOff'], when: 'cluster' }],
        hint: 'See why the controller wrote none: kubectl --context=<{{cluster}} context> -n {{namespace}} describe gateways.gateway.networking.k8s.io {{name}}; kubectl --context=<{{cluster}} context> -n {{namespace}} get service -l gateway.networking.k8s.io/gateway-name={{name}} (a LoadBalancer still pending?)',
      },
      notProgrammed: {
        template: 'Gateway {{name}} (class istio-east-west) is not Programmed: its deployment or service is not ready',
        severity: 'error',
        // istiod without multi-network registers no istio-east-west class: no controller programs the Gateway or writes its addresses.
        explainedBy: [{ check: 'ambient/multi-network', messages: ['multiNetworkOff', 'ambientOff'], when: 'cluster' }],
        hint: 'See why: kubectl --context=<{{cluster}} context> -n {{namespace}} describe gateways.gateway.networking.k8s.io {{name}}; kubectl --context=<{{cluster}} context> -n {{namespace}} get pods -l gateway.networking.k8s.io/gateway-name={{name}}',
      },
      networkLabelMissing: {
        template: 'Gateway {{name}} (class istio-east-west) lacks the topology.istio.io/network label: peers\' istiods ignore it',
        severity: 'error',
        hint: 'Label it with this cluster\'s network: kubectl --context=<{{cluster}} context> -n {{namespace}} label gateways.gateway.networking.k8s.io {{name}} topology.istio.io/network={{network}}',
      },
      networkMismatch: {
        template: 'Gateway {{name}} (class istio-east-west) is labelled for network {{gatewayNetwork}} but this cluster is on network {{network}}',
        severity: 'error',
        hint: 'Relabel it: kubectl --context=<{{cluster}} context> -n {{namespace}} label gateways.gateway.networking.k8s.io {{name}} topology.istio.io/network={{network}} --overwrite',
      },
      multiplePerNetwork: {
        template: 'Network {{network}} has {{count}} usable istio-east-west Gateways ({{gateways}}): istiod uses only the first (istio#56960)',
        severity: 'warning',
        hint: 'Keep one east-west gateway per network (scale it instead of adding Gateways), or remove the extra: kubectl --context=<{{cluster}} context> -n <namespace> delete gateways.gateway.networking.k8s.io <name>',
      },
    },
  },
  async run(ctx) {
    const noAmbient = noAmbientReason(ctx.clusterInfos);
    if (noAmbient) ctx.skip(noAmbient);
    const info = ctx.clusterInfo;
    if (!runsAmbient(info.dataPlane)) ctx.skip('this cluster runs no ambient workloads');
    const network = info.network;
    if (network === undefined) return ctx.skip('the cluster\'s network cannot be told (no topology.istio.io/network on the istio namespace): network/topology reports it');
    const peers = ctx.clusterInfos.filter((peer) => peer.name !== info.name && peer.network !== undefined && peer.network !== info.network);
    if (peers.length === 0) ctx.skip('no peer cluster on another network: no east-west gateway needed');
    const [gateways, classes] = await Promise.all([ctx.cluster.listOptional('k8sgateways'), ctx.cluster.listOptional('gatewayclasses')]);
    if (!classes.some((c) => c.metadata.name === EAST_WEST_CLASS)) ctx.report({ messageId: 'gatewayClassMissing', resource: { kind: 'GatewayClass', name: EAST_WEST_CLASS } });
    const eastWest = findAmbientEastWestGateways(gateways);
    for (const gw of eastWest) judgeGateway(ctx, gw, network);
    const ours = eastWest.filter((gw) => gw.network === network);
    if (ours.length === 0) {
      ctx.report({ messageId: 'ewgwMissing', data: { network, peers: peers.map((p) => p.name).join(', ') } });
      return;
    }
    await judgeOnePerNetwork(ctx, network);
  },
});
export default check;

type Ctx = ContextOf<typeof check>;

function judgeGateway(ctx: Ctx, gw: AmbientEastWestGateway, network: string): void {
  const resource = { kind: 'Gateway', namespace: gw.namespace, name: gw.name };
  const data = { name: gw.name, namespace: gw.namespace, network };
  if (gw.network === undefined) {
    ctx.report({ messageId: 'networkLabelMissing', resource, data });
    return;
  }
  if (gw.network !== network) {
    ctx.report({ messageId: 'networkMismatch', resource, data: { ...data, gatewayNetwork: gw.network } });
    return;
  }
  if (!gw.hboneListener) ctx.report({ messageId: 'noHboneListener', resource, data });
  if (gw.addresses.length === 0) ctx.report({ messageId: 'noAddress', resource, data });
  // Without status istiod still reads spec; Programmed=False (no pods, no service) is what breaks traffic.
  else if (gw.programmed === false) ctx.report({ messageId: 'notProgrammed', resource, data });
}

/** Gateways of this network in every readable cluster of it; reported once, by the first cluster of the network in report order. */
async function judgeOnePerNetwork(ctx: Ctx, network: string): Promise<void> {
  const sameNetwork = ctx.clusters.filter((_, i) => ctx.clusterInfos[i].reachable && ctx.clusterInfos[i].network === network);
  if (sameNetwork[0] !== ctx.cluster) return;
  const usable: string[] = [];
  for (const reader of sameNetwork) {
    const listed = await reader.listOptional('k8sgateways').catch(() => undefined);
    if (!listed) {
      ctx.notRead(reader.name, 'its Gateways could not be listed');
      continue;
    }
    for (const gw of findAmbientEastWestGateways(listed)) {
      if (gw.usableByPeers && gw.network === network) usable.push(`${reader.name}:${gw.namespace}/${gw.name}`);
    }
  }
  if (usable.length > 1) ctx.report({ messageId: 'multiplePerNetwork', data: { network, count: usable.length, gateways: usable.join(', ') } });
}
