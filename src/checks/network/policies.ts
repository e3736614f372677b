// Encodes Kubernetes NetworkPolicy semantics (https://kubernetes.io/docs/concepts/services-networking/network-policies/) for the ports of https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio.
import { defineCheck } from '../../engine/define-check.ts';
import type { KubeObject } from '../../cluster/types.ts';
import type { ContextOf } from '../../engine/types.ts';
import { ISTIOD_PORTS, findIstiodDeployments, podsOfWorkload, servicePorts } from '../../mesh/istio-objects.ts';
import { resolvePodPort } from '../../mesh/istio-gateways.ts';
import { clusterEastWestGateways, gatewayPods, type EastWestGateway } from '../../mesh/eastwest-gateways.ts';
import { evaluateIngress, ingressPoliciesFor, type PortVerdict } from '../../mesh/kubernetes-network-policy.ts';
import { dataPlaneSkipReason } from '../../mesh/roles.ts';

const check = defineCheck({
  id: 'network/policies',
  category: 'network',
  scope: 'cluster',
  // An external control plane cluster runs no proxies of the mesh.
  appliesTo: dataPlaneSkipReason,
  needs: ['networkpolicies', 'pods', 'services', 'deployments', 'k8sgateways', 'configmaps'],
  meta: {
    description: 'NetworkPolicies let cross-network traffic into the east-west gateway (15443, and 15012/15017 for remotes) and istiod (15012, 15017)',
    details:
      'A pod selected by any NetworkPolicy with an Ingress type (policyTypes Ingress, or no policyTypes at all) only ' +
      'accepts what some rule of those policies allows; an empty ingress list allows nothing, and policies add up. ' +
      'A rule allows a port when it has no ports, or a port entry with the same protocol (TCP by default) whose number ' +
      'matches, whose port..endPort range holds it, or whose name is a containerPort name of the pod. Traffic from other ' +
      'clusters reaches the east-west gateway through its load balancer or a NodePort, so it arrives from a node address ' +
      '(externalTrafficPolicy Cluster) or the remote client\'s address (Local): never from a pod of this cluster. So a rule ' +
      'admits it only with no `from` at all or with an ipBlock peer; podSelector/namespaceSelector peers never match it ' +
      '(error), and ipBlocks other than 0.0.0.0/0 admit it only when they hold the peers\' addresses, which meshdoctor ' +
      'cannot see (warning). istiod is reached by this cluster\'s sidecars and gateway pods as well, so for istiod any ' +
      'rule that admits the port counts. The gateway\'s cross-network port (15443) is judged in multi-network meshes only; ' +
      'on a primary serving remote clusters, the gateway ports that expose istiod to them (15012, 15017) are judged too. ' +
      'A Service targetPort naming a container port the pod does not declare cannot be judged and is reported. ' +
      'Policies of CNI-specific kinds (Calico, Cilium, AdminNetworkPolicy) are not read.',
    docs: 'https://kubernetes.io/docs/concepts/services-networking/network-policies/',
    messages: {
      policyBlocksGateway: {
        template: 'NetworkPolicies {{policies}} select east-west gateway pod {{pod}} and {{reason}} on port {{port}}: {{consequence}}',
        severity: 'error',
        hint:
          'Allow the port from anywhere in one of them (or a new policy): kubectl --context {{context}} -n {{namespace}} apply -f - with ' +
          'spec: {podSelector: {matchLabels: {{labels}}}, policyTypes: [Ingress], ingress: [{ports: [{port: {{port}}, protocol: TCP}]}]}',
      },
      policyRestrictsGatewaySources: {
        template: 'NetworkPolicies {{policies}} admit port {{port}} of east-west gateway pod {{pod}} only from {{cidrs}}: other networks\' traffic passes only if it comes from those ranges',
        severity: 'warning',
        hint:
          'Make sure the ranges hold the addresses traffic arrives from (node addresses with externalTrafficPolicy Cluster, the peers\' egress addresses with Local): ' +
          'kubectl --context {{context}} -n {{namespace}} get networkpolicy {{first}} -o yaml',
      },
      policyPortUnresolved: {
        template:
          'East-west gateway {{gateway}} sends port {{servicePort}} to the container port named {{portName}}, which pod {{pod}} does not declare: the NetworkPolicies {{policies}} selecting it cannot be judged, and Kubernetes sends that pod no traffic on the port',
        severity: 'warning',
        hint:
          'Compare the Service\'s targetPort with the pod\'s container ports: kubectl --context {{context}} -n {{namespace}} get service {{name}} -o jsonpath=\'{.spec.ports}\'; ' +
          'kubectl --context {{context}} -n {{namespace}} get pod {{podName}} -o jsonpath=\'{.spec.containers[*].ports}\'. Name the container port or use a number.',
      },
      policyBlocksIstiod: {
        template: 'NetworkPolicies {{policies}} select istiod pod {{pod}} and no rule admits port {{port}}: {{consequence}}',
        severity: 'error',
        hint:
          'Allow the port: kubectl --context {{context}} -n {{namespace}} apply -f - with ' +
          'spec: {podSelector: {matchLabels: {app: istiod}}, policyTypes: [Ingress], ingress: [{ports: [{port: 15012, protocol: TCP}, {port: 15017, protocol: TCP}]}]}',
      },
    },
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const policies = await reader.listOptional('networkpolicies');
    if (policies.length === 0) return;
    const [pods, deployments, gateways] = await Promise.all([reader.list('pods'), reader.list('deployments'), clusterEastWestGateways(ctx, reader)]);
    const info = ctx.clusterInfo;
    const context = info?.context ?? reader.name;
    // Remotes reach this primary's istiod through the east-west gateway (expose-istiod.yaml), networks or not.
    const servesRemotes = info?.role === 'primary' && ctx.clusterInfos.some((c) => c.role === 'remote' && c.reachable);

    for (const workload of gateways) {
      const reported = new Set<string>();
      for (const { port: servicePort, podPort, consequence } of gatewayPortsToJudge(workload, ctx.mesh.multiNetwork, servesRemotes)) {
        for (const pod of gatewayPods(workload, pods)) {
          const port = resolvePodPort(pod, podPort);
          if (port === undefined) {
            const selecting = ingressPoliciesFor(pod, policies).map((p) => p.metadata.name);
            if (selecting.length > 0 && !reported.has(`unresolved:${podPort}`)) {
              reported.add(`unresolved:${podPort}`);
              ctx.report({
                messageId: 'policyPortUnresolved',
                resource: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name },
                data: {
                  gateway: `${workload.namespace}/${workload.name}`,
                  servicePort,
                  portName: String(podPort),
                  pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
                  podName: pod.metadata.name,
                  policies: selecting.join(', '),
                  context,
                  namespace: workload.namespace,
                  name: workload.name,
                },
              });
            }
            continue;
          }
          const verdict = evaluateIngress(pod, port, policies);
          // Replicas share labels and ports: one finding per workload, port and verdict.
          const key = JSON.stringify([port, verdict]);
          if (reported.has(key)) continue;
          reported.add(key);
          reportGateway(ctx, pod, port, verdict, { context, labels: JSON.stringify(workload.selector), consequence });
        }
      }
    }

    const istiodPods = findIstiodDeployments(deployments).flatMap((d) => podsOfWorkload(d, pods));
    for (const port of ISTIOD_PORTS) {
      const reported = new Set<string>();
      for (const pod of istiodPods) {
        const verdict = evaluateIngress(pod, port, policies);
        if (verdict.portAdmitted) continue;
        const key = verdict.policies.join(',');
        if (reported.has(key)) continue;
        reported.add(key);
        ctx.report({
          messageId: 'policyBlocksIstiod',
          resource: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name },
          data: {
            policies: verdict.policies.join(', '),
            pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
            port,
            consequence: port === 15012 ? 'proxies (and remote clusters) cannot get config or certificates' : 'the API server cannot call the injection and validation webhooks',
            context,
            namespace: pod.metadata.namespace ?? '',
          },
        });
      }
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/**
 * The gateway ports whose traffic comes from other clusters: the cross-network port in a
 * multi-network mesh, and the istiod ports the gateway Service exposes when this primary serves remotes.
 */
function gatewayPortsToJudge(workload: EastWestGateway, multiNetwork: boolean, servesRemotes: boolean): { port: number; podPort: number | string; consequence: string }[] {
  const service = workload.service;
  const ports: { port: number; podPort: number | string; consequence: string }[] = [];
  if (multiNetwork) ports.push({ port: workload.gatewayPort, podPort: workload.podPort, consequence: 'cross-network traffic is dropped' });
  if (servesRemotes && service) {
    for (const port of ISTIOD_PORTS) {
      const servicePort = servicePorts(service).find((p) => p.port === port);
      if (!servicePort) continue;
      ports.push({
        port,
        podPort: servicePort.targetPort ?? port,
        consequence: port === 15012 ? 'remote proxies cannot reach istiod for config and certificates' : 'remote API servers cannot call the injection webhook',
      });
    }
  }
  return ports;
}

function reportGateway(ctx: Ctx, pod: KubeObject, port: number, verdict: PortVerdict, extra: { context: string; labels: string; consequence: string }): void {
  const resource = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name };
  const data = {
    policies: verdict.policies.join(', '),
    first: verdict.policies[0],
    pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
    port,
    namespace: pod.metadata.namespace ?? '',
    ...extra,
  };
  if (!verdict.portAdmitted) {
    ctx.report({ messageId: 'policyBlocksGateway', resource, data: { ...data, reason: 'no ingress rule admits traffic' } });
  } else if (verdict.external?.kind === 'in-cluster-only') {
    ctx.report({ messageId: 'policyBlocksGateway', resource, data: { ...data, reason: 'their rules admit only pods or namespaces of this cluster (podSelector/namespaceSelector)' } });
  } else if (verdict.external?.kind === 'cidrs') {
    ctx.report({ messageId: 'policyRestrictsGatewaySources', resource, data: { ...data, cidrs: verdict.external.cidrs.join(', ') } });
  }
}
