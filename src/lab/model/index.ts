// The lab's model: from a scenario, faults and the API servers' endpoints, the state of every
// simulated cluster (objects, users, CA material). sim/ derives what Istio serves from it.
import type { LabClusterState, LabEndpoint, LabFault, LabMeshState } from '../types.ts';
import { ClusterBuilder } from './builder.ts';
import { LabError } from './errors.ts';
import { buildCaMaterial } from './ca.ts';
import { clusterNames, resolveFaults, scenarioInfo, validateClusterCount } from './catalog.ts';
import { buildClusterObjects, type ScaleOptions } from './cluster.ts';
import { planClusters } from './plan.ts';
import { ADMIN_USER, addRemoteAccess, adminToken } from './remote-access.ts';

export { LAB_FAULTS, LAB_SCENARIOS, faultInfo, parseFault, scenarioInfo, type LabFaultInfo, type LabScenarioInfo, type LabTopology } from './catalog.ts';
export type { ScaleOptions } from './cluster.ts';
export { LabError } from './errors.ts';

/** Most extra pods a simulated cluster takes (its two workers' pod CIDRs hold 16k addresses each). */
export const MAX_SCALE_PODS_PER_CLUSTER = 30_000;

/** What to build. */
export interface BuildMeshOptions {
  /** A name of LAB_SCENARIOS. */
  scenario: string;
  /** Number of clusters (2..10); defaults to the number of endpoints. */
  clusters?: number;
  /** Faults on top of the scenario's own. */
  faults?: LabFault[];
  /** One endpoint per cluster (`cluster1`..`clusterN`): where its API server listens and its CA. */
  endpoints: LabEndpoint[];
  /** Extra namespaces, services and pods per cluster. */
  scale?: ScaleOptions;
  /** The mesh's clock (default: the wall clock); see LabMeshState.clock. */
  clock?: () => Date;
  /** The build moment (default: clock()); object timestamps and certificate validity derive from it. */
  now?: Date;
}

/** Check the scale knobs: non-negative integers, at most MAX_SCALE_PODS_PER_CLUSTER pods. */
export function validateScale(scale: ScaleOptions | undefined): void {
  if (!scale) return;
  for (const [knob, value] of Object.entries(scale)) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw new LabError(`lab scale ${knob} must be a non-negative integer, got ${value}`);
  }
  const pods = (scale.namespaces ?? 1) * (scale.servicesPerNamespace ?? 1) * (scale.podsPerService ?? 1);
  if (pods > MAX_SCALE_PODS_PER_CLUSTER) throw new LabError(`lab scale asks for ${pods} pods per cluster; at most ${MAX_SCALE_PODS_PER_CLUSTER}`);
}

/**
 * Build the state of a simulated mesh: every Kubernetes object of every cluster, the users (bearer
 * tokens) each API accepts, and the faults for sim/. Bad input (unknown scenario, fault or cluster,
 * endpoints that do not match the clusters) throws an Error with one clear line.
 */
export async function buildMeshState(opts: BuildMeshOptions): Promise<LabMeshState> {
  const scenario = scenarioInfo(opts.scenario);
  const count = opts.clusters ?? opts.endpoints.length;
  validateClusterCount(count);
  validateScale(opts.scale);
  const names = clusterNames(count);
  const endpoints = names.map((name) => {
    const endpoint = opts.endpoints.find((e) => e.cluster === name);
    if (!endpoint) throw new LabError(`lab: no API server endpoint for ${name}`);
    return endpoint;
  });
  if (opts.endpoints.length !== count) throw new LabError(`lab: ${opts.endpoints.length} endpoints for ${count} clusters`);

  const faults = resolveFaults(scenario, names, opts.faults ?? []);
  const clock = opts.clock ?? (() => new Date());
  const now = opts.now ?? clock();
  const plans = planClusters(scenario.topology, endpoints, faults);
  const ca = await buildCaMaterial(plans, now);

  const builders = new Map(plans.map((plan) => [plan.name, new ClusterBuilder(plan.name, plan.index, now)]));
  for (const plan of plans) buildClusterObjects(builders.get(plan.name)!, plan, { plans, ca: ca.clusters, scale: opts.scale });
  const users = await addRemoteAccess(builders, plans, now);

  const clusters = plans.map((plan): LabClusterState => {
    const token = adminToken(plan.name);
    const clusterUsers = users.get(plan.name)!;
    clusterUsers.set(token, ADMIN_USER);
    const material = ca.clusters.get(plan.name)!;
    return {
      name: plan.name,
      endpoint: plan.endpoint,
      objects: builders.get(plan.name)!.objects,
      users: clusterUsers,
      adminToken: token,
      ca: { root: material.root, intermediate: material.intermediate },
    };
  });
  return { scenario: scenario.name, faults, clusters, createdAt: now, clock };
}
