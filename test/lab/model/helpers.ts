// Shared helpers of the lab model tests: fake endpoints and object lookups.
import YAML from 'yaml';
import type { KubeObject } from '../../../src/cluster/types.ts';
import type { LabClusterState, LabEndpoint, LabMeshState } from '../../../src/lab/types.ts';

/** Endpoints for `count` clusters; model tests need no running server. */
export function fakeEndpoints(count: number): LabEndpoint[] {
  return Array.from({ length: count }, (_, i) => ({
    cluster: `cluster${i + 1}`,
    server: `https://127.0.0.1:${16440 + i}`,
    caPem: `-----BEGIN CERTIFICATE-----\nfake-ca-of-cluster${i + 1}\n-----END CERTIFICATE-----\n`,
  }));
}

/** The cluster of a mesh by name. */
export function clusterOf(mesh: LabMeshState, name: string): LabClusterState {
  const found = mesh.clusters.find((c) => c.name === name);
  if (!found) throw new Error(`no cluster ${name}`);
  return found;
}

/** Objects of a kind (and namespace) in a cluster. */
export function objectsOf(cluster: LabClusterState, kind: string, namespace?: string): KubeObject[] {
  return cluster.objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
}

/** One object, or undefined. */
export function findObject(cluster: LabClusterState, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
  return cluster.objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
}

/** One object that must exist. */
export function getObject(cluster: LabClusterState, kind: string, namespace: string | undefined, name: string): KubeObject {
  const found = findObject(cluster, kind, namespace, name);
  if (!found) throw new Error(`${cluster.name}: no ${kind} ${namespace ?? ''}/${name}`);
  return found;
}

/** A Secret's data, decoded. */
export function secretData(secret: KubeObject): Record<string, string> {
  return Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

/** The parsed mesh config of a cluster's `istio` ConfigMap. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function meshConfig(cluster: LabClusterState): any {
  return YAML.parse(getObject(cluster, 'ConfigMap', 'istio-system', 'istio').data.mesh);
}

/** The parsed `values` of a cluster's injector ConfigMap. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function injectorValues(cluster: LabClusterState): any {
  return JSON.parse(getObject(cluster, 'ConfigMap', 'istio-system', 'istio-sidecar-injector').data.values);
}

/** Pods of a namespace whose name starts with a prefix. */
export function podsOf(cluster: LabClusterState, namespace: string, prefix: string): KubeObject[] {
  return objectsOf(cluster, 'Pod', namespace).filter((p) => p.metadata.name.startsWith(prefix));
}

/** The env value of a container of a pod (containers and init containers). */
export function envOf(pod: KubeObject, container: string, name: string): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const all = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])] as any[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return all.find((c) => c.name === container)?.env?.find((e: any) => e.name === name)?.value;
}

/** The parsed kubeconfig of a remote secret (its single data value). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function remoteSecretKubeconfig(secret: KubeObject): { key: string; config: any } {
  const [[key, value]] = Object.entries(secretData(secret));
  return { key, config: YAML.parse(value) };
}

/** Whether a pod carries Istio's sidecar. */
export function hasSidecar(pod: KubeObject): boolean {
  return Boolean(pod.metadata.annotations?.['sidecar.istio.io/status']);
}

/** The claims of a JWT (a service account token), unverified. */
export function jwtPayload(token: string): { sub?: string; exp?: number; [claim: string]: unknown } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}
