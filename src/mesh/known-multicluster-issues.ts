// Known multicluster defects of istiod by version (issue 16, for control-plane/known-issues). Each row's
// affected range and first fixed release were read from istio/istio's tags: a fix counts as released in the
// first tag whose releasenotes/notes holds its note (or whose tree holds the fix commit), checked with
// `git tag --contains` and `git cat-file -e <tag>:releasenotes/notes/<n>.yaml` on the mirror of istio/istio
// (newest tags in it: 1.28.10, 1.29.6, 1.30.3, 1.31.0-rc.0). Where the issue text and ../shared's facts file
// disagreed, the tags decided; `source` says which.
import { parseVersion, type IstioVersion } from './istio-objects.ts';

/** Which component the defect lives in (all rows so far are istiod's). */
export type KnownIssueComponent = 'istiod';

/** An inclusive version range `from`..`to` (major.minor.patch). */
export interface VersionRange {
  from: string;
  to: string;
}

export interface KnownMulticlusterIssue {
  /** istio/istio issue number. */
  issue: number;
  component: KnownIssueComponent;
  /** Only meshes that run ambient (ztunnel) are hit. */
  ambientOnly?: boolean;
  /** Released versions that carry the defect. */
  affected: readonly VersionRange[];
  /** What breaks, in a few words. */
  breaks: string;
  /** The first release of each line that carries the fix, newest line first. */
  fixedIn: string;
  /** Where the facts come from (release note, fix commit, tags). */
  source: string;
}

export const KNOWN_MULTICLUSTER_ISSUES: readonly KnownMulticlusterIssue[] = [
  {
    issue: 60082,
    component: 'istiod',
    affected: [{ from: '1.29.0', to: '1.29.6' }],
    breaks:
      'the istiod_remote_cluster_sync_status metric shows status="timeout" for every remote cluster, synced or not ' +
      '(istioctl remote-clusters and /debug/clusterz stay right), so alerts on it fire falsely',
    fixedIn: '1.30.0',
    source:
      'metric added in 1.29 (#58384); pkg/kube/multicluster/cluster.go:91 at 1.29.0..1.29.6 calls reportStatus(SyncStatusTimeout) ' +
      'unconditionally; fix #60104 (release-1.30, 43e4958c8da) first in tag 1.30.0; no release-1.29 tag holds a fix',
  },
  {
    issue: 60612,
    component: 'istiod',
    affected: [{ from: '1.30.0', to: '1.30.2' }],
    breaks:
      'an updated remote secret (token or credential rotation) is not picked up until istiod restarts: the new registry can ' +
      'deadlock waiting to sync, and the remote\'s services and endpoints go stale',
    fixedIn: '1.30.3',
    source:
      'release note releasenotes/notes/60612.yaml, first in tag 1.30.3 (fix #60676, 5b3d8e36d7a); the in-place registry swap ' +
      '(pkg/kube/multicluster/component.go pendingSwap) exists from 1.30.0 and in no 1.29 tag',
  },
  {
    issue: 61043,
    component: 'istiod',
    affected: [{ from: '1.30.0', to: '1.30.3' }],
    breaks:
      'rotating a remote\'s istio-remote-secret can permanently wipe the endpoint shards of its services with stable endpoints: ' +
      'they become unreachable across clusters until istiod restarts',
    fixedIn: '1.31.0 (release-1.30 holds the fix, #61159, after 1.30.3)',
    source:
      'issue "1.30.x (confirmed on 1.30.1, 1.30.3)"; release note releasenotes/notes/61043.yaml in the 1.31 tags ' +
      '(#61160 on release-1.31); #61159 merged on release-1.30 after tag 1.30.3; the swap it races exists from 1.30.0',
  },
  {
    issue: 60920,
    component: 'istiod',
    affected: [{ from: '1.30.0', to: '1.30.3' }],
    breaks:
      'after a remote\'s credential rotation its network gateway can vanish from cross-network routing until istiod restarts',
    fixedIn: '1.31.0',
    source:
      'release note releasenotes/notes/60920.yaml, in tag 1.31.0-rc.0 and no 1.30 tag; it fixes the in-place registry swap ' +
      '(pendingSwap, from 1.30.0)',
  },
  {
    issue: 58047,
    component: 'istiod',
    ambientOnly: true,
    affected: [
      { from: '1.27.0', to: '1.27.9' },
      { from: '1.28.0', to: '1.28.2' },
    ],
    breaks: 'ambient: informer failures for a remote cluster are not recovered until istiod restarts',
    fixedIn: '1.29.0, 1.28.3',
    source:
      'release note releasenotes/notes/58047.yaml (fix #58602, dc1252977fc, in pilot/pkg/serviceregistry/kube/controller/ambient), ' +
      'first in tags 1.28.3 and 1.29.0, in no 1.27 tag (1.27.9 the newest); ambient multicluster exists from 1.27',
  },
];

function compare(a: IstioVersion, b: IstioVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** Whether a version (`1.29.1`, `1.29.1-distroless`) lies in a row's affected ranges; false when it does not parse. */
export function isAffected(row: KnownMulticlusterIssue, version: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  // A pre-release (1.30.0-rc.0) is not the release: only plain versions are matched.
  if (/^v?\d+\.\d+\.\d+-(?!distroless|debug)/.test(version)) return false;
  return row.affected.some((r) => compare(parseVersion(r.from)!, v) <= 0 && compare(v, parseVersion(r.to)!) <= 0);
}

/** The rows that hit an istiod of `version` (ambient rows only when the mesh runs ambient). */
export function knownIssuesFor(version: string, options: { ambient: boolean }): KnownMulticlusterIssue[] {
  return KNOWN_MULTICLUSTER_ISSUES.filter((row) => (!row.ambientOnly || options.ambient) && isAffected(row, version));
}

/** The table as text, one row a paragraph (for explain). */
export function knownIssuesTable(): string {
  return KNOWN_MULTICLUSTER_ISSUES.map((row) => {
    const ranges = row.affected.map((r) => `${r.from}..${r.to}`).join(', ');
    return (
      `istio#${row.issue} (https://github.com/istio/istio/issues/${row.issue}), ${row.component}${row.ambientOnly ? ', ambient only' : ''}: ` +
      `${ranges}: ${row.breaks}. Fixed in ${row.fixedIn}. Source: ${row.source}.`
    );
  }).join('\n');
}
