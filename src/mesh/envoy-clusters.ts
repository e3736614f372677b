// Envoy's admin `/clusters` text (what `pilot-agent request GET clusters` prints in istio-proxy):
// per upstream cluster and host, counters such as `rq_success`. See
// https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--clusters.

/** Counters of one upstream host that tell whether it served requests. */
export interface HostCounters {
  rq_total: number;
  rq_success: number;
  rq_error: number;
  rq_timeout: number;
  cx_connect_fail: number;
}

/** Envoy cluster name -> host `address:port` -> counters. */
export type EnvoyClusters = Map<string, Map<string, HostCounters>>;

const COUNTERS = new Set<keyof HostCounters>(['rq_total', 'rq_success', 'rq_error', 'rq_timeout', 'cx_connect_fail']);

/** A host part: `10.0.0.1:5000`, `[fd00::1]:5000`. Other second parts are cluster settings. */
const HOST_PART = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d+$/;

/**
 * Parse `/clusters` text. Lines are `cluster::host::stat::value` (cluster settings such as
 * `cluster::default_priority::max_connections::1024` have no host and are skipped). Throws when the
 * text has no line of that shape at all (JSON output, an error page): an unknown format.
 */
export function parseEnvoyClusters(text: string): EnvoyClusters {
  const result: EnvoyClusters = new Map();
  let recognised = 0;
  for (const line of text.split('\n')) {
    const parts = line.trim().split('::');
    if (parts.length < 3) continue;
    recognised++;
    if (parts.length !== 4 || !HOST_PART.test(parts[1])) continue;
    const [cluster, host, stat, value] = parts;
    let hosts = result.get(cluster);
    if (!hosts) result.set(cluster, (hosts = new Map()));
    let counters = hosts.get(host);
    if (!counters) hosts.set(host, (counters = { rq_total: 0, rq_success: 0, rq_error: 0, rq_timeout: 0, cx_connect_fail: 0 }));
    if (COUNTERS.has(stat as keyof HostCounters)) counters[stat as keyof HostCounters] = Number(value) || 0;
  }
  if (recognised === 0 && text.trim() !== '') {
    throw new Error(`unknown Envoy /clusters format (expected "cluster::host::stat::value" lines, got: ${JSON.stringify(text.trim().slice(0, 80))})`);
  }
  return result;
}

/** A target of a probe round: an Envoy cluster's host (the FQDN requests named) and port. */
export interface ClusterTarget {
  host: string;
  port: number;
}

/**
 * Parse only the outbound clusters of `targets` out of `/clusters` text (issue 19): what
 * parseEnvoyClusters would give for those clusters (outboundClustersOf and hostDeltas of a target
 * read the same counters), without splitting the whole text. A sidecar of a 10,000-pod mesh prints
 * about 540,000 lines per reading, of which a probe round needs a few dozen: each target's lines are
 * found by searching for `|<host>::` (every line of a cluster named `outbound|<port>|<subset>|<host>`
 * holds it), so the cost is a native substring search per target instead of a string per line.
 * Throws, as parseEnvoyClusters does, when no line of the text has the `a::b::c` shape.
 */
export function parseEnvoyClustersFor(text: string, targets: readonly ClusterTarget[]): EnvoyClusters {
  if (!hasClusterLine(text) && text.trim() !== '') {
    throw new Error(`unknown Envoy /clusters format (expected "cluster::host::stat::value" lines, got: ${JSON.stringify(text.trim().slice(0, 80))})`);
  }
  const result: EnvoyClusters = new Map();
  for (const host of new Set(targets.map((t) => t.host))) {
    const ports = new Set(targets.filter((t) => t.host === host).map((t) => String(t.port)));
    const needle = `|${host}::`;
    for (let hit = text.indexOf(needle); hit !== -1; ) {
      const start = text.lastIndexOf('\n', hit) + 1;
      let end = text.indexOf('\n', hit);
      if (end === -1) end = text.length;
      const parts = text.slice(start, end).trim().split('::');
      const [cluster, addr, stat, value] = parts;
      if (parts.length === 4 && HOST_PART.test(addr) && isOutboundOf(cluster, host, ports)) {
        // Keys are own copies: a slice of the text would keep the whole text (15.7 MB per reading of a
        // 10,000-pod mesh) alive as long as the round's counters are (issue 19, heap snapshot).
        let hosts = result.get(cluster);
        if (!hosts) result.set(ownCopy(cluster), (hosts = new Map()));
        let counters = hosts.get(addr);
        if (!counters) hosts.set(ownCopy(addr), (counters = { rq_total: 0, rq_success: 0, rq_error: 0, rq_timeout: 0, cx_connect_fail: 0 }));
        if (COUNTERS.has(stat as keyof HostCounters)) counters[stat as keyof HostCounters] = Number(value) || 0;
      }
      hit = text.indexOf(needle, end);
    }
  }
  return result;
}

/** A copy of `s` that shares no memory with the string it was cut from (V8 keeps a substring as a slice of its parent). */
function ownCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** `outbound|<port>|<subset>|<host>` for one of `ports`: the clusters outboundClustersOf picks. */
function isOutboundOf(cluster: string, host: string, ports: Set<string>): boolean {
  if (!cluster.startsWith('outbound|') || !cluster.endsWith(`|${host}`)) return false;
  const fields = cluster.split('|');
  return fields.length === 4 && ports.has(fields[1]);
}

/** Whether some line of `text` has at least three `::`-separated parts (parseEnvoyClusters' "recognised"), in one pass. */
function hasClusterLine(text: string): boolean {
  // Each `first` is the first separator of its line: none lies between it and the one before.
  for (let first = text.indexOf('::'); first !== -1; ) {
    const second = text.indexOf('::', first + 2);
    if (second === -1) return false;
    const lineEnd = text.indexOf('\n', first);
    if (lineEnd === -1 || second < lineEnd) return true;
    first = second;
  }
  return false;
}

/**
 * Envoy clusters that carry traffic for `host:port`: `outbound|<port>|<subset>|<host>` (a
 * DestinationRule subset adds clusters; all of them count).
 */
export function outboundClustersOf(clusters: EnvoyClusters, host: string, port: number): string[] {
  const prefix = `outbound|${port}|`;
  const suffix = `|${host}`;
  return [...clusters.keys()].filter((name) => name.startsWith(prefix) && name.endsWith(suffix) && name.split('|').length === 4).sort();
}

/** What one host did between two readings. */
export interface HostDelta {
  /** `address:port` of the host. */
  host: string;
  success: number;
  errors: number;
  /**
   * Of `errors`, those Envoy counted as failed connections (cx_connect_fail: refused, connect
   * timeout, TLS handshake): tells them from requests that failed on an open connection.
   */
  connectFailures: number;
}

/**
 * Per host of the target's clusters, the requests that succeeded and failed between `before` and
 * `after`. Errors take the largest of the failure counters: Envoy counts a failed connect in
 * cx_connect_fail, a 5xx in rq_error, and rq_total - rq_success covers both where it counts them.
 * Hosts listed in `after` with no traffic are included (zeroes): they are endpoints that never served.
 */
export function hostDeltas(before: EnvoyClusters, after: EnvoyClusters, host: string, port: number): HostDelta[] {
  const byHost = new Map<string, HostDelta>();
  for (const name of outboundClustersOf(after, host, port)) {
    for (const [addr, now] of after.get(name) ?? []) {
      const then = before.get(name)?.get(addr);
      const delta = (key: keyof HostCounters) => Math.max(0, now[key] - (then?.[key] ?? 0));
      const success = delta('rq_success');
      const errors = Math.max(delta('rq_total') - success, delta('rq_error'), delta('cx_connect_fail'));
      const entry = byHost.get(addr) ?? { host: addr, success: 0, errors: 0, connectFailures: 0 };
      entry.success += success;
      entry.errors += errors;
      entry.connectFailures += Math.min(errors, delta('cx_connect_fail'));
      byHost.set(addr, entry);
    }
  }
  return [...byHost.values()].sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true }));
}

/** The address of a host `addr:port` (IPv6 brackets removed) and its port. */
export function splitHost(host: string): { address: string; port: number } {
  const colon = host.lastIndexOf(':');
  return { address: host.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(host.slice(colon + 1)) };
}
