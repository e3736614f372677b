// The lab's simulation: a LabBackend per cluster that serves the cluster's objects and derives
// everything a real mesh would show from them (istiod debug output, Envoy admin pages, exec results).
// All backends of one LabMeshState share one MeshSim, so traffic counted from one cluster's exec
// shows in the same proxy's counters whichever backend is asked.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecResult, KubeObject, ResourceKindName } from '../../cluster/types.ts';
import type { LabBackend, LabExecOutcome, LabExecRequest, LabMeshState, LabUser } from '../types.ts';
import { certsJson, configDumpJson, workloadCertOf } from './certs.ts';
import type { ClusterView } from './cluster-view.ts';
import { runCommand, type Toolbox } from './commands.ts';
import { debugRequest, type DebugResponse } from './debug.ts';
import { istiodLogLines } from './istiod-log.ts';
import { clustersText, outboundClusters, proxyNetwork, serverInfo, statsOf } from './envoy.ts';
import { meshSimOf, type MeshSim } from './mesh.ts';
import { ambientViewOf, ztunnelConfigDump } from './ambient.ts';
import { containerRunning, containersOf, podReady, proxyContainer } from './objects.ts';
import type { Client } from './traffic.ts';

export { meshSimOf, type MeshSim } from './mesh.ts';

/** Port of istiod's debug/monitoring server. */
const ISTIOD_DEBUG_PORT = 15014;
/** Port of Envoy's admin server in a proxy. */
const ENVOY_ADMIN_PORT = 15000;

/** The backend of one cluster of a mesh (backends of the same mesh share their simulation). */
export function createBackend(mesh: LabMeshState, cluster: string): LabBackend {
  const sim = meshSimOf(mesh);
  const view = sim.view(cluster);
  return {
    cluster,
    authenticate: (token: string): LabUser | undefined => view.state.users.get(token),
    list: (kind: ResourceKindName): KubeObject[] => view.byKind.get(kind) ?? [],
    exec: (req: LabExecRequest): Promise<LabExecOutcome> => execIn(sim, view, req),
    portForward: (namespace: string, pod: string, port: number) => portForwardTo(sim, view, namespace, pod, port),
    log: (namespace: string, pod: string, container: string, sinceSeconds?: number): string[] => {
      const istiod = sim.istiodIn(view.name);
      const object = view.pods.get(`${namespace}/${pod}`);
      if (container !== 'discovery' || !istiod || !object || !view.istiodPods.includes(object)) return [];
      const now = sim.mesh.clock();
      const lines = istiodLogLines(istiod, now, sim.mesh.createdAt, ambientViewOf(sim, istiod));
      if (sinceSeconds === undefined) return lines;
      const from = now.getTime() - sinceSeconds * 1000;
      return lines.filter((l) => Date.parse(l.slice(0, l.indexOf('\t'))) >= from);
    },
  };
}

async function execIn(sim: MeshSim, view: ClusterView, req: LabExecRequest): Promise<LabExecOutcome> {
  if (sim.hasFault('exec-hang', view.name)) return { hang: true };
  if (sim.hasFault('exec-no-status', view.name)) return { closeWithoutStatus: true };
  // The command ran and failed, as a broken runtime or a full node makes it: exit 1, reason on stderr.
  if (sim.hasFault('exec-fail', view.name)) return fail(1, 'error: the lab injected an exec failure (exit 1)\n');
  const pod = view.pods.get(`${req.namespace}/${req.pod}`);
  if (!pod) return fail(1, `error: pods "${req.pod}" not found\n`);
  const container = containersOf(pod).find((c) => c.name === req.container);
  if (!container || !containerRunning(pod, req.container)) {
    return fail(1, `error: unable to upgrade connection: container not found ("${req.container}")\n`);
  }
  const client: Client = { sim, view, pod, viaSidecar: req.container !== 'istio-proxy' };
  return runCommand(client, toolboxOf(sim, view, pod, req.container, container.image ?? ''), req.command);
}

function fail(exitCode: number, stderr: string): ExecResult {
  return { exitCode, stdout: '', stderr };
}

/** What a container has: istiod's distroless image, the proxy image, or an application image. */
function toolboxOf(sim: MeshSim, view: ClusterView, pod: KubeObject, container: string, image: string): Toolbox {
  if (container === 'discovery') {
    return { binaries: new Set(), special: (argv) => pilotDiscovery(sim, view, argv) };
  }
  if (container === 'istio-proxy') {
    return { binaries: new Set(['sh', 'cat', 'hostname', 'curl']), special: (argv) => pilotAgent(sim, view, pod, argv) };
  }
  const binaries = new Set(['sh', 'cat', 'hostname', 'getent']);
  // Images built around curl (the sample's curlimages/curl, sleep, netshoot) carry curl and nslookup.
  if (/curl|sleep|netshoot|busybox|alpine|toolbox/.test(image) || container === 'curl' || container === 'sleep') {
    binaries.add('curl');
    binaries.add('nslookup');
  }
  return { binaries };
}

const NOT_SPECIAL: ExecResult = { exitCode: -1, stdout: '', stderr: '' };

/** `pilot-discovery request GET /debug/<x>` inside istiod. */
function pilotDiscovery(sim: MeshSim, view: ClusterView, argv: string[]): ExecResult {
  if (!/(^|\/)pilot-discovery$/.test(argv[0] ?? '')) return NOT_SPECIAL;
  if (argv[1] !== 'request' || argv.length < 4) return fail(1, 'Error: requires at least 2 arg(s), only received 0\n');
  const istiod = sim.istiodIn(view.name);
  if (!istiod) return fail(1, `Error: Get "http://localhost:${ISTIOD_DEBUG_PORT}${argv[3]}": dial tcp [::1]:${ISTIOD_DEBUG_PORT}: connect: connection refused\n`);
  const res = debugRequest(sim, istiod, argv[3]);
  if (res.status !== 200) return fail(1, `Error: received unsuccessful status code ${res.status}: ${res.body}`);
  return execResultOf(res);
}

/**
 * The exec result of a debug response, one frozen object per response object: debugRequest hands
 * out the same response for a body rendered once (issue 19), so the exec session frames its tens of
 * megabytes once too (it caches the frames of frozen outcomes).
 */
const execResults = new WeakMap<DebugResponse, ExecResult>();
function execResultOf(res: DebugResponse): ExecResult {
  let result = execResults.get(res);
  if (!result) execResults.set(res, (result = Object.freeze({ exitCode: 0, stdout: res.body, stderr: '' })));
  return result;
}

/** `pilot-agent request GET <admin path>` inside istio-proxy: Envoy's admin API. */
async function pilotAgent(sim: MeshSim, view: ClusterView, pod: KubeObject, argv: string[]): Promise<ExecResult> {
  if (!/(^|\/)pilot-agent$/.test(argv[0] ?? '')) return NOT_SPECIAL;
  if (argv[1] !== 'request' || argv.length < 4) return fail(1, 'Error: requires at least 2 arg(s), only received 0\n');
  const res = await envoyAdmin(sim, view, pod, argv[3]);
  if (res.status !== 200) return fail(1, `Error: received unsuccessful status code ${res.status}: ${res.body}`);
  return { exitCode: 0, stdout: res.body, stderr: '' };
}

/** GET on a proxy's Envoy admin API (also what the real stack's sidecars answer from files: realstack/stack.ts). */
export async function envoyAdmin(sim: MeshSim, view: ClusterView, pod: KubeObject, rawPath: string): Promise<{ status: number; body: string }> {
  const path = rawPath.replace(/^\//, '').split('?')[0];
  const istiod = sim.controlPlaneOf(view.name);
  switch (path) {
    case 'clusters': {
      const clusters = istiod ? outboundClusters(istiod, proxyNetwork(view, pod), view.id) : [];
      return { status: 200, body: clustersText(clusters, statsOf(sim, `${view.name}/${pod.metadata.namespace}/${pod.metadata.name}`)) };
    }
    case 'server_info':
      return { status: 200, body: serverInfo(sim, view, pod, istiod) };
    case 'certs':
      return { status: 200, body: certsJson(await workloadCertOf(sim, view, pod), sim.mesh.clock()) };
    case 'config_dump':
      return { status: 200, body: configDumpJson(await workloadCertOf(sim, view, pod), new URLSearchParams(rawPath.split('?')[1] ?? '').get('resource') ?? undefined) };
    case 'ready':
      return { status: 200, body: 'LIVE\n' };
    default:
      return { status: 404, body: 'invalid path. admin commands are:\n' };
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** What listens on a pod's port for port-forward: istiod's debug server, or a proxy's Envoy admin. */
function portForwardTo(sim: MeshSim, view: ClusterView, namespace: string, podName: string, port: number): Handler | undefined {
  const pod = view.pods.get(`${namespace}/${podName}`);
  if (!pod) return undefined;
  if (port === ISTIOD_DEBUG_PORT && view.istiodPods.includes(pod)) {
    const istiod = sim.istiodIn(view.name);
    if (!istiod || !podReady(pod)) return undefined;
    return (req, res) => {
      const url = req.url ?? '/';
      const result = url.startsWith('/debug/') ? debugRequest(sim, istiod, url) : { status: 404, body: '404 page not found\n' };
      res.writeHead(result.status, { 'content-type': result.status === 200 ? 'application/json' : 'text/plain; charset=utf-8' });
      res.end(result.body);
    };
  }
  // ztunnel's admin listens on localhost:15000 of its pod (istio/ztunnel src/admin.rs, DEFAULT_ADMIN_PORT).
  if (port === ENVOY_ADMIN_PORT && pod.metadata.labels?.app === 'ztunnel') {
    if (!containerRunning(pod, 'istio-proxy')) return undefined;
    return (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/config_dump') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 not found\n');
        return;
      }
      ztunnelConfigDump(sim, view, pod).then(
        (body) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(body);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${err.message}\n`);
        },
      );
    };
  }
  if (port === ENVOY_ADMIN_PORT && proxyContainer(pod) && containerRunning(pod, 'istio-proxy')) {
    return (req, res) => {
      envoyAdmin(sim, view, pod, req.url ?? '/').then(
        (result) => {
          res.writeHead(result.status, { 'content-type': result.body.startsWith('{') ? 'application/json' : 'text/plain' });
          res.end(result.body);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
    };
  }
  return undefined;
}
