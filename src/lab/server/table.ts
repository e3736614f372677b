// Server-side printing: the `Table` kubectl asks for (`Accept: application/json;as=Table;...`) so that
// `kubectl get` shows the usual columns. Column sets follow the real API server's printers, trimmed to
// what the lab's objects carry. Priority-1 columns are the `-o wide` ones.
import type { KubeObject, ResourceKindName } from '../../cluster/types.ts';

/** One column of a Table. */
interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  priority: number;
  description: string;
  cell: (obj: KubeObject, now: number) => string | number;
}

/** What to attach to each row: nothing, the object's metadata (the default), or the whole object. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Does an Accept header ask for a meta.k8s.io/v1 Table? */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('as=Table') && params.includes('g=meta.k8s.io') && (params.includes('v=v1') || params.includes('v=v1beta1'));
  });
}

/** kubectl's human durations: 45s, 5m30s, 45m, 3h20m, 20h, 2d5h, 120d, 2y30d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (days < 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function age(obj: KubeObject, now: number): string {
  const created = obj.metadata.creationTimestamp ? Date.parse(obj.metadata.creationTimestamp) : NaN;
  return Number.isNaN(created) ? '<unknown>' : humanDuration(now - created);
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', priority: 0, description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
const AGE: Column = { name: 'Age', type: 'string', priority: 0, description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', cell: age };

function column(name: string, cell: Column['cell'], priority = 0, type: Column['type'] = 'string'): Column {
  return { name, type, priority, description: name, cell };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function podReady(pod: KubeObject): string {
  const statuses: Any[] = pod.status?.containerStatuses ?? [];
  // Native sidecars (restartable init containers) count like containers, as kubectl shows them.
  const sidecars: Any[] = (pod.spec?.initContainers ?? []).filter((c: Any) => c.restartPolicy === 'Always');
  const sidecarStatuses: Any[] = (pod.status?.initContainerStatuses ?? []).filter((s: Any) => sidecars.some((c) => c.name === s.name));
  const total = (pod.spec?.containers ?? []).length + sidecars.length;
  const ready = [...statuses, ...sidecarStatuses].filter((s) => s.ready).length;
  return `${ready}/${total}`;
}

function podStatus(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  for (const s of (pod.status?.initContainerStatuses ?? []) as Any[]) {
    if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing') return `Init:${s.state.waiting.reason}`;
  }
  for (const s of (pod.status?.containerStatuses ?? []) as Any[]) {
    if (s.state?.waiting?.reason) return s.state.waiting.reason;
    if (s.state?.terminated?.reason) return s.state.terminated.reason;
  }
  return pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
}

function podRestarts(pod: KubeObject, now: number): string {
  const statuses: Any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const restarts = statuses.reduce((sum, s) => sum + (Number(s.restartCount) || 0), 0);
  const lastFinished = statuses
    .map((s) => Date.parse(s.lastState?.terminated?.finishedAt ?? ''))
    .filter((t) => !Number.isNaN(t))
    .sort((a, b) => b - a)[0];
  return restarts > 0 && lastFinished !== undefined ? `${restarts} (${humanDuration(now - lastFinished)} ago)` : String(restarts);
}

function servicePorts(svc: KubeObject): string {
  const ports: Any[] = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function serviceExternalIp(svc: KubeObject): string {
  const ingress: Any[] = svc.status?.loadBalancer?.ingress ?? [];
  const external: string[] = [...ingress.map((i) => i.ip ?? i.hostname).filter(Boolean), ...(svc.spec?.externalIPs ?? [])];
  if (external.length) return external.join(',');
  if (svc.spec?.type === 'LoadBalancer') return '<pending>';
  if (svc.spec?.type === 'ExternalName') return svc.spec.externalName ?? '<none>';
  return '<none>';
}

function selectorText(selector: Record<string, string> | undefined): string {
  const entries = Object.entries(selector ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

function endpointsText(ep: KubeObject): string {
  const addresses: string[] = [];
  for (const subset of (ep.subsets ?? []) as Any[]) {
    const ports: Any[] = subset.ports?.length ? subset.ports : [{}];
    for (const a of (subset.addresses ?? []) as Any[]) for (const p of ports) addresses.push(p.port ? `${a.ip}:${p.port}` : a.ip);
  }
  if (addresses.length === 0) return '<none>';
  return addresses.length > 3 ? `${addresses.slice(0, 3).join(',')} + ${addresses.length - 3} more...` : addresses.join(',');
}

function nodeStatus(node: KubeObject): string {
  const ready = ((node.status?.conditions ?? []) as Any[]).find((c) => c.type === 'Ready');
  return ready?.status === 'True' ? 'Ready' : 'NotReady';
}

function nodeRoles(node: KubeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((l) => l.startsWith('node-role.kubernetes.io/'))
    .map((l) => l.slice('node-role.kubernetes.io/'.length));
  return roles.length ? roles.join(',') : '<none>';
}

function nodeAddress(node: KubeObject, type: string): string {
  return ((node.status?.addresses ?? []) as Any[]).find((a) => a.type === type)?.address ?? '<none>';
}

const COLUMNS: Partial<Record<ResourceKindName, Column[]>> = {
  pods: [
    NAME,
    column('Ready', podReady),
    column('Status', podStatus),
    column('Restarts', podRestarts),
    AGE,
    column('IP', (p) => p.status?.podIP ?? '<none>', 1),
    column('Node', (p) => p.spec?.nodeName ?? '<none>', 1),
    column('Nominated Node', (p) => p.status?.nominatedNodeName ?? '<none>', 1),
    column('Readiness Gates', (p) => (p.spec?.readinessGates?.length ? String(p.spec.readinessGates.length) : '<none>'), 1),
  ],
  services: [
    NAME,
    column('Type', (s) => s.spec?.type ?? 'ClusterIP'),
    column('Cluster-IP', (s) => s.spec?.clusterIP ?? '<none>'),
    column('External-IP', serviceExternalIp),
    column('Port(s)', servicePorts),
    AGE,
    column('Selector', (s) => selectorText(s.spec?.selector), 1),
  ],
  namespaces: [NAME, column('Status', (n) => n.status?.phase ?? 'Active'), AGE],
  nodes: [
    NAME,
    column('Status', nodeStatus),
    column('Roles', nodeRoles),
    AGE,
    column('Version', (n) => n.status?.nodeInfo?.kubeletVersion ?? ''),
    column('Internal-IP', (n) => nodeAddress(n, 'InternalIP'), 1),
    column('External-IP', (n) => nodeAddress(n, 'ExternalIP'), 1),
  ],
  deployments: [
    NAME,
    column('Ready', (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`),
    column('Up-to-date', (d) => d.status?.updatedReplicas ?? 0, 0, 'integer'),
    column('Available', (d) => d.status?.availableReplicas ?? 0, 0, 'integer'),
    AGE,
    column('Containers', (d) => ((d.spec?.template?.spec?.containers ?? []) as Any[]).map((c) => c.name).join(','), 1),
    column('Images', (d) => ((d.spec?.template?.spec?.containers ?? []) as Any[]).map((c) => c.image).join(','), 1),
    column('Selector', (d) => selectorText(d.spec?.selector?.matchLabels), 1),
  ],
  secrets: [NAME, column('Type', (s) => s.type ?? 'Opaque'), column('Data', (s) => Object.keys(s.data ?? {}).length, 0, 'integer'), AGE],
  configmaps: [NAME, column('Data', (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length, 0, 'integer'), AGE],
  endpoints: [NAME, column('Endpoints', endpointsText), AGE],
  serviceaccounts: [NAME, AGE],
  // The Gateway API CRDs' additionalPrinterColumns (gateway-api v1.3 standard channel, gateway.networking.k8s.io_gateways.yaml and _gatewayclasses.yaml).
  k8sgateways: [NAME, column('Class', (g) => g.spec?.gatewayClassName ?? ''), column('Address', (g) => ((g.status?.addresses ?? []) as Any[]).map((a) => a.value).join(',')), column('Programmed', (g) => conditionStatus(g, 'Programmed')), AGE],
  gatewayclasses: [NAME, column('Controller', (c) => c.spec?.controllerName ?? ''), column('Accepted', (c) => conditionStatus(c, 'Accepted')), AGE, column('Description', (c) => c.spec?.description ?? '', 1)],
};

/** A status condition's status, '' when the object has none of that type (as kubectl prints an empty JSONPath). */
function conditionStatus(obj: KubeObject, type: string): string {
  return ((obj.status?.conditions ?? []) as Any[]).find((c) => c?.type === type)?.status ?? '';
}

/** The Table of some objects of a kind, with rows in the given order. */
export function toTable(
  kind: ResourceKindName,
  objects: KubeObject[],
  opts: { includeObject: IncludeObject; resourceVersion: string; continueToken?: string; remainingItemCount?: number; now?: number },
): unknown {
  const columns = COLUMNS[kind] ?? [NAME, AGE];
  const now = opts.now ?? Date.now();
  const metadata: Record<string, unknown> = { resourceVersion: opts.resourceVersion };
  if (opts.continueToken) metadata.continue = opts.continueToken;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns.map((c) => {
      const def: Record<string, unknown> = { name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority };
      return def;
    }),
    rows: objects.map((obj) => {
      const row: Record<string, unknown> = { cells: columns.map((c) => c.cell(obj, now)) };
      if (opts.includeObject === 'Object') row.object = obj;
      else if (opts.includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
      return row;
    }),
  };
}
