// The two forms a secret giving istiod a cluster takes, for tests that pin "same verdict either way":
// the usual remote secret (label istio/multiCluster=true in istiod's namespace, data key = cluster id)
// and the `istioctl create-remote-secret --type=config` form (`istio-kubeconfig`, key `config`, beside
// an external istiod whose CLUSTER_ID is the id it registers that cluster under).
import type { KubeObject } from '../../src/cluster/types.ts';
import { objectNamed, objectsOf, type ClusterObjects } from './helpers.ts';

export const SECRET_FORMS = ['remote secret', 'istio-kubeconfig'] as const;
export type SecretForm = (typeof SECRET_FORMS)[number];

/** Namespace of the external istiod that mounts the istio-kubeconfig secret. */
export const EXTERNAL_ISTIOD_NAMESPACE = 'external-istiod';

/**
 * Rewrite `cluster`'s remote secret `secretName` (one data key) into `form`, giving cluster id `clusterId`.
 * The istio-kubeconfig form moves it beside a copy of the cluster's istiod running with CLUSTER_ID `clusterId`.
 */
export function giveClusterId(objects: Map<string, ClusterObjects>, cluster: string, secretName: string, clusterId: string, form: SecretForm): void {
  const secret = objectNamed(objects, cluster, 'secrets', secretName);
  const value = Object.values(secret.data ?? {})[0];
  if (form === 'remote secret') {
    secret.data = { [clusterId]: value };
    return;
  }
  secret.metadata = { name: 'istio-kubeconfig', namespace: EXTERNAL_ISTIOD_NAMESPACE };
  secret.data = { config: value };
  const istiod: KubeObject = structuredClone(objectNamed(objects, cluster, 'deployments', 'istiod'));
  istiod.metadata.namespace = EXTERNAL_ISTIOD_NAMESPACE;
  const container = (istiod.spec!.template.spec.containers as { name: string; env?: { name: string; value?: string }[] }[]).find((c) => c.name === 'discovery')!;
  container.env = [...(container.env ?? []).filter((e) => e.name !== 'CLUSTER_ID'), { name: 'CLUSTER_ID', value: clusterId }];
  objectsOf(objects, cluster, 'deployments').push(istiod);
}
