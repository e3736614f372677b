// A ClusterReader over a live API server: memoized paginated lists, istiod debug via exec (with
// port-forward to 15014 as fallback, never pods/proxy), sidecar admin via exec, all under one
// per-cluster concurrency cap. One run sees one answer per question, failures included.
import https from 'node:https';
import { execInPod } from './exec.ts';
import { listPath, RESOURCE_KINDS } from './kinds.ts';
import { apiGet, statusMessage } from './kube-http.ts';
import type { KubeCredentials, KubeEndpoint } from './kube-http.ts';
import { portForwardGet } from './port-forward.ts';
import { TunnelAgent } from './proxy.ts';
import { createLimiter } from '../util/limiter.ts';
import { projectListItem } from './projection.ts';
import { AccessError, ISTIOD_LOG_WINDOW, SIDECAR_ADMIN_PATHS, ZTUNNEL_ADMIN_PORT, ZTUNNEL_SAMPLE } from './types.ts';
import type { ClusterReader, ExecOptions, ExecResult, IstiodDebugOutput, IstiodLogOutput, KubeObject, ListScope, PodRef, ResourceKindName, SidecarAdminRead, ZtunnelDumpOutput } from './types.ts';

/** Page size of a list's first page (the issue's `limit=500`), and of every page of a small list. */
export const LIST_PAGE_SIZE = 500;
/**
 * Largest page asked for (issue 19). After the first page, a list the server says has more than
 * LIST_PAGE_SIZE objects left (`remainingItemCount`) is read in pages of up to this many: a 10,000-pod
 * cluster in 5 round trips instead of 21 (at 50 ms each, the longest chain of the run), each page
 * still small enough (~20 MB of pod JSON) that three clusters' pages in flight stay bounded.
 * 500 is kubectl's default, not a server limit.
 */
export const LIST_PAGE_MAX = 2500;
/** Port of istiod's HTTP debug server. */
export const ISTIOD_DEBUG_PORT = 15014;

/**
 * How to build a live reader. Credentials: `kubeConfig`, a KubeConfig holding only one context of
 * the operator's kubeconfig, as current; or `inline`, credentials from an Istio remote secret as
 * loadUntrustedKubeconfig let them through (the reader's `via` is then 'remote-secret').
 */
export type LiveReaderOptions = KubeCredentials & {
  /** Cluster name in the report. */
  name: string;
  /** Kube context, when reached through one. */
  context?: string;
  istioNamespace: string;
  /** Requests (lists and execs) in flight to this cluster. Default 6. */
  maxConcurrent?: number;
  /** Deadline of one API request. Default 15 s. */
  requestTimeoutMs?: number;
  /** Deadline of an exec for istiod debug or sidecar admin. Default 20 s. */
  execTimeoutMs?: number;
  /** Proxy of the operator's kubeconfig or environment (with `kubeConfig` only: see proxy.ts). */
  proxy?: URL;
};

/** Create a ClusterReader for one live cluster. Throws AccessError when the KubeConfig has no server. */
export function createLiveReader(opts: LiveReaderOptions): ClusterReader {
  return new LiveClusterReader(opts);
}

class LiveClusterReader implements ClusterReader {
  readonly name: string;
  readonly context?: string;
  readonly server: string;
  readonly live = true;
  readonly via: 'context' | 'remote-secret';
  readonly #endpoint: KubeEndpoint;
  #istioNamespace: string;
  /** The per-cluster cap on requests in flight (lists and execs alike). */
  readonly #limited: ReturnType<typeof createLimiter>;
  /**
   * istiod debug reads in flight, at most half the cap (issue 19). A run warms five of them per istiod
   * (endpointShardz alone is 41 MB at 10,000 pods), each an exec holding a slot for as long as its
   * body streams: with all of them in flight the logs read took the sixth slot, and the connectivity
   * probes, which read none of it, waited seconds for a slot. Taken before a slot of #limited.
   */
  readonly #istiodLane: ReturnType<typeof createLimiter>;
  readonly #requestTimeoutMs: number;
  readonly #execTimeoutMs: number;
  readonly #agent: https.Agent;
  readonly #lists = new Map<string, Promise<KubeObject[]>>();
  readonly #debug = new Map<string, Promise<IstiodDebugOutput[]>>();
  #logs: Promise<IstiodLogOutput[]> | undefined;
  #ztunnel: Promise<ZtunnelDumpOutput[]> | undefined;
  readonly #admin = new Map<string, Promise<string>>();
  #version?: Promise<{ major: string; minor: string; gitVersion: string } | undefined>;

  constructor(opts: LiveReaderOptions) {
    const server = opts.inline ? opts.inline.server : opts.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new AccessError('unreachable', opts.name, `no API server URL for cluster ${opts.name}`);
    this.name = opts.name;
    if (opts.context) this.context = opts.context;
    this.server = server.replace(/\/+$/, '');
    this.via = opts.inline ? 'remote-secret' : 'context';
    // A kubeconfig read from a cluster never picks a proxy, whatever the caller passed.
    const proxy = opts.inline ? undefined : opts.proxy;
    const credentials: KubeCredentials = opts.inline ? { inline: opts.inline } : { kubeConfig: opts.kubeConfig, ...(proxy ? { proxy } : {}) };
    this.#endpoint = { cluster: opts.name, server: this.server, ...credentials };
    this.#istioNamespace = opts.istioNamespace;
    const maxConcurrent = Math.max(1, opts.maxConcurrent ?? 6);
    this.#limited = createLimiter(maxConcurrent);
    this.#istiodLane = createLimiter(Math.max(1, Math.floor(maxConcurrent / 2)));
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.#execTimeoutMs = opts.execTimeoutMs ?? 20_000;
    // Keep-alive pool sized to the cap; idle sockets do not hold the process open. Without a proxy a
    // plain Agent connects directly, as a remote-secret reader always does.
    this.#agent = proxy ? new TunnelAgent(proxy, { keepAlive: true, maxSockets: maxConcurrent }) : new https.Agent({ keepAlive: true, maxSockets: maxConcurrent });
  }

  list(kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]> {
    const namespace = RESOURCE_KINDS[kind].namespaced ? scope?.namespace : undefined;
    const key = `${kind}|${namespace ?? ''}`;
    let pending = this.#lists.get(key);
    if (!pending) {
      pending = this.#listScoped(kind, namespace);
      // Memoize the promise itself: concurrent callers share one request, and failures are one answer too.
      this.#lists.set(key, pending);
    }
    return pending;
  }

  async listOptional(kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]> {
    try {
      return await this.list(kind, scope);
    } catch (err) {
      if (err instanceof AccessError && err.reason === 'not-found') return [];
      throw err;
    }
  }

  /** A namespace list reuses an all-namespaces list already asked for; else it asks for itself. */
  async #listScoped(kind: ResourceKindName, namespace: string | undefined): Promise<KubeObject[]> {
    const whole = namespace === undefined ? undefined : this.#lists.get(`${kind}|`);
    if (whole) {
      try {
        return (await whole).filter((o) => o.metadata.namespace === namespace);
      } catch (err) {
        // Forbidden cluster-wide may still be allowed in one namespace.
        if (!(err instanceof AccessError && err.reason === 'forbidden')) throw err;
      }
    }
    return this.#fetchList(kind, namespace);
  }

  async #fetchList(kind: ResourceKindName, namespace: string | undefined): Promise<KubeObject[]> {
    const info = RESOURCE_KINDS[kind];
    const scopeText = namespace ? `in ${namespace}` : 'at the cluster scope';
    for (const version of info.versions) {
      const base = listPath(info, version, namespace);
      const objects: KubeObject[] = [];
      // One table per list: its objects share equal strings (projection.ts internStrings), and the
      // table itself is dropped with the list's last page.
      const strings = new Map<string, string>();
      let continueToken: string | undefined;
      let notServed = false;
      let restarted = false;
      let limit = LIST_PAGE_SIZE;
      for (;;) {
        const query = new URLSearchParams({ limit: String(limit) });
        if (continueToken) query.set('continue', continueToken);
        const path = `${base}?${query}`;
        const response = await this.#limited(() => apiGet(this.#endpoint, path, this.#requestTimeoutMs, this.#agent));
        if (response.status === 404 && objects.length === 0) {
          notServed = true;
          break;
        }
        // 410 Gone mid-list: the continue token expired (etcd compacted its revision). The pages read
        // so far belong to a snapshot that no longer exists, so start over once, as client-go's pager does.
        if (response.status === 410 && continueToken && !restarted) {
          restarted = true;
          objects.length = 0;
          strings.clear();
          continueToken = undefined;
          limit = LIST_PAGE_SIZE;
          continue;
        }
        if (response.status !== 200) throw this.#httpError(response.status, response.body, `list ${info.plural} ${scopeText}`, path);
        let page: { apiVersion?: string; items?: KubeObject[] | null; metadata?: { continue?: string; remainingItemCount?: number } };
        try {
          page = JSON.parse(response.body);
        } catch {
          throw new AccessError('bad-response', this.name, `bad response: GET ${path} did not return JSON`);
        }
        const apiVersion = page.apiVersion ?? (info.group ? `${info.group}/${version}` : version);
        // List items carry no apiVersion/kind; add them as kubectl does, so objects are self-describing.
        // Projected page by page (projection.ts): only what checks read outlives the page.
        for (const item of page.items ?? []) {
          item.apiVersion ??= apiVersion;
          item.kind ??= info.kind;
          objects.push(projectListItem(kind, item, strings));
        }
        continueToken = page.metadata?.continue || undefined;
        if (!continueToken) break;
        const remaining = page.metadata?.remainingItemCount;
        limit = typeof remaining === 'number' && remaining > LIST_PAGE_SIZE ? Math.min(LIST_PAGE_MAX, remaining) : LIST_PAGE_SIZE;
      }
      if (!notServed) return objects;
    }
    const tried = info.versions.map((v) => (info.group ? `${info.group}/${v}` : v)).join(', ');
    throw new AccessError('not-found', this.name, `${info.plural} not served (tried ${tried})`);
  }

  #httpError(status: number, body: string, action: string, path: string): AccessError {
    const detail = statusMessage(body);
    if (status === 401) return new AccessError('unauthorized', this.name, `unauthorized: the API server rejected the credentials of ${this.context ?? this.name}`);
    if (status === 403) return new AccessError('forbidden', this.name, `forbidden: cannot ${action}`);
    if (status === 404) return new AccessError('not-found', this.name, `not found: GET ${path}`);
    return new AccessError('bad-response', this.name, `bad response: HTTP ${status} from GET ${path}${detail ? `: ${detail}` : ''}`);
  }

  useIstiodNamespace(namespace: string): void {
    this.#istioNamespace = namespace;
  }

  istiodDebug(endpoint: string, opts?: { signal?: AbortSignal }): Promise<IstiodDebugOutput[]> {
    return memoize(this.#debug, endpoint, opts?.signal, () => this.#fetchIstiodDebug(endpoint, opts?.signal));
  }

  async #fetchIstiodDebug(endpoint: string, signal: AbortSignal | undefined): Promise<IstiodDebugOutput[]> {
    const pods = (await this.list('pods', { namespace: this.#istioNamespace }))
      .filter((p) => p.metadata.labels?.app === 'istiod' && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const path = `/debug/${endpoint}`;
    return Promise.all(
      pods.map((pod) => this.#istiodLane(async () => {
        const ref = { namespace: pod.metadata.namespace ?? this.#istioNamespace, name: pod.metadata.name };
        let body: string;
        try {
          const result = await this.exec(ref, 'discovery', ['pilot-discovery', 'request', 'GET', path], { timeoutMs: this.#execTimeoutMs, signal });
          if (result.exitCode !== 0) {
            throw new AccessError('bad-response', this.name, `pilot-discovery request GET ${path} in ${ref.namespace}/${ref.name} exited ${result.exitCode}: ${result.stderr.trim().split('\n')[0]}`);
          }
          body = result.stdout;
        } catch (err) {
          // exec denied by RBAC or broken (distroless images, old kubelets): port-forward to the debug port.
          if (!(err instanceof AccessError && (err.reason === 'forbidden' || err.reason === 'bad-response'))) throw err;
          body = await this.#limited(() => portForwardGet(this.#endpoint, { pod: ref, port: ISTIOD_DEBUG_PORT, path, timeoutMs: this.#execTimeoutMs, signal }));
        }
        return { pod: ref.name, namespace: ref.namespace, revision: pod.metadata.labels?.['istio.io/rev'] ?? 'default', body };
      })),
    );
  }

  istiodLogs(): Promise<IstiodLogOutput[]> {
    this.#logs ??= this.#fetchIstiodLogs();
    return this.#logs;
  }

  async #fetchIstiodLogs(): Promise<IstiodLogOutput[]> {
    const pods = (await this.list('pods', { namespace: this.#istioNamespace }))
      .filter((p) => p.metadata.labels?.app === 'istiod' && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const { container, sinceSeconds, tailLines, limitBytes } = ISTIOD_LOG_WINDOW;
    const query = new URLSearchParams({ container, sinceSeconds: String(sinceSeconds), tailLines: String(tailLines), limitBytes: String(limitBytes) });
    return Promise.all(
      pods.map(async (pod) => {
        const namespace = pod.metadata.namespace ?? this.#istioNamespace;
        const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod.metadata.name)}/log?${query}`;
        const response = await this.#limited(() => apiGet(this.#endpoint, path, this.#requestTimeoutMs, this.#agent));
        if (response.status !== 200) throw this.#httpError(response.status, response.body, `get pods/log of ${namespace}/${pod.metadata.name}`, path);
        return { pod: pod.metadata.name, namespace, revision: pod.metadata.labels?.['istio.io/rev'] ?? 'default', text: response.body };
      }),
    );
  }

  ztunnelConfigDumps(opts?: { signal?: AbortSignal }): Promise<ZtunnelDumpOutput[]> {
    const pending = (this.#ztunnel ??= this.#fetchZtunnelDumps(opts?.signal));
    // One check's own abort must not become every other check's answer (as memoize does).
    pending.catch(() => {
      if (opts?.signal?.aborted && this.#ztunnel === pending) this.#ztunnel = undefined;
    });
    return pending;
  }

  async #fetchZtunnelDumps(signal: AbortSignal | undefined): Promise<ZtunnelDumpOutput[]> {
    // The cluster-wide pods list (the one checks prefetch): ztunnel may run outside istio-system.
    const pods = sampleZtunnelPods(await this.list('pods'));
    // ztunnel's admin binds localhost only (istio/ztunnel src/admin.rs, Address::Localhost), so neither
    // its pod IP nor pods/proxy reach it: port-forward does, as istioctl ztunnel-config does.
    return Promise.all(
      pods.map(async (pod) => {
        const ref = { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name };
        const body = await this.#limited(() => portForwardGet(this.#endpoint, { pod: ref, port: ZTUNNEL_ADMIN_PORT, path: '/config_dump', timeoutMs: this.#execTimeoutMs, signal }));
        const output: ZtunnelDumpOutput = { pod: ref.name, namespace: ref.namespace, body };
        if (typeof pod.spec?.nodeName === 'string') output.node = pod.spec.nodeName;
        return output;
      }),
    );
  }

  sidecarAdmin(pod: PodRef, what: SidecarAdminRead, opts?: ExecOptions): Promise<string> {
    const key = `${pod.namespace}/${pod.name}/${what}`;
    const adminPath = SIDECAR_ADMIN_PATHS[what];
    return memoize(this.#admin, key, opts?.signal, () =>
      this.exec(pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', adminPath], { timeoutMs: this.#execTimeoutMs, ...opts }).then((result) => {
        if (result.exitCode !== 0) {
          throw new AccessError('bad-response', this.name, `pilot-agent request GET ${adminPath} in ${key.slice(0, key.lastIndexOf('/'))} exited ${result.exitCode}: ${result.stderr.trim().split('\n')[0]}`);
        }
        return result.stdout;
      }),
    );
  }

  exec(pod: PodRef, container: string, command: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.#limited(() => execInPod(this.#endpoint, { pod, container, command, timeoutMs: opts?.timeoutMs, signal: opts?.signal }));
  }

  releaseIstiodDebug(endpoint: string): void {
    this.#debug.delete(endpoint);
  }

  /**
   * `--wait` retries: forget every memoized answer, failures included, so a 500 that cleared or a
   * pod that became ready is seen. Within one round, one question still gets one answer.
   */
  invalidate(): void {
    this.#lists.clear();
    this.#debug.clear();
    this.#logs = undefined;
    this.#ztunnel = undefined;
    this.#admin.clear();
    this.#version = undefined;
  }

  version(): Promise<{ major: string; minor: string; gitVersion: string } | undefined> {
    this.#version ??= this.#limited(async () => {
      const response = await apiGet(this.#endpoint, '/version', this.#requestTimeoutMs, this.#agent);
      if (response.status !== 200) throw this.#httpError(response.status, response.body, 'get /version', '/version');
      try {
        const v = JSON.parse(response.body) as { major?: string; minor?: string; gitVersion?: string };
        return { major: v.major ?? '', minor: v.minor ?? '', gitVersion: v.gitVersion ?? '' };
      } catch {
        throw new AccessError('bad-response', this.name, 'bad response: GET /version did not return JSON');
      }
    });
    return this.#version;
  }
}

/**
 * The ztunnel pods whose config_dump a run reads: running, not terminating, label `app=ztunnel` (the
 * chart's pod label, manifests/charts/ztunnel/templates/daemonset.yaml:31 at istio/istio 86c9f01),
 * by namespace and name, at most ZTUNNEL_SAMPLE.
 */
export function sampleZtunnelPods(pods: KubeObject[]): KubeObject[] {
  return pods
    .filter((p) => p.metadata.labels?.app === 'ztunnel' && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .slice(0, ZTUNNEL_SAMPLE);
}

/**
 * The memoized promise for `key`, started by `start` on first use. A failure caused by the caller's
 * own abort is forgotten: one check's timeout must not become every other check's answer.
 */
function memoize<T>(memo: Map<string, Promise<T>>, key: string, signal: AbortSignal | undefined, start: () => Promise<T>): Promise<T> {
  let pending = memo.get(key);
  if (!pending) {
    pending = start();
    memo.set(key, pending);
    pending.catch(() => {
      if (signal?.aborted && memo.get(key) === pending) memo.delete(key);
    });
  }
  return pending;
}
