import { AccessError, type ClusterReader, type KubeObject, type ResourceKindName } from '../../src/cluster/types.ts';
import type { ClusterInfo, MeshInfo } from '../../src/engine/types.ts';

/** A minimal in-memory reader for engine tests: lists from a map, forbidden kinds throw 403. */
export function memoryReader(name: string, objects: Partial<Record<ResourceKindName, KubeObject[]>> = {}, opts: { forbidden?: ResourceKindName[]; live?: boolean } = {}): ClusterReader & { listCalls: string[] } {
  const listCalls: string[] = [];
  const list = async (kind: ResourceKindName): Promise<KubeObject[]> => {
    listCalls.push(kind);
    if (opts.forbidden?.includes(kind)) throw new AccessError('forbidden', name, `forbidden: cannot list ${kind}`);
    return objects[kind] ?? [];
  };
  return {
    name,
    live: opts.live ?? true,
    via: 'context',
    listCalls,
    list,
    listOptional: list,
    istiodDebug: async () => [],
    istiodLogs: async () => [],
    ztunnelConfigDumps: async () => [],
    sidecarAdmin: async () => '',
    exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
    version: async () => undefined,
  };
}

export function clusterInfo(name: string, extra: Partial<ClusterInfo> = {}): ClusterInfo {
  return { name, role: 'primary', revisions: ['default'], reachable: true, via: 'context', ...extra };
}

export const MESH: MeshInfo = { model: 'multi-primary', multiNetwork: true };
