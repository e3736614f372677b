// Readers of Istio Gateway and VirtualService objects (networking.istio.io v1, v1beta1, v1alpha3:
// the same spec under three versions), the way istiod applies them: a Gateway's selector matches
// gateway pods by labels in any namespace (istiod's default; PILOT_SCOPE_GATEWAY_TO_NAMESPACE off),
// server hosts may carry a `namespace/` prefix, a VirtualService binds a Gateway by `name` (same
// namespace) or `namespace/name`. Reference: https://istio.io/latest/docs/reference/config/networking/gateway/
import { listIfReadable } from '../cluster/absent.ts';
import { parse as parseYaml } from 'yaml';
import type { ClusterReader, KubeObject } from '../cluster/types.ts';
import type { CheckContext } from '../engine/types.ts';
import {
  DEFAULT_GATEWAY_PORT,
  findEastWestGateways,
  findInjectorConfigMaps,
  findMeshConfigMaps,
  labelsOf,
  type EastWestGatewayService,
} from './istio-objects.ts';
import type { LabelMap } from './labels.ts';
import { istioNamespaceOf } from './roles.ts';

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

/**
 * The server hosts that cover only part of the mesh's services: a service host of the cluster domain
 * (`helloworld.sample.svc.cluster.local`) or a wildcard inside it (`*.team-a.svc.cluster.local`).
 * Empty when the hosts cover all mesh services (coversMeshServiceHosts) or none of them.
 */
export function partialMeshServiceHosts(hosts: string[], clusterDomain = 'cluster.local'): string[] {
  if (coversMeshServiceHosts(hosts, clusterDomain)) return [];
  const serviceSuffix = `.svc.${clusterDomain}`;
  return hosts.filter((host) => hostWithoutNamespace(host).endsWith(serviceSuffix));
}

/** Whether two server hosts (DNS names or `*.` wildcards, `namespace/` prefixes ignored) match a common name. */
export function hostsOverlap(left: string, right: string): boolean {
  const a = hostWithoutNamespace(left).toLowerCase();
  const b = hostWithoutNamespace(right).toLowerCase();
  if (a === '*' || b === '*' || a === b) return true;
  const suffixA = a.startsWith('*.') ? a.slice(1) : undefined;
  const suffixB = b.startsWith('*.') ? b.slice(1) : undefined;
  // `*.x.y` matches any name ending in `.x.y`, including names another wildcard stands for.
  if (suffixA && b.endsWith(suffixA)) return true;
  if (suffixB && a.endsWith(suffixB)) return true;
  return false;
}

/** Whether two servers' host lists share a name (IST0145 needs overlapping hosts, not just the port). */
export function serverHostsOverlap(left: GatewayServer, right: GatewayServer): boolean {
  return left.hosts.some((a) => right.hosts.some((b) => hostsOverlap(a, b)));
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

// ---------------------------------------------------------------------------------------------
// meshNetworks (https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshNetworks)
// ---------------------------------------------------------------------------------------------

/** Istio's cluster domain when the install does not set another (`global.proxy.clusterDomain`). */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** A gateway of a meshNetworks network: a fixed `address`, or the Service `registryServiceName` names. */
export interface MeshNetworksGateway {
  network: string;
  address?: string;
  /** FQDN of a Service (`name.namespace.svc.<domain>`) that istiod takes as the network's gateway. */
  registryServiceName?: string;
  /** Port cross-network traffic is sent to (15443 when the entry gives none). */
  port: number;
}

/** One network of meshNetworks: which endpoints belong to it and its gateways. */
export interface MeshNetwork {
  name: string;
  /** Cluster ids (registries) whose endpoints are on this network (`endpoints[].fromRegistry`). */
  fromRegistries: string[];
  /** CIDRs whose endpoints are on this network (`endpoints[].fromCidr`). */
  fromCidrs: string[];
  gateways: MeshNetworksGateway[];
}

/** A cluster's meshNetworks with the ConfigMap it comes from. */
export interface MeshNetworksConfig {
  configMap: string;
  networks: MeshNetwork[];
}

/** Parse a meshNetworks YAML document. Throws an Error naming what is wrong when it is not YAML or not a mapping. */
export function parseMeshNetworks(text: string): MeshNetwork[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new Error('meshNetworks is not YAML');
  }
  if (doc === null || doc === undefined) return [];
  if (!isRecord(doc)) throw new Error('meshNetworks is not a YAML mapping');
  const networks = doc.networks ?? {};
  if (networks === null) return [];
  if (!isRecord(networks)) throw new Error('meshNetworks.networks is not a mapping of network names');
  return Object.entries(networks).map(([name, def]) => {
    const spec = isRecord(def) ? def : {};
    const endpoints = (Array.isArray(spec.endpoints) ? spec.endpoints : []).filter(isRecord);
    const gateways = (Array.isArray(spec.gateways) ? spec.gateways : []).filter(isRecord);
    return {
      name,
      fromRegistries: endpoints.map((e) => e.fromRegistry).filter((r): r is string => typeof r === 'string' && r !== ''),
      fromCidrs: endpoints.map((e) => e.fromCidr).filter((c): c is string => typeof c === 'string' && c !== ''),
      gateways: gateways.flatMap((g): MeshNetworksGateway[] => {
        const port = typeof g.port === 'number' && g.port > 0 ? g.port : DEFAULT_GATEWAY_PORT;
        if (typeof g.address === 'string' && g.address !== '') return [{ network: name, address: g.address, port }];
        if (typeof g.registryServiceName === 'string' && g.registryServiceName !== '') return [{ network: name, registryServiceName: g.registryServiceName, port }];
        return [];
      }),
    };
  });
}

/** The meshNetworks of a cluster's istio namespace (the mesh config ConfigMap's `meshNetworks` key); undefined when none. Throws on a malformed one. */
export function meshNetworksOf(configMaps: KubeObject[], istioNamespace: string): MeshNetworksConfig | undefined {
  const configMap = findMeshConfigMaps(configMaps, istioNamespace).find((cm) => typeof cm.data?.meshNetworks === 'string');
  if (!configMap) return undefined;
  try {
    return { configMap: configMap.metadata.name, networks: parseMeshNetworks(configMap.data.meshNetworks as string) };
  } catch (err) {
    throw new Error(`${istioNamespace}/${configMap.metadata.name}: ${(err as Error).message}`, { cause: err });
  }
}

/** The cluster domain of an install: the injector values' `global.proxy.clusterDomain`, else cluster.local. */
export function clusterDomainOf(configMaps: KubeObject[], istioNamespace: string): string {
  const text = findInjectorConfigMaps(configMaps, istioNamespace)[0]?.data?.values;
  if (typeof text !== 'string') return DEFAULT_CLUSTER_DOMAIN;
  try {
    const domain = (JSON.parse(text) as { global?: { proxy?: { clusterDomain?: unknown } } })?.global?.proxy?.clusterDomain;
    return typeof domain === 'string' && domain !== '' ? domain : DEFAULT_CLUSTER_DOMAIN;
  } catch {
    return DEFAULT_CLUSTER_DOMAIN;
  }
}

/** What decides which Services of a registry istiod takes as gateways through meshNetworks. */
export interface GatewayDiscovery {
  networks: MeshNetwork[];
  /** Cluster id of the registry whose Services are looked at; undefined when unknown. */
  clusterId?: string;
  clusterDomain: string;
}

/**
 * The meshNetworks gateway a Service is, by `registryServiceName`. istiod (pilot/pkg/serviceregistry/
 * kube/controller/network.go) applies a network's registryServiceName gateways only to the registries
 * the network lists in `fromRegistry`, and compares the name with the Service's FQDN. With an unknown
 * cluster id, only an unambiguous match counts.
 */
export function registryServiceGateway(service: KubeObject, discovery: GatewayDiscovery): MeshNetworksGateway | undefined {
  const fqdn = `${service.metadata.name}.${service.metadata.namespace ?? ''}.svc.${discovery.clusterDomain}`;
  const matches = discovery.networks
    .filter((n) => discovery.clusterId === undefined || n.fromRegistries.includes(discovery.clusterId))
    .flatMap((n) => n.gateways.filter((g) => g.registryServiceName === fqdn));
  if (discovery.clusterId === undefined && new Set(matches.map((m) => m.network)).size > 1) return undefined;
  return matches[0];
}

/**
 * East-west gateway Services as istiod discovers them: findEastWestGateways (network label), with
 * the Services that meshNetworks names by registryServiceName recognised too, on that network and
 * port (a network label, when present, keeps precedence for the network).
 */
export function eastWestGatewayServices(services: KubeObject[], discovery?: GatewayDiscovery): EastWestGatewayService[] {
  const found = new Map(findEastWestGateways(services).map((g) => [g.service, g]));
  if (discovery && discovery.networks.length > 0) {
    for (const service of services) {
      const named = registryServiceGateway(service, discovery);
      if (!named) continue;
      const labelled = found.get(service);
      found.set(service, {
        service,
        network: labelled?.recognisedByIstiod ? labelled.network : named.network,
        recognisedByIstiod: true,
        gatewayPort: labelled?.recognisedByIstiod ? labelled.gatewayPort : named.port,
        viaMeshNetworks: true,
      });
    }
  }
  return [...found.values()].sort((a, b) => `${a.service.metadata.namespace}/${a.service.metadata.name}`.localeCompare(`${b.service.metadata.namespace}/${b.service.metadata.name}`));
}

/** A list that may be forbidden or absent: [] then. */
async function configMapsOf(reader: ClusterReader): Promise<KubeObject[]> {
  return (await listIfReadable(reader, 'configmaps')) ?? [];
}

/**
 * The meshNetworks the mesh's control planes use: those of every reachable primary (they normally
 * agree; a registryServiceName entry only applies to the registries its network lists), with the
 * cluster domain of the first primary that has one. Throws on a malformed meshNetworks.
 */
export async function meshGatewayDiscovery(ctx: Pick<CheckContext, 'clusters' | 'clusterInfos' | 'options'>): Promise<{ networks: MeshNetwork[]; clusterDomain: string }> {
  const networks: MeshNetwork[] = [];
  let clusterDomain: string | undefined;
  for (const [i, reader] of ctx.clusters.entries()) {
    const info = ctx.clusterInfos[i];
    if (!info?.reachable || info.role !== 'primary') continue;
    const configMaps = await configMapsOf(reader);
    // The primary's own Istio namespace, not the calling check's cluster's.
    const namespace = istioNamespaceOf(info, ctx.options.istioNamespace);
    networks.push(...(meshNetworksOf(configMaps, namespace)?.networks ?? []));
    if (findInjectorConfigMaps(configMaps, namespace).length > 0) clusterDomain ??= clusterDomainOf(configMaps, namespace);
  }
  return { networks, clusterDomain: clusterDomain ?? DEFAULT_CLUSTER_DOMAIN };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
