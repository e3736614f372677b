// The real stack (issue 15): two clusters on 127.0.0.1 made of real components built from their Go
// modules (realstack/{kube,etcd,kwok,istiod}: go.mod and go.sum only), with a lab scenario's objects
// applied through the real API. One etcd (a prefix per cluster), per cluster a kube-apiserver (audit
// log at level Metadata), a kube-controller-manager (service-account tokens, EndpointSlices, GC) and a
// kwok (node and pod status; the kubelet side of exec and port-forward), and per primary a real
// pilot-discovery with the scenario's cacerts and remote secrets made the way
// `istioctl create-remote-secret` makes them (the reader service account's token Secret, filled by
// the real token controller).
//
// Binaries live outside the repository in ~/.cache/meshdoctor-realstack/<component>-<version>/ and
// are built when missing (`nice -n 15`, GOFLAGS=-p=2, the module and build caches of
// ~/.cache/meshdoctor-conformance shared with conformance/istiod).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, writeSync, chmodSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type { KubeObject } from '../src/cluster/types.ts';
import type { LabFault, LabMeshState } from '../src/lab/types.ts';
import { READER_USERNAME } from '../src/lab/model/remote-access.ts';
import { envoyAdmin } from '../src/lab/sim/index.ts';
import { meshSimOf } from '../src/lab/sim/mesh.ts';

const here = dirname(fileURLToPath(import.meta.url));
const MODCACHE_ROOT = process.env.MESHDOCTOR_CONFORMANCE_CACHE ?? join(homedir(), '.cache', 'meshdoctor-conformance');
const BIN_ROOT = process.env.MESHDOCTOR_REALSTACK_CACHE ?? join(homedir(), '.cache', 'meshdoctor-realstack');
const GOMODCACHE = join(MODCACHE_ROOT, 'mod');

export const KUBE_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.7.3';
export const KWOK_VERSION = 'v0.8.0';
export const ISTIO_VERSION = 'v0.0.0-20260827124520-eed52ebb66ad';
const ISTIO_REV = ISTIO_VERSION.slice(-12);

interface Component {
  name: string;
  module: string;
  dir: string;
  binaries: string[];
  packages: string[];
  ldflags: string;
}

const kubeLdflags = [
  '-s -w',
  `-X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}`,
  '-X k8s.io/component-base/version.gitMajor=1',
  `-X k8s.io/component-base/version.gitMinor=${KUBE_VERSION.split('.')[1]}`,
  '-X k8s.io/component-base/version.gitTreeState=clean',
  '-X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z',
  `-X k8s.io/client-go/pkg/version.gitVersion=${KUBE_VERSION}`,
  '-X k8s.io/client-go/pkg/version.gitMajor=1',
  `-X k8s.io/client-go/pkg/version.gitMinor=${KUBE_VERSION.split('.')[1]}`,
].join(' ');

export const COMPONENTS: Component[] = [
  { name: 'kube', module: 'kube', dir: `kube-${KUBE_VERSION}`, binaries: ['kube-apiserver', 'kube-controller-manager'], packages: ['k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kube-controller-manager'], ldflags: kubeLdflags },
  { name: 'etcd', module: 'etcd', dir: `etcd-${ETCD_VERSION}`, binaries: ['etcd'], packages: ['go.etcd.io/etcd/server/v3'], ldflags: '-s -w' },
  { name: 'kwok', module: 'kwok', dir: `kwok-${KWOK_VERSION}`, binaries: ['kwok'], packages: ['sigs.k8s.io/kwok/cmd/kwok'], ldflags: '-s -w' },
  {
    name: 'istiod',
    module: 'istiod',
    dir: `istiod-${ISTIO_REV}`,
    binaries: ['pilot-discovery'],
    packages: ['istio.io/istio/pilot/cmd/pilot-discovery'],
    // pkg/version/version.go of istio.io/istio at the pinned version: buildVersion and friends.
    ldflags: `-s -w -X istio.io/istio/pkg/version.buildVersion=1.31-dev -X istio.io/istio/pkg/version.buildGitRevision=${ISTIO_REV} -X istio.io/istio/pkg/version.buildStatus=Clean -X istio.io/istio/pkg/version.buildTag=1.31-dev`,
  },
];

/** Path of a built binary. */
export function binPath(component: string, binary: string): string {
  const c = COMPONENTS.find((x) => x.name === component)!;
  return join(BIN_ROOT, c.dir, binary);
}

/** What building gave, per component: seconds, or the command and error that failed (blocked). */
export interface BuildResult {
  name: string;
  built: boolean;
  seconds?: number;
  blocked?: { command: string; error: string };
}

/** Build every component whose binaries are missing. */
export function buildMissing(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): BuildResult[] {
  const env = { ...process.env, GOMODCACHE, GOCACHE: join(MODCACHE_ROOT, 'build'), GOFLAGS: process.env.GOFLAGS ?? '-mod=readonly -p=2' };
  return COMPONENTS.map((c): BuildResult => {
    const out = join(BIN_ROOT, c.dir);
    if (c.binaries.every((b) => existsSync(join(out, b)))) return { name: c.name, built: false };
    mkdirSync(out, { recursive: true });
    const args = ['-n', '15', 'go', 'build', '-trimpath', '-ldflags', c.ldflags, '-o', c.binaries.length > 1 ? `${out}/` : join(out, c.binaries[0]), ...c.packages];
    const started = Date.now();
    log(`realstack: building ${c.name} (${c.packages.join(' ')})`);
    try {
      execFileSync('nice', args, { cwd: join(here, c.module), env, stdio: ['ignore', 'inherit', 'pipe'] });
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? err).trim();
      return { name: c.name, built: false, blocked: { command: `cd realstack/${c.module} && nice ${args.join(' ')}`, error: stderr.split('\n').slice(-20).join('\n') } };
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`realstack: built ${c.name} in ${seconds} s`);
    return { name: c.name, built: true, seconds };
  });
}

/** One real cluster. */
export interface RealCluster {
  name: string;
  server: string;
  caPem: string;
  /** The components' user (admin, system:masters): controller-manager, kwok, istiod, the stack's own writes. */
  token: string;
  /** The user of the served kubeconfig (meshdoctor, system:masters too): the audit log tells its requests apart. */
  userToken: string;
  auditLog: string;
  kubeconfig: string;
  /** The primary's istiod monitoring port (debug endpoints), when it runs one. */
  istiodMonitoring?: number;
}

/** A running real stack. */
export interface RealStack {
  dir: string;
  /** The served kubeconfig: a context per cluster, user `meshdoctor`. */
  kubeconfigPath: string;
  /** The same contexts as user `admin` (what the stack and its components use). */
  adminKubeconfigPath: string;
  clusters: RealCluster[];
  mesh: LabMeshState;
  /** Real components that exited at start, as a real pod would crash (istiod refusing its cacerts). */
  crashed: { cluster: string; component: string; exitCode: number | null; error: string }[];
  /** Objects the real API refused, with its message (the differences from the lab). */
  refused: { cluster: string; object: string; error: string }[];
  startSeconds: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  scenario?: string;
  faults?: LabFault[];
  /** Keep the work dir (logs) after stop. */
  keep?: boolean;
  log?: (line: string) => void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a serving certificate for 127.0.0.1, and the service-account key pair. */
function makePki(dir: string): void {
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=realstack-ca'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'serving.key', '-out', 'serving.csr', '-subj', '/CN=kube-apiserver'], dir);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'serving.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'serving.crt', '-days', '30', '-extfile', 'san.ext'], dir);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

function kubeconfigOf(clusters: { name: string; server: string; caPem: string; token: string }[]): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': clusters[0].name,
    clusters: clusters.map((c) => ({ name: c.name, cluster: { server: c.server, 'certificate-authority-data': Buffer.from(c.caPem).toString('base64') } })),
    users: clusters.map((c) => ({ name: c.name, user: { token: c.token } })),
    contexts: clusters.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
  });
}

/** Absolute path of a host command (the exec'd commands of the stack's pods see none on their PATH). */
function hostTool(name: string): string {
  for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) if (existsSync(join(d, name))) return join(d, name);
  throw new Error(`realstack: ${name} not on PATH`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Names of the components that exited while the stack was starting or serving. */
let exitedEarly: string[] = [];

async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitedEarly.length > 0) throw new Error(`realstack: ${exitedEarly.join(', ')} exited while waiting for ${what}`);
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    await sleep(250);
  }
  throw new Error(`realstack: ${what} not ready after ${timeoutMs / 1000} s`);
}

/**
 * The real kubectl 1.32: MESHDOCTOR_KUBECTL, else `kubectl.1.32` on PATH or next to the `kubectl` on
 * PATH (the Google Cloud SDK's dispatcher keeps one binary per minor there), else `kubectl`.
 */
export const KUBECTL = ((): string => {
  if (process.env.MESHDOCTOR_KUBECTL) return process.env.MESHDOCTOR_KUBECTL;
  for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    if (existsSync(join(d, 'kubectl.1.32'))) return join(d, 'kubectl.1.32');
    if (existsSync(join(d, 'kubectl'))) {
      const beside = join(dirname(realpathSync(join(d, 'kubectl'))), 'kubectl.1.32');
      if (existsSync(beside)) return beside;
    }
  }
  return 'kubectl';
})();

/** kubectl against one context of a kubeconfig. */
export function kubectl(kubeconfig: string, context: string, args: string[], input?: string): string {
  return execFileSync(KUBECTL, ['--kubeconfig', kubeconfig, '--context', context, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** Metadata the API sets itself; ownerReferences name uids of the lab, which the real GC would follow. */
function forCreate(obj: KubeObject): KubeObject {
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, ownerReferences: _o, generation: _g, ...metadata } = obj.metadata as Record<string, unknown> & KubeObject['metadata'];
  const copy: KubeObject = { ...obj, metadata: metadata as KubeObject['metadata'] };
  delete (copy as { status?: unknown }).status;
  return copy;
}

/** Kinds applied from the lab's model (all but those the real controllers and kwok make themselves). */
const SKIPPED_KINDS = new Set(['EndpointSlice', 'Endpoints', 'ReplicaSet', 'Event', 'Lease']);
/** Kinds whose status the stack writes from the model: their controllers do not run here. */
const STATUS_FROM_MODEL = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);

/** Whether the model's pod is Running and Ready (kwok's pod-ready stage makes every other pod so). */
function modelReady(pod: KubeObject): boolean {
  const status = pod.status as { phase?: string; conditions?: { type: string; status: string }[] } | undefined;
  return status?.phase !== 'Running' || status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** Pods of the model with an istio-proxy container (sidecars and gateways): exec of pilot-agent there answers from files. */
function proxyPods(objects: KubeObject[]): KubeObject[] {
  // A sidecar is an init container (restartPolicy Always: a native sidecar) or a container.
  return objects.filter((o) => o.kind === 'Pod' && ([...(o.spec?.containers ?? []), ...(o.spec?.initContainers ?? [])] as { name: string }[]).some((c) => c.name === 'istio-proxy'));
}

/** Whether the model's istiod of this cluster runs: a Deployment and a Ready pod (istiod-not-ready crash-loops them). */
function modelIstiodRuns(objects: KubeObject[]): boolean {
  return objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'istiod' && o.metadata.namespace === 'istio-system') &&
    objects.some((o) => o.kind === 'Pod' && o.metadata.namespace === 'istio-system' && o.metadata.labels?.app === 'istiod' && modelReady(o));
}

/** The pilot-agent answers a proxy's pod has as files in its exec workDir, by admin path (SIDECAR_ADMIN_PATHS). */
const PROXY_FILES: Record<string, string> = {
  certs: 'certs',
  clusters: 'clusters',
  server_info: 'server_info',
  config_dump: 'config_dump',
  'config_dump?resource=dynamic_active_secrets': 'config_dump.dynamic_active_secrets',
  ready: 'ready',
};

/** Start the real stack for a scenario. Binaries must be built (buildMissing). */
export async function startRealStack(opts: StartOptions = {}): Promise<RealStack> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const started = Date.now();
  for (const c of COMPONENTS) for (const b of c.binaries) if (!existsSync(binPath(c.name, b))) throw new Error(`realstack: ${binPath(c.name, b)} missing (npm run realstack builds it)`);
  const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-realstack-'));
  const procs: ChildProcess[] = [];
  const names = new Map<ChildProcess, string>();
  exitedEarly = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const running = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;
    // Clients first (istiod, kwok, controller-manager), then the apiservers, etcd last; each gets 5 s
    // to stop on SIGTERM, then SIGKILL, and is waited for: its ports are free when stop() returns.
    const stopAll = (group: ChildProcess[]) =>
      Promise.all(
        group.filter(running).map((p) => {
          const exited = new Promise<void>((r) => p.once('exit', () => r()));
          p.kill('SIGTERM');
          const t = setTimeout(() => p.kill('SIGKILL'), 5000);
          return exited.then(() => clearTimeout(t));
        }),
      );
    const tier = (p: ChildProcess) => (names.get(p) === 'etcd' ? 2 : /-apiserver$/.test(names.get(p) ?? '') ? 1 : 0);
    for (const t of [0, 1, 2]) await stopAll(procs.filter((p) => tier(p) === t));
    unhook();
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  };
  // Whatever happens to this process, the components it started go with it.
  const killAll = () => { for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); };
  process.once('exit', killAll);
  // Killed by a signal, this process runs no 'exit' handler: the components go first, then it exits
  // as the signal would have made it (main.ts replaces these with a graceful stop once serving).
  const onSignal = (signal: NodeJS.Signals) => {
    killAll();
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, onSignal);
  const unhook = () => {
    process.off('exit', killAll);
    for (const signal of signals) process.off(signal, onSignal);
  };
  const crashed: RealStack['crashed'] = [];
  const run = (name: string, bin: string, args: string[], extra: { cwd?: string; env?: NodeJS.ProcessEnv; criLog?: string; onExit?: (code: number | null) => void } = {}) => {
    const out = openSync(join(dir, `${name}.log`), 'a');
    const p = spawn(bin, args, { cwd: extra.cwd ?? dir, env: { ...process.env, ...extra.env }, stdio: ['ignore', extra.criLog ? 'pipe' : out, extra.criLog ? 'pipe' : out] });
    if (extra.criLog) {
      // The log kwok serves as the container's: CRI format (`<RFC 3339 time> <stream> F <line>`), the
      // only one kwok's logs handler parses (pkg/kwok/server/debugging_logs.go, kwok v0.8.0).
      const cri = openSync(extra.criLog, 'a');
      for (const [stream, name] of [[p.stdout!, 'stdout'], [p.stderr!, 'stderr']] as const) {
        let partial = '';
        stream.on('data', (d: Buffer) => {
          writeSync(out, d);
          const lines = (partial + d.toString()).split('\n');
          partial = lines.pop()!;
          const now = new Date().toISOString();
          if (lines.length) writeSync(cri, lines.map((l) => `${now} ${name} F ${l}\n`).join(''));
        });
      }
    }
    procs.push(p);
    names.set(p, name);
    p.once('exit', (code, signal) => {
      if (stopped) return;
      if (extra.onExit) return extra.onExit(code);
      exitedEarly.push(name);
      log(`realstack: ${name} exited (${code ?? signal}); see ${join(dir, `${name}.log`)}`);
    });
    return p;
  };

  try {
    const names = ['cluster1', 'cluster2'];
    // etcd: one server, a prefix per apiserver (as kwokctl does); data on tmpfs-like temp dir, no fsync.
    const etcdPort = 12379;
    run('etcd', binPath('etcd', 'etcd'), ['--data-dir', join(dir, 'etcd'), `--listen-client-urls=http://127.0.0.1:${etcdPort}`, `--advertise-client-urls=http://127.0.0.1:${etcdPort}`, '--listen-peer-urls=http://127.0.0.1:12380', '--initial-advertise-peer-urls=http://127.0.0.1:12380', '--initial-cluster=default=http://127.0.0.1:12380', '--unsafe-no-fsync=true']);
    writeFileSync(join(dir, 'audit-policy.yaml'), YAML.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] }));

    const clusters: RealCluster[] = names.map((name, i) => {
      const cdir = join(dir, name);
      makePki(cdir);
      const token = `realstack-admin-${name}-${randomBytes(12).toString('hex')}`;
      const userToken = `realstack-meshdoctor-${name}-${randomBytes(12).toString('hex')}`;
      writeFileSync(join(cdir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n${userToken},meshdoctor,meshdoctor-uid,"system:masters"\n`);
      return { name, server: `https://127.0.0.1:${16443 + i * 10000}`, caPem: readFileSync(join(cdir, 'ca.crt'), 'utf8'), token, userToken, auditLog: join(cdir, 'audit.log'), kubeconfig: join(cdir, 'admin.kubeconfig') };
    });
    for (const c of clusters) writeFileSync(c.kubeconfig, kubeconfigOf([c]));

    // The lab's model, built with the real endpoints: remote secrets name the real servers and CAs.
    const { buildMeshState } = await import('../src/lab/model/index.ts');
    const mesh = await buildMeshState({ scenario: opts.scenario ?? 'multi-primary', faults: opts.faults ?? [], endpoints: clusters.map((c) => ({ cluster: c.name, server: c.server, caPem: c.caPem })) });
    mesh.clusters.forEach((s, i) => { s.adminToken = clusters[i].token; });

    clusters.forEach((c, i) => {
      const cdir = join(dir, c.name);
      const builderIndex = i + 1;
      run(`${c.name}-apiserver`, binPath('kube', 'kube-apiserver'), [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`, `--etcd-prefix=/${c.name}`,
        '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${16443 + i * 10000}`,
        `--tls-cert-file=${join(cdir, 'serving.crt')}`, `--tls-private-key-file=${join(cdir, 'serving.key')}`,
        `--token-auth-file=${join(cdir, 'tokens.csv')}`, '--authorization-mode=Node,RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(cdir, 'sa.pub')}`, `--service-account-signing-key-file=${join(cdir, 'sa.key')}`,
        // The lab's Service CIDR of this cluster (builder.ts serviceCIDR), so its ClusterIPs are valid.
        `--service-cluster-ip-range=10.${100 + builderIndex * 10}.0.0/16`,
        '--allow-privileged=true', '--endpoint-reconciler-type=none',
        `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${c.auditLog}`,
        `--cert-dir=${cdir}`,
      ]);
    });
    await Promise.all(clusters.map((c) => waitFor(`${c.name} apiserver`, () => kubectl(c.kubeconfig, c.name, ['get', '--raw', '/readyz']).trim() === 'ok', 90_000)));
    log(`realstack: apiservers ready after ${Math.round((Date.now() - started) / 1000)} s`);

    const binDirs: string[] = [];
    clusters.forEach((c, i) => {
      const cdir = join(dir, c.name);
      run(`${c.name}-controller-manager`, binPath('kube', 'kube-controller-manager'), [
        `--kubeconfig=${c.kubeconfig}`, '--leader-elect=false', '--secure-port=0',
        `--root-ca-file=${join(cdir, 'ca.crt')}`, `--service-account-private-key-file=${join(cdir, 'sa.key')}`, '--use-service-account-credentials=false',
        // The lab's objects already hold the pods of its Deployments: no ReplicaSets made again.
        '--controllers=*,-deployment-controller,-replicaset-controller,-daemonset-controller,-statefulset-controller,-job-controller,-cronjob-controller',
        '--kube-api-qps=100', '--kube-api-burst=200',
        // kwok's heartbeat stage beats every 20-45 s; the default grace (50 s) leaves no room on a loaded machine.
        '--node-monitor-grace-period=2m',
      ]);
      // exec runs commands on this machine under kwok, found on kwok's PATH: the real pilot-discovery
      // for the first primary (its `request` always asks 127.0.0.1:15014), a curl of the second's
      // monitoring port otherwise, and pilot-agent answering that no Envoy exists here.
      const bin = join(cdir, 'bin');
      mkdirSync(bin, { recursive: true });
      binDirs.push(bin);
      const monitoring = i === 0 ? 15014 : 25014;
      if (i === 0) symlinkSync(binPath('istiod', 'pilot-discovery'), join(bin, 'pilot-discovery'));
      else {
        writeFileSync(join(bin, 'pilot-discovery'), `#!/bin/sh\n# pilot-discovery request GET PATH, for the istiod whose debug port is ${monitoring}\n[ "$1" = request ] || { echo "realstack: only pilot-discovery request" >&2; exit 2; }\nexec ${hostTool('curl')} -sS --fail-with-body "http://127.0.0.1:${monitoring}$3"\n`);
        chmodSync(join(bin, 'pilot-discovery'), 0o755);
      }
      // pilot-agent request GET <path> in an istio-proxy container: no Envoy runs here (no istio-proxy
      // binary can be built or installed on this machine), so the answers are files the stack writes
      // into the pod's exec workDir once the stack is up, from the lab's simulated Envoy for the same
      // model (envoyAdmin of src/lab/sim/index.ts: the workload certificate issued by the cluster's CA).
      const cases = Object.entries(PROXY_FILES).map(([path, file]) => `  '${path}') f=${file} ;;`).join('\n');
      writeFileSync(join(bin, 'pilot-agent'), [
        '#!/bin/sh',
        '[ "$1" = request ] && [ $# -ge 3 ] || { echo "Error: requires at least 2 arg(s), only received $(($# - 1))" >&2; exit 1; }',
        // Only an istio-proxy container's workDir holds the marker (kwok's Exec per pod).
        '[ -f ./.istio-proxy ] || { echo \'OCI runtime exec failed: exec failed: unable to start container process: exec: "pilot-agent": executable file not found in $PATH: unknown\' >&2; exit 127; }',
        'case "${3#/}" in',
        cases,
        `  *) echo "Error: received unsuccessful status code 404: invalid path. admin commands are:" >&2; exit 1 ;;`,
        'esac',
        // No file: the proxy holds no certificate (its control plane's real istiod never started).
        `[ -f "$f" ] || { echo "Error: Get \\"http://localhost:15000/\${3#/}\\": dial tcp 127.0.0.1:15000: connect: connection refused (realstack: this proxy's control plane istiod did not start, so no Envoy of it has a certificate)" >&2; exit 1; }`,
        `exec ${hostTool('cat')} "$f"`,
        '',
      ].join('\n'));
      chmodSync(join(bin, 'pilot-agent'), 0o755);
      // kwok runs exec'd commands on this machine, found on its PATH: that PATH (and the commands') is
      // this directory only, so a pod's containers have a shell and no other tool of the host (no
      // curl, getent, nslookup or nc to probe with: nothing here routes pod traffic anyway).
      symlinkSync(hostTool('sh'), join(bin, 'sh'));
      // The istiod pod of the scenario: exec, port-forward and logs of it reach the real istiod.
      // (A crash-looping istiod of the model, istiod-not-ready, runs no real istiod: its pod serves nothing.)
      const istiodPod = modelIstiodRuns(mesh.clusters[i].objects) ? mesh.clusters[i].objects.find((o) => o.kind === 'Pod' && o.metadata.namespace === 'istio-system' && o.metadata.labels?.app === 'istiod') : undefined;
      writeFileSync(join(cdir, 'empty.log'), '');
      // A proxy's pod: its istio-proxy container's exec runs in a directory of its own (the files its
      // pilot-agent answers from), its other containers' in the cluster's.
      const proxyExecs = proxyPods(mesh.clusters[i].objects).map((pod) => {
        const workDir = join(cdir, 'proxies', pod.metadata.namespace!, pod.metadata.name);
        mkdirSync(workDir, { recursive: true });
        writeFileSync(join(workDir, '.istio-proxy'), '');
        return YAML.stringify({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Exec', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace }, spec: { execs: [{ containers: ['istio-proxy'], local: { workDir } }, { local: { workDir: cdir } }] } });
      });
      // Pods the model has Running but not Ready (istiod-not-ready, ewgw-not-ready): a Stage of their
      // own writes the model's conditions and container statuses (kwok picks one matching stage at
      // random, pkg/utils/lifecycle/lifecycle.go:126 at v0.8.0, so pod-ready leaves them out).
      const stageDir = join(GOMODCACHE, `sigs.k8s.io/kwok@${KWOK_VERSION}`, 'kustomize/stage');
      const podReady = YAML.parse(readFileSync(join(stageDir, 'pod/fast/pod-ready.yaml'), 'utf8')) as { spec: { selector: { matchExpressions: { key: string; operator: string; values?: string[] }[] }; next: { statusTemplate: string } } };
      const fromModel = mesh.clusters[i].objects.filter((o) => o.kind === 'Pod' && !modelReady(o));
      const modelStatusStages = fromModel.map((pod, n) => {
        const status = pod.status as { conditions?: unknown; containerStatuses?: unknown };
        const template = podReady.spec.next.statusTemplate;
        // The pod-ready stage's IPs, phase and start time; the model's conditions and container statuses.
        const ips = template.slice(template.indexOf('{{ $hostIPs'));
        return YAML.stringify({
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'Stage',
          metadata: { name: `pod-status-from-model-${n}` },
          spec: {
            resourceRef: { apiGroup: 'v1', kind: 'Pod' },
            selector: {
              matchExpressions: [
                ...podReady.spec.selector.matchExpressions,
                { key: '.metadata.namespace', operator: 'In', values: [pod.metadata.namespace!] },
                { key: '.metadata.name', operator: 'In', values: [pod.metadata.name] },
              ],
            },
            next: { statusTemplate: `{{ $now := Now }}\nconditions: ${JSON.stringify(status.conditions ?? [])}\ncontainerStatuses: ${JSON.stringify(status.containerStatuses ?? [])}\n${ips}` },
          },
        });
      });
      if (fromModel.length) podReady.spec.selector.matchExpressions.push({ key: '.metadata.name', operator: 'NotIn', values: fromModel.map((p) => p.metadata.name) });
      const kwokConfig = [
        readFileSync(join(stageDir, 'node/fast/node-initialize.yaml'), 'utf8'),
        // Without heartbeats the controller-manager's node lifecycle controller finds the nodes stale
        // after its grace period and marks every pod not Ready.
        readFileSync(join(stageDir, 'node/heartbeat/node-heartbeat.yaml'), 'utf8'),
        YAML.stringify(podReady),
        ...modelStatusStages,
        YAML.stringify({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterExec', metadata: { name: 'local' }, spec: { execs: [{ local: { workDir: cdir } }] } }),
        ...proxyExecs,
        // Every container logs nothing (as the lab's do), but istiod's discovery container: the real log.
        YAML.stringify({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterLogs', metadata: { name: 'empty' }, spec: { logs: [{ logsFile: join(cdir, 'empty.log') }] } }),
        ...(istiodPod
          ? [
              YAML.stringify({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'PortForward', metadata: { name: istiodPod.metadata.name, namespace: 'istio-system' }, spec: { forwards: [{ ports: [15014], target: { port: monitoring, address: '127.0.0.1' } }] } }),
              YAML.stringify({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Logs', metadata: { name: istiodPod.metadata.name, namespace: 'istio-system' }, spec: { logs: [{ containers: ['discovery'], logsFile: join(dir, `${c.name}-istiod.cri.log`) }, { logsFile: join(cdir, 'empty.log') }] } }),
            ]
          : []),
      ].join('\n---\n');
      writeFileSync(join(cdir, 'kwok.yaml'), kwokConfig);
      run(`${c.name}-kwok`, binPath('kwok', 'kwok'), [
        `--kubeconfig=${c.kubeconfig}`, `--config=${join(cdir, 'kwok.yaml')}`, '--manage-all-nodes=true',
        `--cidr=10.${(i + 1) * 10}.0.0/16`, '--node-ip=127.0.0.1', `--node-port=${10247 + i}`, `--server-address=127.0.0.1:${10247 + i}`,
      ], { env: { PATH: bin } });
    });

    // Istio's CRDs from the module (manifests/charts/base/files/crd-all.gen.yaml), then the scenario.
    const crds = join(GOMODCACHE, `istio.io/istio@${ISTIO_VERSION}`, 'manifests/charts/base/files/crd-all.gen.yaml');
    for (const c of clusters) kubectl(c.kubeconfig, c.name, ['apply', '--server-side', '-f', crds]);
    for (const c of clusters) kubectl(c.kubeconfig, c.name, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    const refused: RealStack['refused'] = [];
    for (const [i, c] of clusters.entries()) {
      const state = mesh.clusters[i];
      // A cluster running istiod gets its istio-ca-root-cert ConfigMaps from the real istiod, not the
      // model; one whose istiod crash-loops (istiod-not-ready) keeps those its earlier runs published.
      const runsIstiod = modelIstiodRuns(state.objects);
      const isRootConfigMap = (o: KubeObject) => o.kind === 'ConfigMap' && o.metadata.name === 'istio-ca-root-cert';
      // The Endpoints of a Service without a selector are written by whoever made the Service (a
      // primary-remote's remote `istiod` Service pointing at the primary): the stack applies the model's,
      // and the controller-manager's EndpointSlice mirroring controller makes the slices. Not
      // default/kubernetes: the apiserver's own (--endpoint-reconciler-type=none here).
      const selectorless = new Set(
        state.objects
          .filter((o) => o.kind === 'Service' && !(o.spec as { selector?: unknown } | undefined)?.selector && !(o.metadata.namespace === 'default' && o.metadata.name === 'kubernetes'))
          .map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
      );
      const manualEndpoints = (o: KubeObject) => o.kind === 'Endpoints' && selectorless.has(`${o.metadata.namespace}/${o.metadata.name}`);
      const objects = state.objects.filter((o) => (!SKIPPED_KINDS.has(o.kind ?? '') || manualEndpoints(o)) && !(runsIstiod && isRootConfigMap(o)));
      // Remote secrets and the reader's token Secret are made below from real tokens.
      const isRemoteSecret = (o: KubeObject) => o.kind === 'Secret' && o.metadata.labels?.['istio/multiCluster'] === 'true';
      const isReaderToken = (o: KubeObject) => o.kind === 'Secret' && (o as { type?: string }).type === 'kubernetes.io/service-account-token';
      // Webhook configurations last: the apiserver cannot reach istiod's webhooks through a Service
      // (no kube-proxy, no cluster DNS), and the lab's pods are injected already.
      const isWebhook = (o: KubeObject) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration';
      const rest = objects.filter((o) => o.kind !== 'Namespace' && !isRemoteSecret(o) && !isReaderToken(o));
      const ordered = [...objects.filter((o) => o.kind === 'Namespace'), ...rest.filter((o) => !isWebhook(o)), ...rest.filter(isWebhook)];
      for (const o of ordered) {
        if (o.kind === 'Node') o.metadata.annotations = { ...o.metadata.annotations, 'kwok.x-k8s.io/node': 'fake' };
        try {
          kubectl(c.kubeconfig, c.name, ['apply', '--server-side', '--force-conflicts', '--field-manager=realstack', '-f', '-'], JSON.stringify(forCreate(o)));
        } catch (err) {
          refused.push({ cluster: c.name, object: `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, error: String((err as { stderr?: string }).stderr ?? err).trim().split('\n')[0] });
        }
        // Status the real parts do not write here: a LoadBalancer's address (no cloud controller; the
        // lab's east-west gateways have one) and the workload controllers' replica counts (their
        // controllers are off: the lab's objects hold the pods already).
        const lb = o.kind === 'Service' ? (o.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer : undefined;
        const status = lb?.ingress?.length ? { loadBalancer: lb } : STATUS_FROM_MODEL.has(o.kind ?? '') ? o.status : undefined;
        if (status) {
          try {
            kubectl(c.kubeconfig, c.name, ['-n', o.metadata.namespace!, 'patch', String(o.kind).toLowerCase(), o.metadata.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
          } catch (err) {
            refused.push({ cluster: c.name, object: `${o.kind} status ${o.metadata.namespace}/${o.metadata.name}`, error: String((err as { stderr?: string }).stderr ?? err).trim().split('\n')[0] });
          }
        }
      }
      for (const o of objects.filter(isReaderToken)) {
        const t = forCreate(o) as KubeObject & { data?: Record<string, string> };
        delete t.data;
        // The token controller fills a Secret whose annotation names the real service account's uid.
        if (t.metadata.annotations) delete t.metadata.annotations['kubernetes.io/service-account.uid'];
        kubectl(c.kubeconfig, c.name, ['apply', '--server-side', '--field-manager=realstack', '-f', '-'], JSON.stringify(t));
      }
    }
    // Real reader tokens (filled by the controller-manager's token controller), by cluster.
    const realReaderToken = new Map<string, string>();
    for (const [i, c] of clusters.entries()) {
      const name = mesh.clusters[i].objects.find((o) => o.kind === 'Secret' && (o as { type?: string }).type === 'kubernetes.io/service-account-token')?.metadata.name;
      if (!name) continue;
      const token = () => kubectl(c.kubeconfig, c.name, ['-n', 'istio-system', 'get', 'secret', name, '-o', 'jsonpath={.data.token}']);
      await waitFor(`${c.name} reader token`, () => token().length > 0, 60_000);
      realReaderToken.set(c.name, Buffer.from(token(), 'base64').toString());
    }
    // Remote secrets as the lab made them (ids, servers, exec users, faults). A token the lab's peer
    // accepts as its reader service account becomes the peer's real reader token; one the lab made to
    // be refused (expired) stays as is, and the real apiserver refuses it too (401).
    const forbiddenFor = new Map<string, Set<string>>();
    for (const [i, c] of clusters.entries()) {
      for (const o of mesh.clusters[i].objects.filter((x) => x.kind === 'Secret' && x.metadata.labels?.['istio/multiCluster'] === 'true')) {
        const secret = forCreate(o) as KubeObject & { data?: Record<string, string> };
        const data: Record<string, string> = {};
        for (const [key, value] of Object.entries(secret.data ?? {})) {
          const config = YAML.parse(Buffer.from(value, 'base64').toString()) as { clusters?: { cluster: { server: string } }[]; users?: { user: { token?: string } }[] };
          const peerIndex = clusters.findIndex((p) => p.server === config.clusters?.[0]?.cluster.server);
          for (const u of config.users ?? []) {
            const labUser = peerIndex >= 0 && u.user.token ? mesh.clusters[peerIndex].users.get(u.user.token) : undefined;
            if (!labUser || labUser.name !== READER_USERNAME || !realReaderToken.has(clusters[peerIndex].name)) continue;
            u.user.token = realReaderToken.get(clusters[peerIndex].name);
            // The lab's RBAC-limited reader (remote-rbac-missing): the real reader's role lacks the same kinds.
            if (labUser.forbidden?.length) forbiddenFor.set(clusters[peerIndex].name, new Set(labUser.forbidden));
          }
          data[key] = Buffer.from(YAML.stringify(config)).toString('base64');
        }
        secret.data = data;
        kubectl(c.kubeconfig, c.name, ['apply', '--server-side', '--field-manager=realstack', '-f', '-'], JSON.stringify(secret));
      }
    }
    // Reader RBAC as istio-base installs it (istio-reader-clusterrole-istio-system): get, list and
    // watch on everything (every listable resource of the real API, by group), less what the lab's
    // reader of that cluster is forbidden.
    for (const c of clusters) {
      const forbidden = forbiddenFor.get(c.name) ?? new Set<string>();
      const byGroup = new Map<string, string[]>();
      for (const name of kubectl(c.kubeconfig, c.name, ['api-resources', '--verbs=list', '-o', 'name']).split('\n').filter(Boolean)) {
        const dot = name.indexOf('.');
        const [resource, group] = dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1)];
        if (forbidden.has(resource)) continue;
        byGroup.set(group, [...(byGroup.get(group) ?? []), resource]);
      }
      const rules = [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: ['get', 'list', 'watch'] }));
      const readerRbac = [
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'istio-reader-clusterrole-istio-system' }, rules },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'istio-reader-clusterrole-istio-system' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'istio-reader-clusterrole-istio-system' }, subjects: [{ kind: 'ServiceAccount', name: 'istio-reader-service-account', namespace: 'istio-system' }] },
      ];
      kubectl(c.kubeconfig, c.name, ['apply', '--server-side', '-f', '-'], readerRbac.map((o) => JSON.stringify(o)).join('\n'));
    }

    // A real pilot-discovery per primary: cacerts from the scenario's Secret (ROOT_CA_DIR), its own
    // cluster through the admin kubeconfig, the scenario's mesh config from the `istio` ConfigMap.
    for (const [i, c] of clusters.entries()) {
      const state = mesh.clusters[i];
      const istiod = state.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'istiod' && o.metadata.namespace === 'istio-system');
      if (!istiod || !modelIstiodRuns(state.objects)) continue;
      const idir = join(dir, c.name, 'istiod');
      mkdirSync(join(idir, 'etc', 'cacerts'), { recursive: true });
      const cacerts = state.objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'cacerts' && o.metadata.namespace === 'istio-system') as { data?: Record<string, string> } | undefined;
      for (const [file, value] of Object.entries(cacerts?.data ?? {})) writeFileSync(join(idir, 'etc', 'cacerts', file), Buffer.from(value, 'base64'));
      const clusterId = (istiod as { spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } }).spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === 'CLUSTER_ID')?.value ?? c.name;
      const base = i === 0 ? 15000 : 25000;
      c.istiodMonitoring = base + 14;
      run(`${c.name}-istiod`, binPath('istiod', 'pilot-discovery'), [
        'discovery', `--kubeconfig=${c.kubeconfig}`, `--clusterID=${clusterId}`, '--domain=cluster.local',
        `--httpAddr=127.0.0.1:${base + 80 + 3000}`, `--monitoringAddr=127.0.0.1:${base + 14}`, `--grpcAddr=127.0.0.1:${base + 10}`,
        `--secureGRPCAddr=127.0.0.1:${base + 12}`, `--httpsAddr=127.0.0.1:${base + 17}`,
      ], { cwd: idir, env: { POD_NAMESPACE: 'istio-system', POD_NAME: `istiod-${c.name}`, CLUSTER_ID: clusterId, REVISION: 'default', PILOT_CERT_PROVIDER: 'istiod', INJECT_ENABLED: 'false', ENABLE_DEBUG_ON_HTTP: 'true', ROOT_CA_DIR: join(idir, 'etc', 'cacerts'), KUBECONFIG: c.kubeconfig },
        criLog: join(dir, `${c.name}-istiod.cri.log`),
        onExit: (code) => {
          const error = readFileSync(join(dir, `${c.name}-istiod.log`), 'utf8').split('\n').filter((l) => /\berror\b|^Error:/.test(l)).pop() ?? '';
          crashed.push({ cluster: c.name, component: 'pilot-discovery', exitCode: code, error });
          log(`realstack: ${c.name} pilot-discovery exited (${code}): ${error}`);
        },
      });
    }
    const isCrashed = (c: RealCluster) => crashed.some((x) => x.cluster === c.name);
    for (const c of clusters.filter((x) => x.istiodMonitoring)) {
      // /ready is on istiod's httpAddr (pilot/pkg/bootstrap/server.go:695), 3066 above the monitoring port here.
      await waitFor(`${c.name} istiod`, async () => isCrashed(c) || (await fetch(`http://127.0.0.1:${c.istiodMonitoring! + 3066}/ready`)).ok, 120_000);
    }
    // An istiod that refused to start is a pod in CrashLoopBackOff and an unavailable Deployment (kwok
    // would keep it Running and the Deployment's status is the model's).
    for (const [i, c] of clusters.entries()) {
      if (!isCrashed(c)) continue;
      delete c.istiodMonitoring;
      for (const pod of mesh.clusters[i].objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'istio-system' && o.metadata.labels?.app === 'istiod')) {
        await waitFor(`${c.name} ${pod.metadata.name} Running`, () => kubectl(c.kubeconfig, c.name, ['-n', 'istio-system', 'get', 'pod', pod.metadata.name, '-o', 'jsonpath={.status.phase}']) === 'Running', 60_000);
        const statuses = ((pod.spec?.containers ?? []) as { name: string; image?: string }[]).map((ct) => ({
          name: ct.name, image: ct.image ?? '', imageID: '', ready: false, restartCount: 5, started: false,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s restarting failed container' } },
          lastState: { terminated: { exitCode: 255, reason: 'Error' } },
        }));
        const notReady = { type: 'Ready', status: 'False', reason: 'ContainersNotReady' };
        const containersNotReady = { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady' };
        kubectl(c.kubeconfig, c.name, ['-n', 'istio-system', 'patch', 'pod', pod.metadata.name, '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status: { containerStatuses: statuses, conditions: [notReady, containersNotReady] } })]);
      }
      kubectl(c.kubeconfig, c.name, ['-n', 'istio-system', 'patch', 'deployment', 'istiod', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { availableReplicas: 0, readyReplicas: 0, unavailableReplicas: 1, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }] } })]);
    }
    // The real istiod publishes istio-ca-root-cert in every namespace (its namespace controller).
    for (const c of clusters.filter((x) => x.istiodMonitoring)) {
      // Every namespace it does not ignore (pilot/pkg/serviceregistry/kube/controller/namespacecontroller.go:85).
      const expected = kubectl(c.kubeconfig, c.name, ['get', 'namespaces', '-o', 'name']).split('\n').filter((n) => n && !/^namespace\/(kube-public|kube-node-lease|local-path-storage)$/.test(n)).length;
      await waitFor(`${c.name} istio-ca-root-cert`, () => kubectl(c.kubeconfig, c.name, ['get', 'configmaps', '-A', '--field-selector=metadata.name=istio-ca-root-cert', '--no-headers']).split('\n').filter(Boolean).length >= expected, 60_000);
    }
    // Every pod Ready (kwok's pod-ready stage), but the istiod pods of an istiod that crashed and the
    // pods the model has not Ready (their stage writes Ready False).
    for (const [i, c] of clusters.entries()) {
      const notReadyInModel = new Set(mesh.clusters[i].objects.filter((o) => o.kind === 'Pod' && !modelReady(o)).map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
      const waiting = () =>
        kubectl(c.kubeconfig, c.name, ['get', 'pods', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])
          .split('\n')
          .filter(Boolean)
          .filter((l) => {
            const [pod, ready] = l.split(' ');
            if (notReadyInModel.has(pod)) return ready !== 'False';
            return ready !== 'True' && !(isCrashed(c) && pod.startsWith('istio-system/istiod-'));
          });
      await waitFor(`${c.name} pods Ready`, () => waiting().length === 0, 120_000);
    }

    // What each proxy's pilot-agent answers (its exec workDir): the lab's simulated Envoy for the same
    // model, with the pod's real IP; none where the proxy's control plane is a real istiod that did
    // not start (no certificate was ever issued to it).
    const sim = meshSimOf(mesh);
    for (const [i, c] of clusters.entries()) {
      const podIps = new Map(
        kubectl(c.kubeconfig, c.name, ['get', 'pods', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.podIP}{"\\n"}{end}'])
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' ') as [string, string]),
      );
      const view = sim.view(c.name);
      const controlPlane = sim.controlPlaneOf(c.name)?.view.name;
      if (crashed.some((x) => x.cluster === controlPlane)) continue;
      for (const modelPod of proxyPods(mesh.clusters[i].objects)) {
        const key = `${modelPod.metadata.namespace}/${modelPod.metadata.name}`;
        const pod = view.pods.get(key) ?? modelPod;
        const real = { ...pod, status: { ...pod.status, podIP: podIps.get(key) ?? pod.status?.podIP } } as KubeObject;
        const workDir = join(dir, c.name, 'proxies', modelPod.metadata.namespace!, modelPod.metadata.name);
        for (const [path, file] of Object.entries(PROXY_FILES)) {
          const res = await envoyAdmin(sim, view, real, path);
          if (res.status === 200) writeFileSync(join(workDir, file), res.body);
        }
      }
    }

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigOf(clusters.map((c) => ({ ...c, token: c.userToken }))), { mode: 0o600 });
    const adminKubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(adminKubeconfigPath, kubeconfigOf(clusters), { mode: 0o600 });
    const startSeconds = Math.round((Date.now() - started) / 1000);
    log(`realstack: ${clusters.length} clusters up in ${startSeconds} s; ${refused.length} objects refused; kubeconfig ${kubeconfigPath}`);
    return { dir, kubeconfigPath, adminKubeconfigPath, clusters, mesh, crashed, refused, startSeconds, stop };
  } catch (err) {
    log(`realstack: start failed; logs in ${dir}`);
    opts.keep = true;
    await stop();
    throw err;
  }
}

export const REALSTACK_DIR = resolve(here);
