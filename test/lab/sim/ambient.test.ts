// The ambient-multi-network scenario as the simulation serves it: ztunnel's /config_dump through
// port-forward to localhost:15000, istiod's /debug/ambientz, and curl from ambient pods through
// ztunnel, the waypoint and the peer's istio-east-west gateway; each ambient fault changes them the
// way istiod and ztunnel would.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { backendOf, buildTestMesh, debug, exec, podOf, type TestMesh } from './helpers/mesh.ts';

const SCENARIO = 'ambient-multi-network';

interface DumpWorkload {
  uid: string;
  clusterId: string;
  network?: string;
  services: string[];
  networkGateway?: { destination: string; hboneMtlsPort: number };
}

/** GET a path on a pod's port through the backend's port-forward handler. */
function portForwardGet(t: TestMesh, cluster: string, pod: KubeObject, port: number, path: string): Promise<{ status: number; body: string }> {
  const handler = backendOf(t, cluster).portForward(pod.metadata.namespace ?? '', pod.metadata.name, port);
  if (!handler) throw new Error(`nothing listens on ${pod.metadata.name}:${port}`);
  return new Promise((resolve) => {
    let status = 0;
    const res = { writeHead: (s: number) => ((status = s), res), end: (body: string) => resolve({ status, body }) } as unknown as ServerResponse;
    handler({ url: path } as IncomingMessage, res);
  });
}

async function ztunnelDump(t: TestMesh, cluster: string): Promise<{ workloads: DumpWorkload[]; certificates: { rootCerts: { pem: string }[] }[] }> {
  const ztunnel = podOf(t, cluster, 'ztunnel');
  const res = await portForwardGet(t, cluster, ztunnel, 15000, '/config_dump');
  expect(res.status).toBe(200);
  return JSON.parse(res.body);
}

const splitHorizon = (workloads: DumpWorkload[]) => workloads.filter((w) => w.uid.includes('/SplitHorizonWorkload/'));

/** Who answered n curls of helloworld from cluster's curl pod (application container), by version. */
async function curlHello(t: TestMesh, cluster: string, n: number): Promise<{ versions: string[]; exitCodes: number[] }> {
  const curl = podOf(t, cluster, 'curl');
  const versions: string[] = [];
  const exitCodes: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await exec(t, cluster, curl, 'curl', ['curl', '-sS', 'helloworld.sample:5000/hello']);
    exitCodes.push(r.exitCode);
    const m = /Hello version: (v\d+)/.exec(r.stdout);
    if (m) versions.push(m[1]);
  }
  return { versions: [...new Set(versions)].sort(), exitCodes: [...new Set(exitCodes)].sort() };
}

describe('ambient-multi-network, healthy', () => {
  it('objects: ztunnel on every node, ambient sample, an istio-east-west Gateway with its address, a global Service behind a waypoint', async () => {
    const t = await buildTestMesh({ scenario: SCENARIO });
    const list = backendOf(t, 'cluster1').list;
    const ztunnel = list('daemonsets').find((d) => d.metadata.name === 'ztunnel')!;
    expect(ztunnel.status.numberReady).toBe(3);
    expect(list('pods').filter((p) => p.metadata.labels?.app === 'ztunnel')).toHaveLength(3);
    expect(list('namespaces').find((n) => n.metadata.name === 'sample')?.metadata.labels).toMatchObject({ 'istio.io/dataplane-mode': 'ambient' });
    expect(list('gatewayclasses').map((c) => c.metadata.name).sort()).toEqual(['istio', 'istio-east-west', 'istio-remote', 'istio-waypoint']);
    const ew = list('k8sgateways').find((g) => g.spec.gatewayClassName === 'istio-east-west')!;
    expect(ew.status.addresses).toEqual([{ type: 'IPAddress', value: '192.0.2.11' }]);
    expect(list('services').find((s) => s.metadata.name === 'helloworld')?.metadata.labels).toMatchObject({ 'istio.io/global': 'true', 'istio.io/use-waypoint': 'waypoint' });
    expect(list('pods').filter((p) => p.metadata.namespace === 'sample' && p.spec.initContainers?.length)).toEqual([]);
  });

  it("ztunnel's config_dump (port-forward to :15000) holds a split-horizon workload per global service through the peer's gateway", async () => {
    const t = await buildTestMesh({ scenario: SCENARIO });
    const dump = await ztunnelDump(t, 'cluster1');
    const helloworld = splitHorizon(dump.workloads).find((w) => w.services.includes('sample/helloworld.sample.svc.cluster.local'));
    expect(helloworld).toMatchObject({ clusterId: 'cluster2', network: 'network2', networkGateway: { destination: 'network2/192.0.2.12', hboneMtlsPort: 15008 } });
    expect(dump.workloads.some((w) => w.uid === 'NetworkGateway/network2/192.0.2.12/15008')).toBe(true);
    // Certificates are those of the ambient pods on the ztunnel's node: the control-plane node's ztunnel has none.
    const curlNode = podOf(t, 'cluster1', 'curl').spec.nodeName;
    const onCurlNode = backendOf(t, 'cluster1').list('pods').find((p) => p.metadata.labels?.app === 'ztunnel' && p.spec.nodeName === curlNode)!;
    const nodeDump = JSON.parse((await portForwardGet(t, 'cluster1', onCurlNode, 15000, '/config_dump')).body) as { certificates: { rootCerts: unknown[] }[] };
    expect(nodeDump.certificates.length).toBeGreaterThan(0);
    expect(nodeDump.certificates[0].rootCerts).toHaveLength(1);
    // Envoy's admin paths are not ztunnel's.
    expect((await portForwardGet(t, 'cluster1', podOf(t, 'cluster1', 'ztunnel'), 15000, '/clusters')).status).toBe(404);
  });

  it("istiod's /debug/ambientz lists the same workloads, addresses as base64 of their text", async () => {
    const t = await buildTestMesh({ scenario: SCENARIO });
    const ambientz = await debug<{ workloads: { uid: string; networkGateway?: { address: { network: string; address: string } } }[] }>(t, 'cluster2', 'ambientz');
    const sh = ambientz.workloads.find((w) => w.uid.startsWith('network1/SplitHorizonWorkload/'))!;
    expect(sh.networkGateway?.address).toEqual({ network: 'network1', address: Buffer.from('192.0.2.11').toString('base64') });
    const networkz = await debug<{ Network: string; Port: number; HBONEPort: number }[]>(t, 'cluster2', 'networkz');
    expect(networkz).toContainEqual(expect.objectContaining({ Network: 'network1', Port: 0, HBONEPort: 15008 }));
  });

  it('curl from an ambient pod (its application container) reaches both versions, across networks', async () => {
    const t = await buildTestMesh({ scenario: SCENARIO });
    expect(await curlHello(t, 'cluster1', 4)).toEqual({ versions: ['v1', 'v2'], exitCodes: [0] });
    expect(await curlHello(t, 'cluster2', 4)).toEqual({ versions: ['v1', 'v2'], exitCodes: [0] });
  });
});

describe('ambient-multi-network, faults', () => {
  it('ambient-ewgw-missing on cluster2: cluster1 finds no gateway for network2, so only v1 answers there', async () => {
    const t = await buildTestMesh({ scenario: SCENARIO, faults: [{ name: 'ambient-ewgw-missing', cluster: 'cluster2' }] });
    expect(splitHorizon((await ztunnelDump(t, 'cluster1')).workloads).filter((w) => w.network === 'network2')).toEqual([]);
    expect(await curlHello(t, 'cluster1', 4)).toEqual({ versions: ['v1'], exitCodes: [0] });
  });

  it('ambient-ewgw-no-address on cluster2: the Gateway has no status.addresses and is not Programmed', async () => {
    const t = await buildTestMesh({ scenario: SCENARIO, faults: [{ name: 'ambient-ewgw-no-address', cluster: 'cluster2' }] });
    const ew = backendOf(t, 'cluster2').list('k8sgateways').find((g) => g.spec.gatewayClassName === 'istio-east-west')!;
    expect(ew.status.addresses).toEqual([]);
    expect(ew.status.conditions.find((c: { type: string }) => c.type === 'Programmed').status).toBe('False');
    expect(splitHorizon((await ztunnelDump(t, 'cluster1')).workloads).filter((w) => w.network === 'network2')).toEqual([]);
  });

  it('ambient-multi-network-off on cluster2: no istio-east-west class there, its ztunnels get no other network', async () => {
    const t = await buildTestMesh({ scenario: SCENARIO, faults: [{ name: 'ambient-multi-network-off', cluster: 'cluster2' }] });
    expect(backendOf(t, 'cluster2').list('gatewayclasses').map((c) => c.metadata.name)).not.toContain('istio-east-west');
    expect(splitHorizon((await ztunnelDump(t, 'cluster2')).workloads)).toEqual([]);
    expect(splitHorizon((await ztunnelDump(t, 'cluster1')).workloads).filter((w) => w.network === 'network2')).toEqual([]);
  });

  it('ztunnel-cluster-id-default on cluster2: istiod refuses its ztunnels, which get no config and reset connections', async () => {
    const t = await buildTestMesh({ scenario: SCENARIO, faults: [{ name: 'ztunnel-cluster-id-default', cluster: 'cluster2' }] });
    const dump = await ztunnelDump(t, 'cluster2');
    expect(dump.workloads).toEqual([]);
    expect(dump.certificates).toEqual([]);
    expect(await curlHello(t, 'cluster2', 2)).toEqual({ versions: [], exitCodes: [56] });
  });

  it('ambient-global-label-asymmetric on cluster2: cluster1 skips the non-global remote copy', async () => {
    const t = await buildTestMesh({ scenario: SCENARIO, faults: [{ name: 'ambient-global-label-asymmetric', cluster: 'cluster2' }] });
    const hello = (w: DumpWorkload) => w.services.includes('sample/helloworld.sample.svc.cluster.local');
    expect(splitHorizon((await ztunnelDump(t, 'cluster1')).workloads).filter(hello)).toEqual([]);
  });

  it('ambient faults apply to the ambient scenario only', async () => {
    await expect(buildTestMesh({ scenario: 'multi-primary', faults: ['ambient-ewgw-missing'] })).rejects.toThrow(/applies only to ambient-multi-network/);
  });
});
