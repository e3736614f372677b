// What one istiod knows, derived from objects the way istiod derives it: the registries it watches
// (the local cluster plus every peer whose remote secret works), the services and endpoints of those
// registries, and the network gateways it discovers. The /debug bodies are rendered from this.
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../../cluster/types.ts';
import { objectsOf, type ClusterView } from './cluster-view.ts';
import { hasSidecar, imageTag, keyOf, matchesLabelSelector, matchesSelector, podReady, resolveFakeHostname, workloadNameOf } from './objects.ts';

/** A cluster registry istiod watches. */
export interface Registry {
  /** Cluster id the registry is known by (the remote secret's data key for peers). */
  id: string;
  view: ClusterView;
  /** `ns/name` of the remote secret; '' for the local cluster. */
  secretName: string;
  syncStatus: 'synced' | 'timeout' | 'syncing';
  /**
   * The cluster's network as this istiod takes it: the `topology.istio.io/network` label of the
   * namespace named like istiod's own (its SystemNamespace) in that cluster (istio/istio 86c9f01
   * pilot/pkg/serviceregistry/kube/controller/controller.go:266-275 watches only that namespace,
   * network.go:103 networkFromSystemNamespace); '' when it has none.
   */
  network: string;
}

/** One port of a service as istiod models it. */
export interface ServicePort {
  name: string;
  port: number;
  protocol: string;
}

/** One endpoint (address + port) of a service in one registry. */
export interface SimEndpoint {
  address: string;
  endpointPort: number;
  servicePortName: string;
  registryId: string;
  view: ClusterView;
  pod: KubeObject | undefined;
  network: string;
  tlsMode: 'istio' | 'disabled';
  labels: Record<string, string>;
  serviceAccount: string;
  locality: string;
  nodeName: string;
  workloadName: string;
}

/** A service host merged across registries. */
export interface SimService {
  hostname: string;
  name: string;
  namespace: string;
  ports: ServicePort[];
  headless: boolean;
  /** The Service object per registry id, in registry order (local first). */
  instances: { registryId: string; view: ClusterView; svc: KubeObject }[];
  endpoints: SimEndpoint[];
}

/** A network gateway as /debug/networkz lists it. */
export interface NetworkGateway {
  network: string;
  clusterId: string;
  addr: string;
  port: number;
  /** Cluster and Service the gateway was discovered from (absent for meshNetworks addresses). */
  view?: ClusterView;
  service?: KubeObject;
}

/** Everything one istiod knows. */
export interface IstiodView {
  name: string;
  id: string;
  view: ClusterView;
  /** Ready istiod: debug endpoints answer. */
  ready: boolean;
  version: string;
  trustDomain: string;
  registries: Registry[];
  /** The cluster whose API istiod reads as its own (its config: Gateways, ...): the config cluster of an external istiod. */
  configView: ClusterView;
  /** Peers that have a remote secret istiod accepted but cannot sync, and why (for tests and logs). */
  rejected: { key: string; secretName: string; reason: string }[];
  services: Map<string, SimService>;
  gateways: NetworkGateway[];
}

const NETWORK_LABEL = 'topology.istio.io/network';
const DOMAIN = 'cluster.local';
/** Kinds a remote secret's credentials must be able to list and watch. */
const REQUIRED_KINDS = ['pods', 'services', 'endpointslices', 'namespaces'] as const;

/** What an istiod's view reads of the mesh simulation (MeshSim, which builds the views, provides it). */
export interface MeshLookup {
  /** The cluster whose API server listens at `server`, if any. */
  clusterAt(server: string): ClusterView | undefined;
  /** Whether a fault is injected on this cluster. */
  hasFault(name: string, cluster: string): boolean;
  /** The mesh's clock (token expiry). */
  readonly mesh: { clock(): Date };
}

/** Compute what the istiod of `view` knows. */
export function buildIstiodView(sim: MeshLookup, view: ClusterView): IstiodView {
  const rejected: IstiodView['rejected'] = [];
  const configView = configClusterView(sim, view);
  // Remote secrets are read from istiod's own cluster only with LOCAL_CLUSTER_SECRET_WATCHER and
  // EXTERNAL_ISTIOD (istio/istio 86c9f01 pkg/kube/multicluster/secretcontroller.go:135); else from the
  // config cluster, in istiod's namespace.
  const secretsView = istiodEnvIs(view, 'LOCAL_CLUSTER_SECRET_WATCHER') && istiodEnvIs(view, 'EXTERNAL_ISTIOD') ? view : configView;
  const registries: Registry[] = [
    { id: view.id, view: configView, secretName: '', syncStatus: 'synced', network: systemNamespaceNetwork(configView, view.istioNamespace) },
    ...remoteRegistries(sim, view, rejected, secretsView),
  ];
  const trustDomain = view.meshConfig.trustDomain || DOMAIN;
  const services = new Map<string, SimService>();
  for (const reg of registries) {
    if (reg.syncStatus !== 'synced') continue;
    addRegistryServices(services, reg, view, trustDomain);
  }
  const discovery = view.istiodPods[0]?.spec?.containers?.find((c: { name: string }) => c.name === 'discovery');
  return {
    name: view.name,
    id: view.id,
    view,
    ready: view.istiodPods.some(podReady),
    version: imageTag(discovery?.image) ?? '1.29.2',
    trustDomain,
    registries,
    configView,
    rejected,
    services,
    gateways: discoverGateways(registries, view),
  };
}

/**
 * The cluster istiod's own kube client reads: KUBECONFIG=/var/run/secrets/remote/config, the optional
 * istio-kubeconfig Secret (istio/istio 86c9f01 manifests/charts/istio-control/istio-discovery/templates/
 * deployment.yaml:173, :289); without that file client-go falls back to the in-cluster config, istiod's
 * own cluster (pkg/kube/util.go:60 ConfigLoadingRules).
 */
function configClusterView(sim: MeshLookup, view: ClusterView): ClusterView {
  const secret = objectsOf(view, 'secrets').find((s) => s.metadata.namespace === view.istioNamespace && s.metadata.name === 'istio-kubeconfig');
  const b64 = (secret?.data as Record<string, string> | undefined)?.config;
  if (!b64) return view;
  const kubeconfig = readKubeconfig(Buffer.from(b64, 'base64').toString('utf8'));
  if ('error' in kubeconfig) return view;
  const target = sim.clusterAt(kubeconfig.server);
  return target && tokenAccepted(target, kubeconfig.token, sim.mesh.clock()) ? target : view;
}

/** The network label of the namespace `systemNamespace` in a cluster ('' without one). */
function systemNamespaceNetwork(view: ClusterView, systemNamespace: string): string {
  return view.namespaces.get(systemNamespace)?.metadata.labels?.[NETWORK_LABEL] ?? '';
}

function istiodEnvIs(view: ClusterView, name: string): boolean {
  const discovery = view.istiodPods[0]?.spec?.containers?.find((c: { name: string }) => c.name === 'discovery');
  return (discovery?.env ?? []).some((e: { name: string; value?: string }) => e.name === name && e.value === 'true');
}

/** Peers istiod watches through remote secrets, validated the way istiod's secret controller does. */
function remoteRegistries(sim: MeshLookup, local: ClusterView, rejected: IstiodView['rejected'], secretsView: ClusterView): Registry[] {
  const secrets = objectsOf(secretsView, 'secrets').filter(
    (s) => s.metadata.namespace === local.istioNamespace && s.metadata.labels?.['istio/multiCluster'] === 'true',
  );
  const keyCount = new Map<string, number>();
  for (const s of secrets) for (const key of Object.keys(s.data ?? {})) keyCount.set(key, (keyCount.get(key) ?? 0) + 1);

  const out: Registry[] = [];
  for (const secret of secrets) {
    const secretName = keyOf(secret);
    for (const [key, b64] of Object.entries((secret.data ?? {}) as Record<string, string>)) {
      const reject = (reason: string) => rejected.push({ key, secretName, reason });
      if (key === local.id) {
        reject('key equals the local cluster id');
        continue;
      }
      if ((keyCount.get(key) ?? 0) > 1) {
        reject('cluster id in more than one secret');
        continue;
      }
      const kubeconfig = readKubeconfig(Buffer.from(b64, 'base64').toString('utf8'));
      if ('error' in kubeconfig) {
        reject(kubeconfig.error);
        continue;
      }
      // A client was built: istiod now tries to sync. It stays unsynced (and times out) when the
      // server is unreachable, the token is refused, or RBAC forbids the informers' lists.
      const target = sim.clusterAt(kubeconfig.server);
      let syncStatus: Registry['syncStatus'] = 'synced';
      if (!target) {
        syncStatus = 'timeout';
        reject(`server ${kubeconfig.server} unreachable`);
      } else if (!tokenAccepted(target, kubeconfig.token, sim.mesh.clock())) {
        syncStatus = 'timeout';
        reject('401 Unauthorized');
      } else if (!tokenCanWatch(target, kubeconfig.token)) {
        syncStatus = 'timeout';
        reject('403 Forbidden');
      } else if (sim.hasFault('remote-sync-timeout', local.name)) {
        syncStatus = 'timeout';
      }
      out.push({ id: key, view: target ?? local, secretName, syncStatus, network: systemNamespaceNetwork(target ?? local, local.istioNamespace) });
    }
  }
  return out;
}

/** Server and token of a remote secret's kubeconfig, or why istiod refuses it. */
function readKubeconfig(text: string): { server: string; token: string | undefined } | { error: string } {
  let doc: Record<string, unknown>;
  try {
    doc = parseYaml(text) as Record<string, unknown>;
  } catch {
    return { error: 'kubeconfig unparseable' };
  }
  if (!doc || typeof doc !== 'object') return { error: 'kubeconfig unparseable' };
  const contexts = (doc.contexts ?? []) as { name: string; context?: { cluster?: string; user?: string } }[];
  const clusters = (doc.clusters ?? []) as { name: string; cluster?: Record<string, unknown> }[];
  const users = (doc.users ?? []) as { name: string; user?: Record<string, unknown> }[];
  const context = contexts.find((c) => c.name === doc['current-context']) ?? contexts[0];
  const cluster = clusters.find((c) => c.name === context?.context?.cluster) ?? clusters[0];
  const user = users.find((u) => u.name === context?.context?.user) ?? users[0];
  const server = cluster?.cluster?.server;
  if (typeof server !== 'string') return { error: 'kubeconfig has no server' };
  // Since 1.13 istiod refuses credentials that run programs or read local files.
  for (const field of ['exec', 'auth-provider', 'tokenFile', 'client-certificate', 'client-key']) {
    if (user?.user?.[field] !== undefined) return { error: `kubeconfig uses ${field}` };
  }
  if (cluster?.cluster?.['certificate-authority'] !== undefined) return { error: 'kubeconfig uses certificate-authority file' };
  const token = user?.user?.token;
  return { server, token: typeof token === 'string' ? token : undefined };
}

function tokenAccepted(target: ClusterView, token: string | undefined, now: Date): boolean {
  if (!token || !target.state.users.has(token)) return false;
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: number };
      if (typeof payload.exp === 'number' && payload.exp * 1000 < now.getTime()) return false;
    } catch {
      // Not a JWT: an opaque token is judged by the users map alone.
    }
  }
  return true;
}

function tokenCanWatch(target: ClusterView, token: string | undefined): boolean {
  const user = token ? target.state.users.get(token) : undefined;
  if (!user) return false;
  if (user.namespaces) return false; // informers list cluster-wide
  return !REQUIRED_KINDS.some((k) => user.forbidden?.includes(k));
}

/** Namespaces of a registry that istiod's discoverySelectors select. */
function selectedNamespaces(reg: Registry, istiod: ClusterView): (ns: string) => boolean {
  const selectors = istiod.meshConfig.discoverySelectors;
  if (!selectors || selectors.length === 0) return () => true;
  return (ns) => {
    const labels = reg.view.namespaces.get(ns)?.metadata.labels;
    return selectors.some((sel) => matchesLabelSelector(sel, labels));
  };
}

function addRegistryServices(services: Map<string, SimService>, reg: Registry, istiod: ClusterView, trustDomain: string): void {
  const selected = selectedNamespaces(reg, istiod);
  for (const svc of objectsOf(reg.view, 'services')) {
    const ns = svc.metadata.namespace ?? 'default';
    if (!selected(ns)) continue;
    const hostname = `${svc.metadata.name}.${ns}.svc.${DOMAIN}`;
    let entry = services.get(hostname);
    if (!entry) {
      entry = {
        hostname,
        name: svc.metadata.name,
        namespace: ns,
        ports: servicePorts(svc),
        headless: svc.spec?.clusterIP === 'None',
        instances: [],
        endpoints: [],
      };
      services.set(hostname, entry);
    }
    entry.instances.push({ registryId: reg.id, view: reg.view, svc });
    entry.endpoints.push(...endpointsOf(reg, svc, trustDomain));
  }
}

/** Protocols istiod parses from a port name prefix or appProtocol (pkg/config/protocol Parse). */
const PROTOCOLS: Record<string, string> = {
  tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', http: 'HTTP', http_proxy: 'HTTP_PROXY', http2: 'HTTP2', https: 'HTTPS',
  tls: 'TLS', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL',
};
/** Ports istiod treats as TCP when the name says nothing (protocol sniffing would break them). */
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);

/**
 * Istio's protocol of a Service port, as kube.ConvertProtocol computes it: UDP for UDP ports, else
 * appProtocol or the port name's prefix; a name that says nothing is `UnsupportedProtocol` (istiod
 * sniffs the protocol), but on the well-known ports that sniffing would break, TCP.
 */
export function protocolOf(port: { name?: string; port?: number; appProtocol?: string; protocol?: string }): string {
  if (port.protocol === 'UDP') return 'UDP';
  let name = port.name ?? '';
  if (port.appProtocol !== undefined) {
    name = port.appProtocol;
    const k8s: Record<string, string> = { 'kubernetes.io/h2c': 'HTTP2', 'kubernetes.io/ws': 'HTTP', 'kubernetes.io/wss': 'HTTPS' };
    if (k8s[name]) return k8s[name];
  }
  if (name.slice(0, 8).toLowerCase() === 'grpc-web') return 'GRPC-Web';
  const parsed = PROTOCOLS[name.split('-')[0].toLowerCase()] ?? 'UnsupportedProtocol';
  return parsed === 'UnsupportedProtocol' && port.port !== undefined && WELL_KNOWN_TCP_PORTS.has(port.port) ? 'TCP' : parsed;
}

function servicePorts(svc: KubeObject): ServicePort[] {
  return ((svc.spec?.ports ?? []) as { name?: string; port: number; appProtocol?: string; protocol?: string }[]).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: protocolOf(p),
  }));
}

/** Ready endpoints of a Service in one registry: from its EndpointSlices, else from the selected pods. */
function endpointsOf(reg: Registry, svc: KubeObject, trustDomain: string): SimEndpoint[] {
  const ns = svc.metadata.namespace ?? 'default';
  const svcPorts = (svc.spec?.ports ?? []) as { name?: string; port: number; targetPort?: number | string }[];
  const out: SimEndpoint[] = [];
  const slices = objectsOf(reg.view, 'endpointslices').filter(
    (s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name,
  );
  if (slices.length > 0) {
    for (const slice of slices) {
      const slicePorts = (slice.ports ?? []) as { name?: string; port: number }[];
      for (const ep of (slice.endpoints ?? []) as { addresses: string[]; conditions?: { ready?: boolean }; nodeName?: string; targetRef?: { kind?: string; name: string; namespace?: string } }[]) {
        if (ep.conditions?.ready === false) continue;
        const pod = ep.targetRef?.kind === 'Pod' ? reg.view.pods.get(`${ep.targetRef.namespace ?? ns}/${ep.targetRef.name}`) : undefined;
        for (const sp of svcPorts) {
          const slicePort = slicePorts.find((p) => (p.name ?? '') === (sp.name ?? '')) ?? (svcPorts.length === 1 ? slicePorts[0] : undefined);
          if (!slicePort) continue;
          for (const address of ep.addresses ?? []) out.push(makeEndpoint(reg, ns, address, slicePort.port, sp.name ?? '', pod, ep.nodeName, trustDomain));
        }
      }
    }
    return out;
  }
  const selector = svc.spec?.selector as Record<string, string> | undefined;
  for (const pod of reg.view.pods.values()) {
    if (pod.metadata.namespace !== ns || !matchesSelector(selector, pod.metadata.labels) || !podReady(pod) || !pod.status?.podIP) continue;
    for (const sp of svcPorts) {
      out.push(makeEndpoint(reg, ns, pod.status.podIP, targetPortOf(pod, sp), sp.name ?? '', pod, pod.spec?.nodeName, trustDomain));
    }
  }
  return out;
}

function targetPortOf(pod: KubeObject, sp: { port: number; targetPort?: number | string }): number {
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  if (typeof sp.targetPort === 'string') {
    for (const c of pod.spec?.containers ?? []) {
      const named = (c.ports ?? []).find((p: { name?: string }) => p.name === sp.targetPort);
      if (named) return named.containerPort;
    }
  }
  return sp.port;
}

function makeEndpoint(reg: Registry, ns: string, address: string, port: number, portName: string, pod: KubeObject | undefined, nodeName: string | undefined, trustDomain: string): SimEndpoint {
  // A pod's own network label wins over its cluster's (istiod's system namespace there) network.
  const network = pod?.metadata.labels?.[NETWORK_LABEL] ?? reg.network;
  const tlsMode = pod && hasSidecar(pod) ? 'istio' : 'disabled';
  const node = nodeName ?? pod?.spec?.nodeName ?? '';
  const nodeLabels = objectsOf(reg.view, 'nodes').find((n) => n.metadata.name === node)?.metadata.labels ?? {};
  const region = nodeLabels['topology.kubernetes.io/region'] ?? '';
  const zone = nodeLabels['topology.kubernetes.io/zone'] ?? '';
  const subzone = nodeLabels['topology.istio.io/subzone'] ?? '';
  // istiod's AugmentLabels: locality, cluster, node and network labels on top of the pod's own.
  // The tlsMode label is the injector's, on the pod (the endpoint's TLSMode says the same).
  const labels: Record<string, string> = { ...(pod?.metadata.labels ?? {}), 'topology.istio.io/cluster': reg.id };
  if (region) labels['topology.kubernetes.io/region'] = region;
  if (zone) labels['topology.kubernetes.io/zone'] = zone;
  if (subzone) labels['topology.istio.io/subzone'] = subzone;
  if (node) labels['kubernetes.io/hostname'] = node;
  // istiod sets the label even to an empty network (istio/istio 86c9f01
  // pilot/pkg/serviceregistry/kube/controller/endpoint_builder.go:102-106).
  if (!labels[NETWORK_LABEL]) labels[NETWORK_LABEL] = network;
  const sa = pod?.spec?.serviceAccountName ?? 'default';
  return {
    address,
    endpointPort: port,
    servicePortName: portName,
    registryId: reg.id,
    view: reg.view,
    pod,
    network,
    tlsMode,
    labels,
    serviceAccount: `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`,
    locality: region || zone ? `${region}/${zone}/${subzone}` : '',
    nodeName: node,
    workloadName: pod ? workloadNameOf(pod) : '',
  };
}

/** Network gateways: labeled gateway Services of every synced registry, plus meshNetworks addresses. */
function discoverGateways(registries: Registry[], istiod: ClusterView): NetworkGateway[] {
  const out: NetworkGateway[] = [];
  for (const reg of registries) {
    if (reg.syncStatus !== 'synced') continue;
    for (const svc of objectsOf(reg.view, 'services')) {
      const network = svc.metadata.labels?.[NETWORK_LABEL];
      if (!network) continue;
      const gwPort = Number(svc.metadata.labels?.['networking.istio.io/gatewayPort'] ?? 15443);
      const port = ((svc.spec?.ports ?? []) as { port: number; nodePort?: number }[]).find((p) => p.port === gwPort);
      if (!port) continue;
      for (const { addr, port: p } of gatewayAddresses(reg.view, svc, port)) out.push({ network, clusterId: reg.id, addr, port: p, view: reg.view, service: svc });
    }
  }
  out.push(...meshNetworksGateways(istiod, registries));
  const seen = new Set<string>();
  return out
    .filter((g) => !seen.has(`${g.network}|${g.clusterId}|${g.addr}|${g.port}`) && seen.add(`${g.network}|${g.clusterId}|${g.addr}|${g.port}`))
    .sort((a, b) => a.network.localeCompare(b.network) || a.clusterId.localeCompare(b.clusterId) || a.addr.localeCompare(b.addr));
}

/** Where a gateway Service is reached from outside its cluster. */
export function gatewayAddresses(view: ClusterView, svc: KubeObject, port: { port: number; nodePort?: number }): { addr: string; port: number }[] {
  const out: { addr: string; port: number }[] = [];
  for (const ing of (svc.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[]) {
    if (ing.ip) out.push({ addr: ing.ip, port: port.port });
    else if (ing.hostname) out.push({ addr: resolveFakeHostname(ing.hostname), port: port.port });
  }
  for (const ip of (svc.spec?.externalIPs ?? []) as string[]) out.push({ addr: ip, port: port.port });
  const nodeSelectorText = svc.metadata.annotations?.['traffic.istio.io/nodeSelector'] ?? svc.metadata.labels?.['traffic.istio.io/nodeSelector'];
  if (svc.spec?.type === 'NodePort' && nodeSelectorText && port.nodePort) {
    let selector: Record<string, string>;
    try {
      selector = JSON.parse(nodeSelectorText);
    } catch {
      selector = {};
    }
    for (const node of objectsOf(view, 'nodes')) {
      if (!Object.entries(selector).every(([k, v]) => node.metadata.labels?.[k] === v)) continue;
      for (const a of (node.status?.addresses ?? []) as { type: string; address: string }[]) {
        if (a.type === 'ExternalIP') out.push({ addr: a.address, port: port.nodePort });
      }
    }
  }
  return out;
}

function meshNetworksGateways(istiod: ClusterView, registries: Registry[]): NetworkGateway[] {
  const cm = objectsOf(istiod, 'configmaps').find((c) => c.metadata.namespace === istiod.istioNamespace && c.metadata.name === 'istio');
  let networks: Record<string, { endpoints?: { fromRegistry?: string }[]; gateways?: { address?: string; registryServiceName?: string; port?: number }[] }> = {};
  try {
    const doc = cm?.data?.meshNetworks ? (parseYaml(cm.data.meshNetworks) as { networks?: typeof networks }) : undefined;
    networks = doc?.networks ?? (istiod.meshConfig.meshNetworks as { networks?: typeof networks } | undefined)?.networks ?? {};
  } catch {
    networks = {};
  }
  const out: NetworkGateway[] = [];
  for (const [network, def] of Object.entries(networks)) {
    const clusterId = def.endpoints?.find((e) => e.fromRegistry)?.fromRegistry ?? '';
    for (const gw of def.gateways ?? []) {
      if (gw.address) out.push({ network, clusterId, addr: gw.address, port: gw.port ?? 15443 });
      if (gw.registryServiceName) {
        for (const reg of registries) {
          if (reg.syncStatus !== 'synced') continue;
          const svc = objectsOf(reg.view, 'services').find((s) => `${s.metadata.name}.${s.metadata.namespace}.svc.${DOMAIN}` === gw.registryServiceName);
          const port = svc && ((svc.spec?.ports ?? []) as { port: number }[]).find((p) => p.port === (gw.port ?? 15443));
          if (svc && port) for (const a of gatewayAddresses(reg.view, svc, port)) out.push({ network, clusterId: reg.id, addr: a.addr, port: a.port, view: reg.view, service: svc });
        }
      }
    }
  }
  return out;
}
