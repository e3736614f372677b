// Encodes https://istio.io/latest/docs/setup/install/multicluster/before-you-begin/ (one meshID and trust domain for every cluster) and https://istio.io/latest/docs/ops/configuration/mesh/configure-dynamic-discovery-selectors/.
import type { ClusterReader, KubeObject } from '../../cluster/types.ts';
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterInfo } from '../../engine/types.ts';
import { findInjectorConfigMaps, findMeshConfigMaps, injectorValuesOf, labelsOf, meshConfigOf, type MeshConfigFacts } from '../../mesh/istio-objects.ts';
import { labelSelectorMatches, type LabelSelector } from '../../mesh/labels.ts';
import { expectedPeers } from '../../mesh/remote-secrets.ts';
import { istioNamespaceOf } from '../../mesh/roles.ts';

/** The mesh identity one cluster was installed with. */
interface ClusterMeshIdentity {
  info: ClusterInfo;
  reader: ClusterReader;
  /** Effective mesh id: meshID, or the trust domain when unset (Istio's default). */
  meshId: string;
  meshIdExplicit: boolean;
  config?: MeshConfigFacts;
}

export default defineCheck({
  id: 'control-plane/mesh-config',
  category: 'control-plane',
  scope: 'mesh',
  needs: ['configmaps', 'namespaces', 'services'],
  meta: {
    description: 'Every cluster shares one meshID and trust domain, and discoverySelectors keep the namespaces that hold mesh services',
    details:
      'Clusters of one mesh must be installed with the same values.global.meshID (unset, it defaults to the trust domain) and ' +
      'the same trustDomain: workload certificates carry spiffe://<trust domain>/ns/<ns>/sa/<sa>, and a peer with another ' +
      'trust domain fails authorization unless trustDomainAliases cover it both ways. The check reads each cluster\'s mesh ' +
      'config (ConfigMap istio, key mesh) and injector values, and compares them with the mesh\'s (primaries first). It also ' +
      "evaluates each primary's discoverySelectors against the namespaces of the clusters it discovers: istiod applies them " +
      'to every cluster, with that cluster\'s namespace labels, so an injected namespace with Services in a peer that the ' +
      'selectors skip is invisible to this istiod.',
    docs: 'https://istio.io/latest/docs/setup/install/multicluster/before-you-begin/',
    messages: {
      meshIdMismatch: {
        template: 'Cluster {{cluster}} is in mesh {{meshId}}, the mesh is {{expected}}',
        severity: 'error',
        hint:
          'Reinstall {{cluster}} with the mesh\'s id: istioctl --context=<{{cluster}} context> install --set values.global.meshID={{expected}} (helm: --set ' +
          'global.meshID={{expected}}), then restart its workloads.',
      },
      trustDomainMismatch: {
        template: 'Cluster {{cluster}} uses trust domain {{trustDomain}}, the mesh uses {{expected}}, and no trustDomainAliases cover it',
        severity: 'error',
        hint:
          'Use one trust domain in every cluster: istioctl install --context=<{{cluster}} context> --set meshConfig.trustDomain={{expected}}, then restart istiod ' +
          'and the workloads; during a migration list the other one in meshConfig.trustDomainAliases of both clusters. ' +
          'Check: kubectl --context=<{{cluster}} context> -n istio-system get configmap istio -o jsonpath={.data.mesh}',
      },
      trustDomainAliased: {
        template: 'Cluster {{cluster}} uses trust domain {{trustDomain}}, the mesh {{expected}}; trustDomainAliases bridge them',
        severity: 'warning',
        hint: 'Fine during a migration; finish it by moving every cluster to one trust domain and removing the aliases.',
      },
      discoverySelectorsExclude: {
        template: 'discoverySelectors of {{cluster}} skip namespace {{namespace}} of {{peer}}, which holds mesh services ({{services}})',
        severity: 'warning',
        hint:
          'Label the namespace in every cluster so the selectors match it (e.g. kubectl label namespace {{namespace}} ' +
          '<selector label>=<selector value> --context=<{{peer}} context>), or widen meshConfig.discoverySelectors of {{cluster}}.',
      },
    },
  },
  async run(ctx) {
    if (ctx.clusters.length < 2) ctx.skip('single cluster: nothing to compare');
    const istioNamespace = ctx.options.istioNamespace;
    const identities: ClusterMeshIdentity[] = [];
    for (let i = 0; i < ctx.clusters.length; i++) {
      const info = ctx.clusterInfos[i];
      const namespace = istioNamespaceOf(info, istioNamespace);
      if (!info.reachable) continue;
      const configMaps = await listIfReadable(ctx.clusters[i], 'configmaps', undefined, (err) => ctx.notRead(info.name, err.message));
      if (!configMaps) continue;
      const config = meshConfigOf(findMeshConfigMaps(configMaps, namespace)[0]);
      const declared = config?.meshId ?? injectorValuesOf(findInjectorConfigMaps(configMaps, namespace)[0])?.meshId;
      if (!config && !declared) continue;
      identities.push({ info, reader: ctx.clusters[i], meshId: declared ?? config!.trustDomain, meshIdExplicit: declared !== undefined, config });
    }
    // The mesh's identity: primaries first (topology's choice), else the first cluster that states one.
    const primary = identities.find((c) => c.info.role === 'primary') ?? identities[0];
    if (!primary) ctx.skip('no cluster has a readable mesh config');

    const expectedMeshId = ctx.mesh.meshId ?? primary.meshId;
    const reference = identities.find((c) => c.config && c.config.trustDomain === (ctx.mesh.trustDomain ?? primary.config?.trustDomain)) ?? primary;
    for (const cluster of identities) {
      const name = cluster.info.name;
      if (cluster.meshId !== expectedMeshId) {
        const meshId = cluster.meshIdExplicit ? cluster.meshId : `${cluster.meshId} (meshID unset: the trust domain)`;
        ctx.report({ messageId: 'meshIdMismatch', cluster: name, data: { cluster: name, meshId, expected: expectedMeshId } });
      }
      const expectedTd = reference.config?.trustDomain;
      const td = cluster.config?.trustDomain;
      if (expectedTd && td && td !== expectedTd) {
        const bridged = cluster.config!.trustDomainAliases.includes(expectedTd) && (reference.config?.trustDomainAliases ?? []).includes(td);
        ctx.report({ messageId: bridged ? 'trustDomainAliased' : 'trustDomainMismatch', cluster: name, data: { cluster: name, trustDomain: td, expected: expectedTd } });
      }
    }

    for (const cluster of identities) {
      const selectors = cluster.config?.discoverySelectors;
      if (cluster.info.role !== 'primary' || !selectors || selectors.length === 0) continue;
      for (const peer of expectedPeers(cluster.info, ctx.clusterInfos, ctx.mesh)) {
        if (!peer.reachable) continue; // the engine says it was not read
        const reader = ctx.clusters[ctx.clusterInfos.indexOf(peer)];
        for (const { ns, services } of await meshServiceNamespaces(reader, (reason) => ctx.notRead(peer.name, reason))) {
          if (selectors.some((s) => labelSelectorMatches(s as LabelSelector | undefined, labelsOf(ns)))) continue;
          ctx.report({
            messageId: 'discoverySelectorsExclude',
            cluster: cluster.info.name,
            resource: { kind: 'Namespace', name: ns.metadata.name },
            data: { cluster: cluster.info.name, namespace: ns.metadata.name, peer: peer.name, services: services.slice(0, 5).join(', ') },
          });
        }
      }
    }
  },
});

/** Injected namespaces of a cluster that hold Services: the mesh services a peer's istiod should see. */
async function meshServiceNamespaces(reader: ClusterReader, unread: (reason: string) => void): Promise<{ ns: KubeObject; services: string[] }[]> {
  const absent = (err: Error) => unread(err.message);
  const [namespaces, services] = await Promise.all([listIfReadable(reader, 'namespaces', undefined, absent), listIfReadable(reader, 'services', undefined, absent)]);
  if (!namespaces || !services) return [];
  const out: { ns: KubeObject; services: string[] }[] = [];
  for (const ns of namespaces) {
    const labels = labelsOf(ns);
    const injected = labels['istio-injection'] === 'enabled' || labels['istio.io/rev'] !== undefined;
    if (!injected) continue;
    const names = services.filter((s) => s.metadata.namespace === ns.metadata.name).map((s) => s.metadata.name).sort();
    if (names.length) out.push({ ns, services: names });
  }
  return out.sort((a, b) => a.ns.metadata.name.localeCompare(b.ns.metadata.name));
}
