// Reading a cluster's own istiod through its debug endpoints, as the control-plane checks do: which
// clusters have an istiod to ask, the outputs of its pods, and the clusters its clusterz lists.
import type { ClusterReader, IstiodDebugOutput } from '../cluster/types.ts';
import type { ClusterReadContext, ClusterInfo } from '../engine/types.ts';
import { parseClusterz, type ClusterzEntry } from './debug/clusterz.ts';
import { controlledElsewhere } from './roles.ts';

/**
 * `appliesTo` of the checks that ask the cluster's own istiod: remote and externally controlled
 * clusters run none, and a cluster of unknown role had no istiod Deployment found.
 */
export function clustersRunningIstiod(info: ClusterInfo): string | undefined {
  if (controlledElsewhere(info)) return 'no istiod in this cluster';
  if (info.role === 'unknown') return 'role unknown: no istiod Deployment found in this cluster';
  return undefined;
}

/** The outputs of a debug endpoint from every istiod pod of the check's cluster; skips the check when there are none. */
export async function istiodOutputsOrSkip(ctx: ClusterReadContext, endpoint: string): Promise<IstiodDebugOutput[]> {
  const outputs = await ctx.cluster.istiodDebug(endpoint, { signal: ctx.signal });
  if (outputs.length === 0) ctx.skip(`no istiod debug output: /debug/${endpoint} was not captured or no istiod pod runs`);
  return outputs;
}

/**
 * The clusterz entries of every istiod pod of a cluster, merged. undefined when istiod cannot be
 * asked or no pod answers; throws (parseClusterz) on a format no Istio version serves.
 */
export async function readClusterz(reader: Pick<ClusterReader, 'istiodDebug'>, signal: AbortSignal): Promise<ClusterzEntry[] | undefined> {
  let outputs: IstiodDebugOutput[];
  try {
    outputs = await reader.istiodDebug('clusterz', { signal });
  } catch {
    return undefined;
  }
  if (outputs.length === 0) return undefined;
  return outputs.flatMap((o) => parseClusterz(o.body));
}
