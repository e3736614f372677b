// Each observation-level fault of the CHECKS.md fault table, as the simulation serves it: istiod's
// debug output, Envoy's hosts and counters, and what curl/getent in the pods get.
import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../../src/cluster/types.ts';
import {
  backendOf,
  buildTestMesh,
  curlFrom,
  debug,
  envoyHosts,
  exec,
  HELLO,
  podOf,
  rawExec,
  testMeshOf,
  type EndpointShardz,
  type RegistryEntry,
  type TestMesh,
} from './helpers/mesh.ts';

const TLS_FAILURE = 'CERTIFICATE_VERIFY_FAILED';

type ClusterzEntry = { id: string; secretName: string; syncStatus: string };
type NetworkzEntry = { Network: string; Cluster: string; Addr: string; Port: number };

async function helloVips(t: TestMesh, cluster: string): Promise<string[]> {
  const reg = await debug<RegistryEntry[]>(t, cluster, 'registryz');
  return Object.keys(reg.find((s) => s.hostname === HELLO)?.clusterVIPs.Addresses ?? {}).sort();
}

/** Ten curls to helloworld from a cluster's curl pod. */
async function tenCurls(t: TestMesh, cluster: string, args?: string[]): Promise<ExecResult[]> {
  const out: ExecResult[] = [];
  for (let i = 0; i < 10; i++) out.push(await curlFrom(t, cluster, 'http://helloworld.sample:5000/hello', args));
  return out;
}

function gatewayAddress(t: TestMesh, cluster: string): string {
  const svc = backendOf(t, cluster)
    .list('services')
    .find((s) => s.metadata.name === 'istio-eastwestgateway');
  return svc?.status?.loadBalancer?.ingress?.[0]?.ip;
}

describe('remote secrets and sync', () => {
  it('no-remote-secret: the peer vanishes from clusterz, registryz, endpointShardz and Envoy', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'no-remote-secret', cluster: 'cluster1' }] });
    expect((await debug<ClusterzEntry[]>(t, 'cluster1', 'clusterz')).map((c) => c.id)).toEqual(['cluster1']);
    expect(await helloVips(t, 'cluster1')).toEqual(['cluster1']);
    const shards = await debug<EndpointShardz>(t, 'cluster1', 'endpointShardz');
    expect(Object.keys(shards[HELLO].sample.Shards)).toEqual(['Kubernetes/cluster1']);
    expect([...(await envoyHosts(t, 'cluster1', HELLO)).keys()]).toHaveLength(1);
    expect((await tenCurls(t, 'cluster1')).every((r) => r.stdout.startsWith('Hello version: v1'))).toBe(true);
    // The other direction still works: cluster2 keeps its secret for cluster1.
    expect(await helloVips(t, 'cluster2')).toEqual(['cluster1', 'cluster2']);
  });

  it('remote-secret-wrong-id: istiod registers the peer under the secret key', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'remote-secret-wrong-id', cluster: 'cluster1' }] });
    const ids = (await debug<ClusterzEntry[]>(t, 'cluster1', 'clusterz')).map((c) => c.id);
    expect(ids).toContain('kind-cluster2');
    expect(ids).not.toContain('cluster2');
    expect(await helloVips(t, 'cluster1')).toEqual(['cluster1', 'kind-cluster2']);
  });

  it('remote-secret-exec-auth: istiod refuses the kubeconfig and never adds the peer', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'remote-secret-exec-auth', cluster: 'cluster1' }] });
    expect((await debug<ClusterzEntry[]>(t, 'cluster1', 'clusterz')).map((c) => c.id)).toEqual(['cluster1']);
    expect(await helloVips(t, 'cluster1')).toEqual(['cluster1']);
  });

  for (const fault of ['remote-secret-expired-token', 'remote-secret-unreachable', 'remote-rbac-missing', 'remote-sync-timeout']) {
    it(`${fault}: clusterz shows the peer timed out and its services are missing`, async () => {
      const t = await buildTestMesh({ faults: [{ name: fault, cluster: 'cluster1' }] });
      const clusterz = await debug<ClusterzEntry[]>(t, 'cluster1', 'clusterz');
      expect(clusterz).toContainEqual({ id: 'cluster2', secretName: 'istio-system/istio-remote-secret-cluster2', syncStatus: 'timeout' });
      expect(await helloVips(t, 'cluster1')).toEqual(['cluster1']);
      expect((await debug<ClusterzEntry[]>(t, 'cluster2', 'clusterz')).find((c) => c.id === 'cluster1')?.syncStatus).toBe('synced');
    });
  }

  it('duplicate-cluster-id: a secret keyed with the local id is ignored', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'duplicate-cluster-id', cluster: 'cluster2' }] });
    expect((await debug<ClusterzEntry[]>(t, 'cluster2', 'clusterz')).map((c) => c.id)).toEqual(['cluster1']);
  });

  it('discovery-selectors-exclude: the excluded namespace is not in the registry', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'discovery-selectors-exclude', cluster: 'cluster1' }] });
    const reg = await debug<RegistryEntry[]>(t, 'cluster1', 'registryz');
    expect(reg.some((s) => s.hostname === HELLO)).toBe(false);
    expect((await debug<RegistryEntry[]>(t, 'cluster2', 'registryz')).some((s) => s.hostname === HELLO)).toBe(true);
  });

  it('proxy-stale: several proxies have sent != acked in syncz', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'proxy-stale', cluster: 'cluster1' }] });
    const syncz = await debug<Record<string, string>[]>(t, 'cluster1', 'syncz');
    const stale = syncz.filter((s) => s.endpoint_sent !== s.endpoint_acked);
    expect(stale.length).toBeGreaterThanOrEqual(2);
    expect(stale.length).toBeGreaterThan(syncz.length / 2);
    expect((await debug<Record<string, string>[]>(t, 'cluster2', 'syncz')).every((s) => s.endpoint_sent === s.endpoint_acked)).toBe(true);
  });

  it('istiod-not-ready: exec into discovery fails and port-forward has nothing', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'istiod-not-ready', cluster: 'cluster2' }] });
    const istiod = podOf(t, 'cluster2', 'istiod');
    const res = await exec(t, 'cluster2', istiod, 'discovery', ['pilot-discovery', 'request', 'GET', '/debug/clusterz']);
    expect(res.exitCode).not.toBe(0);
    expect(backendOf(t, 'cluster2').portForward('istio-system', istiod.metadata.name, 15014)).toBeUndefined();
    expect(await debug<ClusterzEntry[]>(t, 'cluster1', 'clusterz')).toHaveLength(2);
  });
});

describe('networks and gateways', () => {
  it('network-label-missing: the cluster endpoints get no Network and show as raw pod IPs', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'network-label-missing', cluster: 'cluster2' }] });
    const shards = await debug<EndpointShardz>(t, 'cluster1', 'endpointShardz');
    const ep = shards[HELLO].sample.Shards['Kubernetes/cluster2'][0];
    expect(ep.Network).toBe('');
    const podIP = podOf(t, 'cluster2', 'helloworld').status.podIP;
    expect([...(await envoyHosts(t, 'cluster1', HELLO)).keys()]).toContain(`${podIP}:5000`);
    const results = await tenCurls(t, 'cluster1');
    expect(results.some((r) => r.exitCode === 28)).toBe(true);
  });

  it('uninjected-remote-endpoint: TLSMode disabled, and sidecars of other networks get no endpoint for them', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'uninjected-remote-endpoint', cluster: 'cluster2' }] });
    const shards = await debug<EndpointShardz>(t, 'cluster1', 'endpointShardz');
    expect(shards[HELLO].sample.Shards['Kubernetes/cluster2'][0].TLSMode).toBe('disabled');
    // istiod drops remote-network endpoints that cannot take mTLS from EDS (EndpointsByNetworkFilter;
    // the real istiod's goldens agree): cluster1's sidecar keeps only its own helloworld pods.
    const hosts = [...(await envoyHosts(t, 'cluster1', HELLO)).keys()];
    expect(hosts).not.toContain(`${gatewayAddress(t, 'cluster2')}:15443`);
    expect(hosts).toContain(`${podOf(t, 'cluster1', 'helloworld').status.podIP}:5000`);
    const results = await tenCurls(t, 'cluster1');
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
  });

  for (const fault of ['ewgw-missing', 'ewgw-lb-pending', 'ewgw-no-15443', 'ewgw-network-label-missing']) {
    it(`${fault}: networkz has no gateway for the cluster's network`, async () => {
      const t = await buildTestMesh({ faults: [{ name: fault, cluster: 'cluster2' }] });
      const networkz = await debug<NetworkzEntry[]>(t, 'cluster1', 'networkz');
      expect(networkz.map((g) => g.Network)).toEqual(['network1']);
      // Without a gateway, network2 endpoints stay as unroutable pod IPs: some requests time out.
      const podIP = podOf(t, 'cluster2', 'helloworld').status.podIP;
      expect([...(await envoyHosts(t, 'cluster1', HELLO)).keys()]).toContain(`${podIP}:5000`);
      expect((await tenCurls(t, 'cluster1')).filter((r) => r.exitCode === 28)).toHaveLength(5);
    });
  }

  it('ewgw-not-ready: requests to the peer fail with 503 and a TCP connect is refused', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'ewgw-not-ready', cluster: 'cluster2' }] });
    const codes = (await tenCurls(t, 'cluster1', ['-s', '-o', '/dev/null', '-w', '%{http_code}'])).map((r) => r.stdout);
    expect(codes).toContain('503');
    expect(codes).toContain('200');
    const tcp = await curlFrom(t, 'cluster1', `telnet://${gatewayAddress(t, 'cluster2')}:15443`, ['-sS', '-m', '3']);
    expect(tcp.exitCode).toBe(7);
  });

  it('cross-network-gateway-istio-mutual: traffic into that cluster is terminated at its gateway', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'cross-network-gateway-istio-mutual', cluster: 'cluster1' }] });
    const results = await tenCurls(t, 'cluster2');
    expect(results.filter((r) => r.stdout.includes('reset reason: connection termination'))).toHaveLength(5);
    const hosts = await envoyHosts(t, 'cluster2', HELLO);
    expect(hosts.get(`${gatewayAddress(t, 'cluster1')}:15443`)).toMatchObject({ rq_error: '5', rq_success: '0' });
    // cluster1 -> cluster2 goes through cluster2's healthy gateway.
    expect((await tenCurls(t, 'cluster1')).every((r) => r.stdout.startsWith('Hello version'))).toBe(true);
  });

  it('cross-network-gateway-missing: nothing listens on 15443 of that gateway', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'cross-network-gateway-missing', cluster: 'cluster2' }] });
    const results = await tenCurls(t, 'cluster1');
    expect(results.some((r) => r.stdout.includes('delayed connect error: 111'))).toBe(true);
  });

  it('eastwest-firewall: TCP to the gateway times out from the other network, curl exits 28', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'eastwest-firewall', cluster: 'cluster2' }] });
    const results = await tenCurls(t, 'cluster1');
    expect(results.filter((r) => r.exitCode === 28)).toHaveLength(5);
    expect(results.find((r) => r.exitCode === 28)?.stderr).toMatch(/^curl: \(28\) Operation timed out after 5001 milliseconds/);
    const tcp = await curlFrom(t, 'cluster1', `telnet://${gatewayAddress(t, 'cluster2')}:15443`, ['-sS', '-m', '3']);
    expect(tcp.exitCode).toBe(28);
    const back = await curlFrom(t, 'cluster2', `telnet://${gatewayAddress(t, 'cluster1')}:15443`, ['-sS', '-m', '3']);
    expect(back.exitCode).toBe(0);
    const hosts = await envoyHosts(t, 'cluster1', HELLO);
    expect(Number(hosts.get(`${gatewayAddress(t, 'cluster2')}:15443`)?.rq_error)).toBe(5);
  });

  it('networkpolicy-blocks-gateway: 15443 is dropped at the gateway pods', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'networkpolicy-blocks-gateway', cluster: 'cluster2' }] });
    expect((await tenCurls(t, 'cluster1')).some((r) => r.exitCode === 28)).toBe(true);
    const tcp = await curlFrom(t, 'cluster1', `telnet://${gatewayAddress(t, 'cluster2')}:15443`, ['-sS', '-m', '3']);
    expect(tcp.exitCode).toBe(28);
    expect(tcp.stderr).toContain('curl: (28) Connection timed out');
  });
});

describe('trust and DNS', () => {
  it('root-mismatch: cross-cluster requests fail TLS verification and the counters show errors', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'root-mismatch', cluster: 'cluster2' }] });
    const results = await tenCurls(t, 'cluster1', ['-s', '-w', '\n%{http_code}']);
    const failed = results.filter((r) => r.stdout.includes(TLS_FAILURE));
    expect(failed).toHaveLength(5);
    expect(failed[0].stdout).toMatch(/\n503$/);
    expect(failed[0].stdout).toContain('upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED');
    const hosts = await envoyHosts(t, 'cluster1', HELLO);
    expect(hosts.get(`${gatewayAddress(t, 'cluster2')}:15443`)).toMatchObject({ rq_error: '5', rq_success: '0' });
    // The workload certs of the two clusters chain to different roots.
    const root = async (c: string) =>
      JSON.parse((await exec(t, c, podOf(t, c, 'curl'), 'istio-proxy', ['pilot-agent', 'request', 'GET', 'certs'])).stdout).certificates[0].ca_cert[0].serial_number;
    expect(await root('cluster1')).not.toBe(await root('cluster2'));
  });

  it('remote-only-service-no-dns-capture: the remote-only service does not resolve without DNS capture', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'remote-only-service-no-dns-capture', cluster: 'cluster1' }] });
    const reg = await debug<RegistryEntry[]>(t, 'cluster1', 'registryz');
    const remoteOnly = reg.find((s) => s.Attributes.Namespace === 'sample' && Object.keys(s.clusterVIPs.Addresses).join() === 'cluster2');
    expect(remoteOnly).toBeDefined();
    const name = `${remoteOnly?.Attributes.Name}.sample`;
    const res = await curlFrom(t, 'cluster1', `http://${name}:${remoteOnly?.ports[0].port}/hello`);
    expect(res.exitCode).toBe(6);
    const curl = podOf(t, 'cluster1', 'curl');
    expect((await exec(t, 'cluster1', curl, 'curl', ['getent', 'hosts', name])).exitCode).toBe(2);
    // In the cluster that has the Service, it resolves.
    expect((await exec(t, 'cluster2', podOf(t, 'cluster2', 'curl'), 'curl', ['getent', 'hosts', name])).exitCode).toBe(0);
  });

  it('with DNS capture on, the remote-only service resolves and is served by the peer', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'remote-only-service-no-dns-capture', cluster: 'cluster1' }] });
    const curl = podOf(t, 'cluster1', 'curl');
    const captured = {
      ...curl,
      metadata: { ...curl.metadata, annotations: { ...curl.metadata.annotations, 'proxy.istio.io/config': 'proxyMetadata:\n  ISTIO_META_DNS_CAPTURE: "true"\n' } },
    };
    const mesh = {
      ...t.mesh,
      clusters: t.mesh.clusters.map((c) => (c.name === 'cluster1' ? { ...c, objects: c.objects.map((o) => (o === curl ? captured : o)) } : c)),
    };
    const withCapture = testMeshOf(mesh);
    const res = await curlFrom(withCapture, 'cluster1', 'http://hello-remote.sample:5000/hello');
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toMatch(/^Hello version: v1, instance: hello-remote-v1-/);
  });

  it('trust-domain-mismatch: workload certs carry the cluster trust domain and cross-cluster mTLS fails', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'trust-domain-mismatch', cluster: 'cluster2' }] });
    const curl = podOf(t, 'cluster2', 'curl');
    const certs = JSON.parse((await exec(t, 'cluster2', curl, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'certs'])).stdout);
    expect(certs.certificates[0].cert_chain[0].subject_alt_names[0].uri).toMatch(/^spiffe:\/\/cluster2\.local\/ns\/sample\/sa\//);
    expect((await tenCurls(t, 'cluster1')).some((r) => r.stdout.includes(TLS_FAILURE))).toBe(true);
  });

  it('namespace-not-injected: pods without sidecars call local endpoints directly', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'namespace-not-injected', cluster: 'cluster2' }] });
    expect((await tenCurls(t, 'cluster2')).every((r) => r.stdout.startsWith('Hello version: v2'))).toBe(true);
  });
});

describe('topologies', () => {
  it('multi-primary-single-network: peers are reached pod to pod', async () => {
    const t = await buildTestMesh({ scenario: 'multi-primary-single-network' });
    const podIP = podOf(t, 'cluster2', 'helloworld').status.podIP;
    expect([...(await envoyHosts(t, 'cluster1', HELLO)).keys()]).toContain(`${podIP}:5000`);
    const bodies = (await tenCurls(t, 'cluster1')).map((r) => r.stdout);
    expect(bodies.some((b) => b.startsWith('Hello version: v2'))).toBe(true);
    expect(bodies.some((b) => b.startsWith('Hello version: v1'))).toBe(true);
  });

  it('primary-remote: the primary serves the remote proxies, which reach both clusters', async () => {
    const t = await buildTestMesh({ scenario: 'primary-remote' });
    const syncz = await debug<Record<string, string>[]>(t, 'cluster1', 'syncz');
    expect(syncz.some((s) => s.cluster_id === 'cluster2' && s.proxy.startsWith('curl-'))).toBe(true);
    const bodies = (await tenCurls(t, 'cluster2')).map((r) => r.stdout);
    expect(bodies.some((b) => b.startsWith('Hello version: v1'))).toBe(true);
    expect(bodies.some((b) => b.startsWith('Hello version: v2'))).toBe(true);
  });
});

describe('exec transport faults', () => {
  it('exec-hang and exec-no-status apply to their cluster only', async () => {
    const t = await buildTestMesh();
    const mesh = { ...t.mesh, faults: [{ name: 'exec-hang', cluster: 'cluster1' }, { name: 'exec-no-status', cluster: 'cluster2' }] };
    const faulty = testMeshOf(mesh);
    expect(await rawExec(faulty, 'cluster1', podOf(faulty, 'cluster1', 'curl'), 'curl', ['hostname'])).toEqual({ hang: true });
    expect(await rawExec(faulty, 'cluster2', podOf(faulty, 'cluster2', 'curl'), 'curl', ['hostname'])).toMatchObject({ closeWithoutStatus: true });
    expect(await rawExec(t, 'cluster1', podOf(t, 'cluster1', 'curl'), 'curl', ['hostname'])).toMatchObject({ exitCode: 0 });
  });
});
