// A kubeconfig found in a cluster is data: remote secrets (and istio-kubeconfig) that would run a
// program, read a local file or use a proxy are "not probed", through every command that connects
// to clusters. Each case has a tripwire that fires if meshdoctor ever does it:
//   - exec and auth-provider commands would create marker files;
//   - every file a secret names is one FIFO whose writer (a separate process) logs each open and
//     writes a unique token, which the lab's API server would authenticate as a user of its own;
//   - proxy-url and the operator's proxy environment point at a listener counting connections.
// The operator's kubeconfig holds cluster1 only, so every secret's server is foreign to it and the
// secret's own credentials are what discovery and remote-api-access would use. The lab's servers are
// on this machine's loopback, where a secret's credentials go only with --allow-loopback-remote-secrets
// (the security rule): the runs pass it, so that what is refused is refused for what the secret asks.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { type RunningLab } from '../../src/lab/index.ts';
import { startCliLab } from './cli-lab.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import type { LabMeshState } from '../../src/lab/types.ts';
import type { Report } from '../../src/engine/types.ts';
import { runCliInProcess, runCliProcess, type CliRun } from './run-cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'meshdoctor-untrusted-'));
const FIFO = path.join(dir, 'local-secret-file');
const FIFO_LOG = path.join(dir, 'fifo-opened.log');
/** What every local file named by a secret holds; the lab authenticates it as STOLEN_USER. */
const STOLEN_TOKEN = `stolen-${randomUUID()}`;
const STOLEN_USER = 'stolen-local-file-token';
const marker = (name: string) => path.join(dir, `marker-${name}`);

let lab: RunningLab;
let operatorKubeconfig: string;
let fifoWriter: ChildProcess;
let proxy: net.Server;
let proxyConnections = 0;

const b64 = (text: string) => Buffer.from(text).toString('base64');

function secret(name: string, key: string, kubeconfig: object, multiCluster = true): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: 'istio-system',
      ...(multiCluster ? { labels: { 'istio/multiCluster': 'true' }, annotations: { 'networking.istio.io/cluster': key } } : {}),
      uid: randomUUID(),
      resourceVersion: '1',
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    type: 'Opaque',
    data: { [key]: b64(YAML.stringify(kubeconfig)) },
  };
}

/** A kubeconfig for `server` trusting `caPem` inline, with extra cluster fields and a user. */
function kubeconfig(server: string, caPem: string | undefined, cluster: object, user: object): object {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'peer', cluster: { server, ...(caPem ? { 'certificate-authority-data': b64(caPem) } : {}), ...cluster } }],
    users: [{ name: 'peer', user }],
    contexts: [{ name: 'peer', context: { cluster: 'peer', user: 'peer' } }],
    'current-context': 'peer',
  };
}

/** What an exec plugin prints: a credential with the stolen token, so a run that used it would be seen by the server too. */
const EXEC_CREDENTIAL = `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"${STOLEN_TOKEN}"}}`;

/** Keys (peer cluster ids) of the secrets that must never be used, and what each would do. */
const HOSTILE_PEERS = ['evil-exec', 'evil-gcp', 'evil-token-file', 'evil-tokenfile', 'evil-client-cert', 'evil-ca-file', 'evil-proxy-url'];

function hostileObjects(mesh: LabMeshState): Record<string, KubeObject[]> {
  const peer = mesh.clusters[1];
  // A name that resolves to cluster2's API server without matching the operator's kubeconfig (127.0.0.1).
  const server = peer.endpoint.server.replace('127.0.0.1', 'localhost');
  const ca = peer.endpoint.caPem;
  peer.users.set(STOLEN_TOKEN, { name: STOLEN_USER, groups: ['system:authenticated'] });
  const readerSecret = peer.objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'istio-reader-service-account-istio-remote-secret-token')!;
  const readerToken = Buffer.from(String(readerSecret.data!.token), 'base64').toString('utf8');
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  const execUser = (name: string) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: '/bin/sh', args: ['-c', `touch ${marker(name)}; echo '${EXEC_CREDENTIAL}'`] } });
  // One server URL per secret (a path prefix), so that no secret hides behind another's server.
  const hostile = (key: string, cluster: object, user: object, caPem: string | undefined = ca) =>
    secret(`istio-remote-secret-${key}`, key, kubeconfig(`${server}/${key}`, caPem, cluster, user));
  return {
    cluster1: [
      hostile('evil-exec', {}, execUser('exec')),
      hostile('evil-gcp', {}, {
        'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh', 'cmd-args': `-c "touch ${marker('gcp')}; echo '{}'"`, 'token-key': '{.token}', 'expiry-key': '{.expiry}' } },
      }),
      hostile('evil-token-file', {}, { 'token-file': FIFO }),
      hostile('evil-tokenfile', {}, { tokenFile: FIFO }),
      hostile('evil-client-cert', {}, { 'client-certificate': FIFO, 'client-key': FIFO }),
      hostile('evil-ca-file', { 'certificate-authority': FIFO }, { token: readerToken }, undefined),
      hostile('evil-proxy-url', { 'proxy-url': proxyUrl }, { token: readerToken }),
      // The external control plane form, which remote-api-access probes too.
      secret('istio-kubeconfig', 'config', kubeconfig(`${server}/config`, ca, {}, execUser('config')), false),
      // A usable secret whose server the operator's kubeconfig does not name: reached with its inline token, directly.
      secret('istio-remote-secret-foreign-ok', 'foreign-ok', kubeconfig(server, ca, {}, { token: readerToken })),
    ],
  };
}

beforeAll(async () => {
  proxy = net.createServer((socket) => {
    proxyConnections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  execFileSync('mkfifo', [FIFO]);
  // A separate process, so that a synchronous read in meshdoctor could not deadlock the writer.
  fifoWriter = spawn('/bin/sh', ['-c', 'trap "" PIPE; while [ -p "$FIFO" ]; do { printf %s "$TOKEN" > "$FIFO"; } 2>/dev/null; echo opened >> "$LOG"; done'], {
    env: { FIFO, TOKEN: STOLEN_TOKEN, LOG: FIFO_LOG, PATH: process.env.PATH },
    stdio: 'ignore',
  });
  lab = await startCliLab({ scenario: 'multi-primary', objects: hostileObjects });
  const doc = YAML.parse(readFileSync(lab.kubeconfigPath, 'utf8'));
  for (const list of ['clusters', 'users', 'contexts']) doc[list] = doc[list].filter((entry: { name: string }) => entry.name === 'cluster1');
  operatorKubeconfig = path.join(dir, 'operator.kubeconfig');
  writeFileSync(operatorKubeconfig, YAML.stringify(doc), { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  fifoWriter?.kill();
  await lab?.stop();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** Nothing a secret asked for happened on this machine or reached a server. */
function expectNothingRanOrWasRead(run: CliRun): void {
  expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(run.stderr).not.toMatch(/internal error/);
  for (const name of ['exec', 'gcp', 'config']) expect(existsSync(marker(name)), `marker-${name}`).toBe(false);
  expect(existsSync(FIFO_LOG), 'a file named by a secret was opened').toBe(false);
  const cluster2 = lab.servers.find((s) => s.cluster === 'cluster2')!;
  expect(cluster2.audit.filter((entry) => entry.user === STOLEN_USER)).toEqual([]);
  expect(proxyConnections).toBe(0);
  // Discovery says why each of them is left out.
  for (const peer of HOSTILE_PEERS) expect(run.stderr).toMatch(new RegExp(`note: cluster ${peer} \\(https://localhost:\\d+/${peer}\\) of remote secret istio-system/istio-remote-secret-${peer} not probed: the kubeconfig uses `));
}

/** Lets the secrets' loopback servers (the lab's cluster2, under the name localhost) be probed. */
const ALLOW_LOOPBACK = '--allow-loopback-remote-secrets';

/** The operator's proxy settings, which must not be applied to a secret's server either. */
const proxyEnv = () => {
  const url = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  return { HTTPS_PROXY: url, https_proxy: url, HTTP_PROXY: url, http_proxy: url, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' };
};

describe('kubeconfigs from a cluster never act on the operator\'s machine', () => {
  it.each([
    ['all', []],
    ['control-plane', []],
    ['services', []],
    ['network', []],
    ['certificates', []],
    ['connectivity', []],
    ['all', ['--wait', '6s']],
  ])('meshdoctor %s %s', async (command, extra) => {
    const run = await runCliInProcess([command, '--kubeconfig', operatorKubeconfig, ALLOW_LOOPBACK, '-o', 'json', ...extra], proxyEnv());
    expectNothingRanOrWasRead(run);
    expect([0, 1, 3]).toContain(run.exitCode);
    const report = JSON.parse(run.stdout) as Report;
    // The usable foreign secret was used (with its inline token, directly): the rule refuses only what acts locally.
    expect(report.clusters.map((c) => [c.name, c.via, c.reachable])).toEqual(expect.arrayContaining([['foreign-ok', 'remote-secret', true]]));
    for (const peer of HOSTILE_PEERS) expect(report.clusters.map((c) => c.name)).not.toContain(peer);
    if (command === 'all' || command === 'control-plane') {
      const probes = report.results.filter((r) => r.checkId === 'control-plane/remote-api-access' && r.cluster === 'cluster1').flatMap((r) => r.findings);
      const bySecret = new Map(probes.map((f) => [f.resource?.name, f.messageId]));
      for (const peer of HOSTILE_PEERS) expect([peer, bySecret.get(`istio-remote-secret-${peer}`)]).toEqual([peer, 'notProbed']);
      expect(bySecret.get('istio-kubeconfig')).toBe('notProbed');
      expect(bySecret.get('istio-remote-secret-foreign-ok')).not.toBe('notProbed');
    }
  }, 90_000);

  it('meshdoctor snapshot', async () => {
    const out = path.join(dir, 'snapshot');
    const run = await runCliInProcess(['snapshot', '--kubeconfig', operatorKubeconfig, ALLOW_LOOPBACK, '--out', out], proxyEnv());
    expectNothingRanOrWasRead(run);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/snapshot of 3 cluster\(s\) written/);
    // Analysing it offline reads the captured secrets as data too.
    const offline = await runCliInProcess(['all', '--snapshot', out, '-o', 'json'], proxyEnv());
    expect(offline.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect([0, 1, 3]).toContain(offline.exitCode);
    for (const name of ['exec', 'gcp', 'config']) expect(existsSync(marker(name)), `marker-${name}`).toBe(false);
    expect(existsSync(FIFO_LOG)).toBe(false);
    expect(proxyConnections).toBe(0);
  }, 90_000);

  it('a usable secret\'s server is reached directly, never through the operator\'s proxy environment (NODE_USE_ENV_PROXY too)', async () => {
    const run = await runCliProcess(['control-plane', '--kubeconfig', operatorKubeconfig, ALLOW_LOOPBACK, '--only', 'control-plane/remote-api-access', '-o', 'json'], { ...proxyEnv(), NODE_USE_ENV_PROXY: '1' });
    expectNothingRanOrWasRead(run);
    const report = JSON.parse(run.stdout) as Report;
    const foreign = report.results.find((r) => r.cluster === 'cluster1')!.findings.filter((f) => f.resource?.name === 'istio-remote-secret-foreign-ok');
    expect(foreign.map((f) => f.messageId)).not.toContain('peerUnreachable');
    expect(report.clusters.find((c) => c.name === 'foreign-ok')?.reachable).toBe(true);
  }, 90_000);

  // The security rule (issue 11): without the opt-in, a secret naming this machine (localhost) is not
  // probed with its token, in discovery nor in remote-api-access; nothing at all reaches cluster2,
  // which the operator's kubeconfig does not name.
  it.each([
    ['all', ['all']],
    ['snapshot', ['snapshot', '--out', path.join(dir, 'strict-snapshot')]],
  ])('meshdoctor %s without --allow-loopback-remote-secrets: the loopback secret is not probed, cluster2 receives no request', async (command, args) => {
    const cluster2 = lab.servers.find((s) => s.cluster === 'cluster2')!;
    cluster2.audit.length = 0;
    const run = await runCliInProcess([...args, '--kubeconfig', operatorKubeconfig, ...(command === 'all' ? ['-o', 'json'] : [])], proxyEnv());
    expectNothingRanOrWasRead(run);
    expect(run.stderr).toMatch(/note: cluster foreign-ok \(https:\/\/localhost:\d+\) of remote secret istio-system\/istio-remote-secret-foreign-ok not probed: its server https:\/\/localhost:\d+ is localhost, a loopback address/);
    expect(cluster2.audit).toEqual([]);
    if (command === 'all') {
      const report = JSON.parse(run.stdout) as Report;
      expect(report.clusters.map((c) => c.name)).toEqual(['cluster1']);
      const findings = report.results.filter((r) => r.checkId === 'control-plane/remote-api-access' && r.cluster === 'cluster1').flatMap((r) => r.findings);
      expect(findings.find((f) => f.resource?.name === 'istio-remote-secret-foreign-ok')?.messageId).toBe('notProbed');
      expect(findings.map((f) => f.messageId)).not.toContain('peerUnreachable');
    }
  }, 90_000);
});
