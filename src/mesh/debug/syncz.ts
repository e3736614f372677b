// istiod's /debug/syncz (pilot/pkg/xds/debug.go, `SyncStatus`), what `istioctl proxy-status` reads:
// per connected proxy, the last nonce sent and acked for each xDS type. Formats: 1.10 without
// `cluster_id`; 1.11+ with it; `proxy_type` in recent versions; `resources` (type URL -> {sent,
// acked, sentTime, lastError}) since 1.24, next to the flat `<type>_sent/_acked` fields.

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
}

/** istioctl's rule: nothing sent is NOT SENT, sent == acked is SYNCED, anything else STALE. */
export function xdsState(sent: string, acked: string): XdsState {
  if (!sent) return 'NOT SENT';
  return sent === acked ? 'SYNCED' : 'STALE';
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Parse a syncz body. Throws an Error naming what is wrong for a shape no Istio version serves. */
export function parseSyncz(body: string): SyncProxy[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error(`unknown /debug/syncz format: not JSON (starts with ${JSON.stringify(body.trim().slice(0, 40))})`);
  }
  if (value === null) return [];
  if (!Array.isArray(value)) throw new Error('unknown /debug/syncz format: expected a JSON array');
  return value.map((entry, index) => {
    if (!entry || typeof entry !== 'object' || typeof (entry as { proxy?: unknown }).proxy !== 'string') {
      throw new Error(`unknown /debug/syncz format: entry ${index} has no "proxy" string`);
    }
    const e = entry as Record<string, unknown>;
    const proxy: SyncProxy = { proxy: e.proxy as string, types: typesOf(e) };
    if (typeof e.cluster_id === 'string' && e.cluster_id) proxy.clusterId = e.cluster_id;
    if (typeof e.proxy_type === 'string' && e.proxy_type) proxy.proxyType = e.proxy_type;
    if (typeof e.istio_version === 'string' && e.istio_version) proxy.istioVersion = e.istio_version;
    return proxy;
  });
}

function typesOf(e: Record<string, unknown>): XdsTypeStatus[] {
  const shortOf = new Map<string, string>(Object.entries(XDS_TYPES).map(([short, url]) => [url, short]));
  const types = new Map<string, XdsTypeStatus>();
  const add = (type: string, sent: string, acked: string, lastError?: string) => {
    const status: XdsTypeStatus = { type, sent, acked, state: xdsState(sent, acked) };
    if (lastError) status.lastError = lastError;
    types.set(type, status);
  };
  // The flat fields exist in every version; a missing one means that type was never sent.
  for (const short of Object.keys(XDS_TYPES)) add(short, str(e[`${short}_sent`]), str(e[`${short}_acked`]));
  // `resources` (1.24+) is the fuller record (it also covers secrets, ECDS, ...): it wins.
  if (e.resources && typeof e.resources === 'object' && !Array.isArray(e.resources)) {
    for (const [url, raw] of Object.entries(e.resources as Record<string, unknown>)) {
      const r = (raw ?? {}) as Record<string, unknown>;
      add(shortOf.get(url) ?? url, str(r.sent), str(r.acked), str(r.lastError) || undefined);
    }
  }
  return [...types.values()];
}
