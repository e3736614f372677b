// The terminal report: topology header, one line per check and cluster with its findings, a
// clusters x categories summary, totals and a one-line verdict (modelled on `linkerd check`).
import { Chalk, type ChalkInstance } from 'chalk';
import type { CheckResult, ClusterInfo, Finding, Outcome, Report } from '../engine/types.ts';
import { resourcePrefix } from './format.ts';
import { countOutcomes, groupByCategory, OUTCOMES_WORST_FIRST, worstOutcome, type OutcomeCounts } from './outcomes.ts';
import { mapReportStrings, terminalText } from './sanitize.ts';
import { rootCauseSection } from './root-cause-section.ts';
import { BUILTIN_DETAIL_RENDERERS } from './details/index.ts';
import type { DetailRenderer } from './details/renderer.ts';
import { displayWidth, hangingIndent, wrap, wrapBlock } from './wrap.ts';
import { fitTable } from './table.ts';

/**
 * Per-check detail renderers, keyed by the `data` key they render (src/reporters/details/): the
 * connectivity matrix, certificate chains, the network topology picture, versions seen, cross-cluster traffic.
 */
export const DETAIL_RENDERERS: Readonly<Record<string, DetailRenderer>> = BUILTIN_DETAIL_RENDERERS;

/** Options of renderHuman. */
export interface HumanOptions {
  /** Colour through ANSI escapes; false renders plain text with no escape at all. */
  color: boolean;
  /** chalk level when `color` is true: 1 basic (default), 2 256 colours, 3 truecolor. */
  colorLevel?: 0 | 1 | 2 | 3;
  /** "Now", to show how old an offline snapshot is; without it the age is left out. */
  now?: Date;
  /** Only failed, warned and errored checks in the listing (as `istioctl analyze`); the summary stays whole. */
  problemsOnly?: boolean;
  /** Replace every duration with DURATION_PLACEHOLDER (snapshot tests). */
  hideDurations?: boolean;
  /** Overrides DETAIL_RENDERERS (tests, plugins). */
  detailRenderers?: Readonly<Record<string, DetailRenderer>>;
  /** Widest a line may be (see outputWidth in wrap.ts); undefined: no limit, a finding stays one line. */
  width?: number;
}

/** What durations read as with `hideDurations`. */
export const DURATION_PLACEHOLDER = '<duration>';

const MARKS: Record<Outcome, string> = { pass: '✔', fail: '✖', warn: '‼', skip: '○', error: '⚠' };

/** Render `report` for a terminal. Pure: the same report and options give the same text. */
export function renderHuman(report: Report, options: HumanOptions): string {
  // Texts from clusters may carry escapes that would repaint the terminal (or add colour when
  // colour is off) and newlines that would forge lines: every string becomes one visible line, and
  // only our own chalk instance colours the output.
  const safe = mapReportStrings(report, terminalText);
  const chalk = new Chalk({ level: options.color ? (options.colorLevel ?? 1) : 0 });
  const view: View = {
    chalk,
    duration: (ms) => (options.hideDurations ? DURATION_PLACEHOLDER : formatDuration(ms)),
    detailRenderers: options.detailRenderers ?? DETAIL_RENDERERS,
    width: options.width,
  };
  const sections = [
    header(safe, view, options.now),
    topology(safe.clusters, view),
    rootCauseSection(safe, view.chalk),
    ...groupByCategory(options.problemsOnly ? safe.results.filter(isProblem) : safe.results).map(([category, results]) => categorySection(category, results, view)),
    options.problemsOnly ? hiddenLine(safe.results, view) : [],
    summaryTable(safe, view),
    totals(safe, view),
  ];
  // Each part wraps its own lines with the right indentation; this last pass only catches a line
  // some part laid out wider than the width (it leaves every line that fits as it is).
  const fitted = sections.map((section) => wrapBlock(section.flatMap((text) => text.split('\n')), options.width));
  return `${fitted.filter((section) => section.length > 0).map((section) => section.join('\n')).join('\n\n')}\n`;
}

interface View {
  chalk: ChalkInstance;
  duration(ms: number): string;
  detailRenderers: Readonly<Record<string, DetailRenderer>>;
  width: number | undefined;
}

function header(report: Report, view: View, now: Date | undefined): string[] {
  const { mesh } = report;
  const facts = [
    mesh.model === 'unknown' ? 'mesh model unknown' : `${mesh.model} mesh`,
    `meshID ${mesh.meshId ?? 'unset'}`,
    `trust domain ${mesh.trustDomain ?? 'unknown'}`,
    mesh.multiNetwork ? 'multi-network' : 'single network',
  ];
  const lines = wrap(`${view.chalk.bold(`meshdoctor ${report.meshdoctorVersion}`)} · ${facts.join(' · ')}`, view.width, { rest: '  ' });
  if (report.capturedAt) {
    const age = now ? snapshotAge(report.capturedAt, now) : undefined;
    lines.push(...wrap(`offline: snapshot captured ${report.capturedAt}${age ? ` (${age} ago)` : ''}`, view.width, { rest: '  ' }));
  }
  return lines;
}

function topology(clusters: readonly ClusterInfo[], view: View): string[] {
  if (clusters.length === 0) return [view.chalk.yellow('no clusters')];
  // The data plane column appears once a cluster runs ambient workloads: a sidecar-only mesh reads as before.
  const ambient = clusters.some((cluster) => cluster.dataPlane?.mode === 'ambient' || cluster.dataPlane?.mode === 'both');
  const rows = clusters.map((cluster) => [
    cluster.name,
    clusterContext(cluster),
    cluster.clusterId ?? '-',
    cluster.network ?? '-',
    cluster.role,
    controlPlane(cluster),
    istio(cluster),
    ...(ambient ? [dataPlane(cluster)] : []),
    eastWestGateways(cluster),
    cluster.reachable ? view.chalk.green('yes') : view.chalk.red('no'),
  ]);
  const head = ['cluster', 'context', 'cluster id', 'network', 'role', 'control plane', 'istio', ...(ambient ? ['data plane'] : []), 'east-west gateways', 'reachable'];
  const unreachable = clusters
    .filter((cluster) => !cluster.reachable)
    .flatMap((cluster) => wrap(`${view.chalk.red(MARKS.error)} ${cluster.name} unreachable: ${cluster.unreachableReason ?? 'unknown reason'}`, view.width, { rest: '  ' }));
  return [...fitTable({ head: head.map((title) => view.chalk.bold(title)), rows }, view.width), ...unreachable];
}

function clusterContext(cluster: ClusterInfo): string {
  if (cluster.via === 'remote-secret') return cluster.context ? `${cluster.context} (remote secret)` : '(remote secret)';
  return cluster.context ?? (cluster.via === 'snapshot' ? '(snapshot)' : '-');
}

function controlPlane(cluster: ClusterInfo): string {
  if (cluster.revisions.length > 0) return `istiod ${cluster.revisions.join(', ')}${cluster.istiodNamespace ? ` in ${cluster.istiodNamespace}` : ''}`;
  if (cluster.controlPlaneCluster) return `external: ${cluster.controlPlaneCluster}`;
  return cluster.role === 'external-controlled' ? 'external' : 'none';
}

/**
 * The Istio version, with the namespace of a istiod-less cluster's Istio install when it is not the
 * usual istio-system (an external control plane's remotes: `external-istiod`); an istiod's own
 * namespace is in the control plane column.
 */
function istio(cluster: ClusterInfo): string {
  const version = cluster.istioVersion ?? '-';
  const namespace = cluster.istioNamespace;
  return namespace && namespace !== 'istio-system' && !cluster.istiodNamespace ? `${version} in ${namespace}` : version;
}

function dataPlane(cluster: ClusterInfo): string {
  const plane = cluster.dataPlane;
  if (!plane) return '-';
  if (plane.mode !== 'both') return plane.mode;
  return `both (ambient: ${plane.ambientNamespaces.join(', ')})`;
}

function eastWestGateways(cluster: ClusterInfo): string {
  const gateways = [...(cluster.eastWestGateways ?? []), ...(cluster.ambientEastWestGateways ?? []).map((gateway) => ({ ...gateway, ambient: true }))];
  if (gateways.length === 0) return '-';
  // One gateway per line keeps the table narrow.
  return gateways
    .map((gateway) => `${gateway.namespace}/${gateway.name} ${gateway.addresses.length > 0 ? gateway.addresses.join(', ') : '(no address)'}${'ambient' in gateway ? ' (ambient)' : ''}`)
    .join('\n');
}

function isProblem(result: CheckResult): boolean {
  return result.outcome === 'fail' || result.outcome === 'warn' || result.outcome === 'error';
}

/** What --problems-only left out, so that a short report is not mistaken for a short run. */
function hiddenLine(results: readonly CheckResult[], view: View): string[] {
  const hidden = results.filter((result) => !isProblem(result));
  if (hidden.length === 0) return [];
  const passed = hidden.filter((result) => result.outcome === 'pass').length;
  return wrap(view.chalk.dim(`${passed} passed and ${hidden.length - passed} skipped not shown (--problems-only)`), view.width);
}

function categorySection(category: string, results: readonly CheckResult[], view: View): string[] {
  const labels = results.map((result) => `${result.checkId} [${result.cluster}]`);
  const width = Math.max(...labels.map((label) => label.length));
  const lines = [view.chalk.bold(category)];
  results.forEach((result, index) => {
    const status = outcomeDetail(result, view);
    const head = `${mark(result.outcome, view)} ${labels[index].padEnd(width)}  ${view.chalk.dim(view.duration(result.durationMs))}`;
    // A skip or error reason continues under itself, or under the findings when that is too narrow.
    const hang = hangingIndent(2 + displayWidth(head) + 2, view.width, DETAIL_INDENT);
    lines.push(...wrap(`${head}${status ? `  ${status}` : ''}`, view.width, { first: '  ', rest: hang }));
    lines.push(...findingLines(result, view, DETAIL_INDENT));
    lines.push(...wrapBlock(detailLines(result, view).map((line) => `${DETAIL_INDENT}${line}`), view.width));
  });
  return lines;
}

function outcomeDetail(result: CheckResult, view: View): string | undefined {
  if (result.outcome === 'skip') return view.chalk.dim(`skipped: ${result.skipReason ?? 'no reason given'}`);
  if (result.outcome === 'error') return view.chalk.magenta(`error: ${result.error ?? 'the check could not run'}`);
  return undefined;
}

const SEVERITY_WIDTH = 'warning'.length;

/** Where findings and details start under their check's line. */
const DETAIL_INDENT = '      ';

/** The finding lines of `result`, each starting with `indent`; wrapped lines continue under the text. */
function findingLines(result: CheckResult, view: View, indent: string): string[] {
  if (result.findings.length === 0) return [];
  const continuation = indent + ' '.repeat(SEVERITY_WIDTH + 1);
  // An info finding ("5/10 reached, p95 5 ms") beside errors or warnings is context, not part of the
  // failure: it follows them, dimmed under its own heading (istioctl analyze lists Info after them too).
  const problems = result.findings.filter((finding) => finding.severity !== 'info');
  const notes = result.findings.filter((finding) => finding.severity === 'info');
  const apart = problems.length > 0 && notes.length > 0;
  const lines: string[] = [];
  for (const finding of apart ? [...problems, ...notes] : result.findings) {
    if (apart && finding === notes[0]) lines.push(...wrap(view.chalk.dim('notes (information, not part of the failure):'), view.width, { first: indent, rest: `${indent}  ` }));
    const dim = apart && finding.severity === 'info';
    const where = [
      // A mesh-scope result's findings name the cluster they concern.
      finding.cluster !== result.cluster ? `[${finding.cluster}]` : undefined,
      resourcePrefix(finding),
    ].filter(Boolean).join(' ');
    // terminalText made every text one line: a hint is one command line to copy.
    const text = `${where ? `${where}: ` : ''}${finding.message}`;
    lines.push(...wrap(`${severity(finding, view)} ${dim ? view.chalk.dim(text) : text}`, view.width, { first: indent, rest: continuation }));
    if (finding.hint) lines.push(...wrap((dim ? view.chalk.dim : view.chalk.cyan)(`hint: ${finding.hint}`), view.width, { first: continuation, rest: `${continuation}${' '.repeat('hint: '.length)}` }));
    if (finding.docsUrl) lines.push(...wrap(view.chalk.dim(`docs: ${finding.docsUrl}`), view.width, { first: continuation, rest: `${continuation}  ` }));
  }
  lines.push(...wrap(view.chalk.dim(`see: meshdoctor explain ${result.checkId}`), view.width, { first: indent, rest: `${indent}  ` }));
  return lines;
}

function severity(finding: Finding, view: View): string {
  const label = finding.severity.padEnd(SEVERITY_WIDTH);
  if (finding.severity === 'error') return view.chalk.red(label);
  if (finding.severity === 'warning') return view.chalk.yellow(label);
  return view.chalk.blue(label);
}

function detailLines(result: CheckResult, view: View): string[] {
  if (!result.data) return [];
  const lines: string[] = [];
  // Renderer order, not data order, so output does not depend on how a check filled `data`.
  for (const [key, render] of Object.entries(view.detailRenderers)) {
    if (key in result.data) lines.push(...render(result.data[key], { chalk: view.chalk, result, width: view.width === undefined ? undefined : view.width - DETAIL_INDENT.length }));
  }
  return lines;
}

function summaryTable(report: Report, view: View): string[] {
  if (report.results.length === 0) return [];
  const categories = groupByCategory(report.results);
  const clusterNames = [...report.clusters.map((cluster) => cluster.name)];
  for (const result of report.results) {
    // Results for `*` (mesh scope) or a cluster the topology missed still get a row.
    if (!clusterNames.includes(result.cluster)) clusterNames.push(result.cluster);
  }
  const head = ['cluster', ...categories.map(([category]) => category)].map((title) => view.chalk.bold(title));
  const rows = clusterNames.map((name) => [
    name === '*' ? '* (mesh)' : name,
    ...categories.map(([, results]) => summaryCell(countOutcomes(results.filter((result) => result.cluster === name)), view)),
  ]);
  return fitTable({ head, rows }, view.width);
}

/** Worst outcome's mark, then the count of each outcome present, worst first: `✖ 1 fail 2 pass`. */
function summaryCell(counts: OutcomeCounts, view: View): string {
  const worst = worstOutcome(counts);
  if (!worst) return view.chalk.dim('-');
  const parts = OUTCOMES_WORST_FIRST.filter((outcome) => counts[outcome] > 0).map((outcome) => `${counts[outcome]} ${outcome}`);
  return `${mark(worst, view)} ${parts.join(' ')}`;
}

function totals(report: Report, view: View): string[] {
  const { summary } = report;
  const checks = `checks: ${summary.pass} passed, ${summary.fail} failed, ${summary.warn} warned, ${summary.skip} skipped, ${summary.error} errored`;
  const findings = `findings: ${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')}`;
  const lines = wrap(`${checks} · ${findings} · ${view.duration(report.durationMs)}`, view.width, { rest: '  ' });
  if (report.aborted) lines.push(...wrap(view.chalk.magenta.bold(`${MARKS.error} run aborted before every check finished: ${report.aborted}`), view.width, { rest: '  ' }));
  return [...lines, ...wrap(verdict(report, view), view.width, { rest: '  ' })];
}

/** One line saying what report.exitCode means; the engine decided it, this only words it. */
function verdict(report: Report, view: View): string {
  const { summary, failOn } = report;
  const notRun = summary.error > 0 ? `; ${plural(summary.error, 'check')} could not run` : '';
  if (report.exitCode === 1) {
    const counted = failOn === 'warning' ? [plural(summary.errors, 'error'), plural(summary.warnings, 'warning')].filter((part) => !part.startsWith('0 ')) : [plural(summary.errors, 'error')];
    const threshold = failOn === 'warning' ? ' (--fail-on warning)' : '';
    return view.chalk.red.bold(`${MARKS.fail} ${counted.join(' and ')} found${threshold}${notRun}`);
  }
  if (report.exitCode === 3) {
    return view.chalk.magenta.bold(`${MARKS.error} some checks could not run (${plural(summary.error, 'check')} errored); no findings at or above --fail-on ${failOn}`);
  }
  const below: string[] = [];
  if (summary.errors > 0) below.push(plural(summary.errors, 'error'));
  if (summary.warnings > 0) below.push(plural(summary.warnings, 'warning'));
  if (summary.skip > 0) below.push(`${summary.skip} skipped`);
  if (summary.error > 0) below.push(`${plural(summary.error, 'check')} could not run`);
  const allPassed = summary.fail === 0 && summary.warn === 0 && summary.error === 0;
  const head = allPassed ? 'all checks passed' : `no findings at or above --fail-on ${failOn}`;
  return view.chalk.green.bold(`${MARKS.pass} ${head}${below.length > 0 ? ` (${below.join(', ')})` : ''}`);
}

function mark(outcome: Outcome, view: View): string {
  const colours: Record<Outcome, ChalkInstance> = {
    pass: view.chalk.green,
    fail: view.chalk.red,
    warn: view.chalk.yellow,
    skip: view.chalk.dim,
    error: view.chalk.magenta,
  };
  return colours[outcome](MARKS[outcome]);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `850ms`, `12.3s`, `2m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
}

/** `3h`, `2d`, `45m`: how long before `now` the snapshot was taken; undefined when unknown or in the future. */
function snapshotAge(capturedAt: string, now: Date): string | undefined {
  const ms = now.getTime() - new Date(capturedAt).getTime();
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h` : `${Math.floor(hours / 24)}d`;
}
