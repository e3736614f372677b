// The healthy multi-primary mesh: what istiod, Envoy and the pods' tools serve.
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../../src/lab/sim/index.ts';
import {
  backendOf,
  buildTestMesh,
  curlFrom,
  debug,
  envoyHosts,
  exec,
  HELLO,
  podOf,
  type EndpointShardz,
  type RegistryEntry,
  type TestMesh,
} from './helpers/mesh.ts';

let t: TestMesh;

beforeAll(async () => {
  t = await buildTestMesh();
});

describe('istiod debug endpoints', () => {
  it('clusterz lists the local cluster and the synced peer', async () => {
    expect(await debug(t, 'cluster1', 'clusterz')).toEqual([
      { id: 'cluster1', secretName: '', syncStatus: 'synced' },
      { id: 'cluster2', secretName: 'istio-system/istio-remote-secret-cluster2', syncStatus: 'synced' },
    ]);
  });

  it('registryz merges both clusters with clusterVIPs per cluster id', async () => {
    const reg = await debug<RegistryEntry[]>(t, 'cluster1', 'registryz');
    const hello = reg.find((s) => s.hostname === HELLO);
    expect(Object.keys(hello?.clusterVIPs.Addresses ?? {}).sort()).toEqual(['cluster1', 'cluster2']);
    expect(hello?.ports).toEqual([{ name: 'http', port: 5000, protocol: 'HTTP' }]);
    const svc2 = backendOf(t, 'cluster2').list('services').find((s) => s.metadata.name === 'helloworld');
    expect(hello?.clusterVIPs.Addresses.cluster2).toEqual([svc2?.spec.clusterIP]);
    const gw = reg.find((s) => s.hostname === 'istio-eastwestgateway.istio-system.svc.cluster.local');
    expect(gw?.ports.find((p) => p.port === 15443)?.protocol).toBe('TLS');
  });

  it('endpointShardz has one shard per cluster with network and TLS mode', async () => {
    const shards = await debug<EndpointShardz>(t, 'cluster1', 'endpointShardz');
    const hello = shards[HELLO].sample.Shards;
    expect(Object.keys(hello).sort()).toEqual(['Kubernetes/cluster1', 'Kubernetes/cluster2']);
    const ep2 = hello['Kubernetes/cluster2'][0];
    expect(ep2).toMatchObject({ Network: 'network2', TLSMode: 'istio', ServicePortName: 'http', EndpointPort: 5000 });
    expect(ep2.Labels.version).toBe('v2');
    expect(await debug(t, 'cluster1', 'endpointz')).toEqual(shards);
  });

  it('networkz lists both gateways with their load balancer addresses', async () => {
    const networkz = await debug<{ Network: string; Cluster: string; Addr: string; Port: number }[]>(t, 'cluster1', 'networkz');
    const lb = (c: string) => backendOf(t, c).list('services').find((s) => s.metadata.name === 'istio-eastwestgateway')?.status.loadBalancer.ingress[0].ip;
    expect(networkz.map((g) => [g.Network, g.Cluster, g.Addr, g.Port])).toEqual([
      ['network1', 'cluster1', lb('cluster1'), 15443],
      ['network2', 'cluster2', lb('cluster2'), 15443],
    ]);
  });

  it('syncz lists every proxy of the cluster, all acked', async () => {
    const syncz = await debug<Record<string, string>[]>(t, 'cluster1', 'syncz');
    const proxies = backendOf(t, 'cluster1')
      .list('pods')
      .filter((p) => [...(p.spec.containers ?? []), ...(p.spec.initContainers ?? [])].some((c: { name: string }) => c.name === 'istio-proxy'));
    expect(syncz.map((s) => s.proxy).sort()).toEqual(proxies.map((p) => `${p.metadata.name}.${p.metadata.namespace}`).sort());
    for (const s of syncz) {
      expect(s.cluster_id).toBe('cluster1');
      expect(s.endpoint_sent).toBe(s.endpoint_acked);
    }
  });

  it('configz and mesh serve config; an unknown path is a 404', async () => {
    const configz = await debug<{ kind: string; metadata: { name: string } }[]>(t, 'cluster1', 'configz');
    expect(configz.some((c) => c.kind === 'Gateway' && c.metadata.name === 'cross-network-gateway')).toBe(true);
    expect(await debug(t, 'cluster1', 'mesh')).toMatchObject({ trustDomain: 'cluster.local' });
    const res = await exec(t, 'cluster1', podOf(t, 'cluster1', 'istiod'), 'discovery', ['pilot-discovery', 'request', 'GET', '/debug/nope']);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain('404');
  });
});

describe('traffic', () => {
  it('ten curls from cluster1 reach v1 and v2, and the Envoy counters show it', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await curlFrom(t, 'cluster1', 'http://helloworld.sample:5000/hello');
      expect(res.exitCode).toBe(0);
      bodies.push(res.stdout);
    }
    expect(bodies.some((b) => /^Hello version: v1, instance: helloworld-v1-/.test(b))).toBe(true);
    expect(bodies.some((b) => /^Hello version: v2, instance: helloworld-v2-/.test(b))).toBe(true);
    const hosts = await envoyHosts(t, 'cluster1', HELLO);
    const helloPod = podOf(t, 'cluster1', 'helloworld');
    const local = hosts.get(`${helloPod.status.podIP}:5000`);
    const gwAddr = backendOf(t, 'cluster2').list('services').find((s) => s.metadata.name === 'istio-eastwestgateway')?.status.loadBalancer.ingress[0].ip;
    const remote = hosts.get(`${gwAddr}:15443`);
    expect(Number(local?.rq_success) + Number(remote?.rq_success)).toBe(10);
    expect(Number(remote?.rq_success)).toBeGreaterThan(0);
    expect(remote?.rq_error).toBe('0');
  });

  it('backends of the same mesh share proxy counters', async () => {
    const again = createBackend(t.mesh, 'cluster1');
    const curl = podOf(t, 'cluster1', 'curl');
    const out = await again.exec({ namespace: 'sample', pod: curl.metadata.name, container: 'istio-proxy', command: ['pilot-agent', 'request', 'GET', 'clusters'], user: { name: 'a', groups: [] } });
    expect('exitCode' in out && /rq_success::[1-9]/.test(out.stdout)).toBe(true);
  });

  it('curl -w prints the status code and time; -I prints headers', async () => {
    const res = await curlFrom(t, 'cluster2', 'http://helloworld.sample.svc.cluster.local:5000/hello', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{time_total}']);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toMatch(/^200 0\.\d{6}$/);
    const head = await curlFrom(t, 'cluster2', 'http://helloworld.sample:5000/hello', ['-sI']);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.stdout).toContain('server: envoy');
    const verbose = await curlFrom(t, 'cluster2', 'http://helloworld.sample:5000/hello', ['-sv']);
    expect(verbose.stderr).toContain('> GET /hello HTTP/1.1');
  });

  it('an unknown host exits 6 and an unknown command 127', async () => {
    const res = await curlFrom(t, 'cluster1', 'http://nope.sample:5000/');
    expect(res.exitCode).toBe(6);
    expect(res.stderr).toBe('curl: (6) Could not resolve host: nope.sample\n');
    const curl = podOf(t, 'cluster1', 'curl');
    expect((await exec(t, 'cluster1', curl, 'curl', ['sh', '-c', 'wget -q x'])).exitCode).toBe(127);
    expect((await exec(t, 'cluster1', curl, 'curl', ['wget'])).exitCode).toBe(127);
    const hello = podOf(t, 'cluster1', 'helloworld');
    expect((await exec(t, 'cluster1', hello, 'helloworld', ['curl', 'http://helloworld.sample:5000/hello'])).exitCode).toBe(127);
    expect((await exec(t, 'cluster1', hello, 'helloworld', ['sh', '-c', 'command -v curl || echo missing'])).stdout).toBe('missing\n');
  });

  it('DNS tools, files and hostname answer as in a pod', async () => {
    const curl = podOf(t, 'cluster1', 'curl');
    const svc = backendOf(t, 'cluster1').list('services').find((s) => s.metadata.name === 'helloworld');
    const getent = await exec(t, 'cluster1', curl, 'curl', ['getent', 'hosts', 'helloworld.sample']);
    expect(getent.stdout.split(/\s+/).slice(0, 2)).toEqual([svc?.spec.clusterIP, HELLO]);
    expect((await exec(t, 'cluster1', curl, 'curl', ['getent', 'hosts', 'nope.sample'])).exitCode).toBe(2);
    const ns = await exec(t, 'cluster1', curl, 'curl', ['nslookup', 'helloworld.sample']);
    expect(ns.stdout).toContain(`Address: ${svc?.spec.clusterIP}`);
    expect((await exec(t, 'cluster1', curl, 'curl', ['sh', '-c', 'command -v curl'])).stdout).toBe('/usr/bin/curl\n');
    expect((await exec(t, 'cluster1', curl, 'curl', ['cat', '/etc/resolv.conf'])).stdout).toContain('search sample.svc.cluster.local');
    expect((await exec(t, 'cluster1', curl, 'curl', ['hostname'])).stdout).toBe(`${curl.metadata.name}\n`);
  });

  it('telnet:// to the peer gateway on 15443 connects', async () => {
    const gwAddr = backendOf(t, 'cluster2').list('services').find((s) => s.metadata.name === 'istio-eastwestgateway')?.status.loadBalancer.ingress[0].ip;
    const res = await curlFrom(t, 'cluster1', `telnet://${gwAddr}:15443`, ['-v', '-m', '3']);
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toContain('Connected to');
  });
});

describe('sidecar admin', () => {
  it('certs holds a workload cert with the SPIFFE id, issued by the cluster intermediate', async () => {
    const curl = podOf(t, 'cluster1', 'curl');
    const certs = JSON.parse((await exec(t, 'cluster1', curl, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'certs'])).stdout);
    const again = await exec(t, 'cluster1', curl, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'certs']);
    expect(JSON.parse(again.stdout)).toEqual(certs);
    const leaf = certs.certificates[0].cert_chain[0];
    expect(leaf.subject_alt_names).toEqual([{ uri: `spiffe://cluster.local/ns/sample/sa/${curl.spec.serviceAccountName}` }]);
    // Real Envoy: the leaf only, and the first certificate of the trust bundle.
    expect(certs.certificates[0].cert_chain).toHaveLength(1);
    expect(certs.certificates[0].ca_cert).toHaveLength(1);
    const secrets = JSON.parse((await exec(t, 'cluster1', curl, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_active_secrets'])).stdout);
    expect(secrets.configs.map((c: { name: string }) => c.name)).toEqual(['default', 'ROOTCA']);

    const dump = JSON.parse((await exec(t, 'cluster1', curl, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'config_dump'])).stdout);
    const chainPem = Buffer.from(dump.configs[0].dynamic_active_secrets[0].secret.tls_certificate.certificate_chain.inline_bytes, 'base64').toString();
    const leafCert = new x509.X509Certificate(chainPem.split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n');
    const cacerts = backendOf(t, 'cluster1').list('secrets').find((s) => s.metadata.name === 'cacerts');
    const intermediate = new x509.X509Certificate(Buffer.from(cacerts?.data['ca-cert.pem'], 'base64').toString());
    expect(await leafCert.verify({ publicKey: intermediate.publicKey, signatureOnly: true })).toBe(true);
  });

  it('server_info reports the proxy version and cluster', async () => {
    const res = await exec(t, 'cluster2', podOf(t, 'cluster2', 'curl'), 'istio-proxy', ['pilot-agent', 'request', 'GET', 'server_info']);
    const info = JSON.parse(res.stdout);
    expect(info.state).toBe('LIVE');
    expect(info.node.metadata.CLUSTER_ID).toBe('cluster2');
    expect(info.node.metadata.ISTIO_VERSION).toMatch(/^1\.\d+\.\d+$/);
  });
});

describe('port-forward', () => {
  let server: Server | undefined;
  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('serves istiod debug endpoints on 15014 and nothing on other ports or pods', async () => {
    const backend = backendOf(t, 'cluster1');
    const istiod = podOf(t, 'cluster1', 'istiod');
    expect(backend.portForward('sample', podOf(t, 'cluster1', 'helloworld').metadata.name, 15014)).toBeUndefined();
    expect(backend.portForward('istio-system', istiod.metadata.name, 8080)).toBeUndefined();
    const handler = backend.portForward('istio-system', istiod.metadata.name, 15014);
    expect(handler).toBeDefined();
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const clusterz = await (await fetch(`${base}/debug/clusterz`)).json();
    expect(clusterz).toHaveLength(2);
    expect((await fetch(`${base}/debug/nope`)).status).toBe(404);
  });
});
