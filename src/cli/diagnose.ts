// `meshdoctor [category]`: choose clusters (kubeconfig, snapshot or lab), discover the topology,
// run the checks, render every requested output. Exit code from the engine's pure exitCodeFor().
import { dirname, resolve } from 'node:path';
import { access, constants, mkdir } from 'node:fs/promises';
import { probeSettings } from '../mesh/probes/options.ts';
import type { ClusterReader } from '../cluster/types.ts';
import type { LocalServerPolicy } from '../cluster/remote-probe.ts';
import { runChecks } from '../engine/run.ts';
import { exitCodeFor, summarize } from '../engine/exit-code.ts';
import { withRootCauses } from '../engine/root-causes.ts';
import type { Category, Check, CheckOptions, CheckResult, ClusterInfo, MeshInfo, Report, Severity } from '../engine/types.ts';
import { selectChecks } from '../engine/registry.ts';
import { render } from '../reporters/index.ts';
import { parseOutputSpec, writeFileAtomic } from '../reporters/write.ts';
import { createProgress } from '../reporters/progress.ts';
import { terminalText } from '../reporters/sanitize.ts';
import { outputWidth } from '../reporters/wrap.ts';
import { discoverTopology } from '../mesh/discovery.ts';
import { loadAllChecks } from './plugins.ts';
import { parseDuration } from './durations.ts';
import { UsageError } from './errors.ts';
import { colorLevel } from './color.ts';
import { nowOf, type CliIO } from './io.ts';

/** Parsed options of a run command. */
export interface DiagnoseArgs {
  category?: Category;
  kubeconfig?: string;
  context?: string[];
  istioNamespace: string;
  snapshot?: string;
  lab?: string;
  fault?: string[];
  clusters?: number;
  output?: string[];
  failOn: 'error' | 'warning' | 'never';
  only?: string[];
  skip?: string[];
  timeout: string;
  wait?: string;
  concurrency: number;
  plugin?: string[];
  certWarnDays: number;
  severity?: string[];
  probeFrom?: string[];
  probeTo?: string[];
  probeCount?: number;
  probeTimeout?: string;
  prometheus?: string;
  allowLoopbackRemoteSecrets?: boolean;
  color?: boolean;
  problemsOnly?: boolean;
}

interface ClusterSource {
  readers: ClusterReader[];
  notes: string[];
  capturedAt?: Date;
  istioNamespace: string;
  /** The lab's own Prometheus, used when no --prometheus is given. */
  prometheusUrl?: string;
  /** API server URLs of the operator's kubeconfig contexts (a remote secret's may be probed whatever their address). */
  trustedServers?: string[];
  close(): Promise<void>;
}

/** The exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT), in the process and in the report. */
export const INTERRUPTED_EXIT_CODE = 130;

/** Run the diagnosis; returns the exit code (0, 1 or 3). Throws user-input errors (exit 2). */
export async function runDiagnose(args: DiagnoseArgs, io: CliIO): Promise<number> {
  const startedAt = nowOf(io);
  const startedMark = performance.now();
  const outputs = (args.output?.length ? args.output : ['human']).map(parseOutputSpec);
  if (outputs.filter((o) => !o.file).length > 1) throw new UsageError('only one --output may go to stdout; give the others a file: -o junit=report.xml');
  const timeoutMs = parseDuration(args.timeout, '--timeout');
  const waitMs = args.wait ? parseDuration(args.wait, '--wait') : 0;
  if (!Number.isInteger(args.concurrency) || args.concurrency < 1) throw new UsageError('--concurrency must be a positive integer');
  if (args.fault?.length && args.lab === undefined) throw new UsageError('--fault needs --lab (faults are injected into the embedded lab)');
  if (args.snapshot !== undefined && args.lab !== undefined) throw new UsageError('use either --snapshot or --lab, not both');
  const severityOverrides = parseSeverityOverrides(args.severity ?? []);
  const probeOptions = validateOptions(args, io);
  await checkOutputsWritable(outputs, io);

  const allChecks = await loadAllChecks(args.plugin ?? [], io.cwd);
  const checks = selectChecks(allChecks, { category: args.category, only: args.only, skip: args.skip });
  if (checks.length === 0) {
    // A CI gate that ran nothing must not read as green.
    throw new UsageError(`no checks selected${args.category ? ` in category ${args.category}` : ''}${args.only?.length ? ` by --only ${args.only.join(', ')}` : ''}${args.skip?.length ? ` after --skip ${args.skip.join(', ')}` : ''}; see \`meshdoctor checks\``);
  }

  const results: CheckResult[] = [];
  let topology: { clusters: ClusterInfo[]; mesh: MeshInfo } = { clusters: [], mesh: { model: 'unknown', multiNetwork: false } };
  // Set once the clusters are open (a snapshot's capture time); read by writePartial before that too.
  let capturedAt: Date | undefined = undefined;
  // A run that stops early (clusters cannot be opened, Ctrl-C) still writes its file outputs with
  // what finished and why it stopped: CI then shows the reason instead of "no test results".
  const writePartial = (reason: string, opts: { interrupted?: boolean } = {}): void => {
    const partial = buildReport({ checks: allChecks, startedAt, startedMark, results: [...results], ...topology, failOn: args.failOn, io, capturedAt, aborted: reason });
    // The process exits 130 on Ctrl-C (as shells expect): the report says the same.
    if (opts.interrupted) partial.exitCode = INTERRUPTED_EXIT_CODE;
    try {
      writeFileOutputs(outputs, partial, io);
      // On Ctrl-C the operator also sees what finished, on the stream they asked for it.
      const toStdout = outputs.find((o) => !o.file);
      if (opts.interrupted && toStdout) io.stdout.write(render(toStdout.format, partial, renderOptions(args, io, io.stdout)));
    } catch {
      // The abort's own error is what the user needs to see.
    }
  };

  const progress = createProgress({ enabled: Boolean(io.stderr.isTTY) && !io.env.CI, stream: io.stderr });
  // From the first request on: Ctrl-C while peers are discovered on a slow API writes the reports too.
  const stopInterrupt = io.onInterrupt?.(() => {
    progress.stop();
    writePartial('interrupted', { interrupted: true });
    io.stderr.write('meshdoctor: interrupted; partial reports written\n');
  });
  let source: ClusterSource;
  try {
    source = await openClusters(args, io, timeoutMs);
  } catch (err) {
    stopInterrupt?.();
    writePartial((err as Error).message.split('\n')[0]);
    throw err;
  }
  capturedAt = source.capturedAt;
  let report: Report | undefined;
  try {
    for (const note of source.notes) io.stderr.write(`note: ${terminalText(note)}\n`);
    // Discovery is bounded by --timeout too: a cluster that does not answer in time is unreachable.
    topology = await discoverTopology(source.readers, source.istioNamespace, { timeoutMs });
    refuseSameCluster(topology.clusters);
    const prometheus = args.prometheus ?? source.prometheusUrl;
    const options: CheckOptions = {
      istioNamespace: source.istioNamespace,
      certWarnDays: args.certWarnDays,
      now: source.capturedAt ?? nowOf(io),
      ...probeOptions,
      prometheus,
      sharedLoopback: args.lab !== undefined && args.snapshot === undefined,
    };
    const ran = await runChecks({
      checks,
      readers: source.readers,
      clusterInfos: topology.clusters,
      mesh: topology.mesh,
      options,
      timeoutMs,
      concurrency: args.concurrency,
      waitMs,
      severityOverrides,
      // Remote secrets' API servers are probed only live (a snapshot records no reachability), never on
      // this machine or its metadata service unless the lab, the flag or the operator's kubeconfig says so.
      probeRemoteApi: source.readers.some((r) => r.live) ? await remoteProbe({ loopback: options.sharedLoopback || args.allowLoopbackRemoteSecrets === true, trustedServers: source.trustedServers }) : undefined,
      queryPrometheus: await prometheusQuery(prometheus),
      onStart: (total) => progress.start(total),
      onRetry: (failing, retryInMs, leftMs) => {
        const names = [...new Set(failing.map((r) => `${r.checkId} [${r.cluster}]`))];
        const text = `waiting: ${names.length} failing (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}); retry in ${Math.round(retryInMs / 1000)}s, ${Math.round(leftMs / 1000)}s left of --wait`;
        // On a terminal the progress line says it in place; CI logs get one line per round.
        if (progress.live) progress.waiting(text);
        else io.stderr.write(`${terminalText(text)}\n`);
      },
      onRound: (total) => progress.start(total),
      onResult: (result) => {
        results.push(result);
        progress.tick(result.checkId, result.cluster);
      },
    });
    report = buildReport({ checks: allChecks, startedAt, startedMark, results: ran, ...topology, failOn: args.failOn, io, capturedAt });
  } catch (err) {
    writePartial((err as Error)?.message?.split('\n')[0] ?? String(err));
    throw err;
  } finally {
    stopInterrupt?.();
    progress.stop();
    await source.close();
  }

  writeFileOutputs(outputs, report, io);
  const toStdout = outputs.find((o) => !o.file);
  if (toStdout) io.stdout.write(render(toStdout.format, report, renderOptions(args, io, io.stdout)));
  return report.exitCode;
}

function renderOptions(args: DiagnoseArgs, io: CliIO, stream: CliIO['stdout']) {
  const level = colorLevel(args.color, io.env, Boolean(stream.isTTY));
  // The human report says how old an offline snapshot is, and fits the terminal (or $COLUMNS).
  return { color: level > 0, colorLevel: level, now: nowOf(io), problemsOnly: args.problemsOnly === true, width: outputWidth({ isTTY: stream.isTTY, columns: io.columns }, io.env) };
}

function writeFileOutputs(outputs: ReturnType<typeof parseOutputSpec>[], report: Report, io: CliIO): void {
  for (const output of outputs) {
    if (!output.file) continue;
    const path = resolve(io.cwd, output.file);
    try {
      writeFileAtomic(path, render(output.format, report, { color: false, colorLevel: 0 }));
    } catch (err) {
      throw new UsageError(`cannot write ${output.format} report to ${path}: ${(err as Error).message}`);
    }
  }
}

function buildReport(input: {
  /** Every loaded check: their meta says which findings explain which. */
  checks: readonly Check[];
  startedAt: Date;
  /** performance.now() at the start: the duration is measured on the monotonic clock. */
  startedMark: number;
  results: CheckResult[];
  clusters: ClusterInfo[];
  mesh: MeshInfo;
  failOn: Report['failOn'];
  io: CliIO;
  capturedAt?: Date;
  aborted?: string;
}): Report {
  const { results, rootCauses } = withRootCauses(input.results, input.checks);
  const report: Report = {
    schemaVersion: 1,
    meshdoctorVersion: input.io.version,
    startedAt: input.startedAt.toISOString(),
    durationMs: Math.round(performance.now() - input.startedMark),
    mesh: input.mesh,
    clusters: input.clusters,
    results,
    summary: summarize(input.results),
    failOn: input.failOn,
    rootCauses,
    exitCode: exitCodeFor(input.results, input.failOn),
  };
  if (input.capturedAt) report.capturedAt = input.capturedAt.toISOString();
  if (input.aborted) {
    report.aborted = input.aborted;
    // Nothing failed, yet not everything was checked: that is "incomplete" (3), never "ok" (0).
    if (report.exitCode === 0) report.exitCode = 3;
  }
  return report;
}

/** `timeoutMs` (--timeout) bounds every API request, so peer discovery on a slow API ends in time too. */
async function openClusters(args: DiagnoseArgs, io: CliIO, timeoutMs: number): Promise<ClusterSource> {
  if (args.snapshot !== undefined) {
    const { openSnapshot } = await import('../cluster/snapshot.ts');
    const snapshot = await openSnapshot(resolve(io.cwd, args.snapshot));
    const readers = args.context?.length ? pickByName(snapshot.clusters, args.context) : snapshot.clusters;
    return { readers, notes: [], capturedAt: snapshot.capturedAt, istioNamespace: snapshot.istioNamespace, close: async () => {} };
  }
  const { connectClusters } = await import('../cluster/connect.ts');
  if (args.lab !== undefined) {
    const { startLab } = await import('../lab/index.ts');
    // The lab serves a Prometheus too, so `meshdoctor all --lab` runs the observability checks.
    const lab = await startLab({ scenario: args.lab || 'demo', faults: args.fault ?? [], clusters: args.clusters, prometheus: args.prometheus === undefined, clock: () => nowOf(io) });
    try {
      // Every lab cluster by default: a fault such as no-remote-secret must not hide a cluster.
      const contexts = args.context?.length ? args.context : lab.clusters.map((c) => c.context);
      const connected = await connectClusters({ kubeconfigPath: lab.kubeconfigPath, contexts, istioNamespace: args.istioNamespace, requestTimeoutMs: timeoutMs, env: io.env });
      return {
        readers: connected.readers,
        notes: connected.notes,
        istioNamespace: args.istioNamespace,
        prometheusUrl: lab.prometheusUrl,
        trustedServers: connected.trustedServers,
        close: () => lab.stop(),
      };
    } catch (err) {
      await lab.stop();
      throw err;
    }
  }
  const connected = await connectClusters({
    kubeconfigPath: args.kubeconfig ? resolve(io.cwd, args.kubeconfig) : undefined,
    contexts: args.context,
    istioNamespace: args.istioNamespace,
    requestTimeoutMs: timeoutMs,
    env: io.env,
    allowLoopbackRemoteSecrets: args.allowLoopbackRemoteSecrets,
  });
  return { readers: connected.readers, notes: connected.notes, istioNamespace: args.istioNamespace, trustedServers: connected.trustedServers, close: async () => {} };
}

/** ctx.probeRemoteApi with where local servers may be probed (remote-probe.ts, local-address.ts). */
async function remoteProbe(localServers: LocalServerPolicy) {
  const { probeRemoteApi } = await import('../cluster/remote-probe.ts');
  return (kubeconfig: string, opts: { timeoutMs?: number; signal?: AbortSignal }) => probeRemoteApi(kubeconfig, { ...opts, localServers });
}

/** ctx.queryPrometheus for checks, when there is a Prometheus to ask (its HTTP client loaded only then). */
async function prometheusQuery(url: string | undefined) {
  if (url === undefined) return undefined;
  const { createPrometheusClient } = await import('../cluster/prometheus.ts');
  const client = createPrometheusClient(url);
  return (promql: string, opts: { signal?: AbortSignal }) => client.query(promql, opts);
}

function pickByName(readers: ClusterReader[], names: string[]): ClusterReader[] {
  return names.map((name) => {
    const reader = readers.find((r) => r.name === name || r.context === name);
    if (!reader) throw new UsageError(`unknown context "${name}" in the snapshot (it has ${readers.map((r) => r.name).join(', ')})`);
    return reader;
  });
}

/** The connectivity probe options, parsed once: validated here, handed to the checks as they are. */
type ProbeOptions = Pick<CheckOptions, 'probeFrom' | 'probeTo' | 'probeCount' | 'probeTimeoutMs'>;

/**
 * Invalid option values are invocation errors (exit 2), found before anything runs, rather than
 * per-check errors found later. Returns the validated probe options.
 */
function validateOptions(args: DiagnoseArgs, io: CliIO): ProbeOptions {
  if (!Number.isFinite(args.certWarnDays) || args.certWarnDays < 0) throw new UsageError(`--cert-warn-days must be a number of days (0 or more), got ${args.certWarnDays}`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.istioNamespace) || args.istioNamespace.length > 63) {
    throw new UsageError(`--istio-namespace must be a Kubernetes namespace name, got "${args.istioNamespace}"`);
  }
  if (args.prometheus !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(args.prometheus);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`--prometheus must be an http(s) URL, got "${args.prometheus}"`);
  }
  const probeOptions: ProbeOptions = {
    probeFrom: args.probeFrom,
    probeTo: args.probeTo,
    probeCount: args.probeCount,
    probeTimeoutMs: args.probeTimeout !== undefined ? parseDuration(args.probeTimeout, '--probe-timeout') : undefined,
  };
  try {
    probeSettings({ istioNamespace: args.istioNamespace, certWarnDays: args.certWarnDays, now: nowOf(io), ...probeOptions });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return probeOptions;
}

/** Find an unwritable report path before the run, not after it (the directory is created if missing). */
async function checkOutputsWritable(outputs: ReturnType<typeof parseOutputSpec>[], io: CliIO): Promise<void> {
  for (const output of outputs) {
    if (!output.file) continue;
    const dir = dirname(resolve(io.cwd, output.file));
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new UsageError(`cannot write the ${output.format} report to ${resolve(io.cwd, output.file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
}

function parseSeverityOverrides(specs: string[]): Record<string, Severity> {
  const overrides: Record<string, Severity> = {};
  for (const spec of specs) {
    const match = /^([a-z0-9-]+\/[a-z0-9-]+(?:\/[a-zA-Z0-9]+)?)=(error|warning|info)$/.exec(spec);
    if (!match) throw new UsageError(`invalid --severity "${spec}" (use CHECK-ID[/messageId]=error|warning|info)`);
    overrides[match[1]] = match[2] as Severity;
  }
  return overrides;
}

/**
 * Two contexts whose kube-system namespaces share a uid are one Kubernetes cluster reached twice
 * (another URL, a proxy, a load balancer): a usage error, not a mesh of two clusters with a duplicate
 * cluster id. Only the operator's contexts count: a peer found through a remote secret (live, or
 * captured in a snapshot, which does not record how) is the cluster's data, and a Secret must not be
 * able to stop the run.
 */
function refuseSameCluster(clusters: ClusterInfo[]): void {
  const byUid = new Map<string, string>();
  for (const cluster of clusters) {
    if (!cluster.kubeSystemUid || cluster.via !== 'context') continue;
    const other = byUid.get(cluster.kubeSystemUid);
    if (other !== undefined) {
      throw new UsageError(`${other} and ${cluster.name} are the same Kubernetes cluster (kube-system namespace uid ${cluster.kubeSystemUid}): pass only one of them with --context`);
    }
    byUid.set(cluster.kubeSystemUid, cluster.name);
  }
}
