// The connectivity probe toolkit: picking a source pod per cluster, the default targets, and bounded
// probes run by exec in the pod's application container (never istio-proxy: its uid 1337 traffic
// bypasses the sidecar, https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/).
//
// The HTTP probe round is shared: connectivity/http (per cluster) and connectivity/cross-cluster
// (mesh) both need the same traffic, and the Envoy counters cross-cluster reads would count the
// other check's requests if each sent its own. So one round per source pod reads the sidecar's
// `/clusters` before and after its own requests, and both checks read that round. It is memoized per
// reader and *per consumer*: a check that asks again (a `--wait` re-run) gets a fresh round, never
// the one it has already judged. Neither check depends on the other having run.
import { AccessError, type ClusterReader, type ExecResult, type KubeObject, type PodRef } from '../cluster/types.ts';
import type { CheckContext, ClusterInfo } from '../engine/types.ts';
import { parseEnvoyClusters, splitHost, type EnvoyClusters, type HostDelta } from './envoy-clusters.ts';
import { findEastWestGateways, gatewayAddresses, labelsOf, annotationsOf, isPodReady, servicePorts } from './istio-objects.ts';
import { labelSelectorMatches, parseLabelSelector, type LabelMap, type LabelSelector } from './labels.ts';

/** Default requests per target. */
export const DEFAULT_PROBE_COUNT = 10;
/** Default per-request timeout. */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000;
/** Default targets are capped: probes stay bounded on meshes with many shared Services. */
export const MAX_DEFAULT_TARGETS = 5;
/** Candidate pods whose tools are detected per cluster before giving up. */
const MAX_CANDIDATES = 3;
/** Requests of one round in flight at once. */
const REQUEST_CONCURRENCY = 4;
/** Time an exec gets on top of the probe's own timeout (WebSocket handshake, process start). */
const EXEC_SLACK_MS = 5000;
/** The namespace of Istio's verification samples: its pods are preferred as sources. */
const PREFERRED_NAMESPACE = 'sample';
const CLUSTER_DOMAIN = 'cluster.local';
const SIDECAR_STATUS_ANNOTATION = 'sidecar.istio.io/status';
const PROXY_CONTAINER = 'istio-proxy';
/** Tools a probe can use, in the order they are detected. */
const TOOLS = ['curl', 'getent', 'nslookup', 'nc'] as const;
export type ProbeTool = (typeof TOOLS)[number];

// ---------------------------------------------------------------------------------------------
// Options: --probe-from, --probe-to
// ---------------------------------------------------------------------------------------------

/** A parsed `--probe-from NAMESPACE/LABEL-SELECTOR`. */
export interface ProbeFromSpec {
  text: string;
  namespace: string;
  selector: LabelSelector;
}

/** Parse `--probe-from NAMESPACE/LABEL-SELECTOR` (`sample/app=curl`; `sample/` takes any pod of the namespace). */
export function parseProbeFrom(text: string): ProbeFromSpec {
  const slash = text.indexOf('/');
  if (slash <= 0) throw new Error(`bad --probe-from "${text}": expected NAMESPACE/LABEL-SELECTOR, e.g. sample/app=curl`);
  return { text, namespace: text.slice(0, slash), selector: parseLabelSelector(text.slice(slash + 1)) };
}

/** A probe target: an HTTP URL through the source's sidecar. */
export interface ProbeTarget {
  /** As shown in reports: `helloworld.sample:5000/`. */
  label: string;
  /** Host as given; a name without dots is relative to the source pod's namespace. */
  host: string;
  port: number;
  path: string;
  /** The Service behind it, when it is one (namespace known). */
  service?: { namespace: string; name: string };
}

/** Parse `--probe-to HOST[:PORT][/PATH]` (an `http://` prefix is accepted). Port defaults to 80. */
export function parseProbeTo(text: string): ProbeTarget {
  const m = /^(?:http:\/\/)?([A-Za-z0-9.-]+)(?::(\d+))?(\/.*)?$/.exec(text.trim());
  if (!m) throw new Error(`bad --probe-to "${text}": expected HOST[:PORT][/PATH], e.g. helloworld.sample:5000/hello`);
  const host = m[1].toLowerCase();
  const port = m[2] ? Number(m[2]) : 80;
  if (port < 1 || port > 65535) throw new Error(`bad --probe-to "${text}": port ${port} out of range`);
  const path = m[3] ?? '/';
  const target: ProbeTarget = { label: `${host}:${port}${path}`, host, port, path };
  const parts = host.split('.');
  if (parts.length >= 2 && (parts.length === 2 || parts[2] === 'svc')) target.service = { namespace: parts[1], name: parts[0] };
  return target;
}

/** The FQDN a target's host stands for in a pod of `namespace` (Kubernetes search path). */
export function targetFqdn(target: ProbeTarget, namespace: string): string {
  const parts = target.host.split('.');
  if (parts.length === 1) return `${target.host}.${namespace}.svc.${CLUSTER_DOMAIN}`;
  if (parts.length === 2) return `${target.host}.svc.${CLUSTER_DOMAIN}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${target.host}.${CLUSTER_DOMAIN}`;
  return target.host;
}

// ---------------------------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------------------------

/** A pod has a sidecar when Istio's injector stamped it (the istio-proxy container may be a native sidecar). */
export function hasSidecar(pod: KubeObject): boolean {
  return annotationsOf(pod)[SIDECAR_STATUS_ANNOTATION] !== undefined;
}

/** The application container: the default-container annotation, else the first container that is not istio-proxy. */
export function applicationContainer(pod: KubeObject): string | undefined {
  const names = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name).filter((n) => n !== PROXY_CONTAINER);
  const preferred = annotationsOf(pod)['kubectl.kubernetes.io/default-container'];
  return preferred && names.includes(preferred) ? preferred : names[0];
}

function isRunning(pod: KubeObject): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp && isPodReady(pod);
}

function isSystemNamespace(namespace: string | undefined, istioNamespace: string): boolean {
  return namespace === istioNamespace || namespace === 'kube-system' || namespace === 'kube-public' || namespace === 'kube-node-lease' || /^istio-/.test(namespace ?? '');
}

function isGatewayPod(pod: KubeObject): boolean {
  const labels = labelsOf(pod);
  return /gateway/.test(labels.istio ?? '') || labels['gateway.networking.k8s.io/gateway-name'] !== undefined || labels['istio.io/gateway-name'] !== undefined;
}

/** Pods whose image or container name suggests a toolbox: tried first. */
function looksLikeToolbox(pod: KubeObject): boolean {
  return ((pod.spec?.containers ?? []) as { name: string; image?: string }[]).some((c) => /curl|sleep|netshoot|toolbox|busybox/.test(`${c.name} ${c.image ?? ''}`));
}

// ---------------------------------------------------------------------------------------------
// Shared per reader and consumer
// ---------------------------------------------------------------------------------------------

/**
 * Values shared by the checks that read one cluster: the first consumer starts the work; every
 * other consumer gets the same promise once; a consumer asking again gets new work.
 */
class SharedPerReader<T> {
  readonly #entries = new WeakMap<ClusterReader, Map<string, { value: Promise<T>; consumers: Set<string> }>>();

  get(reader: ClusterReader, key: string, consumer: string, start: () => Promise<T>): Promise<T> {
    let byKey = this.#entries.get(reader);
    if (!byKey) this.#entries.set(reader, (byKey = new Map()));
    const entry = byKey.get(key);
    if (entry && !entry.consumers.has(consumer)) {
      entry.consumers.add(consumer);
      return entry.value;
    }
    const value = start();
    // A rejected value is still shared with the other consumers (one answer per question); keep
    // the rejection from being reported as unhandled when nobody else asks.
    value.catch(() => undefined);
    byKey.set(key, { value, consumers: new Set([consumer]) });
    return value;
  }
}

/** Wait for `promise` unless the check's signal aborts first (the shared work goes on for the others). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Probe settings
// ---------------------------------------------------------------------------------------------

/** What every probe of a run uses (from CheckOptions). */
export interface ProbeSettings {
  from: ProbeFromSpec[];
  /** Given targets, or undefined for the defaults. */
  to?: ProbeTarget[];
  count: number;
  timeoutMs: number;
  istioNamespace: string;
}

/** Probe settings from the check options. Throws on bad --probe-from/--probe-to (the check errors with the reason). */
export function probeSettings(options: CheckContext['options']): ProbeSettings {
  const count = options.probeCount ?? DEFAULT_PROBE_COUNT;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error(`--probe-count must be an integer from 1 to 1000, got ${count}`);
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new Error(`--probe-timeout must be positive, got ${timeoutMs} ms`);
  const settings: ProbeSettings = { from: (options.probeFrom ?? []).map(parseProbeFrom), count, timeoutMs, istioNamespace: options.istioNamespace };
  if (options.probeTo?.length) settings.to = options.probeTo.map(parseProbeTo);
  return settings;
}

/** curl's `-m` in whole-or-fractional seconds. */
function seconds(ms: number): string {
  return String(Math.max(0.1, ms / 1000));
}

// ---------------------------------------------------------------------------------------------
// Source pods
// ---------------------------------------------------------------------------------------------

/** The pod probes run from, in one cluster. */
export interface ProbeSource {
  cluster: string;
  pod: PodRef;
  /** Application container the probes exec into. */
  container: string;
  labels: LabelMap;
  tools: Set<ProbeTool>;
  sidecar: boolean;
}

/** A source, or why a cluster has none. */
export type SourceSelection = { source: ProbeSource } | { skip: string };

const sources = new SharedPerReader<SourceSelection>();

/**
 * The source pod of a cluster: the first pod matching a `--probe-from` spec, else a Running pod
 * with a sidecar outside system namespaces (namespace `sample` and toolbox-looking images first),
 * whose tools are detected with `command -v`. A pod with curl wins; one with only getent/nslookup
 * is kept (DNS probes still work). Transport failures of the exec throw (the check errors).
 */
export function selectSource(reader: ClusterReader, settings: ProbeSettings, consumer: string): Promise<SourceSelection> {
  const key = JSON.stringify([settings.from.map((f) => f.text), settings.timeoutMs]);
  return sources.get(reader, key, consumer, () => findSource(reader, settings));
}

async function findSource(reader: ClusterReader, settings: ProbeSettings): Promise<SourceSelection> {
  const pods = await reader.list('pods');
  let candidates: KubeObject[];
  if (settings.from.length) {
    candidates = settings.from.flatMap((spec) =>
      pods
        .filter((p) => p.metadata.namespace === spec.namespace && labelSelectorMatches(spec.selector, labelsOf(p)) && isRunning(p))
        .sort((a, b) => Number(hasSidecar(b)) - Number(hasSidecar(a)) || a.metadata.name.localeCompare(b.metadata.name)),
    );
    if (candidates.length === 0) return { skip: `no Running pod matches --probe-from ${settings.from.map((f) => f.text).join(', ')}` };
  } else {
    candidates = pods
      .filter((p) => isRunning(p) && hasSidecar(p) && !isGatewayPod(p) && !isSystemNamespace(p.metadata.namespace, settings.istioNamespace) && applicationContainer(p))
      .sort(
        (a, b) =>
          Number(b.metadata.namespace === PREFERRED_NAMESPACE) - Number(a.metadata.namespace === PREFERRED_NAMESPACE) ||
          Number(looksLikeToolbox(b)) - Number(looksLikeToolbox(a)) ||
          `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
      );
    if (candidates.length === 0) {
      return { skip: 'no Running pod with an istio-proxy sidecar outside system namespaces to probe from (choose one with --probe-from NAMESPACE/LABEL-SELECTOR)' };
    }
  }

  const tried: string[] = [];
  let fallback: ProbeSource | undefined;
  for (const pod of candidates.slice(0, MAX_CANDIDATES)) {
    const container = applicationContainer(pod);
    const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name };
    if (!container) {
      tried.push(`${ref.namespace}/${ref.name} (no application container)`);
      continue;
    }
    const detected = await detectTools(reader, ref, container, settings.timeoutMs);
    const source: ProbeSource = { cluster: reader.name, pod: ref, container, labels: labelsOf(pod), tools: detected.tools, sidecar: hasSidecar(pod) };
    if (detected.tools.has('curl')) return { source };
    fallback ??= detected.tools.size > 0 ? source : undefined;
    tried.push(`${ref.namespace}/${ref.name} container ${container} (${detected.note})`);
  }
  if (fallback) return { source: fallback };
  return { skip: `no probe tools (curl, getent, nslookup, nc) in ${tried.join('; ')}` };
}

/** Which probe tools a container has (`command -v`); a container without a shell has none. */
export async function detectTools(reader: ClusterReader, pod: PodRef, container: string, timeoutMs: number): Promise<{ tools: Set<ProbeTool>; note: string }> {
  const script = `${TOOLS.map((t) => `command -v ${t}`).join('; ')}; exit 0`;
  const result = await reader.exec(pod, container, ['sh', '-c', script], { timeoutMs: timeoutMs + EXEC_SLACK_MS });
  if (result.exitCode !== 0) {
    const reason = /not found|no such file/i.test(result.stderr) ? 'no shell (sh)' : `tool detection exited ${result.exitCode}: ${firstLine(result.stderr)}`;
    return { tools: new Set(), note: reason };
  }
  const found = new Set(result.stdout.split('\n').map((l) => l.trim().split('/').pop() ?? ''));
  const tools = new Set(TOOLS.filter((t) => found.has(t)));
  return { tools, note: tools.size ? `has ${[...tools].join(', ')}` : 'none of curl, getent, nslookup, nc' };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** The check's skip reason when the source lacks every tool of `needed`. */
export function missingTool(source: ProbeSource, needed: ProbeTool[]): string | undefined {
  if (needed.some((t) => source.tools.has(t))) return undefined;
  const has = source.tools.size ? `it has ${[...source.tools].join(', ')}` : 'it has none of the probe tools';
  return `probe pod ${source.pod.namespace}/${source.pod.name} (container ${source.container}) has no ${needed.join(' or ')}; ${has} (choose another with --probe-from)`;
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

/** Services no probe should target by default: the control plane, gateways and cluster DNS. */
function isSystemService(svc: KubeObject, istioNamespace: string): boolean {
  const ns = svc.metadata.namespace;
  if (isSystemNamespace(ns, istioNamespace)) return true;
  if (ns === 'default' && svc.metadata.name === 'kubernetes') return true;
  const labels = labelsOf(svc);
  return /gateway|istiod|pilot/.test(labels.istio ?? '') || labels['topology.istio.io/network'] !== undefined || /^(istiod|kube-dns)/.test(svc.metadata.name);
}

/** The port Istio treats as HTTP (appProtocol, else the name prefix), where curl makes sense. */
function httpPortOf(svc: KubeObject): number | undefined {
  const port = servicePorts(svc).find((p) => {
    const appProtocol = ((p as { appProtocol?: string }).appProtocol ?? '').toLowerCase();
    if (appProtocol) return appProtocol === 'http' || appProtocol === 'http2' || appProtocol === 'kubernetes.io/h2c';
    const name = (p.name ?? '').toLowerCase();
    return name === 'http' || name.startsWith('http-') || name === 'http2' || name.startsWith('http2-');
  });
  return port?.port;
}

/**
 * Default targets: HTTP Services (not system ones, not headless) present in two or more clusters,
 * plus Services present in one cluster whose namespace has injected pods in another (remote-only
 * Services: those callers depend on cross-cluster discovery and DNS). Sorted; at most
 * MAX_DEFAULT_TARGETS.
 */
export async function defaultTargets(readers: ClusterReader[], infos: ClusterInfo[], istioNamespace: string): Promise<ProbeTarget[]> {
  const usable = readers.filter((_r, i) => infos[i]?.reachable !== false);
  const perCluster = await Promise.all(
    usable.map(async (r) => ({ cluster: r.name, services: await peerRead(() => r.list('services'), []), pods: await peerRead(() => r.list('pods'), []) })),
  );
  const byKey = new Map<string, { svc: KubeObject; clusters: string[] }>();
  for (const { cluster, services } of perCluster) {
    for (const svc of services) {
      if (isSystemService(svc, istioNamespace) || svc.spec?.clusterIP === 'None' || svc.spec?.type === 'ExternalName') continue;
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      const entry = byKey.get(key) ?? { svc, clusters: [] };
      entry.clusters.push(cluster);
      byKey.set(key, entry);
    }
  }
  const targets: ProbeTarget[] = [];
  for (const [, { svc, clusters }] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    const namespace = svc.metadata.namespace ?? 'default';
    const callersElsewhere = perCluster.some((c) => !clusters.includes(c.cluster) && c.pods.some((p) => p.metadata.namespace === namespace && hasSidecar(p)));
    if (clusters.length < 2 && !callersElsewhere) continue;
    const port = httpPortOf(svc);
    if (port === undefined) continue;
    const host = `${svc.metadata.name}.${namespace}`;
    targets.push({ label: `${host}:${port}/`, host, port, path: '/', service: { namespace, name: svc.metadata.name } });
  }
  return targets.slice(0, MAX_DEFAULT_TARGETS);
}

/** Why a probe check has nothing to probe (no --probe-to and no shared HTTP Service). */
export const NO_TARGETS_REASON = 'no targets: no HTTP Service is present in two or more clusters (give targets with --probe-to HOST[:PORT][/PATH])';

/** The targets of a run: the given ones, else the defaults. */
export async function probeTargets(ctx: CheckContext, settings: ProbeSettings): Promise<ProbeTarget[]> {
  return settings.to ?? defaultTargets(ctx.clusters, ctx.clusterInfos, settings.istioNamespace);
}

/** Drop targets that are the source's own Service: a probe of itself says nothing about the mesh. */
export async function targetsFor(reader: ClusterReader, source: ProbeSource, targets: ProbeTarget[]): Promise<ProbeTarget[]> {
  const services = await reader.list('services');
  return targets.filter((t) => {
    if (!t.service) return true;
    const svc = services.find((s) => s.metadata.namespace === t.service!.namespace && s.metadata.name === t.service!.name);
    const selector = svc?.spec?.selector as LabelMap | undefined;
    const selectsSource =
      svc !== undefined && t.service.namespace === source.pod.namespace && selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => source.labels[k] === v);
    return !selectsSource;
  });
}

/**
 * The source pod of a per-cluster probe check, with at least one of `tools`. Skips the check
 * (ctx.skip) when the cluster has no source pod or the pod lacks the tools.
 */
export async function sourceOrSkip(ctx: CheckContext, settings: ProbeSettings, consumer: string, tools: ProbeTool[]): Promise<ProbeSource> {
  const selection = await untilAborted(selectSource(ctx.cluster!, settings, consumer), ctx.signal);
  if ('skip' in selection) return ctx.skip(selection.skip);
  const noTool = missingTool(selection.source, tools);
  if (noTool) ctx.skip(noTool);
  return selection.source;
}

/** The probe targets `source` can reach (targetsFor); skips the check when there are none. */
export async function targetsOrSkip(ctx: CheckContext, settings: ProbeSettings, source: ProbeSource): Promise<ProbeTarget[]> {
  const targets = await targetsFor(ctx.cluster!, source, await probeTargets(ctx, settings));
  if (targets.length === 0) ctx.skip(NO_TARGETS_REASON);
  return targets;
}

// ---------------------------------------------------------------------------------------------
// HTTP probes
// ---------------------------------------------------------------------------------------------

/** Why a request failed. */
export type FailureKind = 'dns' | 'connect' | 'timeout' | 'tls' | 'reset' | 'upstream' | 'server' | 'other';

/** The outcome of one request. */
export interface ProbeRequest {
  /** curl's exit code. */
  exitCode: number;
  /** HTTP status (0 when none came back). */
  status: number;
  /** curl's time_total in ms (undefined when unknown). */
  ms?: number;
  failure?: { kind: FailureKind; detail: string };
}

const MARKER = '__meshdoctor__';
const WRITE_OUT = `\\n${MARKER} %{http_code} %{time_total}\\n`;

/** The curl command of one request (body on stdout: Envoy's 503 reason is in it). */
export function curlCommand(url: string, timeoutMs: number): string[] {
  return ['curl', '-sS', '-m', seconds(timeoutMs), '-w', WRITE_OUT, url];
}

/** Envoy's local reply bodies for upstream failures, as Envoy words them. */
const ENVOY_REASON = /(no healthy upstream|upstream connect error[^\n]*|upstream request timeout|no route to host|delayed connect error[^\n]*)/i;

/**
 * Classify a curl result: curl exit 6 DNS, 7 connect, 28 timeout, 35/60 TLS, 52/56 reset; an HTTP
 * 5xx with Envoy's reason in the body is `upstream` (or `tls` when the reason is a TLS error), another
 * 5xx is the server's own. Status below 500 is a success: the request reached the application.
 */
export function classifyCurl(result: ExecResult): ProbeRequest {
  const markerAt = result.stdout.lastIndexOf(MARKER);
  const written = markerAt >= 0 ? result.stdout.slice(markerAt + MARKER.length).trim().split(/\s+/) : [];
  const status = Number(written[0]) || 0;
  const time = Number(written[1]);
  const body = markerAt >= 0 ? result.stdout.slice(0, markerAt) : result.stdout;
  const request: ProbeRequest = { exitCode: result.exitCode, status };
  if (Number.isFinite(time) && written[1] !== undefined) request.ms = Math.round(time * 1000 * 10) / 10;
  const curlError = firstLine(result.stderr.split('\n').filter((l) => l.startsWith('curl:')).join('\n')) || firstLine(result.stderr) || `curl exited ${result.exitCode}`;
  switch (result.exitCode) {
    case 0:
      break;
    case 6:
      request.failure = { kind: 'dns', detail: curlError };
      return request;
    case 7:
      request.failure = { kind: 'connect', detail: curlError };
      return request;
    case 28:
      request.failure = { kind: 'timeout', detail: curlError };
      return request;
    case 35:
    case 60:
      request.failure = { kind: 'tls', detail: curlError };
      return request;
    case 52:
    case 56:
      request.failure = { kind: 'reset', detail: curlError };
      return request;
    default:
      request.failure = { kind: 'other', detail: curlError };
      return request;
  }
  if (markerAt < 0) {
    request.failure = { kind: 'other', detail: 'curl printed no result line (an old curl without -w?)' };
  } else if (status >= 500) {
    const reason = ENVOY_REASON.exec(body)?.[0]?.trim();
    if (reason) request.failure = { kind: /TLS error|CERTIFICATE_VERIFY_FAILED|SSL/i.test(reason) ? 'tls' : 'upstream', detail: `HTTP ${status}: ${reason}` };
    else request.failure = { kind: 'server', detail: `HTTP ${status}${body.trim() ? `: ${firstLine(body).slice(0, 160)}` : ''}` };
  }
  return request;
}

/** Run `items` through `work` with at most `limit` in flight; the first rejection rejects all. */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(runners);
  return results;
}

/** One target's requests in a round. */
export interface TargetRound {
  target: ProbeTarget;
  /** FQDN the requests named (the Envoy cluster's host). */
  fqdn: string;
  requests: ProbeRequest[];
}

/** A round of HTTP probes from one source, bracketed by readings of its sidecar's `/clusters`. */
export interface ProbeRound {
  source: ProbeSource;
  targets: TargetRound[];
  statsBefore?: EnvoyClusters;
  statsAfter?: EnvoyClusters;
  /** Why the sidecar's counters could not be read. */
  statsError?: string;
}

const rounds = new SharedPerReader<ProbeRound>();

/**
 * The HTTP probe round of a source (shared, see the file comment): `count` requests per target,
 * REQUEST_CONCURRENCY at a time, each bounded by `timeoutMs`. Exec transport failures reject it.
 */
export function probeRound(reader: ClusterReader, source: ProbeSource, targets: ProbeTarget[], settings: ProbeSettings, consumer: string): Promise<ProbeRound> {
  const key = JSON.stringify([source.pod, targets.map((t) => t.label), settings.count, settings.timeoutMs]);
  return rounds.get(reader, key, consumer, () => runRound(reader, source, targets, settings));
}

async function runRound(reader: ClusterReader, source: ProbeSource, targets: ProbeTarget[], settings: ProbeSettings): Promise<ProbeRound> {
  const round: ProbeRound = { source, targets: targets.map((target) => ({ target, fqdn: targetFqdn(target, source.pod.namespace), requests: [] })) };
  const before = await readSidecarClusters(reader, source, settings.timeoutMs);
  if ('error' in before) round.statsError = before.error;
  else round.statsBefore = before.clusters;

  const jobs = round.targets.flatMap((t) => Array.from({ length: settings.count }, () => t));
  const results = await pool(jobs, REQUEST_CONCURRENCY, async (t) => {
    const url = `http://${t.fqdn}:${t.target.port}${t.target.path}`;
    const result = await reader.exec(source.pod, source.container, curlCommand(url, settings.timeoutMs), { timeoutMs: settings.timeoutMs + EXEC_SLACK_MS });
    return { t, request: classifyCurl(result) };
  });
  for (const { t, request } of results) t.requests.push(request);

  if (round.statsBefore) {
    const after = await readSidecarClusters(reader, source, settings.timeoutMs);
    if ('error' in after) round.statsError = after.error;
    else round.statsAfter = after.clusters;
  }
  return round;
}

/**
 * Envoy's `/clusters` of the source's sidecar, read fresh (sidecarAdmin is memoized per pod, a
 * before/after reading must not be): exec `pilot-agent request GET clusters` in istio-proxy.
 */
async function readSidecarClusters(reader: ClusterReader, source: ProbeSource, timeoutMs: number): Promise<{ clusters: EnvoyClusters } | { error: string }> {
  if (!source.sidecar) return { error: `probe pod ${source.pod.namespace}/${source.pod.name} has no sidecar` };
  let result: ExecResult;
  try {
    result = await reader.exec(source.pod, PROXY_CONTAINER, ['pilot-agent', 'request', 'GET', 'clusters'], { timeoutMs: timeoutMs + EXEC_SLACK_MS });
  } catch (err) {
    if (err instanceof AccessError && err.reason === 'forbidden') return { error: err.message };
    throw err;
  }
  if (result.exitCode !== 0) return { error: `pilot-agent request GET clusters exited ${result.exitCode}: ${firstLine(result.stderr)}` };
  return { clusters: parseEnvoyClusters(result.stdout) };
}

/** Status counts, latency percentiles and failures of a target's requests. */
export interface RequestSummary {
  total: number;
  ok: number;
  failed: number;
  /** HTTP status (or `curl exit N` when none) -> count. */
  statuses: Record<string, number>;
  p50Ms?: number;
  p95Ms?: number;
  /** Failures by kind, with the first detail seen of each. */
  failures: { kind: FailureKind; count: number; detail: string }[];
}

/** Summarize requests: what http reports per source cluster and target. */
export function summarizeRequests(requests: ProbeRequest[]): RequestSummary {
  const statuses: Record<string, number> = {};
  const failures = new Map<FailureKind, { kind: FailureKind; count: number; detail: string }>();
  for (const r of requests) {
    const key = r.status ? String(r.status) : `curl exit ${r.exitCode}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (r.failure) {
      const f = failures.get(r.failure.kind) ?? { kind: r.failure.kind, count: 0, detail: r.failure.detail };
      f.count++;
      failures.set(r.failure.kind, f);
    }
  }
  const times = requests.filter((r) => !r.failure && r.ms !== undefined).map((r) => r.ms!).sort((a, b) => a - b);
  const failed = requests.filter((r) => r.failure).length;
  const summary: RequestSummary = { total: requests.length, ok: requests.length - failed, failed, statuses, failures: [...failures.values()].sort((a, b) => b.count - a.count) };
  if (times.length) {
    summary.p50Ms = percentile(times, 50);
    summary.p95Ms = percentile(times, 95);
  }
  return summary;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

// ---------------------------------------------------------------------------------------------
// DNS and TCP probes
// ---------------------------------------------------------------------------------------------

/** The result of resolving a name in the source pod. */
export type DnsResult = { resolved: true; addresses: string[] } | { resolved: false; detail: string };

/** Resolve `name` in the source pod with getent (else nslookup). Unexpected tool failures throw. */
export async function resolveInPod(reader: ClusterReader, source: ProbeSource, name: string, timeoutMs: number, signal?: AbortSignal): Promise<DnsResult> {
  const opts = { timeoutMs: timeoutMs + EXEC_SLACK_MS, signal };
  if (source.tools.has('getent')) {
    const r = await reader.exec(source.pod, source.container, ['getent', 'hosts', name], opts);
    // getent: 0 found, 2 not found (1 and 3 are usage/database errors).
    if (r.exitCode === 0) return { resolved: true, addresses: r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean) };
    if (r.exitCode === 2) return { resolved: false, detail: `getent hosts ${name}: not found` };
    throw new Error(`getent hosts ${name} in ${source.pod.namespace}/${source.pod.name} exited ${r.exitCode}: ${firstLine(r.stderr)}`);
  }
  if (source.tools.has('nslookup')) {
    const r = await reader.exec(source.pod, source.container, ['nslookup', name], opts);
    // Address lines before the first "Name:" are the DNS server's; the answers follow it.
    const nameAt = r.stdout.indexOf('Name:');
    const answers = nameAt < 0 ? [] : [...r.stdout.slice(nameAt).matchAll(/Address(?:\s+\d+)?:\s*([0-9a-fA-F.:]+)/g)].map((m) => m[1]);
    if (r.exitCode === 0 && answers.length) return { resolved: true, addresses: answers };
    if (/NXDOMAIN|can't find|server can't find|No answer/i.test(`${r.stdout}${r.stderr}`)) return { resolved: false, detail: firstLine(r.stdout.split('\n').filter((l) => /can't find|NXDOMAIN|No answer/i.test(l)).join('\n')) };
    throw new Error(`nslookup ${name} in ${source.pod.namespace}/${source.pod.name} exited ${r.exitCode}: ${firstLine(r.stderr || r.stdout)}`);
  }
  throw new Error('no DNS tool (getent or nslookup) in the probe pod');
}

/** The result of a TCP connect from the source pod. */
export type TcpResult = { connected: true; ms?: number } | { connected: false; kind: 'timeout' | 'refused' | 'dns' | 'other'; detail: string };

/** TCP connect to `address:port` from the source pod: curl telnet:// (else nc -z), bounded by `timeoutMs`. */
export async function tcpConnectFromPod(reader: ClusterReader, source: ProbeSource, address: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<TcpResult> {
  const opts = { timeoutMs: timeoutMs + EXEC_SLACK_MS, signal };
  const host = address.includes(':') ? `[${address}]` : address;
  if (source.tools.has('curl')) {
    // Without stdin, curl's telnet ends as soon as it is connected; -v tells a connect from a later timeout.
    const r = await reader.exec(source.pod, source.container, ['curl', '-v', '-sS', '--connect-timeout', seconds(timeoutMs), '-m', seconds(timeoutMs + 1000), `telnet://${host}:${port}`], opts);
    if (r.exitCode === 0 || /Connected to /.test(r.stderr)) return { connected: true };
    const detail = firstLine(r.stderr.split('\n').filter((l) => l.startsWith('curl:')).join('\n')) || `curl exited ${r.exitCode}`;
    if (r.exitCode === 28) return { connected: false, kind: 'timeout', detail };
    if (r.exitCode === 7) return { connected: false, kind: 'refused', detail };
    if (r.exitCode === 6) return { connected: false, kind: 'dns', detail };
    return { connected: false, kind: 'other', detail };
  }
  if (source.tools.has('nc')) {
    const r = await reader.exec(source.pod, source.container, ['nc', '-z', '-w', String(Math.max(1, Math.ceil(timeoutMs / 1000))), address, String(port)], opts);
    if (r.exitCode === 0) return { connected: true };
    const detail = firstLine(r.stderr) || `nc exited ${r.exitCode}`;
    return { connected: false, kind: /refused/i.test(detail) ? 'refused' : /timed out|timeout/i.test(detail) || !detail ? 'timeout' : 'other', detail };
  }
  throw new Error('no TCP tool (curl or nc) in the probe pod');
}

// ---------------------------------------------------------------------------------------------
// Who serves an endpoint
// ---------------------------------------------------------------------------------------------

/** What an Envoy host address is in the mesh. */
export interface EndpointOwner {
  cluster: string;
  /** `pod`: a pod IP; `gateway`: a network's east-west gateway address. */
  kind: 'pod' | 'gateway';
  network?: string;
}

/** A peer network's east-west gateway as a probe sees it. */
export interface GatewayTarget {
  cluster: string;
  network?: string;
  namespace: string;
  name: string;
  /** Addresses istiod would publish (may be empty: a LoadBalancer still pending). */
  addresses: string[];
  /** The port other networks connect to (the nodePort for a NodePort gateway). */
  port: number;
  type: string;
}

/**
 * Read a peer cluster's data for a probe's bookkeeping. A peer whose data cannot be read (forbidden,
 * unreachable) only drops out of the mapping: it must not stop the probes of a healthy cluster.
 */
async function peerRead<T>(read: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof AccessError) return fallback;
    throw err;
  }
}

/** Every recognised east-west gateway of the clusters, with its address and the port to reach. */
export async function eastWestGateways(readers: ClusterReader[], infos: ClusterInfo[]): Promise<GatewayTarget[]> {
  const all = await Promise.all(
    readers.map(async (reader, i) => {
      if (infos[i]?.reachable === false) return [];
      const [services, nodes] = await Promise.all([peerRead(() => reader.list('services'), []), reader.listOptional('nodes').catch(() => [] as KubeObject[])]);
      return findEastWestGateways(services)
        .filter((g) => g.recognisedByIstiod)
        .map((g): GatewayTarget => {
          const type = (g.service.spec?.type as string | undefined) ?? 'ClusterIP';
          const svcPort = servicePorts(g.service).find((p) => p.port === g.gatewayPort);
          const port = type === 'NodePort' && svcPort?.nodePort ? svcPort.nodePort : g.gatewayPort;
          return { cluster: reader.name, network: g.network, namespace: g.service.metadata.namespace ?? '', name: g.service.metadata.name, addresses: gatewayAddresses(g.service, nodes), port, type };
        });
    }),
  );
  return all.flat();
}

/** Map host addresses to the cluster behind them: pod IPs of every cluster and the gateways' addresses. */
export async function endpointOwners(readers: ClusterReader[], infos: ClusterInfo[]): Promise<Map<string, EndpointOwner>> {
  const owners = new Map<string, EndpointOwner>();
  await Promise.all(
    readers.map(async (reader, i) => {
      if (infos[i]?.reachable === false) return;
      for (const pod of await peerRead(() => reader.list('pods'), [])) {
        if (pod.spec?.hostNetwork) continue; // a node address, shared by many pods
        const ips = [pod.status?.podIP, ...((pod.status?.podIPs ?? []) as { ip: string }[]).map((p) => p.ip)].filter(Boolean) as string[];
        for (const ip of ips) owners.set(ip, { cluster: reader.name, kind: 'pod', network: infos[i]?.network });
      }
    }),
  );
  for (const gw of await eastWestGateways(readers, infos)) {
    for (const address of gw.addresses) owners.set(address, { cluster: gw.cluster, kind: 'gateway', network: gw.network });
  }
  return owners;
}

/** Clusters whose API has ready endpoints for a Service, with their count. */
export async function readyEndpointsByCluster(readers: ClusterReader[], infos: ClusterInfo[], service: { namespace: string; name: string }): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await Promise.all(
    readers.map(async (reader, i) => {
      if (infos[i]?.reachable === false) return;
      const slices = (await peerRead(() => reader.listOptional('endpointslices', { namespace: service.namespace }), [])).filter((s) => labelsOf(s)['kubernetes.io/service-name'] === service.name);
      let ready = 0;
      if (slices.length) {
        for (const slice of slices) {
          for (const ep of (slice.endpoints ?? []) as { addresses?: string[]; conditions?: { ready?: boolean } }[]) {
            if (ep.conditions?.ready !== false) ready += ep.addresses?.length ? 1 : 0;
          }
        }
      } else {
        const endpoints = (await reader.listOptional('endpoints', { namespace: service.namespace })).find((e) => e.metadata.name === service.name);
        for (const subset of (endpoints?.subsets ?? []) as { addresses?: unknown[] }[]) ready += subset.addresses?.length ?? 0;
      }
      if (ready > 0) counts.set(reader.name, ready);
    }),
  );
  return counts;
}

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
  gateways: GatewayTarget[];
  curlDetail?: string;
}): string {
  const { sourceNetwork, servingNetwork } = input;
  const crossNetwork = sourceNetwork !== undefined && servingNetwork !== undefined && sourceNetwork !== servingNetwork;
  const gateways = input.gateways.filter((g) => g.network === servingNetwork);
  const describeGateways = () =>
    gateways.length === 0
      ? `no east-west gateway Service is labelled for network ${servingNetwork}`
      : gateways
          .map((g) => (g.addresses.length ? `gateway ${g.namespace}/${g.name} in ${g.cluster} has address ${g.addresses.join(', ')}` : `gateway ${g.namespace}/${g.name} in ${g.cluster} has no address (${g.type === 'LoadBalancer' ? 'LoadBalancer pending' : `type ${g.type} without externalIPs`})`))
          .join('; ');
  if (crossNetwork && input.hostKinds.has('pod')) {
    return `Envoy sends to pod IPs of ${input.servingCluster} on network ${servingNetwork}, unreachable from network ${sourceNetwork}: istiod knows no east-west gateway address for network ${servingNetwork} (${describeGateways()})`;
  }
  if (crossNetwork && input.hostKinds.size === 0 && !gateways.some((g) => g.addresses.length > 0)) {
    return `istiod knows no east-west gateway address for network ${servingNetwork} (${describeGateways()}), so it drops that network's endpoints`;
  }
  return input.curlDetail ?? 'requests failed';
}

// ---------------------------------------------------------------------------------------------
// Which cluster served the failing requests
// ---------------------------------------------------------------------------------------------

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
