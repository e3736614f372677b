// Which clusters a run diagnoses: the explicit --context list, or the current context plus the peers
// its istiod knows from remote secrets (matched to kubeconfig contexts by API server URL; a peer with
// no context is reached, read-only, with the remote secret's own inline credentials, as istioctl
// analyze does, and only when loadUntrustedKubeconfig lets them through).
import { createLiveReader } from './live-reader.ts';
import { proxyFor } from './proxy.ts';
import { defaultContext, KubeconfigError, loadKubeconfig } from './kubeconfig.ts';
import type { LoadedKubeconfig } from './kubeconfig.ts';
import { loadUntrustedKubeconfig } from './untrusted-kubeconfig.ts';
import { AccessError } from './types.ts';
import type { ClusterReader, KubeObject } from './types.ts';
import { istiodNamespaceElsewhere } from '../mesh/istio-objects.ts';
import { findRemoteSecrets, normalizeServer } from '../mesh/remote-secrets.ts';

/** What to connect to. */
export interface ConnectOptions {
  /** Explicit kubeconfig; default KUBECONFIG (merged) or ~/.kube/config. */
  kubeconfigPath?: string;
  /** Exactly these contexts; empty or omitted = current context plus its remote-secret peers. */
  contexts?: string[];
  istioNamespace: string;
  /** Per-cluster request cap (default 6). */
  maxConcurrent?: number;
  requestTimeoutMs?: number;
  /** Environment for HTTPS_PROXY / NO_PROXY (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Readers for the clusters to diagnose, and notes for the user (peers reached via remote secrets...). */
export interface ConnectedClusters {
  readers: ClusterReader[];
  notes: string[];
}

/** Connect to the clusters of a run. Throws KubeconfigError for an unusable kubeconfig or unknown context. */
export async function connectClusters(opts: ConnectOptions): Promise<ConnectedClusters> {
  const loaded = loadKubeconfig(opts.kubeconfigPath);
  const readerFor = (context: string): ClusterReader => {
    const kubeConfig = loaded.forContext(context);
    const cluster = kubeConfig.getCurrentCluster()!;
    // The operator's own kubeconfig: its proxy-url, else HTTPS_PROXY/NO_PROXY, as kubectl does.
    const proxy = proxyFor(cluster.server, cluster.proxyUrl, opts.env ?? process.env);
    return createLiveReader({ name: context, context, kubeConfig, ...readerLimits(opts), ...(proxy ? { proxy } : {}) });
  };

  if (opts.contexts && opts.contexts.length > 0) {
    const unique = [...new Set(opts.contexts)];
    // Validate all names before connecting anywhere: an unknown context is an invocation error.
    for (const context of unique) loaded.forContext(context);
    refuseSameApiServer(loaded, unique);
    return { readers: unique.map(readerFor), notes: [] };
  }

  const current = defaultContext(loaded);
  const primary = readerFor(current);
  const notes: string[] = [];
  const readers = [primary, ...(await discoverPeers(primary, loaded, readerFor, opts, notes))];
  return { readers, notes };
}

/**
 * Two contexts that reach the same API server (same URL and CA) are one cluster: diagnosing it twice
 * would read as a mesh of two clusters with a duplicate cluster id. A KubeconfigError (exit 2) says so.
 */
function refuseSameApiServer(loaded: LoadedKubeconfig, contexts: string[]): void {
  const byServer = new Map<string, string>();
  for (const context of contexts) {
    const cluster = loaded.forContext(context).getCurrentCluster()!;
    const identity = JSON.stringify([normalizeServer(cluster.server), cluster.caData ?? cluster.caFile ?? '', cluster.tlsServerName ?? '']);
    const other = byServer.get(identity);
    if (other !== undefined) {
      throw new KubeconfigError(`contexts "${other}" and "${context}" reach the same API server ${cluster.server} (same URL and CA): they are one cluster; pass only one of them`);
    }
    byServer.set(identity, context);
  }
}

/** What every reader of a run shares, whichever credentials it uses. */
function readerLimits(opts: ConnectOptions): { istioNamespace: string; maxConcurrent?: number; requestTimeoutMs?: number } {
  return { istioNamespace: opts.istioNamespace, maxConcurrent: opts.maxConcurrent, requestTimeoutMs: opts.requestTimeoutMs };
}

/** Peers named by the primary's remote secrets, as readers; what could not be done goes to notes. */
async function discoverPeers(
  primary: ClusterReader,
  loaded: LoadedKubeconfig,
  readerFor: (context: string) => ClusterReader,
  opts: ConnectOptions,
  notes: string[],
): Promise<ClusterReader[]> {
  let secrets: KubeObject[];
  let namespace = opts.istioNamespace;
  try {
    secrets = await primary.list('secrets', { namespace });
  } catch (err) {
    if (!(err instanceof AccessError)) throw err;
    notes.push(`cannot read remote secrets of ${primary.name} (${err.message}): diagnosing ${primary.name} only; pass --context for each cluster`);
    return [];
  }
  if (findRemoteSecrets(secrets, namespace).length === 0) {
    // An istiod outside --istio-namespace (an external istiod in `external-istiod`) keeps its remote
    // secrets and its config cluster's istio-kubeconfig beside it: read them there.
    try {
      const elsewhere = istiodNamespaceElsewhere(await primary.list('deployments'), namespace);
      if (elsewhere) {
        secrets = await primary.list('secrets', { namespace: elsewhere });
        namespace = elsewhere;
      }
    } catch (err) {
      if (!(err instanceof AccessError)) throw err;
      // Deployments or that namespace's Secrets not readable: the peers stay those found so far (none).
    }
  }
  const contextByServer = new Map<string, string>();
  for (const context of loaded.contexts) {
    const server = loaded.serverOf(context);
    if (server && !contextByServer.has(normalizeServer(server))) contextByServer.set(normalizeServer(server), context);
  }

  const seenServers = new Set([normalizeServer(primary.server ?? '')]);
  const peers: ClusterReader[] = [];
  // The secrets istiod reads, sorted by secret then key (the peer's cluster id).
  // Remote secrets, and an external istiod's istio-kubeconfig: its config cluster is a peer too.
  for (const entry of findRemoteSecrets(secrets, namespace)) {
    const { secretName, key: peerName } = entry;
    // The secret is data: it may name a server, never what runs or is read here (untrusted-kubeconfig.ts).
    const peer = loadUntrustedKubeconfig(entry.kubeconfig);
    const peerServer = peer.ok ? peer.credentials.server : peer.server;
    const server = peerServer === undefined ? undefined : normalizeServer(peerServer);
    if (server !== undefined && seenServers.has(server)) continue;
    // The operator's own context for that server, when there is one, whatever the secret holds.
    const context = server === undefined ? undefined : contextByServer.get(server);
    if (context) {
      seenServers.add(server!);
      peers.push(readerFor(context));
    } else if (peer.ok) {
      seenServers.add(server!);
      notes.push(`cluster ${peerName} (${peer.credentials.server}) has no kubeconfig context: reached read-only with the credentials of remote secret ${secretName}`);
      peers.push(createLiveReader({ name: peerName, inline: peer.credentials, ...readerLimits(opts) }));
    } else {
      notes.push(`cluster ${peerName}${peerServer ? ` (${peerServer})` : ''} of remote secret ${secretName} not probed: ${peer.reason}; add a kubeconfig context for it, or pass --context for each cluster`);
    }
  }
  return peers;
}
