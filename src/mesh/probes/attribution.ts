// Why probe requests failed and on which cluster: curl tells each request's failure kind, the source
// sidecar's Envoy counters tell how many requests failed on each upstream host, and the peers' data
// (peers.ts) tells which cluster a host belongs to.
import { splitHost, type HostDelta } from '../envoy-clusters.ts';
import type { FailureKind, ProbeRequest } from './curl.ts';
import { whyNoAddress, type EastWestGateway } from '../eastwest-gateways.ts';
import type { EndpointOwner } from './peers.ts';

/**
 * Why requests from a source cluster to endpoints of `servingCluster` fail, as far as the topology
 * tells: Envoy holding pod IPs of another network, or no endpoint at all (`hostKinds` empty), because
 * istiod knows no gateway address for that network (e.g. a LoadBalancer still pending); else the
 * failure curl saw (Envoy's reason).
 */
export function explainServingFailure(input: {
  sourceNetwork?: string;
  servingCluster: string;
  servingNetwork?: string;
  hostKinds: Set<'pod' | 'gateway' | 'unknown'>;
  gateways: EastWestGateway[];
  curlDetail?: string;
}): string {
  const { sourceNetwork, servingNetwork } = input;
  const crossNetwork = sourceNetwork !== undefined && servingNetwork !== undefined && sourceNetwork !== servingNetwork;
  const gateways = input.gateways.filter((g) => g.network === servingNetwork);
  const describeGateways = () =>
    gateways.length === 0
      ? `no east-west gateway Service is labelled for network ${servingNetwork}`
      : gateways
          .map((g) => (g.addresses.length ? `gateway ${g.namespace}/${g.name} in ${g.cluster} has address ${g.addresses.join(', ')}` : `gateway ${g.namespace}/${g.name} in ${g.cluster} has no address (${whyNoAddress(g)})`))
          .join('; ');
  if (crossNetwork && input.hostKinds.has('pod')) {
    return `Envoy sends to pod IPs of ${input.servingCluster} on network ${servingNetwork}, unreachable from network ${sourceNetwork}: istiod knows no east-west gateway address for network ${servingNetwork} (${describeGateways()})`;
  }
  if (crossNetwork && input.hostKinds.size === 0 && !gateways.some((g) => g.addresses.length > 0)) {
    return `istiod knows no east-west gateway address for network ${servingNetwork} (${describeGateways()}), so it drops that network's endpoints`;
  }
  return input.curlDetail ?? 'requests failed';
}


/** Failed requests of one failure kind that went to one serving cluster (or to none known). */
export interface AttributedFailure {
  kind: FailureKind;
  /** The first detail seen (curl's error or Envoy's reason). */
  detail: string;
  count: number;
  /** The cluster whose endpoints the requests went to; undefined when the counters do not tell. */
  serving?: string;
  /** Failing Envoy hosts behind them (with `serving` undefined: hosts no cluster explains). */
  hosts: string[];
  /** What those hosts are: pod IPs, a network's gateway, or unknown addresses. */
  hostKinds: Set<'pod' | 'gateway' | 'unknown'>;
}

/**
 * Which Envoy counter a failure shows up in: `connect` (cx_connect_fail: refused, connect timeout,
 * TLS handshake), `request` (an error on an open connection: termination, 5xx), or `none` (the
 * request never got to an upstream host: DNS, no endpoint at all).
 */
function counterSignature(failure: { kind: FailureKind; detail: string }): 'connect' | 'request' | 'none' {
  switch (failure.kind) {
    case 'dns':
    case 'connect':
    case 'other':
      return 'none';
    case 'timeout':
      return 'connect';
    case 'server':
    case 'reset':
      return 'request';
    case 'tls':
    case 'upstream':
      if (/no healthy upstream/i.test(failure.detail)) return 'none';
      return /connection failure|connection timeout|delayed connect error|no route to host|TLS error|CERTIFICATE_VERIFY_FAILED/i.test(failure.detail) ? 'connect' : 'request';
  }
}

/**
 * Split a target's failed requests by the cluster that served them. curl tells each request's
 * failure kind, the sidecar's counters tell how many requests failed on each host (not which):
 * requests run concurrently, so they are matched by count, first within the counter each kind
 * lands in (a TLS failure is a failed connect, a terminated connection a request error), then
 * across (a DNS or connect failure never left the pod). Where one kind failed on several clusters, or several kinds on one cluster, the split is
 * exact; several kinds on several clusters of the same counter are matched by count (exact counts
 * first). Failures the counters do not account for (no endpoint, DNS, counters unreadable, a timeout
 * Envoy has not counted yet) keep `serving` undefined.
 */
export function attributeFailures(requests: ProbeRequest[], deltas: HostDelta[] | undefined, owners: Map<string, EndpointOwner>): AttributedFailure[] {
  // Failures grouped by kind and counter; `left` is what is still unattributed.
  const groups = new Map<string, { kind: FailureKind; detail: string; signature: ReturnType<typeof counterSignature>; left: number }>();
  for (const r of requests) {
    if (!r.failure) continue;
    const signature = counterSignature(r.failure);
    const key = `${r.failure.kind}|${signature}`;
    const group = groups.get(key) ?? { kind: r.failure.kind, detail: r.failure.detail, signature, left: 0 };
    group.left++;
    groups.set(key, group);
  }
  // Failing hosts grouped by the cluster behind them ('' for addresses no cluster explains).
  const columns = new Map<string, { hosts: string[]; kinds: Set<'pod' | 'gateway' | 'unknown'>; connect: number; request: number }>();
  for (const d of deltas ?? []) {
    if (d.errors === 0) continue;
    const owner = owners.get(splitHost(d.host).address);
    const key = owner?.cluster ?? '';
    const column = columns.get(key) ?? { hosts: [], kinds: new Set(), connect: 0, request: 0 };
    column.hosts.push(d.host);
    column.kinds.add(owner?.kind ?? 'unknown');
    column.connect += d.connectFailures;
    column.request += d.errors - d.connectFailures;
    columns.set(key, column);
  }

  const assigned = new Map<string, AttributedFailure>();
  const assign = (group: { kind: FailureKind; detail: string }, column: string | undefined, count: number) => {
    const key = `${group.kind}|${column ?? '\u0000'}`;
    const hosts = column === undefined ? undefined : columns.get(column);
    const entry = assigned.get(key) ?? { kind: group.kind, detail: group.detail, count: 0, hosts: hosts?.hosts ?? [], hostKinds: hosts?.kinds ?? new Set() };
    if (column) entry.serving = column;
    entry.count += count;
    assigned.set(key, entry);
  };
  // Give each column's capacity to the groups: a group with exactly that many failures first, else the largest.
  const allocate = (candidates: { kind: FailureKind; detail: string; left: number }[], capacity: (column: string) => number, take: (column: string, n: number) => void) => {
    const order = [...columns.keys()].sort((a, b) => capacity(b) - capacity(a) || a.localeCompare(b));
    for (const column of order) {
      let room = capacity(column);
      while (room > 0) {
        const open = candidates.filter((g) => g.left > 0);
        if (open.length === 0) return;
        const group = open.find((g) => g.left === room) ?? open.reduce((a, b) => (b.left > a.left ? b : a));
        const n = Math.min(room, group.left);
        assign(group, column, n);
        take(column, n);
        group.left -= n;
        room -= n;
      }
    }
  };
  const all = [...groups.values()];
  for (const signature of ['connect', 'request'] as const) {
    allocate(
      all.filter((g) => g.signature === signature),
      (column) => columns.get(column)![signature],
      (column, n) => (columns.get(column)![signature] -= n),
    );
  }
  // Then across counters (an Envoy that counts a TLS failure as rq_error, or a host error curl saw as
  // "no healthy upstream"); only failures that never left the pod stay out.
  allocate(
    all.filter((g) => g.kind !== 'dns' && g.kind !== 'connect'),
    (column) => columns.get(column)!.connect + columns.get(column)!.request,
    (column, n) => {
      const c = columns.get(column)!;
      const fromConnect = Math.min(n, c.connect);
      c.connect -= fromConnect;
      c.request -= n - fromConnect;
    },
  );
  for (const group of all) if (group.left > 0) assign(group, undefined, group.left);
  return [...assigned.values()];
}

/**
 * Which cluster each pod name belongs to, over every readable cluster: how a response that names its
 * pod (helloworld's `Hello version: v1, instance: helloworld-v1-...`, an echo server's hostname) is
 * attributed when the source has no Envoy counters (ambient). A name found in two clusters tells
 * nothing and is left out.
 */
export function podClusters(podsByCluster: { cluster: string; pods: { metadata: { name: string } }[] }[]): Map<string, string> {
  const owner = new Map<string, string>();
  const ambiguous = new Set<string>();
  for (const { cluster, pods } of podsByCluster) {
    for (const pod of pods) {
      const name = pod.metadata.name;
      const seen = owner.get(name);
      if (seen !== undefined && seen !== cluster) ambiguous.add(name);
      else owner.set(name, cluster);
    }
  }
  for (const name of ambiguous) owner.delete(name);
  return owner;
}

/** Requests of one target attributed by their responses: per serving cluster, and what no response told. */
export interface ResponseAttribution {
  /** Successful requests per cluster whose pod the response named. */
  served: Map<string, number>;
  /** Successful requests whose response named no known pod. */
  unattributed: number;
  /** Failed requests (curl's failure kinds; no counter tells where they went). */
  failed: number;
}

/** Pod names are DNS labels: the tokens of a body that could be one. */
const NAME_TOKEN = /[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?/g;

/** Attribute requests by the pod name each successful response carries (see podClusters). */
export function attributeByResponse(requests: ProbeRequest[], pods: Map<string, string>): ResponseAttribution {
  const result: ResponseAttribution = { served: new Map(), unattributed: 0, failed: 0 };
  for (const r of requests) {
    if (r.failure) {
      result.failed++;
      continue;
    }
    const cluster = (r.bodyHead?.toLowerCase().match(NAME_TOKEN) ?? []).map((token) => pods.get(token)).find((c) => c !== undefined);
    if (cluster === undefined) result.unattributed++;
    else result.served.set(cluster, (result.served.get(cluster) ?? 0) + 1);
  }
  return result;
}
