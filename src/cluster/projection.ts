// What meshdoctor keeps of a listed object (issue 19). A 10,000-pod cluster serves ~80 MB of pod JSON;
// kept whole, three such clusters held over a gigabyte of objects that no check reads (volumes, probes,
// security contexts, managedFields). Lists are projected here, page by page as they arrive, so only
// what checks read stays alive. Blacklist, not whitelist: a field dropped here must be one nothing in
// src/ reads (grep the name before adding it), so that verdicts cannot change.
import type { KubeObject, ResourceKindName } from './types.ts';

/** Pod spec fields no check reads (the scheduler's and kubelet's business, not the mesh's). */
const UNREAD_POD_SPEC = ['volumes', 'tolerations', 'affinity', 'topologySpreadConstraints', 'securityContext', 'overhead', 'readinessGates', 'dnsConfig', 'hostAliases', 'imagePullSecrets', 'resourceClaims'];
/**
 * Container fields no check reads. Kept: name, image, ports, env (valueFrom shortened below),
 * restartPolicy (a native sidecar is an init container with restartPolicy Always).
 */
const UNREAD_CONTAINER = ['args', 'command', 'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'securityContext', 'resources', 'resizePolicy', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'workingDir', 'envFrom', 'stdin', 'tty'];
/**
 * Pod status fields no check reads (readiness and restarts come from conditions and containerStatuses).
 * initContainerStatuses stay: a native sidecar (istio-proxy as an init container with restartPolicy
 * Always) reports its readiness and restarts there.
 */
const UNREAD_POD_STATUS = ['ephemeralContainerStatuses', 'qosClass', 'resize', 'resourceClaimStatuses'];

/** A copy of `obj` without `keys` (a fresh object: deleting would turn V8 objects into slow dictionaries). */
function without(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) if (!keys.includes(key)) out[key] = obj[key];
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a projected valueFrom holds: one shared empty object (frozen: nothing writes to it). */
const UNREAD_VALUE_FROM = Object.freeze({});

function projectContainer(container: unknown): unknown {
  if (!isRecord(container)) return container;
  const out = without(container, UNREAD_CONTAINER);
  // An env var set through valueFrom counts as set, its value unreadable (containerEnv): where it comes
  // from (a fieldRef per var, most of a sidecar's env) is never read.
  if (Array.isArray(out.env)) out.env = out.env.map((e: unknown) => (isRecord(e) && e.valueFrom !== undefined ? { ...e, valueFrom: UNREAD_VALUE_FROM } : e));
  return out;
}

/** Strings longer than this are kept as they are: certificates and the like, rarely shared. */
const MAX_INTERNED_LENGTH = 1024;

/**
 * How deep an object from a cluster or a snapshot may nest. The deepest objects checks read (an
 * EnvoyFilter patch, a CRD schema) stay far below it; the API server stores unknown fields nested up to
 * 10,000 levels (k8s.io/apimachinery v0.36.3 pkg/util/json/json.go:40 maxDepth), which Istio's CRDs
 * allow in `status` (x-kubernetes-preserve-unknown-fields). Whoever may write such a status must not be
 * able to make meshdoctor's recursion (JSON.stringify of a snapshot, YAML, structuredClone) overflow
 * the stack: deeper containers are replaced by TOO_DEEP, once, where an object enters meshdoctor.
 */
export const MAX_OBJECT_DEPTH = 100;
export const TOO_DEEP = `(nested deeper than ${MAX_OBJECT_DEPTH} levels: not kept)`;

/**
 * Replace, in place, every string of `value` (keys aside) by the first equal one `table` has seen
 * (issue 19). JSON.parse makes a new string per value, so 10,000 pods hold 10,000 copies of each
 * sidecar env value, image, label and condition: sharing them halves what a projected pod costs
 * (7.4 kB -> about 3.9 kB of heap). Strings are immutable, so nothing can tell the difference.
 * Containers nested deeper than MAX_OBJECT_DEPTH are cut on the way (limitDepth).
 */
export function internStrings<T>(value: T, table: Map<string, string>): T {
  walkTree(value, table);
  return value;
}

/** `value` with every container nested deeper than MAX_OBJECT_DEPTH replaced by TOO_DEEP, in place. */
export function limitDepth<T>(value: T): T {
  walkTree(value, undefined);
  return value;
}

/** Iterative (an explicit stack, two parallel arrays to allocate nothing per container): depth cannot overflow it. */
function walkTree(root: unknown, table: Map<string, string> | undefined): void {
  const intern = (s: string): string => {
    if (!table || s.length > MAX_INTERNED_LENGTH) return s;
    const seen = table.get(s);
    if (seen !== undefined) return seen;
    table.set(s, s);
    return s;
  };
  if (typeof root !== 'object' || root === null) return;
  const containers: object[] = [root];
  const depths: number[] = [1];
  while (containers.length > 0) {
    const v = containers.pop()!;
    const depth = depths.pop()!;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (typeof item === 'string') v[i] = intern(item);
        else if (typeof item === 'object' && item !== null) {
          if (depth >= MAX_OBJECT_DEPTH) v[i] = TOO_DEEP;
          else {
            containers.push(item);
            depths.push(depth + 1);
          }
        }
      }
    } else if (!Object.isFrozen(v)) {
      const record = v as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        const item = record[key];
        if (typeof item === 'string') record[key] = intern(item);
        else if (typeof item === 'object' && item !== null) {
          if (depth >= MAX_OBJECT_DEPTH) record[key] = TOO_DEEP;
          else {
            containers.push(item);
            depths.push(depth + 1);
          }
        }
      }
    }
  }
}

/**
 * The fields of a listed object that checks read; the object itself when its kind needs no projection.
 * With `strings` (one table per list), its strings are shared with the list's other objects (internStrings).
 */
export function projectListItem(kind: ResourceKindName, obj: KubeObject, strings?: Map<string, string>): KubeObject {
  const projected = project(kind, obj);
  return strings ? internStrings(projected, strings) : projected;
}

function project(kind: ResourceKindName, obj: KubeObject): KubeObject {
  const metadata = obj.metadata && 'managedFields' in obj.metadata ? (without(obj.metadata, ['managedFields']) as KubeObject['metadata']) : obj.metadata;
  if (kind !== 'pods') return metadata === obj.metadata ? obj : { ...obj, metadata };
  const out: KubeObject = { ...obj, metadata };
  if (isRecord(obj.spec)) {
    const spec = without(obj.spec, UNREAD_POD_SPEC);
    for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
      if (Array.isArray(spec[list])) spec[list] = (spec[list] as unknown[]).map(projectContainer);
    }
    out.spec = spec;
  }
  if (isRecord(obj.status)) out.status = without(obj.status, UNREAD_POD_STATUS);
  return out;
}
