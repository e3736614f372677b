// Probe a peer API server with the credentials of an Istio remote secret, read-only, the way istiod
// would use them: GET /version, then what istiod's informers need (list and watch of pods, services,
// endpointslices and namespaces) asked through SelfSubjectAccessReviews, falling back to `limit=1`
// lists when the reviews themselves are refused. The answer is what meshdoctor sees from where it
// runs, which may differ from what istiod's pod sees.
import { loadUntrustedKubeconfig } from './untrusted-kubeconfig.ts';
import { LocalAddressRefused, localServerRefusal, type LocalAddressAllowance } from './local-address.ts';
import { sameServer } from '../mesh/remote-secrets.ts';
import { apiGet, apiPost, firstLine, statusMessage, type KubeEndpoint } from './kube-http.ts';
import { AccessError } from './types.ts';
import type { RemoteApiAccess, RemoteApiProbe } from '../engine/types.ts';
export type { RemoteApiAccess, RemoteApiProbe } from '../engine/types.ts';

/** Options of one probe. */
export interface RemoteProbeOptions {
  /** Deadline of each request (default 5 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Where a local server may be probed (local-address.ts); by default nowhere local. */
  localServers?: LocalServerPolicy;
}

/**
 * The caller's word on local servers of remote secrets (never the secret's): loopback allowed (the
 * embedded lab, whose API servers all listen on 127.0.0.1, or --allow-loopback-remote-secrets), and
 * the servers of the operator's own kubeconfig, which the operator already trusts (any address).
 */
export interface LocalServerPolicy {
  loopback?: boolean;
  /** API server URLs of the operator's kubeconfig contexts. */
  trustedServers?: readonly string[];
}

/** What istiod's informers read in a remote cluster, with the API paths of their `limit=1` lists. */
const REQUIRED_ACCESS = [
  { resource: 'pods', group: '', path: '/api/v1/pods' },
  { resource: 'services', group: '', path: '/api/v1/services' },
  { resource: 'endpointslices', group: 'discovery.k8s.io', path: '/apis/discovery.k8s.io/v1/endpointslices' },
  { resource: 'namespaces', group: '', path: '/api/v1/namespaces' },
] as const;

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Probe the API server of a remote secret's kubeconfig. Never throws for the remote's sake: transport
 * failures come back as `reachable: false` with the reason. Only the kubeconfig's inline data is
 * used (loadUntrustedKubeconfig): one that would run a program, read a local file or use a proxy is
 * refused without contacting anything, as `notProbed` with the reason, and so is a server on this
 * machine or its link-local network (by address, or a name resolving there) unless `localServers`
 * allows it.
 */
export async function probeRemoteApi(kubeconfigText: string, opts: RemoteProbeOptions = {}): Promise<RemoteApiProbe> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const loaded = loadUntrustedKubeconfig(kubeconfigText);
  if (!loaded.ok) return notProbed(loaded.reason);
  const { server } = loaded.credentials;
  // A server on this machine or its link-local network is refused before anything is sent, unless
  // the caller allows it; a name resolving there is refused by the connection's own lookup.
  const allowLocal = localAllowance(server, opts.localServers);
  const refused = localServerRefusal(server, allowLocal);
  if (refused) return notProbed(refused);
  const credentials = allowLocal ? { ...loaded.credentials, allowLocal } : loaded.credentials;
  const endpoint: KubeEndpoint = { cluster: server, server, inline: credentials };

  const version = await guarded(() => apiGet(endpoint, '/version', timeoutMs), opts.signal);
  if ('error' in version) return version.refused !== undefined ? notProbed(version.refused) : { reachable: false, error: version.error, access: [] };
  const result: RemoteApiProbe = { reachable: true, status: version.value.status, access: [] };
  if (version.value.status === 200) {
    try {
      const gitVersion = (JSON.parse(version.value.body) as { gitVersion?: unknown }).gitVersion;
      if (typeof gitVersion === 'string') result.version = gitVersion;
    } catch {
      // A /version that is not JSON still proves the server answers.
    }
  } else if (version.value.status === 401) {
    result.error = `401 Unauthorized${suffix(statusMessage(version.value.body))}`;
    return result;
  }
  // The resources are asked at once (issue 19): one after another they were 8 round trips, each on a
  // new connection, on the longest chain of a run at 50 ms latency. The answers are read in the same order.
  result.access.push(...(await Promise.all(REQUIRED_ACCESS.map((need) => accessOf(endpoint, need, timeoutMs, opts.signal)))));
  return result;
}

/** What the policy lets this server reach: any address for one of the operator's servers, loopback in the lab or when asked. */
export function localAllowance(server: string, policy: LocalServerPolicy | undefined): LocalAddressAllowance | undefined {
  if (policy?.trustedServers?.some((trusted) => sameServer(trusted, server))) return 'any';
  return policy?.loopback ? 'loopback' : undefined;
}

function notProbed(reason: string): RemoteApiProbe {
  return { reachable: false, notProbed: reason, error: `not probed: ${reason}`, access: [] };
}

async function accessOf(endpoint: KubeEndpoint, need: (typeof REQUIRED_ACCESS)[number], timeoutMs: number, signal?: AbortSignal): Promise<RemoteApiAccess> {
  const denied: string[] = [];
  // Both reviews at once; judged in order, list first, as when the watch review waited for the list's.
  const verbs = ['list', 'watch'];
  const answers = await Promise.all(
    verbs.map((verb) => {
      const review = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, group: need.group, resource: need.resource } },
      };
      return guarded(() => apiPost(endpoint, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', review, timeoutMs), signal);
    }),
  );
  for (const [i, verb] of verbs.entries()) {
    const answer = answers[i];
    if ('error' in answer) return { resource: need.resource, allowed: undefined, reason: answer.error };
    if (answer.value.status !== 201 && answer.value.status !== 200) return listFallback(endpoint, need, timeoutMs, signal);
    let allowed: unknown;
    try {
      allowed = (JSON.parse(answer.value.body) as { status?: { allowed?: unknown } }).status?.allowed;
    } catch {
      allowed = undefined;
    }
    if (typeof allowed !== 'boolean') return listFallback(endpoint, need, timeoutMs, signal);
    if (!allowed) denied.push(verb);
  }
  return denied.length ? { resource: need.resource, allowed: false, reason: `${denied.join(' and ')} denied` } : { resource: need.resource, allowed: true };
}

/** When SelfSubjectAccessReviews are refused: try the list itself (watch cannot be told this way). */
async function listFallback(endpoint: KubeEndpoint, need: (typeof REQUIRED_ACCESS)[number], timeoutMs: number, signal?: AbortSignal): Promise<RemoteApiAccess> {
  const answer = await guarded(() => apiGet(endpoint, `${need.path}?limit=1`, timeoutMs), signal);
  if ('error' in answer) return { resource: need.resource, allowed: undefined, reason: answer.error };
  const { status, body } = answer.value;
  if (status === 200) return { resource: need.resource, allowed: true };
  if (status === 403) return { resource: need.resource, allowed: false, reason: `list denied${suffix(statusMessage(body))}` };
  return { resource: need.resource, allowed: undefined, reason: `HTTP ${status} on list${suffix(statusMessage(body))}` };
}

/** Run a request, turning transport failures and aborts into a one-line error (`refused`: by local-address.ts, nothing sent). */
async function guarded<T>(request: () => Promise<T>, signal?: AbortSignal): Promise<{ value: T } | { error: string; refused?: string }> {
  if (signal?.aborted) return { error: 'aborted' };
  try {
    const aborted = new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    return { value: await Promise.race([request(), aborted]) };
  } catch (err) {
    if (err instanceof LocalAddressRefused) return { error: err.message, refused: err.refusal };
    return { error: err instanceof AccessError ? err.message : firstLine(err) };
  }
}

function suffix(text: string | undefined): string {
  return text ? `: ${text}` : '';
}
