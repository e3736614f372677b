// API discovery: which groups, versions and resources the lab serves. Both the legacy documents
// (/api, /apis, /api/v1, /apis/<group>/<version>) and the aggregated v2 form kubectl 1.32 asks for
// first (one request for /api and one for /apis instead of one per group version).
import { RESOURCE_KINDS, type ResourceKindInfo } from '../../cluster/kinds.ts';
import type { ResourceKindName } from '../../cluster/types.ts';

/** The version the lab claims: kubectl's dispatcher picks kubectl.1.32 from `minor`. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** Verbs advertised for every kind: those of a real cluster; writes still answer 405 (read-only lab). */
const RESOURCE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Short names and categories as real clusters (and Istio's CRDs) declare them. */
const SHORT_NAMES: Partial<Record<ResourceKindName, string[]>> = {
  namespaces: ['ns'],
  pods: ['po'],
  services: ['svc'],
  endpoints: ['ep'],
  configmaps: ['cm'],
  serviceaccounts: ['sa'],
  nodes: ['no'],
  deployments: ['deploy'],
  replicasets: ['rs'],
  networkpolicies: ['netpol'],
  customresourcedefinitions: ['crd', 'crds'],
  gateways: ['gw'],
  virtualservices: ['vs'],
  destinationrules: ['dr'],
  serviceentries: ['se'],
  workloadentries: ['we'],
  peerauthentications: ['pa'],
  authorizationpolicies: ['ap'],
  k8sgateways: ['gtw'],
  gatewayclasses: ['gc'],
  daemonsets: ['ds'],
};

const CATEGORIES: Partial<Record<ResourceKindName, string[]>> = {
  pods: ['all'],
  services: ['all'],
  deployments: ['all'],
  replicasets: ['all'],
  daemonsets: ['all'],
  gateways: ['istio-io', 'networking-istio-io'],
  virtualservices: ['istio-io', 'networking-istio-io'],
  destinationrules: ['istio-io', 'networking-istio-io'],
  serviceentries: ['istio-io', 'networking-istio-io'],
  workloadentries: ['istio-io', 'networking-istio-io'],
  envoyfilters: ['istio-io', 'networking-istio-io'],
  peerauthentications: ['istio-io', 'security-istio-io'],
  authorizationpolicies: ['istio-io', 'security-istio-io'],
  k8sgateways: ['gateway-api'],
  gatewayclasses: ['gateway-api'],
};

/** A subresource the lab serves (exec, port-forward, proxy). */
interface SubresourceInfo {
  parent: ResourceKindName;
  name: string;
  kind: string;
  verbs: string[];
}

const SUBRESOURCES: SubresourceInfo[] = [
  { parent: 'pods', name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
  { parent: 'pods', name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  { parent: 'pods', name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  { parent: 'services', name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
];

/** The authorization.k8s.io review kinds (create only), served besides RESOURCE_KINDS. */
export const REVIEW_RESOURCES = [
  { plural: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview' },
  { plural: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview' },
];
export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

/** A kind served at one group/version. */
export interface ServedKind {
  name: ResourceKindName;
  info: ResourceKindInfo;
}

/** group -> versions (preferred first), in a stable order: core first, then as RESOURCE_KINDS lists them. */
function groupVersions(): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const info of Object.values(RESOURCE_KINDS)) {
    const versions = groups.get(info.group) ?? [];
    for (const v of info.versions) if (!versions.includes(v)) versions.push(v);
    groups.set(info.group, versions);
  }
  groups.set(AUTHORIZATION_GROUP, ['v1']);
  // The first version is the preferred one: Kubernetes prefers GA over beta over alpha.
  for (const [group, versions] of groups) groups.set(group, sortVersions(versions));
  return groups;
}

/** Kubernetes version priority: GA before beta before alpha, higher numbers first. */
function sortVersions(versions: string[]): string[] {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0];
    const stability = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stability, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  return [...versions].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
  });
}

const GROUP_VERSIONS = groupVersions();

/** Kinds served at a group/version. */
export function kindsAt(group: string, version: string): ServedKind[] {
  return (Object.entries(RESOURCE_KINDS) as [ResourceKindName, ResourceKindInfo][])
    .filter(([, info]) => info.group === group && info.versions.includes(version))
    .map(([name, info]) => ({ name, info }));
}

/** Is this group/version served at all? */
export function isServedGroupVersion(group: string, version: string): boolean {
  return GROUP_VERSIONS.get(group)?.includes(version) ?? false;
}

/** The kind behind `<plural>` at a group/version, if served. */
export function kindByPlural(group: string, version: string, plural: string): ServedKind | undefined {
  return kindsAt(group, version).find((k) => k.info.plural === plural);
}

/** The kind for a plural in a group regardless of version (for access reviews). */
export function kindByGroupResource(group: string, plural: string): ResourceKindName | undefined {
  for (const [name, info] of Object.entries(RESOURCE_KINDS) as [ResourceKindName, ResourceKindInfo][]) {
    if (info.group === group && info.plural === plural) return name;
  }
  return undefined;
}

function singular(kind: string): string {
  return kind.toLowerCase();
}

function legacyResource(k: ServedKind): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    name: k.info.plural,
    singularName: singular(k.info.kind),
    namespaced: k.info.namespaced,
    kind: k.info.kind,
    verbs: RESOURCE_VERBS,
  };
  if (SHORT_NAMES[k.name]) entry.shortNames = SHORT_NAMES[k.name];
  if (CATEGORIES[k.name]) entry.categories = CATEGORIES[k.name];
  return entry;
}

/** GET /api */
export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string, versions: string[]): Record<string, unknown> {
  const gvs = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: gvs, preferredVersion: gvs[0] };
}

/** GET /apis */
export function apiGroupList(): unknown {
  const groups = [...GROUP_VERSIONS].filter(([group]) => group !== '').map(([group, versions]) => apiGroup(group, versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** GET /apis/<group>, or undefined when the group is not served. */
export function apiGroupDocument(group: string): unknown {
  const versions = GROUP_VERSIONS.get(group);
  if (!versions || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) };
}

/** GET /api/v1 or /apis/<group>/<version>, or undefined when not served. */
export function apiResourceList(group: string, version: string): unknown {
  if (!isServedGroupVersion(group, version)) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const k of kindsAt(group, version)) {
    resources.push(legacyResource(k));
    for (const sub of SUBRESOURCES.filter((s) => s.parent === k.name)) {
      resources.push({ name: `${k.info.plural}/${sub.name}`, singularName: '', namespaced: k.info.namespaced, kind: sub.kind, verbs: sub.verbs });
    }
  }
  if (group === AUTHORIZATION_GROUP) {
    for (const r of REVIEW_RESOURCES) resources.push({ name: r.plural, singularName: singular(r.kind), namespaced: false, kind: r.kind, verbs: ['create'] });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function aggregatedResources(group: string, version: string): Record<string, unknown>[] {
  const resources: Record<string, unknown>[] = kindsAt(group, version).map((k) => {
    const entry: Record<string, unknown> = {
      resource: k.info.plural,
      responseKind: { group, version, kind: k.info.kind },
      scope: k.info.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: singular(k.info.kind),
      verbs: RESOURCE_VERBS,
    };
    if (SHORT_NAMES[k.name]) entry.shortNames = SHORT_NAMES[k.name];
    if (CATEGORIES[k.name]) entry.categories = CATEGORIES[k.name];
    const subs = SUBRESOURCES.filter((s) => s.parent === k.name);
    if (subs.length) entry.subresources = subs.map((s) => ({ subresource: s.name, responseKind: { group, version, kind: s.kind }, verbs: s.verbs }));
    return entry;
  });
  if (group === AUTHORIZATION_GROUP) {
    for (const r of REVIEW_RESOURCES) {
      resources.push({ resource: r.plural, responseKind: { group, version, kind: r.kind }, scope: 'Cluster', singularResource: singular(r.kind), verbs: ['create'] });
    }
  }
  return resources;
}

/** Media type of aggregated discovery v2; the response Content-Type must carry it for clients to accept it. */
export const AGGREGATED_DISCOVERY_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Does an Accept header ask for aggregated discovery v2? */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('g=apidiscovery.k8s.io') && params.includes('v=v2') && params.includes('as=APIGroupDiscoveryList');
  });
}

/** Aggregated discovery of /api (`legacy` = core group only) or /apis (every named group). */
export function aggregatedDiscovery(legacy: boolean): unknown {
  const items = [...GROUP_VERSIONS]
    .filter(([group]) => (legacy ? group === '' : group !== ''))
    .map(([group, versions]) => ({
      metadata: { name: group, creationTimestamp: null },
      versions: versions.map((version) => ({ version, resources: aggregatedResources(group, version), freshness: 'Current' })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}
