// Istio's objects in a simulated cluster, as `istioctl install` (default or remote profile),
// gen-eastwest-gateway.sh, expose-services.yaml / expose-istiod.yaml and sidecar injection make them.
import YAML from 'yaml';
import type { KubeObject } from '../../cluster/types.ts';
import type { ClusterBuilder } from './builder.ts';
import { addCrd } from './crds.ts';
import { visibleNetwork, type ClusterPlan } from './plan.ts';
import { addConfigMap, addService, addServiceAccount, addWorkload, addEndpointObjects, type PodHealth } from './workloads.ts';
import { ambientIstiodEnv, ambientMeshConfig } from './ambient.ts';

/** Istio's system namespace. */
export const ISTIO_NAMESPACE = 'istio-system';
const HUB = 'docker.io/istio';

type Labels = Record<string, string>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Container = Record<string, any>;

const fieldRef = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

/** Proxy metadata from the mesh config, which injection copies into every proxy's env. */
function proxyMetadata(plan: ClusterPlan): Record<string, string> {
  return {
    ...(plan.dnsCapture ? { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } : {}),
    // The ambient profile (manifests/helm-profiles/ambient.yaml:2-5 at istio/istio eed52ebb).
    ...(plan.ambient ? { ISTIO_META_ENABLE_HBONE: 'true' } : {}),
  };
}

/** The env of an istio-proxy container (sidecar or gateway). */
function proxyEnv(plan: ClusterPlan, workload: string, namespace: string, extra: Container[] = []): Container[] {
  const network = visibleNetwork(plan);
  return [
    { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
    { name: 'CA_ADDR', value: `istiod.${plan.istiodNamespace}.svc:15012` },
    fieldRef('POD_NAME', 'metadata.name'),
    fieldRef('POD_NAMESPACE', 'metadata.namespace'),
    fieldRef('INSTANCE_IP', 'status.podIP'),
    fieldRef('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    fieldRef('HOST_IP', 'status.hostIP'),
    { name: 'ISTIO_CPU_LIMIT', valueFrom: { resourceFieldRef: { divisor: '0', resource: 'limits.cpu' } } },
    { name: 'PROXY_CONFIG', value: '{}\n' },
    { name: 'ISTIO_META_CLUSTER_ID', value: plan.istioClusterId },
    fieldRef('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
    { name: 'ISTIO_META_WORKLOAD_NAME', value: workload },
    { name: 'ISTIO_META_OWNER', value: `kubernetes://apis/apps/v1/namespaces/${namespace}/deployments/${workload}` },
    { name: 'ISTIO_META_MESH_ID', value: plan.meshId },
    { name: 'TRUST_DOMAIN', value: plan.trustDomain },
    ...(network ? [{ name: 'ISTIO_META_NETWORK', value: network }] : []),
    ...Object.entries(proxyMetadata(plan)).map(([name, value]) => ({ name, value })),
    ...extra,
  ];
}

const PROXY_VOLUME_MOUNTS = [
  { mountPath: '/var/run/secrets/workload-spiffe-uds', name: 'workload-socket' },
  { mountPath: '/var/run/secrets/credential-uds', name: 'credential-socket' },
  { mountPath: '/var/run/secrets/workload-spiffe-credentials', name: 'workload-certs' },
  { mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' },
  { mountPath: '/var/lib/istio/data', name: 'istio-data' },
  { mountPath: '/etc/istio/proxy', name: 'istio-envoy' },
  { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
  { mountPath: '/etc/istio/pod', name: 'istio-podinfo' },
];

const PROXY_VOLUMES = [
  { name: 'workload-socket', emptyDir: {} },
  { name: 'credential-socket', emptyDir: {} },
  { name: 'workload-certs', emptyDir: {} },
  { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
  { name: 'istio-data', emptyDir: {} },
  {
    name: 'istio-podinfo',
    downwardAPI: {
      defaultMode: 420,
      items: [
        { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' }, path: 'labels' },
        { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.annotations' }, path: 'annotations' },
      ],
    },
  },
  { name: 'istio-token', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
  { name: 'istiod-ca-cert', configMap: { defaultMode: 420, name: 'istio-ca-root-cert' } },
];

const SIDECAR_STATUS = JSON.stringify({
  initContainers: ['istio-init', 'istio-proxy'],
  containers: null,
  volumes: ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert'],
  imagePullSecrets: null,
  revision: 'default',
});

/** What injection adds to a pod: init containers (istio-init, istio-proxy as a native sidecar), labels, annotations, volumes. */
export interface Injection {
  initContainers: Container[];
  labels: Labels;
  annotations: Labels;
  volumes: Container[];
}

/** The sidecar injection of a workload, as the cluster's injector (its plan) makes it. */
export function sidecarInjection(plan: ClusterPlan, opts: { workload: string; namespace: string; app: string; version: string; appContainers: Container[] }): Injection {
  const image = `${HUB}/proxyv2:${plan.istioVersion}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const podPorts = opts.appContainers.flatMap((c) => (c.ports ?? []).map((p: any) => ({ containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' })));
  const network = visibleNetwork(plan);
  return {
    initContainers: [
      {
        name: 'istio-init',
        image,
        args: ['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*', '-d', '15090,15021,15020', '--log_output_level=default:info'],
        resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '10m', memory: '40Mi' } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: false, runAsGroup: 0, runAsNonRoot: false, runAsUser: 0 },
      },
      {
        name: 'istio-proxy',
        image,
        // Native sidecar: an init container that keeps running (Istio's default on Kubernetes >= 1.29).
        restartPolicy: 'Always',
        args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
        env: proxyEnv(plan, opts.workload, opts.namespace, [
          { name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(podPorts) },
          { name: 'ISTIO_META_APP_CONTAINERS', value: opts.appContainers.map((c) => c.name).join(',') },
        ]),
        ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
        readinessProbe: { failureThreshold: 4, httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' }, periodSeconds: 15, successThreshold: 1, timeoutSeconds: 3 },
        startupProbe: { failureThreshold: 600, httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' }, periodSeconds: 1, successThreshold: 1, timeoutSeconds: 3 },
        resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: 1337, runAsNonRoot: true, runAsUser: 1337 },
        volumeMounts: PROXY_VOLUME_MOUNTS,
      },
    ],
    labels: {
      'security.istio.io/tlsMode': 'istio',
      'service.istio.io/canonical-name': opts.app,
      'service.istio.io/canonical-revision': opts.version,
      ...(network ? { 'topology.istio.io/network': network } : {}),
    },
    annotations: {
      'istio.io/rev': 'default',
      'kubectl.kubernetes.io/default-container': opts.appContainers[0].name,
      'kubectl.kubernetes.io/default-logs-container': opts.appContainers[0].name,
      'prometheus.io/path': '/stats/prometheus',
      'prometheus.io/port': '15020',
      'prometheus.io/scrape': 'true',
      'sidecar.istio.io/status': SIDECAR_STATUS,
    },
    volumes: PROXY_VOLUMES,
  };
}

/** The mesh config (`mesh` key of the `istio` ConfigMap) of a cluster. */
export function meshConfigOf(plan: ClusterPlan): Record<string, unknown> {
  return {
    defaultConfig: {
      // The external istiod's proxies dial it where it is exposed (the guide's discoveryAddress: $EXTERNAL_ISTIOD_ADDR:15012).
      discoveryAddress: plan.role === 'external' ? `${plan.eastWestIP}:15012` : `istiod.${plan.istiodNamespace}.svc:15012`,
      meshId: plan.meshId,
      proxyMetadata: proxyMetadata(plan),
      tracing: { zipkin: { address: 'zipkin.istio-system:9411' } },
    },
    defaultProviders: { metrics: ['prometheus'] },
    enablePrometheusMerge: true,
    ...(plan.faults.has('discovery-selectors-exclude') ? { discoverySelectors: [{ matchLabels: { 'istio-discovery': 'enabled' } }] } : {}),
    // The guide's external istiod: meshConfig.rootNamespace external-istiod (snips.sh at 005b9da, snip_get_external_istiod_iop).
    rootNamespace: plan.istiodNamespace,
    ...ambientMeshConfig(plan),
    trustDomain: plan.trustDomain,
  };
}

/** The `values` JSON of the istio-sidecar-injector ConfigMap. */
export function injectorValuesOf(plan: ClusterPlan, controlPlaneGatewayIP: string | undefined): Record<string, unknown> {
  return {
    global: {
      caAddress: '',
      hub: HUB,
      tag: plan.istioVersion,
      imagePullPolicy: '',
      istioNamespace: plan.istiodNamespace,
      meshID: plan.meshId,
      multiCluster: { clusterName: plan.istioClusterId, enabled: true },
      network: visibleNetwork(plan),
      pilotCertProvider: 'istiod',
      proxy: { clusterDomain: 'cluster.local', image: 'proxyv2', privileged: false, logLevel: 'warning' },
      proxy_init: { image: 'proxyv2' },
      ...(plan.role === 'remote' && controlPlaneGatewayIP ? { remotePilotAddress: controlPlaneGatewayIP } : {}),
      ...((plan.role === 'primary' && plan.topology === 'primary-remote') || plan.role === 'external' ? { externalIstiod: true } : {}),
    },
    revision: '',
    sidecarInjectorWebhook: { defaultTemplates: [], enableNamespacesByDefault: false, injectedAnnotations: {}, neverInjectSelector: [], alwaysInjectSelector: [], rewriteAppHTTPProbe: true, templates: {} },
    istio_cni: { enabled: false },
  };
}

/** The `istio` and `istio-sidecar-injector` ConfigMaps. */
export function addIstioConfigMaps(b: ClusterBuilder, plan: ClusterPlan, controlPlaneGatewayIP: string | undefined): void {
  const labels = { 'install.operator.istio.io/owning-resource': 'unknown', 'istio.io/rev': 'default', 'operator.istio.io/component': plan.role === 'remote' ? 'IstiodRemote' : 'Pilot', release: 'istio' };
  const namespace = plan.istiodNamespace;
  addConfigMap(b, namespace, 'istio', { mesh: YAML.stringify(meshConfigOf(plan)), meshNetworks: 'networks: {}' }, labels);
  addConfigMap(
    b,
    namespace,
    'istio-sidecar-injector',
    {
      config: YAML.stringify({ policy: 'enabled', alwaysInjectSelector: [], neverInjectSelector: [], injectedAnnotations: {}, defaultTemplates: ['sidecar'], template: '{{ Template_Version_And_Istio_Version_Mismatched_Check_Installation }}' }),
      values: JSON.stringify(injectorValuesOf(plan, controlPlaneGatewayIP), null, 2),
    },
    labels,
  );
}

/** The injector webhook: a service reference on a primary, a URL through the primary's gateway on a remote. */
export function addInjectorWebhook(b: ClusterBuilder, plan: ClusterPlan, caBundlePem: string, controlPlaneGatewayIP: string | undefined): void {
  const path = `/inject/cluster/${plan.istioClusterId}/net/${visibleNetwork(plan)}`;
  const clientConfig =
    plan.role === 'primary'
      ? { service: { name: 'istiod', namespace: plan.istiodNamespace, path, port: 443 }, caBundle: Buffer.from(caBundlePem).toString('base64') }
      : { url: `https://${controlPlaneGatewayIP ?? `istiod.${plan.istiodNamespace}.svc`}:15017${path}`, caBundle: Buffer.from(caBundlePem).toString('base64') };
  const webhook = (name: string, namespaceSelector: unknown, objectSelector: unknown) => ({
    name,
    admissionReviewVersions: ['v1'],
    clientConfig,
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    namespaceSelector,
    objectSelector,
    reinvocationPolicy: 'Never',
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
    sideEffects: 'None',
    timeoutSeconds: 10,
  });
  b.add({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    // Named after its release namespace outside istio-system (istio/istio 86c9f01 manifests/charts/
    // istio-control/istio-discovery/templates/mutatingwebhook.yaml:45-49): the guide's remotes show
    // istio-sidecar-injector-external-istiod (snips.sh at 005b9da, snip_set_up_the_remote_config_cluster_4_out).
    metadata: b.meta('MutatingWebhookConfiguration', plan.istiodNamespace === ISTIO_NAMESPACE ? 'istio-sidecar-injector' : `istio-sidecar-injector-${plan.istiodNamespace}`, undefined, {
      labels: { app: 'sidecar-injector', 'install.operator.istio.io/owning-resource': 'unknown', 'istio.io/rev': 'default', 'operator.istio.io/component': plan.role === 'primary' ? 'Pilot' : 'IstiodRemote', release: 'istio' },
      generation: 2,
    }),
    webhooks: [
      webhook('namespace.sidecar-injector.istio.io', { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] }, { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] }),
      webhook(
        'object.sidecar-injector.istio.io',
        { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] },
        { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] },
      ),
    ],
  });
}

/** istiod: Deployment/ReplicaSet/pod, its Service and ServiceAccount. Returns the pods. */
export function addIstiod(b: ClusterBuilder, plan: ClusterPlan): KubeObject[] {
  const labels = {
    app: 'istiod',
    'app.kubernetes.io/name': 'istiod',
    'app.kubernetes.io/part-of': 'istio',
    'app.kubernetes.io/version': plan.istioVersion,
    'install.operator.istio.io/owning-resource': 'unknown',
    istio: 'pilot',
    'istio.io/rev': 'default',
    'operator.istio.io/component': 'Pilot',
    'sidecar.istio.io/inject': 'false',
  };
  const health: PodHealth = plan.faults.has('istiod-not-ready') ? { state: 'crash-loop', restarts: 14 } : { state: 'ready' };
  const namespace = plan.istiodNamespace;
  addServiceAccount(b, namespace, 'istiod', { app: 'istiod', release: 'istio' });
  const pods = addWorkload(b, {
    namespace,
    name: 'istiod',
    deploymentLabels: { app: 'istiod', 'app.kubernetes.io/name': 'istiod', istio: 'pilot', 'istio.io/rev': 'default', 'operator.istio.io/component': 'Pilot', release: 'istio' },
    podLabels: labels,
    selectorLabels: { istio: 'pilot' },
    podAnnotations: { 'prometheus.io/port': '15014', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false' },
    replicas: 1,
    serviceAccount: 'istiod',
    age: 10,
    health,
    containers: [
      {
        name: 'discovery',
        image: `${HUB}/pilot:${plan.istioVersion}`,
        args: ['discovery', '--monitoringAddr=:15014', '--log_output_level=default:info', '--domain', 'cluster.local', '--keepaliveMaxServerConnectionAge', '30m'],
        env: [
          { name: 'REVISION', value: 'default' },
          { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
          fieldRef('POD_NAME', 'metadata.name'),
          fieldRef('POD_NAMESPACE', 'metadata.namespace'),
          fieldRef('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
          { name: 'KUBECONFIG', value: '/var/run/secrets/remote/config' },
          { name: 'CA_TRUSTED_NODE_ACCOUNTS', value: `${namespace}/ztunnel` },
          { name: 'PILOT_TRACE_SAMPLING', value: '1' },
          { name: 'PILOT_ENABLE_ANALYSIS', value: 'false' },
          { name: 'CLUSTER_ID', value: plan.istioClusterId },
          { name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { divisor: '1', resource: 'limits.memory' } } },
          { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { divisor: '1', resource: 'limits.cpu' } } },
          { name: 'PLATFORM', value: '' },
          ...(plan.topology === 'primary-remote' ? [{ name: 'EXTERNAL_ISTIOD', value: 'true' }] : []),
          ...(plan.role === 'external' ? externalIstiodEnv(plan) : []),
          ...ambientIstiodEnv(plan),
        ],
        ports: [
          { containerPort: 8080, protocol: 'TCP' },
          { containerPort: 15010, protocol: 'TCP' },
          { containerPort: 15012, protocol: 'TCP' },
          { containerPort: 15017, protocol: 'TCP' },
          { containerPort: 15014, protocol: 'TCP' },
        ],
        readinessProbe: { failureThreshold: 3, httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 1, periodSeconds: 3, successThreshold: 1, timeoutSeconds: 5 },
        resources: { requests: { cpu: '500m', memory: '2Gi' } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
        volumeMounts: [
          { mountPath: '/var/run/secrets/tokens', name: 'istio-token', readOnly: true },
          { mountPath: '/var/run/secrets/istio-dns', name: 'local-certs' },
          { mountPath: '/etc/cacerts', name: 'cacerts', readOnly: true },
          { mountPath: '/var/run/secrets/remote', name: 'istio-kubeconfig', readOnly: true },
          { mountPath: '/var/run/secrets/istiod/tls', name: 'istio-csr-dns-cert', readOnly: true },
          { mountPath: '/var/run/secrets/istiod/ca', name: 'istio-csr-ca-configmap', readOnly: true },
        ],
      },
    ],
    volumes: [
      { name: 'local-certs', emptyDir: { medium: 'Memory' } },
      { name: 'istio-token', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
      { name: 'cacerts', secret: { defaultMode: 420, optional: true, secretName: 'cacerts' } },
      { name: 'istio-kubeconfig', secret: { defaultMode: 420, optional: true, secretName: 'istio-kubeconfig' } },
      { name: 'istio-csr-dns-cert', secret: { defaultMode: 420, optional: true, secretName: 'istiod-tls' } },
      { name: 'istio-csr-ca-configmap', configMap: { defaultMode: 420, name: 'istio-ca-root-cert', optional: true } },
    ],
  });
  addService(b, {
    namespace,
    name: 'istiod',
    labels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default', 'install.operator.istio.io/owning-resource': 'unknown', 'operator.istio.io/component': 'Pilot', release: 'istio' },
    selector: { app: 'istiod', istio: 'pilot' },
    ports: [
      { name: 'grpc-xds', port: 15010 },
      { name: 'https-dns', port: 15012 },
      { name: 'https-webhook', port: 443, targetPort: 15017 },
      { name: 'http-monitoring', port: 15014 },
    ],
  });
  return pods;
}

/**
 * The env the istio.io guide gives the external istiod (external-controlplane snips.sh at 005b9da,
 * snip_get_external_istiod_iop): EXTERNAL_ISTIOD (dropped by `external-istiod-flag-missing`),
 * LOCAL_CLUSTER_SECRET_WATCHER (remote secrets read from its own cluster, istio/istio 86c9f01
 * pkg/kube/multicluster/secretcontroller.go:135), SHARED_MESH_CONFIG, and ISTIOD_CUSTOM_HOST, the
 * address remotes reach it at (added to istiod's serving certificate).
 */
function externalIstiodEnv(plan: ClusterPlan): Container[] {
  return [
    { name: 'INJECTION_WEBHOOK_CONFIG_NAME', value: 'istio-sidecar-injector' },
    { name: 'VALIDATION_WEBHOOK_CONFIG_NAME', value: '' },
    ...(plan.faults.has('external-istiod-flag-missing') ? [] : [{ name: 'EXTERNAL_ISTIOD', value: 'true' }]),
    { name: 'LOCAL_CLUSTER_SECRET_WATCHER', value: 'true' },
    { name: 'SHARED_MESH_CONFIG', value: 'istio' },
    { name: 'ISTIOD_CUSTOM_HOST', value: plan.eastWestIP },
  ];
}

/**
 * How remotes reach the external istiod: a LoadBalancer Service selecting istiod's pods on 15012
 * (xDS, CA) and 15017 (injection), at the address ISTIOD_CUSTOM_HOST names (the guide's other way is
 * an ingress gateway with a PASSTHROUGH Gateway; a plain LoadBalancer needs no second istiod).
 */
export function addExternalIstiodLoadBalancer(b: ClusterBuilder, plan: ClusterPlan): void {
  addService(b, {
    namespace: plan.istiodNamespace,
    name: 'istiod-external',
    labels: { app: 'istiod', istio: 'pilot', release: 'istio' },
    selector: { app: 'istiod', istio: 'pilot' },
    type: 'LoadBalancer',
    ports: [
      { name: 'tls-xds', port: 15012 },
      { name: 'tls-webhook', port: 15017 },
    ],
    loadBalancerIP: plan.eastWestIP,
  });
}

/**
 * The remote profile's `istiod` Service: no selector; its Endpoints and EndpointSlice point at the
 * primary's east-west gateway on 15012/15017 (the wrong address with `remote-istiod-endpoint-wrong`).
 */
export function addRemoteIstiodService(b: ClusterBuilder, plan: ClusterPlan, primaryGatewayIP: string): void {
  const service = addService(b, {
    namespace: plan.istiodNamespace,
    name: 'istiod',
    labels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default', 'operator.istio.io/component': 'IstiodRemote', release: 'istio' },
    ports: [
      { name: 'tcp-istiod', port: 15012 },
      { name: 'tcp-webhook', port: 443, targetPort: 15017 },
    ],
  });
  const ip = plan.faults.has('remote-istiod-endpoint-wrong') ? `198.51.100.${10 + plan.index}` : primaryGatewayIP;
  addEndpointObjects(b, service, [{ ip, ready: true }], [
    { name: 'tcp-istiod', port: 15012, protocol: 'TCP' },
    { name: 'tcp-webhook', port: 15017, protocol: 'TCP' },
  ]);
}

/** The east-west gateway as gen-eastwest-gateway.sh + istioctl install make it. */
export function addEastWestGateway(b: ClusterBuilder, plan: ClusterPlan): void {
  const networkLabel: Labels = plan.faults.has('ewgw-network-label-missing') ? {} : { 'topology.istio.io/network': plan.network };
  const labels: Labels = { app: 'istio-eastwestgateway', istio: 'eastwestgateway', ...networkLabel };
  const podLabels: Labels = {
    ...labels,
    chart: 'gateways',
    heritage: 'Tiller',
    'install.operator.istio.io/owning-resource': 'eastwest',
    'istio.io/rev': 'default',
    'operator.istio.io/component': 'IngressGateways',
    release: 'istio',
    'service.istio.io/canonical-name': 'istio-eastwestgateway',
    'service.istio.io/canonical-revision': 'latest',
    'sidecar.istio.io/inject': 'false',
  };
  const no15443 = plan.faults.has('ewgw-no-15443');
  const ports = [
    { name: 'status-port', port: 15021 },
    ...(no15443 ? [] : [{ name: 'tls', port: 15443 }]),
    { name: 'tls-istiod', port: 15012 },
    { name: 'tls-webhook', port: 15017 },
  ];
  // In the Istio namespace (the external control plane guide: --set values.global.istioNamespace=external-istiod, snip_setup_eastwest_gateways_1..4).
  const namespace = plan.istiodNamespace;
  addServiceAccount(b, namespace, 'istio-eastwestgateway-service-account', { app: 'istio-eastwestgateway', istio: 'eastwestgateway', release: 'istio' });
  addWorkload(b, {
    namespace,
    name: 'istio-eastwestgateway',
    deploymentLabels: { ...labels, 'install.operator.istio.io/owning-resource': 'eastwest', 'istio.io/rev': 'default', 'operator.istio.io/component': 'IngressGateways', release: 'istio' },
    podLabels,
    selectorLabels: { app: 'istio-eastwestgateway', istio: 'eastwestgateway' },
    podAnnotations: { 'istio.io/rev': 'default', 'prometheus.io/path': '/stats/prometheus', 'prometheus.io/port': '15020', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false' },
    replicas: 1,
    serviceAccount: 'istio-eastwestgateway-service-account',
    age: 40,
    health: plan.faults.has('ewgw-not-ready') ? { state: 'not-ready' } : { state: 'ready' },
    containers: [
      {
        name: 'istio-proxy',
        image: `${HUB}/proxyv2:${plan.istioVersion}`,
        args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
        env: proxyEnv(plan, 'istio-eastwestgateway', namespace, [
          // gen-eastwest-gateway.sh: traffic through this gateway is routed inside the network.
          { name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: plan.network },
          { name: 'ISTIO_META_ROUTER_MODE', value: 'sni-dnat' },
        ]),
        ports: [
          ...ports.map((p) => ({ containerPort: p.port, protocol: 'TCP' })),
          { containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' },
        ],
        readinessProbe: { failureThreshold: 30, httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' }, initialDelaySeconds: 1, periodSeconds: 2, successThreshold: 1, timeoutSeconds: 1 },
        resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true },
        volumeMounts: PROXY_VOLUME_MOUNTS,
      },
    ],
    volumes: PROXY_VOLUMES,
  });
  addService(b, {
    namespace,
    name: 'istio-eastwestgateway',
    labels: { ...labels, 'install.operator.istio.io/owning-resource': 'eastwest', 'istio.io/rev': 'default', 'operator.istio.io/component': 'IngressGateways', release: 'istio' },
    selector: { app: 'istio-eastwestgateway', istio: 'eastwestgateway' },
    type: 'LoadBalancer',
    ports,
    loadBalancerIP: plan.faults.has('ewgw-lb-pending') ? undefined : plan.eastWestIP,
  });
}

function istioConfigObject(b: ClusterBuilder, kind: string, apiVersion: string, name: string, namespace: string, spec: unknown): KubeObject {
  return b.add({ apiVersion, kind, metadata: b.meta(kind, name, namespace, { generation: 1 }), spec });
}

/** The cross-network Gateway of expose-services.yaml (ISTIO_MUTUAL, missing or doubled under faults). */
export function addCrossNetworkGateway(b: ClusterBuilder, plan: ClusterPlan): void {
  if (plan.faults.has('cross-network-gateway-missing')) return;
  const server = (mode: string) => ({ port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode }, hosts: ['*.local'] });
  const mode = plan.faults.has('cross-network-gateway-istio-mutual') ? 'ISTIO_MUTUAL' : 'AUTO_PASSTHROUGH';
  // The guide applies expose-services.yaml in the Istio namespace (snip_setup_eastwest_gateways_5: -n external-istiod).
  const namespace = plan.istiodNamespace;
  istioConfigObject(b, 'Gateway', 'networking.istio.io/v1', 'cross-network-gateway', namespace, { selector: { istio: 'eastwestgateway' }, servers: [server(mode)] });
  if (plan.faults.has('cross-network-gateway-duplicate')) {
    istioConfigObject(b, 'Gateway', 'networking.istio.io/v1', 'eastwest-15443', namespace, { selector: { istio: 'eastwestgateway' }, servers: [server('AUTO_PASSTHROUGH')] });
  }
}

/** istiod-gateway and istiod-vs of expose-istiod.yaml (primary-remote primaries). */
export function addIstiodExposure(b: ClusterBuilder, plan: ClusterPlan): void {
  if (plan.faults.has('istiod-not-exposed')) return;
  const passthrough = (name: string, number: number) => ({ port: { name, number, protocol: 'tls' }, tls: { mode: 'PASSTHROUGH' }, hosts: ['*'] });
  istioConfigObject(b, 'Gateway', 'networking.istio.io/v1', 'istiod-gateway', ISTIO_NAMESPACE, {
    selector: { istio: 'eastwestgateway' },
    servers: [passthrough('tls-istiod', 15012), passthrough('tls-istiodwebhook', 15017)],
  });
  const route = (port: number, destinationPort: number) => ({
    match: [{ port, sniHosts: ['*'] }],
    route: [{ destination: { host: 'istiod.istio-system.svc.cluster.local', port: { number: destinationPort } } }],
  });
  istioConfigObject(b, 'VirtualService', 'networking.istio.io/v1', 'istiod-vs', ISTIO_NAMESPACE, {
    hosts: ['*'],
    gateways: ['istiod-gateway'],
    tls: [route(15012, 15012), route(15017, 443)],
  });
}

/** The seed article's pre-1.8 `.global` objects (`legacy-global-config`). */
export function addLegacyGlobalConfig(b: ClusterBuilder, peerNetwork: string): void {
  istioConfigObject(b, 'ServiceEntry', 'networking.istio.io/v1', 'helloworld-global', 'sample', {
    hosts: ['helloworld.sample.global'],
    location: 'MESH_EXTERNAL',
    ports: [{ number: 5000, name: 'http', protocol: 'HTTP' }],
    resolution: 'DNS',
    addresses: ['240.0.0.1'],
    endpoints: [{ address: 'helloworld.sample.svc.cluster.local', network: peerNetwork, ports: { http: 5000 } }],
  });
  istioConfigObject(b, 'DestinationRule', 'networking.istio.io/v1', 'cross-cluster-mtls-dr', 'sample', {
    host: '*.global',
    trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
    exportTo: ['*'],
  });
}

/**
 * Locality failover for helloworld without outlierDetection (`failover-no-outlier-detection`): the
 * rule people write from the failover task minus the part istiod needs (istio#48084).
 */
export function addFailoverWithoutOutlierDetection(b: ClusterBuilder): void {
  istioConfigObject(b, 'DestinationRule', 'networking.istio.io/v1', 'helloworld-failover', 'sample', {
    host: 'helloworld.sample.svc.cluster.local',
    trafficPolicy: {
      connectionPool: { http: { maxRequestsPerConnection: 1 } },
      loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: true, failover: [{ from: 'region1', to: 'region2' }] } },
    },
  });
}

/** A NetworkPolicy that selects the gateway pods and admits only the status port (`networkpolicy-blocks-gateway`). */
export function addBlockingNetworkPolicy(b: ClusterBuilder): void {
  b.add({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: b.meta('NetworkPolicy', 'deny-eastwest', ISTIO_NAMESPACE, { generation: 1 }),
    spec: {
      podSelector: { matchLabels: { istio: 'eastwestgateway' } },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 15021, protocol: 'TCP' }] }],
    },
  });
}

// Istio's CRDs: group, kind, plural, served versions (storage first).
const ISTIO_CRDS: [string, string, string, string[]][] = [
  ['networking.istio.io', 'DestinationRule', 'destinationrules', ['v1', 'v1beta1', 'v1alpha3']],
  ['networking.istio.io', 'EnvoyFilter', 'envoyfilters', ['v1alpha3']],
  ['networking.istio.io', 'Gateway', 'gateways', ['v1', 'v1beta1', 'v1alpha3']],
  ['networking.istio.io', 'ProxyConfig', 'proxyconfigs', ['v1beta1']],
  ['networking.istio.io', 'ServiceEntry', 'serviceentries', ['v1', 'v1beta1', 'v1alpha3']],
  ['networking.istio.io', 'Sidecar', 'sidecars', ['v1', 'v1beta1', 'v1alpha3']],
  ['networking.istio.io', 'VirtualService', 'virtualservices', ['v1', 'v1beta1', 'v1alpha3']],
  ['networking.istio.io', 'WorkloadEntry', 'workloadentries', ['v1', 'v1beta1', 'v1alpha3']],
  ['networking.istio.io', 'WorkloadGroup', 'workloadgroups', ['v1', 'v1beta1', 'v1alpha3']],
  ['security.istio.io', 'AuthorizationPolicy', 'authorizationpolicies', ['v1', 'v1beta1']],
  ['security.istio.io', 'PeerAuthentication', 'peerauthentications', ['v1', 'v1beta1']],
  ['security.istio.io', 'RequestAuthentication', 'requestauthentications', ['v1', 'v1beta1']],
  ['telemetry.istio.io', 'Telemetry', 'telemetries', ['v1', 'v1alpha1']],
  ['extensions.istio.io', 'WasmPlugin', 'wasmplugins', ['v1alpha1']],
];

/** CustomResourceDefinitions of Istio's kinds. */
export function addIstioCrds(b: ClusterBuilder, istioVersion: string): void {
  for (const [group, kind, plural, versions] of ISTIO_CRDS) {
    addCrd(b, {
      group,
      kind,
      plural,
      versions,
      namespaced: true,
      categories: ['istio-io', `${group.split('.')[0]}-istio-io`],
      labels: { app: 'istio-pilot', chart: 'istio', heritage: 'Tiller', release: 'istio', 'app.kubernetes.io/part-of': 'istio', 'app.kubernetes.io/version': istioVersion },
      annotations: { 'helm.sh/resource-policy': 'keep' },
      age: 5,
    });
  }
}
