// Encodes samples/multicluster/expose-services.yaml (https://istio.io/latest/docs/setup/install/multicluster/multi-primary_multi-network/), istio#31480 and IST0145.
import { defineCheck } from '../../engine/define-check.ts';
import { AccessError, type ClusterReader, type KubeObject } from '../../cluster/types.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import { CONTROL_PLANE_CLUSTERS_ANNOTATION, annotationsOf, labelsOf, objectKey } from '../../mesh/istio-objects.ts';
import {
  DEFAULT_CLUSTER_DOMAIN,
  clusterDomainOf,
  coversMeshServiceHosts,
  gatewaySelector,
  gatewaySelectsPod,
  gatewayServers,
  isIstioNetworkingObject,
  partialMeshServiceHosts,
  selectorText,
  serverHostsOverlap,
  serverProtocol,
  serverTlsMode,
  type GatewayServer,
} from '../../mesh/istio-gateways.ts';
import { clusterEastWestGateways, gatewayPods, type EastWestGateway } from '../../mesh/eastwest-gateways.ts';
import { dataPlaneSkipReason, istioNamespaceOf } from '../../mesh/roles.ts';

/** An east-west gateway with the pods behind it (what a Gateway's selector is matched against). */
type EastWestWorkload = EastWestGateway & { pods: KubeObject[] };

const EXPOSE_SERVICES = 'kubectl --context {{configContext}} apply -n istio-system -f samples/multicluster/expose-services.yaml';

const check = defineCheck({
  id: 'network/cross-network-gateway',
  category: 'network',
  scope: 'cluster',
  // An external control plane cluster runs no proxies of the mesh.
  appliesTo: dataPlaneSkipReason,
  needs: ['gateways', 'services', 'pods', 'namespaces', 'k8sgateways', 'configmaps'],
  meta: {
    description: 'An Istio Gateway opens 15443 (TLS, AUTO_PASSTHROUGH, hosts *.local) on each east-west gateway',
    details:
      'The east-west gateway Service only forwards bytes; the Envoy behind it listens on 15443 only when a Gateway ' +
      'selects its pods with a server on port 15443, protocol TLS, tls.mode AUTO_PASSTHROUGH and hosts "*.local" ' +
      '(or "*" with a custom cluster domain), as samples/multicluster/expose-services.yaml declares. AUTO_PASSTHROUGH ' +
      'routes on the SNI of the caller\'s own mTLS connection and leaves that connection intact, so the workload at the ' +
      'other end authenticates the caller. ISTIO_MUTUAL (as in the pre-1.8 articles) makes the gateway terminate the ' +
      'caller\'s mTLS with its own identity and look for routes it does not have: cross-network requests fail ' +
      '(istio#31480); SIMPLE terminates it likewise. Hosts limited to some namespaces\' services (*.team-a.svc.cluster.local) ' +
      'leave the other services unreachable from other networks (warning). Two Gateways whose servers claim 15443 for ' +
      'overlapping hosts on the same pod conflict (IST0145); Gateways of disjoint pods (a revision canary) or disjoint ' +
      'hosts do not. Only Gateways that select east-west gateway pods are judged; one on 15443 that selects no pod is ' +
      'reported when it is plainly meant as east-west (AUTO_PASSTHROUGH or ISTIO_MUTUAL, or a selector naming eastwest): ' +
      'it configures nothing. networking.istio.io v1, v1beta1 and v1alpha3 ' +
      'are read alike. In primary-remote the Gateway is config and lives in the primary (the config cluster), which ' +
      'applies it to the remote\'s gateway pods too. A Gateway API east-west gateway with an auto-passthrough listener ' +
      'needs no Istio Gateway.',
    docs: 'https://istio.io/latest/docs/setup/install/multicluster/multi-primary_multi-network/',
    messages: {
      crossNetworkGatewayMissing: {
        template: 'No Gateway opens port {{port}} on the pods of east-west gateway {{name}} ({{selector}}): its Envoy does not accept cross-network traffic',
        severity: 'error',
        hint: `Expose the mesh services through it (in the config cluster {{configCluster}}): ${EXPOSE_SERVICES}`,
      },
      crossNetworkGatewayIstioMutual: {
        template:
          'Gateway {{gateway}} serves port {{port}} with tls.mode ISTIO_MUTUAL: the gateway terminates the callers\' mTLS instead of passing it through, so cross-network requests fail (istio#31480)',
        severity: 'error',
        hint:
          'Set tls.mode AUTO_PASSTHROUGH (the gateway then routes on SNI and the destination workload terminates mTLS): ' +
          'kubectl --context {{configContext}} -n {{namespace}} patch gateways.networking.istio.io {{name}} --type=json ' +
          '-p \'[{"op":"replace","path":"/spec/servers/{{server}}/tls/mode","value":"AUTO_PASSTHROUGH"}]\'',
      },
      crossNetworkGatewaySimple: {
        template: 'Gateway {{gateway}} serves port {{port}} with tls.mode SIMPLE: the gateway terminates TLS with its own certificate, so sidecars\' mTLS to the other network fails',
        severity: 'error',
        hint:
          'Set tls.mode AUTO_PASSTHROUGH and drop credentialName: kubectl --context {{configContext}} -n {{namespace}} edit gateways.networking.istio.io {{name}} ' +
          `(or re-apply: ${EXPOSE_SERVICES})`,
      },
      crossNetworkGatewayWrongServer: {
        template: 'Gateway {{gateway}} serves port {{port}} as protocol {{protocol}} with tls.mode {{mode}}: cross-network traffic needs protocol TLS with tls.mode AUTO_PASSTHROUGH',
        severity: 'error',
        hint: `Make the server {port: {number: {{port}}, name: tls, protocol: TLS}, tls: {mode: AUTO_PASSTHROUGH}, hosts: ["*.local"]}: ${EXPOSE_SERVICES}`,
      },
      crossNetworkGatewayHosts: {
        template: 'Gateway {{gateway}} serves port {{port}} for hosts {{hosts}}, which do not cover mesh services (*.local, or * with a custom cluster domain)',
        severity: 'error',
        hint: 'Set hosts to ["*.local"] (or ["*"] with a custom cluster domain): kubectl --context {{configContext}} -n {{namespace}} edit gateways.networking.istio.io {{name}}',
      },
      crossNetworkGatewayHostsPartial: {
        template:
          'Gateway {{gateway}} serves port {{port}} only for hosts {{hosts}}: other networks reach only those services through it, not the rest of the mesh (*.local)',
        severity: 'warning',
        hint:
          'If every service should be reachable across networks, set hosts to ["*.local"]: kubectl --context {{configContext}} -n {{namespace}} edit gateways.networking.istio.io {{name}}; ' +
          'if the restriction is deliberate, services outside it must not be called from other networks.',
      },
      crossNetworkGatewayDuplicate: {
        template: 'Gateways {{gateways}} all claim port {{port}} on east-west gateway {{workload}} in {{workloadCluster}}: conflicting servers (IST0145)',
        severity: 'error',
        hint: 'Keep one of them (the one from expose-services.yaml): for each other one: kubectl --context {{configContext}} -n <its namespace> delete gateways.networking.istio.io <its name>.',
      },
      crossNetworkGatewayNoPods: {
        template: 'Gateway {{gateway}} opens port {{port}} for selector {{selector}}, which matches no east-west gateway pod in {{clusters}}: it configures nothing',
        severity: 'error',
        hint:
          'Make spec.selector match the gateway pods\' labels (kubectl get pods -n istio-system --show-labels; the sample uses istio: eastwestgateway): ' +
          'kubectl --context {{configContext}} -n {{namespace}} edit gateways.networking.istio.io {{name}}',
      },
    },
  },
  async run(ctx) {
    if (!ctx.mesh.multiNetwork) ctx.skip('single-network mesh: no cross-network traffic');
    const reader = ctx.cluster;
    const info = ctx.clusterInfo;
    // Services meshNetworks names by registryServiceName are east-west gateways too (clusterEastWestGateways).
    const local = await workloadsOf(ctx, reader);
    const configClusters = info.role === 'remote' ? await controllingPrimaries(ctx, reader) : [{ reader, info }];
    const configured = info.role !== 'remote' ? [{ reader, info, workloads: local }, ...(await remotesOf(ctx, info))] : [];
    const ownGateways = info.role !== 'remote' ? (await reader.listOptional('gateways')).filter(isIstioNetworkingObject) : [];

    if (local.length === 0 && ownGateways.length === 0) ctx.skip('no east-west gateway in this cluster');

    // Pod side: each east-west gateway of this cluster needs a Gateway opening its port.
    for (const workload of local) {
      const gateways = (await Promise.all(configClusters.map(async (c) => (await c.reader.listOptional('gateways')).filter(isIstioNetworkingObject)))).flat();
      const claims = claimsOn(workload, gateways);
      if (claims.length > 0) continue;
      // A Gateway on this port that selects nothing is the likelier story: crossNetworkGatewayNoPods tells it.
      const orphan = gateways.some((g) => gatewayServers(g).some((s) => s.port.number === workload.gatewayPort && meantAsEastWest(g, s)) && !targetsAny(g, [workload]));
      if (orphan && configClusters.some((c) => c.info.name === info.name)) continue;
      const config = configClusters[0]?.info ?? info;
      ctx.report({
        messageId: 'crossNetworkGatewayMissing',
        resource: { kind: workload.kind, namespace: workload.namespace, name: workload.name },
        data: {
          name: workload.name,
          port: workload.gatewayPort,
          selector: selectorText(workload.selector),
          configCluster: config.name,
          configContext: config.context ?? config.name,
        },
      });
    }

    // Config side: the Gateways this cluster holds, applied to its own and its remotes' gateway pods.
    const context = info.context ?? info.name;
    const clusterDomain = info.role !== 'remote' ? clusterDomainOf(await reader.listOptional('configmaps'), ctx.options.istioNamespace) : DEFAULT_CLUSTER_DOMAIN;
    const allWorkloads = configured.flatMap((c) => c.workloads.map((w) => ({ workload: w, cluster: c.info.name })));
    const crossNetworkPorts = new Set([15443, ...allWorkloads.map((w) => w.workload.gatewayPort)]);
    for (const gateway of ownGateways) {
      const targeted = allWorkloads.filter((w) => targetsAny(gateway, [w.workload]));
      if (targeted.length > 0) {
        // Only the ports the selected east-west gateways take cross-network traffic on are judged.
        const ports = new Set(targeted.map((w) => w.workload.gatewayPort));
        gatewayServers(gateway).forEach((server, index) => {
          if (ports.has(server.port.number)) checkServer(ctx, gateway, server, index, context, clusterDomain);
        });
        continue;
      }
      // With no east-west gateway at all, the missing gateway is the finding (network/topology), not this leftover.
      const meant = gatewayServers(gateway).find((server) => crossNetworkPorts.has(server.port.number) && meantAsEastWest(gateway, server));
      if (allWorkloads.length > 0 && meant) {
        ctx.report({
          messageId: 'crossNetworkGatewayNoPods',
          resource: gatewayRef(gateway),
          data: {
            ...gatewayData(gateway, context),
            port: meant.port.number,
            selector: selectorText(gatewaySelector(gateway)),
            clusters: configured.map((c) => c.info.name).join(', '),
          },
        });
      }
    }
    for (const { workload, cluster } of allWorkloads) {
      const claimants = conflictingClaimants(workload, ownGateways);
      if (claimants.length < 2) continue;
      ctx.report({
        messageId: 'crossNetworkGatewayDuplicate',
        resource: { kind: workload.kind, namespace: workload.namespace, name: workload.name },
        data: { gateways: claimants.join(', '), port: workload.gatewayPort, workload: `${workload.namespace}/${workload.name}`, workloadCluster: cluster, configContext: context },
      });
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/**
 * A Gateway selecting no east-west pod is worth a finding only when it is plainly meant as the
 * cross-network one: a TLS mode only cross-network servers use, or a selector naming eastwest. A
 * public ingress that happens to listen on 15443 is none of this check's business.
 */
function meantAsEastWest(gateway: KubeObject, server: GatewayServer): boolean {
  const mode = serverTlsMode(server);
  if (mode === 'AUTO_PASSTHROUGH' || mode === 'ISTIO_MUTUAL') return true;
  return Object.entries(gatewaySelector(gateway)).some(([key, value]) => /east-?west/i.test(`${key}=${value}`));
}

/**
 * Gateways that conflict on a workload's gateway port (IST0145): on one pod, servers of two Gateways
 * on that port with overlapping hosts. Gateways of disjoint pods (a revision canary) or with disjoint
 * hosts coexist. Sorted `namespace/name`s.
 */
function conflictingClaimants(workload: EastWestWorkload, gateways: KubeObject[]): string[] {
  const conflicting = new Set<string>();
  for (const labels of candidateLabels(workload)) {
    const pod = { metadata: { name: '', labels } };
    const claims = gateways
      .filter((g) => gatewaySelectsPod(g, pod))
      .flatMap((gateway) => gatewayServers(gateway).filter((s) => s.port.number === workload.gatewayPort).map((server) => ({ key: objectKey(gateway), server })));
    for (const [i, a] of claims.entries()) {
      for (const b of claims.slice(i + 1)) {
        if (a.key === b.key || !serverHostsOverlap(a.server, b.server)) continue;
        conflicting.add(a.key);
        conflicting.add(b.key);
      }
    }
  }
  return [...conflicting].sort();
}

/** East-west gateways that need an Istio Gateway: all but Gateway API ones (their listener is the config). */
async function workloadsOf(ctx: Ctx, reader: ClusterReader): Promise<EastWestWorkload[]> {
  const [gateways, pods] = await Promise.all([clusterEastWestGateways(ctx, reader), reader.list('pods')]);
  return gateways.filter((g) => g.kind === 'Service').map((g) => ({ ...g, pods: gatewayPods(g, pods) }));
}

/** Label sets a Gateway selector is matched against: the pods', or the Service selector when no pod exists. */
function candidateLabels(workload: EastWestWorkload): Record<string, string>[] {
  return workload.pods.length > 0 ? workload.pods.map(labelsOf) : [workload.selector];
}

function targetsAny(gateway: KubeObject, workloads: EastWestWorkload[]): boolean {
  return workloads.some((w) => candidateLabels(w).some((labels) => gatewaySelectsPod(gateway, { metadata: { name: '', labels } })));
}

/** Gateways with a server on the workload's gateway port whose selector matches the workload's pods. */
function claimsOn(workload: EastWestWorkload, gateways: KubeObject[]): { gateway: KubeObject; server: GatewayServer }[] {
  const claims: { gateway: KubeObject; server: GatewayServer }[] = [];
  for (const gateway of gateways) {
    if (!targetsAny(gateway, [workload])) continue;
    for (const server of gatewayServers(gateway)) if (server.port.number === workload.gatewayPort) claims.push({ gateway, server });
  }
  return claims;
}

function gatewayRef(gateway: KubeObject): { kind: string; namespace?: string; name: string } {
  return { kind: 'Gateway', ...(gateway.metadata.namespace ? { namespace: gateway.metadata.namespace } : {}), name: gateway.metadata.name };
}

function gatewayData(gateway: KubeObject, configContext: string) {
  return { gateway: objectKey(gateway), namespace: gateway.metadata.namespace ?? '', name: gateway.metadata.name, configContext };
}

function checkServer(ctx: Ctx, gateway: KubeObject, server: GatewayServer, index: number, configContext: string, clusterDomain: string): void {
  const data = { ...gatewayData(gateway, configContext), port: server.port.number, server: index };
  const mode = serverTlsMode(server);
  const protocol = serverProtocol(server);
  const resource = gatewayRef(gateway);
  if (mode === 'ISTIO_MUTUAL') ctx.report({ messageId: 'crossNetworkGatewayIstioMutual', resource, data });
  else if (mode === 'SIMPLE') ctx.report({ messageId: 'crossNetworkGatewaySimple', resource, data });
  else if (mode !== 'AUTO_PASSTHROUGH' || protocol !== 'TLS') {
    ctx.report({ messageId: 'crossNetworkGatewayWrongServer', resource, data: { ...data, protocol: protocol ?? '<unset>', mode: mode ?? '<unset>' } });
  }
  if (coversMeshServiceHosts(server.hosts, clusterDomain)) return;
  const partial = partialMeshServiceHosts(server.hosts, clusterDomain);
  if (partial.length > 0) ctx.report({ messageId: 'crossNetworkGatewayHostsPartial', resource, data: { ...data, hosts: partial.join(', ') } });
  else ctx.report({ messageId: 'crossNetworkGatewayHosts', resource, data: { ...data, hosts: server.hosts.join(', ') || '<none>' } });
}

/** Namespaces of a cluster, or undefined when forbidden. */
async function istioNamespaceObject(reader: ClusterReader, istioNamespace: string): Promise<KubeObject | undefined> {
  try {
    return (await reader.list('namespaces')).find((n) => n.metadata.name === istioNamespace);
  } catch (err) {
    if (err instanceof AccessError && err.reason === 'forbidden') return undefined;
    throw err;
  }
}

/** Cluster ids of a remote's control plane (its controlPlaneClusters annotation). */
async function controlPlaneIdsOf(reader: ClusterReader, istioNamespace: string): Promise<string[]> {
  const ns = await istioNamespaceObject(reader, istioNamespace);
  const value = ns ? annotationsOf(ns)[CONTROL_PLANE_CLUSTERS_ANNOTATION] : undefined;
  return value ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** The primaries configuring a remote: those its annotation names, else every primary. */
async function controllingPrimaries(ctx: Ctx, remote: ClusterReader): Promise<{ reader: ClusterReader; info: ClusterInfo }[]> {
  // A remote of an external istiod is configured from its config cluster (where the guide applies
  // expose-services.yaml; istio/istio 86c9f01 multicluster.go:163, the config cluster's registry).
  const remoteInfo = ctx.clusterInfos[ctx.clusters.indexOf(remote)];
  if (remoteInfo?.controlPlaneCluster) {
    const i = ctx.clusterInfos.findIndex((c) => c.role === 'config' && c.controlPlaneCluster === remoteInfo.controlPlaneCluster && c.reachable);
    if (i >= 0) return [{ reader: ctx.clusters[i], info: ctx.clusterInfos[i] }];
  }
  const ids = await controlPlaneIdsOf(remote, istioNamespaceOf(remoteInfo, ctx.options.istioNamespace));
  const primaries = ctx.clusters.map((reader, i) => ({ reader, info: ctx.clusterInfos[i] })).filter((c) => c.info.role === 'primary' && c.info.reachable);
  const named = primaries.filter((p) => p.info.clusterId && ids.includes(p.info.clusterId));
  return named.length > 0 ? named : primaries;
}

/** The remotes a primary configures, with their east-west gateways. */
async function remotesOf(ctx: Ctx, primary: ClusterInfo): Promise<{ reader: ClusterReader; info: ClusterInfo; workloads: EastWestWorkload[] }[]> {
  const out: { reader: ClusterReader; info: ClusterInfo; workloads: EastWestWorkload[] }[] = [];
  for (const [i, reader] of ctx.clusters.entries()) {
    const info = ctx.clusterInfos[i];
    if (info.role !== 'remote' || !info.reachable) continue;
    const controllers = await controllingPrimaries(ctx, reader);
    if (!controllers.some((c) => c.info.name === primary.name)) continue;
    out.push({ reader, info, workloads: await workloadsOf(ctx, reader) });
  }
  return out;
}
