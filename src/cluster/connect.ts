// Which clusters a run diagnoses: the explicit --context list, or the current context plus the peers
// its istiod knows from remote secrets (matched to kubeconfig contexts by API server URL; a peer with
// no context is reached, read-only, with the remote secret's own inline credentials, as istioctl
// analyze does, and only when loadUntrustedKubeconfig lets them through).
import { createLiveReader } from './live-reader.ts';
import { proxyFor } from './proxy.ts';
import { defaultContext, KubeconfigError, loadKubeconfig } from './kubeconfig.ts';
import type { LoadedKubeconfig } from './kubeconfig.ts';
import { loadUntrustedKubeconfig } from './untrusted-kubeconfig.ts';
import { LocalAddressRefused, localServerRefusal } from './local-address.ts';
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
  /**
   * --allow-loopback-remote-secrets: a peer whose remote secret names a loopback server (this
   * machine) and which has no kubeconfig context may still be read with the secret's credentials
   * (a test stack on this machine). Off, such a peer is not probed (local-address.ts).
   */
  allowLoopbackRemoteSecrets?: boolean;
}

/** Readers for the clusters to diagnose, and notes for the user (peers reached via remote secrets...). */
export interface ConnectedClusters {
  readers: ClusterReader[];
  notes: string[];
  /** The API server URLs of the operator's kubeconfig contexts: servers the operator already trusts. */
  trustedServers: string[];
}

/** Connect to the clusters of a run. Throws KubeconfigError for an unusable kubeconfig or unknown context. */
export async function connectClusters(opts: ConnectOptions): Promise<ConnectedClusters> {
  const loaded = loadKubeconfig(opts.kubeconfigPath);
  const trustedServers = loaded.contexts.map((context) => loaded.serverOf(context)).filter((server): server is string => Boolean(server));
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
    return { readers: unique.map(readerFor), notes: [], trustedServers };
  }

  const current = defaultContext(loaded);
  const primary = readerFor(current);
  const notes: string[] = [];
  const readers = [primary, ...(await discoverPeers(primary, loaded, readerFor, opts, notes))];
  return { readers, notes, trustedServers };
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
  /** Readers through a secret's credentials, with the note that says so. */
  const viaSecret = new Map<ClusterReader, { note: string; peerName: string; secretName: string }>();
  const allowLocal = opts.allowLoopbackRemoteSecrets ? 'loopback' : undefined;
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
    } else if (peer.ok && localServerRefusal(peer.credentials.server, allowLocal)) {
      // This machine or its metadata service, by address: never with a Secret's credentials.
      notes.push(`cluster ${peerName} (${peer.credentials.server}) of remote secret ${secretName} not probed: ${localServerRefusal(peer.credentials.server, allowLocal)}`);
    } else if (peer.ok) {
      seenServers.add(server!);
      const reader = createLiveReader({ name: peerName, inline: allowLocal ? { ...peer.credentials, allowLocal } : peer.credentials, ...readerLimits(opts) });
      viaSecret.set(reader, { note: `cluster ${peerName} (${peer.credentials.server}) has no kubeconfig context: reached read-only with the credentials of remote secret ${secretName}`, peerName, secretName });
      peers.push(reader);
    } else {
      notes.push(`cluster ${peerName}${peerServer ? ` (${peerServer})` : ''} of remote secret ${secretName} not probed: ${peer.reason}; add a kubeconfig context for it, or pass --context for each cluster`);
    }
  }
  // A name that resolves to this machine or its metadata service is refused by the lookup of the
  // connection itself (never a second lookup here, which a rebinding DNS could answer differently):
  // the first request of each such reader tells, and a refused peer is not probed, like the above.
  const refused = new Map(await Promise.all([...viaSecret.keys()].map(async (reader) => [reader, await refusedByLookup(reader)] as const)));
  const kept: ClusterReader[] = [];
  for (const reader of peers) {
    const through = viaSecret.get(reader);
    const refusal = refused.get(reader);
    if (through && refusal) {
      notes.push(`cluster ${through.peerName} (${reader.server}) of remote secret ${through.secretName} not probed: ${refusal.refusal}`);
      continue;
    }
    if (through) notes.push(through.note);
    kept.push(reader);
  }
  return kept;
}

/** How long discovery waits for a secret-reached peer's first answer before going on without it. */
const FIRST_ANSWER_WAIT_MS = 2000;

/**
 * Whether the first request of a reader through a secret's credentials (GET /version, memoized by
 * the reader) was refused by its lookup guard. A refusal comes right after DNS resolution; a peer
 * that is slow or down is not waited for beyond FIRST_ANSWER_WAIT_MS (discovery reports it).
 */
async function refusedByLookup(reader: ClusterReader): Promise<LocalAddressRefused | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), FIRST_ANSWER_WAIT_MS);
  });
  try {
    return await Promise.race([reader.version().then(() => undefined, (err: unknown) => (err instanceof LocalAddressRefused ? err : undefined)), waited]);
  } finally {
    clearTimeout(timer);
  }
}
