// Encodes https://istio.io/latest/docs/setup/install/multicluster/primary-remote_multi-network/ (controlPlaneClusters annotation, EXTERNAL_ISTIOD, the remote's istiod Service backed by the primary's east-west gateway, injection path /inject/cluster/<id>/net/<network>).
import type { ClusterReader, KubeObject } from '../../cluster/types.ts';
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import {
  CONTROL_PLANE_CLUSTERS_ANNOTATION,
  ISTIOD_PORTS,
  annotationsOf,
  containerEnv,
  findInjectionWebhooks,
  findIstiodDeployments,
  findRemoteIstiodServices,
  gatewayAddresses,
  istiodContainer,
  labelsOf,
} from '../../mesh/istio-objects.ts';
import { selectorMatches } from '../../mesh/labels.ts';
import { controlledElsewhere, istioNamespaceOf, runsIstiod } from '../../mesh/roles.ts';

const check = defineCheck({
  id: 'control-plane/primary-remote',
  category: 'control-plane',
  scope: 'cluster',
  needs: ['namespaces', 'services', 'endpoints', 'endpointslices', 'mutatingwebhookconfigurations', 'deployments'],
  meta: {
    description: 'A remote cluster points at its primary (controlPlaneClusters, istiod endpoints, injection path) and the primary runs with EXTERNAL_ISTIOD',
    details:
      'In a primary-remote mesh the remote runs no istiod: its istio namespace carries topology.istio.io/controlPlaneClusters ' +
      'naming the primary, its `istiod[-<rev>]` (or `istiod[-<rev>]-remote`, when a local injector istiod runs) Service has no ' +
      'selector and is backed by Endpoints (up to 1.27), ' +
      'an EndpointSlice (1.28+) or is an ExternalName, pointing at the address where the primary exposes istiod (its ' +
      'east-west gateway) on 15012 (xDS, CA) and 15017 (injection webhook), and its injector webhook path is ' +
      '/inject/cluster/<remote id>/net/<remote network>. The primary must run istiod with EXTERNAL_ISTIOD=true so it ' +
      'configures the remote (root cert distribution, webhook patching); this is checked on every primary some remote uses, ' +
      'also in meshes with several primaries.',
    docs: 'https://istio.io/latest/docs/setup/install/multicluster/primary-remote_multi-network/',
    messages: {
      annotationMissing: {
        template: 'Namespace {{namespace}} of remote {{cluster}} lacks annotation topology.istio.io/controlPlaneClusters',
        severity: 'error',
        hint: 'kubectl --context=<{{cluster}} context> annotate namespace {{namespace}} topology.istio.io/controlPlaneClusters=<primary cluster id>',
      },
      annotationUnknownPrimary: {
        template: 'Namespace {{namespace}} of remote {{cluster}} names control plane {{named}}, which is not a primary of the mesh (primaries: {{primaries}})',
        severity: 'error',
        hint: 'kubectl --context=<{{cluster}} context> annotate namespace {{namespace}} --overwrite topology.istio.io/controlPlaneClusters=<primary cluster id>',
      },
      istiodEndpointsMissing: {
        template: 'Service {{namespace}}/{{service}} of remote {{cluster}} has no selector and no Endpoints or EndpointSlice: proxies and the webhook cannot reach istiod',
        severity: 'error',
        hint:
          'Reinstall the remote profile with the primary\'s gateway address: istioctl install --context=<{{cluster}} context> ' +
          '--set profile=remote --set values.global.remotePilotAddress=<primary east-west gateway address>',
      },
      istiodEndpointsWrong: {
        template: 'Service {{namespace}}/{{service}} of remote {{cluster}} points at {{addresses}}, not at where {{primary}} exposes istiod ({{expected}}) on 15012/15017',
        severity: 'error',
        hint:
          'Reinstall the remote with the primary\'s east-west gateway address ({{expected}}; see kubectl --context=<{{primary}} context> -n {{namespace}} ' +
          'get svc istio-eastwestgateway): istioctl install --context=<{{cluster}} context> --set profile=remote ' +
          '--set values.global.remotePilotAddress=<that address>',
      },
      istiodEndpointsPorts: {
        template: 'Service {{namespace}}/{{service}} of remote {{cluster}} lacks port(s) {{missing}} in its endpoints',
        severity: 'error',
        hint: 'Reinstall the remote profile (istioctl --context=<{{cluster}} context> install --set profile=remote ...): its istiod endpoints carry 15012 and 15017.',
      },
      webhookPathWrong: {
        template: 'Injector webhook {{webhook}} of remote {{cluster}} calls {{path}}, expected /inject/cluster/{{clusterId}}/net/{{network}}',
        severity: 'warning',
        hint:
          'Reinstall the remote with values.global.multiCluster.clusterName={{clusterId}} and values.global.network={{network}} ' +
          'so injected proxies carry the right cluster id and network.',
      },
      webhookUrlUnreachable: {
        template: 'Injector webhook {{webhook}} of {{cluster}} calls {{host}}, where external istiod {{controlPlane}} is not exposed ({{expected}}): pods cannot be injected',
        severity: 'error',
        hint:
          'Point the injection URL at the external istiod\'s address: istioctl install --context=<{{cluster}} context> --set profile=remote ' +
          '--set values.istiodRemote.injectionURL=https://<{{expected}}>:15017/inject/cluster/<cluster id>/net/<network> (istio.io: Install Istio with an External Control Plane)',
      },
      externalIstiodOff: {
        template: 'istiod {{name}} of primary {{cluster}} does not run with EXTERNAL_ISTIOD=true, but {{remotes}} use it as control plane',
        severity: 'error',
        hint: 'istioctl install --context=<{{cluster}} context> --set values.pilot.env.EXTERNAL_ISTIOD=true (helm: --set pilot.env.EXTERNAL_ISTIOD=true)',
      },
    },
  },
  appliesTo(info, mesh) {
    if (controlledElsewhere(info) || info.role === 'external-control-plane') return undefined;
    // A mesh of several primaries may have remotes too (it is then called multi-primary): run() tells
    // whether a remote uses this primary.
    if (info.role === 'primary' && mesh.model !== 'single-cluster' && mesh.model !== 'unknown') return undefined;
    return 'not part of a primary-remote mesh';
  },
  async run(ctx) {
    const info = ctx.clusterInfo;
    if (runsIstiod(info)) {
      await checkPrimary(ctx, info);
      return;
    }
    const primary = await controllingPrimary(ctx, info);
    // A cluster whose injector calls a URL no primary of the run serves is run by a true external control plane.
    if (info.role === 'external-controlled' && !primary) ctx.skip('run by a control plane outside the diagnosed clusters (external control plane)');
    await checkRemote(ctx, info, primary);
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

async function checkPrimary(ctx: Ctx, info: ClusterInfo): Promise<void> {
  const namespace = ctx.options.istioNamespace;
  const remotes: ClusterInfo[] = [];
  for (const other of ctx.clusterInfos) {
    if (!controlledElsewhere(other)) continue;
    if (info.role === 'external-control-plane') {
      if (other.controlPlaneCluster === info.name) remotes.push(other);
      continue;
    }
    if ((await controllingPrimary(ctx, other)) === info) remotes.push(other);
  }
  if (remotes.length === 0) ctx.skip('no remote cluster of the run uses this primary as its control plane');
  const istiods = findIstiodDeployments((await ctx.cluster.list('deployments')).filter((d) => d.metadata.namespace === namespace));
  for (const istiod of istiods) {
    if (containerEnv(istiodContainer(istiod), 'EXTERNAL_ISTIOD') === 'true') continue;
    ctx.report({
      messageId: 'externalIstiodOff',
      resource: { kind: 'Deployment', namespace, name: istiod.metadata.name },
      data: { name: istiod.metadata.name, cluster: info.name, remotes: remotes.map((r) => r.name).join(', ') },
    });
  }
}

/**
 * The primary running a cluster's control plane: the one its controlPlaneClusters annotation names;
 * else the one whose exposed istiod address its injector webhook URL calls; else, for a remote, the
 * mesh's only primary.
 */
async function controllingPrimary(ctx: Ctx, info: ClusterInfo): Promise<ClusterInfo | undefined> {
  // A remote of an external control plane among the diagnosed clusters: discovery found which.
  const external = info.controlPlaneCluster ? ctx.clusterInfos.find((c) => c.name === info.controlPlaneCluster && c.role === 'external-control-plane') : undefined;
  if (external) return external;
  const primaries = ctx.clusterInfos.filter((c) => c.role === 'primary');
  const reader = ctx.clusters[ctx.clusterInfos.indexOf(info)];
  const named = await controlPlaneClustersOf(reader, istioNamespaceOf(info, ctx.options.istioNamespace));
  const byAnnotation = primaries.find((p) => p.clusterId !== undefined && named.includes(p.clusterId));
  if (byAnnotation) return byAnnotation;
  const webhooks = findInjectionWebhooks((await listIfReadable(reader, 'mutatingwebhookconfigurations')) ?? []);
  const hosts = webhooks.map((w) => (w.url ? safeUrl(w.url)?.hostname : undefined)).filter((h): h is string => h !== undefined);
  for (const primary of primaries) {
    const exposed = await exposedAddresses(ctx, primary);
    if (hosts.some((h) => exposed.includes(h))) return primary;
  }
  return info.role === 'remote' && primaries.length === 1 ? primaries[0] : undefined;
}

async function controlPlaneClustersOf(reader: ClusterReader, namespace: string): Promise<string[]> {
  const istioNs = ((await listIfReadable(reader, 'namespaces')) ?? []).find((n) => n.metadata.name === namespace);
  const named = istioNs && (annotationsOf(istioNs)[CONTROL_PLANE_CLUSTERS_ANNOTATION] ?? labelsOf(istioNs)[CONTROL_PLANE_CLUSTERS_ANNOTATION]);
  return named ? named.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

async function checkRemote(ctx: Ctx, info: ClusterInfo, primary: ClusterInfo | undefined): Promise<void> {
  const namespace = ctx.options.istioNamespace;
  const reader = ctx.cluster;
  const primaries = ctx.clusterInfos.filter((c) => runsIstiod(c));
  const base = { cluster: info.name, namespace };

  // 1. The annotation naming the primary. An external istiod always leads its config cluster, which
  // needs none (istio/istio 86c9f01 multicluster.go:288); other remotes name its CLUSTER_ID, the
  // config cluster's id (checkShouldLead, multicluster.go:385-413). istiod reads it from the
  // namespace named like its own (its SystemNamespace): an external istiod in external-istiod reads
  // the remote's external-istiod namespace, whatever namespace the remote's Istio objects live in.
  const leadNamespace = primary?.role === 'external-control-plane' ? istioNamespaceOf(primary, namespace) : namespace;
  const named = await controlPlaneClustersOf(reader, leadNamespace);
  const nsResource = { kind: 'Namespace', name: leadNamespace };
  const leadBase = { ...base, namespace: leadNamespace };
  if (info.role === 'config') {
    // nothing to name
  } else if (named.length === 0) ctx.report({ messageId: 'annotationMissing', resource: nsResource, data: leadBase });
  else if (!primaries.some((p) => p.clusterId !== undefined && named.includes(p.clusterId)) && primaries.length > 0) {
    ctx.report({ messageId: 'annotationUnknownPrimary', resource: nsResource, data: { ...leadBase, named: named.join(','), primaries: primaries.map((p) => p.clusterId ?? p.name).join(', ') } });
  }

  // 2. The selectorless istiod Service and what backs it.
  // istiod[-<rev>] or istiod[-<rev>]-remote (chart remote-istiod-service.yaml), one per revision.
  for (const service of findRemoteIstiodServices(await reader.list('services'), namespace)) await checkIstiodService(ctx, info, service, primary);

  // 3. The injection path, and for an external istiod, the address it is called at.
  const webhooks = findInjectionWebhooks(await reader.list('mutatingwebhookconfigurations'));
  if (primary?.role === 'external-control-plane') await checkWebhookHosts(ctx, info, primary, webhooks);
  for (const webhook of webhooks) {
    const path = webhook.url ? safeUrl(webhook.url)?.pathname : webhook.service?.path;
    if (path === undefined || !info.clusterId || !info.network) continue;
    const expected = `/inject/cluster/${info.clusterId}/net/${info.network}`;
    if (path.replace(/\/+$/, '') !== expected) {
      ctx.report({
        messageId: 'webhookPathWrong',
        resource: { kind: 'MutatingWebhookConfiguration', name: webhook.configuration },
        data: { ...base, webhook: webhook.configuration, path, clusterId: info.clusterId, network: info.network },
      });
    }
  }
}

/**
 * Remotes of an external istiod call its injector at clientConfig.url (istio.io external-controlplane
 * snips.sh at 005b9da: injectionURL https://${EXTERNAL_ISTIOD_ADDR}:15017/inject/...): a host where the
 * external istiod is not exposed leaves pods uninjected (failurePolicy Fail: not created at all).
 * From where meshdoctor runs the address may not be dialable, so this compares addresses.
 */
async function checkWebhookHosts(ctx: Ctx, info: ClusterInfo, primary: ClusterInfo, webhooks: ReturnType<typeof findInjectionWebhooks>): Promise<void> {
  const expected = await exposedAddresses(ctx, primary);
  if (expected.length === 0) return;
  const seen = new Set<string>();
  for (const webhook of webhooks) {
    const host = webhook.url ? safeUrl(webhook.url)?.hostname.replace(/^\[|\]$/g, '') : undefined;
    if (!host || expected.includes(host) || seen.has(`${webhook.configuration}|${host}`)) continue;
    seen.add(`${webhook.configuration}|${host}`);
    ctx.report({
      messageId: 'webhookUrlUnreachable',
      resource: { kind: 'MutatingWebhookConfiguration', name: webhook.configuration },
      data: { cluster: info.name, webhook: webhook.configuration, host, controlPlane: primary.name, expected: expected.join(', ') },
    });
  }
}

async function checkIstiodService(ctx: Ctx, info: ClusterInfo, service: KubeObject, primary: ClusterInfo | undefined): Promise<void> {
  const namespace = ctx.options.istioNamespace;
  const name = service.metadata.name;
  const data = { cluster: info.name, namespace, service: name };
  const resource = { kind: 'Service', namespace, name };
  const backing = service.spec?.type === 'ExternalName' ? { addresses: [String(service.spec.externalName ?? '')], ports: ISTIOD_PORTS } : await backingOf(ctx, name);
  if (backing.addresses.length === 0) {
    ctx.report({ messageId: 'istiodEndpointsMissing', resource, data });
    return;
  }
  const missing = ISTIOD_PORTS.filter((p) => !backing.ports.includes(p));
  if (missing.length) ctx.report({ messageId: 'istiodEndpointsPorts', resource, data: { ...data, missing: missing.join(', ') } });
  if (!primary) return;
  const expected = await exposedAddresses(ctx, primary);
  // Where the primary exposes istiod cannot be told (gateway without an address): other checks say why.
  if (expected.length === 0) return;
  if (!backing.addresses.some((a) => expected.includes(a))) {
    ctx.report({ messageId: 'istiodEndpointsWrong', resource, data: { ...data, addresses: backing.addresses.join(', '), primary: primary.name, expected: expected.join(', ') } });
  }
}

/** Addresses and ports of the Endpoints and EndpointSlices backing a Service of the istio namespace. */
async function backingOf(ctx: Ctx, service: string): Promise<{ addresses: string[]; ports: number[] }> {
  const namespace = ctx.options.istioNamespace;
  const addresses = new Set<string>();
  const ports = new Set<number>();
  const endpoints = (await ctx.cluster.listOptional('endpoints')).filter((e) => e.metadata.namespace === namespace && e.metadata.name === service);
  for (const ep of endpoints) {
    for (const subset of (ep.subsets ?? []) as { addresses?: { ip?: string; hostname?: string }[]; ports?: { port?: number }[] }[]) {
      for (const a of subset.addresses ?? []) if (a.ip || a.hostname) addresses.add((a.ip ?? a.hostname)!);
      for (const p of subset.ports ?? []) if (typeof p.port === 'number') ports.add(p.port);
    }
  }
  const slices = (await ctx.cluster.listOptional('endpointslices')).filter(
    (s) => s.metadata.namespace === namespace && s.metadata.labels?.['kubernetes.io/service-name'] === service,
  );
  for (const slice of slices) {
    for (const ep of (slice.endpoints ?? []) as { addresses?: string[] }[]) for (const a of ep.addresses ?? []) addresses.add(a);
    for (const p of (slice.ports ?? []) as { port?: number }[]) if (typeof p.port === 'number') ports.add(p.port);
  }
  return { addresses: [...addresses].sort(), ports: [...ports] };
}

/**
 * Where a primary exposes istiod: its east-west gateways' addresses (Istio's install), plus the
 * external addresses of any Service selecting its istiod pods (a hand-made istiod LoadBalancer).
 */
async function exposedAddresses(ctx: Ctx, primary: ClusterInfo): Promise<string[]> {
  const addresses = new Set((primary.eastWestGateways ?? []).flatMap((g) => g.addresses));
  const reader = ctx.clusters[ctx.clusterInfos.indexOf(primary)];
  // An external istiod and the Services exposing it live in its own namespace (`external-istiod`).
  const namespace = istioNamespaceOf(primary, ctx.options.istioNamespace);
  // An unreachable primary shows only what discovery found; its own checks say it could not be read.
  const services = (primary.reachable ? await listIfReadable(reader, 'services') : undefined) ?? [];
  for (const svc of services) {
    if (svc.metadata.namespace !== namespace) continue;
    if (!selectorMatches(svc.spec?.selector, { app: 'istiod', istio: 'pilot' }) && !/^istiod/.test(svc.metadata.name)) continue;
    for (const address of gatewayAddresses(svc)) addresses.add(address);
  }
  return [...addresses].sort();
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
