// The HTTP probe round of a source pod, shared by the checks of a run: connectivity/http (per
// cluster) and connectivity/cross-cluster (mesh) both need the same traffic, and the Envoy counters
// cross-cluster reads would count the other check's requests if each sent its own. So one round per
// source pod reads the sidecar's `/clusters` before and after its own requests, and both checks read
// that round, through the run's memo (a `--wait` retry gets a new memo, so a fresh round). Neither
// check depends on the other having run.
import { AccessError, type ClusterReader, type ExecResult } from '../../cluster/types.ts';
import type { RunMemo } from '../../engine/types.ts';
import { parseEnvoyClustersFor, type ClusterTarget, type EnvoyClusters } from '../envoy-clusters.ts';
import { PROXY_CONTAINER } from '../sidecars.ts';
import { execBatch } from './batch.ts';
import { classifyCurl, curlCommand, type FailureKind, type ProbeRequest } from './curl.ts';
import { firstLine, probeExecOptions } from './exec.ts';
import { targetFqdn, type ProbeSettings, type ProbeTarget } from './options.ts';
import type { ProbeSource } from './source.ts';

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

/**
 * The HTTP probe round of a source (shared through `memo`, see the file comment): `count` requests
 * per target in one probe batch (BATCH_LANES at a time), each bounded by `timeoutMs`. Exec transport
 * failures reject it.
 */
export function probeRound(memo: RunMemo, reader: ClusterReader, source: ProbeSource, targets: ProbeTarget[], settings: ProbeSettings): Promise<ProbeRound> {
  const key = JSON.stringify(['probe-round', reader.name, source.pod, targets.map((t) => t.label), settings.count, settings.timeoutMs]);
  return memo.get(key, () => runRound(reader, source, targets, settings));
}

async function runRound(reader: ClusterReader, source: ProbeSource, targets: ProbeTarget[], settings: ProbeSettings): Promise<ProbeRound> {
  const round: ProbeRound = { source, targets: targets.map((target) => ({ target, fqdn: targetFqdn(target, source.pod.namespace), requests: [] })) };
  // Only the round's own clusters are parsed out of the sidecar's /clusters (all a check reads of it).
  const wanted = round.targets.map((t) => ({ host: t.fqdn, port: t.target.port }));
  // An ambient source has no Envoy of its own: its requests are attributed from the responses.
  const before = source.sidecar
    ? await readSidecarClusters(reader, source, wanted, settings.timeoutMs)
    : source.ambient
      ? undefined
      : { error: `probe pod ${source.pod.namespace}/${source.pod.name} has no sidecar and is not captured by ztunnel` };
  if (before && 'error' in before) round.statsError = before.error;
  else if (before) round.statsBefore = before.clusters;

  // One batch (./batch.ts): its lanes keep the BATCH_LANES requests in flight that separate execs had.
  const jobs = round.targets.flatMap((t) => Array.from({ length: settings.count }, () => t));
  const results = await execBatch(
    reader,
    source,
    jobs.map((t) => ({ argv: curlCommand(`http://${t.fqdn}:${t.target.port}${t.target.path}`, settings.timeoutMs), timeoutMs: settings.timeoutMs })),
  );
  for (const [i, t] of jobs.entries()) t.requests.push(classifyCurl(results[i]));

  if (round.statsBefore) {
    const after = await readSidecarClusters(reader, source, wanted, settings.timeoutMs);
    if ('error' in after) round.statsError = after.error;
    else round.statsAfter = after.clusters;
  }
  return round;
}

/**
 * Envoy's `/clusters` of the source's sidecar, `wanted` clusters only, read fresh (sidecarAdmin is memoized per pod, a
 * before/after reading must not be): exec `pilot-agent request GET clusters` in istio-proxy.
 */
async function readSidecarClusters(reader: ClusterReader, source: ProbeSource, wanted: ClusterTarget[], timeoutMs: number): Promise<{ clusters: EnvoyClusters } | { error: string }> {
  let result: ExecResult;
  try {
    result = await reader.exec(source.pod, PROXY_CONTAINER, ['pilot-agent', 'request', 'GET', 'clusters'], probeExecOptions(timeoutMs));
  } catch (err) {
    if (err instanceof AccessError && err.reason === 'forbidden') return { error: err.message };
    throw err;
  }
  if (result.exitCode !== 0) return { error: `pilot-agent request GET clusters exited ${result.exitCode}: ${firstLine(result.stderr)}` };
  return { clusters: parseEnvoyClustersFor(result.stdout, wanted) };
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
