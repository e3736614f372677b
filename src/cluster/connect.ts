// Which clusters a run diagnoses: the explicit --context list, or the current context plus the peers
// its istiod knows from remote secrets (matched to kubeconfig contexts by API server URL; a peer with
// no context is reached, read-only, with the remote secret's own credentials, as istioctl analyze does).
import { createLiveReader } from './live-reader.ts';
import { defaultContext, KubeconfigError, loadKubeconfig, remoteSecretKubeConfig } from './kubeconfig.ts';
import type { LoadedKubeconfig } from './kubeconfig.ts';
import { AccessError } from './types.ts';
import type { ClusterReader, KubeObject } from './types.ts';

/** Label Istio puts on remote secrets (`istioctl create-remote-secret`). */
export const REMOTE_SECRET_LABEL = 'istio/multiCluster';

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
}

/** Readers for the clusters to diagnose, and notes for the user (peers reached via remote secrets...). */
export interface ConnectedClusters {
  readers: ClusterReader[];
  notes: string[];
}

/** Connect to the clusters of a run. Throws KubeconfigError for an unusable kubeconfig or unknown context. */
export async function connectClusters(opts: ConnectOptions): Promise<ConnectedClusters> {
  const loaded = loadKubeconfig(opts.kubeconfigPath);
  const readerFor = (context: string): ClusterReader =>
    createLiveReader({
      name: context,
      context,
      kubeConfig: loaded.forContext(context),
      istioNamespace: opts.istioNamespace,
      maxConcurrent: opts.maxConcurrent,
      requestTimeoutMs: opts.requestTimeoutMs,
    });

  if (opts.contexts && opts.contexts.length > 0) {
    const unique = [...new Set(opts.contexts)];
    // Validate all names before connecting anywhere: an unknown context is an invocation error.
    for (const context of unique) loaded.forContext(context);
    return { readers: unique.map(readerFor), notes: [] };
  }

  const current = defaultContext(loaded);
  const primary = readerFor(current);
  const notes: string[] = [];
  const readers = [primary, ...(await discoverPeers(primary, loaded, opts, notes))];
  return { readers, notes };
}

/** Peers named by the primary's remote secrets, as readers; what could not be done goes to notes. */
async function discoverPeers(primary: ClusterReader, loaded: LoadedKubeconfig, opts: ConnectOptions, notes: string[]): Promise<ClusterReader[]> {
  let secrets: KubeObject[];
  try {
    secrets = await primary.list('secrets', { namespace: opts.istioNamespace });
  } catch (err) {
    if (!(err instanceof AccessError)) throw err;
    notes.push(`cannot read remote secrets of ${primary.name} (${err.message}): diagnosing ${primary.name} only; pass --context for each cluster`);
    return [];
  }
  const contextByServer = new Map<string, string>();
  for (const context of loaded.contexts) {
    const server = loaded.serverOf(context);
    if (server && !contextByServer.has(normalizeServer(server))) contextByServer.set(normalizeServer(server), context);
  }

  const seenServers = new Set([normalizeServer(primary.server ?? '')]);
  const peers: ClusterReader[] = [];
  const remoteSecrets = secrets
    .filter((s) => s.metadata.labels?.[REMOTE_SECRET_LABEL] === 'true')
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const secret of remoteSecrets) {
    const secretName = `${secret.metadata.namespace ?? opts.istioNamespace}/${secret.metadata.name}`;
    for (const [peerName, value] of Object.entries((secret.data ?? {}) as Record<string, string>).sort(([a], [b]) => a.localeCompare(b))) {
      let peer: ReturnType<typeof remoteSecretKubeConfig>;
      try {
        peer = remoteSecretKubeConfig(Buffer.from(value, 'base64').toString('utf8'), `remote secret ${secretName} key ${peerName}`);
      } catch (err) {
        if (!(err instanceof KubeconfigError)) throw err;
        notes.push(`skipped peer ${peerName}: ${err.message}`);
        continue;
      }
      const server = normalizeServer(peer.server);
      if (seenServers.has(server)) continue;
      seenServers.add(server);
      const context = contextByServer.get(server);
      if (context) {
        peers.push(
          createLiveReader({
            name: context,
            context,
            kubeConfig: loaded.forContext(context),
            istioNamespace: opts.istioNamespace,
            maxConcurrent: opts.maxConcurrent,
            requestTimeoutMs: opts.requestTimeoutMs,
          }),
        );
      } else {
        notes.push(`cluster ${peerName} (${peer.server}) has no kubeconfig context: reached read-only with the credentials of remote secret ${secretName}`);
        peers.push(
          createLiveReader({
            name: peerName,
            kubeConfig: peer.kubeConfig,
            istioNamespace: opts.istioNamespace,
            maxConcurrent: opts.maxConcurrent,
            requestTimeoutMs: opts.requestTimeoutMs,
            via: 'remote-secret',
          }),
        );
      }
    }
  }
  return peers;
}

/** Compare API server URLs as equal endpoints: case-insensitive host, default port, no trailing slash. */
export function normalizeServer(server: string): string {
  try {
    const url = new URL(server);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return `${url.protocol}//${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return server.replace(/\/+$/, '').toLowerCase();
  }
}
