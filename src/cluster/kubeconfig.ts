// Kubeconfig loading with kubectl's rules (explicit path, else KUBECONFIG merged with the first file
// winning, else ~/.kube/config) and one KubeConfig object per context: client-node mixes one
// context's server with another's credentials when contexts are switched on a shared KubeConfig.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Cluster, Context, User } from '@kubernetes/client-node';
import { firstLine } from './error-text.ts';
import { newCredentialScope, shareCredentials } from './exec-credential.ts';

/** The kubeconfig cannot be used; the message is one line naming the file or context and the fix. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** A loaded (possibly merged) kubeconfig. */
export interface LoadedKubeconfig {
  /** Files it was read from. */
  files: string[];
  /** Context names in file order. */
  contexts: string[];
  currentContext?: string;
  /** A KubeConfig holding only `context` (its cluster and user), current. Throws KubeconfigError when unknown. */
  forContext(context: string): KubeConfig;
  /** The API server URL of a context (no trailing slash). */
  serverOf(context: string): string | undefined;
}

/** Where Kubernetes mounts a pod's service account token and CA. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The context name of the in-cluster configuration. */
export const IN_CLUSTER_CONTEXT = 'in-cluster';

/**
 * Load a kubeconfig: `explicitPath`, else the files of KUBECONFIG (missing ones ignored, as kubectl
 * does), else ~/.kube/config, else, inside a pod (a CronJob, a CI runner in the cluster), the pod's
 * service account as client-go's in-cluster config reads it. Throws KubeconfigError for a missing
 * file, garbage YAML or no contexts.
 */
export function loadKubeconfig(explicitPath?: string, env: NodeJS.ProcessEnv = process.env, opts: { serviceAccountDir?: string } = {}): LoadedKubeconfig {
  let files: string[];
  if (explicitPath) {
    if (!existsSync(explicitPath)) throw new KubeconfigError(`kubeconfig ${explicitPath}: file not found`);
    files = [explicitPath];
  } else if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    files = listed.filter((f) => existsSync(f));
    if (files.length === 0) throw new KubeconfigError(`KUBECONFIG=${env.KUBECONFIG}: none of its files exists`);
  } else {
    const home = path.join(env.HOME ?? homedir(), '.kube', 'config');
    if (!existsSync(home)) {
      const inCluster = inClusterKubeconfig(env, opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
      if (inCluster) return inCluster;
      throw new KubeconfigError(`no kubeconfig: ${home} does not exist, KUBECONFIG is not set and this is not a pod with a service account (pass --kubeconfig)`);
    }
    files = [home];
  }

  const merged = { clusters: new Map<string, Cluster>(), users: new Map<string, User>(), contexts: new Map<string, Context>() };
  let currentContext: string | undefined;
  for (const file of files) {
    const kc = parseFile(file);
    // kubectl merge rule: the first file to define a name (or current-context) wins.
    for (const c of kc.clusters) if (!merged.clusters.has(c.name)) merged.clusters.set(c.name, c);
    for (const u of kc.users) if (!merged.users.has(u.name)) merged.users.set(u.name, u);
    for (const c of kc.contexts) if (!merged.contexts.has(c.name)) merged.contexts.set(c.name, c);
    currentContext ||= kc.currentContext || undefined;
  }
  const where = files.length === 1 ? `kubeconfig ${files[0]}` : `kubeconfig (${files.join(path.delimiter)})`;
  if (merged.contexts.size === 0) throw new KubeconfigError(`${where}: no contexts defined`);
  const contexts = [...merged.contexts.keys()];
  // One run: every context's exec plugin credential is shared per user (exec-credential.ts).
  const credentialScope = newCredentialScope();

  const contextObject = (name: string): Context => {
    const ctx = merged.contexts.get(name);
    if (!ctx) throw new KubeconfigError(`unknown context "${name}" in ${where} (available: ${contexts.join(', ')})`);
    return ctx;
  };
  return {
    files,
    contexts,
    currentContext: currentContext && merged.contexts.has(currentContext) ? currentContext : undefined,
    forContext(name) {
      const ctx = contextObject(name);
      const cluster = merged.clusters.get(ctx.cluster);
      if (!cluster) throw new KubeconfigError(`context "${name}" in ${where} names cluster "${ctx.cluster}", which is not defined`);
      const user = merged.users.get(ctx.user) ?? { name: ctx.user };
      const single = singleContext(cluster, user, ctx, `context "${name}" in ${where}`);
      shareCredentials(single, credentialScope);
      return single;
    },
    serverOf(name) {
      const ctx = merged.contexts.get(name);
      return ctx ? merged.clusters.get(ctx.cluster)?.server : undefined;
    },
  };
}

/**
 * The in-cluster configuration, as client-go's rest.InClusterConfig builds it: https to
 * KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, the mounted CA, and the mounted token, re-read as
 * the kubelet rotates it. Undefined outside a pod (either variable unset, or no token mounted).
 */
function inClusterKubeconfig(env: NodeJS.ProcessEnv, dir: string): LoadedKubeconfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = path.join(dir, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const caFile = path.join(dir, 'ca.crt');
  const cluster: Cluster = { name: IN_CLUSTER_CONTEXT, server, skipTLSVerify: false, ...(existsSync(caFile) ? { caFile } : {}) };
  // client-node's tokenFile provider reads the file again when it changes (bound tokens rotate hourly).
  const user = { name: IN_CLUSTER_CONTEXT, authProvider: { name: 'tokenFile', config: { tokenFile } } } as unknown as User;
  const context: Context = { name: IN_CLUSTER_CONTEXT, cluster: IN_CLUSTER_CONTEXT, user: IN_CLUSTER_CONTEXT };
  const where = `the in-cluster configuration (${dir})`;
  return {
    files: [],
    contexts: [IN_CLUSTER_CONTEXT],
    currentContext: IN_CLUSTER_CONTEXT,
    forContext(name) {
      if (name !== IN_CLUSTER_CONTEXT) throw new KubeconfigError(`unknown context "${name}" in ${where} (available: ${IN_CLUSTER_CONTEXT})`);
      return singleContext(cluster, user, context, where);
    },
    serverOf: (name) => (name === IN_CLUSTER_CONTEXT ? server : undefined),
  };
}

/** The context to use when none is given: the current one, or a KubeconfigError saying what to pass. */
export function defaultContext(loaded: LoadedKubeconfig): string {
  if (!loaded.currentContext) {
    throw new KubeconfigError(`kubeconfig ${loaded.files.join(path.delimiter)}: no current context; pass --context (available: ${loaded.contexts.join(', ')})`);
  }
  return loaded.currentContext;
}

/** C0 controls and DEL: a header value with one of them is refused by Node (and is never a real token). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * A KubeConfig holding only `context`, current: never one shared by contexts (see the header).
 * An entry no client could use (a server that is not an http(s) URL, a token with a line break) is
 * a KubeconfigError naming `where`, found before any request; secrets are never echoed.
 */
function singleContext(cluster: Cluster, user: User, context: Context, where: string): KubeConfig {
  let url: URL | undefined;
  try {
    url = new URL(cluster.server);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol)) {
    throw new KubeconfigError(`${where}: cluster "${cluster.name}" has server ${JSON.stringify(cluster.server ?? '')}, which is not an http(s) URL`);
  }
  for (const [field, value] of [['token', user.token], ['username', user.username], ['password', user.password]] as const) {
    if (value !== undefined && CONTROL_CHARACTER.test(value)) {
      throw new KubeconfigError(`${where}: user "${user.name}" has a ${field} containing a line break or control character (a stray newline when it was pasted?)`);
    }
  }
  const single = new KubeConfig();
  single.loadFromOptions({ clusters: [cluster], users: [user], contexts: [context], currentContext: context.name });
  return single;
}

/**
 * Parse the operator's kubeconfig text into a KubeConfig; KubeconfigError on garbage. Only for the
 * operator's files: client-node reads `token-file` while parsing, and the KubeConfig runs plugins.
 * A kubeconfig from a cluster goes through loadUntrustedKubeconfig instead.
 */
export function kubeConfigFromString(text: string, where: string): KubeConfig {
  if (!text.trim()) throw new KubeconfigError(`${where}: empty`);
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new KubeconfigError(`${where}: invalid kubeconfig: ${firstLine(err)}`);
  }
  if (kc.contexts.length === 0 && kc.clusters.length === 0) throw new KubeconfigError(`${where}: not a kubeconfig (no clusters or contexts)`);
  return kc;
}

function parseFile(file: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${file}: cannot read: ${firstLine(err)}`);
  }
  const kc = kubeConfigFromString(text, `kubeconfig ${file}`);
  kc.makePathsAbsolute(path.dirname(file));
  return kc;
}
