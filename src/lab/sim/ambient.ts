// Ambient mode in the simulation: what one istiod sends its ztunnels (workloads, services, the
// split-horizon workloads of global services on other networks), derived from the objects the way
// istiod's ambient registry derives them; ztunnel's /config_dump and istiod's /debug/ambientz
// rendered from it; and a request from an ambient pod followed through ztunnel, the waypoint and
// the peer network's istio-east-west gateway.
// Sources: istio/istio at eed52ebb (pilot/pkg/serviceregistry/ambient/*), istio/ztunnel at 62d8265.
import type { KubeObject } from '../../cluster/types.ts';
import { objectsOf, type ClusterView } from './cluster-view.ts';
import type { IstiodView, Registry } from './istiod.ts';
import type { MeshSim } from './mesh.ts';
import { workloadCertOf } from './certs.ts';
import { matchesLabelSelector, matchesSelector, podReady, stableHash } from './objects.ts';

const NETWORK_LABEL = 'topology.istio.io/network';
const DOMAIN = 'cluster.local';
/** pilot/pkg/serviceregistry/ambient/multicluster.go:727-730: hboneMtlsPort 15008 when the gateway gives none. */
const HBONE_PORT = 15008;

/** A workload as istiod's ambient registry holds it (istio.workload.Workload, the fields the lab fills). */
export interface AmbientWorkload {
  uid: string;
  name: string;
  namespace: string;
  network: string;
  clusterId: string;
  addresses: string[];
  /** `ns/hostname` of the services it serves. */
  services: string[];
  capacity: number;
  status: 'Healthy' | 'Unhealthy';
  serviceAccount: string;
  node?: string;
  networkGateway?: { network: string; address: string; hboneMtlsPort: number };
  /** The pod behind it (local workloads), or the remote pods a split-horizon workload stands for. */
  pods: { view: ClusterView; pod: KubeObject }[];
  /** HBONE for captured pods, waypoints and gateways; TCP for the others. */
  protocol: 'HBONE' | 'TCP';
  /** The remote gateway a split-horizon workload goes through. */
  gateway?: AmbientGateway;
}

/** A peer network's istio-east-west Gateway as istiod discovered it (networks.go:248-290). */
export interface AmbientGateway {
  view: ClusterView;
  clusterId: string;
  network: string;
  namespace: string;
  name: string;
  address: string;
  gateway: KubeObject;
}

/** A service as ztunnel gets it. */
export interface AmbientServiceEntry {
  name: string;
  namespace: string;
  hostname: string;
  vips: string[];
  ports: Record<string, number>;
  waypoint?: string;
  global: boolean;
}

/** What one istiod's ambient registry holds. */
export interface AmbientView {
  /** PILOT_ENABLE_AMBIENT is on: istiod serves ztunnels at all. */
  enabled: boolean;
  /** AMBIENT_ENABLE_MULTI_NETWORK is on (and ambient): other networks' workloads are sent. */
  multiNetwork: boolean;
  workloads: AmbientWorkload[];
  services: AmbientServiceEntry[];
  gateways: AmbientGateway[];
  /** Networks a GLOBAL Service has ready peer endpoints on but no usable gateway: istiod logs "No network gateway found for network" for each (multicluster.go:358). */
  noGatewayNetworks: string[];
}

function discoveryEnv(view: ClusterView, name: string): string | undefined {
  for (const pod of view.istiodPods) {
    const c = (pod.spec?.containers ?? []).find((x: { name: string }) => x.name === 'discovery');
    const v = (c?.env ?? []).find((e: { name: string; value?: string }) => e.name === name)?.value;
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Whether a pod is captured by ztunnel: istio-cni's redirection annotation (pkg/config/constants/constants.go:201-208), no sidecar. */
export function isAmbientPod(pod: KubeObject): boolean {
  return pod.metadata.annotations?.['ambient.istio.io/redirection'] === 'enabled' && pod.metadata.annotations?.['sidecar.istio.io/status'] === undefined;
}

/** `serviceScopeConfigs` of the istiod's own mesh config (only the local cluster's rules count: services.go:338-383). */
function scopeOf(istiod: ClusterView, reg: ClusterView, svc: KubeObject): boolean {
  const rules = (istiod.meshConfig.serviceScopeConfigs ?? []) as { namespaceSelector?: object; servicesSelector?: object; scope?: string }[];
  const nsLabels = reg.namespaces.get(svc.metadata.namespace ?? '')?.metadata.labels ?? {};
  const empty = (s: unknown) => !s || Object.keys(s as object).length === 0;
  return rules.some(
    (r) =>
      r.scope === 'GLOBAL' &&
      (empty(r.namespaceSelector) || matchesLabelSelector(r.namespaceSelector as never, nsLabels)) &&
      (empty(r.servicesSelector) || matchesLabelSelector(r.servicesSelector as never, svc.metadata.labels ?? {})),
  );
}

/**
 * A registry's istio-east-west Gateways that istiod in another cluster takes as its network's
 * gateway (remoteK8sGatewayToNetworkGateways, networks.go:248-290): network label, class
 * istio-east-west, status.addresses of type IPAddress or Hostname, an HBONE listener with TLS Terminate.
 */
function eastWestGatewaysOf(reg: Registry): AmbientGateway[] {
  const out: AmbientGateway[] = [];
  for (const gw of objectsOf(reg.view, 'k8sgateways')) {
    const network = gw.metadata.labels?.[NETWORK_LABEL];
    if (!network || gw.spec?.gatewayClassName !== 'istio-east-west') continue;
    const hbone = ((gw.spec?.listeners ?? []) as { protocol?: string; tls?: { mode?: string } }[]).some((l) => l.protocol === 'HBONE' && l.tls?.mode === 'Terminate');
    const address = ((gw.status?.addresses ?? []) as { type?: string; value?: string }[]).find((a) => a.value && (a.type === 'IPAddress' || a.type === 'Hostname'))?.value;
    if (!hbone || !address) continue;
    out.push({ view: reg.view, clusterId: reg.id, network, namespace: gw.metadata.namespace ?? '', name: gw.metadata.name, address, gateway: gw });
  }
  return out;
}

function selectedPods(view: ClusterView, svc: KubeObject): KubeObject[] {
  return [...view.pods.values()].filter((p) => p.metadata.namespace === svc.metadata.namespace && svc.spec?.selector && matchesSelector(svc.spec.selector, p.metadata.labels));
}

function hostOf(svc: KubeObject): string {
  return `${svc.metadata.name}.${svc.metadata.namespace}.svc.${DOMAIN}`;
}

function waypointOf(view: ClusterView, svc: KubeObject): string | undefined {
  const name = svc.metadata.labels?.['istio.io/use-waypoint'] ?? view.namespaces.get(svc.metadata.namespace ?? '')?.metadata.labels?.['istio.io/use-waypoint'];
  if (!name || name === 'none') return undefined;
  return `${svc.metadata.namespace}/${name}`;
}

/**
 * The ambient registry of an istiod: its own cluster's ambient pods and services; with
 * AMBIENT_ENABLE_MULTI_NETWORK, for each Service GLOBAL here whose copy in a synced peer on another
 * network is GLOBAL too (a remote service that is not is skipped) and has ready ambient endpoints,
 * one split-horizon workload through that network's first usable istio-east-west Gateway
 * (multicluster.go:318-370; "No network gateway found for network" when there is none, "Multiple
 * gateways found" keeps the first), and one NetworkGateway workload per gateway.
 */
export function buildAmbientView(istiod: IstiodView): AmbientView {
  const view = istiod.view;
  const enabled = discoveryEnv(view, 'PILOT_ENABLE_AMBIENT') === 'true';
  // registerAmbient ignores the multi-network flag without PILOT_ENABLE_AMBIENT (pilot/pkg/features/ambient.go).
  const multiNetwork = enabled && discoveryEnv(view, 'AMBIENT_ENABLE_MULTI_NETWORK') === 'true';
  const out: AmbientView = { enabled, multiNetwork, workloads: [], services: [], gateways: [], noGatewayNetworks: [] };
  if (!enabled) return out;
  const local = istiod.registries[0];
  const network = view.network;
  const services = objectsOf(view, 'services');
  const servicesOfPod = (pod: KubeObject) => services.filter((s) => s.metadata.namespace === pod.metadata.namespace && s.spec?.selector && matchesSelector(s.spec.selector, pod.metadata.labels)).map((s) => `${s.metadata.namespace}/${hostOf(s)}`);
  // Every pod is a workload of the ambient index (ztunnel must know non-mesh destinations too); only
  // captured ones speak HBONE.
  for (const pod of view.pods.values()) {
    if (!pod.status?.podIP || pod.spec?.hostNetwork) continue;
    out.workloads.push({
      protocol: isAmbientPod(pod) ? 'HBONE' : 'TCP',
      uid: `${local.id}//Pod/${pod.metadata.namespace}/${pod.metadata.name}`,
      name: pod.metadata.name,
      namespace: pod.metadata.namespace ?? '',
      network,
      clusterId: local.id,
      addresses: [pod.status.podIP],
      services: servicesOfPod(pod),
      capacity: 1,
      status: podReady(pod) ? 'Healthy' : 'Unhealthy',
      serviceAccount: pod.spec?.serviceAccountName ?? 'default',
      node: pod.spec?.nodeName,
      pods: [{ view, pod }],
    });
  }
  for (const svc of services) {
    const waypoint = waypointOf(view, svc);
    out.services.push({
      name: svc.metadata.name,
      namespace: svc.metadata.namespace ?? '',
      hostname: hostOf(svc),
      vips: svc.spec?.clusterIP && svc.spec.clusterIP !== 'None' ? [`${network}/${svc.spec.clusterIP}`] : [],
      ports: Object.fromEntries(((svc.spec?.ports ?? []) as { port: number; targetPort?: number }[]).map((p) => [String(p.port), typeof p.targetPort === 'number' ? p.targetPort : p.port])),
      ...(waypoint ? { waypoint } : {}),
      global: scopeOf(view, view, svc),
    });
  }
  if (!multiNetwork) return out;
  const peers = istiod.registries.slice(1).filter((r) => r.syncStatus === 'synced' && r.view.network && r.view.network !== network);
  for (const reg of peers) out.gateways.push(...eastWestGatewaysOf(reg));
  for (const gw of out.gateways) {
    const uid = `NetworkGateway/${gw.network}/${gw.address}/${HBONE_PORT}`;
    out.workloads.push({ protocol: 'HBONE', uid, name: uid, namespace: gw.namespace, network: gw.network, clusterId: gw.clusterId, addresses: [], services: [], capacity: 1, status: 'Healthy', serviceAccount: gw.name, networkGateway: { network: gw.network, address: gw.address, hboneMtlsPort: HBONE_PORT }, pods: [], gateway: gw });
  }
  for (const entry of out.services.filter((s) => s.global)) {
    for (const reg of peers) {
      const remote = objectsOf(reg.view, 'services').find((s) => s.metadata.name === entry.name && s.metadata.namespace === entry.namespace);
      // "Skipping non-global service ... in remote cluster": the remote copy is judged by this istiod's rules.
      if (!remote || !scopeOf(view, reg.view, remote)) continue;
      const ready = selectedPods(reg.view, remote).filter((p) => podReady(p) && p.status?.podIP);
      if (ready.length === 0) continue;
      const gw = out.gateways.find((g) => g.network === reg.view.network);
      if (!gw) {
        out.noGatewayNetworks.push(reg.view.network!);
        continue;
      }
      const host = `${entry.namespace}/${entry.hostname}`;
      const uid = `${gw.network}/SplitHorizonWorkload/${gw.namespace}/${gw.name}/${gw.address}/${host}`;
      const existing = out.workloads.find((w) => w.uid === uid);
      if (existing) {
        existing.capacity += ready.length;
        existing.pods.push(...ready.map((pod) => ({ view: reg.view, pod })));
        continue;
      }
      out.workloads.push({
        protocol: 'HBONE',
        uid,
        name: uid,
        namespace: entry.namespace,
        network: gw.network,
        clusterId: reg.id,
        addresses: [],
        services: [host],
        capacity: ready.length,
        status: 'Healthy',
        serviceAccount: '',
        networkGateway: { network: gw.network, address: gw.address, hboneMtlsPort: HBONE_PORT },
        pods: ready.map((pod) => ({ view: reg.view, pod })),
        gateway: gw,
      });
    }
  }
  return out;
}

/** Whether istiod accepts this ztunnel: its ISTIO_META_CLUSTER_ID is the local id or a remote it knows (kube_jwt.go "client claims to be in cluster"). */
export function ztunnelAccepted(istiod: IstiodView, ztunnel: KubeObject): boolean {
  const env = (ztunnel.spec?.containers ?? []).find((c: { name: string }) => c.name === 'istio-proxy')?.env ?? [];
  const id = (env as { name: string; value?: string }[]).find((e) => e.name === 'ISTIO_META_CLUSTER_ID')?.value ?? '';
  return id === '' || istiod.registries.some((r) => r.id === id);
}

/** The ztunnel pod serving a node. */
export function ztunnelOnNode(view: ClusterView, node: string | undefined): KubeObject | undefined {
  return [...view.pods.values()].find((p) => p.metadata.labels?.app === 'ztunnel' && p.spec?.nodeName === node);
}

/** ztunnel's /config_dump (src/admin.rs:62-89, src/state.rs:185-230; camelCase, defaults left out). */
export async function ztunnelConfigDump(sim: MeshSim, view: ClusterView, ztunnel: KubeObject): Promise<string> {
  const istiod = sim.controlPlaneOf(view.name);
  const accepted = istiod && istiod.ready && ztunnelAccepted(istiod, ztunnel);
  const ambient = accepted ? ambientViewOf(sim, istiod) : undefined;
  const workloads = (ambient?.workloads ?? []).map((w) => ({
    uid: w.uid,
    workloadIps: w.addresses,
    protocol: w.protocol,
    networkMode: 'Standard',
    name: w.name,
    namespace: w.namespace,
    ...(w.serviceAccount ? { serviceAccount: w.serviceAccount } : {}),
    ...(w.network ? { network: w.network } : {}),
    ...(w.node ? { node: w.node } : {}),
    ...(w.networkGateway ? { networkGateway: { destination: `${w.networkGateway.network}/${w.networkGateway.address}`, hboneMtlsPort: w.networkGateway.hboneMtlsPort } } : {}),
    status: w.status,
    clusterId: w.clusterId,
    capacity: w.capacity,
    services: w.services,
  }));
  const services = (ambient?.services ?? []).map((s) => ({
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    vips: s.vips,
    ports: s.ports,
    endpoints: Object.fromEntries(
      (ambient?.workloads ?? []).filter((w) => w.services.includes(`${s.namespace}/${s.hostname}`)).map((w) => [w.uid, { workloadUid: w.uid, service: '', port: s.ports, status: w.status }]),
    ),
    subjectAltNames: [],
    ...(s.waypoint ? { waypoint: { destination: `${view.network}/${s.waypoint}`, hboneMtlsPort: HBONE_PORT } } : {}),
    ipFamilies: 'IPv4',
  }));
  const node = ztunnel.spec?.nodeName;
  // One certificate per identity of the node's captured pods, as its istiod's CA issued it
  // (istio/ztunnel src/admin.rs CertsDump: identity, state, certChain leaf first, rootCerts).
  const certificates: { identity: string; state: string; certChain: { pem: string }[]; rootCerts: { pem: string }[] }[] = [];
  if (accepted) {
    for (const p of [...view.pods.values()].filter((pod) => isAmbientPod(pod) && pod.spec?.nodeName === node)) {
      const identity = `spiffe://${istiod!.trustDomain}/ns/${p.metadata.namespace}/sa/${p.spec?.serviceAccountName ?? 'default'}`;
      if (certificates.some((c) => c.identity === identity)) continue;
      const wc = await workloadCertOf(sim, view, p);
      // ztunnel trusts the root its CA client got with the certificate (the signing CA's, as a sidecar's ROOTCA).
      certificates.push({ identity, state: 'Available', certChain: [wc.leaf.certPem, ...wc.chainPems].map((pem) => ({ pem })), rootCerts: [{ pem: wc.rootPem }] });
    }
  }
  const version = (ztunnel.spec?.containers?.[0]?.image ?? '').split(':').pop() ?? '';
  return `${JSON.stringify({ workloads, services, policies: [], stagedServices: {}, certificates, version: { version, gitRevision: '', rustVersion: '1.89.0', buildProfile: 'release', buildStatus: 'Clean' }, config: { clusterId: '', network: view.network } }, null, 2)}\n`;
}

/** istiod's /debug/ambientz (pilot/pkg/xds/debug.go:1036-1100): protobuf JSON, address bytes as base64 of the IP's text. */
export function ambientzJson(istiod: IstiodView, sim: MeshSim): unknown {
  const ambient = ambientViewOf(sim, istiod);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return {
    workloads: ambient.workloads.map((w) => ({
      uid: w.uid,
      name: w.name,
      namespace: w.namespace,
      ...(w.addresses.length ? { addresses: w.addresses.map(b64) } : {}),
      ...(w.serviceAccount ? { serviceAccount: w.serviceAccount } : {}),
      ...(w.network ? { network: w.network } : {}),
      tunnelProtocol: 'HBONE',
      ...(w.node ? { node: w.node } : {}),
      clusterId: w.clusterId,
      ...(w.networkGateway ? { networkGateway: { address: { network: w.networkGateway.network, address: b64(w.networkGateway.address) }, hboneMtlsPort: w.networkGateway.hboneMtlsPort } } : {}),
      services: Object.fromEntries(w.services.map((s) => [s, { ports: [] }])),
      capacity: w.capacity,
    })),
    services: ambient.services.map((s) => ({ name: s.name, namespace: s.namespace, hostname: s.hostname, addresses: s.vips.map((v) => ({ network: v.split('/')[0], address: b64(v.split('/')[1]) })), ports: Object.entries(s.ports).map(([p, t]) => ({ servicePort: Number(p), targetPort: t })) })),
    policies: [],
  };
}

const cache = new WeakMap<IstiodView, AmbientView>();

/** The ambient registry of an istiod (computed once per simulation). */
export function ambientViewOf(_sim: MeshSim, istiod: IstiodView): AmbientView {
  let v = cache.get(istiod);
  if (!v) cache.set(istiod, (v = buildAmbientView(istiod)));
  return v;
}

/** Where an ambient pod's request to a Service ends, as ztunnel routes it. */
export type AmbientHop =
  | { kind: 'served'; view: ClusterView; pod: KubeObject; ms: number }
  /** ztunnel has no configuration or certificate (istiod refused it): it resets the connection. */
  | { kind: 'reset' }
  /** No workload to send to (e.g. waypoint down, no endpoint): the connection is refused/reset. */
  | { kind: 'refused' }
  /** The packets go nowhere before the client's deadline. */
  | { kind: 'timeout' };

/**
 * An ambient pod's request to a Service VIP: its node's ztunnel picks (round robin, weighted by
 * capacity) among the Service's workloads it knows, local ones and split-horizon ones of other
 * networks; a Service with a waypoint goes through this cluster's waypoint first, which needs a
 * ready pod. A split-horizon pick goes to the peer gateway on 15008 (pods ready, mTLS trust), which
 * hands it to one of the peer's endpoints. Returns undefined when the VIP is no ambient Service.
 */
export function ambientRoute(sim: MeshSim, view: ClusterView, client: KubeObject, serviceIP: string, port: number): AmbientHop | undefined {
  const istiod = sim.controlPlaneOf(view.name);
  if (!istiod) return undefined;
  const ambient = ambientViewOf(sim, istiod);
  const entry = ambient.services.find((s) => s.vips.some((v) => v.endsWith(`/${serviceIP}`)));
  if (!entry || !(String(port) in entry.ports)) return undefined;
  const ztunnel = ztunnelOnNode(view, client.spec?.nodeName);
  if (!ambient.enabled || !ztunnel || !podReady(ztunnel) || !ztunnelAccepted(istiod, ztunnel)) return { kind: 'reset' };
  if (entry.waypoint) {
    const [ns, name] = entry.waypoint.split('/');
    const waypointPods = [...view.pods.values()].filter((p) => p.metadata.namespace === ns && p.metadata.labels?.['gateway.networking.k8s.io/gateway-name'] === name);
    if (!waypointPods.some(podReady)) return { kind: 'refused' };
  }
  const host = `${entry.namespace}/${entry.hostname}`;
  const candidates = ambient.workloads.filter((w) => w.services.includes(host) && w.status === 'Healthy' && (w.pods.length > 0));
  if (candidates.length === 0) return { kind: 'refused' };
  const key = `${view.name}/${client.metadata.namespace}/${client.metadata.name}|ztunnel|${host}`;
  const turn = sim.roundRobin.get(key) ?? 0;
  sim.roundRobin.set(key, turn + 1);
  // Capacity-weighted round robin, deterministic.
  const slots = candidates.flatMap((w) => Array.from({ length: Math.max(1, w.capacity) }, () => w));
  const picked = slots[turn % slots.length];
  if (!picked.gateway) {
    const { pod } = picked.pods[0];
    return { kind: 'served', view, pod, ms: 2 + (stableHash(pod.metadata.name) % 3) };
  }
  const gw = picked.gateway;
  const gwPods = [...gw.view.pods.values()].filter((p) => p.metadata.namespace === gw.namespace && p.metadata.labels?.['gateway.networking.k8s.io/gateway-name'] === gw.name);
  if (!gwPods.some(podReady)) return { kind: 'timeout' };
  const target = picked.pods[turn % picked.pods.length];
  return { kind: 'served', view: target.view, pod: target.pod, ms: 20 + (stableHash(target.pod.metadata.name) % 5) };
}
