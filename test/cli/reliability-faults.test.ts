// Reliability under transport faults and bad input, through the CLI (issue 11, "Also:"): each case
// asserts the outcome, the exit code, and that the other checks and clusters still report.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startLab, type RunningLab, type StartLabOptions } from '../../src/lab/index.ts';
import { main } from '../../src/cli/main.ts';
import type { Report } from '../../src/engine/types.ts';
import { REPO_ROOT, type CliRun } from './run-cli.ts';
import { startCountingProxy, type CountingProxy } from '../helpers/connect-proxy.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function lab(opts: StartLabOptions = { scenario: 'multi-primary' }): Promise<RunningLab> {
  const running = await startLab(opts);
  cleanups.push(() => running.stop());
  return running;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-reliability-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Run the CLI in-process; `onStderr` sees every stderr write as it happens (to change faults mid-run). */
async function run(args: string[], opts: { env?: Record<string, string>; onStderr?: (text: string) => void } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const exitCode = await main(args, {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: {
      write: (text: string) => {
        stderr += text;
        opts.onStderr?.(text);
        return true;
      },
      isTTY: false,
    },
    env: { CI: 'true', ...opts.env },
    cwd: REPO_ROOT,
    version: '0.0.0-test',
    columns: 120,
  });
  expect(stderr).not.toMatch(/internal error|This is a bug|\n\s+at .+:\d+:\d+/);
  return { args, exitCode, stdout, stderr };
}

function report(run: CliRun): Report {
  return JSON.parse(run.stdout) as Report;
}

/** Start the real CLI; resolves its exit code and output once it ends. */
function spawnCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [`${REPO_ROOT}bin/meshdoctor.js`, ...args], { cwd: REPO_ROOT, env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, exited };
}

/** A kubeconfig of the lab's with one change (users, clusters or contexts edited in place). */
interface KubeconfigDoc {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
  [key: string]: unknown;
}

function editedKubeconfig(running: RunningLab, edit: (doc: KubeconfigDoc) => void): string {
  const doc = YAML.parse(readFileSync(running.kubeconfigPath, 'utf8')) as KubeconfigDoc;
  edit(doc);
  const path = join(tempDir(), 'kubeconfig');
  writeFileSync(path, YAML.stringify(doc), { mode: 0o600 });
  return path;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('interrupts, retries and deadlines', () => {
  it('SIGINT during peer discovery on a slow API exits 130 and still writes JUnit and JSON with `aborted`', async () => {
    const running = await lab();
    // After startup (which waits for every API to answer): every answer of cluster1 now takes 60 s.
    running.servers[0].setTransportFaults({ latencyMs: 60_000 });
    const dir = tempDir();
    const before = running.servers[0].received;
    const cli = spawnCli(['all', '--kubeconfig', running.kubeconfigPath, '-o', 'human', '-o', `junit=${join(dir, 'r.xml')}`, '-o', `json=${join(dir, 'r.json')}`]);
    // The remote-secret list of peer discovery has reached the API and is waiting for its answer.
    await until(() => running.servers[0].received > before, 'the first API request');
    cli.child.kill('SIGINT');
    const ended = await cli.exited;
    expect(ended.code).toBe(130);
    expect(ended.stderr).toContain('interrupted; partial reports written');
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as Report;
    // The report's exit code is the process's; the human report of what finished is printed too.
    expect([json.aborted, json.exitCode]).toEqual(['interrupted', 130]);
    expect(ended.stdout).toMatch(/^meshdoctor /);
    expect(readFileSync(join(dir, 'r.xml'), 'utf8')).toMatch(/<error message="run aborted: interrupted/);
  }, 60_000);

  it('--wait refetches on retry: a 500 that clears is seen as cleared (exit 0)', async () => {
    const running = await lab({ scenario: 'multi-primary', transport: { cluster1: { failPaths: ['/api/v1/pods'] } } });
    let retries = 0;
    const result = await run(['all', '--kubeconfig', running.kubeconfigPath, '--context', 'cluster1', '--context', 'cluster2', '--only', 'control-plane/istiod-ready', '--wait', '30s', '-o', 'json'], {
      onStderr: (text) => {
        // The first round failed on the 500: the API recovers before the retry.
        if (text.startsWith('waiting:')) {
          retries += 1;
          running.servers[0].setTransportFaults({});
        }
      },
    });
    expect(retries).toBe(1);
    expect(report(result).results.map((r) => [r.cluster, r.outcome])).toEqual([
      ['cluster1', 'pass'],
      ['cluster2', 'pass'],
    ]);
    expect(result.exitCode).toBe(0);
    const podLists = running.servers[0].audit.filter((e) => e.path.startsWith('/api/v1/pods?')).map((e) => e.status);
    expect(podLists).toEqual([500, 200]);
  }, 60_000);

  it('--timeout bounds discovery: a cluster that does not answer in time is unreachable, the others report', async () => {
    const running = await lab();
    running.servers[1].setTransportFaults({ latencyMs: 120_000 });
    const started = Date.now();
    const result = await run(['all', '--kubeconfig', running.kubeconfigPath, '--context', 'cluster1', '--context', 'cluster2', '--timeout', '2s', '--only', 'control-plane/istiod-ready', '--only', 'network/eastwest-gateway', '-o', 'json']);
    // Far below the API's delay, whatever the machine's load: nothing waited for cluster2's answers.
    expect(Date.now() - started).toBeLessThan(60_000);
    const parsed = report(result);
    const cluster2 = parsed.clusters.find((c) => c.name === 'cluster2')!;
    expect([cluster2.reachable, cluster2.unreachableReason]).toEqual([false, expect.stringMatching(/^timeout: .*within 2s/)]);
    expect(parsed.results.filter((r) => r.cluster === 'cluster2').map((r) => r.outcome)).toEqual(['error', 'error']);
    expect(parsed.results.filter((r) => r.cluster === 'cluster1').map((r) => r.outcome)).toEqual(['pass', 'pass']);
    expect(result.exitCode).toBe(3);
  }, 90_000);
});




describe('bad input in the operator\'s kubeconfig', () => {
  it.each([
    ['a token with CR/LF', (doc: KubeconfigDoc) => (doc.users[0].user.token = 'abc\r\nX-Injected: 1'), /user "cluster1" has a token containing a line break/],
    ['a server that is not a URL', (doc: KubeconfigDoc) => (doc.clusters[0].cluster.server = 'not a url'), /cluster "cluster1" has server "not a url", which is not an http\(s\) URL/],
  ])('%s is a usage error: exit 2, one line', async (_name, edit, message) => {
    const running = await lab();
    const kubeconfig = editedKubeconfig(running, edit);
    const result = await run(['all', '--kubeconfig', kubeconfig]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)]);
  });

  it('a garbage client certificate in one user: only that cluster is unreachable, with the reason; the healthy one reports', async () => {
    const running = await lab();
    const kubeconfig = editedKubeconfig(running, (doc) => {
      const user = doc.users.find((u) => u.name === 'cluster2')!.user;
      user['client-certificate-data'] = Buffer.from('garbage').toString('base64');
      user['client-key-data'] = Buffer.from('garbage').toString('base64');
    });
    const result = await run(['all', '--kubeconfig', kubeconfig, '--context', 'cluster1', '--context', 'cluster2', '--skip', 'connectivity', '--skip', 'control-plane/remote-api-access', '-o', 'json']);
    const parsed = report(result);
    expect(result.stdout).not.toMatch(/PEM routines|no start line/);
    const cluster2 = parsed.clusters.find((c) => c.name === 'cluster2')!;
    expect([cluster2.reachable, cluster2.unreachableReason]).toEqual([false, expect.stringMatching(/client certificate cannot be used: not PEM data/)]);
    for (const r of parsed.results.filter((r) => r.cluster === 'cluster2')) expect(r.outcome === 'error' || r.skipReason?.startsWith('depends on')).toBe(true);
    // cluster1 is examined as usual: none of its checks errors.
    const cluster1 = parsed.results.filter((r) => r.cluster === 'cluster1');
    expect(cluster1.length).toBeGreaterThan(10);
    expect(cluster1.filter((r) => r.outcome === 'error').map((r) => `${r.checkId}: ${r.error}`)).toEqual([]);
    expect(result.exitCode).toBe(3);
  }, 60_000);
});

/** True while `pid` runs (a zombie waiting for its reaper has stopped running). */
function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('kubeconfig exec credential plugins (the operator\'s own kubeconfig: allowed)', () => {
  /** cluster1's user authenticates with an exec plugin running `script` (sh). */
  function withPlugin(running: RunningLab, script: string): string {
    return editedKubeconfig(running, (doc) => {
      const user = doc.users.find((u) => u.name === 'cluster1')!;
      user.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', script], interactiveMode: 'Never' } };
    });
  }

  it('a plugin that answers: its token is used, the cluster is examined', async () => {
    const running = await lab();
    const token = running.mesh.clusters[0].adminToken;
    const kubeconfig = withPlugin(running, `printf '%s' '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'`);
    const result = await run(['all', '--kubeconfig', kubeconfig, '--context', 'cluster1', '--only', 'control-plane/istiod-ready', '-o', 'json']);
    expect(report(result).results.map((r) => [r.cluster, r.outcome])).toEqual([['cluster1', 'pass']]);
    expect(result.exitCode).toBe(0);
  });

  it('a plugin that hangs is stopped at --timeout (its children too): that cluster is unreachable, the other reports', async () => {
    const running = await lab();
    const pidFile = join(tempDir(), 'plugin.pid');
    const kubeconfig = withPlugin(running, `sleep 300 & echo $! > ${pidFile}; wait`);
    const result = await run(['all', '--kubeconfig', kubeconfig, '--context', 'cluster1', '--context', 'cluster2', '--only', 'control-plane/istiod-ready', '--timeout', '4s', '-o', 'json']);
    const parsed = report(result);
    expect(parsed.clusters.map((c) => [c.name, c.reachable])).toEqual([
      ['cluster1', false],
      ['cluster2', true],
    ]);
    // The plugin's deadline (3/4 of --timeout) comes before discovery's: the reason names the plugin.
    expect(parsed.clusters[0].unreachableReason).toMatch(/exec plugin "\/bin\/sh" did not answer within 3s/);
    expect(parsed.results.map((r) => [r.cluster, r.outcome])).toEqual([
      ['cluster1', 'error'],
      ['cluster2', 'pass'],
    ]);
    expect(result.exitCode).toBe(3);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(1);
    await until(() => !isRunning(pid), 'the plugin to be gone', 5000);
  }, 60_000);

  it('Ctrl-C while a plugin hangs: exit 130, reports written, the plugin and its children killed', async () => {
    const running = await lab();
    const dir = tempDir();
    const pidFile = join(dir, 'plugin.pid');
    const kubeconfig = withPlugin(running, `sleep 300 & echo $! > ${pidFile}; wait`);
    const cli = spawnCli(['all', '--kubeconfig', kubeconfig, '-o', `json=${join(dir, 'r.json')}`]);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 'the plugin to start');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    cli.child.kill('SIGINT');
    const ended = await cli.exited;
    expect(ended.code).toBe(130);
    expect((JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as Report).aborted).toBe('interrupted');
    await until(() => !isRunning(pid), 'the plugin to be gone', 5000);
  }, 60_000);

  it('a plugin that exits 1: unreachable with its stderr line, no internal error', async () => {
    const running = await lab();
    const kubeconfig = withPlugin(running, 'echo "login expired, run sso login" >&2; exit 1');
    const result = await run(['all', '--kubeconfig', kubeconfig, '--context', 'cluster1', '--context', 'cluster2', '--only', 'control-plane/istiod-ready', '-o', 'json']);
    const parsed = report(result);
    expect(parsed.clusters[0].unreachableReason).toMatch(/exec plugin "\/bin\/sh" exited 1: login expired, run sso login/);
    expect(parsed.results.map((r) => r.outcome)).toEqual(['error', 'pass']);
    expect(result.exitCode).toBe(3);
  });

  it('runs once per user per run, however many contexts and requests use it', async () => {
    const running = await lab();
    const [cluster1, cluster2] = running.mesh.clusters;
    // The plugin's one token opens both lab clusters.
    cluster2.users.set(cluster1.adminToken, cluster2.users.get(cluster2.adminToken)!);
    const runs = join(tempDir(), 'runs');
    const kubeconfig = editedKubeconfig(running, (doc) => {
      const script = `echo run >> '${runs}'; printf '%s' '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${cluster1.adminToken}"}}'`;
      doc.users = [{ name: 'ops', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', script], interactiveMode: 'Never' } } }];
      for (const context of doc.contexts) context.context.user = 'ops';
    });
    const result = await run(['all', '--kubeconfig', kubeconfig, '--context', 'cluster1', '--context', 'cluster2', '--skip', 'connectivity', '-o', 'json']);
    expect(report(result).clusters.map((c) => [c.name, c.reachable])).toEqual([['cluster1', true], ['cluster2', true]]);
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('KUBERNETES_EXEC_INFO as kubectl sets it: not interactive; with provideClusterInfo, the cluster, once per cluster', async () => {
    const running = await lab();
    const dir = tempDir();
    const tokenByServer = Object.fromEntries(running.mesh.clusters.map((c) => [c.endpoint.server, c.adminToken]));
    const kubeconfig = editedKubeconfig(running, (doc) => {
      // The plugin saves what it was told and answers with the token of the server it was told about.
      const pick = Object.entries(tokenByServer).map(([server, token]) => `*'"${server}"'*) t=${token};;`).join(' ');
      const script = `f=$(mktemp '${dir}/info.XXXXXX'); printf '%s' "$KUBERNETES_EXEC_INFO" > "$f"; case "$KUBERNETES_EXEC_INFO" in ${pick} esac; printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$t"`;
      doc.users = [{ name: 'ops', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', script], interactiveMode: 'Never', provideClusterInfo: true } } }];
      for (const context of doc.contexts) context.context.user = 'ops';
    });
    const result = await run(['all', '--kubeconfig', kubeconfig, '--context', 'cluster1', '--context', 'cluster2', '--only', 'control-plane/istiod-ready', '-o', 'json']);
    expect(report(result).results.map((r) => [r.cluster, r.outcome])).toEqual([['cluster1', 'pass'], ['cluster2', 'pass']]);
    const infos = readdirSync(dir).filter((f) => f.startsWith('info.')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
    expect(infos.map((i) => i.spec.cluster.server).sort()).toEqual(Object.keys(tokenByServer).sort());
    for (const info of infos) {
      expect(info).toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } });
      expect(info.spec.cluster['certificate-authority-data']).toMatch(/^[A-Za-z0-9+/=]+$/);
    }
  });
});

describe('exec that runs and fails', () => {
  it('connectivity errors with the exec failure instead of skipping with "no probe tools"; the other cluster probes', async () => {
    const running = await lab({ scenario: 'multi-primary', transport: { cluster1: { execFail: true } } });
    const result = await run(['all', '--kubeconfig', running.kubeconfigPath, '--context', 'cluster1', '--context', 'cluster2', '--only', 'connectivity', '--probe-count', '2', '-o', 'json']);
    const parsed = report(result);
    const cluster1 = parsed.results.filter((r) => r.cluster === 'cluster1');
    expect(cluster1.length).toBeGreaterThan(0);
    for (const r of cluster1) {
      expect(r.skipReason ?? '').not.toMatch(/no probe tools/);
      expect([r.outcome, r.error]).toEqual(['error', expect.stringMatching(/cannot detect the probe tools: .*exited 1: error: the lab injected an exec failure/)]);
    }
    const cluster2 = parsed.results.filter((r) => r.cluster === 'cluster2');
    expect(cluster2.length).toBeGreaterThan(0);
    expect(cluster2.filter((r) => r.outcome === 'error' && /probe tools/.test(r.error ?? ''))).toEqual([]);
    expect(cluster2.some((r) => r.outcome === 'pass')).toBe(true);
    expect(result.exitCode).toBe(3);
  }, 90_000);
});

describe('oversized input', () => {
  it('a 10,000-certificate root bundle is refused with the reason, without stalling the run: no check times out', async () => {
    const running = await lab();
    const cacerts = running.mesh.clusters[0].objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'cacerts' && o.metadata.namespace === 'istio-system')!;
    const root = Buffer.from(cacerts.data['root-cert.pem'], 'base64').toString('utf8').trim();
    cacerts.data['root-cert.pem'] = Buffer.from(Array.from({ length: 10_000 }, () => root).join('\n')).toString('base64');
    const result = await run(['all', '--kubeconfig', running.kubeconfigPath, '--context', 'cluster1', '--context', 'cluster2', '--skip', 'connectivity', '--timeout', '10s', '-o', 'json']);
    const parsed = report(result);
    expect(parsed.results.filter((r) => /timed out/.test(r.error ?? '')).map((r) => `${r.checkId} [${r.cluster}]`)).toEqual([]);
    // Whatever read the bundle says why it stopped; nothing vouches for what it did not read.
    const mentions = parsed.results.filter((r) => JSON.stringify(r).includes('holds 10000 certificates; meshdoctor reads at most 500'));
    expect(mentions.length).toBeGreaterThan(0);
    // Too many to read is "could not check", never a verdict on the CA: no pass, no fail.
    for (const r of mentions) expect(['error', 'skip']).toContain(r.outcome);
    expect(mentions.filter((r) => r.outcome === 'error').map((r) => r.checkId)).toEqual(expect.arrayContaining(['certificates/cacerts', 'certificates/shared-root']));
    // cluster2's own checks are untouched by cluster1's bundle. (While the lab, in this process, serves
    // the bundle, cluster1's API may not answer cluster2's remote-secret probe: an outage, said as such.)
    const cluster2 = parsed.results.filter((r) => r.cluster === 'cluster2' && r.category !== 'certificates');
    const outage = (r: (typeof cluster2)[number]) => r.checkId === 'control-plane/remote-api-access' && /cluster1 \(its API server .* does not answer/.test(r.error ?? '');
    expect(cluster2.filter((r) => r.outcome === 'error' && !outage(r)).map((r) => `${r.checkId}: ${r.error}`)).toEqual([]);
    expect(cluster2.flatMap((r) => r.findings.filter((f) => f.severity === 'error')).map((f) => `${f.checkId} ${f.messageId}`)).toEqual([]);
    expect(result.exitCode).toBe(3);
  }, 120_000);
});

describe('proxies of the operator\'s kubeconfig, as kubectl honours them', () => {
  async function proxy(): Promise<CountingProxy> {
    const started = await startCountingProxy();
    cleanups.push(() => started.stop());
    return started;
  }
  const portOf = (server: string): string => new URL(server).port;
  const ONLY = ['--only', 'control-plane/istiod-ready', '--only', 'control-plane/remote-sync', '-o', 'json'];

  it('a cluster\'s proxy-url carries its API requests and exec WebSockets; the other cluster goes direct', async () => {
    const running = await lab();
    const tunnels = await proxy();
    const kubeconfig = editedKubeconfig(running, (doc) => {
      doc.clusters.find((c) => c.name === 'cluster1')!.cluster['proxy-url'] = tunnels.url;
    });
    const result = await run(['all', '--kubeconfig', kubeconfig, '--context', 'cluster1', '--context', 'cluster2', ...ONLY]);
    expect(report(result).results.map((r) => [r.checkId, r.cluster, r.outcome])).toEqual([
      ['control-plane/istiod-ready', 'cluster1', 'pass'],
      ['control-plane/istiod-ready', 'cluster2', 'pass'],
      ['control-plane/remote-sync', 'cluster1', 'pass'],
      ['control-plane/remote-sync', 'cluster2', 'pass'],
    ]);
    expect(result.exitCode).toBe(0);
    expect([...tunnels.tunnels.keys()]).toEqual([`127.0.0.1:${portOf(running.clusters[0].server)}`]);
    // Pooled API requests plus at least one exec WebSocket (istiod's debug output).
    expect(tunnels.total()).toBeGreaterThanOrEqual(2);
  }, 60_000);

  /** The lab's servers under names only the proxy resolves (`.invalid` never resolves), TLS name kept. */
  function behindNames(running: RunningLab): string {
    return editedKubeconfig(running, (doc) => {
      for (const c of doc.clusters) {
        c.cluster.server = `https://${c.name}.meshdoctor.invalid:${portOf(String(c.cluster.server))}`;
        c.cluster['tls-server-name'] = 'kubernetes.default.svc';
      }
    });
  }

  it('HTTPS_PROXY carries every cluster\'s requests', async () => {
    const running = await lab();
    const tunnels = await proxy();
    const result = await run(['all', '--kubeconfig', behindNames(running), '--context', 'cluster1', '--context', 'cluster2', ...ONLY], { env: { HTTPS_PROXY: tunnels.url } });
    expect(report(result).results.map((r) => r.outcome)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(result.exitCode).toBe(0);
    expect([...tunnels.tunnels.keys()].sort()).toEqual(running.clusters.map((c) => `${c.name}.meshdoctor.invalid:${portOf(c.server)}`).sort());
  }, 60_000);

  it('NO_PROXY excludes hosts from HTTPS_PROXY: no tunnel, a direct connection (which cannot resolve here)', async () => {
    const running = await lab();
    const tunnels = await proxy();
    const result = await run(['all', '--kubeconfig', behindNames(running), '--context', 'cluster1', '--context', 'cluster2', ...ONLY], {
      env: { HTTPS_PROXY: tunnels.url, NO_PROXY: 'localhost,.meshdoctor.invalid' },
    });
    expect(tunnels.total()).toBe(0);
    const parsed = report(result);
    expect(parsed.clusters.map((c) => [c.reachable, c.unreachableReason])).toEqual([
      [false, expect.stringMatching(/DNS lookup failed/)],
      [false, expect.stringMatching(/DNS lookup failed/)],
    ]);
    expect(result.exitCode).toBe(3);
  }, 60_000);
});

describe('one cluster reached through two contexts', () => {
  it('two contexts with the same API server URL and CA: exit 2, one line naming both', async () => {
    const running = await lab();
    const kubeconfig = editedKubeconfig(running, (doc) => {
      doc.contexts.push({ name: 'alias', context: { ...doc.contexts[0].context } });
    });
    const result = await run(['all', '--kubeconfig', kubeconfig, '--context', 'cluster1', '--context', 'alias', '--only', 'control-plane/cluster-ids']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/contexts "cluster1" and "alias" reach the same API server .*pass only one of them/)]);
  });

  it('two contexts whose kube-system namespaces share a uid: exit 2, not a duplicate cluster id', async () => {
    const running = await lab();
    const kubeSystem = (i: number) => running.mesh.clusters[i].objects.find((o) => o.kind === 'Namespace' && o.metadata.name === 'kube-system')!;
    // Another URL for the same cluster (a proxy, a load balancer): the API answers with one identity.
    kubeSystem(1).metadata.uid = kubeSystem(0).metadata.uid;
    const result = await run(['all', '--kubeconfig', running.kubeconfigPath, '--context', 'cluster1', '--context', 'cluster2', '--only', 'control-plane/cluster-ids', '-o', 'json']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/cluster1 and cluster2 are the same Kubernetes cluster \(kube-system namespace uid /);
    expect(result.stdout).toBe('');
  });

  it('distinct clusters carry distinct kube-system uids in the report', async () => {
    const running = await lab();
    const result = await run(['all', '--kubeconfig', running.kubeconfigPath, '--context', 'cluster1', '--context', 'cluster2', '--only', 'control-plane/cluster-ids', '-o', 'json']);
    const uids = report(result).clusters.map((c) => c.kubeSystemUid);
    expect(uids.every((uid) => typeof uid === 'string' && uid.length > 0)).toBe(true);
    expect(new Set(uids).size).toBe(2);
    expect(result.exitCode).toBe(0);
  });
});
