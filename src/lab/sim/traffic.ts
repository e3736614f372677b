// Traffic from a pod, followed hop by hop the way the packets would go: DNS (kube-dns, or Istio's
// DNS proxy when capture is on), the client sidecar's load balancing, then the path to the chosen
// endpoint (pod network, east-west gateway, firewall, NetworkPolicy, Gateway config, mTLS trust).
import type { KubeObject } from '../../cluster/types.ts';
import { objectsOf, type ClusterView } from './cluster-view.ts';
import { hostStats, outboundCluster, proxyNetwork, statsOf, type LbHost } from './envoy.ts';
import { gatewayAddresses, type SimEndpoint } from './istiod.ts';
import type { MeshSim } from './mesh.ts';
import { ambientRoute, isAmbientPod } from './ambient.ts';
import { hasSidecar, isIPv4, matchesLabelSelector, matchesSelector, podReady, proxyContainer, stableHash } from './objects.ts';

/** Where traffic starts: a container of a pod, through its sidecar or not (istio-proxy is uid 1337: bypassed). */
export interface Client {
  sim: MeshSim;
  view: ClusterView;
  pod: KubeObject;
  viaSidecar: boolean;
}

/** A name resolved by DNS. */
export interface Resolved {
  addresses: string[];
  /** The canonical name (the Service FQDN when it is one). */
  fqdn: string;
  /** Service FQDN the name stands for, when it is a Service. */
  serviceHost?: string;
}

/** What came back to the client. */
export type Outcome =
  | { kind: 'response'; status: number; body: string; headers: Record<string, string>; ms: number }
  /** Nothing came back before the client's deadline. */
  | { kind: 'timeout' }
  /** The TCP connection was refused. */
  | { kind: 'refused' }
  /** The TCP connection was established (TCP tests). */
  | { kind: 'connected'; ms: number }
  /** The connection was accepted, then reset (ztunnel without configuration, or nowhere to send it). */
  | { kind: 'reset' };

const DOMAIN = 'cluster.local';
/** Envoy's connect timeout as Istio configures it (10 s): past it Envoy answers 503 itself. */
const ENVOY_CONNECT_TIMEOUT_S = 10;

const REASON_TERMINATION = 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';
const REASON_REFUSED = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111';
const REASON_TLS =
  'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED';
const REASON_CONNECT_TIMEOUT = 'upstream connect error or disconnect/reset before headers. reset reason: connection timeout';

/** Whether DNS capture (Istio's DNS proxy) is on for a pod. */
export function dnsCaptureOn(client: Client): boolean {
  if (!client.viaSidecar || !hasSidecar(client.pod)) return false;
  const env = proxyContainer(client.pod)?.env?.find((e) => e.name === 'ISTIO_META_DNS_CAPTURE')?.value;
  if (env !== undefined) return env === 'true';
  const annotation = client.pod.metadata.annotations?.['proxy.istio.io/config'] ?? '';
  const fromAnnotation = /ISTIO_META_DNS_CAPTURE['"]?\s*:\s*['"]?(true|false)/.exec(annotation)?.[1];
  if (fromAnnotation) return fromAnnotation === 'true';
  const meta = client.sim.controlPlaneOf(client.view.name)?.view.meshConfig.defaultConfig?.proxyMetadata ?? client.view.meshConfig.defaultConfig?.proxyMetadata;
  return meta?.ISTIO_META_DNS_CAPTURE === 'true';
}

/** The kube-dns address of a cluster (what /etc/resolv.conf names). */
export function nameserverOf(view: ClusterView): string {
  const dns = objectsOf(view, 'services').find((s) => s.metadata.namespace === 'kube-system' && (s.metadata.name === 'kube-dns' || s.metadata.labels?.['k8s-app'] === 'kube-dns'));
  return dns?.spec?.clusterIP ?? '10.96.0.10';
}

/** Resolve a name in the client pod (search path `<ns>.svc.cluster.local svc.cluster.local cluster.local`). */
export function resolveName(client: Client, rawName: string): Resolved | undefined {
  const name = rawName.replace(/\.$/, '').toLowerCase();
  if (isIPv4(name)) return { addresses: [name], fqdn: name };
  if (name === 'localhost') return { addresses: ['127.0.0.1'], fqdn: 'localhost' };
  if (name === client.pod.metadata.name) return { addresses: [client.pod.status?.podIP ?? '127.0.0.1'], fqdn: name };
  const ns = client.pod.metadata.namespace ?? 'default';
  const candidates = rawName.endsWith('.') ? [name] : [`${name}.${ns}.svc.${DOMAIN}`, `${name}.svc.${DOMAIN}`, `${name}.${DOMAIN}`, name];
  const istiod = dnsCaptureOn(client) ? client.sim.controlPlaneOf(client.view.name) : undefined;
  for (const fqdn of candidates) {
    const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(fqdn);
    if (!m) continue;
    const local = objectsOf(client.view, 'services').find((s) => s.metadata.name === m[1] && s.metadata.namespace === m[2]);
    if (local) {
      const addresses = local.spec?.clusterIP === 'None' ? readyPodsOf(client.view, local).map((p) => p.status?.podIP as string) : [local.spec?.clusterIP as string];
      if (addresses.length && addresses[0]) return { addresses, fqdn, serviceHost: fqdn };
      continue;
    }
    const known = istiod?.services.get(fqdn);
    if (known) {
      // Istio's DNS proxy answers with the service's VIP (for headless: the endpoint addresses).
      const addresses = known.headless ? known.endpoints.map((e) => e.address) : [known.instances[0].svc.spec?.clusterIP as string];
      if (addresses.length && addresses[0]) return { addresses: [...new Set(addresses)], fqdn, serviceHost: fqdn };
    }
  }
  return undefined;
}

function readyPodsOf(view: ClusterView, svc: KubeObject): KubeObject[] {
  return [...view.pods.values()].filter(
    (p) => p.metadata.namespace === svc.metadata.namespace && matchesSelector(svc.spec?.selector, p.metadata.labels) && podReady(p) && p.status?.podIP,
  );
}

/** The next index of a round robin (deterministic per key). */
function nextIndex(sim: MeshSim, key: string, size: number): number {
  const i = sim.roundRobin.get(key) ?? 0;
  sim.roundRobin.set(key, i + 1);
  return i % size;
}

/** Envoy's weight of a host as istiod sent it (a remote network's gateway weighs the endpoints behind it). */
function hostWeight(host: { weight: number }): number {
  return Math.max(1, host.weight);
}

/**
 * Smooth weighted round robin (deterministic, interleaved): equal weights alternate exactly, and a
 * gateway standing for 100 remote pods gets its share of requests spread among the local hosts,
 * as Envoy's weighted load balancing does, rather than one turn in 101.
 */
function nextWeightedIndex(sim: MeshSim, key: string, weights: number[]): number {
  let current = sim.weightedRoundRobin.get(key);
  if (!current || current.length !== weights.length) {
    current = weights.map(() => 0);
    sim.weightedRoundRobin.set(key, current);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  let best = 0;
  for (let i = 0; i < weights.length; i++) {
    current[i] += weights[i];
    if (current[i] > current[best]) best = i;
  }
  current[best] -= total;
  return best;
}

function proxyKey(client: Client): string {
  return `${client.view.name}/${client.pod.metadata.namespace}/${client.pod.metadata.name}`;
}

/** An HTTP request from the client to `ip:port` (named `resolved`), with the client's deadline. */
export function httpRequest(client: Client, resolved: Resolved, port: number, path: string, maxTimeS: number | undefined): Outcome {
  const { sim } = client;
  const istiod = client.viaSidecar && hasSidecar(client.pod) ? sim.controlPlaneOf(client.view.name) : undefined;
  const service = istiod && resolved.serviceHost ? istiod.services.get(resolved.serviceHost) : undefined;
  const servicePort = service?.ports.find((p) => p.port === port);
  if (istiod && service && servicePort && !service.headless) {
    const cluster = outboundCluster(istiod, proxyNetwork(client.view, client.pod), service, servicePort, client.view.id);
    if (cluster.hosts.length === 0) return envoyReply(503, 'no healthy upstream');
    const host = cluster.hosts[nextWeightedIndex(sim, `${proxyKey(client)}|${cluster.name}`, cluster.hosts.map(hostWeight))];
    const stats = hostStats(statsOf(sim, proxyKey(client)), cluster.name, `${host.address}:${host.port}`);
    const ep = host.kind === 'gateway' ? host.endpoints[nextIndex(sim, `${host.address}:${host.port}|${cluster.name}`, host.endpoints.length)] : host.endpoints[0];
    const result = throughEnvoy(client, host, ep, path, maxTimeS);
    stats.rq_total++;
    if (stats.cx_total === 0 || result.kind !== 'response' || result.status >= 500) stats.cx_total++;
    if (result.kind === 'response' && result.status < 500) stats.rq_success++;
    else {
      stats.rq_error++;
      if (result.kind === 'timeout') stats.rq_timeout++;
      if (result.kind !== 'response' || result.body !== REASON_TERMINATION) stats.cx_connect_fail++;
    }
    return result;
  }
  // An ambient pod: its node's ztunnel captures the connection (no sidecar; the application container's own curl).
  if (client.viaSidecar && isAmbientPod(client.pod)) {
    const hop = ambientRoute(sim, client.view, client.pod, resolved.addresses[0], port);
    if (hop) {
      if (hop.kind === 'served') {
        if (hop.view !== client.view && !mtlsVerifies(sim, client.view, hop.view)) return { kind: 'reset' };
        return serve(hop.pod, path, hop.ms);
      }
      return hop.kind === 'refused' ? { kind: 'reset' } : hop;
    }
  }
  return direct(client, resolved.addresses[0], port, path);
}

function envoyReply(status: number, body: string): Outcome {
  return { kind: 'response', status, body, headers: { 'content-length': String(body.length), 'content-type': 'text/plain', server: 'envoy' }, ms: 1 };
}

/** Envoy has picked `host` (and, behind a gateway, the remote gateway picks `ep`): follow the path. Pure (the lab Prometheus replays paths with it). */
export function throughEnvoy(client: Client, host: LbHost, ep: SimEndpoint, path: string, maxTimeS: number | undefined): Outcome {
  const connectTimeout = (): Outcome => (maxTimeS !== undefined && maxTimeS <= ENVOY_CONNECT_TIMEOUT_S ? { kind: 'timeout' } : envoyReply(503, REASON_CONNECT_TIMEOUT));
  const { sim } = client;
  if (host.kind === 'endpoint') {
    if (ep.view !== client.view && ep.view.physicalNetwork !== client.view.physicalNetwork) return connectTimeout();
    if (ep.view !== client.view && ep.tlsMode === 'istio' && !mtlsVerifies(sim, client.view, ep.view)) return envoyReply(503, REASON_TLS);
    return ep.pod ? serve(ep.pod, path, ep.view === client.view ? 2 : 6) : envoyReply(503, REASON_REFUSED);
  }
  const gw = host.gateway;
  const gwView = gw?.view;
  const gwSvc = gw?.service;
  if (!gwView || !gwSvc) return connectTimeout();
  const gwPods = readyOrNotPods(gwView, gwSvc);
  if (sim.hasFault('eastwest-firewall', gwView.name) && gwView.physicalNetwork !== client.view.physicalNetwork) return connectTimeout();
  if (policyBlocks(gwView, gwPods, host.port)) return connectTimeout();
  if (!gwPods.some(podReady)) return envoyReply(503, REASON_REFUSED);
  const server = crossNetworkServer(sim, gwView, gwPods);
  if (server === 'none') return envoyReply(503, REASON_REFUSED);
  if (server === 'terminates') return envoyReply(503, REASON_TERMINATION);
  if (!mtlsVerifies(sim, client.view, ep.view)) return envoyReply(503, REASON_TLS);
  if (ep.tlsMode !== 'istio' || !ep.pod) return envoyReply(503, REASON_TERMINATION);
  return serve(ep.pod, path, 20);
}

function readyOrNotPods(view: ClusterView, svc: KubeObject): KubeObject[] {
  return [...view.pods.values()].filter((p) => p.metadata.namespace === svc.metadata.namespace && matchesSelector(svc.spec?.selector, p.metadata.labels));
}

/**
 * How the gateway pods treat 15443 traffic: `passthrough` (an AUTO_PASSTHROUGH
 * server for `*.local` or `*`), `terminates` (another TLS mode, or hosts not covering it), or `none`
 * (no Gateway selects the pods on 15443: nothing listens there). Gateways are read from the
 * gateway's cluster and from its control plane's cluster (the config cluster in primary-remote).
 */
function crossNetworkServer(sim: MeshSim, gwView: ClusterView, gwPods: KubeObject[]): 'passthrough' | 'terminates' | 'none' {
  const controlPlane = sim.controlPlaneOf(gwView.name);
  const configViews = new Set([gwView, controlPlane?.view ?? gwView, controlPlane?.configView ?? gwView]);
  let found: 'terminates' | 'none' = 'none';
  for (const view of configViews) {
    for (const gw of objectsOf(view, 'gateways')) {
      if (!gwPods.some((p) => matchesSelector(gw.spec?.selector, p.metadata.labels))) continue;
      for (const server of (gw.spec?.servers ?? []) as { port?: { number?: number }; tls?: { mode?: string }; hosts?: string[] }[]) {
        if (server.port?.number !== 15443) continue;
        const coversLocal = (server.hosts ?? []).some((h) => h === '*' || h === '*.local' || h.endsWith('/*') || h.endsWith('/*.local') || h === `*.${DOMAIN}`);
        if (server.tls?.mode === 'AUTO_PASSTHROUGH' && coversLocal) return 'passthrough';
        found = 'terminates';
      }
    }
  }
  return found;
}

/** Whether NetworkPolicies selecting these pods deny ingress on `port` from outside the cluster. */
export function policyBlocks(view: ClusterView, pods: KubeObject[], port: number): boolean {
  const policies = objectsOf(view, 'networkpolicies').filter((np) => {
    const types: string[] = np.spec?.policyTypes ?? ['Ingress'];
    return types.includes('Ingress') && pods.some((p) => p.metadata.namespace === np.metadata.namespace && matchesLabelSelector(np.spec?.podSelector, p.metadata.labels));
  });
  if (policies.length === 0) return false;
  const allows = (rule: { ports?: { port?: number | string }[]; from?: { ipBlock?: unknown }[] }) => {
    const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((p) => p.port === undefined || Number(p.port) === port);
    const fromOk = !rule.from || rule.from.length === 0 || rule.from.some((f) => f.ipBlock !== undefined);
    return portOk && fromOk;
  };
  return !policies.some((np) => ((np.spec?.ingress ?? []) as Parameters<typeof allows>[0][]).some(allows));
}

/**
 * Whether an mTLS handshake from a workload of cluster `client` to one of cluster `server` verifies:
 * both control planes' CAs share a root, and the server's SPIFFE trust domain is the client's own or
 * one of its `trustDomainAliases` (Envoy checks the SAN it expects).
 */
export function mtlsVerifies(sim: MeshSim, client: ClusterView, server: ClusterView): boolean {
  const caOf = (v: ClusterView) => sim.controlPlaneOf(v.name)?.view ?? v;
  const rootOf = (v: ClusterView) => (v.rootPem ? v.rootPem.replace(/\s+/g, '') : `self-signed:${v.name}`);
  const clientCa = caOf(client);
  const serverCa = caOf(server);
  if (rootOf(clientCa) !== rootOf(serverCa)) return false;
  const trusted = [clientCa.meshConfig.trustDomain || 'cluster.local', ...((clientCa.meshConfig.trustDomainAliases as string[] | undefined) ?? [])];
  return trusted.includes(serverCa.meshConfig.trustDomain || 'cluster.local');
}

/** Traffic that does not go through the client's sidecar: kube-proxy and the pod network only. */
function direct(client: Client, ip: string, port: number, path: string): Outcome {
  const { view } = client;
  const svc = objectsOf(view, 'services').find((s) => s.spec?.clusterIP === ip);
  if (svc) {
    if (!((svc.spec?.ports ?? []) as { port: number }[]).some((p) => p.port === port)) return { kind: 'timeout' };
    const pods = readyPodsOf(view, svc);
    if (pods.length === 0) return { kind: 'refused' };
    return serve(pods[nextIndex(client.sim, `${proxyKey(client)}|kube-proxy|${ip}:${port}`, pods.length)], path, 2);
  }
  for (const other of client.sim.views.values()) {
    const pod = [...other.pods.values()].find((p) => p.status?.podIP === ip);
    if (!pod) continue;
    if (other !== view && other.physicalNetwork !== view.physicalNetwork) return { kind: 'timeout' };
    return serve(pod, path, other === view ? 1 : 3);
  }
  return { kind: 'timeout' };
}

/** The application's answer (Istio's helloworld sample answers /hello with its version and pod name). */
function serve(pod: KubeObject, path: string, baseMs: number): Outcome {
  const labels = pod.metadata.labels ?? {};
  const ms = baseMs + (stableHash(`${pod.metadata.name}${path}`) % 3);
  const headers = (body: string, type: string) => ({ 'content-type': type, 'content-length': String(body.length), server: 'envoy', 'x-envoy-upstream-service-time': String(ms) });
  const helloImage = (pod.spec?.containers ?? []).map((c: { image?: string }) => c.image ?? '').find((i: string) => i.includes('examples-helloworld'));
  if (labels.app === 'helloworld' || helloImage) {
    if (path.split('?')[0] !== '/hello') {
      const body = '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n';
      return { kind: 'response', status: 404, body, headers: headers(body, 'text/html; charset=utf-8'), ms };
    }
    const version = labels.version ?? /helloworld-(v\d+)/.exec(helloImage ?? '')?.[1] ?? 'v1';
    const body = `Hello version: ${version}, instance: ${pod.metadata.name}\n`;
    return { kind: 'response', status: 200, body, headers: headers(body, 'text/html; charset=utf-8'), ms };
  }
  const body = `${pod.metadata.name}\n`;
  return { kind: 'response', status: 200, body, headers: headers(body, 'text/plain'), ms };
}

/** A TCP connect from the client to `ip:port` (curl telnet://). */
export function tcpConnect(client: Client, ip: string, port: number): Outcome {
  const { sim, view } = client;
  for (const other of sim.views.values()) {
    for (const svc of objectsOf(other, 'services')) {
      for (const p of (svc.spec?.ports ?? []) as { port: number; nodePort?: number }[]) {
        const match = gatewayAddresses(other, svc, p).some((a) => a.addr === ip && a.port === port);
        if (!match) continue;
        const pods = readyOrNotPods(other, svc);
        if (sim.hasFault('eastwest-firewall', other.name) && other.physicalNetwork !== view.physicalNetwork && p.port === 15443) return { kind: 'timeout' };
        if (policyBlocks(other, pods, p.port)) return { kind: 'timeout' };
        if (!pods.some(podReady)) return { kind: 'refused' };
        return { kind: 'connected', ms: other === view ? 1 : 12 };
      }
    }
  }
  const local = objectsOf(view, 'services').find((s) => s.spec?.clusterIP === ip);
  if (local) return ((local.spec?.ports ?? []) as { port: number }[]).some((p) => p.port === port) ? { kind: 'connected', ms: 1 } : { kind: 'refused' };
  for (const other of sim.views.values()) {
    const pod = [...other.pods.values()].find((p) => p.status?.podIP === ip);
    if (pod) return other === view || other.physicalNetwork === view.physicalNetwork ? { kind: 'connected', ms: 1 } : { kind: 'timeout' };
  }
  return { kind: 'timeout' };
}
