// An in-memory ClusterReader for writer tests: serves given objects and canned exec outputs.
import { AccessError } from '../../../src/cluster/types.ts';
import type { ClusterReader, ExecResult, IstiodDebugOutput, KubeObject, PodRef, ResourceKindName, ListScope } from '../../../src/cluster/types.ts';

export interface MemoryReaderInit {
  name: string;
  context?: string;
  objects: Partial<Record<ResourceKindName, KubeObject[]>>;
  /** Kinds that answer 403. */
  forbidden?: ResourceKindName[];
  /** endpoint -> outputs. */
  istiod?: Record<string, IstiodDebugOutput[]>;
  /** `${ns}/${pod}/${what}` -> body. */
  sidecars?: Record<string, string>;
}

export function memoryReader(init: MemoryReaderInit): ClusterReader {
  const list = async (kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]> => {
    if (init.forbidden?.includes(kind)) throw new AccessError('forbidden', init.name, `forbidden: cannot list ${kind}`);
    const all = init.objects[kind] ?? [];
    return scope?.namespace ? all.filter((o) => o.metadata.namespace === scope.namespace) : all;
  };
  return {
    name: init.name,
    context: init.context,
    live: true,
    via: 'context',
    list,
    listOptional: list,
    istiodDebug: async (endpoint) => init.istiod?.[endpoint] ?? [],
    istiodLogs: async () => [],
    ztunnelConfigDumps: async () => [],
    sidecarAdmin: async (pod: PodRef, what) => {
      const body = init.sidecars?.[`${pod.namespace}/${pod.name}/${what}`];
      if (body === undefined) throw new AccessError('not-found', init.name, `no ${what}`);
      return body;
    },
    exec: async (): Promise<ExecResult> => ({ exitCode: 0, stdout: '', stderr: '' }),
    version: async () => ({ major: '1', minor: '31', gitVersion: 'v1.31.0' }),
  };
}
