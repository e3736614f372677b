/**
 * The one interface through which checks see a cluster, live or offline (snapshot).
 * Checks never import the kube client, `ws` or `child_process`: they read through a ClusterReader.
 */

/** A Kubernetes object as served by the API (or read from a snapshot). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    resourceVersion?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid?: string; controller?: boolean }[];
    [key: string]: unknown;
  };
  // Kinds differ; checks read the fields they need (helpers in src/mesh/istio-objects.ts).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

/** A resource kind meshdoctor can list. Keys of RESOURCE_KINDS in `kinds.ts`. */
export type ResourceKindName =
  | 'namespaces'
  | 'pods'
  | 'services'
  | 'endpoints'
  | 'endpointslices'
  | 'secrets'
  | 'configmaps'
  | 'serviceaccounts'
  | 'nodes'
  | 'deployments'
  | 'replicasets'
  | 'networkpolicies'
  | 'mutatingwebhookconfigurations'
  | 'customresourcedefinitions'
  | 'gateways'
  | 'virtualservices'
  | 'destinationrules'
  | 'serviceentries'
  | 'workloadentries'
  | 'envoyfilters'
  | 'peerauthentications'
  | 'authorizationpolicies'
  | 'k8sgateways'
  | 'gatewayclasses'
  | 'daemonsets';

/** Which part of a cluster a list covers: all namespaces (default) or one namespace. */
export interface ListScope {
  /** Only this namespace; omitted = all namespaces (or cluster-scoped kinds). */
  namespace?: string;
}

/** Output of an istiod debug endpoint, per istiod pod. */
export interface IstiodDebugOutput {
  /** istiod pod that answered. */
  pod: string;
  /** Namespace of that pod. */
  namespace: string;
  /** Revision label of the pod (`istio.io/rev`), `default` when absent. */
  revision: string;
  /** The raw body (JSON text as istiod served it). */
  body: string;
}

/** The bounded window of one istiod pod's `discovery` container log (pods/log). */
export interface IstiodLogOutput {
  pod: string;
  namespace: string;
  revision: string;
  /** The log text as the API served it (redacted when read from a snapshot). */
  text: string;
}

/**
 * The window of istiod's log that is read: the last 30 minutes, at most 5,000 lines and 4 MiB per pod,
 * so a chatty istiod of a large mesh costs one bounded read, never its whole history.
 */
export const ISTIOD_LOG_WINDOW = { container: 'discovery', sinceSeconds: 1800, tailLines: 5000, limitBytes: 4 * 1024 * 1024 } as const;

/** ztunnel's admin `/config_dump` of one ztunnel pod (ambient mode). */
export interface ZtunnelDumpOutput {
  /** ztunnel pod that answered. */
  pod: string;
  namespace: string;
  /** The node it runs on, when known. */
  node?: string;
  /** The raw body (JSON text as ztunnel served it). */
  body: string;
}

/**
 * How many ztunnel pods' `/config_dump` a run reads per cluster: ztunnel is a DaemonSet (one per
 * node) and every instance gets the same workload and service view from istiod, so a few sampled
 * pods show what istiod sent without reading hundreds of nodes' dumps.
 */
export const ZTUNNEL_SAMPLE = 3;

/** ztunnel's admin port: it listens on localhost of its pod only (istio/ztunnel src/config.rs DEFAULT_ADMIN_PORT). */
export const ZTUNNEL_ADMIN_PORT = 15000;

/** The result of running a command in a container. */
export interface ExecResult {
  /** Exit code of the command (0 on success). */
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options of a bounded exec. */
export interface ExecOptions {
  /** Overall deadline for the command in ms (handshake included). */
  timeoutMs?: number;
  /** Aborts the exec (the check's own signal). */
  signal?: AbortSignal;
}

/**
 * What can be read from a sidecar's admin endpoint. `secrets` is the SDS secrets part of config_dump
 * alone (the whole dump is large); offline it falls back to the snapshot's config_dump.
 */
export type SidecarAdminRead = 'clusters' | 'certs' | 'server_info' | 'config_dump' | 'secrets';

/** The admin path of each sidecar admin read (Envoy redacts private keys in config_dump as `[redacted]`). */
export const SIDECAR_ADMIN_PATHS: Record<SidecarAdminRead, string> = {
  clusters: 'clusters',
  certs: 'certs',
  server_info: 'server_info',
  config_dump: 'config_dump',
  secrets: 'config_dump?resource=dynamic_active_secrets',
};

/** Identity of a pod for exec and sidecar admin. */
export interface PodRef {
  namespace: string;
  name: string;
}

/**
 * Why data could not be read. Checks let these propagate; the engine maps them:
 * `forbidden` and `offline` to a skip with the reason, the others to an `error` outcome.
 */
export type AccessErrorReason = 'forbidden' | 'unreachable' | 'unauthorized' | 'not-found' | 'offline' | 'timeout' | 'bad-response';

/** An error reading from a cluster, with a reason the engine turns into skip or error. */
export class AccessError extends Error {
  readonly reason: AccessErrorReason;
  readonly cluster: string;
  constructor(reason: AccessErrorReason, cluster: string, message: string) {
    super(message);
    this.name = 'AccessError';
    this.reason = reason;
    this.cluster = cluster;
  }
}

/** Read access to one cluster. All methods are read-only and memoized where they list. */
export interface ClusterReader {
  /** Cluster name in the report (kube context name, or the snapshot's cluster name). */
  readonly name: string;
  /** The kube context, when there is one. */
  readonly context?: string;
  /** API server URL (live only). */
  readonly server?: string;
  /** false for an offline snapshot: exec and remote API probes skip. */
  readonly live: boolean;
  /** How this cluster was reached: kubeconfig context, a remote secret's credentials, or a snapshot. */
  readonly via: 'context' | 'remote-secret' | 'snapshot';

  /**
   * All objects of a kind (one paginated, memoized list per kind and scope).
   * Throws AccessError('forbidden') on 403, AccessError('not-found') when the kind is not served
   * (e.g. Istio CRDs not installed: callers usually treat that as an empty list via `listOptional`).
   */
  list(kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]>;
  /** Like list, but a kind the server does not serve (404) yields []. */
  listOptional(kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]>;

  /**
   * GET /debug/<endpoint> from every running istiod pod of the cluster (memoized):
   * exec `pilot-discovery request GET /debug/<endpoint>` in container `discovery`, with port-forward
   * to 15014 as fallback; offline, the snapshot's `istiod/<pod>/<endpoint>.json`.
   * Resolves [] when the cluster runs no istiod.
   */
  istiodDebug(endpoint: string, opts?: { signal?: AbortSignal }): Promise<IstiodDebugOutput[]>;
  /**
   * Read istiod (debug, logs) in this namespace instead of --istio-namespace: discovery found the
   * cluster's istiod there (an external istiod in `external-istiod`). Readers that cannot move ignore it.
   */
  useIstiodNamespace?(namespace: string): void;

  /**
   * The `discovery` container log of every running istiod pod, in ISTIOD_LOG_WINDOW (GET pods/log;
   * offline, the snapshot's `istiod/<pod>/discovery.log`). Resolves [] when the cluster runs no istiod.
   */
  istiodLogs(opts?: { signal?: AbortSignal }): Promise<IstiodLogOutput[]>;

  /**
   * ztunnel `/config_dump` of up to ZTUNNEL_SAMPLE running ztunnel pods (label `app=ztunnel`, any
   * namespace), sorted by name (memoized): by port-forward to the pod's localhost:15000, where the
   * admin listens; offline, the snapshot's `ztunnel/<pod>/config_dump.json`. Resolves [] when the
   * cluster runs no ztunnel.
   */
  ztunnelConfigDumps(opts?: { signal?: AbortSignal }): Promise<ZtunnelDumpOutput[]>;

  /** Sidecar admin output (`pilot-agent request GET <path of what>` in `istio-proxy`, see SIDECAR_ADMIN_PATHS), memoized per pod. */
  sidecarAdmin(pod: PodRef, what: SidecarAdminRead, opts?: ExecOptions): Promise<string>;

  /** Bounded exec in a container; never memoized. Throws AccessError('offline') for snapshots. */
  exec(pod: PodRef, container: string, command: string[], opts?: ExecOptions): Promise<ExecResult>;

  /**
   * Raw read-only GET against this cluster's API (live only): used for /version and
   * SelfSubjectAccessReview-like probes of remote credentials. Not for listing (use `list`).
   */
  version(): Promise<{ major: string; minor: string; gitVersion: string } | undefined>;

  /** Forget memoized lists and debug output, so `--wait` re-runs see fresh data (live readers). */
  invalidate?(): void;

  /**
   * Forget the memoized answer of one istiod debug endpoint: the engine calls it once every check of
   * the round that declared `istiod:<endpoint>` has finished, so the body (/debug/endpointShardz is
   * 41 MB of text per cluster at 10,000 pods, issue 19) can be freed. A later read asks istiod again.
   */
  releaseIstiodDebug?(endpoint: string): void;
}
