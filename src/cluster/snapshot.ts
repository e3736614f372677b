// Offline snapshots: a directory of YAML/JSON objects and captured debug output that stands in for a
// live cluster. The layout is documented in the core issue ("Offline snapshots") and README, and is the
// fixture format of the checks' tests, so this reader is strict about structure and names the file
// that is wrong in one line.
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kindNameOf } from './kinds.ts';
import { limitDepth } from './projection.ts';
import { AccessError } from './types.ts';
import type { ClusterReader, ExecResult, IstiodDebugOutput, IstiodLogOutput, KubeObject, ListScope, PodRef, ResourceKindName, SidecarAdminRead, ZtunnelDumpOutput } from './types.ts';
import { ISTIOD_LOG_FILE, ZTUNNEL_DIR, ZTUNNEL_DUMP_FILE, SNAPSHOT_MANIFEST, SNAPSHOT_VERSION, SnapshotError, type SnapshotManifest, type SnapshotManifestCluster } from './snapshot-format.ts';

/** An opened snapshot: one reader per captured cluster. */
export interface Snapshot {
  capturedAt: Date;
  istioNamespace: string;
  clusters: ClusterReader[];
}

const RESOURCE_FILE = /\.(ya?ml|json)$/i;
/** Names used as directory names: no separators, no `.`/`..`. */
const SAFE_NAME = /^(?!\.\.?$)[^/\\\0]+$/;
/** Endpoint names map to file names; anything else cannot have been captured. */
const SAFE_ENDPOINT = /^[A-Za-z0-9_.-]+$/;

/** Open and validate a snapshot directory. Throws SnapshotError on any structural problem. */
export async function openSnapshot(dir: string): Promise<Snapshot> {
  if (!(await isDirectory(dir))) throw new SnapshotError(`snapshot directory ${dir}: not found or not a directory`);
  await refuseLinksAndSpecialFiles(dir);
  const manifest = await readManifest(dir);
  if (manifest.files) await verifyDigests(dir, manifest.files);
  const clusters: ClusterReader[] = [];
  for (const entry of manifest.clusters) {
    const clusterDir = path.join(dir, 'clusters', entry.name);
    if (entry.unreachable !== undefined) {
      clusters.push(new SnapshotClusterReader(entry, clusterDir, manifest.istioNamespace, new Map()));
      continue;
    }
    if (!(await isDirectory(clusterDir))) {
      throw new SnapshotError(`${clusterDir}: missing (cluster "${entry.name}" is listed in ${SNAPSHOT_MANIFEST})`);
    }
    const objects = await readResources(path.join(clusterDir, 'resources'));
    clusters.push(new SnapshotClusterReader(entry, clusterDir, manifest.istioNamespace, objects));
  }
  return { capturedAt: new Date(manifest.capturedAt), istioNamespace: manifest.istioNamespace, clusters };
}

/** Larger than any file meshdoctor writes (a 10,000-pod list is under 100 MB) and than a string V8 can hold. */
export const MAX_SNAPSHOT_FILE_BYTES = 512 * 1024 * 1024;

/**
 * A snapshot may come from anyone (attached to a bug report, "analyze it later, anywhere"): it is read
 * as it lies, never beyond itself. Everything in it must be a directory or a regular file of a sane
 * size: a symbolic link would make meshdoctor read the operator's own files (a `clusters/<name>` link to
 * a directory of manifests, `pods.yaml` to a kubeconfig), a FIFO or `/dev/zero` would hang it or fill
 * its memory. Checked once, before anything is read; the directory given itself may be a link.
 */
async function refuseLinksAndSpecialFiles(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isDirectory()) continue;
    if (entry.isSymbolicLink()) throw new SnapshotError(`${file}: a symbolic link; a snapshot holds only files and directories, and meshdoctor does not follow links out of it (replace it with the file it points at)`);
    if (!entry.isFile()) throw new SnapshotError(`${file}: not a regular file (a device, FIFO or socket); a snapshot holds only files and directories`);
    const { size } = await lstat(file);
    if (size > MAX_SNAPSHOT_FILE_BYTES) throw new SnapshotError(`${file}: ${Math.round(size / 1024 / 1024)} MiB, larger than any file a snapshot holds (${MAX_SNAPSHOT_FILE_BYTES / 1024 / 1024} MiB at most)`);
  }
}

async function readManifest(dir: string): Promise<SnapshotManifest> {
  const file = path.join(dir, SNAPSHOT_MANIFEST);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new SnapshotError(`${file}: missing (not a meshdoctor snapshot directory)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  const bad = (what: string): SnapshotError => new SnapshotError(`${file}: ${what}`);
  if (!isRecord(raw)) throw bad('expected a JSON object');
  if (raw.version !== SNAPSHOT_VERSION) {
    throw bad(`unsupported version ${JSON.stringify(raw.version)} (this meshdoctor reads version ${SNAPSHOT_VERSION})`);
  }
  if (typeof raw.capturedAt !== 'string' || Number.isNaN(Date.parse(raw.capturedAt))) {
    throw bad('"capturedAt" must be an ISO-8601 date');
  }
  const istioNamespace = raw.istioNamespace ?? 'istio-system';
  if (typeof istioNamespace !== 'string' || !istioNamespace) throw bad('"istioNamespace" must be a non-empty string');
  if (!Array.isArray(raw.clusters) || raw.clusters.length === 0) throw bad('"clusters" must be a non-empty array');
  const seen = new Set<string>();
  const clusters: SnapshotManifestCluster[] = raw.clusters.map((c: unknown, i: number) => {
    if (!isRecord(c) || typeof c.name !== 'string' || !SAFE_NAME.test(c.name)) {
      throw bad(`clusters[${i}].name must be a string usable as a directory name`);
    }
    if (seen.has(c.name)) throw bad(`cluster "${c.name}" is listed twice`);
    seen.add(c.name);
    if (c.context !== undefined && typeof c.context !== 'string') throw bad(`clusters[${i}].context must be a string`);
    const unavailable = isRecord(c.unavailable) ? (c.unavailable as SnapshotManifestCluster['unavailable']) : undefined;
    const failed = isRecord(c.failed) ? (c.failed as SnapshotManifestCluster['failed']) : undefined;
    if (c.unreachable !== undefined && typeof c.unreachable !== 'string') throw bad(`clusters[${i}].unreachable must be a string (the reason)`);
    return { name: c.name, context: c.context as string | undefined, unavailable, failed, unreachable: c.unreachable as string | undefined };
  });
  let files: Record<string, string> | undefined;
  if (raw.files !== undefined) {
    if (!isRecord(raw.files) || Object.values(raw.files).some((d) => typeof d !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d))) {
      throw bad('"files" must map file paths to "sha256:<64 hex digits>"');
    }
    files = raw.files as Record<string, string>;
  }
  return { version: SNAPSHOT_VERSION, capturedAt: raw.capturedAt, istioNamespace, clusters, ...(files ? { files } : {}) };
}

/** Every file the manifest lists must be there with the digest written at capture: a cut file is refused, not half-read. */
async function verifyDigests(dir: string, files: Record<string, string>): Promise<void> {
  for (const [relative, digest] of Object.entries(files)) {
    const file = path.resolve(dir, relative);
    if (!file.startsWith(path.resolve(dir) + path.sep)) throw new SnapshotError(`${path.join(dir, SNAPSHOT_MANIFEST)}: "files" names ${relative}, outside the snapshot`);
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch {
      throw new SnapshotError(`${file}: missing (listed in ${SNAPSHOT_MANIFEST}): the snapshot is incomplete; capture it again`);
    }
    if (`sha256:${createHash('sha256').update(content).digest('hex')}` !== digest) {
      throw new SnapshotError(`${file}: differs from what was captured (truncated or edited; sha256 does not match ${SNAPSHOT_MANIFEST}); capture it again`);
    }
  }
}

/** Every object under `resources/`, grouped by kind; unknown kinds are ignored (kubectl dumps hold more). */
async function readResources(resourcesDir: string): Promise<Map<ResourceKindName, KubeObject[]>> {
  const byKind = new Map<ResourceKindName, Map<string, KubeObject>>();
  if (await isDirectory(resourcesDir)) {
    for (const file of await listFilesRecursive(resourcesDir)) {
      if (!RESOURCE_FILE.test(file)) continue;
      for (const obj of await parseObjectsFile(file)) {
        const kind = kindNameOf(obj.apiVersion, obj.kind);
        if (!kind) continue;
        const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
        // The same object dumped twice (overlapping `kubectl get`s): the later file wins.
        if (!byKind.has(kind)) byKind.set(kind, new Map());
        byKind.get(kind)!.set(key, obj);
      }
    }
  }
  const result = new Map<ResourceKindName, KubeObject[]>();
  for (const [kind, objects] of byKind) result.set(kind, [...objects.values()].sort(compareObjects));
  return result;
}

/** Parse one resource file into objects, flattening `kind: List` (and typed lists like PodList). */
export async function parseObjectsFile(file: string): Promise<KubeObject[]> {
  const text = await readFile(file, 'utf8');
  const documents: unknown[] = [];
  if (/\.json$/i.test(file)) {
    try {
      documents.push(JSON.parse(text));
    } catch (err) {
      throw new SnapshotError(`${file}: invalid JSON: ${(err as Error).message}`);
    }
  } else {
    for (const doc of parseAllDocuments(text)) {
      const error = doc.errors[0];
      if (error) throw new SnapshotError(`${file}: invalid YAML: ${error.message.split('\n')[0]}`);
      documents.push(doc.toJS());
    }
  }
  const objects: KubeObject[] = [];
  documents.forEach((doc, i) => {
    if (doc === null || doc === undefined) return; // empty document (a trailing `---`)
    const where = documents.length > 1 ? `${file}: document ${i + 1}` : file;
    if (!isRecord(doc)) throw new SnapshotError(`${where}: expected a Kubernetes object`);
    if (typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items)) {
      // Items of a typed list (PodList from the raw API) carry no kind: derive it from the list's.
      const itemKind = doc.kind === 'List' ? undefined : doc.kind.slice(0, -'List'.length);
      doc.items.forEach((item: unknown, j: number) => {
        objects.push(checkObject(item, `${where}: items[${j}]`, itemKind, doc.apiVersion as string | undefined));
      });
    } else {
      objects.push(checkObject(doc, where, undefined, undefined));
    }
  });
  return objects;
}

function checkObject(value: unknown, where: string, defaultKind: string | undefined, defaultApiVersion: string | undefined): KubeObject {
  if (!isRecord(value)) throw new SnapshotError(`${where}: expected a Kubernetes object`);
  const obj = { ...value } as KubeObject;
  obj.kind ??= defaultKind;
  obj.apiVersion ??= defaultApiVersion;
  if (typeof obj.kind !== 'string' || typeof obj.apiVersion !== 'string') throw new SnapshotError(`${where}: object without apiVersion and kind`);
  if (!isRecord(obj.metadata) || typeof obj.metadata.name !== 'string') throw new SnapshotError(`${where}: ${obj.kind} without metadata.name`);
  return limitDepth(obj);
}

/** A ClusterReader over one cluster directory of a snapshot. */
class SnapshotClusterReader implements ClusterReader {
  readonly name: string;
  readonly context?: string;
  readonly live = false;
  readonly via = 'snapshot' as const;
  readonly #dir: string;
  readonly #istioNamespace: string;
  readonly #objects: Map<ResourceKindName, KubeObject[]>;
  readonly #unavailable: Partial<Record<ResourceKindName, string>>;
  readonly #failed: Partial<Record<ResourceKindName, string>>;
  readonly #unreachable?: string;

  constructor(entry: SnapshotManifestCluster, dir: string, istioNamespace: string, objects: Map<ResourceKindName, KubeObject[]>) {
    this.name = entry.name;
    if (entry.context) this.context = entry.context;
    this.#dir = dir;
    this.#istioNamespace = istioNamespace;
    this.#objects = objects;
    this.#unavailable = entry.unavailable ?? {};
    this.#failed = entry.failed ?? {};
    if (entry.unreachable !== undefined) this.#unreachable = entry.unreachable;
  }

  async list(kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]> {
    if (this.#unreachable !== undefined) throw new AccessError('unreachable', this.name, `unreachable when the snapshot was captured: ${this.#unreachable}`);
    const reason = this.#unavailable[kind];
    if (reason) throw new AccessError('forbidden', this.name, `${reason} (when the snapshot was captured)`);
    const failure = this.#failed[kind];
    if (failure) throw new AccessError('bad-response', this.name, `${failure} (when the snapshot was captured)`);
    const all = this.#objects.get(kind) ?? [];
    return scope?.namespace === undefined ? all : all.filter((o) => o.metadata.namespace === scope.namespace);
  }

  /** Offline we cannot tell "not served" from "none": both are []. */
  listOptional(kind: ResourceKindName, scope?: ListScope): Promise<KubeObject[]> {
    return this.list(kind, scope);
  }

  async istiodDebug(endpoint: string): Promise<IstiodDebugOutput[]> {
    if (this.#unreachable !== undefined) throw new AccessError('unreachable', this.name, `unreachable when the snapshot was captured: ${this.#unreachable}`);
    if (!SAFE_ENDPOINT.test(endpoint)) return [];
    const istiodDir = path.join(this.#dir, 'istiod');
    const outputs: IstiodDebugOutput[] = [];
    for (const pod of await listDirectories(istiodDir)) {
      const body = await readOptional(path.join(istiodDir, pod, `${endpoint}.json`));
      if (body === undefined) continue;
      const podObject = (this.#objects.get('pods') ?? []).find(
        (p) => p.metadata.name === pod && (p.metadata.namespace ?? this.#istioNamespace) === this.#istioNamespace,
      );
      outputs.push({
        pod,
        namespace: podObject?.metadata.namespace ?? this.#istioNamespace,
        revision: podObject?.metadata.labels?.['istio.io/rev'] ?? 'default',
        body,
      });
    }
    return outputs;
  }

  /** Pods whose discovery.log the snapshot holds; a snapshot without any skips the logs check (not-found). */
  async istiodLogs(): Promise<IstiodLogOutput[]> {
    if (this.#unreachable !== undefined) throw new AccessError('unreachable', this.name, `unreachable when the snapshot was captured: ${this.#unreachable}`);
    const istiodDir = path.join(this.#dir, 'istiod');
    const outputs: IstiodLogOutput[] = [];
    for (const pod of await listDirectories(istiodDir)) {
      const text = await readOptional(path.join(istiodDir, pod, ISTIOD_LOG_FILE));
      if (text === undefined) continue;
      const podObject = (this.#objects.get('pods') ?? []).find(
        (p) => p.metadata.name === pod && (p.metadata.namespace ?? this.#istioNamespace) === this.#istioNamespace,
      );
      outputs.push({ pod, namespace: podObject?.metadata.namespace ?? this.#istioNamespace, revision: podObject?.metadata.labels?.['istio.io/rev'] ?? 'default', text });
    }
    // Snapshots from before the log was captured (or whose capture was refused) have istiod pods but
    // no log: that is nothing read, never "no signatures".
    const istiodPods = (this.#objects.get('pods') ?? []).filter((p) => p.metadata.labels?.app === 'istiod' && (p.metadata.namespace ?? this.#istioNamespace) === this.#istioNamespace);
    if (outputs.length === 0 && istiodPods.length > 0) throw new AccessError('offline', this.name, `the snapshot holds no istiod ${ISTIOD_LOG_FILE}`);
    return outputs;
  }

  /** The ztunnel dumps the snapshot holds; ztunnel pods without any dump are nothing read, never "no ztunnel". */
  async ztunnelConfigDumps(): Promise<ZtunnelDumpOutput[]> {
    if (this.#unreachable !== undefined) throw new AccessError('unreachable', this.name, `unreachable when the snapshot was captured: ${this.#unreachable}`);
    const dir = path.join(this.#dir, ZTUNNEL_DIR);
    const pods = (this.#objects.get('pods') ?? []).filter((p) => p.metadata.labels?.app === 'ztunnel');
    const outputs: ZtunnelDumpOutput[] = [];
    for (const name of await listDirectories(dir)) {
      const body = await readOptional(path.join(dir, name, ZTUNNEL_DUMP_FILE));
      if (body === undefined) continue;
      const pod = pods.find((p) => p.metadata.name === name);
      const output: ZtunnelDumpOutput = { pod: name, namespace: pod?.metadata.namespace ?? this.#istioNamespace, body };
      if (typeof pod?.spec?.nodeName === 'string') output.node = pod.spec.nodeName;
      outputs.push(output);
    }
    if (outputs.length === 0 && pods.length > 0) throw new AccessError('offline', this.name, `the snapshot holds no ztunnel ${ZTUNNEL_DUMP_FILE}`);
    return outputs;
  }

  async sidecarAdmin(pod: PodRef, what: SidecarAdminRead): Promise<string> {
    if (SAFE_NAME.test(pod.namespace) && SAFE_NAME.test(pod.name)) {
      // Snapshots hold the whole config_dump, which has the SDS secrets too.
      for (const file of what === 'secrets' ? ['secrets', 'config_dump'] : [what]) {
        const base = path.join(this.#dir, 'proxies', pod.namespace, pod.name, file);
        const body = (await readOptional(`${base}.txt`)) ?? (await readOptional(`${base}.json`));
        if (body !== undefined) return body;
      }
    }
    throw new AccessError('not-found', this.name, `no ${what} output for ${pod.namespace}/${pod.name} in the snapshot`);
  }

  async exec(): Promise<ExecResult> {
    throw new AccessError('offline', this.name, 'needs a live cluster: offline snapshot');
  }

  async version(): Promise<undefined> {
    return undefined;
  }
}

function compareObjects(a: KubeObject, b: KubeObject): number {
  const ns = (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '');
  return ns !== 0 ? ns : a.metadata.name.localeCompare(b.metadata.name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function listDirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Files under dir, sorted so that "later file wins" is deterministic. */
async function listFilesRecursive(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}
