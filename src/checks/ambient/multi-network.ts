// Encodes https://istio.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/ and istio/istio pilot/pkg/features/ambient.go (86c9f01).
import { defineCheck } from '../../engine/define-check.ts';
import type { KubeObject } from '../../cluster/types.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import {
  AMBIENT_ENABLE_MULTI_NETWORK,
  PILOT_ENABLE_AMBIENT,
  findZtunnelDaemonSets,
  noAmbientReason,
  runsAmbient,
  ztunnelIdentity,
} from '../../mesh/ambient.ts';
import { containerEnv, findIstiodDeployments, istiodContainer, isOlderThan, isPodReady, podsOfWorkload } from '../../mesh/istio-objects.ts';

const check = defineCheck({
  id: 'ambient/multi-network',
  category: 'ambient',
  scope: 'cluster',
  needs: ['deployments', 'daemonsets', 'pods'],
  meta: {
    description: 'An ambient cluster of a multi-cluster mesh runs istiod with ambient multi-network on, in a supported topology, with ztunnels that know their cluster and network',
    details:
      'Ambient multicluster (alpha in Istio 1.27, beta for multi-network since 1.29) supports only multi-primary meshes on ' +
      'several networks: istio.io says a primary-remote mesh "will not work correctly" and a single network is "untested". ' +
      'istiod needs PILOT_ENABLE_AMBIENT=true (the ambient profile sets it) and AMBIENT_ENABLE_MULTI_NETWORK=true, which ' +
      'is ignored without the first and without which istiod registers no istio-east-west GatewayClass and sends ztunnels ' +
      'no workload of another network. Each ztunnel reports ISTIO_META_CLUSTER_ID (the ztunnel chart\'s multiCluster.clusterName, ' +
      'default "Kubernetes") and NETWORK (the chart\'s network): istiod refuses a ztunnel that claims a cluster it does not ' +
      'know ("client claims to be in cluster"), and a ztunnel on the wrong network sends local traffic through gateways. ' +
      'A sidecar workload and an ambient workload on different networks cannot reach each other (sidecars use the 15443 ' +
      'gateway, ambient the 15008 one; istio#57878).',
    docs: 'https://istio.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/',
    messages: {
      ambientOff: {
        template: 'istiod {{name}} runs without PILOT_ENABLE_AMBIENT=true (it is {{value}}) while this cluster runs ambient workloads: no ztunnel gets its configuration',
        severity: 'error',
        hint: 'Install istiod with the ambient profile: helm --kube-context=<{{cluster}} context> upgrade istiod istio/istiod -n {{namespace}} --reuse-values --set profile=ambient (or istioctl --context=<{{cluster}} context> install --set profile=ambient).',
      },
      multiNetworkOff: {
        template: 'istiod {{name}} runs without AMBIENT_ENABLE_MULTI_NETWORK=true (it is {{value}}): it registers no istio-east-west GatewayClass and sends ztunnels no workload of another cluster\'s network',
        severity: 'error',
        hint: 'Turn it on: helm --kube-context=<{{cluster}} context> upgrade istiod istio/istiod -n {{namespace}} --reuse-values --set env.AMBIENT_ENABLE_MULTI_NETWORK="true" (istioctl: --set values.pilot.env.AMBIENT_ENABLE_MULTI_NETWORK=true).',
      },
      versionTooOld: {
        template: 'istiod {{name}} is Istio {{version}}: ambient multicluster needs Istio 1.27 or later (alpha in 1.27, multi-network beta since 1.29)',
        severity: 'error',
        hint: 'Upgrade every cluster to Istio 1.29 or later (https://istio.io/latest/docs/ambient/upgrade/), or run this mesh in sidecar mode.',
      },
      remoteTopology: {
        template: 'This ambient cluster is part of a {{model}} mesh: ambient multicluster supports multi-primary only ("configurations with one or more remote clusters will not work correctly")',
        severity: 'error',
        hint: 'Run istiod in every cluster (multi-primary): https://istio.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/',
      },
      singleNetwork: {
        template: 'Every cluster of this ambient mesh is on network {{network}}: single-network ambient multicluster is untested upstream and may be broken',
        severity: 'warning',
        hint: 'Put each cluster on its own network (kubectl --context=<{{cluster}} context> label namespace istio-system topology.istio.io/network=<network>) with an istio-east-west gateway, as istio.io documents.',
      },
      ztunnelMissing: {
        template: 'Namespaces {{namespaces}} are labelled istio.io/dataplane-mode=ambient but no ztunnel DaemonSet runs in this cluster: their traffic is not captured',
        severity: 'error',
        hint: 'Install istio-cni and ztunnel: helm --kube-context=<{{cluster}} context> install istio-cni istio/cni -n istio-system --set profile=ambient; helm --kube-context=<{{cluster}} context> install ztunnel istio/ztunnel -n istio-system --set multiCluster.clusterName={{clusterId}} --set global.network={{network}}',
      },
      ztunnelClusterIdMismatch: {
        template: 'ztunnel DaemonSet {{name}} runs with ISTIO_META_CLUSTER_ID={{ztunnelId}} but this cluster\'s id is {{clusterId}}: istiod refuses its certificate and xDS requests ("client claims to be in cluster")',
        severity: 'error',
        hint: 'Set the cluster name: helm --kube-context=<{{cluster}} context> upgrade ztunnel istio/ztunnel -n {{namespace}} --reuse-values --set multiCluster.clusterName={{clusterId}}',
      },
      ztunnelNetworkMismatch: {
        template: 'ztunnel DaemonSet {{name}} runs with NETWORK={{ztunnelNetwork}} but this cluster is on network {{network}}: it treats its own network\'s workloads as remote',
        severity: 'error',
        hint: 'Set the network: helm --kube-context=<{{cluster}} context> upgrade ztunnel istio/ztunnel -n {{namespace}} --reuse-values --set global.network={{network}}',
      },
      ztunnelNotReady: {
        template: 'ztunnel DaemonSet {{name}}: {{ready}} of {{desired}} pods ready ({{notReady}}): ambient pods on those nodes have no data plane',
        severity: 'error',
        hint: 'See why: kubectl --context=<{{cluster}} context> -n {{namespace}} get pods -l app=ztunnel -o wide; kubectl --context=<{{cluster}} context> -n {{namespace}} logs -l app=ztunnel --tail=50',
      },
      sidecarAmbientAcrossNetworks: {
        template: 'Namespace {{namespace}} runs sidecars here (network {{network}}) and ambient in {{peers}} (another network): sidecar and ambient workloads have no path to each other across networks (istio#57878)',
        severity: 'warning',
        hint: 'Use one data plane mode for the namespace in every cluster (kubectl --context=<{{cluster}} context> label namespace {{namespace}} istio.io/dataplane-mode=ambient and remove istio-injection, or the reverse), as upstream does not route sidecar-to-ambient traffic between networks.',
      },
    },
  },
  async run(ctx) {
    const noAmbient = noAmbientReason(ctx.clusterInfos);
    if (noAmbient) ctx.skip(noAmbient);
    const info = ctx.clusterInfo;
    // Sidecar-to-ambient across networks concerns a sidecar-only cluster too.
    const crossNetwork = crossNetworkModes(ctx);
    if (!runsAmbient(info.dataPlane) && !(info.dataPlane?.ambientNamespaces.length ?? 0)) {
      if (crossNetwork > 0) return;
      ctx.skip('this cluster runs no ambient workloads (no namespace labelled istio.io/dataplane-mode=ambient)');
    }
    const [deployments, daemonSets, pods] = await Promise.all([ctx.cluster.list('deployments'), ctx.cluster.list('daemonsets'), ctx.cluster.list('pods')]);
    const multiCluster = ctx.clusterInfos.length > 1;
    judgeIstiod(ctx, findIstiodDeployments(deployments), multiCluster);
    judgeTopology(ctx);
    judgeZtunnel(ctx, findZtunnelDaemonSets(daemonSets), pods);
  },
});
export default check;

type Ctx = ContextOf<typeof check>;

function judgeIstiod(ctx: Ctx, istiods: KubeObject[], multiCluster: boolean): void {
  for (const istiod of istiods) {
    const container = istiodContainer(istiod);
    const data = { name: istiod.metadata.name, namespace: istiod.metadata.namespace ?? ctx.options.istioNamespace };
    const resource = { kind: 'Deployment', namespace: data.namespace, name: data.name };
    const ambient = containerEnv(container, PILOT_ENABLE_AMBIENT);
    if (ambient?.toLowerCase() !== 'true') {
      ctx.report({ messageId: 'ambientOff', resource, data: { ...data, value: ambient === undefined ? 'unset' : JSON.stringify(ambient) } });
      continue;
    }
    if (!multiCluster) continue;
    if (isOlderThan(ctx.clusterInfo.istioVersion, 1, 27)) {
      ctx.report({ messageId: 'versionTooOld', resource, data: { ...data, version: ctx.clusterInfo.istioVersion ?? 'unknown' } });
      continue;
    }
    const multiNetwork = containerEnv(container, AMBIENT_ENABLE_MULTI_NETWORK);
    if (multiNetwork?.toLowerCase() !== 'true') ctx.report({ messageId: 'multiNetworkOff', resource, data: { ...data, value: multiNetwork === undefined ? 'unset (default false)' : JSON.stringify(multiNetwork) } });
  }
}

function judgeTopology(ctx: Ctx): void {
  if (ctx.clusterInfos.length < 2) return;
  if (ctx.mesh.model === 'primary-remote' || ctx.mesh.model === 'external-control-plane') {
    ctx.report({ messageId: 'remoteTopology', data: { model: ctx.mesh.model } });
    return;
  }
  const networks = new Set(ctx.clusterInfos.filter((i) => i.reachable).map((i) => i.network));
  if (!ctx.mesh.multiNetwork && networks.size === 1 && ctx.clusterInfo.network !== undefined) {
    ctx.report({ messageId: 'singleNetwork', data: { network: ctx.clusterInfo.network } });
  }
}

function judgeZtunnel(ctx: Ctx, daemonSets: KubeObject[], pods: KubeObject[]): void {
  const info = ctx.clusterInfo;
  if (daemonSets.length === 0) {
    ctx.report({
      messageId: 'ztunnelMissing',
      data: { namespaces: (info.dataPlane?.ambientNamespaces ?? []).join(', '), clusterId: info.clusterId ?? info.name, network: info.network ?? '<network>' },
    });
    return;
  }
  for (const ds of daemonSets) {
    const namespace = ds.metadata.namespace ?? ctx.options.istioNamespace;
    const resource = { kind: 'DaemonSet', namespace, name: ds.metadata.name };
    const identity = ztunnelIdentity(ds);
    if (ctx.clusterInfos.length > 1 && info.clusterId !== undefined && identity.clusterId !== info.clusterId) {
      ctx.report({ messageId: 'ztunnelClusterIdMismatch', resource, data: { name: ds.metadata.name, namespace, ztunnelId: identity.clusterId, clusterId: info.clusterId } });
    }
    if (ctx.mesh.multiNetwork && info.network !== undefined && identity.network !== info.network) {
      ctx.report({ messageId: 'ztunnelNetworkMismatch', resource, data: { name: ds.metadata.name, namespace, ztunnelNetwork: identity.network ?? '(unset)', network: info.network } });
    }
    const own = podsOfWorkload(ds, pods);
    const desired = typeof ds.status?.desiredNumberScheduled === 'number' ? ds.status.desiredNumberScheduled : own.length;
    const notReady = own.filter((p) => !isPodReady(p));
    const ready = own.length - notReady.length;
    if (notReady.length > 0 || ready < desired) {
      const names = notReady.map((p) => p.metadata.name).slice(0, 3).join(', ') || `${desired - ready} pods not scheduled or missing`;
      ctx.report({ messageId: 'ztunnelNotReady', resource, data: { name: ds.metadata.name, namespace, ready, desired: Math.max(desired, own.length), notReady: names } });
    }
  }
}

/**
 * A namespace run by sidecars in this cluster and by ztunnel in a peer on another network (or the
 * reverse): reported on the sidecar side, where the caller without a path sits.
 */
function crossNetworkModes(ctx: Ctx): number {
  const info = ctx.clusterInfo;
  if (!info.dataPlane || info.network === undefined) return 0;
  let reported = 0;
  const peers = ctx.clusterInfos.filter((peer: ClusterInfo) => peer.name !== info.name && peer.reachable && peer.network !== undefined && peer.network !== info.network);
  for (const namespace of info.dataPlane.sidecarNamespaces) {
    const ambientPeers = peers.filter((peer) => peer.dataPlane?.ambientNamespaces.includes(namespace)).map((peer) => peer.name);
    if (ambientPeers.length === 0) continue;
    ctx.report({ messageId: 'sidecarAmbientAcrossNetworks', resource: { kind: 'Namespace', name: namespace }, data: { namespace, network: info.network, peers: ambientPeers.join(', ') } });
    reported += 1;
  }
  return reported;
}
