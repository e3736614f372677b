// East-west gateways: one model for topology discovery and every check. istiod takes a Service as
// its network's gateway when it carries `topology.istio.io/network` (on the port of the
// `networking.istio.io/gatewayPort` label, default 15443) or when meshNetworks names it by
// registryServiceName, and a Gateway API Gateway with the network label and an auto-passthrough
// listener (istio/istio pilot/pkg/serviceregistry/kube/controller/network.go). Objects that are
// plainly meant as one but that istiod ignores are kept too (`recognisedByIstiod: false`), so checks
// can say why. A Service Istio generated for a Gateway API Gateway is the Gateway, reported once.
import type { ClusterReader, KubeObject } from '../cluster/types.ts';
import { AccessError } from '../cluster/types.ts';
import type { CheckContext } from '../engine/types.ts';
import {
  DEFAULT_GATEWAY_PORT,
  GATEWAY_NAME_LABEL,
  findGatewayApiEastWestGateways,
  gatewayAddresses,
  labelsOf,
  servicePorts,
  type GatewayApiEastWestGateway,
} from './istio-objects.ts';
import { eastWestGatewayServices, meshGatewayDiscovery, type GatewayDiscovery } from './istio-gateways.ts';
import { selectorMatches, type LabelMap } from './labels.ts';

/** One east-west gateway of one cluster, however it is declared. */
export interface EastWestGateway {
  /** Report name of the cluster it runs in. */
  cluster: string;
  /** `Service` (istioctl/helm gateway) or `Gateway` (Gateway API, gateway.networking.k8s.io). */
  kind: 'Service' | 'Gateway';
  namespace: string;
  name: string;
  /** Its network: the label, or the meshNetworks network that names it. */
  network?: string;
  /** istiod uses it as its network's gateway. */
  recognisedByIstiod: boolean;
  /** istiod takes it as a gateway because meshNetworks names it (`registryServiceName`). */
  viaMeshNetworks?: boolean;
  /** The port other networks send mTLS traffic to (15443 unless the gatewayPort label, meshNetworks or the listener say otherwise). */
  gatewayPort: number;
  /** The port a peer dials: the nodePort of a NodePort Service, else gatewayPort. */
  dialPort: number;
  /** The pod port that traffic lands on (the Service's targetPort: a number or a container port name). */
  podPort: number | string;
  /** The Service type; undefined for a Gateway API Gateway. */
  type?: string;
  /**
   * Addresses istiod publishes for it: load balancer ingress, spec.externalIPs, the ExternalIPs of
   * the nodes a NodePort's traffic.istio.io/nodeSelector selects (when nodes were read), or a
   * Gateway's status.addresses. Sorted.
   */
  addresses: string[];
  /** Labels that select its pods, for messages and kubectl -l. */
  selector: LabelMap;
  /** The Service, for kind `Service`. */
  service?: KubeObject;
  /** The Gateway API Gateway, for kind `Gateway`. */
  apiGateway?: GatewayApiEastWestGateway;
}

/** The lists east-west gateways are found in. Without `nodes`, NodePort node addresses stay unknown. */
export interface GatewaySources {
  services: KubeObject[];
  k8sGateways: KubeObject[];
  nodes?: KubeObject[];
}

/**
 * The east-west gateways of one cluster: Gateway API Gateways, then Services (with `discovery`,
 * also those meshNetworks names by registryServiceName, for that cluster's registry).
 */
export function eastWestGatewaysOf(cluster: string, sources: GatewaySources, discovery?: GatewayDiscovery): EastWestGateway[] {
  const found: EastWestGateway[] = [];
  const apiGateways = findGatewayApiEastWestGateways(sources.k8sGateways);
  for (const gw of apiGateways) {
    const port = gw.autoPassthroughListener?.port ?? DEFAULT_GATEWAY_PORT;
    found.push({
      cluster,
      kind: 'Gateway',
      namespace: gw.gateway.metadata.namespace ?? '',
      name: gw.gateway.metadata.name,
      ...(gw.network ? { network: gw.network } : {}),
      recognisedByIstiod: gw.recognisedByIstiod,
      gatewayPort: port,
      dialPort: port,
      podPort: port,
      addresses: gw.addresses,
      selector: { [GATEWAY_NAME_LABEL]: gw.gateway.metadata.name },
      apiGateway: gw,
    });
  }
  const generatedForApiGateway = (svc: KubeObject) =>
    apiGateways.some((g) => g.gateway.metadata.namespace === svc.metadata.namespace && labelsOf(svc)[GATEWAY_NAME_LABEL] === g.gateway.metadata.name);
  for (const gw of eastWestGatewayServices(sources.services, discovery)) {
    if (generatedForApiGateway(gw.service) || isAmbientGatewayService(gw.service, sources.k8sGateways)) continue;
    const svc = gw.service;
    const type = (svc.spec?.type as string | undefined) ?? 'ClusterIP';
    const port = servicePorts(svc).find((p) => p.port === gw.gatewayPort);
    found.push({
      cluster,
      kind: 'Service',
      namespace: svc.metadata.namespace ?? '',
      name: svc.metadata.name,
      ...(gw.network ? { network: gw.network } : {}),
      recognisedByIstiod: gw.recognisedByIstiod,
      ...(gw.viaMeshNetworks ? { viaMeshNetworks: true } : {}),
      gatewayPort: gw.gatewayPort,
      dialPort: type === 'NodePort' && port?.nodePort ? port.nodePort : gw.gatewayPort,
      podPort: port?.targetPort ?? gw.gatewayPort,
      type,
      addresses: gatewayAddresses(svc, sources.nodes),
      selector: (svc.spec?.selector ?? {}) as LabelMap,
      service: svc,
    });
  }
  return found;
}

/** Gateway API classes whose Gateways are ambient data plane (an HBONE east-west gateway, a waypoint), not sidecar-mode gateways. */
const AMBIENT_GATEWAY_CLASSES = new Set(['istio-east-west', 'istio-waypoint']);

/**
 * A Service istiod rendered for an ambient east-west gateway or a waypoint: labelled with that
 * class (istio/istio manifests/charts/istio-control/istio-discovery/files/waypoint.yaml:329-334 at
 * eed52ebb), or named by a Gateway of that class. It carries the network label (the deployment
 * controller defaults it, pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go:485-490) but
 * listens on 15008 (HBONE) only: it is the ambient path, which the ambient/* checks judge, and never
 * a sidecar's 15443 gateway.
 */
export function isAmbientGatewayService(svc: KubeObject, k8sGateways: KubeObject[]): boolean {
  const labels = labelsOf(svc);
  if (AMBIENT_GATEWAY_CLASSES.has(labels['gateway.networking.k8s.io/gateway-class-name'] ?? '')) return true;
  const owner = labels[GATEWAY_NAME_LABEL];
  return owner !== undefined && k8sGateways.some((g) => g.metadata.namespace === svc.metadata.namespace && g.metadata.name === owner && AMBIENT_GATEWAY_CLASSES.has(String(g.spec?.gatewayClassName ?? '')));
}

/** The pods behind a gateway, in its namespace. */
export function gatewayPods(gateway: EastWestGateway, pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => p.metadata.namespace === gateway.namespace && selectorMatches(gateway.selector, labelsOf(p)));
}

/** Why a gateway has no address, in a few words (`LoadBalancer pending`). */
export function whyNoAddress(gateway: EastWestGateway): string {
  if (gateway.kind === 'Gateway') return 'Gateway without status.addresses';
  return gateway.type === 'LoadBalancer' ? 'LoadBalancer pending' : `type ${gateway.type} without externalIPs`;
}

/** Nodes when they may be read; undefined when forbidden (node addresses are then unknown, not absent). */
async function nodesOf(reader: ClusterReader): Promise<KubeObject[] | undefined> {
  try {
    return await reader.listOptional('nodes');
  } catch (err) {
    if (err instanceof AccessError && err.reason === 'forbidden') return undefined;
    throw err;
  }
}

/**
 * The east-west gateways of one cluster of the run, as istiod discovers them with the mesh's
 * meshNetworks (meshGatewayDiscovery), computed once per run. Reads the cluster's services and
 * k8sgateways, its nodes with `{ nodes: true }` (NodePort addresses), and the primaries' configmaps.
 */
export function clusterEastWestGateways(ctx: Pick<CheckContext, 'clusters' | 'clusterInfos' | 'options' | 'memo'>, reader: ClusterReader, opts: { nodes?: boolean } = {}): Promise<EastWestGateway[]> {
  const info = ctx.clusterInfos[ctx.clusters.indexOf(reader)];
  return ctx.memo.get(`eastwest-gateways|${reader.name}|${opts.nodes ? 'nodes' : ''}`, async () => {
    const [services, k8sGateways, nodes, mesh] = await Promise.all([
      reader.list('services'),
      reader.listOptional('k8sgateways'),
      opts.nodes ? nodesOf(reader) : undefined,
      ctx.memo.get('mesh-gateway-discovery', () => meshGatewayDiscovery(ctx)),
    ]);
    const discovery: GatewayDiscovery = { ...mesh, ...(info?.clusterId ? { clusterId: info.clusterId } : {}) };
    return eastWestGatewaysOf(reader.name, { services, k8sGateways, ...(nodes ? { nodes } : {}) }, discovery);
  });
}
