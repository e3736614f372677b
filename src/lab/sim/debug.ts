// istiod's /debug endpoints (port 15014) rendered in current Istio's formats from an IstiodView.
import type { KubeObject } from '../../cluster/types.ts';
import { objectsOf } from './cluster-view.ts';
import type { IstiodView, SimService } from './istiod.ts';
import type { MeshSim } from './mesh.ts';
import { ambientzJson } from './ambient.ts';
import { gatewayAddresses } from './istiod.ts';
import { hasSidecar, imageTag, proxyContainer, stableHash, stableUuid } from './objects.ts';

/** A rendered debug response. */
export interface DebugResponse {
  status: number;
  body: string;
}

const NOT_FOUND: DebugResponse = { status: 404, body: '404 page not found\n' };

/**
 * The large debug bodies, rendered once per istiod view (issue 19): registryz, endpointShardz and
 * syncz are functions of the view and of the lab's fixed faults and creation time (an IstiodView is
 * built once per lab, see MeshSim), and at 10,000 pods per cluster they are 16 to 36 MB of indented
 * JSON each, whose rendering on every read cost the lab seconds on the cores meshdoctor runs on.
 */
const renderedOnce = new WeakMap<IstiodView, Map<string, DebugResponse>>();
const STATIC_ENDPOINTS = new Set(['registryz', 'endpointShardz', 'endpointz', 'syncz']);

/** GET /debug/<path> on an istiod (path with or without the leading `/debug/`, query ignored). */
export function debugRequest(sim: MeshSim, istiod: IstiodView, path: string): DebugResponse {
  const name = path.split('?')[0].replace(/^\/?(debug\/)?/, '').replace(/\/+$/, '');
  if (!STATIC_ENDPOINTS.has(name)) return render(sim, istiod, name);
  let byName = renderedOnce.get(istiod);
  if (!byName) renderedOnce.set(istiod, (byName = new Map()));
  let response = byName.get(name);
  if (!response) byName.set(name, (response = Object.freeze(render(sim, istiod, name))));
  return response;
}

function render(sim: MeshSim, istiod: IstiodView, name: string): DebugResponse {
  const json = (value: unknown): DebugResponse => ({ status: 200, body: `${JSON.stringify(value, null, 2)}\n` });
  switch (name) {
    case 'registryz':
      return json(registryz(istiod));
    case 'endpointShardz':
    case 'endpointz':
      return json(endpointShardz(istiod));
    case 'clusterz':
      return json(istiod.registries.map((r) => ({ id: r.id, secretName: r.secretName, syncStatus: r.syncStatus })));
    case 'networkz':
      return json([
        ...istiod.gateways.map((g) => ({ Network: g.network, Cluster: g.clusterId, Addr: g.addr, Port: g.port, HBONEPort: 0, ServiceAccount: { Namespace: '', Name: '' } })),
        ...hboneGateways(istiod),
      ]);
    case 'ambientz':
      return json(ambientzJson(istiod, sim));
    case 'syncz':
      return json(syncz(sim, istiod));
    case 'configz':
      return json(configz(istiod));
    case 'mesh':
      return json(meshConfigWithDefaults(istiod));
    default:
      return NOT_FOUND;
  }
}

/**
 * Labelled Services that listen on the HBONE port but not on 15443 (an ambient east-west gateway's
 * Service): istiod lists them with Port 0 and HBONEPort 15008 (pilot/pkg/serviceregistry/kube/
 * controller/network.go:336-351 at istio/istio eed52ebb).
 */
function hboneGateways(istiod: IstiodView): unknown[] {
  const out: unknown[] = [];
  for (const reg of istiod.registries) {
    if (reg.syncStatus !== 'synced') continue;
    for (const svc of objectsOf(reg.view, 'services')) {
      const network = svc.metadata.labels?.['topology.istio.io/network'];
      const ports = (svc.spec?.ports ?? []) as { port: number; nodePort?: number }[];
      const hbone = ports.find((p) => p.port === 15008);
      if (!network || !hbone || ports.some((p) => p.port === 15443)) continue;
      for (const a of gatewayAddresses(reg.view, svc, hbone)) out.push({ Network: network, Cluster: reg.id, Addr: a.addr, Port: 0, HBONEPort: 15008, ServiceAccount: { Namespace: '', Name: '' } });
    }
  }
  return out;
}

function registryz(istiod: IstiodView): unknown[] {
  return [...istiod.services.values()].sort(byHost).map((s) => {
    const first = s.instances[0].svc;
    const vips: Record<string, string[]> = {};
    const external: Record<string, string[]> = {};
    for (const inst of s.instances) {
      // Each cluster's own address: istiod merges VIPs per cluster (aggregate mergeService).
      vips[inst.registryId] = [inst.svc.spec?.clusterIP === 'None' ? '0.0.0.0' : (inst.svc.spec?.clusterIP ?? '0.0.0.0')];
      const ext = [
        ...((inst.svc.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[]).map((i) => i.ip ?? i.hostname ?? ''),
        ...((inst.svc.spec?.externalIPs ?? []) as string[]),
      ].filter(Boolean);
      if (ext.length) external[inst.registryId] = ext;
    }
    return {
      Attributes: {
        ServiceRegistry: 'Kubernetes',
        Name: s.name,
        Namespace: s.namespace,
        Labels: first.metadata.labels ?? null,
        ExportTo: null,
        LabelSelectors: first.spec?.selector ?? null,
        Aliases: null,
        ClusterExternalAddresses: { Addresses: Object.keys(external).length ? external : null },
        ClusterExternalPorts: null,
        PassthroughTargetPorts: null,
        Type: first.spec?.type ?? 'ClusterIP',
        ExternalName: first.spec?.externalName ?? '',
        NodeLocal: false,
        TrafficDistribution: 0,
        ObjectName: s.name,
        PublishNotReadyAddresses: Boolean(first.spec?.publishNotReadyAddresses),
      },
      ports: s.ports,
      creationTime: first.metadata.creationTimestamp ?? null,
      hostname: s.hostname,
      clusterVIPs: { Addresses: vips },
      defaultAddress: vips[s.instances[0].registryId][0],
      Resolution: s.headless ? 2 : 0,
      MeshExternal: false,
      ResourceVersion: first.metadata.resourceVersion ?? '',
    };
  });
}

function endpointShardz(istiod: IstiodView): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of [...istiod.services.values()].sort(byHost)) {
    // istiod drops a shard (and a service) with no endpoints.
    if (s.endpoints.length === 0) continue;
    const shards: Record<string, unknown[]> = {};
    const accounts: Record<string, Record<string, never>> = {};
    for (const ep of s.endpoints) {
      (shards[`Kubernetes/${ep.registryId}`] ??= []).push({
        Labels: ep.labels,
        Addresses: [ep.address],
        ServicePortName: ep.servicePortName,
        LegacyClusterPortKey: 0,
        ServiceAccount: ep.serviceAccount,
        Network: ep.network,
        Locality: { Label: ep.locality, ClusterID: ep.registryId },
        EndpointPort: ep.endpointPort,
        LbWeight: 0,
        TLSMode: ep.tlsMode,
        Namespace: s.namespace,
        WorkloadName: ep.workloadName,
        HostName: '',
        SubDomain: '',
        HealthStatus: 1,
        SendUnhealthyEndpoints: false,
        NodeName: ep.nodeName,
      });
      accounts[ep.serviceAccount] = {};
    }
    out[s.hostname] = { [s.namespace]: { Shards: shards, ServiceAccounts: accounts } };
  }
  return out;
}

const XDS_TYPES = [
  ['cluster', 'type.googleapis.com/envoy.config.cluster.v3.Cluster'],
  ['listener', 'type.googleapis.com/envoy.config.listener.v3.Listener'],
  ['route', 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration'],
  ['endpoint', 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'],
] as const;

/** Proxies connected to this istiod: sidecars and gateways of every cluster it is the control plane of. */
export function connectedProxies(sim: MeshSim, istiod: IstiodView): { pod: KubeObject; clusterId: string; type: 'sidecar' | 'router' }[] {
  const out: { pod: KubeObject; clusterId: string; type: 'sidecar' | 'router' }[] = [];
  for (const view of sim.views.values()) {
    if (sim.controlPlaneOf(view.name) !== istiod) continue;
    for (const pod of view.pods.values()) {
      if (pod.status?.phase !== 'Running' || !proxyContainer(pod)) continue;
      out.push({ pod, clusterId: view.id, type: hasSidecar(pod) ? 'sidecar' : 'router' });
    }
  }
  return out;
}

function syncz(sim: MeshSim, istiod: IstiodView): unknown[] {
  const stale = sim.hasFault('proxy-stale', istiod.name);
  const proxies = connectedProxies(sim, istiod).sort((a, b) => proxyId(a.pod).localeCompare(proxyId(b.pod)));
  return proxies.map(({ pod, clusterId, type }, index) => {
    const id = proxyId(pod);
    // proxy-stale: two proxies in three never acked their last endpoint push.
    const isStale = stale && index % 3 !== 2;
    const entry: Record<string, unknown> = {
      cluster_id: clusterId,
      proxy: id,
      proxy_type: type,
      istio_version: imageTag(proxyContainer(pod)?.image) ?? istiod.version,
    };
    const resources: Record<string, unknown> = {};
    const sentTime = new Date(sim.mesh.createdAt.getTime() + (stableHash(id) % 60_000)).toISOString();
    for (const [short, typeUrl] of XDS_TYPES) {
      const sent = stableUuid(`${id}|${short}|2`);
      const acked = isStale && short === 'endpoint' ? stableUuid(`${id}|${short}|1`) : sent;
      entry[`${short}_sent`] = sent;
      entry[`${short}_acked`] = acked;
      resources[typeUrl] = { sent, acked, sentTime };
    }
    entry.resources = resources;
    return entry;
  });
}

function proxyId(pod: KubeObject): string {
  return `${pod.metadata.name}.${pod.metadata.namespace}`;
}

/** Istio config kinds istiod serves in configz (read from its own cluster, the config cluster). */
const CONFIG_KINDS = ['gateways', 'virtualservices', 'destinationrules', 'serviceentries', 'workloadentries', 'envoyfilters', 'peerauthentications', 'authorizationpolicies'] as const;

function configz(istiod: IstiodView): unknown[] {
  const out: unknown[] = [];
  for (const kind of CONFIG_KINDS) {
    for (const obj of objectsOf(istiod.view, kind)) {
      out.push({ kind: obj.kind, apiVersion: obj.apiVersion, metadata: obj.metadata, spec: obj.spec ?? {}, status: obj.status ?? null });
    }
  }
  return out;
}

function meshConfigWithDefaults(istiod: IstiodView): unknown {
  const mesh = istiod.view.meshConfig;
  return {
    accessLogFile: '',
    enableTracing: true,
    defaultConfig: {
      configPath: './etc/istio/proxy',
      binaryPath: '/usr/local/bin/envoy',
      serviceCluster: 'istio-proxy',
      discoveryAddress: `istiod.${istiod.view.istioNamespace}.svc:15012`,
      statusPort: 15020,
      proxyMetadata: {},
      ...(mesh.defaultConfig ?? {}),
    },
    rootNamespace: istiod.view.istioNamespace,
    trustDomain: 'cluster.local',
    enablePrometheusMerge: true,
    ...mesh,
  };
}

function byHost(a: SimService, b: SimService): number {
  return a.hostname.localeCompare(b.hostname);
}
