// Capture clusters into the offline snapshot layout that `openSnapshot` reads. Everything written
// passes through redact.ts; a last guard refuses to write any byte that looks like a private key.
import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { RESOURCE_KINDS } from './kinds.ts';
import { containsPrivateKey, redactLogText, redactObject } from './redact.ts';
import { ISTIOD_LOG_FILE, ZTUNNEL_DIR, ZTUNNEL_DUMP_FILE, SNAPSHOT_MANIFEST, SNAPSHOT_VERSION, SnapshotError, type SnapshotManifest, type SnapshotManifestCluster } from './snapshot-format.ts';
import { AccessError, SIDECAR_ADMIN_PATHS } from './types.ts';
import { findInjectionWebhooks, findIstiodDeployments, istiodNamespaceElsewhere } from '../mesh/istio-objects.ts';
import { istioInstallNamespace } from '../mesh/discovery.ts';
import { PROXY_CONTAINER, proxyContainer, sampleWorkloadSidecars } from '../mesh/sidecars.ts';
import type { ClusterReader, KubeObject, PodRef, ResourceKindName } from './types.ts';

/** istiod debug endpoints captured by default (the ones CHECKS.md parses). */
export const SNAPSHOT_ISTIOD_ENDPOINTS = ['registryz', 'endpointShardz', 'clusterz', 'syncz', 'configz', 'mesh', 'networkz', 'ambientz'];

/** Sidecar admin outputs captured per proxy, with the file extension the reader expects. */
const SIDECAR_OUTPUTS = [
  { what: 'clusters', file: 'clusters.txt' },
  { what: 'certs', file: 'certs.json' },
  { what: 'server_info', file: 'server_info.json' },
] as const;

/** What to capture. */
export interface WriteSnapshotInput {
  capturedAt: Date;
  istioNamespace: string;
  clusters: ClusterReader[];
}

/** Options of a capture. */
export interface WriteSnapshotOptions {
  /** Workload sidecars captured per cluster (see pickSidecars; gateways come on top). Default 10. */
  maxProxies?: number;
  /** istiod endpoints to capture; default SNAPSHOT_ISTIOD_ENDPOINTS. */
  istiodEndpoints?: string[];
  /** Deadline of each exec (istiod debug, sidecar admin) in ms. Default 20 s. */
  execTimeoutMs?: number;
}

/** Something that could not be captured (the capture goes on without it). */
export interface SnapshotSkip {
  cluster: string;
  /** A kind name, `istiod/<endpoint>` or `proxy/<ns>/<pod>/<what>`. */
  what: string;
  reason: string;
}

/** Outcome of a capture. */
export interface WriteSnapshotResult {
  /** Number of files written. */
  files: number;
  skipped: SnapshotSkip[];
  /** Clusters whose API did not answer at all: recorded as such in the manifest, nothing captured. */
  unreachable: { cluster: string; reason: string }[];
}

/** Why a list failed in a way that means "cannot reach this cluster at all" (as topology discovery tells it). */
const UNREACHABLE_REASONS = new Set(['unreachable', 'unauthorized', 'timeout']);

/**
 * Write a snapshot of `input.clusters` to `dir` (created; must be absent or empty).
 * Forbidden or unserved kinds are skipped and recorded (forbidden ones in the manifest too, so that
 * offline checks skip rather than see "none"). Secrets are redacted (see redact.ts).
 */
export async function writeSnapshot(dir: string, input: WriteSnapshotInput, opts: WriteSnapshotOptions = {}): Promise<WriteSnapshotResult> {
  await ensureEmptyDir(dir);
  const result: WriteSnapshotResult = { files: 0, skipped: [], unreachable: [] };
  // Every file's digest goes into the manifest, so a reader can tell a file cut short (issue 11.5).
  const digests: Record<string, string> = {};
  const write = async (file: string, text: string): Promise<void> => {
    if (containsPrivateKey(text)) throw new Error(`refusing to write ${file}: it contains a private key (redaction bug)`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    digests[path.relative(dir, file).split(path.sep).join('/')] = `sha256:${createHash('sha256').update(text).digest('hex')}`;
    result.files += 1;
  };

  const entries: SnapshotManifestCluster[] = [];
  const usedNames = new Set<string>();
  for (const reader of input.clusters) {
    const name = uniqueDirName(reader.name, usedNames);
    const entry: SnapshotManifestCluster = { name };
    if (reader.context) entry.context = reader.context;
    entries.push(entry);
    await captureCluster(reader, path.join(dir, 'clusters', name), entry, input.istioNamespace, opts, write, result.skipped);
    if (entry.unreachable) result.unreachable.push({ cluster: reader.name, reason: entry.unreachable });
  }

  const manifest: SnapshotManifest = {
    version: SNAPSHOT_VERSION,
    capturedAt: input.capturedAt.toISOString(),
    istioNamespace: input.istioNamespace,
    clusters: entries,
    files: Object.fromEntries(Object.entries(digests).sort(([a], [b]) => a.localeCompare(b))),
  };
  await write(path.join(dir, SNAPSHOT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return result;
}

type WriteFn = (file: string, text: string) => Promise<void>;

async function captureCluster(
  reader: ClusterReader,
  clusterDir: string,
  entry: SnapshotManifestCluster,
  istioNamespace: string,
  opts: WriteSnapshotOptions,
  write: WriteFn,
  skipped: SnapshotSkip[],
): Promise<void> {
  const skip = (what: string, err: unknown): void => {
    skipped.push({ cluster: reader.name, what, reason: err instanceof Error ? err.message : String(err) });
  };
  // Secrets are read last, and only where istiod reads them (below): never the cluster's application secrets.
  const kinds = (Object.keys(RESOURCE_KINDS) as ResourceKindName[]).filter((kind) => kind !== 'secrets');
  const errors: unknown[] = [];
  const failedList = (kind: ResourceKindName, err: unknown): undefined => {
    skip(kind, err);
    errors.push(err);
    if (err instanceof AccessError && (err.reason === 'forbidden' || err.reason === 'unauthorized')) {
      entry.unavailable = { ...entry.unavailable, [kind]: err.message };
    } else {
      // A 500 or a timeout: offline, the kind must fail the same way, never read as "none".
      entry.failed = { ...entry.failed, [kind]: err instanceof Error ? err.message : String(err) };
    }
    return undefined;
  };
  // Lists run concurrently: the reader enforces its own per-cluster cap.
  const lists = await Promise.all(kinds.map((kind) => reader.listOptional(kind).catch((err: unknown) => failedList(kind, err))));
  if (errors.length === kinds.length && errors.every((e) => e instanceof AccessError && UNREACHABLE_REASONS.has(e.reason))) {
    // Nothing answered: the snapshot says so, rather than holding an empty cluster that reads as broken.
    entry.unreachable = (errors[0] as Error).message;
    delete entry.unavailable;
    delete entry.failed;
    return;
  }
  // An istiod outside --istio-namespace (an external istiod in `external-istiod`) is read there, as a
  // run reads it after discovery: else its debug output and log would be missing from the snapshot.
  const deployments = lists[kinds.indexOf('deployments')] ?? [];
  const elsewhere = istiodNamespaceElsewhere(deployments, istioNamespace);
  if (elsewhere) reader.useIstiodNamespace?.(elsewhere);
  // The cluster's Istio namespace, as discovery will find it offline: its istiod's, else where its
  // remote profile lives (an external control plane's remotes: external-istiod), whose gateways the
  // proxies below include.
  const listed = (kind: Exclude<ResourceKindName, 'secrets'>) => lists[kinds.indexOf(kind)];
  const clusterIstioNamespace =
    elsewhere ??
    (findIstiodDeployments(deployments.filter((d) => d.metadata.namespace === istioNamespace)).length > 0
      ? istioNamespace
      : istioInstallNamespace({
          istioNamespace,
          namespaces: listed('namespaces'),
          configMaps: listed('configmaps'),
          services: listed('services'),
          webhookConfigs: listed('mutatingwebhookconfigurations'),
          webhooks: findInjectionWebhooks(listed('mutatingwebhookconfigurations') ?? []),
        }).namespace);

  // The Secrets of the namespaces istiod reads them from (readIstiodSecrets: its own, an external
  // istiod's) and of the cluster's Istio namespace, as a run reads them; each list per namespace, so
  // namespace-scoped RBAC suffices.
  const secretNamespaces = [...new Set([istioNamespace, clusterIstioNamespace, ...findIstiodDeployments(deployments).map((d) => d.metadata.namespace ?? istioNamespace)])].sort();
  const secretLists = await Promise.all(secretNamespaces.map((namespace) => reader.listOptional('secrets', { namespace }).catch((err: unknown) => failedList('secrets', err))));
  const captured: [ResourceKindName, KubeObject[] | undefined][] = [...kinds.map((kind, i) => [kind, lists[i]] as [ResourceKindName, KubeObject[] | undefined]), ['secrets', secretLists.some((l) => !l) ? undefined : secretLists.flatMap((l) => l ?? [])]];
  await mkdir(path.join(clusterDir, 'resources'), { recursive: true });
  for (const [kind, objects] of captured) {
    if (!objects) continue;
    const info = RESOURCE_KINDS[kind];
    const items = objects.map((o) => redactObject(withTypeMeta(o, info.group, info.versions[0], info.kind)));
    await write(path.join(clusterDir, 'resources', `${kind}.yaml`), stringifyYaml({ apiVersion: 'v1', kind: 'List', items }));
  }

  const execOpts = { timeoutMs: opts.execTimeoutMs ?? 20_000 };
  await Promise.all(
    (opts.istiodEndpoints ?? SNAPSHOT_ISTIOD_ENDPOINTS).map(async (endpoint) => {
      try {
        for (const output of await reader.istiodDebug(endpoint)) {
          await write(path.join(clusterDir, 'istiod', output.pod, `${endpoint}.json`), output.body);
        }
      } catch (err) {
        skip(`istiod/${endpoint}`, err);
      }
    }),
  );

  // istiod's discovery log window (what control-plane/istiod-logs reads), credentials redacted.
  try {
    for (const output of await reader.istiodLogs()) {
      await write(path.join(clusterDir, 'istiod', output.pod, ISTIOD_LOG_FILE), redactLogText(output.text));
    }
  } catch (err) {
    skip('istiod/discovery.log', err);
  }

  // ztunnel's config_dump of the sampled ztunnel pods (what ambient/ztunnel-view reads). It holds
  // certificate chains and root certs, never a private key (the write guard stays the last line).
  try {
    for (const output of await reader.ztunnelConfigDumps()) {
      await write(path.join(clusterDir, ZTUNNEL_DIR, output.pod, ZTUNNEL_DUMP_FILE), output.body);
    }
  } catch (err) {
    skip(`${ZTUNNEL_DIR}/${ZTUNNEL_DUMP_FILE}`, err);
  }

  const pods = lists[kinds.indexOf('pods')] ?? [];
  const sidecars = pickSidecars(pods, clusterIstioNamespace, opts.maxProxies ?? 10);
  await Promise.all(
    sidecars.flatMap((pod) =>
      SIDECAR_OUTPUTS.map(async ({ what, file }) => {
        try {
          const body = await reader.sidecarAdmin(pod, what, execOpts);
          await write(path.join(clusterDir, 'proxies', pod.namespace, pod.name, file), body);
        } catch (err) {
          skip(`proxy/${pod.namespace}/${pod.name}/${what}`, err);
        }
      }),
    ),
  );
  // The SDS secrets (full workload chain and trust bundle, which /certs does not show).
  await Promise.all(
    sidecars.map(async (pod) => {
      try {
        const body = await sidecarSecrets(reader, pod, execOpts);
        await write(path.join(clusterDir, 'proxies', pod.namespace, pod.name, 'config_dump.json'), body);
      } catch (err) {
        skip(`proxy/${pod.namespace}/${pod.name}/config_dump`, err);
      }
    }),
  );
}

/**
 * A sidecar's `config_dump?resource=dynamic_active_secrets`. Envoy prints private keys as
 * `[redacted]`; any other private_key value is replaced anyway (the write guard stays the last line).
 */
async function sidecarSecrets(reader: ClusterReader, pod: PodRef, opts: { timeoutMs: number }): Promise<string> {
  const what = SIDECAR_ADMIN_PATHS.secrets;
  const result = await reader.exec(pod, PROXY_CONTAINER, ['pilot-agent', 'request', 'GET', what], opts);
  if (result.exitCode !== 0) throw new AccessError('bad-response', reader.name, `pilot-agent request GET ${what} exited ${result.exitCode}: ${result.stderr.trim().split('\n')[0]}`);
  const redactKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(redactKeys);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'private_key' ? { inline_string: '[redacted]' } : redactKeys(v)]));
  };
  return `${JSON.stringify(redactKeys(JSON.parse(result.stdout)), null, 2)}\n`;
}

/** Items of a live list carry no apiVersion/kind; the snapshot needs them to sort objects by kind. */
function withTypeMeta(obj: KubeObject, group: string, version: string, kind: string): KubeObject {
  if (obj.apiVersion && obj.kind) return obj;
  return { ...obj, apiVersion: obj.apiVersion ?? (group ? `${group}/${version}` : version), kind: obj.kind ?? kind };
}

/**
 * The proxies whose admin output a snapshot captures: every running proxy in istiod's namespace (the
 * gateways, which carry no injector annotation), then the workload sidecars as certificates/workload
 * samples them (sampleWorkloadSidecars, the one sampler: its first WORKLOAD_SAMPLE_SIZE are the
 * check's), `max` of them, so that an offline run judges the very proxies a live one would.
 */
export function pickSidecars(pods: KubeObject[], istioNamespace: string, max: number): PodRef[] {
  const ref = (p: KubeObject): PodRef => ({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name });
  const gateways = pods
    .filter((p) => p.metadata.namespace === istioNamespace && p.status?.phase === 'Running' && proxyContainer(p) !== undefined)
    .map(ref)
    .sort((a, b) => a.name.localeCompare(b.name));
  const workloads = sampleWorkloadSidecars(pods, max).map(ref).filter((w) => !gateways.some((g) => g.namespace === w.namespace && g.name === w.name));
  return [...gateways, ...workloads];
}

/** Context names may hold `/` (EKS ARNs): the directory name replaces it, the manifest keeps the context. */
function uniqueDirName(name: string, used: Set<string>): string {
  let base = name.replace(/[/\\\0]/g, '_');
  if (base === '.' || base === '..') base = base.replace(/\./g, '_');
  let candidate = base;
  for (let i = 2; used.has(candidate); i += 1) candidate = `${base}-${i}`;
  used.add(candidate);
  return candidate;
}

async function ensureEmptyDir(dir: string): Promise<void> {
  try {
    if ((await readdir(dir)).length > 0) throw new SnapshotError(`snapshot directory ${dir}: exists and is not empty`);
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new SnapshotError(`snapshot directory ${dir}: ${(err as Error).message}`);
  }
  await mkdir(dir, { recursive: true });
}
