// Encodes samples/multicluster/expose-istiod.yaml (https://istio.io/latest/docs/setup/install/multicluster/primary-remote_multi-network/).
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterReader, KubeObject } from '../../cluster/types.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import { CONTROL_PLANE_CLUSTERS_ANNOTATION, ISTIOD_PORTS, annotationsOf, findIstiodDeployments, labelsOf, objectKey, podsOfWorkload, servicePorts } from '../../mesh/istio-objects.ts';
import { selectorMatches } from '../../mesh/labels.ts';
import { istioNamespaceOf } from '../../mesh/roles.ts';
import {
  gatewaySelector,
  gatewaySelectsPod,
  gatewayServers,
  isIstioNetworkingObject,
  istiodRouteFor,
  selectorText,
  serverTlsMode,
  virtualServiceBindsGateway,
} from '../../mesh/istio-gateways.ts';

const EXPOSE_ISTIOD = 'kubectl --context {{context}} apply -n {{istioNamespace}} -f samples/multicluster/expose-istiod.yaml';

const check = defineCheck({
  id: 'network/istiod-exposure',
  category: 'network',
  scope: 'cluster',
  needs: ['gateways', 'virtualservices', 'services', 'pods', 'deployments', 'namespaces'],
  meta: {
    description: 'A primary with remote clusters exposes istiod (15012, 15017) through its east-west gateway',
    details:
      'Remote clusters run no istiod: their proxies fetch config and certificates from the primary\'s istiod on 15012, ' +
      'and their API servers call its injection and validation webhooks on 15017, both through the primary\'s east-west ' +
      'gateway. samples/multicluster/expose-istiod.yaml makes that path: a Gateway with PASSTHROUGH TLS servers on 15012 ' +
      'and 15017 selecting the gateway pods, and a VirtualService bound to it routing both ports to the istiod Service ' +
      '(expose-istiod-https.yaml does the same with SIMPLE TLS and http routes; expose-istiod-rev.yaml.tmpl routes to ' +
      'istiod-<revision>). Without it remote pods cannot be injected and remote proxies never get config. A LoadBalancer ' +
      'or NodePort Service selecting the istiod pods directly on both ports is accepted as well.',
    docs: 'https://istio.io/latest/docs/setup/install/multicluster/primary-remote_multi-network/',
    messages: {
      istiodNotExposed: {
        template: 'This primary configures remote clusters {{remotes}} but no Gateway opens 15012 and 15017 to istiod: remote proxies get no config and remote pods are not injected',
        severity: 'error',
        hint: `Expose istiod through the east-west gateway: ${EXPOSE_ISTIOD}`,
      },
      istiodPortNotExposed: {
        template: 'Gateway {{gateway}} exposes istiod on {{exposed}} but not on port {{port}}: {{consequence}}',
        severity: 'error',
        hint: `Add a PASSTHROUGH TLS server for port {{port}} with hosts ["*"] (as in expose-istiod.yaml): ${EXPOSE_ISTIOD}`,
      },
      istiodGatewayWrongMode: {
        template: 'Gateway {{gateway}} serves istiod port {{port}} with tls.mode {{mode}}: it must pass the TLS of istiod through (PASSTHROUGH)',
        severity: 'error',
        hint: `Set tls.mode PASSTHROUGH on that server (or use expose-istiod-https.yaml with SIMPLE and a credentialName): ${EXPOSE_ISTIOD}`,
      },
      istiodRouteMissing: {
        template: 'No VirtualService bound to Gateway {{gateway}} routes port {{port}} to istiod: connections to the gateway on {{port}} go nowhere',
        severity: 'error',
        hint: `Apply the istiod-vs VirtualService of expose-istiod.yaml (tls routes for 15012 -> istiod:15012 and 15017 -> istiod:443): ${EXPOSE_ISTIOD}`,
      },
      istiodGatewayNoPods: {
        template: 'Gateway {{gateway}} exposes istiod for selector {{selector}}, which matches no pod in this cluster',
        severity: 'error',
        hint: 'Make spec.selector match the east-west gateway pods (kubectl --context {{context}} get pods -A -l istio=eastwestgateway --show-labels).',
      },
      istiodGatewayServicePortMissing: {
        template: 'The Service of the pods Gateway {{gateway}} selects ({{services}}) does not expose port {{port}}: remotes cannot reach istiod through it',
        severity: 'error',
        hint:
          'Add the port to the gateway Service (gen-eastwest-gateway.sh adds tls-istiod 15012 and tls-webhook 15017): ' +
          'kubectl --context {{context}} -n {{namespace}} edit service {{service}}',
      },
    },
  },
  appliesTo(info) {
    // An external istiod is exposed as ISTIOD_CUSTOM_HOST says (a LoadBalancer or an ingress gateway):
    // control-plane/primary-remote judges each remote's webhook URL and istiod endpoints against it.
    if (info.role === 'external-control-plane') return 'external istiod: where remotes reach it is checked by control-plane/primary-remote on each remote';
    return info.role === 'primary' ? undefined : 'only a primary serves istiod to remote clusters';
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const info = ctx.clusterInfo;
    const remotes = await remotesOf(ctx, info);
    if (remotes.length === 0) ctx.skip('no remote cluster is configured by this primary');
    const ns = ctx.options.istioNamespace;
    const context = info.context ?? info.name;
    const base = { context, istioNamespace: ns, remotes: remotes.join(', ') };

    const [gateways, virtualServices, services, pods, deployments] = await Promise.all([
      reader.listOptional('gateways'),
      reader.listOptional('virtualservices'),
      reader.list('services'),
      reader.list('pods'),
      reader.list('deployments'),
    ]);
    if (exposedDirectly(services, pods, deployments, ns)) return;

    const exposing = gateways.filter(isIstioNetworkingObject).filter((g) => gatewayServers(g).some((s) => ISTIOD_PORTS.includes(s.port.number)));
    if (exposing.length === 0) {
      ctx.report({ messageId: 'istiodNotExposed', data: base });
      return;
    }
    for (const gateway of exposing) {
      checkGateway(ctx, gateway, { virtualServices: virtualServices.filter(isIstioNetworkingObject), services, pods, base, ns });
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

interface GatewayInputs {
  virtualServices: KubeObject[];
  services: KubeObject[];
  pods: KubeObject[];
  base: { context: string; istioNamespace: string; remotes: string };
  ns: string;
}

function checkGateway(ctx: Ctx, gateway: KubeObject, inputs: GatewayInputs): void {
  const resource = { kind: 'Gateway', namespace: gateway.metadata.namespace, name: gateway.metadata.name };
  const data = { ...inputs.base, gateway: objectKey(gateway), namespace: gateway.metadata.namespace ?? '' };
  const servers = gatewayServers(gateway);
  const exposed = ISTIOD_PORTS.filter((port) => servers.some((s) => s.port.number === port));
  for (const port of ISTIOD_PORTS) {
    const server = servers.find((s) => s.port.number === port);
    if (!server) {
      const consequence = port === 15012 ? 'remote proxies cannot get config or certificates' : 'remote API servers cannot call the injection webhook';
      ctx.report({ messageId: 'istiodPortNotExposed', resource, data: { ...data, port, exposed: exposed.join(', '), consequence } });
      continue;
    }
    const mode = serverTlsMode(server);
    // expose-istiod-https.yaml terminates TLS at the gateway with its own certificate: SIMPLE with a credential.
    const httpsVariant = mode === 'SIMPLE' && typeof server.tls?.credentialName === 'string';
    if (mode !== 'PASSTHROUGH' && !httpsVariant) {
      ctx.report({ messageId: 'istiodGatewayWrongMode', resource, data: { ...data, port, mode: mode ?? '<unset>' } });
      continue;
    }
    const routed = inputs.virtualServices.some((vs) => virtualServiceBindsGateway(vs, gateway) && istiodRouteFor(vs, port, inputs.ns) !== undefined);
    if (!routed) ctx.report({ messageId: 'istiodRouteMissing', resource, data: { ...data, port } });
  }

  const selected = inputs.pods.filter((p) => gatewaySelectsPod(gateway, p));
  if (selected.length === 0) {
    ctx.report({ messageId: 'istiodGatewayNoPods', resource, data: { ...data, selector: selectorText(gatewaySelector(gateway)) } });
    return;
  }
  // The Services in front of those pods must carry the ports the remotes dial.
  const fronting = inputs.services.filter((svc) => selected.some((p) => p.metadata.namespace === svc.metadata.namespace && selectorMatches(svc.spec?.selector, labelsOf(p))));
  const external = fronting.filter((svc) => ['LoadBalancer', 'NodePort'].includes(svc.spec?.type) || (svc.spec?.externalIPs ?? []).length > 0);
  const candidates = external.length > 0 ? external : fronting;
  if (candidates.length === 0) return;
  for (const port of exposed) {
    if (candidates.some((svc) => servicePorts(svc).some((p) => p.port === port))) continue;
    ctx.report({
      messageId: 'istiodGatewayServicePortMissing',
      resource: { kind: 'Service', namespace: candidates[0].metadata.namespace, name: candidates[0].metadata.name },
      data: { ...data, port, services: candidates.map(objectKey).join(', '), service: candidates[0].metadata.name, namespace: candidates[0].metadata.namespace ?? '' },
    });
  }
}

/** istiod behind its own LoadBalancer/NodePort Service on both ports: no gateway needed. */
function exposedDirectly(services: KubeObject[], pods: KubeObject[], deployments: KubeObject[], ns: string): boolean {
  const istiodPods = findIstiodDeployments(deployments.filter((d) => d.metadata.namespace === ns)).flatMap((d) => podsOfWorkload(d, pods));
  return services.some(
    (svc) =>
      ['LoadBalancer', 'NodePort'].includes(svc.spec?.type) &&
      istiodPods.some((p) => p.metadata.namespace === svc.metadata.namespace && selectorMatches(svc.spec?.selector, labelsOf(p))) &&
      ISTIOD_PORTS.every((port) => servicePorts(svc).some((p) => p.port === port)),
  );
}

/** Names of the remote clusters this primary configures (their controlPlaneClusters annotation, else every remote). */
async function remotesOf(ctx: Ctx, primary: ClusterInfo): Promise<string[]> {
  const primaries = ctx.clusterInfos.filter((i) => i.role === 'primary');
  const out: string[] = [];
  for (const [i, reader] of ctx.clusters.entries()) {
    const info = ctx.clusterInfos[i];
    if (info.role !== 'remote' || !info.reachable) continue;
    const ids = await controlPlaneIds(reader, istioNamespaceOf(info, ctx.options.istioNamespace));
    const named = primaries.filter((p) => p.clusterId && ids.includes(p.clusterId));
    if ((named.length > 0 ? named : primaries).some((p) => p.name === primary.name)) out.push(info.name);
  }
  return out;
}

async function controlPlaneIds(reader: ClusterReader, istioNamespace: string): Promise<string[]> {
  const namespaces = (await listIfReadable(reader, 'namespaces')) ?? [];
  const ns = namespaces.find((n) => n.metadata.name === istioNamespace);
  const value = ns ? annotationsOf(ns)[CONTROL_PLANE_CLUSTERS_ANNOTATION] : undefined;
  return value ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];
}
