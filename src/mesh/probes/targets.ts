// What connectivity probes call: the `--probe-to` targets, else the default ones (HTTP Services a
// caller in another cluster depends on), minus the source's own Service.
import type { ClusterReader, KubeObject } from '../../cluster/types.ts';
import type { CheckContext, ClusterInfo, ClusterReadContext } from '../../engine/types.ts';
import { inNamespace, labelsOf, servicePorts } from '../istio-objects.ts';
import type { LabelMap } from '../labels.ts';
import { hasSidecar } from '../sidecars.ts';
import type { ProbeSettings, ProbeTarget } from './options.ts';
import { peerRead } from './peers.ts';
import { isSystemNamespace, type ProbeSource } from './source.ts';
import { istioNamespacesOf } from '../roles.ts';

/** Default targets are capped: probes stay bounded on meshes with many shared Services. */
export const MAX_DEFAULT_TARGETS = 5;

/** Why a probe check has nothing to probe (no --probe-to and no shared HTTP Service). */
export const NO_TARGETS_REASON = 'no targets: no HTTP Service is present in two or more clusters (give targets with --probe-to HOST[:PORT][/PATH])';

/** Services no probe should target by default: the control plane, gateways and cluster DNS. */
function isSystemService(svc: KubeObject, istioNamespace: string | readonly string[]): boolean {
  const ns = svc.metadata.namespace;
  if (isSystemNamespace(ns, istioNamespace)) return true;
  if (ns === 'default' && svc.metadata.name === 'kubernetes') return true;
  const labels = labelsOf(svc);
  return /gateway|istiod|pilot/.test(labels.istio ?? '') || labels['topology.istio.io/network'] !== undefined || /^(istiod|kube-dns)/.test(svc.metadata.name);
}

/** The port Istio treats as HTTP (appProtocol, else the name prefix), where curl makes sense. */
function httpPortOf(svc: KubeObject): number | undefined {
  const port = servicePorts(svc).find((p) => {
    const appProtocol = ((p as { appProtocol?: string }).appProtocol ?? '').toLowerCase();
    if (appProtocol) return appProtocol === 'http' || appProtocol === 'http2' || appProtocol === 'kubernetes.io/h2c';
    const name = (p.name ?? '').toLowerCase();
    return name === 'http' || name.startsWith('http-') || name === 'http2' || name.startsWith('http2-');
  });
  return port?.port;
}

/**
 * Paths of Istio's samples that answer with the pod that served (`Hello version: v1, instance:
 * helloworld-v1-...` from samples/helloworld, which istio.io's multicluster verification curls at
 * /hello): probing them there lets responses tell the serving cluster (what an ambient source needs)
 * and gets a 200 instead of the 404 of `/`. Keyed by a fragment of the container image.
 */
const SAMPLE_PATHS: [imageFragment: string, path: string][] = [['examples-helloworld', '/hello']];

/** The path to probe a Service at: a known sample's (SAMPLE_PATHS) when its pods run one, else `/`. */
function probePathOf(svc: KubeObject, pods: KubeObject[]): string {
  const selector = svc.spec?.selector as LabelMap | undefined;
  if (!selector || Object.keys(selector).length === 0) return '/';
  const images = inNamespace(pods, svc.metadata.namespace)
    .filter((p) => Object.entries(selector).every(([k, v]) => labelsOf(p)[k] === v))
    .flatMap((p) => ((p.spec?.containers ?? []) as { image?: string }[]).map((c) => c.image ?? ''));
  return SAMPLE_PATHS.find(([fragment]) => images.some((image) => image.includes(fragment)))?.[1] ?? '/';
}

/**
 * Default targets: HTTP Services (not system ones, not headless) present in two or more clusters,
 * plus Services present in one cluster whose namespace has injected pods in another (remote-only
 * Services: those callers depend on cross-cluster discovery and DNS). Sorted; at most
 * MAX_DEFAULT_TARGETS.
 */
export async function defaultTargets(readers: ClusterReader[], infos: ClusterInfo[], istioNamespace: string): Promise<ProbeTarget[]> {
  const usable = readers.filter((_r, i) => infos[i]?.reachable !== false);
  // Each cluster's Istio install is no target, wherever it lives (an external control plane's remotes: external-istiod).
  const istioNamespaces = istioNamespacesOf(infos, istioNamespace);
  const perCluster = await Promise.all(
    usable.map(async (r) => ({ cluster: r.name, services: await peerRead(() => r.list('services'), []), pods: await peerRead(() => r.list('pods'), []) })),
  );
  // Each Service with where it is; its probe path is the first cluster's whose pods run a known
  // sample, worked out only for the Services that become targets (a scan of the pods per Service).
  const byKey = new Map<string, { svc: KubeObject; clusters: string[]; seen: { svc: KubeObject; pods: KubeObject[] }[] }>();
  for (const { cluster, services, pods } of perCluster) {
    for (const svc of services) {
      if (isSystemService(svc, istioNamespaces) || svc.spec?.clusterIP === 'None' || svc.spec?.type === 'ExternalName') continue;
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      const entry = byKey.get(key) ?? { svc, clusters: [], seen: [] };
      entry.clusters.push(cluster);
      entry.seen.push({ svc, pods });
      byKey.set(key, entry);
    }
  }
  const targets: ProbeTarget[] = [];
  for (const [, { svc, clusters, seen }] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    if (targets.length >= MAX_DEFAULT_TARGETS) break;
    const namespace = svc.metadata.namespace ?? 'default';
    const callersElsewhere = perCluster.some((c) => !clusters.includes(c.cluster) && inNamespace(c.pods, namespace).some((p) => hasSidecar(p)));
    if (clusters.length < 2 && !callersElsewhere) continue;
    const port = httpPortOf(svc);
    if (port === undefined) continue;
    let path = '/';
    for (const s of seen) {
      path = probePathOf(s.svc, s.pods);
      if (path !== '/') break;
    }
    const host = `${svc.metadata.name}.${namespace}`;
    targets.push({ label: `${host}:${port}${path}`, host, port, path, service: { namespace, name: svc.metadata.name } });
  }
  return targets;
}

/** The targets of a run: the given ones, else the defaults. */
export async function probeTargets(ctx: Pick<CheckContext, 'clusters' | 'clusterInfos'>, settings: ProbeSettings): Promise<ProbeTarget[]> {
  return settings.to ?? defaultTargets(ctx.clusters, ctx.clusterInfos, settings.istioNamespace);
}

/** Drop targets that are the source's own Service: a probe of itself says nothing about the mesh. */
export async function targetsFor(reader: ClusterReader, source: ProbeSource, targets: ProbeTarget[]): Promise<ProbeTarget[]> {
  const services = await reader.list('services');
  return targets.filter((t) => {
    if (!t.service) return true;
    const svc = services.find((s) => s.metadata.namespace === t.service!.namespace && s.metadata.name === t.service!.name);
    const selector = svc?.spec?.selector as LabelMap | undefined;
    const selectsSource =
      svc !== undefined && t.service.namespace === source.pod.namespace && selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => source.labels[k] === v);
    return !selectsSource;
  });
}

/** The probe targets `source` can reach (targetsFor); skips the check when there are none. */
export async function targetsOrSkip(ctx: ClusterReadContext, settings: ProbeSettings, source: ProbeSource): Promise<ProbeTarget[]> {
  const targets = await targetsFor(ctx.cluster, source, await probeTargets(ctx, settings));
  if (targets.length === 0) ctx.skip(NO_TARGETS_REASON);
  return targets;
}
