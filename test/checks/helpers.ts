// Test harness for checks: fixtures are opened with the real snapshot reader, topology is discovered
// the way the CLI does, and a check runs on the real engine (runCheck), so tests see what users get. Tests that
// need a variation of a fixture edit its objects and serve them from an in-memory reader.
import path from 'node:path';
import { openSnapshot } from '../../src/cluster/snapshot.ts';
import { RESOURCE_KINDS } from '../../src/cluster/kinds.ts';
import { AccessError, type AccessErrorReason, type ClusterReader, type KubeObject, type ListScope, type ResourceKindName } from '../../src/cluster/types.ts';
import type { Check, CheckContext, CheckOptions, ClusterInfo, Finding, FindingInput, MeshInfo, Outcome } from '../../src/engine/types.ts';
import { discoverTopology } from '../../src/mesh/discovery.ts';
import { fillTemplate, runChecks, type RunInput } from '../../src/engine/run.ts';

export const FIXTURES_DIR = path.resolve(import.meta.dirname, '../../fixtures');
export const ISTIO_NAMESPACE = 'istio-system';

/** Open a fixture snapshot by directory name. */
export async function openFixture(name: string): Promise<{ capturedAt: Date; clusters: ClusterReader[] }> {
  const snapshot = await openSnapshot(path.join(FIXTURES_DIR, name));
  return { capturedAt: snapshot.capturedAt, clusters: snapshot.clusters };
}

/** Objects of one cluster, by kind: the editable form of a fixture. */
export type ClusterObjects = Partial<Record<ResourceKindName, KubeObject[]>>;

/** A deep copy of every object of every cluster of a fixture, to edit before serving it. */
export async function fixtureObjects(name: string): Promise<Map<string, ClusterObjects>> {
  const { clusters } = await openFixture(name);
  const result = new Map<string, ClusterObjects>();
  for (const reader of clusters) {
    const objects: ClusterObjects = {};
    for (const kind of Object.keys(RESOURCE_KINDS) as ResourceKindName[]) {
      const items = await reader.list(kind).catch(() => []);
      if (items.length) objects[kind] = structuredClone(items);
    }
    result.set(reader.name, objects);
  }
  return result;
}

/** Options of an in-memory cluster. */
export interface MemoryReaderOptions {
  /** Kinds whose list fails with this reason (`forbidden`, `unreachable`, ...). */
  failing?: Partial<Record<ResourceKindName, AccessErrorReason>>;
  /** Every list fails with this reason. */
  failAll?: AccessErrorReason;
}

/** A ClusterReader over object arrays (offline: exec and sidecar admin are unavailable). */
export function memoryReader(name: string, objects: ClusterObjects, options: MemoryReaderOptions = {}): ClusterReader {
  const list = async (kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]> => {
    const reason = options.failAll ?? options.failing?.[kind];
    if (reason) {
      const where = scope?.namespace ? ` in ${scope.namespace}` : '';
      throw new AccessError(reason, name, `${reason}: cannot list ${kind}${where}`);
    }
    const all = objects[kind] ?? [];
    return scope?.namespace === undefined ? all : all.filter((o) => o.metadata.namespace === scope.namespace);
  };
  return {
    name,
    context: `kind-${name}`,
    live: false,
    via: 'snapshot',
    list,
    listOptional: list,
    istiodDebug: async () => [],
    istiodLogs: async () => [],
    ztunnelConfigDumps: async () => [],
    sidecarAdmin: async () => {
      throw new AccessError('offline', name, 'offline');
    },
    exec: async () => {
      throw new AccessError('offline', name, 'offline');
    },
    version: async () => undefined,
  };
}

/** In-memory readers for edited fixture objects, in the fixture's cluster order. */
export function memoryReaders(objects: Map<string, ClusterObjects>, options: Record<string, MemoryReaderOptions> = {}): ClusterReader[] {
  return [...objects.entries()].map(([name, objs]) => memoryReader(name, objs, options[name]));
}

/** A finding as the user gets it (effective severity, rendered message and hint), with the data the check reported it with. */
export type RunFinding = Finding & { data?: FindingInput['data'] };

/** What one run of a check on one target (a cluster, or `*` for the mesh) produced: the engine's result. */
export interface CheckRun {
  cluster: string;
  outcome: Outcome;
  findings: RunFinding[];
  /** Why the run was skipped (outcome skip). */
  skipped?: string;
  /** The skip reason's stable id, where the check gives one. */
  skippedId?: string;
  /** Why the run could not give a verdict (outcome error): a throw, a timeout, an outage, an unreachable cluster. */
  error?: string;
  data: Record<string, unknown>;
}

/** Options of runCheck. */
export interface RunCheckOptions {
  /** The run's "now" (default 2026-11-20T10:00:00Z). */
  now?: Date;
  /** Other check options (sharedLoopback, probe settings, ...). */
  options?: Partial<CheckOptions>;
  /** A live run's remote API probe; giving one makes the readers live, as they are when the CLI probes. */
  probeRemoteApi?: RunInput['probeRemoteApi'];
  /** Treat the readers as live clusters (checks that need `exec` or `live` run instead of being skipped). */
  live?: boolean;
  /** `--severity` overrides: `checkId` or `checkId/messageId` -> severity. */
  severityOverrides?: RunInput['severityOverrides'];
  /** Per check and cluster, as --timeout (default 60 s: a check test measures verdicts, not speed). */
  timeoutMs?: number;
  /** --istio-namespace (default istio-system), for discovery and the checks alike. */
  istioNamespace?: string;
}

/** The `{{name}}` placeholders of a template. */
function placeholdersOf(template: string): string[] {
  return [...template.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
}

/** A reader that says it is live (methods stay bound to the original, whatever its class). */
function asLive(reader: ClusterReader): ClusterReader {
  return new Proxy(reader, {
    get(target, key) {
      if (key === 'live') return true;
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Run a check on the real engine (runChecks), the way ESLint's RuleTester drives the real Linter:
 * topology is discovered as the CLI does, then the engine plans, prefetches, runs and judges the
 * check once per cluster (or once for the mesh), so a test sees what a user gets: effective severity,
 * rendered messages and hints, skip and error outcomes with their reasons. A breach of the check
 * contract throws instead of becoming an error result, so the test fails: a messageId the check does
 * not declare, or a `{{placeholder}}` of the message or hint the finding's data leaves unfilled.
 */
export async function runCheck(check: Check, readers: ClusterReader[], opts: RunCheckOptions = {}): Promise<{ runs: CheckRun[]; clusters: ClusterInfo[]; mesh: MeshInfo }> {
  const istioNamespace = opts.istioNamespace ?? ISTIO_NAMESPACE;
  const { clusters, mesh } = await discoverTopology(readers, istioNamespace);
  const breaches: string[] = [];
  const reported: { cluster: string; input: FindingInput; message: string; used?: boolean }[] = [];
  const checked = {
    ...check,
    run: (ctx: CheckContext) => {
      const target = ctx.cluster?.name ?? '*';
      const report = (input: FindingInput) => {
        const meta = check.meta.messages[input.messageId];
        if (!meta) {
          breaches.push(`${check.id} on ${target} reported messageId "${input.messageId}", which its meta.messages does not declare`);
        } else {
          // {{cluster}} defaults to the finding's cluster (the engine fills it).
          const unfilled = [...placeholdersOf(meta.template), ...(input.hint === undefined ? placeholdersOf(meta.hint) : [])].filter((key) => key !== 'cluster' && input.data?.[key] === undefined);
          if (unfilled.length) breaches.push(`${check.id} on ${target}: ${input.messageId} leaves {{${[...new Set(unfilled)].join('}}, {{')}}} unfilled`);
          if (input.hint !== undefined && placeholdersOf(input.hint).length) breaches.push(`${check.id} on ${target}: ${input.messageId} has a hint with a raw placeholder: ${input.hint}`);
          reported.push({ cluster: input.cluster ?? target, input, message: fillTemplate(meta.template, input.data, { cluster: input.cluster ?? target }) });
        }
        ctx.report(input);
      };
      return check.run({ ...ctx, report } as never);
    },
  } as Check;
  const live = opts.live || opts.probeRemoteApi !== undefined;
  const results = await runChecks({
    checks: [checked],
    readers: live ? readers.map(asLive) : readers,
    clusterInfos: clusters,
    mesh,
    options: { istioNamespace, certWarnDays: 30, now: opts.now ?? new Date('2026-11-20T10:00:00Z'), ...opts.options },
    timeoutMs: opts.timeoutMs ?? 60_000,
    concurrency: 4,
    ...(opts.probeRemoteApi ? { probeRemoteApi: opts.probeRemoteApi } : {}),
    ...(opts.severityOverrides ? { severityOverrides: opts.severityOverrides } : {}),
  });
  if (breaches.length) throw new Error(`check contract broken:\n${breaches.join('\n')}`);
  const runs = results.map((result): CheckRun => {
    const run: CheckRun = { cluster: result.cluster, outcome: result.outcome, findings: [], data: result.data ?? {} };
    if (result.skipReason !== undefined) run.skipped = result.skipReason;
    if (result.skipReasonId !== undefined) run.skippedId = result.skipReasonId;
    if (result.error !== undefined) run.error = result.error;
    run.findings = result.findings.map((finding) => {
      // The data it was reported with, for tests that assert it: the first report that renders to this finding.
      const source = reported.find((r) => !r.used && r.cluster === finding.cluster && r.input.messageId === finding.messageId && r.message === finding.message);
      if (!source) return finding;
      source.used = true;
      return source.input.data === undefined ? finding : { ...finding, data: source.input.data };
    });
    return run;
  });
  return { runs, clusters, mesh };
}

/** `cluster:messageId` of every finding, sorted: what most assertions compare. */
export function findingKeys(runs: CheckRun[]): string[] {
  return runs.flatMap((r) => r.findings.map((f) => `${f.cluster}:${f.messageId}`)).sort();
}

/** `cluster: error` of every run whose outcome is error (a throw, a timeout, an outage), in run order. */
export function runErrors(runs: CheckRun[]): string[] {
  return runs.filter((r) => r.outcome === 'error').map((r) => `${r.cluster}: ${r.error}`);
}

/** The run for one cluster (or `*`). */
export function runFor(runs: CheckRun[], cluster: string): CheckRun {
  const run = runs.find((r) => r.cluster === cluster);
  if (!run) throw new Error(`no run for ${cluster}`);
  return run;
}

/** The objects of one kind of one cluster of an edited fixture (throws when absent: a test bug). */
export function objectsOf(objects: Map<string, ClusterObjects>, cluster: string, kind: ResourceKindName): KubeObject[] {
  const items = objects.get(cluster)?.[kind];
  if (!items) throw new Error(`fixture has no ${kind} in ${cluster}`);
  return items;
}

/** One named object of an edited fixture. */
export function objectNamed(objects: Map<string, ClusterObjects>, cluster: string, kind: ResourceKindName, name: string): KubeObject {
  const found = objectsOf(objects, cluster, kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`fixture has no ${kind}/${name} in ${cluster}`);
  return found;
}
