// control-plane checks, sorted by id.
import clusterIds from './cluster-ids.ts';
import istiodLogs from './istiod-logs.ts';
import istiodReady from './istiod-ready.ts';
import knownIssues from './known-issues.ts';
import meshConfig from './mesh-config.ts';
import primaryRemote from './primary-remote.ts';
import proxySync from './proxy-sync.ts';
import remoteApiAccess from './remote-api-access.ts';
import remoteSecrets from './remote-secrets.ts';
import remoteSync from './remote-sync.ts';
import versionSkew from './version-skew.ts';

export default [clusterIds, istiodLogs, istiodReady, knownIssues, meshConfig, primaryRemote, proxySync, remoteApiAccess, remoteSecrets, remoteSync, versionSkew];
