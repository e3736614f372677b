import { AccessError, type ClusterReader } from '../cluster/types.ts';
import { SEVERITY_RANK } from './severity.ts';
import { compareChecks } from './registry.ts';
import { createLimiter } from '../util/limiter.ts';
import { createRunMemo } from './run-memo.ts';
import { shellContextAt, shellQuote } from '../reporters/sanitize.ts';
import { findingDocsUrl } from './docs-url.ts';
import type {
  Check,
  CheckOptions,
  CheckResult,
  ClusterInfo,
  Finding,
  FindingInput,
  MeshCheckContext,
  MeshInfo,
  Outcome,
  PromSample,
  RemoteApiProbe,
  RunMemo,
  Need,
  Severity,
} from './types.ts';
import { baseNeed } from './types.ts';

/** Everything a run needs. */
export interface RunInput {
  checks: Check[];
  readers: ClusterReader[];
  /** Same order as readers. */
  clusterInfos: ClusterInfo[];
  mesh: MeshInfo;
  options: CheckOptions;
  /** Per check and cluster. */
  timeoutMs: number;
  /** Checks in flight at once. */
  concurrency: number;
  /** `--wait`: re-run failing results every `waitIntervalMs` until they pass or this time is up. */
  waitMs?: number;
  waitIntervalMs?: number;
  /** Live runs: probes a remote secret's kubeconfig (handed to checks as ctx.probeRemoteApi). */
  probeRemoteApi?: (kubeconfig: string, opts: { timeoutMs?: number; signal?: AbortSignal }) => Promise<RemoteApiProbe>;
  /** `--prometheus URL`: runs an instant PromQL query (handed to checks as ctx.queryPrometheus). */
  queryPrometheus?: (promql: string, opts: { signal?: AbortSignal }) => Promise<PromSample[]>;
  /** Severity overrides: `checkId` or `checkId/messageId` → severity. */
  severityOverrides?: Record<string, Severity>;
  /** Progress: called once with the number of tasks, then per finished task. */
  onStart?(total: number): void;
  /** `--wait`: called before each retry round with the results still failing, the pause and the time left of --wait. */
  onRetry?(failing: CheckResult[], retryInMs: number, leftMs: number): void;
  /** `--wait`: a retry round starts with this many tasks (progress counts them afresh). */
  onRound?(total: number): void;
  onResult?(result: CheckResult): void;
  /** `--wait`'s clock, for tests: sleep between rounds and milliseconds on a monotonic clock (default performance.now). */
  sleep?(ms: number): Promise<void>;
  monotonicMs?(): number;
}

/** Thrown by ctx.skip(); caught by the runner. */
class SkipSignal {
  readonly reason: string;
  readonly reasonId?: string;
  constructor(reason: string, reasonId?: string) {
    this.reason = reason;
    this.reasonId = reasonId;
  }
}

const MESH = '*';

interface Task {
  check: Check;
  /** Index into readers, or -1 for a mesh-scope task. */
  clusterIndex: number;
  cluster: string;
}

/**
 * Run checks across clusters: cluster-scope checks once per cluster, mesh-scope ones once.
 * Never throws for a check's sake: a check that throws, times out or reads what it cannot parse
 * becomes an `error` result; forbidden or offline data becomes `skip` with the reason.
 */
export async function runChecks(input: RunInput): Promise<CheckResult[]> {
  const tasks = planTasks(input);
  input.onStart?.(tasks.length);
  let results = await runRound(input, tasks, createRunMemo(), warmUp(input, tasks));

  if (input.waitMs && input.waitMs > 0) {
    const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const clock = input.monotonicMs ?? (() => performance.now());
    const deadline = clock() + input.waitMs;
    const interval = input.waitIntervalMs ?? 5000;
    while (clock() + interval <= deadline) {
      const failing = tasks.filter((_task, i) => isFailing(results[i]));
      if (failing.length === 0) break;
      input.onRetry?.(results.filter(isFailing), interval, Math.max(0, deadline - clock()));
      await sleep(interval);
      for (const reader of input.readers) reader.invalidate?.();
      const ready = warmUp(input, tasks);
      // Dependents of a re-run check are re-run too, so their skip can clear.
      const rerun = tasks.filter((task, i) => failing.includes(task) || results[i].outcome === 'skip' && (task.check.dependsOn?.length ?? 0) > 0);
      input.onRound?.(rerun.length);
      // A new memo: the retry measures afresh (probe rounds included) instead of re-reading the last round.
      const rerunResults = await runRound(input, rerun, createRunMemo(), ready, results, tasks);
      results = results.map((old, i) => {
        const j = rerun.indexOf(tasks[i]);
        return j >= 0 ? rerunResults[j] : old;
      });
    }
  }
  return results;
}

/** Resolves when what a task declared has been read (or the warm-up's deadline has passed). */
type Readiness = (task: Task) => Promise<void>;

/**
 * Start reading the union of what the checks declared, once per cluster and concurrently, and tell
 * each task when its own part is in: a check's timer starts then (as istioctl analyze reads before it
 * analyzes), so its --timeout measures the check, not its wait for a 10,000-pod list shared with every
 * other check. Each check starts as soon as its own reads are in, not when every read of the run is
 * (issue 19): at 3 x 10,000 pods and 50 ms, waiting for all of them held the connectivity probes and
 * the remote-secret probes back until istiod's 41 MB endpointShardz had arrived from every cluster,
 * 22 s into a loaded run, though neither reads it. Bounded by the per-check timeout; failures are
 * remembered by the readers and met again, with their reason, by the checks that need the data.
 */
function warmUp(input: RunInput, tasks: Task[]): Readiness {
  const needsByReader = new Map<ClusterReader, Set<Need>>();
  for (const task of tasks) {
    for (const reader of reachableReadersOf(input, task)) {
      const needs = needsByReader.get(reader) ?? new Set();
      for (const need of task.check.needs) needs.add(need);
      needsByReader.set(reader, needs);
    }
  }
  // Kind lists start first, whatever order checks declare them in: the reads of istiod (debug, logs)
  // list its pods in one namespace, which reuses the cluster-wide pods list when it was read first;
  // one order, so one answer whichever checks run.
  const isList = (need: Need) => !baseNeed(need).startsWith('istiod');
  // Optional istiod debug reads are fallbacks, read only by the check that needs one (as prefetch
  // skips them): warming endpointz, which istiod before 1.20 serves instead of endpointShardz, dumped
  // every endpoint of the mesh once more (36 MB per cluster at 10,000 pods, issue 19) for nothing.
  const fetched = new Map<ClusterReader, Map<Need, Promise<void>>>();
  for (const [reader, needs] of needsByReader) {
    const istioNamespace = clusterOptions(input.options, input.clusterInfos[input.readers.indexOf(reader)]).istioNamespace;
    const byNeed = new Map<Need, Promise<void>>();
    for (const need of [...needs].filter((n) => !isOptionalIstiodRead(n)).sort((a, b) => Number(isList(b)) - Number(isList(a)))) {
      byNeed.set(
        need,
        fetchNeed(reader, need, istioNamespace).then(
          () => undefined,
          () => undefined,
        ),
      );
    }
    fetched.set(reader, byNeed);
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, input.timeoutMs)));
  void Promise.all([...fetched.values()].flatMap((byNeed) => [...byNeed.values()])).then(() => clearTimeout(timer));
  return (task) => {
    const mine = reachableReadersOf(input, task).flatMap((reader) => task.check.needs.flatMap((need) => fetched.get(reader)?.get(need) ?? []));
    return Promise.race([Promise.all(mine).then(() => undefined), deadline]);
  };
}

/** The readers a task reads (its cluster, or every cluster for a mesh-scope task), the unreachable ones left out. */
function reachableReadersOf(input: RunInput, task: Task): ClusterReader[] {
  const readers = task.clusterIndex >= 0 ? [input.readers[task.clusterIndex]] : input.readers;
  return readers.filter((reader) => input.clusterInfos[input.readers.indexOf(reader)]?.reachable !== false);
}

function planTasks(input: RunInput): Task[] {
  const tasks: Task[] = [];
  for (const check of [...input.checks].sort(compareChecks)) {
    if (check.scope === 'mesh') tasks.push({ check, clusterIndex: -1, cluster: MESH });
    else input.readers.forEach((reader, clusterIndex) => tasks.push({ check, clusterIndex, cluster: reader.name }));
  }
  return tasks;
}

/**
 * Run one round of tasks with a concurrency cap. Dependencies and the task's reads (`ready`) are
 * awaited before a slot is taken, so a dependent never holds a slot its dependency needs. `previous` holds results of tasks not in
 * this round (for dependsOn during `--wait` re-runs).
 */
async function runRound(input: RunInput, tasks: Task[], memo: RunMemo, ready: Readiness, previous?: CheckResult[], allTasks?: Task[]): Promise<CheckResult[]> {
  const limit = createLimiter(Math.max(1, input.concurrency));
  const promises = new Map<Task, Promise<CheckResult>>();

  const resultOf = (checkId: string, cluster: string): Promise<CheckResult | undefined>[] => {
    const found: Promise<CheckResult | undefined>[] = [];
    for (const task of tasks) {
      if (isDependency(task, checkId, cluster)) found.push(promises.get(task)!);
    }
    if (found.length === 0 && previous && allTasks) {
      allTasks.forEach((task, i) => {
        if (isDependency(task, checkId, cluster)) found.push(Promise.resolve(previous[i]));
      });
    }
    return found;
  };

  // Create promises lazily in order; dependencies are created earlier or awaited through the map.
  const start = (task: Task): Promise<CheckResult> => {
    const existing = promises.get(task);
    if (existing) return existing;
    const promise = (async () => {
      for (const dep of task.check.dependsOn ?? []) {
        tasks.filter((t) => isDependency(t, dep, task.cluster)).forEach(start);
        const depResults = await Promise.all(resultOf(dep, task.cluster));
        const broken = depResults.find((r) => r && (r.outcome === 'fail' || r.outcome === 'error'));
        if (broken) {
          return skipped(task, `depends on ${dep}, which ${broken.outcome === 'fail' ? 'failed' : 'could not run'}${broken.cluster !== task.cluster ? ` on ${broken.cluster}` : ''}`);
        }
      }
      // Its reads first, outside the concurrency cap: a task waiting for a list holds no slot.
      await ready(task);
      return limit(() => runTask(input, task, memo));
    })();
    promises.set(task, promise);
    return promise;
  };

  const release = releaseAfterLastReader(input, tasks);
  const results = await Promise.all(
    tasks.map((task) =>
      start(task).then((result) => {
        release(task);
        input.onResult?.(result);
        return result;
      }),
    ),
  );
  return results;
}

/**
 * Issue 19: istiod debug bodies are the largest things a run holds (at 3 x 10,000 pods, endpointShardz
 * 41 MB and syncz 16 MB of text per cluster, a third of the live heap). Each is read for the checks that
 * declare it (a check reads only what it declares: test/checks/needs-contract.test.ts), so once the
 * last task of the round declaring `istiod:<endpoint>` on a cluster has finished, the reader may let it
 * go. Returns what to call as each task finishes.
 */
function releaseAfterLastReader(input: RunInput, tasks: Task[]): (task: Task) => void {
  const pending = new Map<ClusterReader, Map<string, number>>();
  const endpointsOf = (task: Task) => [...new Set(task.check.needs.map(baseNeed).filter((n) => n.startsWith('istiod:')).map((n) => n.slice('istiod:'.length)))];
  const readersOf = (task: Task) => (task.clusterIndex >= 0 ? [input.readers[task.clusterIndex]] : input.readers);
  for (const task of tasks) {
    for (const reader of readersOf(task)) {
      const counts = pending.get(reader) ?? new Map<string, number>();
      pending.set(reader, counts);
      for (const endpoint of endpointsOf(task)) counts.set(endpoint, (counts.get(endpoint) ?? 0) + 1);
    }
  }
  return (task) => {
    for (const reader of readersOf(task)) {
      const counts = pending.get(reader)!;
      for (const endpoint of endpointsOf(task)) {
        const left = counts.get(endpoint)! - 1;
        counts.set(endpoint, left);
        if (left === 0) reader.releaseIstiodDebug?.(endpoint);
      }
    }
  };
}

/** What `--wait` re-runs: a result that may still turn green. */
function isFailing(result: CheckResult): boolean {
  return result.outcome === 'fail' || result.outcome === 'error';
}

/** Whether `task` runs check `checkId` where a dependent on `cluster` needs it: same cluster, or the mesh on either side. */
function isDependency(task: Task, checkId: string, cluster: string): boolean {
  return task.check.id === checkId && (cluster === MESH || task.cluster === cluster || task.cluster === MESH);
}

function skipped(task: Task, reason: string): CheckResult {
  return { checkId: task.check.id, category: task.check.category, cluster: task.cluster, outcome: 'skip', durationMs: 0, skipReason: reason, findings: [] };
}

async function runTask(input: RunInput, task: Task, memo: RunMemo): Promise<CheckResult> {
  const { check } = task;
  const started = performance.now();
  const reader = task.clusterIndex >= 0 ? input.readers[task.clusterIndex] : undefined;
  const info = task.clusterIndex >= 0 ? input.clusterInfos[task.clusterIndex] : undefined;
  const finish = (partial: Omit<CheckResult, 'checkId' | 'category' | 'cluster' | 'durationMs'>): CheckResult => ({
    checkId: check.id,
    category: check.category,
    cluster: task.cluster,
    durationMs: Math.round(performance.now() - started),
    ...partial,
  });

  if (reader && info && !info.reachable) {
    // Not a skip: a CI gate must not pass when a cluster could not be examined (exit code 3).
    return finish({ outcome: 'error', error: `cluster unreachable: ${unreachableReason(info)}`, findings: [] });
  }
  // Optional `exec?`/`live?` do not count: such a check copes offline.
  const liveOnly = check.needs.includes('exec') || check.needs.includes('live');
  const targets = reader ? [reader] : input.readers;
  if (liveOnly && targets.every((r) => !r.live)) {
    return finish({ outcome: 'skip', skipReason: 'needs a live cluster: offline snapshot', findings: [] });
  }
  if (reader && info) {
    const reason = check.appliesTo?.(info, input.mesh);
    if (reason) return finish({ outcome: 'skip', skipReason: reason, findings: [] });
  }

  const controller = new AbortController();
  const inputs: FindingInput[] = [];
  const data: Record<string, unknown> = {};
  const unread = new Map<string, { reasons: string[]; unreachable: boolean }>();
  const noteUnread = (cluster: string, reason: string, unreachable = false) => {
    const entry = unread.get(cluster) ?? { reasons: [], unreachable };
    entry.unreachable ||= unreachable;
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    unread.set(cluster, entry);
  };
  if (!reader && readsClusters(check)) {
    // A mesh-wide verdict covers every cluster: one that could not be read at all is not vouched for.
    for (const other of input.clusterInfos) if (!other.reachable) noteUnread(other.name, `unreachable: ${unreachableReason(other)}`, true);
  }
  const ctx: MeshCheckContext = {
    clusters: input.readers,
    clusterInfos: input.clusterInfos,
    mesh: input.mesh,
    // A cluster whose Istio lives outside --istio-namespace (an external istiod in `external-istiod`,
    // or a remote whose remote profile is installed there, as the external control plane guide does)
    // is read there: every Istio object of that cluster is in its Istio namespace.
    options: clusterOptions(input.options, info),
    signal: controller.signal,
    memo,
    report: (finding) => {
      if (!controller.signal.aborted) inputs.push(finding);
    },
    skip: (reason, reasonId) => {
      throw new SkipSignal(reason, reasonId);
    },
    attach: (key, value) => {
      data[key] = value;
    },
    notRead: (cluster, reason, why) => noteUnread(cluster, reason, why === 'outage'),
  };
  if (input.probeRemoteApi) {
    const probe = input.probeRemoteApi;
    // The check's own signal: a probe still in flight stops at the check's timeout.
    ctx.probeRemoteApi = (kubeconfig, opts) => probe(kubeconfig, { ...opts, signal: controller.signal });
  }
  if (input.queryPrometheus) {
    const query = input.queryPrometheus;
    // A query still in flight stops at the check's timeout, or earlier when the check passes its own signal.
    ctx.queryPrometheus = (promql, opts) => query(promql, { signal: opts?.signal ? AbortSignal.any([opts.signal, controller.signal]) : controller.signal });
  }

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), input.timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      (async () => {
        if (reader) await prefetch(check, reader, clusterOptions(input.options, info).istioNamespace);
        if (check.scope === 'mesh') await check.run(ctx);
        else if (reader && info) await check.run({ ...ctx, cluster: reader, clusterInfo: info });
        else throw new Error(`cluster-scope check ${check.id} planned without a cluster`);
        return 'done' as const;
      })(),
      timeout,
    ]);
    if (outcome === 'timeout') {
      controller.abort(new Error('timed out'));
      return finish({ outcome: 'error', error: `timed out after ${formatMs(input.timeoutMs)} (raise it with --timeout)`, findings: [] });
    }
  } catch (err) {
    controller.abort(err);
    if (err instanceof SkipSignal) return finish({ outcome: 'skip', skipReason: err.reason, ...(err.reasonId ? { skipReasonId: err.reasonId } : {}), findings: [] });
    if (err instanceof AccessError && (err.reason === 'forbidden' || err.reason === 'offline')) {
      return finish({ outcome: 'skip', skipReason: err.message, findings: [] });
    }
    return finish({ outcome: 'error', error: describeError(err), findings: [] });
  } finally {
    clearTimeout(timer);
  }

  let findings: Finding[];
  const contexts = contextsByCluster(input.clusterInfos);
  try {
    findings = inputs.map((f) => toFinding(check, task.cluster, f, input.severityOverrides, contexts));
  } catch (err) {
    return finish({ outcome: 'error', error: describeError(err), findings: [] });
  }
  findings.sort(compareFindings);
  const outcome = outcomeOf(findings);
  if (outcome === 'pass' && unread.size > 0) {
    // Nothing wrong among what was read, but not everything was: say so instead of passing.
    const what = [...unread].map(([cluster, u]) => `${cluster} (${u.reasons.join('; ')})`).join(', ');
    if ([...unread.values()].some((u) => u.unreachable)) {
      return finish({ outcome: 'error', error: `no problem found in what could be read, but not everything answered: ${what}`, findings: [] });
    }
    return finish({ outcome: 'skip', skipReason: `no problem found in what could be read, but not everything could: ${what}`, findings: [] });
  }
  const result = finish({ outcome, findings });
  if (Object.keys(data).length) result.data = data;
  return result;
}

/**
 * Warm the reader's memo for what the check declared, concurrently. Kinds the server does not serve
 * (e.g. Istio CRDs absent) read as empty; forbidden ones throw and turn the check into a skip.
 */
async function prefetch(check: Check, reader: ClusterReader, istioNamespace: string): Promise<void> {
  // An optional need's failure is the check's to handle when it reads it (it copes, or reports).
  // Optional istiod debug reads are fallbacks the check asks for only when it needs them (endpointz,
  // for an istiod without endpointShardz, dumps the whole registry again: 36 MB at 10,000 pods).
  const eager = check.needs.filter((need) => !isOptionalIstiodRead(need));
  await Promise.all(eager.map((need) => (need.endsWith('?') ? fetchNeed(reader, need, istioNamespace).catch(() => undefined) : fetchNeed(reader, need, istioNamespace))));
}

/** An optional istiod debug read (`istiod:endpointz?`): a fallback, never read ahead. */
function isOptionalIstiodRead(need: Need): boolean {
  return need.endsWith('?') && need.startsWith('istiod:');
}

/**
 * Read one declared need into the reader's memo. `exec` and `live` are capabilities, nothing to read;
 * `proxy:` reads are per sidecar, which only the check picks.
 */
async function fetchNeed(reader: ClusterReader, declared: Need, istioNamespace: string): Promise<void> {
  const need = baseNeed(declared);
  if (need === 'exec' || need === 'live' || need.startsWith('proxy:')) return;
  // Secrets are read per namespace where istiod reads them (mesh/remote-secrets.ts readIstiodSecrets,
  // mesh/certificates.ts listInNamespace), never cluster-wide: a cluster-wide list would read every
  // application's credentials (and fail on a cluster whose Helm release secrets fill a page).
  if (need === 'secrets') await reader.list('secrets', { namespace: istioNamespace });
  else if (need === 'istiod-logs') await reader.istiodLogs();
  else if (need === 'ztunnel-config') await reader.ztunnelConfigDumps();
  else if (need.startsWith('istiod:')) await reader.istiodDebug(need.slice('istiod:'.length));
  else await reader.listOptional(need as Parameters<ClusterReader['list']>[0]);
}

/** Whether a check reads cluster data at all (a Prometheus-only check does not). */
function readsClusters(check: Check): boolean {
  return check.needs.some((need) => baseNeed(need) !== 'exec' && baseNeed(need) !== 'live');
}

function unreachableReason(info: ClusterInfo): string {
  return (info.unreachableReason ?? 'no answer from its API server').replace(/^unreachable:\s*/, '');
}

function toFinding(check: Check, taskCluster: string, input: FindingInput, overrides?: Record<string, Severity>, contexts?: ReadonlyMap<string, string>): Finding {
  const message = check.meta.messages[input.messageId];
  if (!message) throw new Error(`check ${check.id} reported unknown messageId "${input.messageId}" (a bug in the check)`);
  const severity = overrides?.[`${check.id}/${input.messageId}`] ?? overrides?.[check.id] ?? input.severity ?? message.severity;
  const cluster = input.cluster ?? taskCluster;
  const finding: Finding = {
    checkId: check.id,
    messageId: input.messageId,
    severity,
    cluster,
    message: fillTemplate(message.template, input.data, { cluster }),
    // Hints are commands to copy: every value is quoted for where it sits in the command.
    hint: input.hint ?? fillTemplate(message.hint, input.data, { shell: true, contexts, cluster }),
    docsUrl: findingDocsUrl(check, input.messageId),
  };
  if (input.resource) finding.resource = input.resource;
  if (input.peer !== undefined) finding.peer = input.peer;
  if (input.service !== undefined) finding.service = input.service;
  return finding;
}

/**
 * Replace `{{name}}` with data values; a missing value stays visible as `<name>`. With `shell`, each
 * value is shell-quoted for its place in the template (shellQuote), so a name from a cluster can
 * neither split a hint's command nor run anything when it is pasted. `<{{name}} context>` (a hint's
 * `--context=` value) becomes the kube context of the cluster that value names, by cluster name or
 * cluster id, when meshdoctor knows it (`contexts`); else it stays a placeholder for the reader.
 * `{{cluster}}` defaults to the finding's cluster.
 */
export function fillTemplate(template: string, data: FindingInput['data'], opts: { shell?: boolean; contexts?: ReadonlyMap<string, string>; cluster?: string } = {}): string {
  const valueOf = (key: string) => data?.[key] ?? (key === 'cluster' ? opts.cluster : undefined);
  const quote = (value: string, offset: number) => (opts.shell ? shellQuote(value, shellContextAt(template, offset)) : value);
  return template.replace(/<\{\{\s*(\w+)\s*\}\} context>|\{\{\s*(\w+)\s*\}\}/g, (_m, contextKey: string | undefined, key: string | undefined, offset: number) => {
    if (contextKey !== undefined) {
      const value = valueOf(contextKey);
      const context = value === undefined ? undefined : opts.contexts?.get(String(value));
      if (context !== undefined) return quote(context, offset);
      return `<${value === undefined ? contextKey : quote(String(value), offset + 1)} context>`;
    }
    const value = valueOf(key!);
    if (value === undefined) return `<${key}>`;
    return quote(String(value), offset);
  });
}

/**
 * Each cluster's kube context by its report name and by its Istio cluster id (hints name peers by
 * either); an id two clusters claim maps to neither, and a context is only known for clusters reached
 * through one (live) or captured with one (snapshot).
 */
export function contextsByCluster(infos: readonly ClusterInfo[]): Map<string, string> {
  const contexts = new Map<string, string>();
  const ids = new Map<string, string | undefined>();
  for (const info of infos) {
    if (!info.context) continue;
    contexts.set(info.name, info.context);
    if (info.clusterId) ids.set(info.clusterId, ids.has(info.clusterId) ? undefined : info.context);
  }
  for (const [id, context] of ids) if (context !== undefined && !contexts.has(id)) contexts.set(id, context);
  return contexts;
}

function outcomeOf(findings: Finding[]): Outcome {
  if (findings.some((f) => f.severity === 'error')) return 'fail';
  if (findings.some((f) => f.severity === 'warning')) return 'warn';
  return 'pass';
}

/** Deterministic order: cluster, severity, messageId, resource, message. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    a.cluster.localeCompare(b.cluster) ||
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    a.messageId.localeCompare(b.messageId) ||
    (a.resource?.kind ?? '').localeCompare(b.resource?.kind ?? '') ||
    (a.resource?.namespace ?? '').localeCompare(b.resource?.namespace ?? '') ||
    (a.resource?.name ?? '').localeCompare(b.resource?.name ?? '') ||
    a.message.localeCompare(b.message)
  );
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A cluster-scoped check's options: istioNamespace is its cluster's Istio namespace (src/mesh/roles.ts istioNamespaceOf). */
function clusterOptions(options: CheckOptions, info: ClusterInfo | undefined): CheckOptions {
  const namespace = info?.istioNamespace ?? info?.istiodNamespace;
  return namespace && namespace !== options.istioNamespace ? { ...options, istioNamespace: namespace } : options;
}
