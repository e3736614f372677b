// The on-disk format shared by the snapshot reader (snapshot.ts) and writer (snapshot-writer.ts):
// the manifest and its version, and the error both raise for an unusable directory. Kept apart so
// neither module imports the other.
import type { ResourceKindName } from './types.ts';

/** File at the root of every snapshot directory. */
export const SNAPSHOT_MANIFEST = 'meshdoctor-snapshot.json';
/** The only manifest version this meshdoctor reads and writes. */
export const SNAPSHOT_VERSION = 1;
/** The file of `clusters/<name>/istiod/<pod>/` holding the pod's discovery log window (redacted). */
export const ISTIOD_LOG_FILE = 'discovery.log';
/** ztunnel's `/config_dump` of one pod: `clusters/<name>/ztunnel/<pod>/config_dump.json`. */
export const ZTUNNEL_DIR = 'ztunnel';
export const ZTUNNEL_DUMP_FILE = 'config_dump.json';

/** One cluster entry of the manifest. */
export interface SnapshotManifestCluster {
  name: string;
  context?: string;
  /**
   * Optional, written by `writeSnapshot`: kinds that could not be captured, with the reason
   * (e.g. `forbidden: cannot list secrets in istio-system`). Reading such a kind throws
   * AccessError('forbidden') instead of pretending the cluster had none.
   */
  unavailable?: Partial<Record<ResourceKindName, string>>;
  /**
   * Optional: kinds whose list failed otherwise at capture (HTTP 500, timeout), with the reason.
   * Reading such a kind throws AccessError('bad-response'): the check errors, as it would have live.
   */
  failed?: Partial<Record<ResourceKindName, string>>;
  /**
   * Optional: the cluster's API did not answer at capture (the reason); nothing of it was captured.
   * Every read throws AccessError('unreachable'), so the run treats it as an unreachable cluster.
   */
  unreachable?: string;
}

/** Contents of `meshdoctor-snapshot.json`. */
export interface SnapshotManifest {
  version: number;
  capturedAt: string;
  istioNamespace: string;
  clusters: SnapshotManifestCluster[];
  /**
   * Optional (written by `writeSnapshot`): `sha256:<hex>` of every file, by path relative to the
   * snapshot directory. When present, a listed file that is missing or differs (cut short, edited)
   * makes the snapshot unusable; snapshots without it (older ones, hand-written fixtures) open as they are.
   */
  files?: Record<string, string>;
}

/** The snapshot directory is unusable; the message is one line naming the file and the problem. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}
