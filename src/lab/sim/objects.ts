// Small, pure helpers over Kubernetes objects that the simulation needs everywhere: label selectors,
// pod readiness, sidecar detection, secret data, and stable hashes for deterministic fake values.
import type { KubeObject } from '../../cluster/types.ts';

/** `ns/name` key of a namespaced object. */
export function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/** True when every `key: value` of a plain selector is in the labels (an empty selector matches nothing). */
export function matchesSelector(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** A Kubernetes LabelSelector (`matchLabels` + `matchExpressions`); an empty one matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether labels satisfy a LabelSelector. */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(l[e.key]))) return false;
    if (e.operator === 'NotIn' && has && values.includes(l[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A pod is Ready when its Ready condition is True (or, lacking conditions, it is Running with all containers ready). */
export function podReady(pod: KubeObject): boolean {
  if (pod.status?.phase !== 'Running') return false;
  const conditions: { type: string; status: string }[] = pod.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready) return ready.status === 'True';
  const statuses: { ready?: boolean }[] = pod.status?.containerStatuses ?? [];
  return statuses.every((s) => s.ready !== false);
}

/** Whether a container of a pod is running (state.running, or no status to tell otherwise while the pod runs). */
export function containerRunning(pod: KubeObject, container: string): boolean {
  const statuses: { name: string; ready?: boolean; state?: Record<string, unknown> }[] = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ];
  const status = statuses.find((s) => s.name === container);
  if (!status) return pod.status?.phase === 'Running';
  return Boolean(status.state?.running);
}

/** A pod has a sidecar when the injector stamped `sidecar.istio.io/status` on it. */
export function hasSidecar(pod: KubeObject): boolean {
  return Boolean(pod.metadata.annotations?.['sidecar.istio.io/status']);
}

/** Every container spec of a pod, native sidecars (init containers) included. */
export function containersOf(pod: KubeObject): { name: string; image?: string; env?: { name: string; value?: string }[]; ports?: { name?: string; containerPort: number }[] }[] {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
}

/** The pod's `istio-proxy` container (regular or native sidecar), if any. */
export function proxyContainer(pod: KubeObject): ReturnType<typeof containersOf>[number] | undefined {
  return containersOf(pod).find((c) => c.name === 'istio-proxy');
}

/** Decoded text of a Secret key (`data` is base64, `stringData` plain). */
export function secretText(secret: KubeObject | undefined, key: string): string | undefined {
  if (!secret) return undefined;
  const b64 = secret.data?.[key];
  if (typeof b64 === 'string') return Buffer.from(b64, 'base64').toString('utf8');
  const plain = secret.stringData?.[key];
  return typeof plain === 'string' ? plain : undefined;
}

/** FNV-1a 32-bit hash: stable fake values (nonces, latencies, resolved IPs) from names. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A UUID-shaped nonce derived from a seed (what istiod's nonces look like). */
export function stableUuid(seed: string): string {
  const hex = [0, 1, 2, 3].map((i) => stableHash(`${seed}#${i}`).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The stable IP a load balancer hostname "resolves" to (istiod resolves gateway hostnames). */
export function resolveFakeHostname(hostname: string): string {
  const h = stableHash(hostname);
  return `203.0.113.${(h % 250) + 1}`;
}

/** Whether a string is an IPv4 literal. */
export function isIPv4(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text);
}

/** The version in an image reference's tag (`docker.io/istio/proxyv2:1.29.2` -> `1.29.2`). */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const last = image.split('/').pop() ?? '';
  const at = last.indexOf(':');
  return at >= 0 ? last.slice(at + 1).split('@')[0] : undefined;
}

/** The workload (Deployment) name of a pod: its ReplicaSet owner without the template hash. */
export function workloadNameOf(pod: KubeObject): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  if (owner?.kind === 'ReplicaSet') return owner.name.replace(/-[a-z0-9]{5,10}$/, '');
  if (owner) return owner.name;
  return pod.metadata.name;
}
