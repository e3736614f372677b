// istiod's /debug/clusterz (pilot/pkg/xds/debug.go, `clusterz`): the clusters its multicluster
// controller knows, in every format since 1.11: `null` (or `[]`) when there are no remotes, entries
// `{id, secretName, syncStatus}`; since 1.22 the local cluster is listed too, with an empty secretName.

import { parseDebugJson } from './json.ts';

/** Sync states istiod reports for a cluster. */
export type ClusterSyncStatus = 'synced' | 'syncing' | 'timeout' | 'closed' | (string & {});

/** One cluster istiod knows. */
export interface ClusterzEntry {
  /** Cluster id (a remote secret's data key, or the local CLUSTER_ID). */
  id: string;
  /** `namespace/name` of the remote secret; '' for the local cluster (1.22+). */
  secretName: string;
  syncStatus: ClusterSyncStatus;
}

/** Parse a clusterz body. Throws an Error naming what is wrong for a shape no Istio version serves. */
export function parseClusterz(body: string): ClusterzEntry[] {
  const value = parseDebugJson(body, '/debug/clusterz');
  if (value === null) return [];
  if (!Array.isArray(value)) throw new Error('unknown /debug/clusterz format: expected a JSON array or null');
  return value.map((entry, index) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    // Field names have been lowercase since the endpoint appeared; accept Go's default casing too.
    const id = e.id ?? e.ID;
    const secretName = e.secretName ?? e.SecretName ?? '';
    const syncStatus = e.syncStatus ?? e.SyncStatus;
    if (typeof id !== 'string' || typeof secretName !== 'string' || typeof syncStatus !== 'string') {
      throw new Error(`unknown /debug/clusterz format: entry ${index} lacks string id/secretName/syncStatus`);
    }
    return { id, secretName, syncStatus };
  });
}
