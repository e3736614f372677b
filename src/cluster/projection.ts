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

function projectContainer(container: unknown): unknown {
  if (!isRecord(container)) return container;
  const out = without(container, UNREAD_CONTAINER);
  // An env var set through valueFrom counts as set, its value unreadable (containerEnv): where it comes
  // from (a fieldRef per var, most of a sidecar's env) is never read.
  if (Array.isArray(out.env)) out.env = out.env.map((e: unknown) => (isRecord(e) && e.valueFrom !== undefined ? { ...e, valueFrom: {} } : e));
  return out;
}

/** The fields of a listed object that checks read; the object itself when its kind needs no projection. */
export function projectListItem(kind: ResourceKindName, obj: KubeObject): KubeObject {
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
