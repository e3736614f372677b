import type { ResourceKindName } from './types.ts';

/** Where a kind is served. `versions` lists API versions to try in order (newest first). */
export interface ResourceKindInfo {
  group: string;
  versions: string[];
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** Every kind meshdoctor reads, with the API paths it is served at. */
export const RESOURCE_KINDS: Record<ResourceKindName, ResourceKindInfo> = {
  namespaces: { group: '', versions: ['v1'], kind: 'Namespace', plural: 'namespaces', namespaced: false },
  pods: { group: '', versions: ['v1'], kind: 'Pod', plural: 'pods', namespaced: true },
  services: { group: '', versions: ['v1'], kind: 'Service', plural: 'services', namespaced: true },
  endpoints: { group: '', versions: ['v1'], kind: 'Endpoints', plural: 'endpoints', namespaced: true },
  secrets: { group: '', versions: ['v1'], kind: 'Secret', plural: 'secrets', namespaced: true },
  configmaps: { group: '', versions: ['v1'], kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  serviceaccounts: { group: '', versions: ['v1'], kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  nodes: { group: '', versions: ['v1'], kind: 'Node', plural: 'nodes', namespaced: false },
  deployments: { group: 'apps', versions: ['v1'], kind: 'Deployment', plural: 'deployments', namespaced: true },
  replicasets: { group: 'apps', versions: ['v1'], kind: 'ReplicaSet', plural: 'replicasets', namespaced: true },
  endpointslices: { group: 'discovery.k8s.io', versions: ['v1'], kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true },
  networkpolicies: { group: 'networking.k8s.io', versions: ['v1'], kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  mutatingwebhookconfigurations: {
    group: 'admissionregistration.k8s.io',
    versions: ['v1'],
    kind: 'MutatingWebhookConfiguration',
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  customresourcedefinitions: {
    group: 'apiextensions.k8s.io',
    versions: ['v1'],
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  // Istio config kinds: v1 since Istio 1.22, v1beta1 / v1alpha3 on older installs.
  gateways: { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], kind: 'Gateway', plural: 'gateways', namespaced: true },
  virtualservices: { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], kind: 'VirtualService', plural: 'virtualservices', namespaced: true },
  destinationrules: { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], kind: 'DestinationRule', plural: 'destinationrules', namespaced: true },
  serviceentries: { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], kind: 'ServiceEntry', plural: 'serviceentries', namespaced: true },
  workloadentries: { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], kind: 'WorkloadEntry', plural: 'workloadentries', namespaced: true },
  envoyfilters: { group: 'networking.istio.io', versions: ['v1alpha3'], kind: 'EnvoyFilter', plural: 'envoyfilters', namespaced: true },
  peerauthentications: { group: 'security.istio.io', versions: ['v1', 'v1beta1'], kind: 'PeerAuthentication', plural: 'peerauthentications', namespaced: true },
  authorizationpolicies: { group: 'security.istio.io', versions: ['v1', 'v1beta1'], kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', namespaced: true },
  // Gateway API gateways (an east-west gateway may be one).
  k8sgateways: { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], kind: 'Gateway', plural: 'gateways', namespaced: true },
  // Which Gateway API classes istiod registered (istio-east-west only with AMBIENT_ENABLE_MULTI_NETWORK).
  gatewayclasses: { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], kind: 'GatewayClass', plural: 'gatewayclasses', namespaced: false },
  // The ztunnel DaemonSet of ambient mode.
  daemonsets: { group: 'apps', versions: ['v1'], kind: 'DaemonSet', plural: 'daemonsets', namespaced: true },
};

/** Map an object's apiVersion + kind to a ResourceKindName (used when reading snapshots). */
export function kindNameOf(apiVersion: string | undefined, kind: string | undefined): ResourceKindName | undefined {
  if (!kind) return undefined;
  const group = apiVersion && apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  for (const [name, info] of Object.entries(RESOURCE_KINDS) as [ResourceKindName, ResourceKindInfo][]) {
    if (info.kind === kind && info.group === group) return name;
  }
  return undefined;
}

/** The API path of a list: /api/v1/pods, /apis/apps/v1/namespaces/x/deployments. */
export function listPath(info: ResourceKindInfo, version: string, namespace?: string): string {
  const base = info.group === '' ? `/api/${version}` : `/apis/${info.group}/${version}`;
  return info.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${info.plural}` : `${base}/${info.plural}`;
}
