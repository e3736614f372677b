// Istio ambient mode as istiod and ztunnel see it: which namespaces are ambient, the ztunnel
// DaemonSet, the ambient east-west gateways (Gateway API class istio-east-west), service scope
// (istio.io/global), waypoints, and the shapes of ztunnel's /config_dump and istiod's /debug/ambientz.
// Sources (istio/istio at 86c9f01, istio/ztunnel at 62d8265) are cited where each fact is encoded.
import type { ClusterReader, KubeObject } from '../cluster/types.ts';
import type { CheckContext } from '../engine/types.ts';
import { NETWORK_LABEL, containerEnv, findContainer, findMeshConfigMaps, labelsOf, meshConfigOf, objectKey, type ContainerSpec } from './istio-objects.ts';
import { readyEndpointCount } from './services.ts';
import { labelSelectorMatches, type LabelMap, type LabelSelector } from './labels.ts';
import { istioNamespaceOf } from './roles.ts';

/** Namespace (or pod) label that puts workloads in ambient mode: istio.io/api label `istio.io/dataplane-mode`, value `ambient` (pkg/config/constants/constants.go:197). */
export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
export const DATAPLANE_MODE_AMBIENT = 'ambient';
/** The label the ambient profile's serviceScopeConfigs maps to scope GLOBAL (manifests/helm-profiles/ambient.yaml:6-12). */
export const GLOBAL_LABEL = 'istio.io/global';
/** Which waypoint a Service or namespace uses (istio.io/api label `istio.io/use-waypoint`; pilot/pkg/serviceregistry/ambient/waypoints.go:210). */
export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
/** The namespace of that waypoint when it is not the Service's own. */
export const USE_WAYPOINT_NAMESPACE_LABEL = 'istio.io/use-waypoint-namespace';
/** GatewayClass of the ambient east-west gateway (pkg/config/constants/constants.go:189), registered only with AMBIENT_ENABLE_MULTI_NETWORK (pilot/pkg/config/kube/gatewaycommon/classinfo.go:78-82). */
export const EAST_WEST_CLASS = 'istio-east-west';
/** GatewayClass of waypoints (pkg/config/constants/constants.go:186). */
export const WAYPOINT_CLASS = 'istio-waypoint';
/** The HBONE port of ambient gateways: istiod sets hboneMtlsPort 15008 when the gateway gives none (pilot/pkg/serviceregistry/ambient/multicluster.go:727-730). */
export const HBONE_PORT = 15008;
/** istiod's switches (pilot/pkg/features/ambient.go:26, :65); the multi-network one is ignored unless PILOT_ENABLE_AMBIENT is true (registerAmbient, ambient.go:130). */
export const PILOT_ENABLE_AMBIENT = 'PILOT_ENABLE_AMBIENT';
export const AMBIENT_ENABLE_MULTI_NETWORK = 'AMBIENT_ENABLE_MULTI_NETWORK';
/** ztunnel's cluster id env; the chart defaults it to `Kubernetes` (manifests/charts/ztunnel/templates/daemonset.yaml:134-135). */
export const ZTUNNEL_CLUSTER_ID_ENV = 'ISTIO_META_CLUSTER_ID';
/** ztunnel's network env, set from the chart's `network` value (daemonset.yaml:126-128). */
export const ZTUNNEL_NETWORK_ENV = 'NETWORK';
/** Labels and annotation of sidecar injection (a namespace with one of them runs sidecars, whatever its dataplane-mode). */
const INJECTION_LABEL = 'istio-injection';
const REVISION_LABEL = 'istio.io/rev';

// ---------------------------------------------------------------------------------------------
// Data-plane mode

/** How a cluster's (or namespace's) workloads join the mesh. */
export type DataPlaneMode = 'sidecar' | 'ambient' | 'both' | 'none';

/** What a namespace's labels make of its pods (pods may still opt in or out by their own labels). */
export function namespaceMode(namespace: KubeObject): 'sidecar' | 'ambient' | 'none' {
  const labels = labelsOf(namespace);
  // Injection wins: a pod with a sidecar is never captured by ztunnel (istio-cni skips pods with a
  // sidecar), so a namespace labelled istio-injection=enabled and ambient runs sidecars. istio.io/rev
  // alone also picks the control plane revision of an ambient namespace, so it means sidecars only
  // without the ambient label.
  if (labels[INJECTION_LABEL] === 'enabled') return 'sidecar';
  if (labels[DATAPLANE_MODE_LABEL] === DATAPLANE_MODE_AMBIENT) return 'ambient';
  if (labels[REVISION_LABEL] !== undefined && labels[INJECTION_LABEL] !== 'disabled') return 'sidecar';
  return 'none';
}

/** Whether a pod is captured by ztunnel: ambient by its own label or its namespace's, no sidecar, not opted out. */
export function isAmbientPod(pod: KubeObject, namespace: KubeObject | undefined): boolean {
  const labels = labelsOf(pod);
  if (pod.metadata.annotations?.['sidecar.istio.io/status'] !== undefined) return false;
  // istio-cni marks a captured pod with this annotation.
  if (pod.metadata.annotations?.['ambient.istio.io/redirection'] === 'enabled') return true;
  if (labels[DATAPLANE_MODE_LABEL] === 'none') return false;
  if (labels[DATAPLANE_MODE_LABEL] === DATAPLANE_MODE_AMBIENT) return true;
  return namespace !== undefined && namespaceMode(namespace) === 'ambient';
}

/** The ztunnel DaemonSets of a cluster: name `ztunnel` or pods labelled `app: ztunnel` (daemonset.yaml:25-31). */
export function findZtunnelDaemonSets(daemonSets: KubeObject[]): KubeObject[] {
  return daemonSets
    .filter((ds) => ds.metadata.name === 'ztunnel' || ds.spec?.template?.metadata?.labels?.app === 'ztunnel')
    .sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
}

/** The `istio-proxy` container of a ztunnel DaemonSet. */
export function ztunnelContainer(daemonSet: KubeObject): ContainerSpec | undefined {
  const spec = daemonSet.spec?.template?.spec;
  return findContainer(spec, 'istio-proxy') ?? findContainer(spec, 'ztunnel') ?? (Array.isArray(spec?.containers) ? (spec.containers[0] as ContainerSpec) : undefined);
}

/** The cluster id and network a ztunnel DaemonSet runs with (its env; the chart's default id is `Kubernetes`). */
export function ztunnelIdentity(daemonSet: KubeObject): { clusterId: string; network?: string } {
  const container = ztunnelContainer(daemonSet);
  const clusterId = containerEnv(container, ZTUNNEL_CLUSTER_ID_ENV) || 'Kubernetes';
  const network = containerEnv(container, ZTUNNEL_NETWORK_ENV) || undefined;
  return network ? { clusterId, network } : { clusterId };
}

/** A cluster's data plane as discovery reports it. */
export interface DataPlane {
  mode: DataPlaneMode;
  /** Namespaces labelled `istio.io/dataplane-mode=ambient` (and not injected), sorted. */
  ambientNamespaces: string[];
  /** Namespaces labelled for sidecar injection, sorted. */
  sidecarNamespaces: string[];
  /** A ztunnel DaemonSet runs in the cluster. */
  ztunnel: boolean;
}

/** The data plane of a cluster from its namespaces and DaemonSets (undefined: not read). */
export function dataPlaneOf(namespaces: KubeObject[], daemonSets: KubeObject[] | undefined): DataPlane {
  const ambientNamespaces: string[] = [];
  const sidecarNamespaces: string[] = [];
  for (const ns of namespaces) {
    const mode = namespaceMode(ns);
    if (mode === 'ambient') ambientNamespaces.push(ns.metadata.name);
    if (mode === 'sidecar') sidecarNamespaces.push(ns.metadata.name);
  }
  ambientNamespaces.sort();
  sidecarNamespaces.sort();
  const ztunnel = findZtunnelDaemonSets(daemonSets ?? []).length > 0;
  // Ambient namespaces without a ztunnel capture nothing; a ztunnel without them still serves pods that opt in.
  const ambient = ambientNamespaces.length > 0 && (ztunnel || daemonSets === undefined);
  const sidecar = sidecarNamespaces.length > 0;
  const mode: DataPlaneMode = ambient && sidecar ? 'both' : ambient ? 'ambient' : sidecar ? 'sidecar' : ztunnel ? 'ambient' : 'none';
  return { mode, ambientNamespaces, sidecarNamespaces, ztunnel };
}

/** Whether a data plane runs ambient workloads (ambient or both). */
export function runsAmbient(dataPlane: DataPlane | undefined): boolean {
  return dataPlane?.mode === 'ambient' || dataPlane?.mode === 'both';
}

// ---------------------------------------------------------------------------------------------
// Ambient east-west gateways

/** A Gateway API Gateway of class istio-east-west (or one meant as an ambient east-west gateway). */
export interface AmbientEastWestGateway {
  gateway: KubeObject;
  namespace: string;
  name: string;
  /** Its `topology.istio.io/network` label. */
  network?: string;
  /** A listener with protocol HBONE and tls.mode Terminate. */
  hboneListener: boolean;
  /** The HBONE listener's port (15008 by istio.io's manifest). */
  hbonePort?: number;
  /** `status.addresses` of type IPAddress or Hostname (a missing type counts as IPAddress, the API default), sorted. */
  addresses: string[];
  /** The Programmed condition: true, false, or undefined when no controller wrote status. */
  programmed?: boolean;
  /** istiod in another cluster takes it as its network's gateway (pilot/pkg/serviceregistry/ambient/networks.go:248-290). */
  usableByPeers: boolean;
}

/**
 * The ambient east-west gateways of a cluster, as istiod in a peer reads them
 * (remoteK8sGatewayToNetworkGateways, networks.go:248-290): class istio-east-west, the network
 * label, status.addresses of type IPAddress or Hostname, and a listener with protocol HBONE and
 * tls.mode Terminate. Every Gateway of that class is returned (those istiod would ignore too), sorted.
 */
export function findAmbientEastWestGateways(gateways: KubeObject[]): AmbientEastWestGateway[] {
  const found: AmbientEastWestGateway[] = [];
  for (const gateway of gateways) {
    if (gateway.spec?.gatewayClassName !== EAST_WEST_CLASS) continue;
    const listeners = Array.isArray(gateway.spec?.listeners) ? (gateway.spec.listeners as { port?: number; protocol?: string; tls?: { mode?: string } }[]) : [];
    const hbone = listeners.find((l) => l?.protocol === 'HBONE' && l.tls?.mode === 'Terminate');
    // networks.go:270-275 skips an address without a type; the API server defaults it to IPAddress, so a stored object always has one.
    const addresses = ((gateway.status?.addresses ?? []) as { type?: string; value?: string }[])
      .filter((a) => typeof a?.value === 'string' && a.value !== '' && (a.type === undefined || a.type === 'IPAddress' || a.type === 'Hostname'))
      .map((a) => a.value as string);
    const programmed = ((gateway.status?.conditions ?? []) as { type?: string; status?: string }[]).find((c) => c?.type === 'Programmed');
    const network = labelsOf(gateway)[NETWORK_LABEL] || undefined;
    const entry: AmbientEastWestGateway = {
      gateway,
      namespace: gateway.metadata.namespace ?? '',
      name: gateway.metadata.name,
      hboneListener: hbone !== undefined,
      addresses: [...new Set(addresses)].sort(),
      usableByPeers: network !== undefined && hbone !== undefined && addresses.length > 0,
    };
    if (network) entry.network = network;
    if (typeof hbone?.port === 'number') entry.hbonePort = hbone.port;
    if (programmed) entry.programmed = programmed.status === 'True';
    found.push(entry);
  }
  return found.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

// ---------------------------------------------------------------------------------------------
// Service scope and waypoints

/** One `meshConfig.serviceScopeConfigs` rule (MeshConfig.ServiceScopeConfigs). */
export interface ServiceScopeRule {
  namespaceSelector?: LabelSelector;
  servicesSelector?: LabelSelector;
  scope: string;
}

/** The serviceScopeConfigs of a parsed mesh config (raw document), malformed entries left out. */
export function serviceScopeRules(meshConfigRaw: Record<string, unknown> | undefined): ServiceScopeRule[] {
  const rules = meshConfigRaw?.serviceScopeConfigs;
  if (!Array.isArray(rules)) return [];
  return rules
    .filter((r): r is Record<string, unknown> => r !== null && typeof r === 'object')
    .map((r) => {
      const rule: ServiceScopeRule = { scope: typeof r.scope === 'string' ? r.scope : '' };
      if (r.namespaceSelector && typeof r.namespaceSelector === 'object') rule.namespaceSelector = r.namespaceSelector as LabelSelector;
      if (r.servicesSelector && typeof r.servicesSelector === 'object') rule.servicesSelector = r.servicesSelector as LabelSelector;
      return rule;
    });
}

/**
 * A Service's scope as istiod's matchServiceScope decides it (pilot/pkg/serviceregistry/ambient/
 * services.go:338-383): GLOBAL when some GLOBAL rule's namespace and service selectors both match
 * (an empty selector matches everything), else LOCAL.
 */
export function serviceScope(rules: ServiceScopeRule[], serviceLabels: LabelMap, namespaceLabels: LabelMap): 'GLOBAL' | 'LOCAL' {
  for (const rule of rules) {
    if (rule.scope !== 'GLOBAL') continue;
    if (labelSelectorMatches(emptyToUndefined(rule.namespaceSelector), namespaceLabels) && labelSelectorMatches(emptyToUndefined(rule.servicesSelector), serviceLabels)) return 'GLOBAL';
  }
  return 'LOCAL';
}

function emptyToUndefined(selector: LabelSelector | undefined): LabelSelector | undefined {
  if (!selector) return undefined;
  const empty = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  return empty ? undefined : selector;
}

/** Whether the rules make a Service labelled `istio.io/global=true` (in an unlabelled namespace) GLOBAL. */
export function rulesHonourGlobalLabel(rules: ServiceScopeRule[]): boolean {
  return serviceScope(rules, { [GLOBAL_LABEL]: 'true' }, {}) === 'GLOBAL' && serviceScope(rules, {}, {}) === 'LOCAL';
}

/** The waypoint a Service names (its own label, else its namespace's), as `namespace/name`; undefined for none. */
export function waypointOf(service: KubeObject, namespace: KubeObject | undefined): string | undefined {
  const own = labelsOf(service);
  const nsLabels = namespace ? labelsOf(namespace) : {};
  const name = own[USE_WAYPOINT_LABEL] ?? nsLabels[USE_WAYPOINT_LABEL];
  if (!name || name === 'none' || name === '#none') return undefined;
  const ns = (own[USE_WAYPOINT_LABEL] ? own[USE_WAYPOINT_NAMESPACE_LABEL] : nsLabels[USE_WAYPOINT_NAMESPACE_LABEL]) ?? service.metadata.namespace ?? '';
  return `${ns}/${name}`;
}

// ---------------------------------------------------------------------------------------------
// ztunnel /config_dump and istiod /debug/ambientz

/** A workload as ztunnel or istiod show it (the fields meshdoctor reads). */
export interface AmbientWorkload {
  uid: string;
  name: string;
  namespace: string;
  network: string;
  clusterId: string;
  /** `ns/hostname` of the services it serves. */
  services: string[];
  /** The network gateway it is reached through: its network and address (or hostname), and the HBONE port. */
  networkGateway?: { network?: string; address: string; port?: number };
}

/** The parts of ztunnel's /config_dump meshdoctor reads. */
export interface ZtunnelDump {
  workloads: AmbientWorkload[];
  services: { namespace: string; hostname: string; name: string }[];
  /** PEM of every root certificate ztunnel trusts, over all its certificates. */
  rootCerts: string[];
  /** The workload certificates ztunnel holds, one per identity of its node's pods: PEM chain (leaf first) and trusted roots. */
  certificates: { identity: string; chain: string[]; roots: string[] }[];
}

/** The dump is not ztunnel's: the reason, for an `error` outcome. */
export class ZtunnelDumpError extends Error {}

/**
 * Parse ztunnel's /config_dump (istio/ztunnel src/admin.rs:62-89 ConfigDump with the flattened
 * ProxyState of src/state.rs:185-230: `workloads`, `services`, `policies` arrays in camelCase, and
 * `certificates[{identity, state, certChain, rootCerts[{pem}]}]`). Older ztunnels keyed workloads
 * and services by address in an object: both forms are read. A workload's networkGateway is
 * `{destination, hboneMtlsPort}`, the destination the string `<network>/<ip>` or `<namespace>/<hostname>`
 * (src/state/workload.rs:164-180, Display at :670-675); older ones wrote `{address: ...}`/`{hostname: ...}`.
 */
export function parseZtunnelDump(text: string): ZtunnelDump {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ZtunnelDumpError('ztunnel /config_dump is not JSON');
  }
  if (!isRecord(doc) || (!('workloads' in doc) && !('services' in doc))) throw new ZtunnelDumpError('ztunnel /config_dump has neither workloads nor services: not a ztunnel config dump');
  const workloads = valuesOf(doc.workloads).map(ztunnelWorkload);
  const services = valuesOf(doc.services)
    .filter(isRecord)
    .map((s) => ({ namespace: str(s.namespace), hostname: str(s.hostname), name: str(s.name) }));
  const rootCerts: string[] = [];
  const certificates: ZtunnelDump['certificates'] = [];
  const pems = (list: unknown): string[] => (Array.isArray(list) ? list.filter((c) => isRecord(c) && typeof c.pem === 'string' && c.pem).map((c) => (c as { pem: string }).pem) : []);
  for (const cert of Array.isArray(doc.certificates) ? doc.certificates : []) {
    if (!isRecord(cert)) continue;
    const roots = pems(cert.rootCerts);
    rootCerts.push(...roots);
    const chain = pems(cert.certChain);
    if (chain.length > 0) certificates.push({ identity: str(cert.identity), chain, roots });
  }
  return { workloads, services, rootCerts: [...new Set(rootCerts)], certificates };
}

function ztunnelWorkload(value: unknown): AmbientWorkload {
  if (!isRecord(value)) throw new ZtunnelDumpError('ztunnel /config_dump lists a workload that is not an object');
  const workload: AmbientWorkload = {
    uid: str(value.uid),
    name: str(value.name),
    namespace: str(value.namespace),
    network: str(value.network),
    clusterId: str(value.clusterId),
    services: Array.isArray(value.services) ? value.services.filter((s): s is string => typeof s === 'string') : isRecord(value.services) ? Object.keys(value.services) : [],
  };
  const gw = value.networkGateway;
  if (isRecord(gw)) {
    const port = typeof gw.hboneMtlsPort === 'number' ? gw.hboneMtlsPort : undefined;
    const destination = gw.destination;
    if (typeof destination === 'string' && destination.includes('/')) {
      const at = destination.indexOf('/');
      workload.networkGateway = { network: destination.slice(0, at), address: destination.slice(at + 1), ...(port !== undefined ? { port } : {}) };
    } else {
      const parsed = gatewayAddressObject(isRecord(destination) ? destination : gw);
      if (parsed) workload.networkGateway = { ...parsed, ...(port !== undefined ? { port } : {}) };
    }
  }
  return workload;
}

/** `{address: {network, address}}` or `{hostname: {namespace, hostname}}` (the protobuf JSON form). */
function gatewayAddressObject(value: Record<string, unknown>): { network?: string; address: string } | undefined {
  if (isRecord(value.address)) {
    const network = typeof value.address.network === 'string' ? value.address.network : undefined;
    const address = decodeAddress(value.address.address);
    if (address) return network !== undefined ? { network, address } : { address };
  }
  if (isRecord(value.hostname) && typeof value.hostname.hostname === 'string') return { address: value.hostname.hostname };
  return undefined;
}

/**
 * The workloads of istiod's /debug/ambientz (pilot/pkg/xds/debug.go:1036-1100): `{workloads, services,
 * policies}` of protobuf JSON. Address bytes are rewritten to the IP's text before marshalling, which
 * protobuf JSON then writes as base64 of that text (debug.go:1043-1045): decoded here.
 */
export function parseAmbientz(text: string): AmbientWorkload[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ZtunnelDumpError('istiod /debug/ambientz is not JSON');
  }
  if (!isRecord(doc) || !Array.isArray(doc.workloads)) throw new ZtunnelDumpError('istiod /debug/ambientz has no workloads list');
  return doc.workloads.filter(isRecord).map((w) => {
    const workload: AmbientWorkload = {
      uid: str(w.uid),
      name: str(w.name),
      namespace: str(w.namespace),
      network: str(w.network),
      clusterId: str(w.clusterId),
      services: isRecord(w.services) ? Object.keys(w.services) : [],
    };
    if (isRecord(w.networkGateway)) {
      const parsed = gatewayAddressObject(w.networkGateway);
      const port = typeof w.networkGateway.hboneMtlsPort === 'number' ? w.networkGateway.hboneMtlsPort : undefined;
      if (parsed) workload.networkGateway = { ...parsed, ...(port !== undefined ? { port } : {}) };
    }
    return workload;
  });
}

/** An address field: text, or base64 of the text (ambientz), or base64 of the raw 4/16 bytes. */
function decodeAddress(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^[0-9.]+$/.test(value) || value.includes(':')) return value;
  const bytes = Buffer.from(value, 'base64');
  const text = bytes.toString('latin1');
  if (/^[0-9a-fA-F.:]+$/.test(text)) return text;
  if (bytes.length === 4) return [...bytes].join('.');
  return value;
}

/** Split-horizon workloads carry uid `<network>/SplitHorizonWorkload/<gateway>/<service>` (pilot/pkg/serviceregistry/ambient/helpers.go:44-45). */
export function isSplitHorizonWorkload(workload: AmbientWorkload): boolean {
  return workload.uid.includes('/SplitHorizonWorkload/');
}

/** The network a workload reaches: its own, else the one its split-horizon uid names. */
export function workloadNetwork(workload: AmbientWorkload): string {
  if (workload.network) return workload.network;
  const at = workload.uid.indexOf('/SplitHorizonWorkload/');
  return at > 0 ? workload.uid.slice(0, at) : '';
}

function valuesOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value)) return Object.values(value);
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

// ---------------------------------------------------------------------------------------------
// When the ambient checks apply

/** Why the ambient checks have nothing to judge in this mesh, or undefined when a cluster runs ambient. */
export function noAmbientReason(infos: readonly { dataPlane?: DataPlane; reachable: boolean }[]): string | undefined {
  if (infos.some((info) => runsAmbient(info.dataPlane))) return undefined;
  if (infos.some((info) => info.reachable && info.dataPlane === undefined)) return 'the data plane of a cluster could not be told (its namespaces could not be read), and no other cluster runs ambient';
  return 'no cluster runs the ambient data plane (no ztunnel DaemonSet, no namespace labelled istio.io/dataplane-mode=ambient)';
}

/**
 * Why the sidecar-mode cross-network path (15443 east-west gateways, TLSMode istio endpoints) means
 * nothing for this mesh, or undefined when it may: every reachable cluster's data plane is known,
 * runs ambient, and no namespace anywhere runs sidecars. Ambient workloads cross networks through
 * the istio-east-west gateway on 15008 instead (judged by ambient/eastwest-gateway and
 * ambient/ztunnel-view); a mixed mesh keeps the sidecar verdicts.
 */
export function noSidecarReason(infos: readonly { dataPlane?: DataPlane; reachable: boolean }[]): string | undefined {
  const reachable = infos.filter((info) => info.reachable);
  if (reachable.length === 0) return undefined;
  if (reachable.some((info) => !info.dataPlane || !runsAmbient(info.dataPlane) || info.dataPlane.sidecarNamespaces.length > 0)) return undefined;
  return 'no cluster runs sidecar workloads (every cluster runs the ambient data plane): the 15443 sidecar path is unused; ambient traffic crosses networks through istio-east-west gateways on 15008 (see ambient/*)';
}

// ---------------------------------------------------------------------------------------------
// One cluster's services as ambient sees them (shared by the ambient checks of a run)

/** A Service of one cluster with its ambient facts. */
export interface AmbientService {
  service: KubeObject;
  /** `namespace/name`. */
  key: string;
  scope: 'GLOBAL' | 'LOCAL';
  /** Ready endpoints in this cluster (EndpointSlices). */
  ready: number;
  /** The waypoint it names, `namespace/name`, if any. */
  waypoint?: string;
}

/** What the ambient checks read of one cluster. */
export interface AmbientClusterView {
  /** The cluster's mesh config was found (a cluster without istiod has none: its scope is its primary's). */
  meshConfigFound: boolean;
  rules: ServiceScopeRule[];
  services: Map<string, AmbientService>;
  namespaces: Map<string, KubeObject>;
}

/**
 * Read one cluster's Services, namespaces, EndpointSlices and mesh config (ConfigMaps of the istio
 * namespace) and judge each Service's scope by that cluster's own rules: istiod reads only its local
 * cluster's serviceScopeConfigs ("service scope must match across all clusters").
 */
export async function readAmbientClusterView(reader: ClusterReader, istioNamespace: string): Promise<AmbientClusterView> {
  const [services, namespaces, configMaps, slices] = await Promise.all([
    reader.list('services'),
    reader.list('namespaces'),
    reader.list('configmaps', { namespace: istioNamespace }),
    reader.list('endpointslices'),
  ]);
  const meshConfig = meshConfigOf(findMeshConfigMaps(configMaps, istioNamespace)[0]);
  const rules = serviceScopeRules(meshConfig?.raw);
  const byName = new Map(namespaces.map((ns) => [ns.metadata.name, ns]));
  const view: AmbientClusterView = { meshConfigFound: meshConfig !== undefined, rules, services: new Map(), namespaces: byName };
  for (const service of services) {
    const namespace = byName.get(service.metadata.namespace ?? '');
    const key = `${service.metadata.namespace ?? ''}/${service.metadata.name}`;
    const entry: AmbientService = { service, key, scope: serviceScope(rules, labelsOf(service), namespace ? labelsOf(namespace) : {}), ready: readyEndpointCount(service, slices, []) };
    const waypoint = waypointOf(service, namespace);
    if (waypoint) entry.waypoint = waypoint;
    view.services.set(key, entry);
  }
  return view;
}

/** The view of a cluster of the run, read once per run round (ctx.memo). */
export function ambientClusterView(ctx: Pick<CheckContext, 'memo' | 'options' | 'clusters' | 'clusterInfos'>, reader: ClusterReader): Promise<AmbientClusterView> {
  // The reader's own Istio namespace, whichever check asks first (the memo is shared).
  const namespace = istioNamespaceOf(ctx.clusterInfos[ctx.clusters.indexOf(reader)], ctx.options.istioNamespace);
  return ctx.memo.get(`ambient-view|${reader.name}`, () => readAmbientClusterView(reader, namespace));
}
