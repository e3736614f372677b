// Deterministic construction of one cluster's objects: uids, resourceVersions, timestamps, pod names
// and IPs derive from the cluster index and object names, so two builds of a scenario agree
// (apart from key material and the build time).
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../cluster/types.ts';

// Kubernetes' SafeEncodeString alphabet: pod-template-hash and pod name suffixes use it.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** SHA-256 hex of a string. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A deterministic RFC 4122-shaped uid for a seed. */
export function uidOf(seed: string): string {
  const h = digest(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `length` characters of the safe alphabet, derived from a seed (like a pod-template-hash). */
export function safeHash(seed: string, length: number): string {
  const h = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += SAFE_ALPHABET[h[i % h.length] % SAFE_ALPHABET.length];
  return out;
}

/** An IPv4 address from a base `a.b.0.0` and an offset inside that /16 or wider block. */
export function ipAt(base: [number, number], offset: number): string {
  return `${base[0]}.${base[1] + Math.floor(offset / 65536)}.${Math.floor(offset / 256) % 256}.${offset % 256}`;
}

/** One node of a simulated cluster. */
export interface LabNode {
  name: string;
  internalIP: string;
  externalIP: string;
  /** Pod CIDR of the node (a /18 of the cluster's /16). */
  podCIDR: string;
  /** Second octets pair of the node's pod range and the next offset to hand out. */
  podBase: [number, number];
  podOffset: number;
  nextPodIndex: number;
  controlPlane: boolean;
}

/** Collects a cluster's objects and hands out deterministic metadata. */
export class ClusterBuilder {
  readonly cluster: string;
  readonly index: number;
  readonly objects: KubeObject[] = [];
  readonly nodes: LabNode[] = [];
  private resourceVersion: number;
  private readonly installedAt: number;
  private nextServiceIP = 10;
  private nextWorkerIndex = 0;

  constructor(cluster: string, index: number, now: Date) {
    this.cluster = cluster;
    this.index = index;
    // Distinct resourceVersion ranges per cluster, like separate etcds.
    this.resourceVersion = 1000 * index + 400;
    // The "install" happened two hours before the build: objects show a plausible age.
    this.installedAt = Math.floor(now.getTime() / 1000) * 1000 - 2 * 3600 * 1000;
  }

  /** Second octet of this cluster's pod /16 (10.<n>.0.0/16): 10, 20, ... 100. */
  get podOctet(): number {
    return this.index * 10;
  }

  /** The cluster's pod CIDR. */
  get podCIDR(): string {
    return `10.${this.podOctet}.0.0/16`;
  }

  /** The cluster's Service CIDR (10.<100+10n>.0.0/16). */
  get serviceCIDR(): string {
    return `10.${100 + this.index * 10}.0.0/16`;
  }

  /** Metadata with uid, creationTimestamp and resourceVersion filled in. */
  meta(kind: string, name: string, namespace: string | undefined, extra: Partial<KubeObject['metadata']> = {}, ageSeconds = 0): KubeObject['metadata'] {
    this.resourceVersion += 1;
    return {
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      uid: uidOf(`${this.cluster}/${kind}/${namespace ?? ''}/${name}`),
      resourceVersion: String(this.resourceVersion),
      creationTimestamp: this.timestamp(ageSeconds),
      ...extra,
    };
  }

  /** An RFC 3339 time `secondsAfterInstall` after the install moment (no fractional seconds, as the API shows). */
  timestamp(secondsAfterInstall = 0): string {
    return new Date(this.installedAt + secondsAfterInstall * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Add an object. */
  add(obj: KubeObject): KubeObject {
    this.objects.push(obj);
    return obj;
  }

  /** Add nodes: one control-plane and `workers` workers, kind-style names. */
  addNodes(workers: number): void {
    const all = [{ name: `${this.cluster}-control-plane`, controlPlane: true }];
    for (let i = 1; i <= workers; i++) all.push({ name: `${this.cluster}-worker${i === 1 ? '' : i}`, controlPlane: false });
    all.forEach((n, i) => {
      // Each node gets a /18 of the cluster's /16: 4 nodes max, 16k pods each.
      const third = i * 64;
      this.nodes.push({
        name: n.name,
        controlPlane: n.controlPlane,
        internalIP: `172.18.${this.index}.${i + 2}`,
        externalIP: `203.0.113.${this.index * 10 + i}`,
        podCIDR: `10.${this.podOctet}.${third}.0/18`,
        podBase: [10, this.podOctet],
        podOffset: third * 256,
        nextPodIndex: 0,
      });
    });
  }

  /** The next worker node (round robin), or the control plane for system pods. */
  pickNode(controlPlane = false): LabNode {
    if (controlPlane) return this.nodes[0];
    const workers = this.nodes.filter((n) => !n.controlPlane);
    const node = workers[this.nextWorkerIndex % workers.length];
    this.nextWorkerIndex += 1;
    return node;
  }

  /** The next pod IP on a node (inside the node's pod CIDR). */
  allocatePodIP(node: LabNode): string {
    node.nextPodIndex += 1;
    const [a, b] = node.podBase;
    // .0 and .1 of the range are the network and the bridge.
    return ipAt([a, b], node.podOffset + node.nextPodIndex + 1);
  }

  /** The n-th address of the Service CIDR (1 is `kubernetes`, 10 is kube-dns). */
  serviceIP(n: number): string {
    return ipAt([10, 100 + this.index * 10], n);
  }

  /** The next ClusterIP of the Service CIDR. */
  allocateServiceIP(): string {
    this.nextServiceIP += 1;
    return ipAt([10, 100 + this.index * 10], this.nextServiceIP);
  }
}
