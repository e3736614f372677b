// Readers of Istio Gateway and VirtualService objects (networking.istio.io v1, v1beta1, v1alpha3:
// the same spec under three versions), the way istiod applies them: a Gateway's selector matches
// gateway pods by labels in any namespace (istiod's default; PILOT_SCOPE_GATEWAY_TO_NAMESPACE off),
// server hosts may carry a `namespace/` prefix, a VirtualService binds a Gateway by `name` (same
// namespace) or `namespace/name`. Reference: https://istio.io/latest/docs/reference/config/networking/gateway/
import type { KubeObject } from '../cluster/types.ts';
import {
  DEFAULT_GATEWAY_PORT,
  GATEWAY_NAME_LABEL,
  findEastWestGateways,
  findGatewayApiEastWestGateways,
  labelsOf,
  servicePorts,
} from './istio-objects.ts';
import { selectorMatches, type LabelMap } from './labels.ts';

/** The Istio networking API versions meshdoctor reads. */
export const ISTIO_NETWORKING_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'];

/** One server of an Istio Gateway (only what meshdoctor reads). */
export interface GatewayServer {
  port: { number: number; name?: string; protocol?: string };
  hosts: string[];
  tls?: { mode?: string; credentialName?: string };
}

/** True for an Istio networking object of a version meshdoctor understands (no apiVersion: assume so). */
export function isIstioNetworkingObject(obj: KubeObject): boolean {
  return obj.apiVersion === undefined || ISTIO_NETWORKING_VERSIONS.includes(obj.apiVersion);
}

/** The servers of an Istio Gateway; malformed entries (no numeric port) are left out. */
export function gatewayServers(gateway: KubeObject): GatewayServer[] {
  const servers = gateway.spec?.servers;
  if (!Array.isArray(servers)) return [];
  return (servers as Partial<GatewayServer>[])
    .filter((s): s is GatewayServer => typeof s?.port?.number === 'number')
    .map((s) => ({ ...s, hosts: Array.isArray(s.hosts) ? s.hosts.filter((h) => typeof h === 'string') : [] }));
}

/** The Gateway's `spec.selector` ({} when absent). */
export function gatewaySelector(gateway: KubeObject): LabelMap {
  const selector = gateway.spec?.selector;
  return selector && typeof selector === 'object' && !Array.isArray(selector) ? (selector as LabelMap) : {};
}

/** Whether a Gateway's selector matches a pod. An empty selector matches every gateway pod. */
export function gatewaySelectsPod(gateway: KubeObject, pod: KubeObject): boolean {
  const labels = labelsOf(pod);
  return Object.entries(gatewaySelector(gateway)).every(([key, value]) => labels[key] === value);
}

/** `k=v,k=v` of a selector, for messages and kubectl -l. */
export function selectorText(selector: LabelMap): string {
  return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') || '<empty selector>';
}

/** A server host without its `namespace/` prefix. */
export function hostWithoutNamespace(host: string): string {
  const slash = host.indexOf('/');
  return slash >= 0 ? host.slice(slash + 1) : host;
}

/**
 * Whether a server's hosts cover the SNI names of mesh services (`outbound_.<port>_._.<svc>.<ns>.svc.<domain>`):
 * `*`, `*.local` (the documented value), or a wildcard whose suffix ends the cluster domain's service names.
 */
export function coversMeshServiceHosts(hosts: string[], clusterDomain = 'cluster.local'): boolean {
  const serviceSuffix = `svc.${clusterDomain}`;
  return hosts.map(hostWithoutNamespace).some((host) => {
    if (host === '*') return true;
    if (!host.startsWith('*.')) return false;
    const suffix = host.slice(2);
    return serviceSuffix === suffix || serviceSuffix.endsWith(`.${suffix}`);
  });
}

/** Normalised `tls.mode` of a server (upper case), undefined without TLS settings. */
export function serverTlsMode(server: GatewayServer): string | undefined {
  return typeof server.tls?.mode === 'string' ? server.tls.mode.toUpperCase() : undefined;
}

/** Normalised protocol of a server (upper case), undefined when unset. */
export function serverProtocol(server: GatewayServer): string | undefined {
  return typeof server.port.protocol === 'string' ? server.port.protocol.toUpperCase() : undefined;
}

/** Whether a VirtualService is bound to a Gateway (`name` in its namespace, or `namespace/name`). */
export function virtualServiceBindsGateway(virtualService: KubeObject, gateway: KubeObject): boolean {
  const refs = Array.isArray(virtualService.spec?.gateways) ? (virtualService.spec.gateways as unknown[]) : [];
  const gatewayNamespace = gateway.metadata.namespace ?? '';
  return refs.some((ref) => {
    if (typeof ref !== 'string') return false;
    const slash = ref.indexOf('/');
    const namespace = slash >= 0 ? ref.slice(0, slash) : (virtualService.metadata.namespace ?? '');
    const name = slash >= 0 ? ref.slice(slash + 1) : ref;
    return namespace === gatewayNamespace && name === gateway.metadata.name;
  });
}

interface RouteRule {
  match?: { port?: number }[];
  route?: { destination?: { host?: string; port?: { number?: number } } }[];
}

/** Whether one of a rule's matches applies to `port` (no match, or a match without port, applies to all). */
function ruleMatchesPort(rule: RouteRule, port: number): boolean {
  const matches = Array.isArray(rule.match) ? rule.match : [];
  return matches.length === 0 || matches.some((m) => m?.port === undefined || m.port === port);
}

/** Namespace and name of a destination host, short names resolved against the VirtualService's namespace. */
function destinationService(host: string, virtualServiceNamespace: string): { name: string; namespace: string } {
  const parts = host.split('.');
  return { name: parts[0], namespace: parts.length > 1 ? parts[1] : virtualServiceNamespace };
}

/**
 * The istiod destination a VirtualService routes traffic arriving on `port` to (tls, tcp or http
 * routes), or undefined. istiod is `istiod` or a revision's `istiod-<rev>` in the istio namespace.
 */
export function istiodRouteFor(virtualService: KubeObject, port: number, istioNamespace: string): string | undefined {
  const vsNamespace = virtualService.metadata.namespace ?? '';
  for (const kind of ['tls', 'tcp', 'http']) {
    const rules = Array.isArray(virtualService.spec?.[kind]) ? (virtualService.spec[kind] as RouteRule[]) : [];
    for (const rule of rules) {
      if (!rule || !ruleMatchesPort(rule, port)) continue;
      for (const route of Array.isArray(rule.route) ? rule.route : []) {
        const host = route?.destination?.host;
        if (typeof host !== 'string') continue;
        const destination = destinationService(host, vsNamespace);
        if (/^istiod(-[a-z0-9-]+)?$/.test(destination.name) && destination.namespace === istioNamespace) return host;
      }
    }
  }
  return undefined;
}

/** The pods behind an east-west gateway, whichever way it is declared. */
export interface EastWestWorkload {
  /** `Service` (istioctl/helm gateway) or `Gateway` (Gateway API, gateway.networking.k8s.io). */
  kind: 'Service' | 'Gateway';
  namespace: string;
  name: string;
  /** Its network label. */
  network?: string;
  /** The port other networks send mTLS traffic to (15443 unless the gatewayPort label or listener says otherwise). */
  gatewayPort: number;
  /** The pod port that traffic lands on (the Service's targetPort: a number or a container port name). */
  podPort: number | string;
  /** Labels that select the pods, for messages and kubectl -l. */
  selector: LabelMap;
  pods: KubeObject[];
}

/**
 * East-west gateway workloads of a cluster: gateway Services (findEastWestGateways, including the
 * ones istiod ignores) and Gateway API east-west Gateways, with the pods behind them. A Service
 * that Istio generated for a Gateway API Gateway is reported once, as the Gateway.
 */
export function eastWestWorkloads(services: KubeObject[], k8sGateways: KubeObject[], pods: KubeObject[]): EastWestWorkload[] {
  const workloads: EastWestWorkload[] = [];
  const apiGateways = findGatewayApiEastWestGateways(k8sGateways);
  const generatedBy = (svc: KubeObject) =>
    apiGateways.some((g) => g.gateway.metadata.namespace === svc.metadata.namespace && labelsOf(svc)[GATEWAY_NAME_LABEL] === g.gateway.metadata.name);
  for (const gw of apiGateways) {
    const namespace = gw.gateway.metadata.namespace ?? '';
    const selector = { [GATEWAY_NAME_LABEL]: gw.gateway.metadata.name };
    const port = gw.autoPassthroughListener?.port ?? DEFAULT_GATEWAY_PORT;
    workloads.push({
      kind: 'Gateway',
      namespace,
      name: gw.gateway.metadata.name,
      ...(gw.network ? { network: gw.network } : {}),
      gatewayPort: port,
      podPort: port,
      selector,
      pods: pods.filter((p) => p.metadata.namespace === namespace && selectorMatches(selector, labelsOf(p))),
    });
  }
  for (const gw of findEastWestGateways(services)) {
    if (generatedBy(gw.service)) continue;
    const namespace = gw.service.metadata.namespace ?? '';
    const selector = (gw.service.spec?.selector ?? {}) as LabelMap;
    const servicePort = servicePorts(gw.service).find((p) => p.port === gw.gatewayPort);
    workloads.push({
      kind: 'Service',
      namespace,
      name: gw.service.metadata.name,
      ...(gw.network ? { network: gw.network } : {}),
      gatewayPort: gw.gatewayPort,
      podPort: servicePort?.targetPort ?? gw.gatewayPort,
      selector,
      pods: pods.filter((p) => p.metadata.namespace === namespace && selectorMatches(selector, labelsOf(p))),
    });
  }
  return workloads;
}

/** A pod port (number, or a container port name) as a number on `pod`; undefined when the name is unknown. */
export function resolvePodPort(pod: KubeObject, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  for (const container of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as { ports?: { name?: string; containerPort: number }[] }[]) {
    const found = (container.ports ?? []).find((p) => p.name === port);
    if (found) return found.containerPort;
  }
  return undefined;
}
