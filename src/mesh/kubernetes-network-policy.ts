// Kubernetes NetworkPolicy ingress semantics (https://kubernetes.io/docs/concepts/services-networking/network-policies/),
// evaluated for one pod and one port: which policies select the pod, whether it is isolated for
// ingress, and what sources the rules admit on that port. Policies are additive: traffic is allowed
// when any rule of any selecting policy allows it.
import type { KubeObject } from '../cluster/types.ts';
import { labelsOf } from './istio-objects.ts';
import { labelSelectorMatches, type LabelSelector } from './labels.ts';

interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface IngressRule {
  ports?: PolicyPort[];
  from?: PolicyPeer[];
}

/** Whether a policy restricts ingress: `Ingress` in policyTypes, or policyTypes unset (Ingress is then always implied). */
export function isIngressPolicy(policy: KubeObject): boolean {
  const types = policy.spec?.policyTypes;
  return !Array.isArray(types) || types.length === 0 || types.includes('Ingress');
}

/** The NetworkPolicies that isolate `pod` for ingress: same namespace, podSelector matches (`{}` = all pods). */
export function ingressPoliciesFor(pod: KubeObject, policies: KubeObject[]): KubeObject[] {
  return policies.filter(
    (p) => p.metadata.namespace === pod.metadata.namespace && isIngressPolicy(p) && labelSelectorMatches(p.spec?.podSelector ?? {}, labelsOf(pod)),
  );
}

/** Ports the pod's containers declare (named ports resolve against these). */
function containerPorts(pod: KubeObject): { name?: string; containerPort: number; protocol?: string }[] {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as { ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
  return containers.flatMap((c) => (Array.isArray(c.ports) ? c.ports : []));
}

/** Whether one policy port entry covers `port`/`protocol` on `pod`. */
function policyPortCovers(entry: PolicyPort, pod: KubeObject, port: number, protocol: string): boolean {
  if ((entry.protocol ?? 'TCP').toUpperCase() !== protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'number') {
    return entry.endPort !== undefined ? port >= entry.port && port <= entry.endPort : port === entry.port;
  }
  if (/^\d+$/.test(entry.port)) return Number(entry.port) === port;
  // A named port admits whatever container port carries that name (and protocol) on this pod.
  return containerPorts(pod).some((p) => p.name === entry.port && p.containerPort === port && (p.protocol ?? 'TCP').toUpperCase() === protocol);
}

/** Who a rule admits from outside the cluster (traffic through a load balancer or a NodePort). */
export type ExternalAdmission =
  /** Any source: no `from`, an empty `from`, or an ipBlock of the whole address space. */
  | { kind: 'anywhere' }
  /** Only the listed CIDRs: other networks' gateways pass only when their addresses are inside. */
  | { kind: 'cidrs'; cidrs: string[] }
  /** Only pods or namespaces of this cluster: traffic from outside the cluster never matches. */
  | { kind: 'in-cluster-only' };

/** What the NetworkPolicies selecting a pod mean for one port. */
export interface PortVerdict {
  /** Names of the policies that isolate the pod for ingress (sorted); empty = not isolated, all allowed. */
  policies: string[];
  /** Whether any rule admits the port at all (from any source). */
  portAdmitted: boolean;
  /** The widest admission of traffic from outside the cluster on this port. */
  external: ExternalAdmission | undefined;
}

const EVERYWHERE = ['0.0.0.0/0', '::/0'];

function peerAdmission(peers: PolicyPeer[] | undefined): ExternalAdmission {
  if (!Array.isArray(peers) || peers.length === 0) return { kind: 'anywhere' };
  // podSelector / namespaceSelector peers select pods; traffic from another cluster reaches the
  // pod from a node (SNAT, externalTrafficPolicy Cluster) or the remote client's IP (Local):
  // neither is a pod of this cluster, so only ipBlock peers can admit it.
  const cidrs = peers.map((p) => p?.ipBlock).filter((b): b is { cidr: string; except?: string[] } => typeof b?.cidr === 'string');
  if (cidrs.some((b) => EVERYWHERE.includes(b.cidr) && !(b.except?.length))) return { kind: 'anywhere' };
  if (cidrs.length > 0) return { kind: 'cidrs', cidrs: cidrs.map((b) => (b.except?.length ? `${b.cidr} except ${b.except.join(',')}` : b.cidr)) };
  return { kind: 'in-cluster-only' };
}

const ADMISSION_RANK: Record<ExternalAdmission['kind'], number> = { 'in-cluster-only': 0, cidrs: 1, anywhere: 2 };

/**
 * Evaluate ingress to `pod` on `port`/`protocol` under `policies` (all NetworkPolicies of the
 * cluster; those of other namespaces or not selecting the pod are ignored). An isolated pod with
 * an empty or missing `ingress` list admits nothing.
 */
export function evaluateIngress(pod: KubeObject, port: number, policies: KubeObject[], protocol = 'TCP'): PortVerdict {
  const selecting = ingressPoliciesFor(pod, policies);
  const names = selecting.map((p) => p.metadata.name).sort();
  if (selecting.length === 0) return { policies: [], portAdmitted: true, external: { kind: 'anywhere' } };
  let portAdmitted = false;
  let external: ExternalAdmission | undefined;
  const cidrs: string[] = [];
  for (const policy of selecting) {
    const rules = Array.isArray(policy.spec?.ingress) ? (policy.spec.ingress as IngressRule[]) : [];
    for (const rule of rules) {
      const ports = Array.isArray(rule?.ports) ? rule.ports : [];
      if (ports.length > 0 && !ports.some((entry) => policyPortCovers(entry, pod, port, protocol.toUpperCase()))) continue;
      portAdmitted = true;
      const admission = peerAdmission(rule?.from);
      if (admission.kind === 'cidrs') cidrs.push(...admission.cidrs);
      if (!external || ADMISSION_RANK[admission.kind] > ADMISSION_RANK[external.kind]) external = admission;
    }
  }
  if (external?.kind === 'cidrs') external = { kind: 'cidrs', cidrs: [...new Set(cidrs)].sort() };
  return { policies: names, portAdmitted, external };
}
