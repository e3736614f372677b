// Encodes istiod's gateway discovery (istio/istio pilot/pkg/serviceregistry/kube/controller/network.go) and https://istio.io/latest/docs/setup/install/multicluster/multi-primary_multi-network/.
import { defineCheck } from '../../engine/define-check.ts';
import { noSidecarReason } from '../../mesh/ambient.ts';
import type { KubeObject } from '../../cluster/types.ts';
import type { ContextOf } from '../../engine/types.ts';
import { NETWORK_LABEL, NODE_SELECTOR_ANNOTATION, annotationsOf, isIpAddress, isOlderThan, isPodReady, labelsOf, nodeSelectorOf, servicePorts } from '../../mesh/istio-objects.ts';
import { clusterEastWestGateways, gatewayPods, type EastWestGateway } from '../../mesh/eastwest-gateways.ts';
import { dataPlaneSkipReason } from '../../mesh/roles.ts';

const GATEWAY_INSTALL_HINT =
  'samples/multicluster/gen-eastwest-gateway.sh --network {{network}} | istioctl --context=<{{cluster}} context> install -y -f - ' +
  '(or helm --kube-context=<{{cluster}} context> install istio-eastwestgateway istio/gateway -n istio-system --set name=istio-eastwestgateway --set networkGateway={{network}})';

const check = defineCheck({
  id: 'network/eastwest-gateway',
  category: 'network',
  scope: 'cluster',
  // An external control plane cluster runs no proxies of the mesh.
  appliesTo: dataPlaneSkipReason,
  needs: ['services', 'pods', 'namespaces', 'nodes', 'k8sgateways', 'configmaps'],
  meta: {
    description: 'Each network has an east-west gateway that istiod recognises, with ready pods, an address and port 15443',
    details:
      'Across networks, sidecars reach a peer network\'s endpoints through that network\'s east-west gateway. istiod takes ' +
      'every Service labelled topology.istio.io/network as the gateway of that network, on the port named by the ' +
      'networking.istio.io/gatewayPort label (default 15443), and every Service meshNetworks names by registryServiceName ' +
      '(for the registries that network lists in fromRegistry) on the port given there, and publishes its external addresses: load balancer ' +
      'IPs or hostnames, spec.externalIPs, or for a NodePort Service with traffic.istio.io/nodeSelector the ExternalIPs ' +
      'of the selected nodes. A gateway without pods, address, port or the right label silently breaks cross-network ' +
      'traffic (503 "no healthy upstream" at the caller). Services that look like east-west gateways but that istiod ' +
      'ignores are reported too. Before Istio 1.13 istiod could not use a load balancer hostname. A Gateway API ' +
      'Gateway is an east-west gateway when it carries the network label and a TLS listener with the option ' +
      'gateway.istio.io/listener-protocol: auto-passthrough; its addresses are the Gateway\'s status.addresses.',
    docs: 'https://istio.io/latest/docs/setup/install/multicluster/multi-primary_multi-network/',
    messages: {
      ewgwMissing: {
        template: 'Network {{network}} has no east-west gateway in any cluster: other networks cannot reach its endpoints',
        severity: 'error',
        // The same absence network/topology reports for the network (with the networks that need it): one root cause, not two.
        explainedBy: [{ check: 'network/topology', messages: ['networkWithoutGateway'], when: 'cluster' }],
        hint: `Install one in this cluster: ${GATEWAY_INSTALL_HINT}; then expose services: kubectl --context=<{{cluster}} context> apply -n istio-system -f samples/multicluster/expose-services.yaml`,
      },
      ewgwNotReady: {
        template: 'East-west gateway {{name}} has no ready pods behind its selector ({{pods}} pods found)',
        severity: 'error',
        hint: 'Find out why: kubectl -n {{namespace}} get pods -l {{selector}}; kubectl -n {{namespace}} describe pods -l {{selector}}',
      },
      ewgwLbPending: {
        template: 'East-west gateway {{name}} is a LoadBalancer with no ingress address and no spec.externalIPs: istiod publishes no address for network {{network}}',
        severity: 'error',
        hint:
          'The cloud or MetalLB controller did not assign an address: kubectl -n {{namespace}} describe service {{name}} (see Events). ' +
          'Fix the load balancer provisioning, or set spec.externalIPs to the address that fronts the gateway.',
      },
      ewgwNoAddress: {
        template: 'East-west gateway {{name}} is a {{type}} Service without spec.externalIPs: it has no address other networks can reach',
        severity: 'error',
        hint: 'Make it reachable: kubectl --context=<{{cluster}} context> -n {{namespace}} patch service {{name}} -p \'{"spec":{"type":"LoadBalancer"}}\' (or set spec.externalIPs).',
      },
      ewgwNodePortNoSelector: {
        template: 'East-west gateway {{name}} is a NodePort Service without the traffic.istio.io/nodeSelector annotation: istiod publishes no address for it',
        severity: 'error',
        hint:
          'Tell istiod which nodes\' ExternalIPs front it: kubectl --context=<{{cluster}} context> -n {{namespace}} annotate service {{name}} ' +
          '\'traffic.istio.io/nodeSelector={"kubernetes.io/os":"linux"}\' (choose labels of nodes with an ExternalIP).',
      },
      ewgwNo15443: {
        template: 'East-west gateway {{name}} does not expose port {{port}}, where istiod sends cross-network traffic',
        severity: 'error',
        hint:
          'Add the port: kubectl --context=<{{cluster}} context> -n {{namespace}} patch service {{name}} --type=json ' +
          '-p \'[{"op":"add","path":"/spec/ports/-","value":{"name":"tls","port":{{port}},"targetPort":{{port}}}}]\' (or regenerate it with gen-eastwest-gateway.sh).',
      },
      ewgwNodePortNoExternalIp: {
        template: 'East-west gateway {{name}} is a NodePort Service whose traffic.istio.io/nodeSelector ({{selector}}) selects {{nodes}} nodes, none with an ExternalIP: istiod publishes no address for it',
        severity: 'error',
        hint:
          'Point the annotation at nodes that have an ExternalIP (kubectl get nodes -o wide; kubectl --context=<{{cluster}} context> -n {{namespace}} annotate service {{name}} ' +
          '\'traffic.istio.io/nodeSelector={"<node label>":"<label value>"}\' --overwrite), or use a LoadBalancer Service.',
      },
      ewgwNodeSelectorInvalid: {
        template: 'East-west gateway {{name}} has a traffic.istio.io/nodeSelector annotation that is not a JSON object of labels: {{value}}',
        severity: 'error',
        hint: 'Write it as JSON: kubectl --context=<{{cluster}} context> -n {{namespace}} annotate service {{name}} \'traffic.istio.io/nodeSelector={"kubernetes.io/os":"linux"}\' --overwrite',
      },
      ewgwGatewayNotProgrammed: {
        template: 'Gateway API east-west gateway {{name}} is not Programmed: its deployment or service is not ready',
        severity: 'error',
        hint: 'See why: kubectl -n {{namespace}} describe gateways.gateway.networking.k8s.io {{name}}; kubectl -n {{namespace}} get pods -l gateway.networking.k8s.io/gateway-name={{name}}',
      },
      ewgwGatewayNoAddress: {
        template: 'Gateway API east-west gateway {{name}} has no status.addresses: istiod publishes no address for network {{network}}',
        severity: 'error',
        hint: 'Check the generated Service (kubectl -n {{namespace}} get service -l gateway.networking.k8s.io/gateway-name={{name}}) and its load balancer, or set spec.addresses on the Gateway.',
      },
      ewgwGatewayNoAutoPassthrough: {
        template: 'Gateway API east-west gateway {{name}} has no listener with tls.options gateway.istio.io/listener-protocol: auto-passthrough: istiod does not use it for cross-network traffic',
        severity: 'error',
        hint:
          'Add the listener: kubectl --context=<{{cluster}} context> -n {{namespace}} edit gateways.gateway.networking.k8s.io {{name}} and set ' +
          '{name: cross-network, port: 15443, protocol: TLS, tls: {mode: Passthrough, options: {gateway.istio.io/listener-protocol: auto-passthrough}}}',
      },
      ewgwNetworkLabelMissing: {
        template: 'Service {{name}} looks like an east-west gateway but lacks the topology.istio.io/network label: istiod ignores it',
        severity: 'error',
        hint: 'Label it with this cluster\'s network: kubectl --context=<{{cluster}} context> -n {{namespace}} label service {{name}} topology.istio.io/network={{network}}',
      },
      ewgwNetworkMismatch: {
        template: 'East-west gateway {{name}} is labelled for network {{gatewayNetwork}} but this cluster is on network {{network}}',
        severity: 'error',
        hint:
          'Relabel the gateway (kubectl --context=<{{cluster}} context> -n {{namespace}} label service {{name}} topology.istio.io/network={{network}} --overwrite) ' +
          'or fix the cluster\'s network (kubectl --context=<{{cluster}} context> label namespace istio-system topology.istio.io/network={{gatewayNetwork}} --overwrite).',
      },
      ewgwHostnameOldIstio: {
        template: 'East-west gateway {{name}} has the hostname address {{hostname}}, which istiod {{version}} cannot use (hostnames need Istio 1.13 or later)',
        severity: 'warning',
        hint: 'Upgrade Istio to 1.13 or later, or give the load balancer a static IP and list it in spec.externalIPs.',
      },
    },
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const info = ctx.clusterInfo;
    const namespaces = await reader.list('namespaces');
    const istioNamespace = namespaces.find((ns) => ns.metadata.name === ctx.options.istioNamespace);
    const network = info?.network ?? (istioNamespace && labelsOf(istioNamespace)[NETWORK_LABEL]) ?? undefined;
    // Istio generates a Service for each Gateway API Gateway: it is checked as the Gateway (clusterEastWestGateways).
    const gateways = await clusterEastWestGateways(ctx, reader, { nodes: true });

    if (gateways.length === 0) {
      if (!ctx.mesh.multiNetwork) ctx.skip('single-network mesh');
      const ambientOnly = noSidecarReason(ctx.clusterInfos);
      if (ambientOnly) ctx.skip(ambientOnly);
      // A network needs one gateway, not one per cluster: another cluster of the network may hold it.
      const servedElsewhere = ctx.clusterInfos.some(
        (other) => other.name !== reader.name && other.network === network && (other.eastWestGateways?.length ?? 0) > 0,
      );
      if (!servedElsewhere) {
        ctx.report({ messageId: 'ewgwMissing', data: { network: network ?? '<unknown network>' } });
      }
      return;
    }

    const [pods, nodes] = await Promise.all([reader.list('pods'), reader.list('nodes')]);
    const gatewayContext: GatewayContext = { pods, nodes, network, multiNetwork: ctx.mesh.multiNetwork, istioVersion: info?.istioVersion, report: ctx.report };
    for (const gateway of gateways) {
      if (gateway.kind === 'Gateway') checkApiGateway(gateway, gatewayContext);
      else checkGateway(gateway, gatewayContext);
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

interface GatewayContext {
  pods: KubeObject[];
  nodes: KubeObject[];
  network?: string;
  multiNetwork: boolean;
  istioVersion?: string;
  report: Ctx['report'];
}

function checkGateway(gateway: EastWestGateway, ctx: GatewayContext): void {
  const svc = gateway.service!;
  const namespace = svc.metadata.namespace ?? '';
  const name = svc.metadata.name;
  const resource = { kind: 'Service', namespace, name };
  const base = { namespace, name, network: ctx.network ?? gateway.network ?? '<unknown network>' };

  // Network identity only matters when traffic crosses networks; a single-network gateway may
  // exist only to expose istiod to remotes.
  if (ctx.multiNetwork) {
    if (!gateway.recognisedByIstiod) {
      ctx.report({ messageId: 'ewgwNetworkLabelMissing', resource, data: base });
    } else if (ctx.network && gateway.network !== ctx.network) {
      ctx.report({ messageId: 'ewgwNetworkMismatch', resource, data: { ...base, gatewayNetwork: gateway.network ?? '<unknown network>' } });
    }
    if (!servicePorts(svc).some((p) => p.port === gateway.gatewayPort)) {
      ctx.report({ messageId: 'ewgwNo15443', resource, data: { ...base, port: gateway.gatewayPort } });
    }
  }

  const selected = gatewayPods(gateway, ctx.pods);
  if (!selected.some(isPodReady)) {
    const selectorText = Object.entries(gateway.selector).map(([k, v]) => `${k}=${v}`).join(',') || '<no selector>';
    ctx.report({ messageId: 'ewgwNotReady', resource, data: { ...base, selector: selectorText, pods: selected.length } });
  }

  const type = (svc.spec?.type as string | undefined) ?? 'ClusterIP';
  const externalIPs = (svc.spec?.externalIPs ?? []) as string[];
  const addresses = gateway.addresses;
  if (type === 'LoadBalancer' && addresses.length === 0) {
    ctx.report({ messageId: 'ewgwLbPending', resource, data: base });
  } else if (type === 'NodePort' && externalIPs.length === 0) {
    checkNodePort(gateway, ctx, resource, base);
  } else if ((type === 'ClusterIP' || type === 'ExternalName') && externalIPs.length === 0) {
    ctx.report({ messageId: 'ewgwNoAddress', resource, data: { ...base, type } });
  }

  const hostname = addresses.find((a) => !isIpAddress(a));
  if (hostname && ctx.istioVersion && isOlderThan(ctx.istioVersion, 1, 13)) {
    ctx.report({ messageId: 'ewgwHostnameOldIstio', resource, data: { ...base, hostname, version: ctx.istioVersion } });
  }
}

/** A NodePort gateway: istiod publishes the ExternalIPs of the nodes its nodeSelector annotation selects. */
function checkNodePort(gateway: EastWestGateway, ctx: GatewayContext, resource: { kind: string; namespace: string; name: string }, base: { namespace: string; name: string; network: string }): void {
  const svc = gateway.service!;
  const annotation = annotationsOf(svc)[NODE_SELECTOR_ANNOTATION];
  if (annotation === undefined) {
    ctx.report({ messageId: 'ewgwNodePortNoSelector', resource, data: base });
    return;
  }
  const selector = nodeSelectorOf(svc);
  if (!selector) {
    ctx.report({ messageId: 'ewgwNodeSelectorInvalid', resource, data: { ...base, value: annotation } });
    return;
  }
  if (gateway.addresses.length > 0) return;
  const selected = ctx.nodes.filter((node) => Object.entries(selector).every(([k, v]) => labelsOf(node)[k] === v));
  const selectorText = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') || '<all nodes>';
  ctx.report({ messageId: 'ewgwNodePortNoExternalIp', resource, data: { ...base, selector: selectorText, nodes: selected.length } });
}

/** A Gateway API east-west gateway: network label, auto-passthrough listener, Programmed, addresses. */
function checkApiGateway(eastWest: EastWestGateway, ctx: GatewayContext): void {
  const gateway = eastWest.apiGateway!;
  const namespace = eastWest.namespace;
  const name = eastWest.name;
  const resource = { kind: 'Gateway', namespace, name };
  const base = { namespace, name, network: ctx.network ?? gateway.network ?? '<unknown network>' };
  if (ctx.multiNetwork) {
    if (!gateway.network) ctx.report({ messageId: 'ewgwNetworkLabelMissing', resource, data: base });
    else if (ctx.network && gateway.network !== ctx.network) {
      ctx.report({ messageId: 'ewgwNetworkMismatch', resource, data: { ...base, gatewayNetwork: gateway.network } });
    }
    if (!gateway.autoPassthroughListener) ctx.report({ messageId: 'ewgwGatewayNoAutoPassthrough', resource, data: base });
  }
  if (gateway.programmed === false) ctx.report({ messageId: 'ewgwGatewayNotProgrammed', resource, data: base });
  if (gateway.addresses.length === 0) ctx.report({ messageId: 'ewgwGatewayNoAddress', resource, data: base });
  const hostname = gateway.addresses.find((a) => !isIpAddress(a));
  if (hostname && ctx.istioVersion && isOlderThan(ctx.istioVersion, 1, 13)) {
    ctx.report({ messageId: 'ewgwHostnameOldIstio', resource, data: { ...base, hostname, version: ctx.istioVersion } });
  }
}
