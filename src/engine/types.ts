import type { ClusterReader, ResourceKindName } from '../cluster/types.ts';

/** Finding severity. A check's meta gives defaults; configuration may override them. */
export type Severity = 'error' | 'warning' | 'info';

/** Outcome of one check on one cluster (or on the mesh, cluster `*`). */
export type Outcome = 'pass' | 'fail' | 'warn' | 'skip' | 'error';

/** Check categories, in report order. */
export const CATEGORIES = ['control-plane', 'services', 'network', 'certificates', 'connectivity', 'ambient', 'observability'] as const;
export type Category = (typeof CATEGORIES)[number];

/** The resource a finding is about. */
export interface ResourceRef {
  kind: string;
  namespace?: string;
  name: string;
}

/** What a check reports: one problem (or notable fact) about the mesh. */
export interface Finding {
  /** Id of the check that produced it, `category/name`. */
  checkId: string;
  /** Stable within the check, camelCase; keys `meta.messages`. */
  messageId: string;
  /** Effective severity (meta default unless overridden). */
  severity: Severity;
  /** Cluster the finding concerns, or `*` for a mesh-wide finding. */
  cluster: string;
  /** Resource concerned, where there is one. */
  resource?: ResourceRef;
  /** Human message (rendered from the messageId's template). */
  message: string;
  /** What to do about it. */
  hint?: string;
  /** Where the finding is documented: its messageId's row in docs/checks.md for a built-in check, the check's docs link for a plugin. */
  docsUrl?: string;
  /** The other cluster of a pair the finding concerns (e.g. the caller of a failed request, a remote secret's peer): matched by `peer-pair` explanations. */
  peer?: string;
  /** The service the finding concerns, `namespace/name`: matched by `service` and `namespace` explanations (a Service resource counts too). */
  service?: string;
  /**
   * Set in the report on a finding that findings of other checks explain (a consequence), as its
   * message's `explainedBy` declares. An error or warning finding without it is a root cause.
   */
  explainedBy?: ReportFindingRef[];
}

/**
 * A finding of the report: `findings[index]` of the result of check `checkId` on `cluster` (the
 * result's cluster, `*` for a mesh-scope check; a run has one result per check and cluster).
 * `messageId` repeats the finding's so that a reader need not look it up.
 */
export interface ReportFindingRef {
  checkId: string;
  cluster: string;
  index: number;
  messageId: string;
}

/**
 * Where a finding of another check must sit to explain a finding: `cluster`, the same cluster;
 * `peer-pair`, the same pair of clusters (cluster and peer, either order), or one cluster of the
 * pair when the explaining finding concerns a single cluster; `peer-view`, the peer's own view of
 * this cluster (the explaining finding's cluster is this finding's peer and its peer this finding's
 * cluster: a caller's istiod without the serving cluster explains what the caller never got from it,
 * not the other direction); `service`, the same service (and cluster); `namespace`, the same
 * namespace (and cluster): a finding about a Namespace explains findings about its services; `mesh`,
 * anywhere in the mesh. A finding's service is its `service`, else its resource when that is a
 * Service; its namespace, that service's, else its resource when that is a Namespace.
 */
export type ExplainWhen = 'cluster' | 'peer-pair' | 'peer-view' | 'service' | 'namespace' | 'mesh';

/** A finding of another check that can explain this message's findings (see src/engine/root-causes.ts). */
export interface Explanation {
  /** Id of the explaining check, `category/name` (not the check itself). */
  check: string;
  /** Its messageIds that explain. */
  messages: readonly string[];
  when: ExplainWhen;
}

/** A value for a template placeholder. */
export type TemplateValue = string | number | boolean;

/** Fields of a reported finding other than its messageId and data. */
interface FindingFields {
  /** Cluster concerned; defaults to the cluster the check runs for (`*` for mesh scope). */
  cluster?: string;
  resource?: ResourceRef;
  /** Overrides the default severity of the messageId (e.g. error when most proxies are stale). */
  severity?: Severity;
  /** Overrides the messageId's hint (rarely: a hint that depends on the data). */
  hint?: string;
  /** The other cluster of a pair the finding concerns (see Finding.peer). */
  peer?: string;
  /** The service concerned, `namespace/name` (see Finding.service). */
  service?: string;
}

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

/** The `{{name}}` placeholders of a template literal type, as a union of names. */
export type Placeholders<S extends string> = S extends `${string}{{${infer Name}}}${infer Rest}` ? Trim<Name> | Placeholders<Rest> : never;

/** The placeholders of a template TypeScript knows (a literal type); none of one built by concatenation. */
type KnownPlaceholders<S extends string> = string extends S ? never : Placeholders<S>;

/**
 * `data` for one message: every placeholder of its template and hint must be given (extra keys are
 * allowed). A template or hint built by concatenation is a plain `string` to TypeScript: its
 * placeholders cannot be known statically, and the check tests verify them when the message renders.
 */
type DataFor<T extends MessageMeta> = [RequiredPlaceholders<T>] extends [never]
  ? { data?: Record<string, TemplateValue | undefined> }
  : { data: { [K in RequiredPlaceholders<T>]: TemplateValue } & Record<string, TemplateValue | undefined> };

/** `{{cluster}}` defaults to the finding's cluster, so only the other placeholders must be given. */
type RequiredPlaceholders<T extends MessageMeta> = Exclude<KnownPlaceholders<T['template']> | KnownPlaceholders<T['hint']>, 'cluster'>;

/**
 * What a check's run() reports for a finding; the engine fills checkId, severity and hint defaults.
 * Typed by the check's messages: `messageId` is one of their keys and `data` fills that template's placeholders.
 */
export type FindingInput<M extends Messages = Messages> = {
  [K in keyof M & string]: FindingFields & {
    /** A key of the check's `meta.messages`. */
    messageId: K;
  } & DataFor<M[K]> & MatchFieldsFor<M[K]>;
}[keyof M & string];

type WhenOf<T extends MessageMeta> = T extends { explainedBy: readonly { when: infer W }[] } ? W : never;

/**
 * A message explained on the same peer pair or by its peer's view must name its peer; on the same
 * service or namespace, its service (stated even when unknown: undefined, e.g. a probe of a host that
 * is no Service, which such explanations then do not match).
 */
type MatchFieldsFor<T extends MessageMeta> = ('peer-pair' extends WhenOf<T> ? { peer: string } : 'peer-view' extends WhenOf<T> ? { peer: string } : unknown) &
  ('service' extends WhenOf<T> ? { service: string | undefined } : 'namespace' extends WhenOf<T> ? { service: string | undefined } : unknown);

/** Description of one messageId of a check. */
export interface MessageMeta {
  /** Template with `{{name}}` placeholders filled from FindingInput.data. */
  template: string;
  /** Default severity of findings with this messageId. */
  severity: Severity;
  /** What to do (may use the same placeholders). */
  hint: string;
  /**
   * Findings of other checks that can explain this one (a consequence of them): the engine links
   * them after the run, and a finding nothing explains is a root cause.
   */
  explainedBy?: readonly Explanation[];
}

/** A check's messages: messageId -> template, severity, hint. */
export type Messages = Record<string, MessageMeta>;

/** Static description of a check: what `meshdoctor checks` and `explain` print. */
export interface CheckMeta<M extends Messages = Messages> {
  /** One line: what the check verifies. */
  description: string;
  /** Longer explanation for `meshdoctor explain`. */
  details?: string;
  /** messageId -> template, severity, hint. */
  messages: M;
  /** Link to the Istio doc or source the check encodes. */
  docs: string;
  /**
   * `catalog`: documented per messageId in meshdoctor's docs/checks.md (the built-in checks), so each
   * finding links its own row; otherwise findings link `docs`.
   */
  documentedIn?: 'catalog';
}

/** Topology facts about one cluster, discovered before checks run. */
export interface ClusterInfo {
  /** Name in the report (context name or snapshot cluster name). */
  name: string;
  /** Kube context, when there is one. */
  context?: string;
  /** Istio CLUSTER_ID (from istiod's env, the injector values, or the webhook path). */
  clusterId?: string;
  /** Network (namespace label `topology.istio.io/network` or `global.network`). */
  network?: string;
  /**
   * primary: runs istiod for itself; remote: config from another cluster's istiod; external-control-plane:
   * runs an istiod for other clusters only (its CLUSTER_ID is the config cluster's id, no proxies of the
   * mesh run here); config: the remote whose API holds the mesh config of an external istiod (read
   * through Secret `istio-kubeconfig`); external-controlled: no istiod and an injector calling a URL no
   * diagnosed cluster serves.
   */
  role: 'primary' | 'remote' | 'external-control-plane' | 'config' | 'external-controlled' | 'unknown';
  /** Namespace of this cluster's istiod when it runs one (an external istiod lives outside --istio-namespace, e.g. `external-istiod`). */
  istiodNamespace?: string;
  /**
   * Namespace of this cluster's Istio install, set by discovery for every reachable cluster: its
   * istiod's, or, in a cluster without istiod, the remote profile's (injector webhook, `istiod`
   * Service, mesh config; the external control plane guide installs it in `external-istiod` on the
   * remotes too), else --istio-namespace. Checks read a cluster's Istio objects there
   * (src/mesh/roles.ts istioNamespaceOf).
   */
  istioNamespace?: string;
  /** Name (in the report) of the cluster whose istiod runs this cluster's control plane, when it is another diagnosed cluster. */
  controlPlaneCluster?: string;
  /** istiod revisions found (`default` for an unrevisioned install). */
  revisions: string[];
  /** istiod version (from the image tag or pilot version), when known. */
  istioVersion?: string;
  /** Whether meshdoctor could read the cluster's API at all. */
  reachable: boolean;
  /** How it was reached. */
  via: 'context' | 'remote-secret' | 'snapshot';
  /** Why it is unreachable, when it is. */
  unreachableReason?: string;
  /** The uid of its `kube-system` namespace: what tells one Kubernetes cluster from another (two contexts with the same one are the same cluster). */
  kubeSystemUid?: string;
  /** East-west gateways found in the cluster, for the topology header. */
  eastWestGateways?: { namespace: string; name: string; network?: string; addresses: string[] }[];
  /**
   * How workloads join the mesh (src/mesh/ambient.ts): `sidecar` (namespaces labelled for injection),
   * `ambient` (namespaces labelled `istio.io/dataplane-mode=ambient` with a ztunnel DaemonSet, or a
   * ztunnel alone), `both` (a mixed cluster), `none`. Absent when namespaces could not be read.
   */
  dataPlane?: {
    mode: 'sidecar' | 'ambient' | 'both' | 'none';
    /** Namespaces in ambient mode, sorted. */
    ambientNamespaces: string[];
    /** Namespaces labelled for sidecar injection, sorted. */
    sidecarNamespaces: string[];
    /** A ztunnel DaemonSet runs in the cluster. */
    ztunnel: boolean;
  };
  /** Ambient east-west gateways (Gateway API Gateways of class `istio-east-west`), for the topology header. */
  ambientEastWestGateways?: { namespace: string; name: string; network?: string; addresses: string[] }[];
}

/** Mesh-wide topology. */
export interface MeshInfo {
  model: 'multi-primary' | 'primary-remote' | 'external-control-plane' | 'single-cluster' | 'unknown';
  meshId?: string;
  trustDomain?: string;
  /** Multi-network when clusters have different networks. */
  multiNetwork: boolean;
}

/** Options every check can read (from the CLI). */
export interface CheckOptions {
  istioNamespace: string;
  certWarnDays: number;
  /** "now" for time-based verdicts: the snapshot's capturedAt offline, the wall clock live. */
  now: Date;
  /** Connectivity probe options (connectivity issue). */
  probeFrom?: string[];
  probeTo?: string[];
  probeCount?: number;
  /** Deadline of one probe request in ms (`--probe-timeout`, default 3 s). */
  probeTimeoutMs?: number;
  prometheus?: string;
  /**
   * The clusters are the embedded lab's: every API server listens on 127.0.0.1 of the machine
   * meshdoctor runs on, and the lab's istiods reach one another there. Remote secrets with loopback
   * servers are then the lab's physics, not a finding (in a real cluster istiod's pod never reaches
   * a peer on loopback).
   */
  sharedLoopback?: boolean;
}

/** Whether probed credentials may read one resource the way istiod's informers do (list and watch). */
export interface RemoteApiAccess {
  /** `pods`, `services`, `endpointslices`, `namespaces`. */
  resource: string;
  /** true: list and watch allowed; false: denied; undefined: could not be told. */
  allowed: boolean | undefined;
  /** Why denied or unknown (e.g. `watch denied`, `HTTP 500 on list`). */
  reason?: string;
}

/** What probing a remote secret's kubeconfig found, from where meshdoctor runs. */
export interface RemoteApiProbe {
  /** An HTTP answer came back from the server (whatever its status). */
  reachable: boolean;
  /** Transport or credential problem, one line. */
  error?: string;
  /** Set when the server was not contacted at all (a kubeconfig meshdoctor will not use): why. */
  notProbed?: string;
  /** HTTP status of GET /version (401: credentials rejected). */
  status?: number;
  /** gitVersion of the server, when /version answered. */
  version?: string;
  access: RemoteApiAccess[];
}

/** One sample of an instant-vector Prometheus result: the series' labels and its value. */
export interface PromSample {
  /** Labels of the series (`__name__` is absent after aggregation). */
  labels: Record<string, string>;
  /** The value; NaN and ±Infinity are possible (e.g. histogram_quantile over no traffic). */
  value: number;
}

/**
 * Work shared by the checks of one run round (see src/engine/run-memo.ts): the first caller of a key
 * starts it, every later caller gets the same promise, a rejection included. Keys name the work and
 * the cluster it concerns (`probe-round|<cluster>|...`).
 */
export interface RunMemo {
  get<T>(key: string, start: () => Promise<T>): Promise<T>;
}

/** What a check's run() gets, whatever its scope. */
interface BaseCheckContext<M extends Messages> {
  /** All clusters of the mesh (readers), in report order. */
  clusters: ClusterReader[];
  /** Topology facts for every cluster, same order as `clusters`. */
  clusterInfos: ClusterInfo[];
  mesh: MeshInfo;
  options: CheckOptions;
  /** Aborted at the per-check timeout. Pass it to exec/istiodDebug. */
  signal: AbortSignal;
  /** Shared by every check of this run round; a `--wait` retry gets a new one. */
  memo: RunMemo;
  /** Report a finding: a messageId of the check's meta.messages, with the data its template needs. */
  report(finding: FindingInput<M>): void;
  /**
   * End the run as `skip` with a reason (e.g. "not a multi-network mesh"). Throws a SkipSignal the
   * engine catches; findings reported before are dropped. `reasonId`, where given, is a stable id of
   * the reason (the report's skipReasonId; e.g. `noProbeTools`), for tools and tests that must not
   * match the prose.
   */
  skip(reason: string, reasonId?: string): never;
  /** Attach structured data for reporters (e.g. the connectivity matrix, a chain tree). */
  attach(key: string, value: unknown): void;
  /**
   * Note that what this check needs from `cluster` could not be read, so that cluster was left out. A
   * run that then finds no problem is not a `pass` that vouches for what was not seen: `skip` with these
   * reasons when the data is absent (forbidden, not served), `error` when it was an `outage` (the API
   * did not answer). Mesh scope: the engine notes unreachable clusters itself, as outages.
   */
  notRead(cluster: string, reason: string, why?: 'absent' | 'outage'): void;
  /**
   * Live runs only (undefined offline): probe the API server of a remote secret's kubeconfig,
   * read-only (/version, then list/watch access to what istiod reads), from where meshdoctor runs.
   */
  probeRemoteApi?: (kubeconfig: string, opts?: { timeoutMs?: number }) => Promise<RemoteApiProbe>;
  /**
   * Only with `--prometheus URL` (undefined otherwise): run an instant PromQL query, read-only.
   * Fails with an AccessError (unreachable / bad-response) naming the URL.
   */
  queryPrometheus?: (promql: string, opts?: { signal?: AbortSignal }) => Promise<PromSample[]>;
}

/** What a cluster-scope check's run() gets: the cluster it runs for. */
export interface ClusterCheckContext<M extends Messages = Messages> extends BaseCheckContext<M> {
  /** The cluster this run is for. */
  cluster: ClusterReader;
  /** Topology facts about `cluster`. */
  clusterInfo: ClusterInfo;
}

/** What a mesh-scope check's run() gets: every cluster, none in particular. */
export interface MeshCheckContext<M extends Messages = Messages> extends BaseCheckContext<M> {
  cluster?: undefined;
  clusterInfo?: undefined;
}

/** A cluster-scope context without report(): what shared helpers (src/mesh) take; findings are the check's. */
export type ClusterReadContext = Omit<ClusterCheckContext, 'report'>;

/** What a check's run() gets (discriminated by `cluster`: set for cluster scope). */
export type CheckContext<M extends Messages = Messages> = ClusterCheckContext<M> | MeshCheckContext<M>;

/** What every check declares, whatever its scope. */
interface BaseCheck<M extends Messages> {
  /** Stable id `category/name`. */
  id: string;
  category: Category;
  /**
   * Everything the check reads, no more (test/checks/needs-contract.test.ts holds it to that): kinds,
   * `istiod:<endpoint>`, `istiod-logs` (istiod's discovery log window), `ztunnel-config` (sampled ztunnels' config_dump), `proxy:<admin read>`, `exec`, `live`, each optionally `?`. The engine
   * prefetches them and skips on a forbidden required one.
   */
  needs: Need[];
  /** Ids of checks that must pass first; when one fails or errors, this one is skipped. */
  dependsOn?: string[];
  meta: CheckMeta<M>;
  /** Cluster-scope checks may restrict the clusters they run on (e.g. primaries only); return a skip reason or undefined. */
  appliesTo?(info: ClusterInfo, mesh: MeshInfo): string | undefined;
}

/** A check that runs once per cluster. `R`: the messages its run() may report (see Check). */
export interface ClusterCheck<M extends Messages = Messages, R extends Messages = M> extends BaseCheck<M> {
  scope: 'cluster';
  run(ctx: ClusterCheckContext<R>): Promise<void>;
}

/** A check that runs once over all clusters (result cluster `*`). */
export interface MeshCheck<M extends Messages = Messages, R extends Messages = M> extends BaseCheck<M> {
  scope: 'mesh';
  run(ctx: MeshCheckContext<R>): Promise<void>;
}

/**
 * A check: one file in src/checks/<category>/<name>.ts, default export (discriminated by `scope`).
 * The engine holds checks of every message set side by side: their run() contexts differ only in
 * what report() accepts, which defineCheck already enforced.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Check = ClusterCheck<Messages, any> | MeshCheck<Messages, any>;

/** The run() context of a check made with defineCheck (for its helper functions). */
export type ContextOf<C> = C extends ClusterCheck<infer M> ? ClusterCheckContext<M> : C extends MeshCheck<infer M> ? MeshCheckContext<M> : never;

/** What a check made with defineCheck may report (for helpers that build findings). */
export type FindingOf<C> = C extends ClusterCheck<infer M> | MeshCheck<infer M> ? FindingInput<M> : never;

/** What a check may read from a sidecar's admin endpoint (ClusterReader.sidecarAdmin). */
export type SidecarAdminRead = Parameters<ClusterReader['sidecarAdmin']>[1];

/**
 * One thing a check reads: a resource kind, an istiod debug endpoint, a sidecar admin read
 * (`proxy:certs`), or a live-only capability (`exec`, `live`: the check skips offline).
 */
export type RequiredNeed = ResourceKindName | `istiod:${string}` | 'istiod-logs' | 'ztunnel-config' | `proxy:${SidecarAdminRead}` | 'exec' | 'live';

/**
 * A data need. With a trailing `?` it is optional: the check reads it when it can and copes when it
 * cannot (a forbidden kind is left out, `exec?` does not make the check skip offline), so the engine
 * prefetches it without letting its failure decide the outcome.
 */
export type Need = RequiredNeed | `${RequiredNeed}?`;

/** A need without its optional mark: what a read of it is recorded as. */
export function baseNeed(need: Need): RequiredNeed {
  return (need.endsWith('?') ? need.slice(0, -1) : need) as RequiredNeed;
}

/** Result of one check on one cluster. */
export interface CheckResult {
  checkId: string;
  category: Category;
  /** Cluster name, or `*` for a mesh-scope check. */
  cluster: string;
  outcome: Outcome;
  durationMs: number;
  /** Why it was skipped. */
  skipReason?: string;
  /** A stable id of the skip reason, where the check gives one (e.g. `noProbeTools`). */
  skipReasonId?: string;
  /** Why the probe itself broke (outcome `error`). */
  error?: string;
  findings: Finding[];
  /** Structured extras for reporters (e.g. `matrix`, `chain`). */
  data?: Record<string, unknown>;
}

/** Totals, computed once by the engine. */
export interface Summary {
  pass: number;
  fail: number;
  warn: number;
  skip: number;
  error: number;
  /** Findings with severity error. */
  errors: number;
  /** Findings with severity warning. */
  warnings: number;
}

/** The whole run: what every reporter renders. The published JSON is this object. */
export interface Report {
  schemaVersion: 1;
  meshdoctorVersion: string;
  startedAt: string;
  durationMs: number;
  /** Offline runs: the snapshot's capturedAt. */
  capturedAt?: string;
  mesh: MeshInfo;
  clusters: ClusterInfo[];
  results: CheckResult[];
  summary: Summary;
  /** The threshold used for the exit code. */
  failOn: 'error' | 'warning' | 'never';
  /**
   * Set when the run stopped before every check finished (interrupted, or the clusters could not be
   * opened): why. File outputs (JUnit for CI) are still written with what finished.
   */
  aborted?: string;
  /**
   * The error and warning findings nothing explains, in report order: what to fix first (the other
   * problems carry Finding.explainedBy). Findings that explain each other and nothing else are all
   * root causes (src/engine/root-causes.ts).
   */
  rootCauses: ReportFindingRef[];
  exitCode: 0 | 1 | 3 | 130;
}
