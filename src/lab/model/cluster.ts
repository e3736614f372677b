// All objects of one simulated cluster: Kubernetes basics, Istio (primary or remote profile),
// CA material, the sample apps of Istio's multicluster verification, and the scale knobs' load.
import type { ClusterBuilder } from './builder.ts';
import type { ClusterCaMaterial } from './ca.ts';
import {
  addBlockingNetworkPolicy,
  addCrossNetworkGateway,
  addEastWestGateway,
  addExternalIstiodLoadBalancer,
  addInjectorWebhook,
  addIstioConfigMaps,
  addIstioCrds,
  addIstiod,
  addIstiodExposure,
  addFailoverWithoutOutlierDetection,
  addLegacyGlobalConfig,
  addRemoteIstiodService,
  sidecarInjection,
} from './istio.ts';
import { KUBERNETES_VERSION, visibleNetwork, type ClusterPlan } from './plan.ts';
import { addAmbientEastWestGateway, addGatewayApi, addIstioCni, addWaypoint, addZtunnel } from './ambient.ts';
import { addConfigMap, addEndpointObjects, addNamespace, addNodeObjects, addSecret, addService, addServiceAccount, addWorkload, addEndpointsForServices } from './workloads.ts';

/** Extra load: namespaces `scale-<n>` with Services `svc-<m>`, each backed by pods. */
export interface ScaleOptions {
  namespaces?: number;
  servicesPerNamespace?: number;
  podsPerService?: number;
}

/** Namespace of the sample apps. */
export const SAMPLE_NAMESPACE = 'sample';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Container = Record<string, any>;

/** Everything cluster-building needs to know about the rest of the mesh. */
export interface MeshContext {
  plans: ClusterPlan[];
  ca: Map<string, ClusterCaMaterial>;
  scale?: ScaleOptions;
}

/** Build every object of one cluster (Endpoints and EndpointSlices included). */
export function buildClusterObjects(b: ClusterBuilder, plan: ClusterPlan, mesh: MeshContext): void {
  if (plan.role === 'external') {
    buildExternalControlPlaneObjects(b, plan, mesh);
    return;
  }
  const controlPlane = mesh.plans.find((p) => p.name === plan.controlPlane)!;
  // A remote reaches istiod, and the injector, through the primary's east-west gateway.
  const controlPlaneGatewayIP = plan.role === 'remote' ? controlPlane.eastWestIP : undefined;
  const ca = mesh.ca.get(plan.name)!;
  // istiod writes istio-ca-root-cert; on a remote that is the primary's istiod.
  const distributedRoot = mesh.ca.get(controlPlane.name)!.root.certPem;
  const scaleNamespaces = scaleNamespaceNames(mesh.scale);

  b.addNodes(2);
  addNodeObjects(b, KUBERNETES_VERSION);

  // Namespaces.
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) addNamespace(b, name);
  const istioSystemLabels: Record<string, string> = {};
  if (plan.networkKnown) istioSystemLabels['topology.istio.io/network'] = plan.network;
  if (plan.faults.has('discovery-selectors-exclude')) istioSystemLabels['istio-discovery'] = 'enabled';
  // A remote of primary-remote names its control plane's CLUSTER_ID on istio-system.
  // An external istiod reads a remote's network label and controlPlaneClusters annotation from the
  // namespace named like its own (its SystemNamespace, external-istiod): istio/istio 86c9f01
  // pilot/pkg/serviceregistry/kube/controller/controller.go:266-275 (system namespace handler),
  // network.go:103 networkFromSystemNamespace, multicluster.go:385-413 checkShouldLead. The guide
  // installs every remote in that namespace (istio.io external-controlplane snips.sh at 005b9da,
  // snip_set_up_the_remote_config_cluster_3, snip_register_the_new_cluster_3), so it is the remote's
  // Istio namespace and there is no istio-system. The config cluster needs no annotation (istiod
  // always leads it: multicluster.go:291-296); other remotes name the external istiod's CLUSTER_ID,
  // the config cluster's id.
  const externalControlPlane = controlPlane.role === 'external';
  const istioNamespace = plan.istiodNamespace;
  const leads = plan.role === 'remote' && !plan.faults.has('remote-annotation-missing') && !(externalControlPlane && plan.configCluster);
  const istioSystemAnnotations: Record<string, string> = leads ? { 'topology.istio.io/controlPlaneClusters': controlPlane.istioClusterId } : {};
  addNamespace(b, istioNamespace, istioSystemLabels, istioSystemAnnotations);
  const sampleInjected = !plan.faults.has('namespace-not-injected') && !plan.ambient;
  // Ambient: `kubectl label namespace sample istio.io/dataplane-mode=ambient` instead of injection.
  addNamespace(b, SAMPLE_NAMESPACE, plan.ambient ? { 'istio.io/dataplane-mode': 'ambient' } : sampleInjected ? { 'istio-injection': 'enabled' } : {});
  for (const ns of scaleNamespaces) addNamespace(b, ns, { 'istio-injection': 'enabled' });

  // Root CA ConfigMaps: the API server's CA everywhere; Istio's root where istiod publishes it.
  const allNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease', istioNamespace, SAMPLE_NAMESPACE, ...scaleNamespaces];
  for (const ns of allNamespaces) addConfigMap(b, ns, 'kube-root-ca.crt', { 'ca.crt': plan.endpoint.caPem });
  // An external istiod writes istio-ca-root-cert into its config cluster, and into another remote only
  // when it leads it: EXTERNAL_ISTIOD=true and the annotation naming its CLUSTER_ID (multicluster.go:288-296,
  // checkShouldLead :385-413); without the flag it leads none.
  const publishesRoot = !externalControlPlane || plan.configCluster || !controlPlane.faults.has('external-istiod-flag-missing');
  // Every namespace but kube-public, kube-node-lease and local-path-storage: istiod's namespace
  // controller ignores inject.IgnoredNamespaces less kube-system (pilot/pkg/serviceregistry/kube/
  // controller/namespacecontroller.go:85, istio.io/istio eed52ebb66ad), as the real istiod of realstack/ does.
  const rootNamespaces = ['default', 'kube-system', istioNamespace, SAMPLE_NAMESPACE, ...scaleNamespaces];
  for (const ns of publishesRoot ? rootNamespaces : []) {
    const root = ns === SAMPLE_NAMESPACE && ca.staleRootPem ? ca.staleRootPem : distributedRoot;
    addConfigMap(b, ns, 'istio-ca-root-cert', { 'root-cert.pem': root }, { 'istio.io/config': 'true' });
  }
  for (const ns of allNamespaces) addServiceAccount(b, ns, 'default');

  addKubernetesBasics(b);

  // Istio.
  if (ca.cacerts) addSecret(b, istioNamespace, 'cacerts', ca.cacerts);
  if (ca.selfSignedSecret) addSecret(b, istioNamespace, 'istio-ca-secret', ca.selfSignedSecret, { type: 'istio.io/ca-root' });
  addIstioCrds(b, plan.istioVersion);
  addIstioConfigMaps(b, plan, controlPlaneGatewayIP);
  // `external-webhook-unreachable`: the injection URL names an address where no istiod listens.
  const webhookHost = plan.faults.has('external-webhook-unreachable') ? `198.51.100.${10 + plan.index}` : controlPlaneGatewayIP;
  addInjectorWebhook(b, plan, mesh.ca.get(controlPlane.name)!.root.certPem, webhookHost);
  if (plan.role === 'primary') addIstiod(b, plan);
  else addRemoteIstiodService(b, plan, controlPlane.eastWestIP);
  if (plan.hasEastWestGateway) addEastWestGateway(b, plan);
  // The cross-network Gateway is config: in primary-remote it lives on the primary only.
  // With an external control plane the config cluster holds it (the guide applies expose-services.yaml there).
  if ((plan.role === 'primary' || plan.configCluster) && plan.topology !== 'multi-primary-single-network' && !plan.ambient) addCrossNetworkGateway(b, plan);
  if (plan.ambient) {
    addGatewayApi(b, plan);
    addIstioCni(b, plan);
    addZtunnel(b, plan);
    if (plan.hasAmbientEastWestGateway) addAmbientEastWestGateway(b, plan);
    addWaypoint(b, plan, SAMPLE_NAMESPACE);
  }
  if (plan.role === 'primary' && plan.topology === 'primary-remote') addIstiodExposure(b, plan);
  if (plan.faults.has('networkpolicy-blocks-gateway')) addBlockingNetworkPolicy(b);

  addSampleApps(b, plan, mesh.plans, sampleInjected);
  addScaleLoad(b, plan, mesh.scale);
  addEndpointsForServices(b);
}

/**
 * The external control plane cluster (istio.io "Install Istio with an External Control Plane",
 * istio/istio.io content/en/docs/setup/install/external-controlplane/snips.sh at 005b9da): istiod in
 * `external-istiod` with its own mesh config and injector ConfigMaps, the CA (cacerts), the
 * LoadBalancer remotes reach it through, Secret istio-kubeconfig for the config cluster and remote
 * secrets for the other remotes (model/remote-access.ts). No proxies, no sample apps, no
 * istio-ca-root-cert: istiod writes those into the clusters it configures.
 */
function buildExternalControlPlaneObjects(b: ClusterBuilder, plan: ClusterPlan, mesh: MeshContext): void {
  const ca = mesh.ca.get(plan.name)!;
  b.addNodes(2);
  addNodeObjects(b, KUBERNETES_VERSION);
  const namespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
  for (const name of namespaces) addNamespace(b, name);
  addNamespace(b, plan.istiodNamespace);
  for (const ns of [...namespaces, plan.istiodNamespace]) {
    addConfigMap(b, ns, 'kube-root-ca.crt', { 'ca.crt': plan.endpoint.caPem });
    addServiceAccount(b, ns, 'default');
  }
  addKubernetesBasics(b);
  if (ca.cacerts) addSecret(b, plan.istiodNamespace, 'cacerts', ca.cacerts);
  if (ca.selfSignedSecret) addSecret(b, plan.istiodNamespace, 'istio-ca-secret', ca.selfSignedSecret, { type: 'istio.io/ca-root' });
  addIstioConfigMaps(b, plan, undefined);
  addIstiod(b, plan);
  addExternalIstiodLoadBalancer(b, plan);
  addEndpointsForServices(b);
}

/** kube-dns/CoreDNS and the `kubernetes` Service. */
function addKubernetesBasics(b: ClusterBuilder): void {
  const kubernetes = addService(b, {
    namespace: 'default',
    name: 'kubernetes',
    labels: { component: 'apiserver', provider: 'kubernetes' },
    ports: [{ name: 'https', port: 443, targetPort: 6443 }],
    clusterIP: b.serviceIP(1),
  });
  addEndpointObjects(b, kubernetes, [{ ip: b.nodes[0].internalIP, ready: true }], [{ name: 'https', port: 6443, protocol: 'TCP' }]);

  addServiceAccount(b, 'kube-system', 'coredns');
  addWorkload(b, {
    namespace: 'kube-system',
    name: 'coredns',
    deploymentLabels: { 'k8s-app': 'kube-dns' },
    podLabels: { 'k8s-app': 'kube-dns' },
    replicas: 2,
    serviceAccount: 'coredns',
    controlPlane: true,
    age: 2,
    containers: [
      {
        name: 'coredns',
        image: 'registry.k8s.io/coredns/coredns:v1.11.3',
        args: ['-conf', '/etc/coredns/Corefile'],
        ports: [
          { containerPort: 53, name: 'dns', protocol: 'UDP' },
          { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
          { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
        ],
        readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' }, periodSeconds: 10 },
        resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
      },
    ],
  });
  addService(b, {
    namespace: 'kube-system',
    name: 'kube-dns',
    labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
    annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    selector: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53 },
      { name: 'metrics', port: 9153 },
    ],
    clusterIP: b.serviceIP(10),
  });
}

/** A Deployment of the mesh: injected unless told otherwise. */
function addMeshWorkload(
  b: ClusterBuilder,
  plan: ClusterPlan,
  opts: { namespace: string; name: string; app: string; version: string; replicas: number; serviceAccount: string; containers: Container[]; volumes?: Container[]; injected: boolean; optOut?: boolean },
): void {
  const baseLabels = { app: opts.app, version: opts.version };
  const injection = opts.injected ? sidecarInjection(plan, { workload: opts.name, namespace: opts.namespace, app: opts.app, version: opts.version, appContainers: opts.containers }) : undefined;
  addWorkload(b, {
    namespace: opts.namespace,
    name: opts.name,
    deploymentLabels: baseLabels,
    podLabels: { ...baseLabels, ...(injection?.labels ?? {}) },
    selectorLabels: baseLabels,
    podAnnotations: injection
      ? injection.annotations
      : opts.optOut
        ? { 'sidecar.istio.io/inject': 'false' }
        : // istio-cni marks the pods it captured for ztunnel (pkg/config/constants/constants.go:201-208).
          plan.ambient && opts.namespace === SAMPLE_NAMESPACE
          ? { 'ambient.istio.io/redirection': 'enabled' }
          : undefined,
    replicas: opts.replicas,
    serviceAccount: opts.serviceAccount,
    containers: opts.containers,
    initContainers: injection?.initContainers,
    volumes: [...(opts.volumes ?? []), ...(injection?.volumes ?? [])],
    age: 300,
  });
}

/**
 * Istio's multicluster verification apps in `sample`: helloworld (v1 in odd clusters, v2 in even)
 * and curl everywhere; plus the sample-level faults.
 */
function addSampleApps(b: ClusterBuilder, plan: ClusterPlan, plans: ClusterPlan[], sampleInjected: boolean): void {
  const version = plan.index % 2 === 1 ? 'v1' : 'v2';
  const headless = plan.faults.has('service-headless-mixed');
  const portMismatch = plan.faults.has('service-port-mismatch');
  // Ambient: the guide labels helloworld istio.io/global=true in every cluster (not here with
  // `ambient-global-label-asymmetric`) and the failover guide puts it behind the waypoint.
  const ambientLabels: Record<string, string> = plan.ambient
    ? { ...(plan.faults.has('ambient-global-label-asymmetric') ? {} : { 'istio.io/global': 'true' }), 'istio.io/use-waypoint': 'waypoint' }
    : {};
  addService(b, {
    namespace: SAMPLE_NAMESPACE,
    name: 'helloworld',
    labels: { app: 'helloworld', service: 'helloworld', ...ambientLabels },
    selector: { app: 'helloworld' },
    ports: [portMismatch ? { name: 'tcp', port: 5001, targetPort: 5000 } : { name: 'http', port: 5000 }],
    headless,
  });
  const helloworldUninjected = plan.faults.has('uninjected-remote-endpoint');
  addMeshWorkload(b, plan, {
    namespace: SAMPLE_NAMESPACE,
    name: `helloworld-${version}`,
    app: 'helloworld',
    version,
    replicas: 1,
    serviceAccount: 'default',
    injected: sampleInjected && !helloworldUninjected,
    optOut: helloworldUninjected,
    containers: [
      {
        name: 'helloworld',
        image: `docker.io/istio/examples-helloworld-${version}:1.0`,
        imagePullPolicy: 'IfNotPresent',
        ports: [{ containerPort: 5000, protocol: 'TCP' }],
        resources: { requests: { cpu: '100m' } },
      },
    ],
  });

  addServiceAccount(b, SAMPLE_NAMESPACE, 'curl');
  addService(b, { namespace: SAMPLE_NAMESPACE, name: 'curl', labels: { app: 'curl', service: 'curl' }, selector: { app: 'curl' }, ports: [{ name: 'http', port: 80 }] });
  addMeshWorkload(b, plan, {
    namespace: SAMPLE_NAMESPACE,
    name: 'curl',
    app: 'curl',
    version: 'v1',
    replicas: 1,
    serviceAccount: 'curl',
    injected: sampleInjected,
    containers: [
      {
        name: 'curl',
        image: 'curlimages/curl',
        imagePullPolicy: 'IfNotPresent',
        command: ['/bin/sleep', 'infinity'],
        volumeMounts: [{ mountPath: '/etc/curl/tls', name: 'secret-volume' }],
      },
    ],
    volumes: [{ name: 'secret-volume', secret: { defaultMode: 420, optional: true, secretName: 'curl-secret' } }],
  });

  // `remote-only-service-no-dns-capture` on the previous cluster: a Service only this cluster has.
  const previous = plans[(plan.index - 2 + plans.length) % plans.length];
  if (previous !== plan && previous.faults.has('remote-only-service-no-dns-capture')) {
    addService(b, { namespace: SAMPLE_NAMESPACE, name: 'hello-remote', labels: { app: 'hello-remote', service: 'hello-remote' }, selector: { app: 'hello-remote' }, ports: [{ name: 'http', port: 5000 }] });
    addMeshWorkload(b, plan, {
      namespace: SAMPLE_NAMESPACE,
      name: 'hello-remote-v1',
      app: 'hello-remote',
      version: 'v1',
      replicas: 1,
      serviceAccount: 'default',
      injected: sampleInjected,
      containers: [{ name: 'hello-remote', image: 'docker.io/istio/examples-helloworld-v1:1.0', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 5000, protocol: 'TCP' }] }],
    });
  }

  if (plan.faults.has('legacy-global-config')) {
    const peer = plans[plan.index % plans.length];
    addLegacyGlobalConfig(b, visibleNetwork(peer) || peer.network);
  }
  if (plan.faults.has('failover-no-outlier-detection')) addFailoverWithoutOutlierDetection(b);
}

function scaleNamespaceNames(scale: ScaleOptions | undefined): string[] {
  if (!scale) return [];
  return Array.from({ length: scale.namespaces ?? 1 }, (_, i) => `scale-${i + 1}`);
}

/** The scale knobs' load: per namespace, `servicesPerNamespace` Services each backed by `podsPerService` injected pods. */
function addScaleLoad(b: ClusterBuilder, plan: ClusterPlan, scale: ScaleOptions | undefined): void {
  if (!scale) return;
  const services = scale.servicesPerNamespace ?? 1;
  const pods = scale.podsPerService ?? 1;
  for (const namespace of scaleNamespaceNames(scale)) {
    for (let s = 1; s <= services; s++) {
      const app = `svc-${s}`;
      addService(b, { namespace, name: app, labels: { app, service: app }, selector: { app }, ports: [{ name: 'http', port: 8080 }] });
      addMeshWorkload(b, plan, {
        namespace,
        name: `${app}-v1`,
        app,
        version: 'v1',
        replicas: pods,
        serviceAccount: 'default',
        injected: true,
        containers: [{ name: 'app', image: 'registry.k8s.io/e2e-test-images/agnhost:2.52', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080, protocol: 'TCP' }] }],
      });
    }
  }
}
