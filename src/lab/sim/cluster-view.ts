// One cluster of the mesh as the simulation sees it: objects indexed by kind, and what Istio reads
// from them (cluster id, network, mesh config, istiod pods), computed once per state.
import { parse as parseYaml } from 'yaml';
import { kindNameOf } from '../../cluster/kinds.ts';
import type { KubeObject, ResourceKindName } from '../../cluster/types.ts';
import type { LabClusterState } from '../types.ts';
import { containersOf, keyOf, secretText } from './objects.ts';

/** Mesh config as istiod reads it from the `istio` ConfigMap (only the fields the lab uses are typed). */
export interface MeshConfig {
  trustDomain?: string;
  meshId?: string;
  defaultConfig?: { proxyMetadata?: Record<string, string>; discoveryAddress?: string; [k: string]: unknown };
  discoverySelectors?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }[];
  [k: string]: unknown;
}

/** Indexed view of one cluster's objects. */
export interface ClusterView {
  name: string;
  state: LabClusterState;
  byKind: Map<ResourceKindName, KubeObject[]>;
  /** Pods by `ns/name`. */
  pods: Map<string, KubeObject>;
  /** Namespaces by name. */
  namespaces: Map<string, KubeObject>;
  /** Namespace istiod runs in; without istiod, the injector ConfigMap's (else istio-system). */
  istioNamespace: string;
  /** istiod pods of this cluster (label app=istiod with a `discovery` container). */
  istiodPods: KubeObject[];
  /** Cluster id: istiod's CLUSTER_ID, else the injector values, else Istio's default `Kubernetes`. */
  id: string;
  /** Network Istio assigns this cluster's endpoints ('' when it cannot tell). */
  network: string;
  /** The network the cluster's pods are really on (which pod IPs can reach which). */
  physicalNetwork: string;
  /** Mesh config from the `istio` ConfigMap ({} when absent). */
  meshConfig: MeshConfig;
  /** Parsed `values` of the `istio-sidecar-injector` ConfigMap ({} when absent). */
  injectorValues: { global?: { network?: string; meshID?: string; multiCluster?: { clusterName?: string } } };
  /** Root certificate PEM of the cluster's CA (cacerts root-cert.pem, else istio-ca-secret ca-cert.pem). */
  rootPem: string | undefined;
}

const NETWORK_LABEL = 'topology.istio.io/network';

/** Index a cluster's objects and read its Istio identity. `index` orders clusters (1-based). */
export function buildClusterView(state: LabClusterState, index: number, singleNetwork: boolean): ClusterView {
  const byKind = new Map<ResourceKindName, KubeObject[]>();
  for (const obj of state.objects) {
    const kind = kindNameOf(obj.apiVersion, obj.kind);
    if (!kind) continue;
    let list = byKind.get(kind);
    if (!list) byKind.set(kind, (list = []));
    list.push(obj);
  }
  const pods = new Map<string, KubeObject>();
  for (const pod of byKind.get('pods') ?? []) pods.set(keyOf(pod), pod);
  const namespaces = new Map<string, KubeObject>();
  for (const ns of byKind.get('namespaces') ?? []) namespaces.set(ns.metadata.name, ns);

  const istiodPods = (byKind.get('pods') ?? []).filter(
    (p) => p.metadata.labels?.app === 'istiod' && containersOf(p).some((c) => c.name === 'discovery'),
  );
  // A cluster without istiod: where its remote profile's injector ConfigMap was installed (the external
  // control plane guide's remotes: external-istiod).
  const injectorNamespace = (byKind.get('configmaps') ?? []).find((c) => c.metadata.name === 'istio-sidecar-injector')?.metadata.namespace;
  const istioNamespace = istiodPods[0]?.metadata.namespace ?? injectorNamespace ?? 'istio-system';
  const configMaps = (byKind.get('configmaps') ?? []).filter((c) => c.metadata.namespace === istioNamespace);

  const injectorValues = parseJson(configMaps.find((c) => c.metadata.name.startsWith('istio-sidecar-injector'))?.data?.values) ?? {};
  const meshText = configMaps.find((c) => c.metadata.name === 'istio')?.data?.mesh;
  const meshConfig = (meshText ? safeYaml(meshText) : undefined) ?? {};

  const envId = istiodEnv(istiodPods, byKind.get('deployments') ?? [], istioNamespace, 'CLUSTER_ID');
  const id = envId || injectorValues.global?.multiCluster?.clusterName || 'Kubernetes';
  const network = namespaces.get(istioNamespace)?.metadata.labels?.[NETWORK_LABEL] ?? '';
  const configuredNetwork = network || injectorValues.global?.network || '';
  const physicalNetwork = singleNetwork ? 'flat' : configuredNetwork || `unlabeled-${index}`;

  const secrets = (byKind.get('secrets') ?? []).filter((s) => s.metadata.namespace === istioNamespace);
  const cacerts = secrets.find((s) => s.metadata.name === 'cacerts');
  const selfSigned = secrets.find((s) => s.metadata.name === 'istio-ca-secret');
  const rootPem = secretText(cacerts, 'root-cert.pem') ?? secretText(cacerts, 'ca.crt') ?? secretText(selfSigned, 'ca-cert.pem');

  return { name: state.name, state, byKind, pods, namespaces, istioNamespace, istiodPods, id, network, physicalNetwork, meshConfig, injectorValues, rootPem };
}

/** An env var of istiod's `discovery` container, from its pods or its Deployment. */
function istiodEnv(pods: KubeObject[], deployments: KubeObject[], ns: string, name: string): string | undefined {
  const templates = [
    ...pods.map((p) => p.spec),
    ...deployments.filter((d) => d.metadata.namespace === ns && d.metadata.name.startsWith('istiod')).map((d) => d.spec?.template?.spec),
  ];
  for (const spec of templates) {
    const discovery = (spec?.containers ?? []).find((c: { name: string }) => c.name === 'discovery');
    const value = (discovery?.env ?? []).find((e: { name: string; value?: string }) => e.name === name)?.value;
    if (value) return value;
  }
  return undefined;
}

function parseJson(text: unknown): ClusterView['injectorValues'] | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function safeYaml(text: string): MeshConfig | undefined {
  try {
    const parsed = parseYaml(text);
    return parsed && typeof parsed === 'object' ? (parsed as MeshConfig) : undefined;
  } catch {
    return undefined;
  }
}

/** Objects of a kind in one cluster. */
export function objectsOf(view: ClusterView, kind: ResourceKindName): KubeObject[] {
  return view.byKind.get(kind) ?? [];
}
