// Ambient mode objects of a simulated cluster, as istio.io's ambient multi-primary multi-network
// guide installs them (istioctl/helm with profile=ambient, the ztunnel and cni charts, the Gateway
// API CRDs, an istio-east-west Gateway, `istioctl waypoint apply`), and as istiod's gateway
// deployment controller renders the Gateways' Deployments and Services.
// Sources: istio/istio at eed52ebb (the module the conformance build pins) unless said otherwise.
import type { KubeObject } from '../../cluster/types.ts';
import type { ClusterBuilder } from './builder.ts';
import { addCrd } from './crds.ts';
import { visibleNetwork, type ClusterPlan } from './plan.ts';
import { addDaemonSet, addService, addServiceAccount, addWorkload } from './workloads.ts';

const ISTIO_NAMESPACE = 'istio-system';
const HUB = 'docker.io/istio';
const GATEWAY_API = 'gateway.networking.k8s.io/v1';
/** Label on every Deployment, pod and Service the deployment controller renders for a Gateway (waypoint.yaml:31-38). */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const GATEWAY_CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
/** The HBONE port of waypoints and ambient east-west gateways (istioctl/pkg/waypoint/waypoint.go:91-93; networks.go:727-730). */
const HBONE_PORT = 15008;

type Labels = Record<string, string>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Container = Record<string, any>;

const fieldRef = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

/** What the ambient profile adds to istiod's env (manifests/helm-profiles/ambient.yaml:15-17; the guide's env.AMBIENT_ENABLE_MULTI_NETWORK). */
export function ambientIstiodEnv(plan: ClusterPlan): Container[] {
  if (!plan.ambient) return [];
  return [
    { name: 'PILOT_ENABLE_AMBIENT', value: 'true' },
    ...(plan.ambientMultiNetwork ? [{ name: 'AMBIENT_ENABLE_MULTI_NETWORK', value: 'true' }] : []),
  ];
}

/**
 * The ambient profile's mesh config additions (manifests/helm-profiles/ambient.yaml:2-12): HBONE for
 * proxies, and the serviceScopeConfigs rule making `istio.io/global=true` Services GLOBAL (left out
 * with `ambient-scope-config-missing`).
 */
export function ambientMeshConfig(plan: ClusterPlan): Record<string, unknown> {
  if (!plan.ambient || plan.faults.has('ambient-scope-config-missing')) return {};
  return {
    serviceScopeConfigs: [{ servicesSelector: { matchExpressions: [{ key: 'istio.io/global', operator: 'In', values: ['true'] }] }, scope: 'GLOBAL' }],
  };
}

/**
 * The Gateway API CRDs (the guide requires them) and the GatewayClasses istiod registers: `istio`,
 * `istio-remote` (PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API, default on), `istio-waypoint` (ambient),
 * and `istio-east-west` only with AMBIENT_ENABLE_MULTI_NETWORK
 * (pilot/pkg/config/kube/gatewaycommon/classinfo.go:64-83).
 */
export function addGatewayApi(b: ClusterBuilder, plan: ClusterPlan): void {
  for (const [kind, plural, namespaced] of [
    ['GatewayClass', 'gatewayclasses', false],
    ['Gateway', 'gateways', true],
    ['HTTPRoute', 'httproutes', true],
    ['GRPCRoute', 'grpcroutes', true],
    ['ReferenceGrant', 'referencegrants', true],
  ] as const) {
    addCrd(b, {
      group: 'gateway.networking.k8s.io',
      kind,
      plural,
      versions: ['v1', 'v1beta1'],
      namespaced,
      categories: ['gateway-api'],
      annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.3.0', 'gateway.networking.k8s.io/channel': 'standard' },
      age: 3,
    });
  }
  const classes: [string, string, string][] = [
    ['istio', 'istio.io/gateway-controller', 'The default Istio GatewayClass'],
    ['istio-remote', 'istio.io/unmanaged-gateway', 'Remote to this cluster. Does not deploy or affect configuration.'],
    ['istio-waypoint', 'istio.io/mesh-controller', 'The default Istio waypoint GatewayClass'],
  ];
  if (plan.ambientMultiNetwork) classes.push(['istio-east-west', 'istio.io/eastwest-controller', 'The default GatewayClass for Istio East West Gateways']);
  for (const [name, controllerName, description] of classes) {
    b.add({
      apiVersion: GATEWAY_API,
      kind: 'GatewayClass',
      metadata: b.meta('GatewayClass', name, undefined, { generation: 1 }, 12),
      spec: { controllerName, description },
      status: {
        conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Handled by Istio controller', observedGeneration: 1, lastTransitionTime: b.timestamp(12) }],
      },
    });
  }
}

/** The ztunnel DaemonSet of the ztunnel chart (manifests/charts/ztunnel/templates/daemonset.yaml), installed with the guide's flags. */
export function addZtunnel(b: ClusterBuilder, plan: ClusterPlan): KubeObject[] {
  const network = visibleNetwork(plan);
  const labels = { app: 'ztunnel', 'app.kubernetes.io/name': 'ztunnel', 'app.kubernetes.io/part-of': 'istio', 'app.kubernetes.io/version': plan.istioVersion, 'istio.io/dataplane-mode': 'none', 'sidecar.istio.io/inject': 'false' };
  addServiceAccount(b, ISTIO_NAMESPACE, 'ztunnel', { 'app.kubernetes.io/name': 'ztunnel' });
  return addDaemonSet(b, {
    namespace: ISTIO_NAMESPACE,
    name: 'ztunnel',
    deploymentLabels: { 'app.kubernetes.io/name': 'ztunnel', 'app.kubernetes.io/part-of': 'istio', 'app.kubernetes.io/version': plan.istioVersion },
    podLabels: labels,
    selectorLabels: { app: 'ztunnel' },
    podAnnotations: { 'prometheus.io/port': '15020', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false' },
    serviceAccount: 'ztunnel',
    age: 20,
    containers: [
      {
        name: 'istio-proxy',
        image: `${HUB}/ztunnel:${plan.istioVersion}-distroless`,
        args: ['proxy', 'ztunnel'],
        ports: [{ containerPort: 15020, name: 'ztunnel-stats', protocol: 'TCP' }],
        readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } },
        env: [
          { name: 'CA_ADDRESS', value: `istiod.${ISTIO_NAMESPACE}.svc:15012` },
          { name: 'XDS_ADDRESS', value: `istiod.${ISTIO_NAMESPACE}.svc:15012` },
          // daemonset.yaml:126-128: only when the chart's network is set.
          ...(network ? [{ name: 'NETWORK', value: network }] : []),
          { name: 'RUST_LOG', value: 'info' },
          { name: 'RUST_BACKTRACE', value: '1' },
          // daemonset.yaml:134-135: multiCluster.clusterName | default "Kubernetes".
          { name: 'ISTIO_META_CLUSTER_ID', value: plan.ztunnelClusterId },
          { name: 'INPOD_ENABLED', value: 'true' },
          { name: 'TERMINATION_GRACE_PERIOD_SECONDS', value: '30' },
          fieldRef('POD_NAME', 'metadata.name'),
          fieldRef('POD_NAMESPACE', 'metadata.namespace'),
          fieldRef('NODE_NAME', 'spec.nodeName'),
          fieldRef('INSTANCE_IP', 'status.podIP'),
          fieldRef('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
          { name: 'ISTIO_META_ENABLE_HBONE', value: 'true' },
          { name: 'ZTUNNEL_CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
        ],
        resources: { requests: { cpu: '200m', memory: '512Mi' } },
        securityContext: { allowPrivilegeEscalation: true, privileged: false, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW'] }, readOnlyRootFilesystem: true, runAsGroup: 1337, runAsNonRoot: false, runAsUser: 0 },
        volumeMounts: [
          { mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' },
          { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
          { mountPath: '/var/run/ztunnel', name: 'cni-ztunnel-sock-dir' },
          { mountPath: '/tmp', name: 'tmp' },
        ],
      },
    ],
    volumes: [
      { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { path: 'istio-token', expirationSeconds: 43200, audience: 'istio-ca' } }] } },
      { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
      { name: 'cni-ztunnel-sock-dir', hostPath: { path: '/var/run/ztunnel', type: 'DirectoryOrCreate' } },
      { name: 'tmp', emptyDir: {} },
    ],
  });
}

/** The istio-cni node agent (`helm install istio-cni istio/cni --set profile=ambient`). */
export function addIstioCni(b: ClusterBuilder, plan: ClusterPlan): void {
  const labels = { 'k8s-app': 'istio-cni-node', 'app.kubernetes.io/name': 'istio-cni', 'app.kubernetes.io/part-of': 'istio', 'sidecar.istio.io/inject': 'false', 'istio.io/dataplane-mode': 'none' };
  addServiceAccount(b, ISTIO_NAMESPACE, 'istio-cni', { 'app.kubernetes.io/name': 'istio-cni' });
  addDaemonSet(b, {
    namespace: ISTIO_NAMESPACE,
    name: 'istio-cni-node',
    deploymentLabels: { 'k8s-app': 'istio-cni-node', 'app.kubernetes.io/name': 'istio-cni', 'app.kubernetes.io/part-of': 'istio' },
    podLabels: labels,
    selectorLabels: { 'k8s-app': 'istio-cni-node' },
    serviceAccount: 'istio-cni',
    age: 15,
    containers: [
      {
        name: 'install-cni',
        image: `${HUB}/install-cni:${plan.istioVersion}-distroless`,
        args: ['--log_output_level=info'],
        command: ['install-cni'],
        env: [{ name: 'AMBIENT_ENABLED', value: 'true' }, fieldRef('NODE_NAME', 'spec.nodeName')],
        readinessProbe: { httpGet: { path: '/readyz', port: 8000 } },
      },
    ],
  });
}

/** A Gateway's rendered Deployment, pods and Service, as the deployment controller renders the `waypoint` template (files/waypoint.yaml). */
function addGatewayWorkload(
  b: ClusterBuilder,
  plan: ClusterPlan,
  gw: KubeObject,
  opts: { serviceType: 'ClusterIP' | 'LoadBalancer'; loadBalancerIP?: string; networkView: boolean },
): void {
  const name = gw.metadata.name;
  const namespace = gw.metadata.namespace ?? ISTIO_NAMESPACE;
  const className = gw.spec.gatewayClassName as string;
  const network = visibleNetwork(plan);
  // Gateway labels are the infrastructure labels; the network label defaults to global.network for
  // waypoints and east-west gateways (deploymentcontroller.go:442, :485-490).
  const infra: Labels = { ...(gw.metadata.labels ?? {}) };
  if (!infra['topology.istio.io/network'] && network) infra['topology.istio.io/network'] = network;
  const managed = className === 'istio-east-west' ? 'istio.io-eastwest-controller' : 'istio.io-mesh-controller';
  const resourceLabels = { ...infra, [GATEWAY_NAME_LABEL]: name, [GATEWAY_CLASS_LABEL]: className, 'gateway.istio.io/managed': managed };
  const podLabels = {
    'sidecar.istio.io/inject': 'false',
    'istio.io/dataplane-mode': 'none',
    'service.istio.io/canonical-name': name,
    'service.istio.io/canonical-revision': 'latest',
    ...resourceLabels,
  };
  addServiceAccount(b, namespace, name, { [GATEWAY_NAME_LABEL]: name });
  const image = `${HUB}/proxyv2:${plan.istioVersion}-distroless`;
  addWorkload(b, {
    namespace,
    name,
    deploymentLabels: resourceLabels,
    podLabels,
    selectorLabels: { [GATEWAY_NAME_LABEL]: name },
    podAnnotations: { 'istio.io/rev': 'default', 'prometheus.io/path': '/stats/prometheus', 'prometheus.io/port': '15020', 'prometheus.io/scrape': 'true' },
    replicas: 1,
    serviceAccount: name,
    age: 60,
    containers: [
      {
        name: 'istio-proxy',
        image,
        args: ['proxy', 'waypoint', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--serviceCluster', `${name}.$(POD_NAMESPACE)`, '--proxyLogLevel', 'warning', '--proxyComponentLogLevel', 'misc:error', '--log_output_level', 'default:info'],
        ports: [
          { containerPort: 15020, name: 'metrics', protocol: 'TCP' },
          { containerPort: 15021, name: 'status-port', protocol: 'TCP' },
          { containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' },
        ],
        env: [
          { name: 'ISTIO_META_SERVICE_ACCOUNT', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'ISTIO_META_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
          { name: 'CA_ADDR', value: `istiod.${ISTIO_NAMESPACE}.svc:15012` },
          fieldRef('POD_NAME', 'metadata.name'),
          fieldRef('POD_NAMESPACE', 'metadata.namespace'),
          fieldRef('INSTANCE_IP', 'status.podIP'),
          { name: 'ISTIO_META_CLUSTER_ID', value: plan.istioClusterId },
          ...(network ? [{ name: 'ISTIO_META_NETWORK', value: network }] : []),
          // waypoint.yaml:196-199: an east-west gateway routes inside its own network.
          ...(opts.networkView && network ? [{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: network }] : []),
          { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
          { name: 'ISTIO_META_WORKLOAD_NAME', value: name },
          { name: 'ISTIO_META_OWNER', value: `kubernetes://apis/apps/v1/namespaces/${namespace}/deployments/${name}` },
          { name: 'ISTIO_META_MESH_ID', value: plan.meshId },
          { name: 'TRUST_DOMAIN', value: plan.trustDomain },
        ],
        readinessProbe: { failureThreshold: 4, httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' }, periodSeconds: 15, successThreshold: 1, timeoutSeconds: 1 },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: 1337, runAsNonRoot: true, runAsUser: 1337 },
      },
    ],
  });
  addService(b, {
    namespace,
    name,
    labels: { ...infra, [GATEWAY_NAME_LABEL]: name, [GATEWAY_CLASS_LABEL]: className },
    selector: { [GATEWAY_NAME_LABEL]: name },
    type: opts.serviceType,
    // deploymentcontroller.go:905-945: status-port first, then one port per listener (name from the listener, appProtocol its protocol).
    ports: [
      { name: 'status-port', port: 15021, appProtocol: 'tcp' },
      ...((gw.spec.listeners ?? []) as { name: string; port: number; protocol: string }[]).map((l) => ({ name: l.name, port: l.port, appProtocol: l.protocol.toLowerCase() })),
    ],
    ...(opts.loadBalancerIP ? { loadBalancerIP: opts.loadBalancerIP } : {}),
  });
}

/**
 * The ambient east-west gateway of the guide (gen-eastwest-gateway.sh --network <n> --ambient): a
 * Gateway of class istio-east-west labelled with the network, one HBONE listener on 15008 with TLS
 * Terminate (ISTIO_MUTUAL). istiod renders a LoadBalancer Deployment/Service for it and writes its
 * status (address, Programmed) when it owns the class; without AMBIENT_ENABLE_MULTI_NETWORK nothing
 * owns the class: no workload, no status. `ambient-ewgw-no-address`: the LoadBalancer stays pending,
 * so status.addresses is empty and Programmed is False (AddressNotAssigned).
 */
export function addAmbientEastWestGateway(b: ClusterBuilder, plan: ClusterPlan): void {
  const gw = b.add({
    apiVersion: GATEWAY_API,
    kind: 'Gateway',
    metadata: b.meta('Gateway', 'istio-eastwestgateway', ISTIO_NAMESPACE, { labels: { 'topology.istio.io/network': plan.network }, generation: 1 }, 40),
    spec: {
      gatewayClassName: 'istio-east-west',
      listeners: [{ name: 'mesh', port: HBONE_PORT, protocol: 'HBONE', tls: { mode: 'Terminate', options: { 'gateway.istio.io/tls-terminate-mode': 'ISTIO_MUTUAL' } } }],
    },
  });
  if (!plan.ambientMultiNetwork) return;
  const pending = plan.faults.has('ambient-ewgw-no-address');
  addGatewayWorkload(b, plan, gw, { serviceType: 'LoadBalancer', loadBalancerIP: pending ? undefined : plan.eastWestIP, networkView: true });
  gw.status = gatewayStatus(b, pending ? undefined : plan.eastWestIP, 'IPAddress');
}

/** `istioctl waypoint apply -n sample --name waypoint --for service` (istioctl/pkg/waypoint/waypoint.go:80-110), with the guide's istio.io/global on its Service. */
export function addWaypoint(b: ClusterBuilder, plan: ClusterPlan, namespace: string): void {
  const gw = b.add({
    apiVersion: GATEWAY_API,
    kind: 'Gateway',
    metadata: b.meta('Gateway', 'waypoint', namespace, { labels: { 'istio.io/waypoint-for': 'service' }, generation: 1 }, 280),
    spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: HBONE_PORT, protocol: 'HBONE' }] },
  });
  addGatewayWorkload(b, plan, gw, { serviceType: 'ClusterIP', networkView: false });
  const service = b.objects.find((o) => o.kind === 'Service' && o.metadata.namespace === namespace && o.metadata.name === 'waypoint')!;
  // The failover guide: label the waypoint Service istio.io/global=true too (unless `ambient-waypoint-not-global`).
  if (!plan.faults.has('ambient-waypoint-not-global')) service.metadata.labels = { ...service.metadata.labels, 'istio.io/global': 'true' };
  gw.status = gatewayStatus(b, service.spec.clusterIP, 'IPAddress', `waypoint.${namespace}.svc.cluster.local`);
}

/** A Gateway's status as istiod's status writer leaves it: Accepted, and Programmed when it has an address. */
function gatewayStatus(b: ClusterBuilder, address: string | undefined, type: string, hostname?: string): Record<string, unknown> {
  const at = b.timestamp(70);
  return {
    addresses: address ? [{ type, value: address }, ...(hostname ? [{ type: 'Hostname', value: hostname }] : [])] : [],
    conditions: [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted', observedGeneration: 1, lastTransitionTime: at },
      address
        ? { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Resource programmed, assigned to service(s)', observedGeneration: 1, lastTransitionTime: at }
        : { type: 'Programmed', status: 'False', reason: 'AddressNotAssigned', message: 'Assigned to service(s) istio-eastwestgateway.istio-system.svc.cluster.local:15008, but failed to assign to all requested addresses: address pending', observedGeneration: 1, lastTransitionTime: at },
    ],
    listeners: [{ name: 'mesh', attachedRoutes: 0, supportedKinds: [], conditions: [{ type: 'Programmed', status: address ? 'True' : 'False', reason: address ? 'Programmed' : 'Invalid', message: address ? 'Success' : 'address pending', observedGeneration: 1, lastTransitionTime: at }] }],
  };
}
