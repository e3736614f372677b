// Encodes https://istio.io/latest/docs/setup/install/multicluster/before-you-begin/ (each cluster needs a unique values.global.multiCluster.clusterName, istiod's CLUSTER_ID, default "Kubernetes").
import type { ClusterReader } from '../../cluster/types.ts';
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterInfo } from '../../engine/types.ts';
import { istioNamespaceOf } from '../../mesh/roles.ts';
import {
  containerEnv,
  findInjectionWebhooks,
  findInjectorConfigMaps,
  findIstiodDeployments,
  injectorValuesOf,
  istiodContainer,
  revisionOf,
} from '../../mesh/istio-objects.ts';

/** istiod's CLUSTER_ID when the env var is unset (pilot/pkg/features). */
const DEFAULT_CLUSTER_ID = 'Kubernetes';

/** Where one cluster's id comes from, per source. */
interface IdEvidence {
  /** CLUSTER_ID per istiod revision ('Kubernetes' when unset). */
  istiod: { revision: string; id: string; explicit: boolean }[];
  /** values.global.multiCluster.clusterName of the injector. */
  injector?: string;
  /** The id in the injector webhook path. */
  webhook?: string;
}

export default defineCheck({
  id: 'control-plane/cluster-ids',
  category: 'control-plane',
  scope: 'mesh',
  needs: ['deployments', 'configmaps', 'mutatingwebhookconfigurations'],
  meta: {
    description: 'Every cluster of a multi-cluster mesh has its own cluster id, set consistently for istiod and the injector',
    details:
      "istiod's CLUSTER_ID (values.global.multiCluster.clusterName) names the cluster in every registry of the mesh: remote " +
      'secret keys, endpoint shards, proxies\' ISTIO_META_CLUSTER_ID. Unset, it is "Kubernetes" in every cluster, so two ' +
      'clusters collide. Two clusters sharing an id make istiod ignore the peer\'s secret (its key equals the local id) and ' +
      "merge their endpoints. The check reads istiod's env per revision, the injector ConfigMap values and the injector " +
      'webhook path (`/inject/cluster/<id>/net/<network>`, the only place a remote cluster states its id).',
    docs: 'https://istio.io/latest/docs/setup/install/multicluster/before-you-begin/',
    messages: {
      clusterIdUnset: {
        template: 'Cluster {{cluster}} has no cluster id: istiod {{where}} runs with the default "Kubernetes"',
        severity: 'error',
        hint:
          'Reinstall the control plane with its own cluster id: istioctl --context=<{{cluster}} context> install --set values.global.multiCluster.clusterName=<cluster id> ' +
          '--set values.global.network=<network name> (helm: --set global.multiCluster.clusterName=<cluster id>), recreate the peers\' remote secrets for it with --name=<cluster id>, then restart the workloads.',
      },
      clusterIdDefault: {
        template: 'Cluster {{cluster}} uses the default cluster id "Kubernetes" in a multi-cluster mesh',
        severity: 'error',
        hint: 'Give every cluster its own id: istioctl --context=<{{cluster}} context> install --set values.global.multiCluster.clusterName=<cluster id>, and recreate the remote secrets with --name=<cluster id>.',
      },
      clusterIdDuplicate: {
        template: 'Cluster {{cluster}} uses cluster id {{clusterId}}, already used by {{others}}',
        severity: 'error',
        hint:
          'Reinstall {{cluster}} with its own id (values.global.multiCluster.clusterName), recreate the remote secrets that point ' +
          'at it with --name=<new id>, and restart its workloads so proxies pick up the new ISTIO_META_CLUSTER_ID.',
      },
      clusterIdFromValueFrom: {
        template: 'istiod {{revision}} of cluster {{cluster}} sets CLUSTER_ID through valueFrom: its value cannot be read here',
        severity: 'info',
        hint:
          'Read the value where it comes from: kubectl -n <istio namespace> get deploy <istiod deployment> -o jsonpath=\'{.spec.template.spec.containers[0].env[?(@.name=="CLUSTER_ID")].valueFrom}\' ' +
          'and compare it with the remote secret keys and values.global.multiCluster.clusterName.',
      },
      clusterIdInconsistent: {
        template: 'Cluster {{cluster}} states different cluster ids: {{ids}}',
        severity: 'warning',
        hint:
          'istiod, the injector values and the webhook path must agree, or proxies report a cluster id istiod does not know: ' +
          're-run istioctl --context=<{{cluster}} context> install (or helm --kube-context=<{{cluster}} context> upgrade) with one values.global.multiCluster.clusterName for all revisions.',
      },
    },
  },
  async run(ctx) {
    if (ctx.clusters.length < 2) ctx.skip('single cluster: cluster ids only matter across clusters');
    const namespace = ctx.options.istioNamespace;
    const ids = new Map<string, ClusterInfo[]>();
    for (let i = 0; i < ctx.clusters.length; i++) {
      const info = ctx.clusterInfos[i];
      if (!info.reachable) continue;
      // An external istiod's CLUSTER_ID is its config cluster's id (istio.io external-controlplane
      // snips.sh at 005b9da: CLUSTER_ID=${REMOTE_CLUSTER_NAME}); discovery calls a cluster the external
      // control plane only when that id is the config cluster's, so it is judged there, once.
      if (info.role === 'external-control-plane') continue;
      // Each cluster's injector and istiod in its own Istio namespace (an external control plane's remotes: external-istiod).
      const evidence = await evidenceOf(ctx.clusters[i], istioNamespaceOf(info, namespace), (reason) => ctx.notRead(info.name, reason));
      if (!evidence) continue;
      // Set but unreadable (valueFrom): neither unset nor the default, so no claim about it.
      const unreadable = evidence.istiod.filter((e) => e.explicit && !e.id);
      for (const e of unreadable) ctx.report({ messageId: 'clusterIdFromValueFrom', cluster: info.name, data: { cluster: info.name, revision: e.revision } });
      const id = evidence.istiod.find((e) => e.id)?.id || evidence.injector || evidence.webhook;
      if (id === undefined && unreadable.length) continue;
      if (id === undefined) {
        ctx.report({ messageId: 'clusterIdUnset', cluster: info.name, data: { cluster: info.name, where: 'and injector' } });
        continue;
      }
      if (evidence.istiod.length && evidence.istiod.every((e) => !e.explicit)) {
        ctx.report({ messageId: 'clusterIdUnset', cluster: info.name, data: { cluster: info.name, where: `(revision ${evidence.istiod.map((e) => e.revision).join(', ')})` } });
        continue;
      }
      if (id === DEFAULT_CLUSTER_ID) {
        ctx.report({ messageId: 'clusterIdDefault', cluster: info.name, data: { cluster: info.name } });
        continue;
      }
      const stated = new Set([...evidence.istiod.map((e) => e.id).filter(Boolean), ...(evidence.injector ? [evidence.injector] : []), ...(evidence.webhook ? [evidence.webhook] : [])]);
      if (stated.size > 1) ctx.report({ messageId: 'clusterIdInconsistent', cluster: info.name, data: { cluster: info.name, ids: describe(evidence) } });
      ids.set(id, [...(ids.get(id) ?? []), info]);
    }

    for (const [clusterId, sharing] of ids) {
      if (sharing.length < 2) continue;
      // The cluster named like the id most likely owns it; report the others. No such cluster: report all.
      const owner = sharing.filter((c) => c.name === clusterId || c.context === clusterId);
      const offenders = owner.length === 1 ? sharing.filter((c) => c !== owner[0]) : sharing;
      for (const cluster of offenders) {
        const others = sharing.filter((c) => c !== cluster).map((c) => c.name).join(', ');
        ctx.report({ messageId: 'clusterIdDuplicate', cluster: cluster.name, ...(others.includes(', ') ? {} : { peer: others }), data: { cluster: cluster.name, clusterId, others } });
      }
    }
  },
});

/** What a cluster states about its id; undefined when its Deployments cannot be read (`unread` hears why). */
async function evidenceOf(reader: ClusterReader, namespace: string, unread: (reason: string) => void): Promise<IdEvidence | undefined> {
  const all = await listIfReadable(reader, 'deployments', undefined, (err) => unread(err.message));
  if (!all) return undefined;
  const deployments = all.filter((d) => d.metadata.namespace === namespace);
  const istiod = findIstiodDeployments(deployments).map((d) => {
    const container = istiodContainer(d);
    const value = containerEnv(container, 'CLUSTER_ID');
    // Set through valueFrom: explicit, though its value cannot be read here.
    const explicit = container?.env?.some((e) => e.name === 'CLUSTER_ID') ?? false;
    return { revision: revisionOf(d), id: value ?? (explicit ? '' : DEFAULT_CLUSTER_ID), explicit };
  });
  // The injector values and the webhook path are corroborating evidence: without them istiod's env decides.
  const configMaps = (await listIfReadable(reader, 'configmaps')) ?? [];
  const injector = injectorValuesOf(findInjectorConfigMaps(configMaps, namespace)[0])?.clusterName;
  const webhooks = (await listIfReadable(reader, 'mutatingwebhookconfigurations')) ?? [];
  const webhook = findInjectionWebhooks(webhooks).find((w) => w.clusterId)?.clusterId;
  const evidence: IdEvidence = { istiod };
  if (injector) evidence.injector = injector;
  if (webhook) evidence.webhook = webhook;
  return evidence;
}

function describe(evidence: IdEvidence): string {
  const parts = evidence.istiod.map((e) => `istiod ${e.revision} CLUSTER_ID=${e.id}`);
  if (evidence.injector) parts.push(`injector clusterName=${evidence.injector}`);
  if (evidence.webhook) parts.push(`webhook path ${evidence.webhook}`);
  return parts.join(', ');
}
