// Mesh topology discovery: what each cluster is in the mesh (CLUSTER_ID, network, role, revisions,
// version, east-west gateways) and what the mesh is (model, meshID, trust domain). Follows where
// Istio keeps these facts: https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ and the
// install guides of https://istio.io/latest/docs/setup/install/multicluster/.
import { AccessError, type ClusterReader, type KubeObject, type ListScope, type ResourceKindName } from '../cluster/types.ts';
import type { ClusterInfo, MeshInfo } from '../engine/types.ts';
import {
  CONTROL_PLANE_CLUSTERS_ANNOTATION,
  NETWORK_LABEL,
  annotationsOf,
  containerEnv,
  findInjectionWebhooks,
  findInjectorConfigMaps,
  findIstiodDeployments,
  findRemoteIstiodServices,
  findMeshConfigMaps,
  gatewayAddresses,
  injectorValuesOf,
  isIstiodRemoteName,
  istiodContainer,
  istiodNamespaceElsewhere,
  labelsOf,
  meshConfigOf,
  revisionOf,
  versionFromImage,
  type InjectionWebhook,
  type InjectorValues,
  type MeshConfigFacts,
} from './istio-objects.ts';
import { DEFAULT_CLUSTER_DOMAIN, clusterDomainOf, meshNetworksOf, type MeshNetwork } from './istio-gateways.ts';
import { eastWestGatewaysOf } from './eastwest-gateways.ts';
import { dataPlaneOf, findAmbientEastWestGateways } from './ambient.ts';

/** The result of topology discovery. */
export interface Topology {
  clusters: ClusterInfo[];
  mesh: MeshInfo;
}

/** Per-cluster facts that feed the mesh-wide ones but are not part of ClusterInfo. */
interface ClusterFacts {
  info: ClusterInfo;
  meshId?: string;
  trustDomain?: string;
  /** Cluster ids named by the istio namespace's controlPlaneClusters annotation. */
  controlPlaneClusters: string[];
  /** What the east-west gateways are found from, once the mesh's meshNetworks are known. */
  gatewaySources?: GatewaySources;
  /** Whether the cluster's istiod runs with EXTERNAL_ISTIOD=true. */
  externalIstiod?: boolean;
  /** Hosts the cluster's injector webhooks call by URL (an external control plane's address). */
  webhookHosts: string[];
  /** External addresses of the Services in front of the cluster's istiod pods (how other clusters reach it). */
  istiodAddresses?: string[];
  /** The cluster's Namespaces, when they could be listed (an external istiod reads its own namespace's name there). */
  namespaces?: KubeObject[];
  /**
   * Namespaces outside --istio-namespace that claim a istiod-less cluster's Istio install equally
   * (a tie discovery left unresolved, falling back to --istio-namespace); an external istiod's own
   * namespace name among them settles it once roles are known.
   */
  tiedNamespaces?: string[];
  /** The cluster's Istio namespace with the istio namespace's facts read there (set by discoverCluster). */
  istioNamespace: string;
}

/** A cluster's lists that east-west gateway discovery reads. */
interface GatewaySources {
  services: KubeObject[];
  k8sGateways: KubeObject[];
  nodes?: KubeObject[];
  /** ConfigMaps of the istio namespace (meshNetworks, cluster domain); undefined when unreadable. */
  configMaps?: KubeObject[];
}

/** Why a list failed in a way that means "cannot reach this cluster at all". */
const UNREACHABLE_REASONS = new Set(['unreachable', 'unauthorized', 'timeout']);

/**
 * Discover the topology of the clusters behind `readers`. Never throws: a cluster whose every list
 * fails as unreachable/unauthorized is `reachable: false` with the reason; a forbidden list leaves
 * the facts it would have given unknown.
 */
export async function discoverTopology(readers: ClusterReader[], istioNamespace: string, opts: { timeoutMs?: number } = {}): Promise<Topology> {
  const facts = await Promise.all(readers.map((reader) => discoverCluster(reader, istioNamespace, opts.timeoutMs)));
  assignExternalRoles(facts);
  addEastWestGateways(facts);
  const clusters = facts.map((f) => f.info);
  return { clusters, mesh: meshOf(facts) };
}

/** Lists that may fail, remembering why they failed so reachability can be told afterwards. */
class TolerantLister {
  readonly #reader: ClusterReader;
  readonly #istioNamespace: string;
  readonly #errors: Error[] = [];
  /** Cluster-wide lists that succeeded, before narrowing to the istio namespace. */
  readonly #wide = new Map<ResourceKindName, KubeObject[]>();
  #calls = 0;
  #failures = 0;
  /** Settles when the discovery budget (--timeout) is spent: a slow API cannot hold the run up. */
  readonly #expired?: Promise<{ error: Error }>;
  #timer?: NodeJS.Timeout;

  constructor(reader: ClusterReader, istioNamespace: string, timeoutMs?: number) {
    this.#reader = reader;
    this.#istioNamespace = istioNamespace;
    if (timeoutMs !== undefined) {
      const error = new AccessError('timeout', reader.name, `timeout: no answer from ${reader.server ?? reader.name} within ${timeoutMs / 1000}s during discovery (raise it with --timeout)`);
      this.#expired = new Promise((resolve) => {
        this.#timer = setTimeout(() => resolve({ error }), timeoutMs);
      });
    }
  }

  /** Stop the budget's timer once discovery is done. */
  done(): void {
    clearTimeout(this.#timer);
  }

  /**
   * List a kind across namespaces (the scope the engine prefetches, so the memo is shared); with
   * `istio-namespace`, keep that namespace only, and ask for just it when the wide list is forbidden.
   * With `optional`, a kind the server does not serve (a CRD not installed) reads as [].
   * Returns undefined when nothing could be read.
   */
  async list(kind: ResourceKindName, narrowTo?: 'istio-namespace', opts: { optional?: boolean } = {}): Promise<KubeObject[] | undefined> {
    this.#calls += 1;
    let result = await this.#try(kind, undefined, opts.optional);
    if ('objects' in result) this.#wide.set(kind, result.objects);
    if (narrowTo && 'objects' in result) result = { objects: result.objects.filter((o) => o.metadata.namespace === this.#istioNamespace) };
    if (narrowTo && 'error' in result && result.error instanceof AccessError && result.error.reason === 'forbidden') {
      result = await this.#try(kind, { namespace: this.#istioNamespace });
    }
    if ('objects' in result) return result.objects;
    this.#failures += 1;
    this.#errors.push(result.error);
    return undefined;
  }

  async #try(kind: ResourceKindName, scope?: ListScope, optional = false): Promise<{ objects: KubeObject[] } | { error: Error }> {
    const listed = (optional ? this.#reader.listOptional(kind, scope) : this.#reader.list(kind, scope)).then(
      (objects) => ({ objects }),
      (err: unknown) => ({ error: err instanceof Error ? err : new Error(String(err)) }),
    );
    return this.#expired ? Promise.race([listed, this.#expired]) : listed;
  }

  /** The cluster-wide list of a kind when it could be read (undefined when only a namespace could). */
  wide(kind: ResourceKindName): KubeObject[] | undefined {
    return this.#wide.get(kind);
  }

  /** Why the cluster cannot be read at all, when every list failed as unreachable/unauthorized. */
  unreachableReason(): string | undefined {
    if (this.#calls === 0 || this.#failures < this.#calls) return undefined;
    const unreachable = this.#errors.every((e) => e instanceof AccessError && UNREACHABLE_REASONS.has(e.reason));
    return unreachable ? this.#errors[0].message : undefined;
  }
}

async function discoverCluster(reader: ClusterReader, istioNamespace: string, timeoutMs?: number): Promise<ClusterFacts> {
  const lister = new TolerantLister(reader, istioNamespace, timeoutMs);
  const [deployments, namespaces, configMaps, services, webhookConfigs, nodes, k8sGateways, daemonSets] = await Promise.all([
    lister.list('deployments', 'istio-namespace'),
    lister.list('namespaces'),
    lister.list('configmaps', 'istio-namespace'),
    lister.list('services'),
    lister.list('mutatingwebhookconfigurations'),
    lister.list('nodes'),
    lister.list('k8sgateways', undefined, { optional: true }),
    // ztunnel may run outside the istio namespace (some distributions use kube-system): all namespaces.
    lister.list('daemonsets', undefined, { optional: true }),
  ]).finally(() => lister.done());

  const info: ClusterInfo = { name: reader.name, role: 'unknown', revisions: [], reachable: true, via: reader.via };
  if (reader.context) info.context = reader.context;
  const unreachableReason = lister.unreachableReason();
  if (unreachableReason) {
    info.reachable = false;
    info.unreachableReason = unreachableReason;
    return { info, controlPlaneClusters: [], webhookHosts: [], istioNamespace };
  }

  // istiod in --istio-namespace; else one elsewhere: the external control plane guide installs it in
  // `external-istiod` (istio.io external-controlplane snips.sh at 005b9da, snip_get_external_istiod_iop).
  let istiods = findIstiodDeployments(deployments ?? []);
  let istiodNamespace = istioNamespace;
  if (istiods.length === 0) {
    const wide = lister.wide('deployments') ?? [];
    const elsewhere = istiodNamespaceElsewhere(wide, istioNamespace);
    if (elsewhere) {
      istiodNamespace = elsewhere;
      istiods = findIstiodDeployments(wide.filter((d) => d.metadata.namespace === istiodNamespace));
      info.istiodNamespace = istiodNamespace;
      reader.useIstiodNamespace?.(istiodNamespace);
    }
  }
  const webhooks = findInjectionWebhooks(webhookConfigs ?? []);
  // A cluster without istiod has its Istio install (the remote profile) where it was installed: the
  // external control plane guide puts it in `external-istiod` on every remote.
  let tiedNamespaces: string[] | undefined;
  if (istiods.length === 0) {
    const found = istioInstallNamespace({ istioNamespace, namespaces, configMaps: lister.wide('configmaps') ?? configMaps, services, webhookConfigs, webhooks });
    istiodNamespace = found.namespace;
    if (found.tied) tiedNamespaces = found.tied;
  }
  info.istioNamespace = istiodNamespace;
  // The Istio install's own ConfigMaps (mesh config, injector values) live in its namespace.
  const istiodConfigMaps = istiodNamespace === istioNamespace ? configMaps : (lister.wide('configmaps') ?? []).filter((c) => c.metadata.namespace === istiodNamespace);
  const istioNs = namespaces?.find((ns) => ns.metadata.name === istiodNamespace);
  const kubeSystemUid = namespaces?.find((ns) => ns.metadata.name === 'kube-system')?.metadata.uid;
  if (kubeSystemUid) info.kubeSystemUid = kubeSystemUid;
  const injectorValues = injectorValuesOf(findInjectorConfigMaps(configMaps ?? [], istioNamespace)[0] ?? findInjectorConfigMaps(istiodConfigMaps ?? [], istiodNamespace)[0]);
  const webhook = webhooks.find((w) => w.clusterId) ?? webhooks[0];
  const meshConfig = meshConfigOf(findMeshConfigMaps(configMaps ?? [], istioNamespace)[0] ?? findMeshConfigMaps(istiodConfigMaps ?? [], istiodNamespace)[0]);

  const clusterId = containerEnv(istiods[0] && istiodContainer(istiods[0]), 'CLUSTER_ID') ?? injectorValues?.clusterName ?? webhook?.clusterId;
  if (clusterId) info.clusterId = clusterId;
  const network = (istioNs && labelsOf(istioNs)[NETWORK_LABEL]) || injectorValues?.network || webhook?.network;
  if (network) info.network = network;

  const controlPlaneClusters = controlPlaneClustersOf(istioNs);
  const remoteIstiodServices = findRemoteIstiodServices(services ?? [], istiodNamespace);
  info.role = roleOf({
    hasIstiod: istiods.length > 0,
    // Unknown when deployments could not be listed: then we cannot call the cluster anything.
    deploymentsKnown: deployments !== undefined,
    // A cluster naming only itself as control plane is a primary that annotated its own namespace.
    controlPlaneClusters: controlPlaneClusters.filter((id) => id !== clusterId),
    webhook,
    selectorlessIstiodService: remoteIstiodServices.length > 0,
    istiodRemoteService: remoteIstiodServices.some((s) => isIstiodRemoteName(s.metadata.name)),
  });

  info.revisions = [...new Set(istiods.map(revisionOf))].sort();
  const version = versionFromImage(istiods[0] && istiodContainer(istiods[0])?.image) ?? injectorValues?.tag;
  if (version) info.istioVersion = version;

  if (namespaces) info.dataPlane = dataPlaneOf(namespaces, daemonSets);
  const ambientGateways = findAmbientEastWestGateways(k8sGateways ?? []);
  if (ambientGateways.length > 0) {
    info.ambientEastWestGateways = ambientGateways.map((gw) => ({ namespace: gw.namespace, name: gw.name, ...(gw.network ? { network: gw.network } : {}), addresses: gw.addresses }));
  }

  // Gateway API gateways that cannot be read leave only the Service gateways known.
  const gatewaySources = services ? { services, k8sGateways: k8sGateways ?? [], nodes, configMaps: istiodConfigMaps } : undefined;
  const externalIstiod = istiods.some((d) => containerEnv(istiodContainer(d), 'EXTERNAL_ISTIOD') === 'true');
  const webhookHosts = [...new Set(webhooks.map((w) => (w.url ? hostOf(w.url) : undefined)).filter((h): h is string => h !== undefined))].sort();
  const istiodAddresses = istiods.length
    ? (services ?? []).filter((svc) => svc.metadata.namespace === istiodNamespace && selectsIstiod(svc)).flatMap((svc) => gatewayAddresses(svc))
    : [];
  return {
    info,
    ...meshIdentity(meshConfig, injectorValues),
    controlPlaneClusters,
    gatewaySources,
    externalIstiod,
    webhookHosts,
    istiodAddresses,
    namespaces,
    istioNamespace: istiodNamespace,
    ...(tiedNamespaces ? { tiedNamespaces } : {}),
  };
}

/** The release namespace for which the charts leave the webhook's name without a namespace suffix. */
const ISTIO_SYSTEM = 'istio-system';

/** What says a namespace holds a istiod-less cluster's Istio install, strongest first (weights below). */
interface InstallEvidence {
  istioNamespace: string;
  namespaces?: KubeObject[];
  configMaps?: KubeObject[];
  services?: KubeObject[];
  webhookConfigs?: KubeObject[];
  webhooks: InjectionWebhook[];
}

/**
 * The namespace of the Istio install of a cluster that runs no istiod (the remote profile), as the
 * charts place its objects (istio/istio 86c9f01 manifests/charts/istio-control/istio-discovery/
 * templates): the injector webhook calls Service `istiod[-<rev>]` in the release namespace
 * (mutatingwebhook.yaml:10,19-21) and, outside istio-system, is named
 * `istio-sidecar-injector[-<rev>]-<namespace>` (:45-49); the selectorless `istiod[-<rev>]` Service
 * for remotePilotAddress (remote-istiod-service.yaml:3-13), the injector ConfigMap (istiod-injector-
 * configmap.yaml:7; the remote profile omits it, files/profile-remote.yaml omitSidecarInjectorConfigMap)
 * and the mesh config ConfigMap `istio` live there too, and the external control plane guide annotates
 * that namespace with topology.istio.io/controlPlaneClusters (istio.io external-controlplane snips.sh at
 * 005b9da, snip_register_the_new_cluster_3: namespace external-istiod on every remote).
 * --istio-namespace wins unless another namespace shows more of this (the layout meshdoctor read
 * before: a remote profile in istio-system beside an external-istiod namespace carrying only labels);
 * else the namespace with the most weight; a tie among those is not guessed: --istio-namespace, with
 * the tie kept for the role pass (an external istiod's namespace name among them settles it).
 */
export function istioInstallNamespace(evidence: InstallEvidence): { namespace: string; tied?: string[] } {
  const existing = new Set((evidence.namespaces ?? []).map((ns) => ns.metadata.name));
  const weights = new Map<string, number>();
  const add = (namespace: string | undefined, weight: number) => {
    if (!namespace) return;
    weights.set(namespace, (weights.get(namespace) ?? 0) + weight);
  };
  for (const hook of evidence.webhooks) add(hook.service?.namespace, 4);
  for (const config of (evidence.webhookConfigs ?? []).filter((c) => findInjectionWebhooks([c]).length > 0)) {
    // The longest existing namespace the name ends with: `istio-sidecar-injector-<rev>-<ns>` has dashes on both sides.
    // No namespace suffix (`istio-sidecar-injector[-<rev>]`) is the chart's name for a release in istio-system.
    const match = /^istio-sidecar-injector(?:-(.+))?$/.exec(config.metadata.name);
    if (!match) continue;
    const suffix = match[1] === undefined ? undefined : [...existing].filter((ns) => match[1] === ns || match[1].endsWith(`-${ns}`)).sort((a, b) => b.length - a.length)[0];
    add(suffix ?? (existing.has(ISTIO_SYSTEM) ? ISTIO_SYSTEM : undefined), 2);
  }
  const namespaceOf = (o: KubeObject) => o.metadata.namespace ?? '';
  for (const svc of evidence.services ?? []) if (findRemoteIstiodServices([svc], namespaceOf(svc)).length > 0) add(namespaceOf(svc), 2);
  for (const cm of evidence.configMaps ?? []) {
    if (findInjectorConfigMaps([cm], namespaceOf(cm)).length > 0) add(namespaceOf(cm), 1);
    if (findMeshConfigMaps([cm], namespaceOf(cm)).length > 0) add(namespaceOf(cm), 1);
  }
  for (const ns of evidence.namespaces ?? []) if (controlPlaneClustersOf(ns).length > 0) add(ns.metadata.name, 1);
  const own = weights.get(evidence.istioNamespace) ?? 0;
  weights.delete(evidence.istioNamespace);
  const best = Math.max(0, ...weights.values());
  if (best === 0 || own >= best) return { namespace: evidence.istioNamespace };
  const top = [...weights].filter(([, w]) => w === best).map(([ns]) => ns).sort();
  return top.length === 1 ? { namespace: top[0] } : { namespace: evidence.istioNamespace, tied: top };
}

/** A Service whose selector picks istiod's pods (`app: istiod`, as the chart labels them). */
function selectsIstiod(service: KubeObject): boolean {
  const selector = (service.spec?.selector ?? {}) as Record<string, string>;
  return selector.app === 'istiod' || selector.istio === 'pilot';
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

/**
 * An external control plane among the diagnosed clusters: an istiod whose CLUSTER_ID is the id of
 * another cluster that runs no istiod. That other cluster is its config cluster (istiod reads it
 * through Secret istio-kubeconfig as its own: istio/istio 86c9f01 manifests/charts/istio-control/
 * istio-discovery/templates/deployment.yaml:173 KUBECONFIG=/var/run/secrets/remote/config, :289 the
 * optional istio-kubeconfig volume; multicluster.go:163 configCluster := opts.ClusterID == cluster.ID).
 * A shared id alone is also what a duplicate cluster id looks like, so the istiod must say it is
 * external too: EXTERNAL_ISTIOD=true, an istiod outside --istio-namespace (the guide's
 * `external-istiod`), or the config cluster's injector calling it by URL at the address of a Service
 * in front of it (the guide's injectionURL https://$EXTERNAL_ISTIOD_ADDR:15017/...). Any one suffices,
 * so a missing flag is still recognised and reported by control-plane/primary-remote. The istiod's cluster becomes `external-control-plane`, the config
 * cluster `config`, and every other istiod-less cluster that names the config cluster in
 * controlPlaneClusters, or whose injector calls the same host as the config cluster's, a `remote` of it.
 */
function assignExternalRoles(facts: ClusterFacts[]): void {
  const reachable = facts.filter((f) => f.info.reachable);
  const noIstiod = (f: ClusterFacts) => f.info.role !== 'primary' && f.info.role !== 'unknown' && f.info.revisions.length === 0;
  const saysExternal = (f: ClusterFacts, config: ClusterFacts) =>
    f.externalIstiod === true || f.info.istiodNamespace !== undefined || config.webhookHosts.some((h) => (f.istiodAddresses ?? []).includes(h));
  for (const external of reachable.filter((f) => f.info.role === 'primary' && f.info.clusterId !== undefined)) {
    const config = reachable.find((f) => f !== external && noIstiod(f) && f.info.clusterId === external.info.clusterId);
    if (!config || !saysExternal(external, config)) continue;
    external.info.role = 'external-control-plane';
    config.info.role = 'config';
    config.info.controlPlaneCluster = external.info.name;
    const configId = external.info.clusterId!;
    const systemNamespace = external.info.istiodNamespace;
    settleTie(config, systemNamespace);
    takeSystemNamespace(config, systemNamespace);
    for (const other of reachable) {
      if (other === external || other === config || !noIstiod(other) || other.info.role === 'config') continue;
      const named = other.controlPlaneClusters.includes(configId) || controlPlaneClustersOf(namespaceNamed(other, systemNamespace)).includes(configId);
      const sameHost = other.webhookHosts.some((h) => config.webhookHosts.includes(h));
      if (!named && !sameHost) continue;
      other.info.role = 'remote';
      other.info.controlPlaneCluster = external.info.name;
      settleTie(other, systemNamespace);
      takeSystemNamespace(other, systemNamespace);
    }
  }
}

/**
 * A remote whose Istio install two namespaces claimed equally: the one named like its external
 * istiod's namespace is the guide's (every remote's namespace is the external istiod's,
 * snips.sh at 005b9da snip_get_second_remote_cluster_iop: global.istioNamespace external-istiod).
 */
function settleTie(f: ClusterFacts, systemNamespace: string | undefined): void {
  if (!systemNamespace || !f.tiedNamespaces?.includes(systemNamespace)) return;
  f.istioNamespace = systemNamespace;
  f.info.istioNamespace = systemNamespace;
  delete f.tiedNamespaces;
}

function namespaceNamed(f: ClusterFacts, name: string | undefined): KubeObject | undefined {
  return name === undefined ? undefined : f.namespaces?.find((ns) => ns.metadata.name === name);
}

/**
 * An external istiod outside --istio-namespace takes a cluster's network from the label of the
 * namespace named like its own in that cluster (its SystemNamespace: istio/istio 86c9f01
 * pilot/pkg/serviceregistry/kube/controller/controller.go:266-275, network.go:103
 * networkFromSystemNamespace), not from --istio-namespace: that label wins when present.
 */
function takeSystemNamespace(f: ClusterFacts, systemNamespace: string | undefined): void {
  const network = labelsOf(namespaceNamed(f, systemNamespace) ?? { metadata: { name: '' } })[NETWORK_LABEL];
  if (network) f.info.network = network;
}

/**
 * Fill each cluster's east-west gateways as istiod discovers them (eastWestGatewaysOf, the model
 * every check uses): network-labelled Services, Services meshNetworks names by registryServiceName,
 * and Gateway API gateways. meshNetworks is the primaries' (as checks read it through
 * meshGatewayDiscovery), which is why this runs once every cluster's role is known.
 */
function addEastWestGateways(facts: ClusterFacts[]): void {
  const primaries = facts.filter((f) => f.info.reachable && f.info.role === 'primary');
  const networks: MeshNetwork[] = primaries.flatMap((f) => meshNetworksIn(f.gatewaySources?.configMaps, f.istioNamespace));
  const withDomain = primaries.find((f) => findInjectorConfigMaps(f.gatewaySources?.configMaps ?? [], f.istioNamespace).length > 0);
  const clusterDomain = withDomain ? clusterDomainOf(withDomain.gatewaySources?.configMaps ?? [], withDomain.istioNamespace) : DEFAULT_CLUSTER_DOMAIN;
  for (const { info, gatewaySources } of facts) {
    if (!gatewaySources) continue;
    const discovery = { networks, clusterDomain, ...(info.clusterId ? { clusterId: info.clusterId } : {}) };
    info.eastWestGateways = eastWestGatewaysOf(info.name, gatewaySources, discovery).map((gw) => {
      const entry: NonNullable<ClusterInfo['eastWestGateways']>[number] = { namespace: gw.namespace, name: gw.name, addresses: gw.addresses };
      if (gw.network) entry.network = gw.network;
      return entry;
    });
  }
}

/** The meshNetworks of one cluster's ConfigMaps; none when absent or malformed (network checks report that, topology never throws). */
function meshNetworksIn(configMaps: KubeObject[] | undefined, istioNamespace: string): MeshNetwork[] {
  try {
    return meshNetworksOf(configMaps ?? [], istioNamespace)?.networks ?? [];
  } catch {
    return [];
  }
}

function meshIdentity(meshConfig: MeshConfigFacts | undefined, values: InjectorValues | undefined): { meshId?: string; trustDomain?: string } {
  const result: { meshId?: string; trustDomain?: string } = {};
  const meshId = meshConfig?.meshId ?? values?.meshId;
  if (meshId) result.meshId = meshId;
  if (meshConfig) result.trustDomain = meshConfig.trustDomain;
  return result;
}

function controlPlaneClustersOf(namespace: KubeObject | undefined): string[] {
  if (!namespace) return [];
  // Istio documents it as an annotation; some installs set it as a label. Read both.
  const value = annotationsOf(namespace)[CONTROL_PLANE_CLUSTERS_ANNOTATION] ?? labelsOf(namespace)[CONTROL_PLANE_CLUSTERS_ANNOTATION];
  return value ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

interface RoleEvidence {
  hasIstiod: boolean;
  deploymentsKnown: boolean;
  controlPlaneClusters: string[];
  webhook?: InjectionWebhook;
  selectorlessIstiodService: boolean;
  /** A selectorless `istiod[-<rev>]-remote` Service: the chart makes it only when a local istiod runs too. */
  istiodRemoteService: boolean;
}

/**
 * primary: runs istiod. remote: configured by a primary of the mesh (the controlPlaneClusters
 * annotation naming another cluster, or an `istiod[-<rev>]` Service without selector that the
 * webhook and proxies reach the primary through). A remote may run a local istiod that only injects
 * (istiodRemote.enabledLocalInjectorIstiod, 1.21+): the annotation or an `istiod[-<rev>]-remote`
 * Service still make it a remote. external-controlled: no istiod and the injector webhook calls a
 * URL outside the cluster (an external control plane).
 */
function roleOf(evidence: RoleEvidence): ClusterInfo['role'] {
  if (evidence.controlPlaneClusters.length > 0 || evidence.istiodRemoteService) return 'remote';
  if (evidence.hasIstiod) return 'primary';
  if (!evidence.deploymentsKnown) return 'unknown';
  // A primary's webhook carries the same /inject/cluster/<id>/net/<network> path, so the path alone
  // proves nothing: what makes a remote is the controlPlaneClusters annotation or an istiod Service
  // with no pods of its own behind it (primary-remote points it at the primary's gateway, and the
  // webhook URL then names that gateway too: a missing annotation must not make it look external).
  if (evidence.controlPlaneClusters.length > 0 || evidence.selectorlessIstiodService) return 'remote';
  if (evidence.webhook?.url) return 'external-controlled';
  return 'unknown';
}

function meshOf(facts: ClusterFacts[]): MeshInfo {
  // An external control plane cluster is no member of the mesh: its network (none) does not count.
  const reachable = facts.filter((f) => f.info.reachable && f.info.role !== 'external-control-plane');
  const networks = new Set(reachable.map((f) => f.info.network).filter((n): n is string => n !== undefined));
  // A peer that cannot be read hides its network: when east-west gateways exist, assume they join
  // networks, so the healthy clusters' cross-network checks still run instead of skipping.
  const hiddenPeers = facts.some((f) => !f.info.reachable) && reachable.some((f) => (f.info.eastWestGateways ?? []).length > 0);
  const mesh: MeshInfo = { model: modelOf(facts), multiNetwork: networks.size > 1 || hiddenPeers };
  // Primaries own the mesh config; a remote's copy may be stale, so prefer theirs.
  // An external istiod's mesh config is the mesh's: it configures every proxy.
  const owners = (f: ClusterFacts) => f.info.role === 'primary' || f.info.role === 'external-control-plane';
  const ordered = [...facts.filter((f) => f.info.reachable && owners(f)), ...reachable.filter((f) => !owners(f))];
  const meshId = ordered.find((f) => f.meshId)?.meshId;
  const trustDomain = ordered.find((f) => f.trustDomain)?.trustDomain;
  if (meshId) mesh.meshId = meshId;
  if (trustDomain) mesh.trustDomain = trustDomain;
  return mesh;
}

function modelOf(facts: ClusterFacts[]): MeshInfo['model'] {
  const roles = facts.map((f) => f.info.role);
  if (roles.includes('external-control-plane')) return 'external-control-plane';
  const primaryIds = new Set(facts.filter((f) => f.info.role === 'primary').map((f) => f.info.clusterId));
  const primaries = roles.filter((r) => r === 'primary').length;
  const remotes = facts.filter((f) => f.info.role === 'remote');
  if (facts.length === 1 && primaries === 1) return 'single-cluster';
  if (roles.includes('external-controlled')) return 'external-control-plane';
  if (remotes.length > 0) {
    // A remote whose named control plane is not among the clusters is run by an external istiod.
    const controlledFromOutside = remotes.some(
      (r) => primaries === 0 || (r.controlPlaneClusters.length > 0 && !r.controlPlaneClusters.some((id) => primaryIds.has(id))),
    );
    if (controlledFromOutside) return 'external-control-plane';
    return primaries >= 2 ? 'multi-primary' : 'primary-remote';
  }
  if (primaries >= 2) return 'multi-primary';
  return 'unknown';
}
