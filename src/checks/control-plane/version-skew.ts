// Encodes https://istio.io/latest/docs/releases/supported-releases/ ("Control plane/data plane skew": the control plane may be one minor ahead of the data plane, never behind) and the multicluster upgrade guidance of one minor between control planes.
import type { KubeObject } from '../../cluster/types.ts';
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterInfo } from '../../engine/types.ts';
import type { ControlPlaneVersion, ProxyVersionGroup, VersionsData } from '../../engine/details.ts';
import {
  CONTROL_PLANE_CLUSTERS_ANNOTATION,
  annotationsOf,
  findIstiodDeployments,
  istiodContainer,
  labelsOf,
  parseVersion,
  revisionOf,
  versionFromImage,
  type IstioVersion,
} from '../../mesh/istio-objects.ts';
import { proxyContainer, SIDECAR_STATUS_ANNOTATION } from '../../mesh/sidecars.ts';
import { istioNamespaceOf } from '../../mesh/roles.ts';

export default defineCheck({
  id: 'control-plane/version-skew',
  category: 'control-plane',
  scope: 'mesh',
  needs: ['deployments', 'pods', 'namespaces'],
  meta: {
    description: 'istiod versions across clusters and revisions stay within one minor, and proxies within the supported skew of their control plane',
    details:
      'Clusters of a multi-cluster mesh exchange configuration and endpoints between control planes, and upgrades go one minor ' +
      'at a time: istiod versions (per cluster and revision, from the pilot image) more than one minor apart are unsupported. ' +
      'A proxy may be at most one minor older than the istiod that configures it and never newer ' +
      '(istio.io supported-releases). Proxy versions come from the istio-proxy container image of every pod (sidecars, ' +
      'native sidecars and gateways); their control plane is the istiod of their revision in their cluster, or, in a remote ' +
      'cluster, in the cluster named by topology.istio.io/controlPlaneClusters (else the mesh\'s primary). The versions seen ' +
      'are attached for the report header.',
    docs: 'https://istio.io/latest/docs/releases/supported-releases/',
    messages: {
      istiodSkew: {
        template: 'istiod {{revision}} of {{cluster}} runs {{version}}, more than one minor from {{newest}} ({{newestAt}})',
        severity: 'warning',
        hint:
          'Upgrade the control planes one minor at a time until they are within one minor: istioctl upgrade --context=<{{cluster}} context> ' +
          '(or a canary revision: istioctl --context=<{{cluster}} context> install --set revision=<new revision>), then move the workloads.',
      },
      proxyTooOld: {
        template: '{{count}} proxies of {{cluster}} (revision {{revision}}) run {{version}}, more than one minor behind their control plane {{controlPlane}} ({{controlPlaneVersion}})',
        severity: 'warning',
        hint: 'Restart them so they are injected with the current proxy: kubectl rollout restart deployment -n <workload namespace> --context=<{{cluster}} context>; gateways: upgrade their Deployments.',
      },
      proxyNewer: {
        template: '{{count}} proxies of {{cluster}} (revision {{revision}}) run {{version}}, newer than their control plane {{controlPlane}} ({{controlPlaneVersion}})',
        severity: 'warning',
        hint: 'The data plane must not be ahead of the control plane: upgrade istiod first (istioctl --context=<{{cluster}} context> upgrade), or roll the proxies back to its version.',
      },
    },
  },
  async run(ctx) {
    const istioNamespace = ctx.options.istioNamespace;
    const controlPlanes: ControlPlaneVersion[] = [];
    const podsByCluster = new Map<string, KubeObject[]>();
    const controllerOf = new Map<string, string[]>();
    for (let i = 0; i < ctx.clusters.length; i++) {
      const info = ctx.clusterInfos[i];
      const namespace = istioNamespaceOf(info, istioNamespace);
      if (!info.reachable) continue;
      const reader = ctx.clusters[i];
      const unread = (err: Error) => ctx.notRead(info.name, err.message);
      const deployments = ((await listIfReadable(reader, 'deployments', undefined, unread)) ?? []).filter((d) => d.metadata.namespace === namespace);
      for (const istiod of findIstiodDeployments(deployments)) {
        const version = versionFromImage(istiodContainer(istiod)?.image);
        if (version) controlPlanes.push({ cluster: info.name, revision: revisionOf(istiod), version });
      }
      const pods = await listIfReadable(reader, 'pods', undefined, unread);
      if (pods) podsByCluster.set(info.name, pods);
      // The controlPlaneClusters annotation only narrows which istiod serves a remote's proxies.
      const istioNs = ((await listIfReadable(reader, 'namespaces')) ?? []).find((n) => n.metadata.name === namespace);
      const named = istioNs && (annotationsOf(istioNs)[CONTROL_PLANE_CLUSTERS_ANNOTATION] ?? labelsOf(istioNs)[CONTROL_PLANE_CLUSTERS_ANNOTATION]);
      controllerOf.set(info.name, named ? named.split(',').map((s) => s.trim()).filter(Boolean) : []);
    }

    // Control planes: compare each with the newest.
    const newest = [...controlPlanes].sort((a, b) => compareVersions(parseVersion(b.version), parseVersion(a.version)))[0];
    for (const cp of controlPlanes) {
      if (!newest || minorDistance(parseVersion(newest.version), parseVersion(cp.version)) <= 1) continue;
      ctx.report({
        messageId: 'istiodSkew',
        cluster: cp.cluster,
        resource: { kind: 'Deployment', namespace: istioNamespaceOf(ctx.clusterInfos.find((c) => c.name === cp.cluster), istioNamespace), name: cp.revision === 'default' ? 'istiod' : `istiod-${cp.revision}` },
        data: { cluster: cp.cluster, revision: cp.revision, version: cp.version, newest: newest.version, newestAt: `${newest.cluster} ${newest.revision}` },
      });
    }

    // Proxies, grouped by cluster, revision and version.
    const groups = new Map<string, ProxyVersionGroup>();
    for (const [cluster, pods] of podsByCluster) {
      const info = ctx.clusterInfos.find((c) => c.name === cluster)!;
      const statusRevisions = new Map<string, string | undefined>();
      for (const pod of pods) {
        if (pod.status?.phase && pod.status.phase !== 'Running') continue;
        // Every pod running a proxy, not only injected ones (hasSidecar): gateways carry no status
        // annotation, yet their Envoy is subject to the same control-plane skew.
        const version = versionFromImage(proxyContainer(pod)?.image);
        if (!version) continue;
        const revision = proxyRevision(pod, statusRevisions);
        const key = `${cluster}|${revision}|${version}`;
        const group = groups.get(key) ?? { cluster, revision, version, count: 0 };
        group.count += 1;
        if (!group.controlPlane) {
          const cp = controlPlaneFor(info, revision, controlPlanes, ctx.clusterInfos, controllerOf.get(cluster) ?? []);
          if (cp) Object.assign(group, { controlPlane: `${cp.cluster}/${cp.revision}`, controlPlaneVersion: cp.version });
        }
        groups.set(key, group);
      }
    }
    const proxies = [...groups.values()].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.revision.localeCompare(b.revision) || a.version.localeCompare(b.version));
    for (const group of proxies) {
      if (!group.controlPlaneVersion) continue;
      const proxy = parseVersion(group.version);
      const cp = parseVersion(group.controlPlaneVersion);
      if (!proxy || !cp) continue;
      const data = { ...group, controlPlane: group.controlPlane!, controlPlaneVersion: group.controlPlaneVersion };
      if (compareMinor(proxy, cp) > 0) ctx.report({ messageId: 'proxyNewer', cluster: group.cluster, data });
      else if (minorDistance(cp, proxy) > 1) ctx.report({ messageId: 'proxyTooOld', cluster: group.cluster, data });
    }

    const versions: VersionsData = {
      controlPlanes: [...controlPlanes].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.revision.localeCompare(b.revision)),
      proxies,
    };
    ctx.attach('versions', versions);
  },
});

/** The revision that injected a pod: the sidecar status annotation's, else the rev label, else default. */
function proxyRevision(pod: KubeObject, statusRevisions: Map<string, string | undefined>): string {
  const status = annotationsOf(pod)[SIDECAR_STATUS_ANNOTATION];
  if (status) {
    // The injector writes the same status text on every pod it injects alike: parse each text once.
    let revision = statusRevisions.get(status);
    if (!statusRevisions.has(status)) {
      revision = statusRevision(status);
      statusRevisions.set(status, revision);
    }
    if (revision) return revision;
  }
  return labelsOf(pod)['istio.io/rev'] || 'default';
}

function statusRevision(status: string): string | undefined {
  try {
    const revision = (JSON.parse(status) as { revision?: unknown }).revision;
    if (typeof revision === 'string' && revision) return revision;
  } catch {
    // An unparseable status still means injected: the caller falls back to the label.
  }
  return undefined;
}

/** The istiod serving proxies of a cluster and revision: local, else the named control-plane cluster, else the primary. */
function controlPlaneFor(
  info: ClusterInfo,
  revision: string,
  controlPlanes: ControlPlaneVersion[],
  infos: ClusterInfo[],
  namedControlPlanes: string[],
): ControlPlaneVersion | undefined {
  const inCluster = (cluster: string) => controlPlanes.find((c) => c.cluster === cluster && c.revision === revision) ?? controlPlanes.find((c) => c.cluster === cluster);
  const local = controlPlanes.some((c) => c.cluster === info.name) ? inCluster(info.name) : undefined;
  if (local) return local;
  // A remote of an external control plane among the diagnosed clusters: discovery found which.
  if (info.controlPlaneCluster && controlPlanes.some((c) => c.cluster === info.controlPlaneCluster)) return inCluster(info.controlPlaneCluster);
  const named = infos.find((i) => i.clusterId !== undefined && namedControlPlanes.includes(i.clusterId) && i.role === 'primary');
  if (named) return inCluster(named.name);
  const primaries = infos.filter((i) => i.role === 'primary');
  return primaries.length === 1 ? inCluster(primaries[0].name) : undefined;
}

function compareVersions(a: IstioVersion | undefined, b: IstioVersion | undefined): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

function compareMinor(a: IstioVersion, b: IstioVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

/** Minors from `older` up to `newer` (a major change counts as far apart). */
function minorDistance(newer: IstioVersion | undefined, older: IstioVersion | undefined): number {
  if (!newer || !older) return 0;
  if (newer.major !== older.major) return Number.POSITIVE_INFINITY;
  return newer.minor - older.minor;
}
