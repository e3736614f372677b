// CustomResourceDefinitions as an API server stores them once established: each version served,
// the first stored, schemas that keep unknown fields (the lab validates nothing), and the status
// conditions the apiextensions controllers write (NamesAccepted, then Established).
import type { KubeObject } from '../../cluster/types.ts';
import type { ClusterBuilder } from './builder.ts';

export interface CrdSpec {
  group: string;
  kind: string;
  plural: string;
  /** Served versions, the storage version first. */
  versions: readonly string[];
  namespaced: boolean;
  categories: string[];
  labels?: Record<string, string>;
  annotations: Record<string, string>;
  /** Minutes since it was created (the builder's clock). */
  age: number;
}

/** Add one CRD to the cluster. */
export function addCrd(b: ClusterBuilder, spec: CrdSpec): KubeObject {
  const { group, kind, plural, versions } = spec;
  const names = { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() };
  return b.add({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: b.meta('CustomResourceDefinition', `${plural}.${group}`, undefined, { ...(spec.labels ? { labels: spec.labels } : {}), annotations: spec.annotations, generation: 1 }, spec.age),
    spec: {
      group,
      names: { categories: spec.categories, ...names },
      scope: spec.namespaced ? 'Namespaced' : 'Cluster',
      versions: versions.map((v, i) => ({
        name: v,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
        subresources: { status: {} },
      })),
    },
    status: {
      acceptedNames: names,
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: b.timestamp(spec.age) },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: b.timestamp(spec.age) },
      ],
      storedVersions: [versions[0]],
    },
  });
}
