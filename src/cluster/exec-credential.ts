// kubeconfig `exec` credential plugins (client.authentication.k8s.io ExecCredential), run the way
// kubectl runs them but bounded: a deadline, an output cap, no stdin, and killed when meshdoctor
// stops (Ctrl-C included). client-node's ExecAuth has no deadline and leaves a hung plugin running.
// Only the operator's own kubeconfig gets here: a kubeconfig read from a cluster never runs a program.
import { spawn, type ChildProcess } from 'node:child_process';
import type { KubeConfig } from '@kubernetes/client-node';
import { seconds } from './error-text.ts';
import { AccessError } from './types.ts';

/** What a plugin gave: a token and/or a client certificate, maybe with an expiry. */
export interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** A kubeconfig user's `exec` stanza, as client-node parses it. */
interface ExecConfig {
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
  /** As kubectl: the plugin gets the cluster's connection details in KUBERNETES_EXEC_INFO. */
  provideClusterInfo?: boolean;
}

/** Bound on what a plugin may print: an ExecCredential is a few KiB. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
/** A credential this close to expiry is fetched again. */
const EXPIRY_MARGIN_MS = 10_000;

/** Plugins still running: killed when the process exits, whatever the reason. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Credentials are shared by the contexts of one loaded kubeconfig (one run): a plugin runs once per
 * user, not once per context or request (a user with provideClusterInfo runs once per cluster, since
 * what it is told differs). KubeConfigs outside any scope get one of their own.
 */
type CredentialScope = Map<string, Promise<ExecCredentialStatus>>;
const scopes = new WeakMap<KubeConfig, CredentialScope>();

/** Make `kubeConfig` share exec credentials with the others of `scope` (one per loaded kubeconfig). */
export function shareCredentials(kubeConfig: KubeConfig, scope: CredentialScope): void {
  scopes.set(kubeConfig, scope);
}

/** A new sharing scope (see shareCredentials). */
export function newCredentialScope(): CredentialScope {
  return new Map();
}

function scopeOf(kubeConfig: KubeConfig): CredentialScope {
  let scope = scopes.get(kubeConfig);
  if (!scope) scopes.set(kubeConfig, (scope = newCredentialScope()));
  return scope;
}

/** Who the plugin speaks for: the user's name and stanza, plus the cluster when it is told about it. */
function credentialKey(kubeConfig: KubeConfig, exec: ExecConfig): string {
  const user = kubeConfig.getCurrentUser();
  const cluster = exec.provideClusterInfo ? kubeConfig.getCurrentCluster()?.server : undefined;
  return JSON.stringify([user?.name ?? '', exec, cluster ?? null]);
}

/** The `exec` stanza of the current user of `kubeConfig`, if it has one. */
export function execConfigOf(kubeConfig: KubeConfig): ExecConfig | undefined {
  const user = kubeConfig.getCurrentUser() as { exec?: ExecConfig; authProvider?: { config?: { exec?: ExecConfig } } } | null;
  return user?.exec ?? user?.authProvider?.config?.exec ?? undefined;
}

/**
 * The credential of `kubeConfig`'s exec plugin, run at most once at a time and again only when the
 * credential expires. Failures (deadline, non-zero exit, no ExecCredential) are AccessErrors naming
 * the plugin; they are remembered, so one run does not start a hung plugin once per request.
 */
export function execCredential(kubeConfig: KubeConfig, cluster: string, timeoutMs: number): Promise<ExecCredentialStatus> {
  const exec = execConfigOf(kubeConfig) ?? {};
  const scope = scopeOf(kubeConfig);
  const key = credentialKey(kubeConfig, exec);
  const cached = scope.get(key);
  if (cached) {
    const fresh = cached.then((status) => !status.expirationTimestamp || Date.parse(status.expirationTimestamp) - EXPIRY_MARGIN_MS > Date.now(), () => true);
    return fresh.then((ok) => (ok ? cached : refresh()));
  }
  return refresh();

  function refresh(): Promise<ExecCredentialStatus> {
    const pending = runPlugin(exec, execInfo(kubeConfig, exec), cluster, timeoutMs);
    scope.set(key, pending);
    return pending;
  }
}

/**
 * KUBERNETES_EXEC_INFO as kubectl sets it: the ExecCredential the plugin answers, never interactive
 * here (stdin is not a terminal), with the cluster's connection details when the user asks for them.
 */
function execInfo(kubeConfig: KubeConfig, exec: ExecConfig): string {
  const spec: Record<string, unknown> = { interactive: false };
  const cluster = kubeConfig.getCurrentCluster();
  if (exec.provideClusterInfo && cluster) {
    spec.cluster = {
      server: cluster.server,
      ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
      ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
      ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
      ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
    };
  }
  return JSON.stringify({ apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec });
}

function runPlugin(exec: ExecConfig, info: string, cluster: string, timeoutMs: number): Promise<ExecCredentialStatus> {
  const command = exec.command;
  if (!command) return Promise.reject(new AccessError('unauthorized', cluster, 'cannot obtain credentials: the exec plugin of the kubeconfig user names no command'));
  const name = `exec plugin "${command}"`;
  const env = { ...process.env };
  for (const { name: key, value } of exec.env ?? []) env[key] = value;
  // As kubectl: the plugin learns it may not prompt (stdin is not a terminal here).
  env.KUBERNETES_EXEC_INFO = info;

  installExitHook();
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // Its own process group, so that stopping it stops what it started too (`sh -c '... sleep'`).
      child = spawn(command, exec.args ?? [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      reject(new AccessError('unauthorized', cluster, `cannot obtain credentials: ${name} could not start: ${(err as Error).message}`));
      return;
    }
    running.add(child);
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (outcome: ExecCredentialStatus | AccessError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) killGroup(child);
      running.delete(child);
      if (outcome instanceof AccessError) reject(outcome);
      else resolve(outcome);
    };
    const fail = (text: string): void => finish(new AccessError('unauthorized', cluster, `cannot obtain credentials: ${name} ${text}`));
    const timer = setTimeout(() => fail(`did not answer within ${seconds(timeoutMs)}; it was stopped (does it wait for a login? run it once by hand)`), timeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > MAX_OUTPUT_BYTES) fail(`printed more than ${MAX_OUTPUT_BYTES} bytes`);
    });
    child.stderr!.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ENOENT' ? 'not found (is it installed and on PATH?)' : `could not run: ${err.message}`));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = stderr.trim().split('\n')[0];
        fail(`${signal ? `was killed by ${signal}` : `exited ${code}`}${why ? `: ${why.slice(0, 200)}` : ''}`);
        return;
      }
      let status: ExecCredentialStatus | undefined;
      try {
        status = (JSON.parse(stdout) as { status?: ExecCredentialStatus }).status;
      } catch {
        status = undefined;
      }
      if (!status || (typeof status.token !== 'string' && typeof status.clientCertificateData !== 'string')) {
        fail('printed no ExecCredential with a token or client certificate');
        return;
      }
      finish(status);
    });
  });
}

/** Kill every plugin still running (Ctrl-C, or the process ending for any reason). */
export function killCredentialPlugins(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  child.kill('SIGKILL');
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' listeners run on process.exit(130) too; sending a signal is synchronous.
  process.once('exit', killCredentialPlugins);
}
