// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ (cross-network traffic goes through the peer network's east-west gateway on 15443).
import { defineCheck } from '../../engine/define-check.ts';
import { BY_AMBIENT_GATEWAY_HERE, BY_GATEWAY_UNPUBLISHED_HERE, BY_GATEWAY_UNREACHABLE_HERE } from '../../engine/explanations.ts';
import { tcpConnectAllFromPod } from '../../mesh/probes/dns-tcp.ts';
import { probeSettings } from '../../mesh/probes/options.ts';
import { ambientEastWestGateways, eastWestGateways } from '../../mesh/probes/peers.ts';
import { runsAmbient } from '../../mesh/ambient.ts';
import { whyNoAddress } from '../../mesh/eastwest-gateways.ts';
import { sourceOrSkip } from '../../mesh/probes/source.ts';
import { dataPlaneSkipReason } from '../../mesh/roles.ts';

const ID = 'connectivity/gateway-reachability';

export default defineCheck({
  id: ID,
  category: 'connectivity',
  scope: 'cluster',
  needs: ['exec', 'pods', 'namespaces', 'services', 'nodes', 'k8sgateways', 'configmaps'],
  meta: {
    description: 'A pod of the cluster can open a TCP connection to every peer network\'s east-west gateway (15443; 15008 for ambient)',
    details:
      'Sidecars reach the endpoints of another network through that network\'s east-west gateway, at the address istiod ' +
      'publishes (load balancer ingress, externalIPs, or node ExternalIPs with the nodePort) on port 15443. Objects can all look ' +
      'right while a firewall, security group or cloud load balancer drops the traffic. From a source pod per cluster the ' +
      'check opens a TCP connection to each peer network\'s gateway address (curl telnet://, else nc -z), bounded by ' +
      '--probe-timeout. A cluster running ambient workloads also probes each peer network\'s istio-east-west Gateway on its ' +
      'HBONE port (15008), where its ztunnels send cross-network traffic. A gateway without any address is reported ' +
      'without probing. Findings name the gateway\'s cluster.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      gatewayUnreachable: {
        template: 'From {{source}}, TCP to the east-west gateway {{gateway}} of network {{network}} at {{address}}:{{port}} failed ({{kind}}: {{detail}})',
        severity: 'error',
        // Findings name the gateway's cluster: its pods not ready, its Service without the port, a NetworkPolicy denying it.
        explainedBy: [...BY_GATEWAY_UNREACHABLE_HERE, ...BY_AMBIENT_GATEWAY_HERE],
        hint:
          'Open the path from {{sourceCluster}}\'s nodes/egress to {{address}}:{{port}} (firewall rules, security groups, the load balancer\'s listeners and health checks). ' +
          'Reproduce: kubectl exec -n {{namespace}} {{podName}} -c {{container}} -- curl -v --connect-timeout 3 telnet://{{address}}:{{port}}',
      },
      gatewayNoAddress: {
        template: 'The east-west gateway {{gateway}} of network {{network}} has no address ({{why}}): {{sourceCluster}} cannot reach that network at all',
        severity: 'error',
        // The gateway's own address fault (pending load balancer, NodePort without nodes' ExternalIPs), on the gateway's cluster.
        explainedBy: [...BY_GATEWAY_UNPUBLISHED_HERE, ...BY_AMBIENT_GATEWAY_HERE],
        hint: 'Give it an address: kubectl -n {{namespace}} describe service {{name}} (Events tell why the load balancer is pending), or set spec.externalIPs. See network/eastwest-gateway.',
      },
    },
  },
  appliesTo(info, mesh) {
    return dataPlaneSkipReason(info) ?? (mesh.multiNetwork ? undefined : 'single-network mesh: no east-west gateway on the path');
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const network = ctx.clusterInfo.network;
    const settings = probeSettings(ctx.options, ctx.clusterInfos);
    // Sidecars dial a peer network's 15443 gateway; ztunnels (ambient workloads here) its istio-east-west Gateway on 15008.
    const gateways = [...(await eastWestGateways(ctx)), ...(runsAmbient(ctx.clusterInfo.dataPlane) ? await ambientEastWestGateways(ctx) : [])];
    const peers = gateways.filter((g) => g.cluster !== reader.name && (network === undefined || g.network !== network));
    if (peers.length === 0) ctx.skip('no east-west gateway of another network found (see network/topology)');

    for (const g of peers.filter((p) => p.addresses.length === 0)) {
      ctx.report({
        messageId: 'gatewayNoAddress',
        cluster: g.cluster,
        resource: { kind: g.kind, namespace: g.namespace, name: g.name },
        data: { gateway: `${g.namespace}/${g.name} (${g.cluster})`, namespace: g.namespace, name: g.name, network: g.network ?? '<unknown network>', sourceCluster: reader.name, why: whyNoAddress(g) },
      });
    }
    const addressed = peers.filter((p) => p.addresses.length > 0);
    if (addressed.length === 0) return;

    const source = await sourceOrSkip(ctx, settings, ['curl', 'nc']);

    const probes = addressed.flatMap((g) => g.addresses.map((address) => ({ g, address })));
    const connected = await tcpConnectAllFromPod(reader, source, probes.map(({ g, address }) => ({ address, port: g.dialPort })), settings.timeoutMs, ctx.signal);
    const results = probes.map(({ g, address }, i) => ({ g, address, result: connected[i] }));
    ctx.attach(
      'gateways',
      results.map(({ g, address, result }) => ({ cluster: g.cluster, network: g.network, gateway: `${g.namespace}/${g.name}`, address, port: g.dialPort, reachable: result.connected, ...(result.connected ? {} : { error: `${result.kind}: ${result.detail}` }) })),
    );
    for (const { g, address, result } of results) {
      if (result.connected) continue;
      ctx.report({
        messageId: 'gatewayUnreachable',
        cluster: g.cluster,
        resource: { kind: g.kind, namespace: g.namespace, name: g.name },
        data: {
          source: `${reader.name} (${source.pod.namespace}/${source.pod.name})`,
          sourceCluster: reader.name,
          gateway: `${g.namespace}/${g.name} (${g.cluster})`,
          network: g.network ?? '<unknown network>',
          address,
          port: g.dialPort,
          kind: result.kind,
          detail: result.detail,
          namespace: source.pod.namespace,
          podName: source.pod.name,
          container: source.container,
        },
      });
    }
  },
});
