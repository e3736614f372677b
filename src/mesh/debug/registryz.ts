// Parser of istiod's /debug/registryz: every service istiod knows, with the clusters it knows it in.
// Shapes (istio/istio pilot/pkg/model/service.go, pilot/pkg/xds/debug.go):
// - up to 1.11: `"cluster-vips": {"<cluster>": "<vip>"}` plus a top-level `address`, and the list
//   written by hand, ending in an empty object: `[ {...}, {...}, {}]`;
// - since 1.12: `"clusterVIPs": {"Addresses": {"<cluster>": ["<vip>", ...]}}` (`Addresses` null when empty).
// Headless Services show the address `0.0.0.0`.

import { parseDebugJson } from './json.ts';

/** One port of a service as istiod models it. */
export interface RegistryPort {
  name: string;
  port: number;
  /** Istio protocol (`HTTP`, `TCP`, `TLS`, ...). */
  protocol: string;
}

/** A service of istiod's registry. */
export interface RegistryService {
  /** FQDN, e.g. `helloworld.sample.svc.cluster.local`. */
  hostname: string;
  namespace: string;
  /** Service name (Kubernetes Service name for Kubernetes services). */
  name: string;
  /** Registry that provides it: `Kubernetes` for cluster Services, `External` for ServiceEntries. */
  registry: string;
  /** Cluster id -> the service's addresses in that cluster (`0.0.0.0` for headless). */
  clusterVips: Record<string, string[]>;
  ports: RegistryPort[];
  /** The Service's labels (`Attributes.Labels`; {} when the body does not carry them). */
  labels: Record<string, string>;
}

/** Services of a registryz body. Throws an Error naming what is wrong when the shape is unknown. */
export function parseRegistryz(body: string): RegistryService[] {
  const doc = parseDebugJson(body, 'registryz');
  if (!Array.isArray(doc)) throw new Error('registryz is not a JSON array of services');
  const services: RegistryService[] = [];
  doc.forEach((entry, index) => {
    if (!isRecord(entry)) throw new Error(`registryz entry ${index} is not an object`);
    // The hand-written list of Istio <= 1.11 ends with `{}`.
    if (Object.keys(entry).length === 0) return;
    services.push(parseService(entry, index));
  });
  return services;
}

function parseService(entry: Record<string, unknown>, index: number): RegistryService {
  const hostname = entry.hostname;
  if (typeof hostname !== 'string' || hostname === '') throw new Error(`registryz entry ${index} has no hostname`);
  const attributes = isRecord(entry.Attributes) ? entry.Attributes : {};
  const [hostName, hostNamespace] = hostname.split('.');
  const namespace = typeof attributes.Namespace === 'string' && attributes.Namespace ? attributes.Namespace : (hostNamespace ?? '');
  const name = typeof attributes.Name === 'string' && attributes.Name ? attributes.Name : hostName;
  const registry = typeof attributes.ServiceRegistry === 'string' && attributes.ServiceRegistry ? attributes.ServiceRegistry : 'Kubernetes';
  return { hostname, namespace, name, registry, clusterVips: clusterVipsOf(entry, hostname), ports: portsOf(entry.ports), labels: labelsOf(attributes.Labels) };
}

/** String-valued labels of `Attributes.Labels` (null or absent in some versions: {}). */
function labelsOf(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function clusterVipsOf(entry: Record<string, unknown>, hostname: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  if ('clusterVIPs' in entry) {
    const vips = entry.clusterVIPs;
    if (vips === null) return result;
    if (!isRecord(vips)) throw new Error(`registryz: clusterVIPs of ${hostname} is not an object`);
    const addresses = vips.Addresses;
    if (addresses === null || addresses === undefined) return result;
    if (!isRecord(addresses)) throw new Error(`registryz: clusterVIPs.Addresses of ${hostname} is not an object`);
    for (const [cluster, list] of Object.entries(addresses)) {
      result[cluster] = Array.isArray(list) ? list.filter((a): a is string => typeof a === 'string') : [];
    }
    return result;
  }
  if ('cluster-vips' in entry) {
    const vips = entry['cluster-vips'];
    if (vips === null) return result;
    if (!isRecord(vips)) throw new Error(`registryz: cluster-vips of ${hostname} is not an object`);
    for (const [cluster, address] of Object.entries(vips)) result[cluster] = typeof address === 'string' ? [address] : [];
    return result;
  }
  // Istio <= 1.11 omits an empty cluster-vips map; a 1.12+ body always carries clusterVIPs.
  if ('address' in entry) return result;
  throw new Error(`registryz: ${hostname} has neither clusterVIPs (Istio >= 1.12) nor cluster-vips (<= 1.11): unknown format`);
}

function portsOf(value: unknown): RegistryPort[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((p) => ({
    name: typeof p.name === 'string' ? p.name : '',
    port: typeof p.port === 'number' ? p.port : Number(p.port),
    protocol: typeof p.protocol === 'string' ? p.protocol : '',
  }));
}

/** `namespace/name` of a registry service (the key Kubernetes objects compare on). */
export function registryKey(service: RegistryService): string {
  return `${service.namespace}/${service.name}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
