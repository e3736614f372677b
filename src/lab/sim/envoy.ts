// A sidecar's Envoy as istiod configures it: its outbound clusters and their hosts (EDS after
// istiod's network filter: same-network endpoints as pod IPs, other networks behind their gateway),
// per-host counters the lab's traffic updates, and the admin pages /clusters and /server_info.
import type { KubeObject } from '../../cluster/types.ts';
import type { ClusterView } from './cluster-view.ts';
import type { IstiodView, NetworkGateway, ServicePort, SimEndpoint, SimService } from './istiod.ts';
import type { HostStats, MeshSim, ProxyStats } from './mesh.ts';
import { imageTag, proxyContainer, stableHash } from './objects.ts';

/** One load-balancing host of an outbound cluster. */
export interface LbHost {
  address: string;
  port: number;
  /** Load-balancing weight istiod gives the host (a gateway's adds up the endpoints it stands for). */
  weight: number;
  /** `endpoint`: a pod address; `gateway`: a peer network's gateway standing for `endpoints`. */
  kind: 'endpoint' | 'gateway';
  gateway?: NetworkGateway;
  /** The endpoints this host stands for (one for `endpoint`). */
  endpoints: SimEndpoint[];
  locality: string;
}

/** An outbound cluster `outbound|<port>||<host>`. */
export interface OutboundCluster {
  name: string;
  service: SimService;
  port: ServicePort;
  hosts: LbHost[];
}

/** The network a proxy declares: its pod label, else its cluster's network. */
export function proxyNetwork(view: ClusterView, pod: KubeObject): string {
  return pod.metadata.labels?.['topology.istio.io/network'] ?? view.network;
}

/** Istio: a proxy is "in" a network when both are equal or either is unset. */
function inNetwork(proxyNet: string, epNet: string): boolean {
  return !proxyNet || !epNet || proxyNet === epNet;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * istiod's gateway weight scale: the least common multiple of the gateway counts per network and per
 * network and cluster (model.NetworkGateways), so an endpoint's weight splits evenly over its gateways.
 */
function gatewayScale(gateways: NetworkGateway[]): number {
  const counts = new Map<string, number>();
  for (const g of gateways) {
    counts.set(`n|${g.network}`, (counts.get(`n|${g.network}`) ?? 0) + 1);
    counts.set(`c|${g.network}|${g.clusterId}`, (counts.get(`c|${g.network}|${g.clusterId}`) ?? 0) + 1);
  }
  let lcm = 1;
  for (const n of counts.values()) lcm = (lcm * n) / gcd(lcm, n);
  return lcm;
}

/**
 * The outbound cluster of a service port as the proxy's istiod builds its EDS (EndpointsByNetworkFilter):
 * without any network gateway every endpoint is sent as is. Otherwise an endpoint the proxy is in the
 * network of, or of a network with no gateway, is sent as is (its pod IP, unroutable from here when
 * the networks differ); an endpoint of another network is replaced by that network's gateways (those
 * of its own cluster when there are any), with its weight split over them, and dropped when it does
 * not take mTLS (no sidecar), since the gateway routes by the SNI of Istio's mTLS. A proxy that
 * declares no network reaches a networked endpoint through its gateway when there is one.
 */
export function outboundCluster(istiod: IstiodView, proxyNet: string, service: SimService, port: ServicePort, proxyCluster?: string): OutboundCluster {
  let byService = clusterMemo.get(istiod);
  if (!byService) clusterMemo.set(istiod, (byService = new WeakMap()));
  let byKey = byService.get(service);
  if (!byKey) byService.set(service, (byKey = new Map()));
  const key = `${port.name}\u0000${port.port}\u0000${proxyNet}\u0000${proxyCluster ?? '\u0001'}`;
  let cluster = byKey.get(key);
  if (!cluster || cluster.port !== port) byKey.set(key, (cluster = frozenCluster(buildOutboundCluster(istiod, proxyNet, service, port, proxyCluster))));
  return cluster;
}

/**
 * Outbound clusters built once per istiod view, service, port and proxy network and cluster (issue
 * 19): an IstiodView is built once per lab and never changed (MeshSim), and building every cluster
 * of a 10,000-pod mesh on each /clusters reading and each request was most of what the lab's Envoy
 * cost. Frozen, so that a caller changing one would fail instead of changing what others are served.
 */
const clusterMemo = new WeakMap<IstiodView, WeakMap<SimService, Map<string, OutboundCluster>>>();
const clustersMemo = new WeakMap<IstiodView, Map<string, OutboundCluster[]>>();

function frozenCluster(cluster: OutboundCluster): OutboundCluster {
  for (const h of cluster.hosts) {
    Object.freeze(h.endpoints);
    Object.freeze(h);
  }
  Object.freeze(cluster.hosts);
  return Object.freeze(cluster);
}

function buildOutboundCluster(istiod: IstiodView, proxyNet: string, service: SimService, port: ServicePort, proxyCluster?: string): OutboundCluster {
  const name = `outbound|${port.port}||${service.hostname}`;
  const hosts: LbHost[] = [];
  if (service.headless) return { name, service, port, hosts }; // ORIGINAL_DST: no EDS hosts
  const local = proxyCluster !== undefined && isClusterLocal(istiod, service.hostname);
  const endpoints = service.endpoints.filter((ep) => ep.servicePortName === port.name && (!local || ep.registryId === proxyCluster));
  if (istiod.gateways.length === 0) {
    for (const ep of endpoints) hosts.push({ address: ep.address, port: ep.endpointPort, weight: 1, kind: 'endpoint', endpoints: [ep], locality: ep.locality });
    return { name, service, port, hosts: sortHosts(hosts) };
  }
  const scale = gatewayScale(istiod.gateways);
  // Gateway hosts per locality, as istiod groups them (one LocalityLbEndpoints per locality).
  const viaGateway = new Map<string, LbHost>();
  for (const ep of endpoints) {
    const ofCluster = istiod.gateways.filter((g) => g.network === ep.network && g.clusterId === ep.registryId);
    const gateways = ofCluster.length > 0 ? ofCluster : istiod.gateways.filter((g) => g.network === ep.network);
    const forceGateway = !proxyNet && ep.network !== '' && gateways.length > 0;
    if (!forceGateway && (inNetwork(proxyNet, ep.network) || gateways.length === 0)) {
      hosts.push({ address: ep.address, port: ep.endpointPort, weight: scale, kind: 'endpoint', endpoints: [ep], locality: ep.locality });
      continue;
    }
    if (ep.tlsMode !== 'istio') continue;
    for (const gw of gateways) {
      const key = `${ep.locality}|${gw.network}|${gw.clusterId}|${gw.addr}|${gw.port}`;
      let host = viaGateway.get(key);
      if (!host) viaGateway.set(key, (host = { address: gw.addr, port: gw.port, weight: 0, kind: 'gateway', gateway: gw, endpoints: [], locality: ep.locality }));
      host.weight += Math.floor(scale / gateways.length);
      host.endpoints.push(ep);
    }
  }
  hosts.push(...viaGateway.values());
  return { name, service, port, hosts: sortHosts(hosts) };
}

/**
 * Hosts istiod keeps cluster-local (model.ClusterLocalHosts): a proxy gets only its own cluster's
 * endpoints of them. By default kube-system's services, kubernetes.default and istiod's discovery
 * address; mesh config serviceSettings add (clusterLocal: true) or remove hosts.
 */
function isClusterLocal(istiod: IstiodView, hostname: string): boolean {
  const mesh = istiod.view.meshConfig as { defaultConfig?: { discoveryAddress?: string }; serviceSettings?: { settings?: { clusterLocal?: boolean }; hosts?: string[] }[] };
  const discovery = (mesh.defaultConfig?.discoveryAddress ?? `istiod.${istiod.view.istioNamespace}.svc:15012`).split(':')[0];
  const matches = (pattern: string) => (pattern.startsWith('*') ? hostname.endsWith(pattern.slice(1)) : hostname === pattern);
  for (const s of mesh.serviceSettings ?? []) {
    if ((s.hosts ?? []).some(matches)) return Boolean(s.settings?.clusterLocal);
  }
  const defaults = ['*.kube-system.svc.cluster.local', 'kubernetes.default.svc.cluster.local', discovery.endsWith('cluster.local') ? discovery : `${discovery}.cluster.local`];
  return defaults.some(matches);
}

/**
 * The order of `localeCompare(other, 'en', { numeric: true })`, with one collator built once: that
 * call builds a collator per comparison, which made sorting the hosts of every outbound cluster on
 * each /clusters request the lab's largest cost at 10,000 pods (issue 19).
 */
const HOST_ORDER = new Intl.Collator('en', { numeric: true });
/** The default locale's order, as `a.localeCompare(b)` gives it. */
const NAME_ORDER = new Intl.Collator();

/** Sort in place by `address:port`, each key built once. */
function sortHosts(hosts: LbHost[]): LbHost[] {
  const keyed = hosts.map((h) => ({ key: `${h.address}:${h.port}`, h }));
  keyed.sort((a, b) => HOST_ORDER.compare(a.key, b.key));
  for (let i = 0; i < keyed.length; i++) hosts[i] = keyed[i].h;
  return hosts;
}

/** Every outbound cluster of a proxy. */
export function outboundClusters(istiod: IstiodView, proxyNet: string, proxyCluster?: string): readonly OutboundCluster[] {
  let byProxy = clustersMemo.get(istiod);
  if (!byProxy) clustersMemo.set(istiod, (byProxy = new Map()));
  const key = `${proxyNet}\u0000${proxyCluster ?? '\u0001'}`;
  let clusters = byProxy.get(key);
  if (!clusters) {
    const out: OutboundCluster[] = [];
    for (const service of istiod.services.values()) {
      for (const port of service.ports) out.push(outboundCluster(istiod, proxyNet, service, port, proxyCluster));
    }
    byProxy.set(key, (clusters = Object.freeze(out.sort((a, b) => NAME_ORDER.compare(a.name, b.name))) as OutboundCluster[]));
  }
  return clusters;
}

/** Counters of a proxy (created empty). */
export function statsOf(sim: MeshSim, proxyKey: string): ProxyStats {
  let stats = sim.stats.get(proxyKey);
  if (!stats) sim.stats.set(proxyKey, (stats = new Map()));
  return stats;
}

/** Counters of one host of one cluster of a proxy (created zeroed). */
export function hostStats(stats: ProxyStats, cluster: string, hostKey: string): HostStats {
  let byHost = stats.get(cluster);
  if (!byHost) stats.set(cluster, (byHost = new Map()));
  let s = byHost.get(hostKey);
  if (!s) byHost.set(hostKey, (s = { cx_active: 0, cx_connect_fail: 0, cx_total: 0, rq_active: 0, rq_error: 0, rq_success: 0, rq_timeout: 0, rq_total: 0 }));
  return s;
}

const COUNTERS = ['cx_active', 'cx_connect_fail', 'cx_total', 'rq_active', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total'] as const;

/** A host's part of /clusters: its counter lines (read at every reading) and the lines after them. */
interface HostLines {
  cluster: string;
  addr: string;
  /** `<cluster>::<addr>::`, the start of each counter line. */
  prefix: string;
  /** The lines after the counters: nothing traffic changes. */
  tail: string;
  /** The counter lines while every counter is 0, made at the first such reading. */
  zero?: string;
}

/**
 * /clusters of a list of outbound clusters without its counters: each line, newline included, in
 * chunks between the hosts' counters. Made once per list, which outboundClusters hands out once per
 * istiod view and proxy network (issue 19: rendering half a million lines per reading was the lab's
 * largest cost of a probe round at 10,000 pods); the counters are read afresh at every reading.
 */
const clustersPlans = new WeakMap<readonly OutboundCluster[], (string | HostLines)[]>();

function clustersPlan(clusters: readonly OutboundCluster[]): (string | HostLines)[] {
  const cached = clustersPlans.get(clusters);
  if (cached) return cached;
  const plan: (string | HostLines)[] = [];
  let text = '';
  const header = (name: string, eds: boolean) => {
    text += `${name}::observability_name::${name}\n`;
    for (const [prio, conn, pending, req, retries] of [
      ['default_priority', 4294967295, 4294967295, 4294967295, 4294967295],
      ['high_priority', 1024, 1024, 1024, 3],
    ] as const) {
      text += `${name}::${prio}::max_connections::${conn}\n${name}::${prio}::max_pending_requests::${pending}\n${name}::${prio}::max_requests::${req}\n${name}::${prio}::max_retries::${retries}\n`;
    }
    text += `${name}::added_via_api::true\n`;
    if (eds) text += `${name}::eds_service_name::${name}\n`;
  };
  const host = (name: string, addr: string, h: LbHost | undefined) => {
    if (text) plan.push(text);
    text = '';
    const [region = '', zone = '', subZone = ''] = (h?.locality ?? '').split('/');
    const p = `${name}::${addr}::`;
    const tail =
      `${p}hostname::\n${p}health_flags::healthy\n${p}weight::${h?.weight ?? 1}\n${p}region::${region}\n${p}zone::${zone}\n` +
      `${p}sub_zone::${subZone}\n${p}canary::false\n${p}priority::0\n${p}success_rate::-1\n${p}local_origin_success_rate::-1\n`;
    plan.push({ cluster: name, addr, prefix: p, tail });
  };
  header('BlackHoleCluster', false);
  for (const c of clusters) {
    header(c.name, !c.service.headless);
    for (const h of c.hosts) host(c.name, `${h.address}:${h.port}`, h);
  }
  header('PassthroughCluster', false);
  header('xds-grpc', false);
  host('xds-grpc', './etc/istio/proxy/XDS', undefined);
  if (text) plan.push(text);
  clustersPlans.set(clusters, plan);
  return plan;
}

function counterLines(prefix: string, s: HostStats): string {
  let out = '';
  for (const k of COUNTERS) out += `${prefix}${k}::${s[k]}\n`;
  return out;
}

/** Envoy's /clusters text for a proxy (every line ends in a newline). */
export function clustersText(clusters: readonly OutboundCluster[], stats: ProxyStats): string {
  const parts: string[] = [];
  for (const item of clustersPlan(clusters)) {
    if (typeof item === 'string') {
      parts.push(item);
      continue;
    }
    // Read (and create, zeroed) the host's counters as every reading does.
    const s = hostStats(stats, item.cluster, item.addr);
    const zero = s.cx_active === 0 && s.cx_connect_fail === 0 && s.cx_total === 0 && s.rq_active === 0 && s.rq_error === 0 && s.rq_success === 0 && s.rq_timeout === 0 && s.rq_total === 0;
    parts.push(zero ? (item.zero ??= counterLines(item.prefix, s)) : counterLines(item.prefix, s), item.tail);
  }
  return parts.join('');
}

/** Envoy's /server_info JSON for a proxy. */
export function serverInfo(sim: MeshSim, view: ClusterView, pod: KubeObject, istiod: IstiodView | undefined): string {
  const version = imageTag(proxyContainer(pod)?.image) ?? istiod?.version ?? '1.29.2';
  const uptime = Math.max(1, Math.floor((sim.mesh.clock().getTime() - sim.mesh.createdAt.getTime()) / 1000) + 7200);
  const ns = pod.metadata.namespace ?? 'default';
  const info = {
    version: `${stableHash(version).toString(16).padStart(8, '0')}0000000000000000000000000000000/1.${version.split('.')[1] ?? '29'}.0-dev/Clean/RELEASE/BoringSSL`,
    state: 'LIVE',
    hot_restart_version: 'disabled',
    command_line_options: {
      base_id: '0',
      concurrency: 2,
      config_path: 'etc/istio/proxy/envoy-rev.json',
      log_level: 'warning',
      service_cluster: '',
      service_node: '',
      drain_time: '45s',
      parent_shutdown_time: '60s',
      mode: 'Serve',
      disable_hot_restart: true,
    },
    node: {
      id: `sidecar~${pod.status?.podIP ?? ''}~${pod.metadata.name}.${ns}~${ns}.svc.cluster.local`,
      cluster: `${pod.metadata.labels?.app ?? pod.metadata.name}.${ns}`,
      metadata: {
        ISTIO_VERSION: version,
        CLUSTER_ID: view.id,
        NETWORK: proxyNetwork(view, pod),
        MESH_ID: view.meshConfig.meshId ?? istiod?.view.meshConfig.meshId ?? '',
        NAMESPACE: ns,
        NAME: pod.metadata.name,
        POD_PORTS: '[]',
      },
    },
    uptime_current_epoch: `${uptime}s`,
    uptime_all_epochs: `${uptime}s`,
  };
  return `${JSON.stringify(info, null, 2)}\n`;
}
