// Test harness for checks: fixtures are opened with the real snapshot reader, topology is discovered
// the way the CLI does, and a check runs against a context that collects what it reports. Tests that
// need a variation of a fixture edit its objects and serve them from an in-memory reader.
import path from 'node:path';
import { openSnapshot } from '../../src/cluster/snapshot.ts';
import { RESOURCE_KINDS } from '../../src/cluster/kinds.ts';
import { AccessError, type AccessErrorReason, type ClusterReader, type KubeObject, type ListScope, type ResourceKindName } from '../../src/cluster/types.ts';
import type { Check, CheckContext, ClusterInfo, FindingInput, MeshCheckContext, MeshInfo } from '../../src/engine/types.ts';
import { discoverTopology } from '../../src/mesh/discovery.ts';
import { createRunMemo } from '../../src/engine/run-memo.ts';

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

/** What one run of a check on one target (a cluster, or `*` for the mesh) produced. */
export interface CheckRun {
  cluster: string;
  findings: FindingInput[];
  skipped?: string;
  data: Record<string, unknown>;
}

class Skip {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

/**
 * Run a check the way the engine would: topology first, then once per reachable cluster (cluster
 * scope, honouring appliesTo) or once for the mesh. Findings keep the cluster they concern (filled
 * like the engine does) and must name a messageId of the check's meta.
 */
export async function runCheck(
  check: Check,
  readers: ClusterReader[],
  options: { now?: Date; probeRemoteApi?: CheckContext['probeRemoteApi'] } = {},
): Promise<{ runs: CheckRun[]; clusters: ClusterInfo[]; mesh: MeshInfo }> {
  const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
  const targets = check.scope === 'mesh' ? [-1] : readers.map((_r, i) => i);
  const runs: CheckRun[] = [];
  // One run: every task shares the memo, as the engine's round does.
  const memo = createRunMemo();
  for (const index of targets) {
    const reader = index >= 0 ? readers[index] : undefined;
    const info = index >= 0 ? clusters[index] : undefined;
    const run: CheckRun = { cluster: reader?.name ?? '*', findings: [], data: {} };
    runs.push(run);
    if (info && !info.reachable) {
      run.skipped = `cluster unreachable: ${info.unreachableReason}`;
      continue;
    }
    const notApplicable = info && check.appliesTo?.(info, mesh);
    if (notApplicable) {
      run.skipped = notApplicable;
      continue;
    }
    const unread: string[] = [];
    if (!reader && check.needs.some((n) => n !== 'exec' && n !== 'live')) {
      for (const other of clusters) if (!other.reachable) unread.push(`${other.name} (unreachable: ${other.unreachableReason})`);
    }
    const ctx: MeshCheckContext = {
      clusters: readers,
      clusterInfos: clusters,
      mesh,
      options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: options.now ?? new Date('2026-11-20T10:00:00Z') },
      signal: new AbortController().signal,
      memo,
      report: (finding) => {
        if (!check.meta.messages[finding.messageId]) throw new Error(`unknown messageId ${finding.messageId}`);
        run.findings.push({ ...finding, cluster: finding.cluster ?? run.cluster });
      },
      skip: (reason) => {
        throw new Skip(reason);
      },
      attach: (key, value) => {
        run.data[key] = value;
      },
      notRead: (cluster, reason, why) => {
        unread.push(`${cluster} (${why === 'outage' ? 'outage: ' : ''}${reason})`);
      },
    };
    if (options.probeRemoteApi) ctx.probeRemoteApi = options.probeRemoteApi;
    try {
      if (check.scope === 'mesh') await check.run(ctx);
      else await check.run({ ...ctx, cluster: reader!, clusterInfo: info! });
    } catch (err) {
      if (!(err instanceof Skip)) throw err;
      run.findings = [];
      run.skipped = err.reason;
    }
    // As the engine does: no problem found, but not every cluster read, is no pass.
    const problems = run.findings.some((f) => (f.severity ?? check.meta.messages[f.messageId].severity) !== 'info');
    if (!run.skipped && !problems && unread.length) {
      run.findings = [];
      run.skipped = `no problem found in what could be read, but not everything could: ${unread.join(', ')}`;
    }
  }
  return { runs, clusters, mesh };
}

/** `cluster:messageId` of every finding, sorted: what most assertions compare. */
export function findingKeys(runs: CheckRun[]): string[] {
  return runs.flatMap((r) => r.findings.map((f) => `${f.cluster}:${f.messageId}`)).sort();
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
