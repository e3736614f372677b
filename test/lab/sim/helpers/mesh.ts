// Test helpers: a mesh state from the real model builder, and short ways to exec in its pods.
import type { ExecResult, KubeObject } from '../../../../src/cluster/types.ts';
import { buildMeshState } from '../../../../src/lab/model/index.ts';
import { createBackend } from '../../../../src/lab/sim/index.ts';
import type { LabBackend, LabExecOutcome, LabFault, LabMeshState } from '../../../../src/lab/types.ts';

/** The FQDN of the helloworld Service every test mesh serves from both clusters. */
export const HELLO = 'helloworld.sample.svc.cluster.local';

/** A built mesh and one backend per cluster. */
export interface TestMesh {
  mesh: LabMeshState;
  backends: Map<string, LabBackend>;
}

/** Build a mesh with the real model (endpoints are never dialed by the sim). */
export async function buildTestMesh(opts: { scenario?: string; faults?: (string | LabFault)[]; clusters?: number } = {}): Promise<TestMesh> {
  const count = opts.clusters ?? 2;
  const endpoints = Array.from({ length: count }, (_, i) => ({ cluster: `cluster${i + 1}`, server: `https://127.0.0.1:${41000 + i}`, caPem: '' }));
  const faults = (opts.faults ?? []).map((f) => (typeof f === 'string' ? { name: f } : f));
  return testMeshOf(await buildMeshState({ scenario: opts.scenario ?? 'multi-primary', endpoints, faults }));
}

/** A test mesh over a given state (e.g. a built one with objects or faults edited), one new backend per cluster. */
export function testMeshOf(mesh: LabMeshState): TestMesh {
  return { mesh, backends: new Map(mesh.clusters.map((c) => [c.name, createBackend(mesh, c.name)])) };
}

/** The backend of a cluster. */
export function backendOf(t: TestMesh, cluster: string): LabBackend {
  const backend = t.backends.get(cluster);
  if (!backend) throw new Error(`no backend for ${cluster}`);
  return backend;
}

/** The first pod of a cluster with label app=<app>. */
export function podOf(t: TestMesh, cluster: string, app: string): KubeObject {
  const pod = backendOf(t, cluster)
    .list('pods')
    .find((p) => p.metadata.labels?.app === app);
  if (!pod) throw new Error(`no ${app} pod in ${cluster}`);
  return pod;
}

const ADMIN = { name: 'kubernetes-admin', groups: ['system:masters'] };

/** Exec a command; fails the test if the outcome is a transport fault. */
export async function exec(t: TestMesh, cluster: string, pod: KubeObject, container: string, command: string[]): Promise<ExecResult> {
  const outcome = await rawExec(t, cluster, pod, container, command);
  if (!('exitCode' in outcome)) throw new Error(`exec gave a transport outcome: ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Exec a command and return whatever the backend answers (transport faults included). */
export function rawExec(t: TestMesh, cluster: string, pod: KubeObject, container: string, command: string[]): Promise<LabExecOutcome> {
  return backendOf(t, cluster).exec({ namespace: pod.metadata.namespace ?? 'default', pod: pod.metadata.name, container, command, user: ADMIN });
}

/** GET /debug/<endpoint> from a cluster's istiod by exec, parsed as JSON. */
export async function debug<T = unknown>(t: TestMesh, cluster: string, endpoint: string): Promise<T> {
  const result = await exec(t, cluster, podOf(t, cluster, 'istiod'), 'discovery', ['pilot-discovery', 'request', 'GET', `/debug/${endpoint}`]);
  if (result.exitCode !== 0) throw new Error(`debug ${endpoint} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** curl from the curl pod of a cluster (`-sS -o /dev/null -w '%{http_code}'` style unless args are given). */
export function curlFrom(t: TestMesh, cluster: string, url: string, args: string[] = ['-sS', '-m', '5']): Promise<ExecResult> {
  return exec(t, cluster, podOf(t, cluster, 'curl'), 'curl', ['curl', ...args, url]);
}

/** Envoy /clusters lines of the curl pod's sidecar for a service, as `host -> {stat: value}`. */
export async function envoyHosts(t: TestMesh, cluster: string, hostname: string, port = 5000): Promise<Map<string, Record<string, string>>> {
  const result = await exec(t, cluster, podOf(t, cluster, 'curl'), 'istio-proxy', ['pilot-agent', 'request', 'GET', 'clusters']);
  const prefix = `outbound|${port}||${hostname}::`;
  const hosts = new Map<string, Record<string, string>>();
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const [host, stat, value] = line.slice(prefix.length).split('::');
    if (!/^\d+\.\d+\.\d+\.\d+:\d+$/.test(host)) continue;
    hosts.set(host, { ...(hosts.get(host) ?? {}), [stat]: value });
  }
  return hosts;
}

/** Fields of /debug/registryz and endpointShardz the tests read. */
export interface RegistryEntry {
  hostname: string;
  clusterVIPs: { Addresses: Record<string, string[]> };
  Attributes: { Name: string; Namespace: string; Type: string };
  ports: { name: string; port: number; protocol: string }[];
}
export type ShardEndpoint = { Addresses: string[]; Network: string; TLSMode: string; ServicePortName: string; EndpointPort: number; Labels: Record<string, string> };
export type EndpointShardz = Record<string, Record<string, { Shards: Record<string, ShardEndpoint[]> }>>;
