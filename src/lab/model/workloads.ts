// Plain Kubernetes objects of a simulated cluster, shaped as `kubectl get -o yaml` shows them:
// namespaces, nodes, Deployments with their ReplicaSet and pods, Services with Endpoints and
// EndpointSlices.
import type { KubeObject } from '../../cluster/types.ts';
import { safeHash, uidOf, type ClusterBuilder, type LabNode } from './builder.ts';

type Labels = Record<string, string>;
// Container specs are plain Kubernetes JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Container = Record<string, any>;

/** A Namespace. */
export function addNamespace(b: ClusterBuilder, name: string, labels: Labels = {}, annotations: Labels = {}): KubeObject {
  return b.add({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: b.meta('Namespace', name, undefined, {
      labels: { 'kubernetes.io/metadata.name': name, ...labels },
      ...(Object.keys(annotations).length ? { annotations } : {}),
    }),
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  });
}

/** Node objects for the builder's nodes. */
export function addNodeObjects(b: ClusterBuilder, kubeletVersion: string): void {
  for (const node of b.nodes) {
    const roleLabels: Labels = node.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {};
    b.add({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: b.meta('Node', node.name, undefined, {
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': node.name,
          'kubernetes.io/os': 'linux',
          'topology.kubernetes.io/region': `region${b.index}`,
          'topology.kubernetes.io/zone': `region${b.index}-a`,
          ...roleLabels,
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      }),
      spec: {
        podCIDR: node.podCIDR,
        podCIDRs: [node.podCIDR],
        providerID: `kind://docker/${b.cluster}/${node.name}`,
        ...(node.controlPlane ? { taints: [{ effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane' }] } : {}),
      },
      status: {
        addresses: [
          { type: 'InternalIP', address: node.internalIP },
          { type: 'ExternalIP', address: node.externalIP },
          { type: 'Hostname', address: node.name },
        ],
        allocatable: { cpu: '8', 'ephemeral-storage': '101430960Ki', memory: '32734064Ki', pods: '16384' },
        capacity: { cpu: '8', 'ephemeral-storage': '101430960Ki', memory: '32734064Ki', pods: '16384' },
        conditions: [
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: b.timestamp(7000), lastTransitionTime: b.timestamp(0) },
          { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', lastHeartbeatTime: b.timestamp(7000), lastTransitionTime: b.timestamp(0) },
          { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', lastHeartbeatTime: b.timestamp(7000), lastTransitionTime: b.timestamp(0) },
          { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: b.timestamp(7000), lastTransitionTime: b.timestamp(20) },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          architecture: 'amd64',
          containerRuntimeVersion: 'containerd://2.0.3',
          kernelVersion: '6.8.0-60-generic',
          kubeProxyVersion: kubeletVersion,
          kubeletVersion,
          operatingSystem: 'linux',
          osImage: 'Debian GNU/Linux 12 (bookworm)',
          machineID: safeHash(`${node.name}/machine`, 32),
          systemUUID: uidOf(`${node.name}/system`),
          bootID: uidOf(`${node.name}/boot`),
        },
      },
    });
  }
}

/** A ServiceAccount. */
export function addServiceAccount(b: ClusterBuilder, namespace: string, name: string, labels: Labels = {}): KubeObject {
  return b.add({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: b.meta('ServiceAccount', name, namespace, Object.keys(labels).length ? { labels } : {}),
  });
}

/** A ConfigMap. */
export function addConfigMap(b: ClusterBuilder, namespace: string, name: string, data: Record<string, string>, labels: Labels = {}): KubeObject {
  return b.add({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: b.meta('ConfigMap', name, namespace, Object.keys(labels).length ? { labels } : {}),
    data,
  });
}

/** A Secret; `data` values are plain text, stored base64 as the API serves them. */
export function addSecret(
  b: ClusterBuilder,
  namespace: string,
  name: string,
  data: Record<string, string>,
  opts: { type?: string; labels?: Labels; annotations?: Labels } = {},
): KubeObject {
  const encoded: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) encoded[k] = Buffer.from(v).toString('base64');
  return b.add({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: b.meta('Secret', name, namespace, {
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    }),
    type: opts.type ?? 'Opaque',
    data: encoded,
  });
}

/** How the pods of a workload are doing. */
export type PodHealth = { state: 'ready' } | { state: 'not-ready' } | { state: 'crash-loop'; restarts: number };

/** A Deployment to create with its ReplicaSet and pods. */
export interface WorkloadSpec {
  namespace: string;
  /** Deployment name. */
  name: string;
  /** Labels of the Deployment object itself. */
  deploymentLabels?: Labels;
  /** Pod template labels; the selector uses `selectorLabels` (default: all of them). */
  podLabels: Labels;
  selectorLabels?: Labels;
  podAnnotations?: Labels;
  replicas: number;
  serviceAccount: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Container[];
  health?: PodHealth;
  /** Schedule on the control-plane node (system pods). */
  controlPlane?: boolean;
  /** Seconds after install the Deployment was created. */
  age?: number;
}

/**
 * A Deployment, its ReplicaSet and its pods, with owner references and statuses that agree with the
 * pods' health. Returns the pods.
 */
export function addWorkload(b: ClusterBuilder, spec: WorkloadSpec): KubeObject[] {
  const health = spec.health ?? { state: 'ready' };
  const selector = spec.selectorLabels ?? spec.podLabels;
  const templateHash = safeHash(`${b.cluster}/${spec.namespace}/${spec.name}/template`, 10);
  const rsName = `${spec.name}-${templateHash}`;
  const age = spec.age ?? 60;
  const ready = health.state === 'ready' ? spec.replicas : 0;
  const podTemplate = {
    metadata: {
      labels: spec.podLabels,
      ...(spec.podAnnotations ? { annotations: spec.podAnnotations } : {}),
    },
    spec: {
      containers: spec.containers,
      ...(spec.initContainers ? { initContainers: spec.initContainers } : {}),
      serviceAccountName: spec.serviceAccount,
      ...(spec.volumes ? { volumes: spec.volumes } : {}),
    },
  };

  const deployment = b.add({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: b.meta('Deployment', spec.name, spec.namespace, {
      labels: spec.deploymentLabels ?? spec.podLabels,
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      generation: 1,
    }, age),
    spec: {
      progressDeadlineSeconds: 600,
      replicas: spec.replicas,
      revisionHistoryLimit: 10,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: podTemplate,
    },
    status: {
      observedGeneration: 1,
      replicas: spec.replicas,
      updatedReplicas: spec.replicas,
      ...(ready ? { readyReplicas: ready, availableReplicas: ready } : { unavailableReplicas: spec.replicas }),
      conditions: [
        ready
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastTransitionTime: b.timestamp(age + 30), lastUpdateTime: b.timestamp(age + 30) }
          : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastTransitionTime: b.timestamp(age), lastUpdateTime: b.timestamp(age) },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.`, lastTransitionTime: b.timestamp(age), lastUpdateTime: b.timestamp(age + 30) },
      ],
    },
  });

  const rs = b.add({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: b.meta('ReplicaSet', rsName, spec.namespace, {
      labels: { ...spec.podLabels, 'pod-template-hash': templateHash },
      annotations: { 'deployment.kubernetes.io/desired-replicas': String(spec.replicas), 'deployment.kubernetes.io/max-replicas': String(spec.replicas + 1), 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [ownerRef('apps/v1', 'Deployment', deployment)],
      generation: 1,
    }, age),
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { ...selector, 'pod-template-hash': templateHash } },
      template: { ...podTemplate, metadata: { ...podTemplate.metadata, labels: { ...spec.podLabels, 'pod-template-hash': templateHash } } },
    },
    status: {
      observedGeneration: 1,
      replicas: spec.replicas,
      fullyLabeledReplicas: spec.replicas,
      ...(ready ? { readyReplicas: ready, availableReplicas: ready } : {}),
    },
  });

  const pods: KubeObject[] = [];
  for (let i = 0; i < spec.replicas; i++) {
    const node = b.pickNode(spec.controlPlane);
    const podName = `${rsName}-${safeHash(`${b.cluster}/${rsName}/${i}`, 5)}`;
    pods.push(b.add(buildPod(b, spec, podTemplate.metadata, podName, node, rs, 'ReplicaSet', templateHash, health, age + 5)));
  }
  return pods;
}

/**
 * A DaemonSet and one pod on every node (the ztunnel chart tolerates every taint, so the control
 * plane too), with a status that agrees with the pods' health. Returns the pods.
 */
export function addDaemonSet(b: ClusterBuilder, spec: Omit<WorkloadSpec, 'replicas' | 'controlPlane'>): KubeObject[] {
  const health = spec.health ?? { state: 'ready' };
  const selector = spec.selectorLabels ?? spec.podLabels;
  const revisionHash = safeHash(`${b.cluster}/${spec.namespace}/${spec.name}/daemonset`, 10);
  const age = spec.age ?? 60;
  const nodes = b.nodes.length;
  const ready = health.state === 'ready' ? nodes : 0;
  const podTemplate = {
    metadata: { labels: spec.podLabels, ...(spec.podAnnotations ? { annotations: spec.podAnnotations } : {}) },
    spec: {
      containers: spec.containers,
      ...(spec.initContainers ? { initContainers: spec.initContainers } : {}),
      serviceAccountName: spec.serviceAccount,
      tolerations: [{ effect: 'NoSchedule', operator: 'Exists' }, { key: 'CriticalAddonsOnly', operator: 'Exists' }, { effect: 'NoExecute', operator: 'Exists' }],
      ...(spec.volumes ? { volumes: spec.volumes } : {}),
    },
  };
  const ds = b.add({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: b.meta('DaemonSet', spec.name, spec.namespace, { labels: spec.deploymentLabels ?? spec.podLabels, annotations: { 'deprecated.daemonset.template.generation': '1' }, generation: 1 }, age),
    spec: {
      revisionHistoryLimit: 10,
      selector: { matchLabels: selector },
      template: podTemplate,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
    },
    status: {
      currentNumberScheduled: nodes,
      desiredNumberScheduled: nodes,
      numberAvailable: ready,
      numberMisscheduled: 0,
      numberReady: ready,
      ...(ready < nodes ? { numberUnavailable: nodes - ready } : {}),
      observedGeneration: 1,
      updatedNumberScheduled: nodes,
    },
  });
  const pods: KubeObject[] = [];
  for (const node of b.nodes) {
    const podName = `${spec.name}-${safeHash(`${b.cluster}/${spec.name}/${node.name}`, 5)}`;
    const pod = buildPod(b, { ...spec, replicas: nodes }, podTemplate.metadata, podName, node, ds, 'DaemonSet', revisionHash, health, age + 5);
    pod.metadata.labels = { ...spec.podLabels, 'controller-revision-hash': revisionHash, 'pod-template-generation': '1' };
    pod.spec.tolerations = podTemplate.spec.tolerations;
    pods.push(b.add(pod));
  }
  return pods;
}

function ownerRef(apiVersion: string, kind: string, owner: KubeObject) {
  return { apiVersion, kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function buildPod(
  b: ClusterBuilder,
  spec: WorkloadSpec,
  template: { labels: Labels; annotations?: Labels },
  name: string,
  node: LabNode,
  rs: KubeObject,
  ownerKind: 'ReplicaSet' | 'DaemonSet',
  templateHash: string,
  health: PodHealth,
  age: number,
): KubeObject {
  const podIP = b.allocatePodIP(node);
  const started = b.timestamp(age);
  const running = b.timestamp(age + 8);
  const ready = health.state === 'ready';

  const statusOf = (c: Container, isInit: boolean) => {
    // An init container with restartPolicy Always is a native sidecar: it keeps running.
    const sidecar = isInit && c.restartPolicy === 'Always';
    const base = { name: c.name, image: c.image, imageID: `${c.image}@sha256:${safeHash(c.image, 8)}${'0'.repeat(56)}`, containerID: `containerd://${safeHash(`${name}/${c.name}`, 16)}${'0'.repeat(48)}` };
    if (isInit && !sidecar) {
      return { ...base, ready: true, restartCount: 0, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: started } } };
    }
    if (health.state === 'crash-loop' && c.name === spec.containers[0].name) {
      return {
        ...base,
        ready: false,
        restartCount: health.restarts,
        started: false,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=${c.name} pod=${name}_${spec.namespace}(${uidOf(`${b.cluster}/Pod/${spec.namespace}/${name}`)})` } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: b.timestamp(7000), finishedAt: b.timestamp(7003) } },
      };
    }
    return { ...base, ready, restartCount: 0, started: true, state: { running: { startedAt: running } } };
  };

  const conditionStatus = ready ? 'True' : 'False';
  const notReadyReason = ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${spec.containers[0].name}]` };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: b.meta('Pod', name, spec.namespace, {
      labels: { ...template.labels, 'pod-template-hash': templateHash },
      ...(template.annotations ? { annotations: template.annotations } : {}),
      generateName: `${rs.metadata.name}-`,
      ownerReferences: [ownerRef('apps/v1', ownerKind, rs)],
    }, age),
    spec: {
      containers: spec.containers,
      ...(spec.initContainers ? { initContainers: spec.initContainers } : {}),
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      nodeName: node.name,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: spec.serviceAccount,
      serviceAccountName: spec.serviceAccount,
      terminationGracePeriodSeconds: 30,
      tolerations: [
        { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
        { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
      ],
      ...(spec.volumes ? { volumes: spec.volumes } : {}),
    },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: started },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: started },
        { type: 'Ready', status: conditionStatus, lastProbeTime: null, lastTransitionTime: running, ...notReadyReason },
        { type: 'ContainersReady', status: conditionStatus, lastProbeTime: null, lastTransitionTime: running, ...notReadyReason },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: started },
      ],
      hostIP: node.internalIP,
      hostIPs: [{ ip: node.internalIP }],
      podIP,
      podIPs: [{ ip: podIP }],
      qosClass: 'Burstable',
      startTime: started,
      containerStatuses: spec.containers.map((c) => statusOf(c, false)),
      ...(spec.initContainers ? { initContainerStatuses: spec.initContainers.map((c) => statusOf(c, true)) } : {}),
    },
  };
}

/** A Service port. */
export interface ServicePort {
  name: string;
  port: number;
  targetPort?: number;
  protocol?: string;
  appProtocol?: string;
  nodePort?: number;
}

/** A Service to create; Endpoints and EndpointSlices come later from `addEndpointsForServices`. */
export interface ServiceSpec {
  namespace: string;
  name: string;
  labels?: Labels;
  annotations?: Labels;
  /** Omitted = a Service without selector (its endpoints are managed by hand). */
  selector?: Labels;
  ports: ServicePort[];
  type?: 'ClusterIP' | 'LoadBalancer' | 'NodePort';
  headless?: boolean;
  /** LoadBalancer ingress IP; omitted on a LoadBalancer = pending. */
  loadBalancerIP?: string;
  /** A fixed ClusterIP (kubernetes, kube-dns); default: the next free one. */
  clusterIP?: string;
}

/** A Service object. */
export function addService(b: ClusterBuilder, spec: ServiceSpec): KubeObject {
  const type = spec.type ?? 'ClusterIP';
  const clusterIP = spec.headless ? 'None' : (spec.clusterIP ?? b.allocateServiceIP());
  let nodePort = 30000 + b.index * 1000 + (b.objects.length % 900);
  const ports = spec.ports.map((p) => ({
    name: p.name,
    port: p.port,
    protocol: p.protocol ?? 'TCP',
    targetPort: p.targetPort ?? p.port,
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    ...(type !== 'ClusterIP' ? { nodePort: p.nodePort ?? nodePort++ } : {}),
  }));
  return b.add({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: b.meta('Service', spec.name, spec.namespace, {
      ...(spec.labels ? { labels: spec.labels } : {}),
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    }),
    spec: {
      clusterIP,
      clusterIPs: [clusterIP],
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports,
      ...(spec.selector ? { selector: spec.selector } : {}),
      sessionAffinity: 'None',
      type,
      ...(type === 'LoadBalancer' ? { allocateLoadBalancerNodePorts: true, externalTrafficPolicy: 'Cluster' } : {}),
    },
    status: { loadBalancer: spec.loadBalancerIP && type === 'LoadBalancer' ? { ingress: [{ ip: spec.loadBalancerIP, ipMode: 'VIP' }] } : {} },
  });
}

/** One address behind a Service. */
export interface EndpointAddress {
  ip: string;
  ready: boolean;
  nodeName?: string;
  targetRef?: { kind: string; name: string; namespace: string; uid?: string };
}

/** Ports of an Endpoints/EndpointSlice for a Service: target ports, keeping names and protocols. */
function endpointPorts(service: KubeObject) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (service.spec.ports as any[]).map((p) => ({
    name: p.name,
    port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
    protocol: p.protocol,
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
  }));
}

/** Endpoints and EndpointSlice(s) of a Service for given addresses. */
export function addEndpointObjects(b: ClusterBuilder, service: KubeObject, addresses: EndpointAddress[], ports = endpointPorts(service)): void {
  const { name, namespace } = service.metadata;
  const toAddress = (a: EndpointAddress) => ({ ip: a.ip, ...(a.nodeName ? { nodeName: a.nodeName } : {}), ...(a.targetRef ? { targetRef: a.targetRef } : {}) });
  const readyAddresses = addresses.filter((a) => a.ready).map(toAddress);
  const notReadyAddresses = addresses.filter((a) => !a.ready).map(toAddress);
  const labels = { ...(service.metadata.labels ?? {}) };
  if (service.spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  const managed = Boolean(service.spec.selector);
  b.add({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: b.meta('Endpoints', name, namespace, {
      labels,
      ...(managed ? { annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': b.timestamp(90) } } : {}),
    }),
    ...(addresses.length
      ? { subsets: [{ ...(readyAddresses.length ? { addresses: readyAddresses } : {}), ...(notReadyAddresses.length ? { notReadyAddresses } : {}), ports }] }
      : {}),
  });

  // EndpointSlices hold at most 100 endpoints each, as the controller makes them.
  const chunks: EndpointAddress[][] = [];
  for (let i = 0; i < addresses.length; i += 100) chunks.push(addresses.slice(i, i + 100));
  if (!chunks.length) chunks.push([]);
  chunks.forEach((chunk, i) => {
    const sliceName = `${name}-${safeHash(`${b.cluster}/${namespace}/${name}/slice/${i}`, 5)}`;
    b.add({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: b.meta('EndpointSlice', sliceName, namespace, {
        generateName: `${name}-`,
        labels: {
          ...labels,
          'kubernetes.io/service-name': name,
          'endpointslice.kubernetes.io/managed-by': managed ? 'endpointslice-controller.k8s.io' : 'lab.meshdoctor.io',
        },
        ...(managed ? { ownerReferences: [ownerRef('v1', 'Service', service)] } : {}),
      }),
      addressType: 'IPv4',
      endpoints: chunk.map((a) => ({
        addresses: [a.ip],
        conditions: { ready: a.ready, serving: a.ready, terminating: false },
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
        ...(a.targetRef ? { targetRef: a.targetRef } : {}),
      })),
      ports,
    });
  });
}

function matches(labels: Labels | undefined, selector: Labels): boolean {
  if (!labels) return false;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/**
 * Endpoints and EndpointSlices for every Service with a selector, from the pods it selects (ready
 * when the pod's Ready condition is True). Call after every pod exists and faults touched them.
 */
export function addEndpointsForServices(b: ClusterBuilder): void {
  const podsByNamespace = new Map<string, KubeObject[]>();
  const services: KubeObject[] = [];
  for (const obj of b.objects) {
    if (obj.kind === 'Pod') {
      const ns = obj.metadata.namespace ?? '';
      let list = podsByNamespace.get(ns);
      if (!list) podsByNamespace.set(ns, (list = []));
      list.push(obj);
    } else if (obj.kind === 'Service' && obj.spec.selector) {
      services.push(obj);
    }
  }
  for (const service of services) {
    const pods = (podsByNamespace.get(service.metadata.namespace ?? '') ?? []).filter((p) => matches(p.metadata.labels, service.spec.selector));
    const addresses = pods.map((p) => ({
      ip: p.status.podIP as string,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      ready: (p.status.conditions as any[]).some((c) => c.type === 'Ready' && c.status === 'True'),
      nodeName: p.spec.nodeName as string,
      targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace as string, uid: p.metadata.uid },
    }));
    addEndpointObjects(b, service, addresses);
  }
}
