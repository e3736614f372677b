// Small parsers of the Kubernetes objects an Istio install consists of, shared by topology discovery
// and the checks. They follow what istiod itself reads (istio/istio pilot/pkg/serviceregistry/kube
// and pkg/config/mesh), and never throw on an odd object: an unknown shape reads as "not found".
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../cluster/types.ts';
import { labelSelectorMatches, selectorMatches, type LabelMap } from './labels.ts';

/** Namespace/Service/Pod label naming the network (istio.io/latest/docs/reference/config/labels). */
export const NETWORK_LABEL = 'topology.istio.io/network';
/** Service label overriding the east-west gateway port istiod uses (default 15443). */
export const GATEWAY_PORT_LABEL = 'networking.istio.io/gatewayPort';
/** Service annotation telling istiod which nodes' ExternalIPs front a NodePort gateway. */
export const NODE_SELECTOR_ANNOTATION = 'traffic.istio.io/nodeSelector';
/** Namespace annotation of a remote cluster naming the cluster(s) running its control plane. */
export const CONTROL_PLANE_CLUSTERS_ANNOTATION = 'topology.istio.io/controlPlaneClusters';
/** Revision label on istiod Deployments and Pods. */
export const REVISION_LABEL = 'istio.io/rev';
/** The port istiod routes cross-network mTLS traffic to when the Service does not say otherwise. */
export const DEFAULT_GATEWAY_PORT = 15443;

/** A container as the API serves it (only what meshdoctor reads). */
export interface ContainerSpec {
  name: string;
  image?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
}

// ---------------------------------------------------------------------------------------------
// Generic object helpers
// ---------------------------------------------------------------------------------------------

/** Labels of an object ({} when none). */
export function labelsOf(obj: KubeObject): LabelMap {
  return obj.metadata.labels ?? {};
}

/** Per list (a reader's memoized answer), its objects by namespace, in list order (inNamespace). */
const byNamespaceOf = new WeakMap<readonly KubeObject[], { length: number; index: Map<string | undefined, KubeObject[]> }>();

/**
 * The objects of `list` in `namespace`, in list order: what `list.filter((o) => o.metadata.namespace ===
 * namespace)` gives, from an index built once per list (issue 19: per-Service scans of a 10,000-pod list
 * were seconds of CPU at 3 x 200 Services). A list that grew since is indexed afresh.
 */
export function inNamespace(list: readonly KubeObject[], namespace: string | undefined): readonly KubeObject[] {
  let cached = byNamespaceOf.get(list);
  if (!cached || cached.length !== list.length) {
    const index = new Map<string | undefined, KubeObject[]>();
    for (const o of list) {
      const ns = o.metadata.namespace;
      const bucket = index.get(ns);
      if (bucket) bucket.push(o);
      else index.set(ns, [o]);
    }
    cached = { length: list.length, index };
    byNamespaceOf.set(list, cached);
  }
  return cached.index.get(namespace) ?? [];
}

/** Annotations of an object ({} when none). */
export function annotationsOf(obj: KubeObject): LabelMap {
  return obj.metadata.annotations ?? {};
}

/** The containers of a pod template or pod spec (init containers excluded). */
export function containersOf(podSpec: unknown): ContainerSpec[] {
  const containers = (podSpec as { containers?: unknown } | undefined)?.containers;
  return Array.isArray(containers) ? (containers as ContainerSpec[]) : [];
}

/** A container by name. */
export function findContainer(podSpec: unknown, name: string): ContainerSpec | undefined {
  return containersOf(podSpec).find((c) => c.name === name);
}

/** Literal value of an env var of a container; undefined when absent or set through valueFrom. */
export function containerEnv(container: ContainerSpec | undefined, name: string): string | undefined {
  const entry = container?.env?.find((e) => e.name === name);
  return typeof entry?.value === 'string' ? entry.value : undefined;
}

/** `namespace/name` of an object, for messages. */
export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

// ---------------------------------------------------------------------------------------------
// istiod
// ---------------------------------------------------------------------------------------------

/** The istiod container name; `pilot-discovery` runs in it. */
export const ISTIOD_CONTAINER = 'discovery';

/** Ports other clusters reach istiod on: xDS/CA (15012) and the injection/validation webhooks (15017). */
export const ISTIOD_PORTS: readonly number[] = [15012, 15017];

/**
 * istiod Deployments: labelled `app: istiod` (every install since 1.5), or running a `discovery`
 * container from a pilot image (hand-rolled installs). Sorted: default revision first, then by name.
 */
export function findIstiodDeployments(deployments: KubeObject[]): KubeObject[] {
  const found = deployments.filter((d) => {
    if (labelsOf(d).app === 'istiod') return true;
    const container = findContainer(d.spec?.template?.spec, ISTIOD_CONTAINER);
    return container !== undefined && /pilot/.test(container.image ?? '');
  });
  return found.sort((a, b) => {
    const ra = revisionOf(a) === 'default' ? 0 : 1;
    const rb = revisionOf(b) === 'default' ? 0 : 1;
    return ra - rb || objectKey(a).localeCompare(objectKey(b));
  });
}

/**
 * The namespace of a cluster's istiod when none runs in --istio-namespace but one runs elsewhere: the
 * external control plane guide installs it in `external-istiod` (istio.io external-controlplane
 * snips.sh at 005b9da, snip_get_external_istiod_iop). One with EXTERNAL_ISTIOD=true first.
 */
export function istiodNamespaceElsewhere(deployments: KubeObject[], istioNamespace: string): string | undefined {
  if (findIstiodDeployments(deployments.filter((d) => d.metadata.namespace === istioNamespace)).length > 0) return undefined;
  const elsewhere = findIstiodDeployments(deployments.filter((d) => d.metadata.namespace !== istioNamespace));
  const chosen = elsewhere.find((d) => containerEnv(istiodContainer(d), 'EXTERNAL_ISTIOD') === 'true') ?? elsewhere[0];
  return chosen?.metadata.namespace;
}

/** The pods a Deployment (or any workload with `spec.selector.matchLabels`) selects, in its namespace. */
export function podsOfWorkload(workload: KubeObject, pods: KubeObject[]): KubeObject[] {
  const selector = workload.spec?.selector?.matchLabels as LabelMap | undefined;
  return inNamespace(pods, workload.metadata.namespace).filter((p) => selectorMatches(selector, labelsOf(p)));
}

/** Revision of an istiod Deployment or Pod (`istio.io/rev`), `default` when unlabelled. */
export function revisionOf(obj: KubeObject): string {
  return labelsOf(obj)[REVISION_LABEL] || 'default';
}

/** The `discovery` container of an istiod Deployment. */
export function istiodContainer(deployment: KubeObject): ContainerSpec | undefined {
  return findContainer(deployment.spec?.template?.spec, ISTIOD_CONTAINER);
}

/**
 * Services through which a cluster reaches a control plane running elsewhere (istio-discovery chart,
 * remote-istiod-service.yaml): `istiod`, or `istiod-remote` when a local (injector) istiod runs, each
 * with `-<revision>` for a revisioned install (older charts wrote `istiod-<revision>-remote`). They
 * have no selector (Endpoints/EndpointSlices point at the primary) or are ExternalName. Returns
 * those in `namespace`, `-remote` names last.
 */
export function findRemoteIstiodServices(services: KubeObject[], namespace: string): KubeObject[] {
  return services
    .filter(
      (s) =>
        s.metadata.namespace === namespace &&
        /^istiod(-[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/.test(s.metadata.name) &&
        (s.spec?.type === 'ExternalName' || Object.keys(s.spec?.selector ?? {}).length === 0),
    )
    .sort((a, b) => Number(isIstiodRemoteName(a.metadata.name)) - Number(isIstiodRemoteName(b.metadata.name)) || a.metadata.name.localeCompare(b.metadata.name));
}

/** `istiod-remote`, `istiod-remote-<rev>` or `istiod-<rev>-remote`: the name the chart uses when a local istiod also runs. */
export function isIstiodRemoteName(name: string): boolean {
  return name.startsWith('istiod-') && name.split('-').includes('remote');
}

/**
 * Istio version from an image reference: `docker.io/istio/pilot:1.29.1` -> `1.29.1`. Digests and
 * the `-distroless`/`-debug` variant suffixes are dropped; a tag that is not a version (`latest`,
 * a commit) gives undefined.
 */
export function versionFromImage(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0];
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon < 0) return undefined;
  const tag = lastSegment.slice(colon + 1).replace(/-(distroless|debug)$/, '');
  return /^\d+\.\d+/.test(tag) ? tag : undefined;
}

/** A parsed `major.minor.patch` version (patch 0 when absent); undefined for anything else. */
export interface IstioVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Parse `1.29.1`, `1.13`, `1.20.0-beta.1` (pre-release suffix ignored). */
export function parseVersion(version: string | undefined): IstioVersion | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version ?? '');
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

/** True when `version` is older than `major.minor`; false when it cannot be told. */
export function isOlderThan(version: string | undefined, major: number, minor: number): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return v.major < major || (v.major === major && v.minor < minor);
}

// ---------------------------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------------------------

/** True when the pod's `Ready` condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  const conditions = (pod.status?.conditions ?? []) as { type: string; status: string }[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Container status as the API serves it (only what meshdoctor reads). */
interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number }; running?: unknown };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

function containerStatuses(pod: KubeObject): ContainerStatus[] {
  const statuses = pod.status?.containerStatuses;
  return Array.isArray(statuses) ? statuses : [];
}

/**
 * Why a pod is not Ready, the way `kubectl get pods` words it: the first non-ready container's
 * waiting/terminated reason (`CrashLoopBackOff`, `ImagePullBackOff`, `Error`), else the pod phase.
 */
export function podNotReadyReason(pod: KubeObject): string {
  for (const status of containerStatuses(pod)) {
    if (status.ready) continue;
    const reason = status.state?.waiting?.reason ?? status.state?.terminated?.reason;
    if (reason) return `container ${status.name}: ${reason}`;
    if (status.state?.running) return `container ${status.name}: running but not ready (readiness probe failing)`;
  }
  const phase = pod.status?.phase as string | undefined;
  const unschedulable = ((pod.status?.conditions ?? []) as { type: string; reason?: string }[]).find((c) => c.type === 'PodScheduled' && c.reason);
  if (phase === 'Pending' && unschedulable) return `Pending: ${unschedulable.reason}`;
  return phase ?? 'no status';
}

/** Highest restart count among a pod's containers, with that container's last termination reason. */
export function podRestarts(pod: KubeObject): { container?: string; count: number; lastReason?: string } {
  let worst: { container?: string; count: number; lastReason?: string } = { count: 0 };
  for (const status of containerStatuses(pod)) {
    const count = status.restartCount ?? 0;
    if (count > worst.count) worst = { container: status.name, count, lastReason: status.lastState?.terminated?.reason };
  }
  return worst;
}

// ---------------------------------------------------------------------------------------------
// Mesh config and injector values
// ---------------------------------------------------------------------------------------------

/** The parts of MeshConfig meshdoctor reads (`istio` ConfigMap, key `mesh`). */
export interface MeshConfigFacts {
  /** `defaultConfig.meshId` (where `global.meshID` lands). */
  meshId?: string;
  /** `trustDomain`, Istio's default `cluster.local` when unset. */
  trustDomain: string;
  trustDomainAliases: string[];
  rootNamespace?: string;
  discoverySelectors?: unknown[];
  /** The whole parsed document, for checks that need more. */
  raw: Record<string, unknown>;
}

/**
 * The mesh config ConfigMaps of an istio namespace: `istio` (default revision) and `istio-<rev>`.
 * Default first.
 */
export function findMeshConfigMaps(configMaps: KubeObject[], istioNamespace: string): KubeObject[] {
  return configMaps
    .filter((cm) => cm.metadata.namespace === istioNamespace && /^istio(-[a-z0-9-]+)?$/.test(cm.metadata.name) && typeof cm.data?.mesh === 'string')
    .sort((a, b) => (a.metadata.name === 'istio' ? -1 : b.metadata.name === 'istio' ? 1 : a.metadata.name.localeCompare(b.metadata.name)));
}

/** Parse a MeshConfig YAML document. Throws on YAML that is not a mapping (callers decide). */
export function parseMeshConfig(text: string): MeshConfigFacts {
  const raw = parseYaml(text) as unknown;
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new Error('mesh config is not a YAML mapping');
  }
  const doc = (raw ?? {}) as Record<string, unknown>;
  const defaultConfig = (doc.defaultConfig ?? {}) as Record<string, unknown>;
  const aliases = Array.isArray(doc.trustDomainAliases) ? doc.trustDomainAliases.filter((a): a is string => typeof a === 'string') : [];
  return {
    meshId: typeof defaultConfig.meshId === 'string' ? defaultConfig.meshId : undefined,
    trustDomain: typeof doc.trustDomain === 'string' && doc.trustDomain ? doc.trustDomain : 'cluster.local',
    trustDomainAliases: aliases,
    rootNamespace: typeof doc.rootNamespace === 'string' ? doc.rootNamespace : undefined,
    discoverySelectors: Array.isArray(doc.discoverySelectors) ? doc.discoverySelectors : undefined,
    raw: doc,
  };
}

/** Mesh config of a ConfigMap, or undefined when it cannot be parsed. */
export function meshConfigOf(configMap: KubeObject | undefined): MeshConfigFacts | undefined {
  const text = configMap?.data?.mesh;
  if (typeof text !== 'string') return undefined;
  try {
    return parseMeshConfig(text);
  } catch {
    return undefined;
  }
}

/** The injector values meshdoctor reads (`istio-sidecar-injector` ConfigMap, key `values`, JSON). */
export interface InjectorValues {
  clusterName?: string;
  network?: string;
  meshId?: string;
  /** `global.tag`: the Istio version the proxies are injected with. */
  tag?: string;
  revision?: string;
}

/** The injector ConfigMaps of an istio namespace (`istio-sidecar-injector[-<rev>]`), default first. */
export function findInjectorConfigMaps(configMaps: KubeObject[], istioNamespace: string): KubeObject[] {
  return configMaps
    .filter((cm) => cm.metadata.namespace === istioNamespace && cm.metadata.name.startsWith('istio-sidecar-injector') && typeof cm.data?.values === 'string')
    .sort((a, b) => a.metadata.name.length - b.metadata.name.length || a.metadata.name.localeCompare(b.metadata.name));
}

/** Parse the `values` JSON of an injector ConfigMap; undefined when absent or not JSON. */
export function injectorValuesOf(configMap: KubeObject | undefined): InjectorValues | undefined {
  const text = configMap?.data?.values;
  if (typeof text !== 'string') return undefined;
  let values: Record<string, unknown>;
  try {
    values = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!values || typeof values !== 'object') return undefined;
  const global = (values.global ?? {}) as Record<string, unknown>;
  const multiCluster = (global.multiCluster ?? {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    clusterName: str(multiCluster.clusterName),
    network: str(global.network),
    meshId: str(global.meshID),
    tag: typeof global.tag === 'number' ? String(global.tag) : str(global.tag),
    revision: str(values.revision),
  };
}

// ---------------------------------------------------------------------------------------------
// Injector webhook
// ---------------------------------------------------------------------------------------------

/** Where an Istio sidecar injection webhook sends requests. */
export interface InjectionWebhook {
  /** MutatingWebhookConfiguration name. */
  configuration: string;
  /** `clientConfig.url` when set (external control planes). */
  url?: string;
  /** `clientConfig.service` when set. */
  service?: { namespace: string; name: string; path?: string };
  /** Cluster id and network from `/inject/cluster/<id>/net/<network>` (or the pre-1.11 `:ENV:` form). */
  clusterId?: string;
  network?: string;
}

/** The sidecar injection webhooks of Istio MutatingWebhookConfigurations. */
export function findInjectionWebhooks(configurations: KubeObject[]): InjectionWebhook[] {
  const found: InjectionWebhook[] = [];
  for (const config of configurations) {
    const webhooks = Array.isArray(config.webhooks) ? config.webhooks : [];
    for (const hook of webhooks as { name?: string; clientConfig?: { url?: string; service?: { namespace: string; name: string; path?: string } } }[]) {
      if (!/sidecar-injector\.istio\.io$/.test(hook.name ?? '')) continue;
      const url = hook.clientConfig?.url;
      const service = hook.clientConfig?.service;
      const ids = parseInjectionPath(url ?? service?.path ?? '');
      found.push({ configuration: config.metadata.name, url, service, ...ids });
    }
  }
  return found;
}

/** Cluster id and network from an injection URL or path. */
export function parseInjectionPath(pathOrUrl: string): { clusterId?: string; network?: string } {
  const modern = /\/inject\/cluster\/([^/?]+)\/net\/([^/?]+)/.exec(pathOrUrl);
  if (modern) return { clusterId: decodeURIComponent(modern[1]), network: decodeURIComponent(modern[2]) };
  const result: { clusterId?: string; network?: string } = {};
  const cluster = /:ENV:cluster=([^:/?]+)/.exec(pathOrUrl);
  const net = /:ENV:net=([^:/?]+)/.exec(pathOrUrl);
  if (cluster) result.clusterId = cluster[1];
  if (net) result.network = net[1];
  return result;
}

// ---------------------------------------------------------------------------------------------
// East-west gateways
// ---------------------------------------------------------------------------------------------

/** A Service that is (or looks meant to be) an east-west gateway. */
export interface EastWestGatewayService {
  service: KubeObject;
  /** Its `topology.istio.io/network` label. */
  network?: string;
  /** istiod treats it as a network gateway (it carries the network label). */
  recognisedByIstiod: boolean;
  /** The port istiod sends cross-network traffic to: the gatewayPort label, else 15443. */
  gatewayPort: number;
  /** istiod takes it as a gateway because meshNetworks names it (`registryServiceName`). */
  viaMeshNetworks?: boolean;
}

/**
 * East-west gateway Services. istiod (pilot/pkg/serviceregistry/kube/controller/network.go) takes
 * every Service labelled `topology.istio.io/network` as that network's gateway, on the port of the
 * `networking.istio.io/gatewayPort` label or 15443. Services that are clearly meant to be one but
 * that istiod ignores (an `eastwest` name or `istio: eastwestgateway` selector without the label)
 * are returned too, with `recognisedByIstiod: false`, so checks can say why istiod ignores them.
 */
export function findEastWestGateways(services: KubeObject[]): EastWestGatewayService[] {
  const found: EastWestGatewayService[] = [];
  for (const service of services) {
    const labels = labelsOf(service);
    const network = labels[NETWORK_LABEL] || undefined;
    const portLabel = labels[GATEWAY_PORT_LABEL];
    const looksEastWest =
      /eastwest/.test(service.metadata.name) || /eastwest/.test(String(service.spec?.selector?.istio ?? '')) || portLabel !== undefined;
    if (!network && !looksEastWest) continue;
    const parsedPort = Number(portLabel);
    const gatewayPort = portLabel && Number.isInteger(parsedPort) && parsedPort > 0 ? parsedPort : DEFAULT_GATEWAY_PORT;
    found.push({ service, network, recognisedByIstiod: network !== undefined, gatewayPort });
  }
  return found.sort((a, b) => objectKey(a.service).localeCompare(objectKey(b.service)));
}

/** A Service port (only what meshdoctor reads). */
export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  protocol?: string;
}

/** Ports of a Service. */
export function servicePorts(service: KubeObject): ServicePort[] {
  const ports = service.spec?.ports;
  return Array.isArray(ports) ? (ports as ServicePort[]) : [];
}

/**
 * Addresses istiod would publish for a gateway Service (ClusterExternalAddresses): LoadBalancer
 * ingress IPs and hostnames, `spec.externalIPs`, and for a NodePort with the
 * `traffic.istio.io/nodeSelector` annotation, the ExternalIP of each selected node (when nodes are
 * known). Sorted and de-duplicated.
 */
export function gatewayAddresses(service: KubeObject, nodes?: KubeObject[]): string[] {
  const addresses = new Set<string>();
  for (const ip of (service.spec?.externalIPs ?? []) as string[]) addresses.add(ip);
  if (service.spec?.type === 'LoadBalancer') {
    for (const ingress of (service.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[]) {
      if (ingress.ip) addresses.add(ingress.ip);
      else if (ingress.hostname) addresses.add(ingress.hostname);
    }
  }
  const selector = nodeSelectorOf(service);
  if (service.spec?.type === 'NodePort' && selector && nodes) {
    for (const node of nodes) {
      // An empty nodeSelector selects every node.
      if (!labelSelectorMatches({ matchLabels: selector }, labelsOf(node))) continue;
      for (const addr of (node.status?.addresses ?? []) as { type: string; address: string }[]) {
        if (addr.type === 'ExternalIP') addresses.add(addr.address);
      }
    }
  }
  return [...addresses].sort();
}

/**
 * The `traffic.istio.io/nodeSelector` annotation of a Service as a label map (an empty map selects
 * every node); undefined when absent or not a JSON object.
 */
export function nodeSelectorOf(service: KubeObject): LabelMap | undefined {
  const text = annotationsOf(service)[NODE_SELECTOR_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as LabelMap) : undefined;
  } catch {
    return undefined;
  }
}

/** True for an IPv4/IPv6 literal; false for a DNS name (a load balancer hostname). */
export function isIpAddress(address: string): boolean {
  return isIP(address) !== 0;
}

// ---------------------------------------------------------------------------------------------
// Gateway API east-west gateways
// ---------------------------------------------------------------------------------------------

/** Gateway API listener TLS option with which istiod turns a listener into a cross-network (AUTO_PASSTHROUGH) one. */
export const LISTENER_PROTOCOL_OPTION = 'gateway.istio.io/listener-protocol';
/** Label Istio puts on the Deployment, Service and pods it generates for a Gateway API Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** A Gateway API listener (only what meshdoctor reads). */
export interface GatewayApiListener {
  name?: string;
  port: number;
  protocol?: string;
  tls?: { mode?: string; options?: Record<string, string> };
}

/** A Gateway API Gateway that is (or looks meant to be) an east-west gateway. */
export interface GatewayApiEastWestGateway {
  gateway: KubeObject;
  /** Its `topology.istio.io/network` label. */
  network?: string;
  /** The listener istiod uses for cross-network traffic (`gateway.istio.io/listener-protocol: auto-passthrough`). */
  autoPassthroughListener?: GatewayApiListener;
  /** istiod takes it as its network's gateway: network label and an auto-passthrough listener. */
  recognisedByIstiod: boolean;
  /** `status.addresses` values (IPs and hostnames), sorted. */
  addresses: string[];
  /** The `Programmed` condition: true, false, or undefined when the controller has not written status. */
  programmed?: boolean;
}

/** Listeners of a Gateway API Gateway. */
export function gatewayApiListeners(gateway: KubeObject): GatewayApiListener[] {
  const listeners = gateway.spec?.listeners;
  return Array.isArray(listeners) ? (listeners as GatewayApiListener[]).filter((l) => l && typeof l.port === 'number') : [];
}

/**
 * Whether istiod serves a Gateway API listener as auto-passthrough, the cross-network mode (istio/istio
 * pilot/pkg/serviceregistry/kube/conversion.go:199 IsAutoPassthrough at 86c9f01, the same from 1.24.0 to
 * 1.31): a TLS listener with the `gateway.istio.io/listener-protocol: auto-passthrough` option, or, on a
 * Gateway labelled with its network, a TLS listener on the port of the `networking.istio.io/gatewayPort`
 * label (15443 without it).
 */
export function isAutoPassthroughListener(gatewayLabels: Record<string, string>, listener: GatewayApiListener): boolean {
  if (!listener.tls) return false;
  if (listener.tls.options?.[LISTENER_PROTOCOL_OPTION] === 'auto-passthrough') return true;
  if (!(NETWORK_LABEL in gatewayLabels)) return false;
  return String(listener.port) === (gatewayLabels[GATEWAY_PORT_LABEL] ?? String(DEFAULT_GATEWAY_PORT));
}

/**
 * Gateway API Gateways acting as east-west gateways (istio/istio pilot/pkg/serviceregistry/kube/
 * controller/network.go:366 handleGatewayResource reads Gateway resources too): an auto-passthrough
 * listener (isAutoPassthroughListener), or the network label with a listener on 15443 (meant to be one;
 * istiod only uses it when the listener is TLS). Sorted.
 */
export function findGatewayApiEastWestGateways(gateways: KubeObject[]): GatewayApiEastWestGateway[] {
  const found: GatewayApiEastWestGateway[] = [];
  for (const gateway of gateways) {
    const listeners = gatewayApiListeners(gateway);
    const labels = labelsOf(gateway);
    const network = labels[NETWORK_LABEL] || undefined;
    const autoPassthroughListener = listeners.find((l) => isAutoPassthroughListener(labels, l));
    const meant = autoPassthroughListener !== undefined || (network !== undefined && listeners.some((l) => l.port === DEFAULT_GATEWAY_PORT));
    if (!meant) continue;
    const addresses = ((gateway.status?.addresses ?? []) as { value?: string }[]).map((a) => a.value).filter((v): v is string => typeof v === 'string' && v !== '');
    const conditions = (gateway.status?.conditions ?? []) as { type: string; status: string }[];
    const programmedCondition = conditions.find((c) => c.type === 'Programmed');
    const entry: GatewayApiEastWestGateway = {
      gateway,
      recognisedByIstiod: network !== undefined && autoPassthroughListener !== undefined,
      addresses: [...new Set(addresses)].sort(),
    };
    if (network) entry.network = network;
    if (autoPassthroughListener) entry.autoPassthroughListener = autoPassthroughListener;
    if (programmedCondition) entry.programmed = programmedCondition.status === 'True';
    found.push(entry);
  }
  return found.sort((a, b) => objectKey(a.gateway).localeCompare(objectKey(b.gateway)));
}
