// The lab, assembled: one API server per simulated cluster, the mesh state built with their
// endpoints, a sim backend on each, and a kubeconfig written once every server answers.
import { request } from 'node:https';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, basename } from 'node:path';
import { renderLabKubeconfig } from './kubeconfig.ts';
import { buildMeshState, LabError, scenarioInfo, validateScale, type ScaleOptions } from './model/index.ts';
import { clusterNames, parseFault, resolveFaults, validateClusterCount } from './model/catalog.ts';
import { startApiServer } from './server/index.ts';
import { createBackend } from './sim/index.ts';
import { startLabPrometheus, type LabPrometheus } from './prometheus.ts';
import type { LabApiServer, LabFault, LabMeshState, LabTransportFaults } from './types.ts';
import type { LabTransportOptions } from './transport.ts';
import type { KubeObject } from '../cluster/types.ts';

export { LAB_FAULTS, LAB_SCENARIOS, LabError, buildMeshState, type LabFaultInfo, type LabScenarioInfo } from './model/index.ts';
export { renderLabKubeconfig } from './kubeconfig.ts';
export { parseFault } from './model/catalog.ts';
export { LAB_TRANSPORT_FAULTS, parseTransportSpecs, type LabTransportOptions } from './transport.ts';

/** What lab to start. */
export interface StartLabOptions {
  /** A scenario name (default `multi-primary`). */
  scenario?: string;
  /** Number of clusters, 2..10 (default 2). */
  clusters?: number;
  /** Faults on top of the scenario's: objects or `name[:cluster]` strings. */
  faults?: (LabFault | string)[];
  /** The mesh's clock (default: the wall clock): see LabMeshState.clock. */
  clock?: () => Date;
  /** Delay added to every API response of every cluster. */
  latencyMs?: number;
  /** Extra namespaces/services/pods per cluster. */
  scale?: ScaleOptions;
  /** Where to write the kubeconfig; default: a temp dir removed by stop(). */
  kubeconfigPath?: string;
  /** Transport faults per cluster name, for reliability tests (not mesh faults: nothing in Istio changes). */
  transport?: Record<string, LabTransportOptions>;
  /** Also serve a Prometheus-compatible query API over the mesh's request metrics (see prometheusUrl). */
  prometheus?: boolean;
  /**
   * Objects added as they are to a cluster, by cluster name, before the simulation starts: what a
   * user with write access (or a compromised peer) could create, hostile names and Secrets included.
   * A function gets the built mesh (its endpoints, CAs and users) first.
   */
  objects?: Record<string, KubeObject[]> | ((mesh: LabMeshState) => Record<string, KubeObject[]>);
}

/** A cluster of a running lab. */
export interface LabClusterInfo {
  name: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Its context in the lab kubeconfig. */
  context: string;
}

/** A running lab. */
export interface RunningLab {
  kubeconfigPath: string;
  clusters: LabClusterInfo[];
  mesh: LabMeshState;
  servers: LabApiServer[];
  /** With `prometheus: true`: the lab Prometheus, http://127.0.0.1:<port> (give it to --prometheus). */
  prometheusUrl?: string;
  /** Stop every server and remove the temp kubeconfig; safe to call twice. */
  stop(): Promise<void>;
}

/** User-Agent of the lab's own readiness requests, which its audit log then shows beside its clients'. */
export const LAB_READINESS_USER_AGENT = 'meshdoctor-lab/readiness';

/** GET /version with the admin token until it answers 200 (the server has its backend). */
async function waitUntilServing(server: string, caPem: string, token: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let lastProblem = 'no answer';
  while (Date.now() < deadline) {
    const status = await new Promise<number | string>((resolve) => {
      const req = request(`${server}/version`, { ca: caPem, headers: { Authorization: `Bearer ${token}`, 'User-Agent': LAB_READINESS_USER_AGENT }, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => resolve(err.message));
      req.end();
    });
    if (status === 200) return;
    lastProblem = typeof status === 'number' ? `HTTP ${status}` : status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`lab API server ${server} is not ready: ${lastProblem}`);
}

/**
 * Exec faults are read by the sim from mesh.faults (they change no object); an RBAC-limited admin
 * user gets a forbidden list. Only for reliability tests, never for mesh faults.
 */
function applyTransportFaults(mesh: LabMeshState, transport: Record<string, LabTransportOptions>): void {
  for (const [cluster, options] of Object.entries(transport)) {
    if (options.execHang) mesh.faults.push({ name: 'exec-hang', cluster });
    if (options.execNoStatus) mesh.faults.push({ name: 'exec-no-status', cluster });
    if (options.execFail) mesh.faults.push({ name: 'exec-fail', cluster });
    if (options.forbidden?.length) {
      const state = mesh.clusters.find((c) => c.name === cluster)!;
      const admin = state.users.get(state.adminToken)!;
      state.users.set(state.adminToken, { ...admin, forbidden: [...(admin.forbidden ?? []), ...options.forbidden] });
    }
  }
}

/** Write a file atomically (temp file + rename), readable by its owner only: it holds tokens. */
async function writePrivateFile(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, path);
}

/**
 * Start a lab: an HTTPS API server per cluster on 127.0.0.1, the mesh state built with their
 * endpoints, a sim backend attached to each, then the kubeconfig (only once every server answers).
 * Bad input throws a LabError before anything starts.
 */
export async function startLab(opts: StartLabOptions = {}): Promise<RunningLab> {
  const scenario = scenarioInfo(opts.scenario ?? 'multi-primary');
  const count = opts.clusters ?? scenario.defaultClusters ?? 2;
  validateClusterCount(count);
  const faults = (opts.faults ?? []).map((f) => (typeof f === 'string' ? parseFault(f) : f));
  const names = clusterNames(count);
  // Fail on bad faults before any server starts.
  resolveFaults(scenario, names, faults);
  validateScale(opts.scale);
  if (opts.latencyMs !== undefined && (!Number.isFinite(opts.latencyMs) || opts.latencyMs < 0)) {
    throw new LabError(`lab latency must be a non-negative number of milliseconds, got ${opts.latencyMs}`);
  }

  const servers: LabApiServer[] = [];
  let prometheus: LabPrometheus | undefined;
  let tempDir: string | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.allSettled([...servers.map((s) => s.stop()), prometheus?.stop()]);
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };

  try {
    for (const cluster of Object.keys(opts.transport ?? {})) {
      if (!names.includes(cluster)) throw new LabError(`unknown lab cluster "${cluster}" in transport faults (clusters: ${names.join(', ')})`);
    }
    const transportOf = (cluster: string): LabTransportFaults | undefined => {
      const own = opts.transport?.[cluster];
      const latencyMs = (opts.latencyMs ?? 0) + (own?.latencyMs ?? 0);
      if (!latencyMs && !own?.failPaths?.length && !own?.portForwardRefused) return undefined;
      return {
        ...(latencyMs ? { latencyMs } : {}),
        ...(own?.failPaths?.length ? { failPaths: own.failPaths } : {}),
        ...(own?.portForwardRefused ? { portForwardRefused: true } : {}),
      };
    };
    const started = await Promise.allSettled(
      names.map((cluster) => {
        const transportFaults = transportOf(cluster);
        return startApiServer({ cluster, ...(transportFaults ? { transportFaults } : {}) });
      }),
    );
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;

    const mesh = await buildMeshState({ scenario: scenario.name, clusters: count, faults, endpoints: servers.map((s) => s.endpoint), scale: opts.scale, ...(opts.clock ? { clock: opts.clock } : {}) });
    applyTransportFaults(mesh, opts.transport ?? {});
    const extra = typeof opts.objects === 'function' ? opts.objects(mesh) : (opts.objects ?? {});
    for (const [cluster, objects] of Object.entries(extra)) {
      const state = mesh.clusters.find((c) => c.name === cluster);
      if (!state) throw new LabError(`unknown lab cluster "${cluster}" in extra objects (clusters: ${names.join(', ')})`);
      state.objects.push(...objects);
    }
    for (const server of servers) server.setBackend(createBackend(mesh, server.cluster));
    const up = mesh.clusters.filter((c) => !opts.transport?.[c.name]?.down);
    await Promise.all(up.map((c) => waitUntilServing(c.endpoint.server, c.endpoint.caPem, c.adminToken, 10_000 + 5 * (opts.latencyMs ?? 0))));
    // A cluster whose API is down: stop its server once the state is built, so its port refuses.
    await Promise.all(servers.filter((s) => opts.transport?.[s.cluster]?.down).map((s) => s.stop()));

    let kubeconfigPath = opts.kubeconfigPath;
    if (!kubeconfigPath) {
      tempDir = await mkdtemp(join(tmpdir(), 'meshdoctor-lab-'));
      kubeconfigPath = join(tempDir, 'kubeconfig');
    }
    await writePrivateFile(kubeconfigPath, renderLabKubeconfig(mesh));
    if (opts.prometheus) prometheus = await startLabPrometheus(mesh);

    return {
      kubeconfigPath,
      clusters: mesh.clusters.map((c) => ({ name: c.name, server: c.endpoint.server, context: c.name })),
      mesh,
      servers,
      ...(prometheus ? { prometheusUrl: prometheus.url } : {}),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
