// The HTTPS transport to one API server. For the operator's own kubeconfig, TLS and credentials
// come from client-node's applyToHTTPSOptions (CA, client certs, bearer tokens, exec and
// auth-provider plugins); for a kubeconfig read from a cluster, from its inline data only (see
// untrusted-kubeconfig.ts), over a direct connection. The request itself is plain node:https so
// that we own timeouts and error mapping.
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { execConfigOf, execCredential } from './exec-credential.ts';
import { TunnelAgent } from './proxy.ts';
import { AccessError } from './types.ts';
import { firstLine, seconds } from './error-text.ts';
import { LocalAddressRefused, localAddressGuard, localServerRefusal } from './local-address.ts';
import { tlsMaterialProblem } from './tls-material.ts';
import type { InlineCredentials } from './untrusted-kubeconfig.ts';
import { USER_AGENT } from '../version.ts';

// Shared with the modules that build on this one.
export { firstLine, seconds } from './error-text.ts';

/**
 * The credentials of an endpoint: the operator's kubeconfig context (which may run its plugins and
 * read its files, and may go through a proxy: see proxy.ts), or inline credentials from cluster
 * data (which never do any of that).
 */
export type KubeCredentials = { kubeConfig: KubeConfig; proxy?: URL; inline?: never } | { inline: InlineCredentials; kubeConfig?: never; proxy?: never };

/** How to reach one API server. */
export type KubeEndpoint = KubeCredentials & {
  /** Cluster name for errors. */
  cluster: string;
  /** API server URL without trailing slash. */
  server: string;
};

/** A completed HTTP exchange. */
export interface ApiResponse {
  status: number;
  body: string;
}

/** Cap on a response body: a list page of 500 objects stays far below it. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * TLS and auth options for `endpoint` (fresh per call: exec-plugin tokens expire). `agent` is removed:
 * callers that want pooling pass their own.
 */
export async function connectionOptions(endpoint: KubeEndpoint, timeoutMs = DEFAULT_CREDENTIAL_TIMEOUT_MS): Promise<https.RequestOptions> {
  const opts = endpoint.inline ? inlineOptions(endpoint.inline, endpoint.cluster) : await kubeconfigOptions({ ...endpoint, kubeConfig: endpoint.kubeConfig }, timeoutMs);
  // Every request and WebSocket (exec, port-forward) says who makes it, as kubectl does.
  opts.headers = { ...(opts.headers as Record<string, string> | undefined), 'User-Agent': USER_AGENT };
  return opts;
}

async function kubeconfigOptions(endpoint: KubeEndpoint & { kubeConfig: KubeConfig }, timeoutMs: number): Promise<https.RequestOptions> {
  const opts: https.RequestOptions = {};
  const exec = execConfigOf(endpoint.kubeConfig);
  try {
    if (exec) {
      // Our own bounded plugin run (see exec-credential.ts), then the rest of the user's settings.
      // Three quarters of the request's deadline: the request itself still needs time, and a hung
      // plugin is then reported as such rather than as a silent API.
      const credential = await execCredential(endpoint.kubeConfig, endpoint.cluster, Math.round(timeoutMs * 0.75));
      await withoutExec(endpoint.kubeConfig).applyToHTTPSOptions(opts);
      if (credential.token) opts.headers = { ...(opts.headers as Record<string, string> | undefined), Authorization: `Bearer ${credential.token}` };
      if (credential.clientCertificateData) opts.cert = credential.clientCertificateData;
      if (credential.clientKeyData) opts.key = credential.clientKeyData;
    } else {
      await endpoint.kubeConfig.applyToHTTPSOptions(opts);
    }
  } catch (err) {
    if (err instanceof AccessError) throw err;
    // Exec plugins and unreadable cert files fail here: the cluster cannot be reached with these credentials.
    throw new AccessError('unauthorized', endpoint.cluster, `cannot obtain credentials: ${firstLine(err)}`);
  }
  delete opts.agent;
  // A token read from a file or given by an exec plugin can still carry a line break: Node would
  // refuse the header with a TypeError, which is a credential problem of this cluster, not a bug.
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (typeof value === 'string' && /[\r\n\0]/.test(value)) {
      throw new AccessError('unauthorized', endpoint.cluster, `cannot obtain credentials: the ${name} header holds a line break (check the token)`);
    }
  }
  const unusable = tlsMaterialProblem(opts);
  if (unusable) throw new AccessError('unauthorized', endpoint.cluster, `cannot obtain credentials: ${unusable} (fix the user or cluster of ${endpoint.cluster} in the kubeconfig)`);
  return opts;
}

/** Deadline of an exec credential plugin when the caller gives none. */
const DEFAULT_CREDENTIAL_TIMEOUT_MS = 20_000;

/** The same context with the user's exec stanza removed (its CA, TLS name and the rest kept). */
const staticCopies = new WeakMap<KubeConfig, KubeConfig>();
function withoutExec(kubeConfig: KubeConfig): KubeConfig {
  let copy = staticCopies.get(kubeConfig);
  if (!copy) {
    const context = kubeConfig.getContextObject(kubeConfig.currentContext)!;
    const { exec: _exec, authProvider: _authProvider, ...user } = kubeConfig.getCurrentUser() as User & { authProvider?: unknown };
    copy = new KubeConfig();
    copy.loadFromOptions({ clusters: [kubeConfig.getCurrentCluster()!], users: [user as User], contexts: [context], currentContext: context.name });
    staticCopies.set(kubeConfig, copy);
  }
  return copy;
}

/**
 * TLS and auth options from inline credentials: nothing is read or run, and the server is reached
 * only where cluster data may send credentials (local-address.ts): a local address by name is
 * refused here, one a name resolves to by the `lookup` every socket of the endpoint connects with.
 */
function inlineOptions(credentials: InlineCredentials, cluster: string): https.RequestOptions {
  const refused = localServerRefusal(credentials.server, credentials.allowLocal);
  if (refused) throw new LocalAddressRefused(cluster, refused);
  const opts: https.RequestOptions = { rejectUnauthorized: !credentials.insecureSkipTlsVerify };
  if (credentials.allowLocal !== 'any') opts.lookup = localAddressGuard(cluster, credentials.server, credentials.allowLocal);
  if (credentials.caPem) opts.ca = credentials.caPem;
  if (credentials.tlsServerName) opts.servername = credentials.tlsServerName;
  if (credentials.clientCertPem && credentials.clientKeyPem) {
    opts.cert = credentials.clientCertPem;
    opts.key = credentials.clientKeyPem;
  }
  if (credentials.token) opts.headers = { Authorization: `Bearer ${credentials.token}` };
  return opts;
}

/** GET `path` (with query) from the API server; resolves any HTTP status, rejects AccessError on transport failure. */
export function apiGet(endpoint: KubeEndpoint, path: string, timeoutMs: number, agent?: https.Agent): Promise<ApiResponse> {
  return apiRequest(endpoint, 'GET', path, timeoutMs, { agent });
}

/** POST a JSON body to the API server; resolves any HTTP status, rejects AccessError on transport failure. */
export function apiPost(endpoint: KubeEndpoint, path: string, body: unknown, timeoutMs: number): Promise<ApiResponse> {
  return apiRequest(endpoint, 'POST', path, timeoutMs, { body: JSON.stringify(body) });
}

async function apiRequest(endpoint: KubeEndpoint, method: 'GET' | 'POST', path: string, timeoutMs: number, extra: { agent?: https.Agent; body?: string }): Promise<ApiResponse> {
  const base = await connectionOptions(endpoint, timeoutMs);
  const url = new URL(endpoint.server + path);
  const isHttps = url.protocol === 'https:';
  const headers: Record<string, string> = { ...(base.headers as Record<string, string> | undefined), Accept: 'application/json' };
  if (extra.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(extra.body));
  }
  // Inline (cluster-data) endpoints never get a proxy, nor the global agents, which follow the
  // operator's proxy environment under NODE_USE_ENV_PROXY: `agent: false` is a fresh, direct one.
  const agent = extra.agent ?? (endpoint.proxy ? sharedTunnelAgent(endpoint.proxy) : undefined);
  const chosen = isHttps && agent ? agent : endpoint.inline ? false : undefined;
  const options: https.RequestOptions = { ...base, method, headers, ...(chosen !== undefined ? { agent: chosen } : {}) };
  return new Promise<ApiResponse>((resolve, reject) => {
    const request = (isHttps ? https : http).request(url, options, (res) => {
      // Decoded chunk by chunk into one (rope) string: no Buffer.concat copy of a 20 MB list page
      // before its decoding (issue 19); JSON.parse flattens it once.
      const decoder = new StringDecoder('utf8');
      let body = '';
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          request.destroy(new AccessError('bad-response', endpoint.cluster, `bad response: ${method} ${path} is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`));
          return;
        }
        body += decoder.write(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body + decoder.end() }));
      res.on('error', (err) => reject(transportError(err, endpoint, timeoutMs)));
    });
    request.setTimeout(timeoutMs, () => {
      request.destroy(new AccessError('timeout', endpoint.cluster, `timeout: no answer from ${endpoint.server} within ${seconds(timeoutMs)}`));
    });
    request.on('error', (err) => reject(transportError(err, endpoint, timeoutMs)));
    request.end(extra.body);
  });
}

/** One tunnelling agent per proxy for callers without their own pool. */
const tunnelAgents = new Map<string, TunnelAgent>();
function sharedTunnelAgent(proxy: URL): TunnelAgent {
  let agent = tunnelAgents.get(proxy.href);
  if (!agent) tunnelAgents.set(proxy.href, (agent = new TunnelAgent(proxy)));
  return agent;
}

/** Map a socket/TLS/DNS failure to an AccessError that names the server and the cause. */
export function transportError(err: unknown, endpoint: KubeEndpoint, timeoutMs: number): AccessError {
  if (err instanceof AccessError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new AccessError('timeout', endpoint.cluster, `timeout: no answer from ${endpoint.server} within ${seconds(timeoutMs)}`);
  }
  return new AccessError('unreachable', endpoint.cluster, `unreachable: ${endpoint.server}: ${describeCause(err)}`);
}

function describeCause(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = firstLine(err);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `DNS lookup failed (${code})`;
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL/.test(code)) return `TLS verification failed: ${message}`;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/** The `message` of a Kubernetes Status body, if the body is one. */
export function statusMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { kind?: string; message?: unknown };
    return parsed.kind === 'Status' && typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

