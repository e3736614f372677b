// Encodes istiod's namespace controller, which writes istio-ca-root-cert into every namespace (istio/istio pilot/pkg/serviceregistry/kube/controller/namespacecontroller.go), and https://istio.io/latest/docs/setup/install/multicluster/primary-remote_multi-network/.
import { defineCheck } from '../../engine/define-check.ts';
import type { ClusterReader, KubeObject } from '../../cluster/types.ts';
import type { ClusterInfo, ContextOf } from '../../engine/types.ts';
import {
  CACERTS_SECRET,
  ROOT_CERT_CONFIGMAP,
  cacertsRefusedByIstiod,
  caSecretMaterial,
  fingerprintPrefix,
  listInNamespace,
  parsePemCertificates,
  BundleTooLargeError,
  readClusterRoot,
  type ClusterRoot,
} from '../../mesh/certificates.ts';
import { CONTROL_PLANE_CLUSTERS_ANNOTATION, REVISION_LABEL, annotationsOf, labelsOf } from '../../mesh/istio-objects.ts';
import { controlledElsewhere, dataPlaneSkipReason, istioNamespaceOf, runsIstiod } from '../../mesh/roles.ts';
import { BY_EXTERNAL_CONTROL_PLANE } from '../../engine/explanations.ts';

const check = defineCheck({
  id: 'certificates/root-distribution',
  category: 'certificates',
  scope: 'cluster',
  // An external control plane cluster runs no proxies of the mesh.
  appliesTo: dataPlaneSkipReason,
  // secrets?: the cacerts root, when readable, is what the ConfigMaps are compared with.
  needs: ['namespaces', 'configmaps', 'secrets?'],
  // Secrets are read when allowed; without them the distributed root stands in.
  meta: {
    description: 'Every injected namespace holds the istio-ca-root-cert ConfigMap with the cluster\'s current root',
    details:
      'Sidecars verify peers against the root in the istio-ca-root-cert ConfigMap of their namespace, which istiod writes ' +
      'into every namespace it watches and updates when the root changes. A missing ConfigMap keeps new pods from starting ' +
      '(the proxy waits for its root); a stale one (an old root left after a CA change) makes mTLS fail. The current root is ' +
      'the one the cluster\'s CA chains to (cacerts, istio-ca-secret, or, with Secrets forbidden, istio-ca-root-cert in the ' +
      'istio namespace); for a remote cluster it is its control plane\'s root, written by the primary\'s istiod through the ' +
      'remote secret: when it is missing everywhere, the primary does not manage the remote (EXTERNAL_ISTIOD, the ' +
      'topology.istio.io/controlPlaneClusters annotation, the remote secret). Injected namespaces are those labelled ' +
      'istio-injection=enabled or istio.io/rev, plus the istio namespace.',
    docs: 'https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/',
    messages: {
      rootConfigMapMissing: {
        template: 'Injected namespace {{namespace}} has no istio-ca-root-cert ConfigMap: new sidecars cannot get their root',
        severity: 'error',
        hint:
          'istiod recreates it within seconds when it watches the namespace: check discoverySelectors in the mesh config and istiod\'s logs ' +
          '(kubectl logs -n {{istioNamespace}} deploy/istiod | grep -i namespace), then kubectl --context=<{{cluster}} context> rollout restart deployment/istiod -n {{istioNamespace}}.',
      },
      remoteRootConfigMapMissing: {
        template: 'Injected namespace {{namespace}} of remote cluster {{cluster}} has no istio-ca-root-cert ConfigMap: the primary\'s istiod ({{controlPlane}}) does not manage this cluster',
        severity: 'error',
        hint:
          'Let {{controlPlane}} manage the remote: istioctl install --context=<{{controlPlane}} context> --set values.pilot.env.EXTERNAL_ISTIOD=true; ' +
          'istioctl create-remote-secret --context=<{{cluster}} context> --name=<{{cluster}} cluster id> | kubectl apply -f - --context=<{{controlPlane}} context>; ' +
          'kubectl --context=<{{cluster}} context> annotate namespace {{istioNamespace}} topology.istio.io/controlPlaneClusters=<primary cluster id>.',
        // An external istiod without EXTERNAL_ISTIOD leads no remote but its config cluster (istio/istio 86c9f01 multicluster.go:288-296).
        explainedBy: BY_EXTERNAL_CONTROL_PLANE,
      },
      rootConfigMapStale: {
        template: 'istio-ca-root-cert in {{namespace}} holds root {{found}}, not the current root {{expected}} ({{subject}}): sidecars there reject the mesh\'s certificates',
        severity: 'error',
        hint:
          'istiod rewrites it when it sees it differ; a stale copy means istiod does not manage the namespace or was restarted on old CA material. ' +
          'Delete it so istiod recreates it: kubectl --context=<{{cluster}} context> delete configmap istio-ca-root-cert -n {{namespace}}; then restart the namespace\'s workloads.',
      },
    },
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const istioNamespace = ctx.options.istioNamespace;
    const remote = controlledElsewhere(ctx.clusterInfo);
    const controlPlane = remote ? await controlPlaneOf(ctx, reader) : { reader, info: ctx.clusterInfo };
    if (!controlPlane) return ctx.skip('remote cluster whose control plane cluster is unknown or unreachable: its current root cannot be told');
    // The control plane's CA material is in its own Istio namespace (an external istiod's: external-istiod).
    const controlPlaneNamespace = istioNamespaceOf(controlPlane.info, istioNamespace);
    const refused = await refusedCacerts(controlPlane.reader, controlPlane.info, controlPlaneNamespace);
    if (refused) return ctx.skip(refused);
    const current = await readClusterRoot(controlPlane.reader, controlPlane.info, controlPlaneNamespace);
    if ('problem' in current) return ctx.skip(`the current root cannot be read (see certificates/shared-root): ${current.problem.messageId}`);

    const namespaces = await reader.list('namespaces');
    const configMaps = (await reader.list('configmaps')).filter((c) => c.metadata.name === ROOT_CERT_CONFIGMAP);
    for (const namespace of namespaces.filter((ns) => isInjected(ns) || ns.metadata.name === istioNamespace)) {
      const name = namespace.metadata.name;
      const configMap = configMaps.find((c) => c.metadata.namespace === name);
      const data = { cluster: reader.name, namespace: name, istioNamespace, controlPlane: controlPlane.reader.name };
      if (!configMap) {
        ctx.report({ messageId: remote ? 'remoteRootConfigMapMissing' : 'rootConfigMapMissing', resource: { kind: 'Namespace', name }, data });
        continue;
      }
      const found = rootsIn(configMap);
      if (!found.includes(current.root.signing.fingerprint)) reportStale(ctx, configMap, found, current.root, data);
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

function reportStale(ctx: Ctx, configMap: KubeObject, found: string[], current: ClusterRoot, data: { cluster: string; namespace: string; istioNamespace: string; controlPlane: string }): void {
  ctx.report({
    messageId: 'rootConfigMapStale',
    resource: { kind: 'ConfigMap', namespace: configMap.metadata.namespace, name: ROOT_CERT_CONFIGMAP },
    data: {
      ...data,
      found: found.length ? found.map(fingerprintPrefix).join(', ') : 'no parseable certificate',
      expected: fingerprintPrefix(current.signing.fingerprint),
      subject: current.signing.subject,
    },
  });
}

/**
 * Why no root is distributed when the control plane's istiod refuses its cacerts (1.27+ without the
 * CA key: istiod does not start, so comparing ConfigMaps against that root means nothing), else
 * undefined. Unreadable Secrets tell nothing: the check then goes on.
 */
async function refusedCacerts(reader: ClusterReader, info: ClusterInfo | undefined, namespace: string): Promise<string | undefined> {
  const secrets = await listInNamespace(reader, 'secrets', namespace);
  const cacerts = 'objects' in secrets ? secrets.objects.find((s) => s.metadata.name === CACERTS_SECRET) : undefined;
  if (!cacerts) return undefined;
  const material = caSecretMaterial(cacerts);
  if (!cacertsRefusedByIstiod(material, info?.istioVersion)) return undefined;
  return (
    `Secret ${namespace}/${CACERTS_SECRET} of cluster ${reader.name} lacks ${material.keys.caKey}: istiod ${info?.istioVersion} refuses to start, ` +
    'so it distributes no root to compare the ConfigMaps with (see certificates/cacerts)'
  );
}

/** Fingerprints of the roots in a ConfigMap (empty when it holds nothing parseable). */
function rootsIn(configMap: KubeObject): string[] {
  const pem = configMap.data?.['root-cert.pem'];
  if (typeof pem !== 'string') return [];
  try {
    return parsePemCertificates(pem).map((c) => c.fingerprint);
  } catch (err) {
    if (err instanceof BundleTooLargeError) throw new BundleTooLargeError(err.count, `configmap/${configMap.metadata.name} in ${configMap.metadata.namespace}`);
    return [];
  }
}

/** Labelled for injection (istio-injection=enabled, or a revision label not overridden by istio-injection=disabled). */
function isInjected(namespace: KubeObject): boolean {
  const labels = labelsOf(namespace);
  if (labels['istio-injection'] === 'enabled') return true;
  return labels[REVISION_LABEL] !== undefined && labels['istio-injection'] !== 'disabled';
}

/** The primary that manages a remote: named by controlPlaneClusters (cluster ids), else the only primary. */
async function controlPlaneOf(ctx: Ctx, reader: ClusterReader): Promise<{ reader: ClusterReader; info: ClusterInfo } | undefined> {
  const namespaces = await reader.list('namespaces');
  const istioNamespace = namespaces.find((ns) => ns.metadata.name === ctx.options.istioNamespace);
  const named = (annotationsOf(istioNamespace ?? { metadata: { name: '' } })[CONTROL_PLANE_CLUSTERS_ANNOTATION] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const primaries = ctx.clusterInfos.map((info, i) => ({ info, reader: ctx.clusters[i] })).filter((c) => runsIstiod(c.info) && c.info.reachable);
  return primaries.find((p) => p.info.clusterId !== undefined && named.includes(p.info.clusterId)) ?? (primaries.length === 1 ? primaries[0] : undefined);
}
