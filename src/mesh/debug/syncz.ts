// istiod's /debug/syncz (pilot/pkg/xds/debug.go, `SyncStatus`), what `istioctl proxy-status` reads:
// per connected proxy, the last nonce sent and acked for each xDS type. Formats: 1.10 without
// `cluster_id`; 1.11+ with it; `proxy_type` in recent versions; `resources` since 1.24, next to the
// flat `<type>_sent/_acked` fields: a map from type URL to {sent, acked, sentTime, lastError} built
// from the proxy's WATCHED resources, so it holds exactly the types the proxy asked for (a ztunnel
// asks for workload addresses and authorizations, never CDS/LDS), and lastError is its last NACK.

import { parseDebugJson } from './json.ts';

/** Type URLs a ztunnel watches (workload discovery and authorization policies). */
export const ZTUNNEL_TYPES = ['type.googleapis.com/istio.workload.Address', 'type.googleapis.com/istio.security.Authorization'] as const;

/** The four xDS types of the flat fields, with the type URLs `resources` uses for them. */
export const XDS_TYPES = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;
export type XdsShortType = keyof typeof XDS_TYPES;

/** istioctl proxy-status's verdict for one type. */
export type XdsState = 'SYNCED' | 'NOT SENT' | 'STALE';

/** One xDS type of one proxy. */
export interface XdsTypeStatus {
  /** Short name (`cluster`, ...) for the four classic types, else the type URL. */
  type: string;
  sent: string;
  acked: string;
  lastError?: string;
  state: XdsState;
}

/** One proxy connected to istiod. */
export interface SyncProxy {
  /** `pod.namespace`. */
  proxy: string;
  /** ISTIO_META_CLUSTER_ID of the proxy; absent before 1.11. */
  clusterId?: string;
  /** `sidecar`, `router`, ... when istiod says (recent versions). */
  proxyType?: string;
  istioVersion?: string;
  types: XdsTypeStatus[];
  /** True when `types` comes from `resources` (1.24+): exactly the types the proxy watches. */
  watchedKnown: boolean;
}

/** istioctl's rule: nothing sent is NOT SENT, sent == acked is SYNCED, anything else STALE. */
export function xdsState(sent: string, acked: string): XdsState {
  if (!sent) return 'NOT SENT';
  return sent === acked ? 'SYNCED' : 'STALE';
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Parse a syncz body. Throws an Error naming what is wrong for a shape no Istio version serves. */
export function parseSyncz(body: string): SyncProxy[] {
  const value = parseDebugJson(body, '/debug/syncz');
  if (value === null) return [];
  if (!Array.isArray(value)) throw new Error('unknown /debug/syncz format: expected a JSON array');
  return value.map((entry, index) => {
    if (!entry || typeof entry !== 'object' || typeof (entry as { proxy?: unknown }).proxy !== 'string') {
      throw new Error(`unknown /debug/syncz format: entry ${index} has no "proxy" string`);
    }
    const e = entry as Record<string, unknown>;
    const hasResources = e.resources !== null && typeof e.resources === 'object' && !Array.isArray(e.resources);
    const proxy: SyncProxy = { proxy: e.proxy as string, types: typesOf(e, hasResources), watchedKnown: hasResources };
    if (typeof e.cluster_id === 'string' && e.cluster_id) proxy.clusterId = e.cluster_id;
    if (typeof e.proxy_type === 'string' && e.proxy_type) proxy.proxyType = e.proxy_type;
    if (typeof e.istio_version === 'string' && e.istio_version) proxy.istioVersion = e.istio_version;
    return proxy;
  });
}

/** Short type name of each xDS type URL, built once: syncz has an entry per proxy of the mesh. */
const SHORT_OF = new Map<string, string>(Object.entries(XDS_TYPES).map(([short, url]) => [url, short]));

function typesOf(e: Record<string, unknown>, hasResources: boolean): XdsTypeStatus[] {
  const types = new Map<string, XdsTypeStatus>();
  const add = (type: string, sent: string, acked: string, lastError?: string) => {
    const status: XdsTypeStatus = { type, sent, acked, state: xdsState(sent, acked) };
    if (lastError) status.lastError = lastError;
    types.set(type, status);
  };
  if (hasResources) {
    // `resources` (1.24+) lists the watched types only (also secrets, ECDS, workload types): a classic
    // type missing from it was never asked for, so the empty flat fields say nothing about it.
    for (const [url, raw] of Object.entries(e.resources as Record<string, unknown>)) {
      const r = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
      add(SHORT_OF.get(url) ?? url, str(r.sent), str(r.acked), str(r.lastError) || undefined);
    }
    return [...types.values()];
  }
  // Before 1.24 only the flat fields exist; a missing one means that type was never sent.
  for (const short of Object.keys(XDS_TYPES)) add(short, str(e[`${short}_sent`]), str(e[`${short}_acked`]));
  return [...types.values()];
}
