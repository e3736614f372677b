// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ (istiod's endpoint shards per cluster) and istio/istio pilot/pkg/model/endpointshards.go.
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import { BY_EXTERNAL_CONTROL_PLANE } from '../../engine/explanations.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import { registryKey, type RegistryService } from '../../mesh/debug/registryz.ts';
import type { ServiceEndpoints, ShardEndpoint } from '../../mesh/debug/endpoint-shardz.ts';
import { noSidecarReason } from '../../mesh/ambient.ts';
import { clusterNameOfId, examples, isSystemService, nsName, readEndpointShards, readRegistry, readyEndpointCount } from '../../mesh/services.ts';
import { runsIstiod } from '../../mesh/roles.ts';

const check = defineCheck({
  id: 'services/endpoints',
  category: 'services',
  scope: 'cluster',
  // istiod's debug endpoints answer only while istiod runs: its own check says why when it does not.
  dependsOn: ['control-plane/istiod-ready'],
  // endpoints? (the older API, when readable) and endpointz? (istiod before 1.20 has no endpointShardz).
  needs: ['services', 'endpointslices', 'endpoints?', 'istiod:registryz', 'istiod:endpointShardz', 'istiod:endpointz?'],
  meta: {
    description: "Each primary's istiod holds the endpoints of every cluster, with a network and a sidecar where traffic crosses networks",
    details:
      'istiod keeps the endpoints of a service per cluster ("shards", /debug/endpointShardz; /debug/endpointz before Istio 1.20) ' +
      'and drops a shard that has no endpoints. For every service of its registry, this check compares each cluster\'s shard ' +
      'with the ready endpoints that cluster\'s API holds. In a multi-network mesh every endpoint needs a network: istiod takes ' +
      'it from the pod\'s topology.istio.io/network label or its cluster\'s network (istio-system label or global.network); an ' +
      'endpoint without one is treated as directly reachable from everywhere and cross-network calls to it time out. Endpoints ' +
      'on another network are reached through the east-west gateway with mTLS (AUTO_PASSTHROUGH), so they need a sidecar ' +
      '(TLSMode istio): istiod leaves those without one out of other networks\' EDS (EndpointsByNetworkFilter); system services (kube-dns, kubernetes, istiod, gateways) are uninjected by design and not judged.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      shardMissing: {
        template:
          'istiod {{istiod}} holds no endpoints from cluster {{owner}} for {{count}} Service(s) that have ready endpoints there: {{examples}}',
        severity: 'error',
        hint:
          'istiod is not receiving {{owner}}\'s EndpointSlices: check its remote secret RBAC (endpointslices list/watch) with ' +
          'meshdoctor --only control-plane/remote-api-access, and istiod\'s log: kubectl logs -n {{namespace}} {{istiod}} -c discovery | grep -i {{ownerId}}',
      },
      endpointNoNetwork: {
        template:
          'Endpoints of cluster {{cluster}} have no network in istiod {{istiod}} ({{count}} Service(s): {{examples}}): in a multi-network mesh, calls from other networks to them fail',
        severity: 'error',
        // istiod gives a cluster's endpoints the network of that cluster (topology.istio.io/network on its istio namespace,
        // or global.network): when that cannot be told, they have none. Reported on the endpoints' cluster.
        explainedBy: [{ check: 'network/topology', messages: ['networkUnknown'], when: 'cluster' }, ...BY_EXTERNAL_CONTROL_PLANE],
        hint:
          'Label the cluster\'s istio namespace with its network: kubectl --context=<{{cluster}} context> label namespace {{namespace}} topology.istio.io/network=<network name> ' +
          '(and set values.global.network in its install), then restart its workloads or wait for istiod to resync.',
      },
      uninjectedRemoteEndpoint: {
        template:
          'Service {{service}} has endpoints without a sidecar (TLSMode {{tlsMode}}) in cluster {{cluster}}, on network {{network}}: istiod {{istiod}} gives sidecars on network {{observerNetwork}} no route to them, since the east-west gateway only forwards mTLS, and they serve their own network only ({{workloads}})',
        severity: 'warning',
        // Its namespace is not injected in that cluster, so its pods started without sidecars.
        explainedBy: [{ check: 'services/namespace-sameness', messages: ['namespaceNotInjected'], when: 'namespace' }],
        hint:
          'Inject the workload: kubectl --context=<{{cluster}} context> label namespace {{serviceNamespace}} istio-injection=enabled (remove any sidecar.istio.io/inject: "false"), ' +
          'then kubectl --context=<{{cluster}} context> rollout restart deployment -n {{serviceNamespace}}.',
      },
      noHealthyEndpoints: {
        template: 'Service {{service}} exists in {{clusters}} but has no healthy endpoint in any cluster: every call to it fails with 503 no healthy upstream',
        severity: 'error',
        hint: 'Find out why no pod is ready, in each cluster: kubectl describe service -n {{serviceNamespace}} <service name> (its selector), then kubectl get pods -n {{serviceNamespace}} -l <that selector> and describe those not Ready.',
      },
    },
  },
  appliesTo(info) {
    return runsIstiod(info) ? undefined : 'runs no istiod: its endpoints are checked from its primary';
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const registry = await readRegistry(reader, ctx.signal);
    if (!registry) return ctx.skip('no running istiod answered /debug/registryz');
    const shards = await readEndpointShards(reader, ctx.signal);
    if (!shards) return ctx.skip('istiod answered neither /debug/endpointShardz nor /debug/endpointz');

    const byHost = new Map<string, ServiceEndpoints>(shards.services.map((s) => [`${s.hostname}|${s.namespace}`, s]));
    const apis = new ApiEndpoints(ctx);
    const observer = { istiod: registry.pod, namespace: ctx.options.istioNamespace, network: ctx.clusterInfo.network ?? '' };
    const multiNetwork = isMultiNetwork(ctx.clusterInfos, shards.services, ctx.mesh.multiNetwork);

    const missingByOwner = new Map<string, string[]>();
    const noNetworkByOwner = new Map<string, string[]>();
    for (const service of registry.services) {
      if (service.registry !== 'Kubernetes') continue;
      const held = byHost.get(`${service.hostname}|${service.namespace}`)?.shards ?? {};
      const clusterIds = Object.keys(service.clusterVips);
      let readyAnywhere = false;
      for (const clusterId of clusterIds) {
        const apiReady = await apis.readyCount(clusterId, service);
        if (apiReady === undefined) continue;
        if (apiReady > 0) readyAnywhere = true;
        if (apiReady > 0 && (held[clusterId] ?? []).length === 0) push(missingByOwner, clusterId, registryKey(service));
      }
      const healthyHeld = Object.values(held).some((eps) => eps.some((e) => e.healthy));
      if (clusterIds.length > 1 && !healthyHeld && !readyAnywhere && !isSystemService(service.namespace, service.name, observer.namespace, service.labels)) {
        const clusters = clusterIds.map((id) => clusterNameOfId(ctx.clusterInfos, id) ?? id).join(', ');
        ctx.report({ messageId: 'noHealthyEndpoints', resource: serviceRef(service), data: { ...observer, service: registryKey(service), serviceNamespace: service.namespace, clusters } });
      }
      for (const [clusterId, endpoints] of Object.entries(held)) {
        if (multiNetwork && endpoints.some((e) => e.network === '')) push(noNetworkByOwner, clusterId, registryKey(service));
        reportUninjected(ctx, service, clusterId, endpoints, observer);
      }
    }

    for (const [ownerId, services] of missingByOwner) {
      const owner = clusterNameOfId(ctx.clusterInfos, ownerId) ?? ownerId;
      ctx.report({ messageId: 'shardMissing', data: { ...observer, owner, ownerId, count: services.length, examples: examples(services) } });
    }
    for (const [ownerId, services] of noNetworkByOwner) {
      // Reported on the cluster whose network is unknown: that is where the fix goes.
      const cluster = clusterNameOfId(ctx.clusterInfos, ownerId) ?? reader.name;
      ctx.report({ messageId: 'endpointNoNetwork', cluster, data: { ...observer, cluster, count: services.length, examples: examples(services) } });
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function serviceRef(service: RegistryService) {
  return { kind: 'Service', namespace: service.namespace, name: service.name };
}

/**
 * Multi-network when the clusters' networks differ, or (when a cluster's network is unknown, the
 * very fault this check looks for) when gateways or endpoints name more than one network.
 */
function isMultiNetwork(infos: ClusterInfo[], services: ServiceEndpoints[], meshSays: boolean): boolean {
  if (meshSays) return true;
  const networks = new Set<string>();
  for (const info of infos) {
    if (info.network) networks.add(info.network);
    for (const gateway of info.eastWestGateways ?? []) if (gateway.network) networks.add(gateway.network);
  }
  for (const service of services) for (const eps of Object.values(service.shards)) for (const e of eps) if (e.network) networks.add(e.network);
  return networks.size > 1;
}

/** Application endpoints of another network without a sidecar: the gateway's mTLS passthrough cannot reach them. */
function reportUninjected(
  ctx: Ctx,
  service: RegistryService,
  clusterId: string,
  endpoints: ShardEndpoint[],
  observer: { istiod: string; namespace: string; network: string },
): void {
  if (!observer.network || isSystemService(service.namespace, service.name, observer.namespace, service.labels)) return;
  // Only sidecars take the 15443 path: a network whose clusters all run ambient without a sidecar
  // namespace has no client this applies to (its ztunnels reach other networks over 15008).
  if (noSidecarReason(ctx.clusterInfos.filter((c) => c.network === observer.network))) return;
  const remote = endpoints.filter((e) => e.network !== '' && e.network !== observer.network && e.tlsMode !== 'istio');
  if (remote.length === 0) return;
  const cluster = clusterNameOfId(ctx.clusterInfos, clusterId) ?? clusterId;
  const workloads = examples([...new Set(remote.map((e) => e.workloadName || e.addresses.join('/')))]);
  ctx.report({
    messageId: 'uninjectedRemoteEndpoint',
    cluster,
    service: `${service.namespace}/${service.name}`,
    resource: serviceRef(service),
    data: {
      ...observer,
      observerNetwork: observer.network,
      cluster,
      service: registryKey(service),
      serviceNamespace: service.namespace,
      network: remote[0].network,
      tlsMode: remote[0].tlsMode || 'unset',
      workloads,
    },
  });
}

/** Ready endpoint counts from each cluster's own API, read once per cluster. */
class ApiEndpoints {
  readonly #ctx: Ctx;
  readonly #cache = new Map<string, Promise<Map<string, number> | undefined>>();

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  /** Ready endpoints of the service in the cluster with this id; undefined when that cluster is unknown or unreadable. */
  async readyCount(clusterId: string, service: RegistryService): Promise<number | undefined> {
    let counts = this.#cache.get(clusterId);
    if (!counts) this.#cache.set(clusterId, (counts = this.#load(clusterId)));
    const map = await counts;
    return map ? (map.get(registryKey(service)) ?? 0) : undefined;
  }

  async #load(clusterId: string): Promise<Map<string, number> | undefined> {
    const index = this.#ctx.clusterInfos.findIndex((i) => i.clusterId === clusterId && i.reachable);
    if (index < 0) return undefined;
    const reader = this.#ctx.clusters[index];
    const [services, slices, endpoints] = await Promise.all([
      listIfReadable(reader, 'services'),
      listIfReadable(reader, 'endpointslices'),
      listIfReadable(reader, 'endpoints'),
    ]);
    if (!services || !slices) return undefined; // what we may not read we do not judge
    return new Map(services.map((s) => [nsName(s), readyEndpointCount(s, slices, endpoints ?? [])]));
  }
}
