import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { LAB_FAULTS, buildMeshState } from '../../../src/lab/model/index.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import type { LabMeshState } from '../../../src/lab/types.ts';
import {
  clusterOf,
  envOf,
  fakeEndpoints,
  findObject,
  getObject,
  hasSidecar,
  injectorValues,
  jwtPayload,
  meshConfig,
  objectsOf,
  podsOf,
  remoteSecretKubeconfig,
  secretData,
} from './helpers.ts';

const DAY_MS = 86_400_000;

interface FaultCase {
  fault: string;
  scenario?: string;
  /** Clusters of the mesh (2 unless the scenario needs more). */
  clusters?: number;
  /** The object-level effect on a mesh built with the fault at its default cluster. */
  effect: (mesh: LabMeshState) => void | Promise<void>;
}

const c1 = (mesh: LabMeshState) => clusterOf(mesh, 'cluster1');
const c2 = (mesh: LabMeshState) => clusterOf(mesh, 'cluster2');
const ready = (pod: KubeObject) => (pod.status.conditions as { type: string; status: string }[]).find((c) => c.type === 'Ready')?.status;
const cacerts = (mesh: LabMeshState, name: string) => secretData(getObject(clusterOf(mesh, name), 'Secret', 'istio-system', 'cacerts'));
const remoteSecret = (mesh: LabMeshState, holder: string, name: string) => getObject(clusterOf(mesh, holder), 'Secret', 'istio-system', name);
/** The Gateway API Gateway of a cluster (kind Gateway, not Istio's networking.istio.io one). */
const apiGateway = (mesh: LabMeshState, cluster: string, namespace: string, name: string) =>
  objectsOf(clusterOf(mesh, cluster), 'Gateway', namespace).find((g) => (g.apiVersion ?? '').startsWith('gateway.networking.k8s.io/') && g.metadata.name === name);
const istiodEnv = (mesh: LabMeshState, cluster: string, name: string) => envOf(podsOf(clusterOf(mesh, cluster), 'istio-system', 'istiod')[0], 'discovery', name);
const ztunnelEnv = (mesh: LabMeshState, cluster: string, name: string) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (getObject(clusterOf(mesh, cluster), 'DaemonSet', 'istio-system', 'ztunnel').spec.template.spec.containers[0].env as any[]).find((e) => e.name === name)?.value;
const gatewaySvc = (mesh: LabMeshState) => getObject(c2(mesh), 'Service', 'istio-system', 'istio-eastwestgateway');

/** Faults whose effect is all in sim/: the objects equal a healthy build's. */
function noObjectEffect(fault: string): FaultCase {
  return {
    fault,
    effect: async (mesh) => {
      const healthy = await buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(2), now: mesh.createdAt });
      const names = (m: LabMeshState) => m.clusters.map((c) => c.objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`));
      expect(names(mesh)).toEqual(names(healthy));
      expect(mesh.faults.map((f) => f.name)).toEqual([fault]);
    },
  };
}

const CASES: FaultCase[] = [
  {
    fault: 'istiod-not-ready',
    effect: (mesh) => {
      const [pod] = podsOf(c2(mesh), 'istio-system', 'istiod-');
      expect(ready(pod)).toBe('False');
      expect(pod.status.containerStatuses[0].state.waiting.reason).toBe('CrashLoopBackOff');
      expect(pod.status.containerStatuses[0].restartCount).toBeGreaterThan(5);
      expect(getObject(c2(mesh), 'Deployment', 'istio-system', 'istiod').status.availableReplicas).toBeUndefined();
      expect(ready(podsOf(c1(mesh), 'istio-system', 'istiod-')[0])).toBe('True');
    },
  },
  {
    fault: 'duplicate-cluster-id',
    effect: (mesh) => {
      expect(envOf(podsOf(c2(mesh), 'istio-system', 'istiod-')[0], 'discovery', 'CLUSTER_ID')).toBe('cluster1');
      expect(injectorValues(c2(mesh)).global.multiCluster.clusterName).toBe('cluster1');
    },
  },
  {
    fault: 'mesh-id-mismatch',
    effect: (mesh) => {
      expect(meshConfig(c2(mesh)).defaultConfig.meshId).toBe('mesh2');
      expect(injectorValues(c2(mesh)).global.meshID).toBe('mesh2');
      expect(meshConfig(c1(mesh)).defaultConfig.meshId).toBe('mesh1');
    },
  },
  {
    fault: 'trust-domain-mismatch',
    effect: (mesh) => {
      expect(meshConfig(c2(mesh)).trustDomain).toBe('cluster2.local');
      expect(meshConfig(c1(mesh)).trustDomain).toBe('cluster.local');
    },
  },
  {
    fault: 'discovery-selectors-exclude',
    effect: (mesh) => {
      expect(meshConfig(c1(mesh)).discoverySelectors).toEqual([{ matchLabels: { 'istio-discovery': 'enabled' } }]);
      expect(getObject(c1(mesh), 'Namespace', undefined, 'sample').metadata.labels?.['istio-discovery']).toBeUndefined();
      expect(getObject(c2(mesh), 'Service', 'sample', 'helloworld')).toBeDefined();
    },
  },
  {
    fault: 'version-skew',
    effect: (mesh) => {
      expect(podsOf(c2(mesh), 'istio-system', 'istiod-')[0].spec.containers[0].image).toBe('docker.io/istio/pilot:1.29.1');
      expect(podsOf(c2(mesh), 'sample', 'curl-')[0].spec.initContainers[1].image).toBe('docker.io/istio/proxyv2:1.29.1');
      expect(podsOf(c1(mesh), 'istio-system', 'istiod-')[0].spec.containers[0].image).toBe('docker.io/istio/pilot:1.31.0');
    },
  },
  {
    fault: 'no-remote-secret',
    effect: (mesh) => {
      expect(findObject(c1(mesh), 'Secret', 'istio-system', 'istio-remote-secret-cluster2')).toBeUndefined();
      expect(findObject(c2(mesh), 'Secret', 'istio-system', 'istio-remote-secret-cluster1')).toBeDefined();
    },
  },
  {
    fault: 'remote-secret-wrong-id',
    effect: (mesh) => {
      const { key } = remoteSecretKubeconfig(remoteSecret(mesh, 'cluster1', 'istio-remote-secret-kind-cluster2'));
      expect(key).toBe('kind-cluster2');
    },
  },
  {
    fault: 'remote-secret-exec-auth',
    effect: (mesh) => {
      const { config } = remoteSecretKubeconfig(remoteSecret(mesh, 'cluster1', 'istio-remote-secret-cluster2'));
      expect(config.users[0].user.exec.command).toBeTruthy();
      expect(config.users[0].user.token).toBeUndefined();
    },
  },
  {
    fault: 'remote-secret-expired-token',
    effect: (mesh) => {
      const { config } = remoteSecretKubeconfig(remoteSecret(mesh, 'cluster1', 'istio-remote-secret-cluster2'));
      const token = config.users[0].user.token as string;
      expect(jwtPayload(token).exp! * 1000).toBeLessThan(mesh.createdAt.getTime());
      expect(c2(mesh).users.has(token)).toBe(false);
    },
  },
  {
    fault: 'remote-secret-unreachable',
    effect: async (mesh) => {
      const { config } = remoteSecretKubeconfig(remoteSecret(mesh, 'cluster1', 'istio-remote-secret-cluster2'));
      const url = new URL(config.clusters[0].cluster.server);
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.origin).not.toBe(c2(mesh).endpoint.server);
      const code = await new Promise<string>((resolve) => {
        const socket = connect(Number(url.port), '127.0.0.1');
        socket.on('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      expect(code).toBe('ECONNREFUSED');
    },
  },
  {
    fault: 'remote-rbac-missing',
    effect: (mesh) => {
      const { config } = remoteSecretKubeconfig(remoteSecret(mesh, 'cluster1', 'istio-remote-secret-cluster2'));
      const user = c2(mesh).users.get(config.users[0].user.token);
      expect(user?.forbidden).toEqual(expect.arrayContaining(['pods', 'services', 'endpointslices']));
      // cluster2's own secret for cluster1 still works fully.
      const other = remoteSecretKubeconfig(remoteSecret(mesh, 'cluster2', 'istio-remote-secret-cluster1')).config;
      expect(c1(mesh).users.get(other.users[0].user.token)?.forbidden).toBeUndefined();
    },
  },
  noObjectEffect('remote-sync-timeout'),
  noObjectEffect('proxy-stale'),
  {
    fault: 'remote-annotation-missing',
    scenario: 'primary-remote',
    effect: (mesh) => {
      expect(getObject(c2(mesh), 'Namespace', undefined, 'istio-system').metadata.annotations?.['topology.istio.io/controlPlaneClusters']).toBeUndefined();
    },
  },
  {
    fault: 'remote-istiod-endpoint-wrong',
    scenario: 'primary-remote',
    effect: (mesh) => {
      const gatewayIP = getObject(c1(mesh), 'Service', 'istio-system', 'istio-eastwestgateway').status.loadBalancer.ingress[0].ip;
      const ip = getObject(c2(mesh), 'Endpoints', 'istio-system', 'istiod').subsets[0].addresses[0].ip;
      expect(ip).not.toBe(gatewayIP);
      expect(ip).toMatch(/^198\.51\.100\./);
    },
  },
  {
    fault: 'service-port-mismatch',
    effect: (mesh) => {
      expect(getObject(c2(mesh), 'Service', 'sample', 'helloworld').spec.ports[0].port).toBe(5001);
      expect(getObject(c1(mesh), 'Service', 'sample', 'helloworld').spec.ports[0].port).toBe(5000);
    },
  },
  {
    fault: 'service-headless-mixed',
    effect: (mesh) => {
      expect(getObject(c2(mesh), 'Service', 'sample', 'helloworld').spec.clusterIP).toBe('None');
      expect(getObject(c1(mesh), 'Service', 'sample', 'helloworld').spec.clusterIP).not.toBe('None');
    },
  },
  {
    fault: 'namespace-not-injected',
    effect: (mesh) => {
      expect(getObject(c2(mesh), 'Namespace', undefined, 'sample').metadata.labels?.['istio-injection']).toBeUndefined();
      expect(objectsOf(c2(mesh), 'Pod', 'sample').some(hasSidecar)).toBe(false);
      expect(objectsOf(c1(mesh), 'Pod', 'sample').every(hasSidecar)).toBe(true);
    },
  },
  {
    fault: 'remote-only-service-no-dns-capture',
    effect: (mesh) => {
      expect(findObject(c2(mesh), 'Service', 'sample', 'hello-remote')).toBeDefined();
      expect(findObject(c1(mesh), 'Service', 'sample', 'hello-remote')).toBeUndefined();
      expect(meshConfig(c1(mesh)).defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE).toBeUndefined();
      expect(envOf(podsOf(c1(mesh), 'sample', 'curl-')[0], 'istio-proxy', 'ISTIO_META_DNS_CAPTURE')).toBeUndefined();
      expect(meshConfig(c2(mesh)).defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE).toBe('true');
    },
  },
  {
    fault: 'legacy-global-config',
    effect: (mesh) => {
      const se = objectsOf(c1(mesh), 'ServiceEntry').find((s) => s.spec.hosts.some((h: string) => h.endsWith('.global')));
      expect(se?.spec.addresses[0]).toMatch(/^240\.0\.0\./);
      const dr = objectsOf(c1(mesh), 'DestinationRule').find((d) => d.spec.host === '*.global');
      expect(dr?.spec.trafficPolicy.tls.mode).toBe('ISTIO_MUTUAL');
    },
  },
  {
    fault: 'uninjected-remote-endpoint',
    effect: (mesh) => {
      const [pod] = podsOf(c2(mesh), 'sample', 'helloworld-');
      expect(hasSidecar(pod)).toBe(false);
      expect(pod.metadata.labels?.['security.istio.io/tlsMode']).toBeUndefined();
      expect(pod.metadata.annotations?.['sidecar.istio.io/inject']).toBe('false');
      expect(hasSidecar(podsOf(c2(mesh), 'sample', 'curl-')[0])).toBe(true);
    },
  },
  {
    fault: 'network-label-missing',
    effect: (mesh) => {
      expect(getObject(c2(mesh), 'Namespace', undefined, 'istio-system').metadata.labels?.['topology.istio.io/network']).toBeUndefined();
      expect(injectorValues(c2(mesh)).global.network).toBe('');
      expect(podsOf(c2(mesh), 'sample', 'curl-')[0].metadata.labels?.['topology.istio.io/network']).toBeUndefined();
    },
  },
  {
    fault: 'ewgw-missing',
    effect: (mesh) => {
      expect(findObject(c2(mesh), 'Service', 'istio-system', 'istio-eastwestgateway')).toBeUndefined();
      expect(podsOf(c2(mesh), 'istio-system', 'istio-eastwestgateway')).toHaveLength(0);
    },
  },
  {
    fault: 'ewgw-not-ready',
    effect: (mesh) => {
      expect(ready(podsOf(c2(mesh), 'istio-system', 'istio-eastwestgateway-')[0])).toBe('False');
      const eps = getObject(c2(mesh), 'Endpoints', 'istio-system', 'istio-eastwestgateway');
      expect(eps.subsets[0].addresses).toBeUndefined();
      expect(eps.subsets[0].notReadyAddresses).toHaveLength(1);
    },
  },
  {
    fault: 'ewgw-lb-pending',
    effect: (mesh) => {
      expect(gatewaySvc(mesh).status.loadBalancer.ingress).toBeUndefined();
      expect(getObject(c1(mesh), 'Service', 'istio-system', 'istio-eastwestgateway').status.loadBalancer.ingress).toHaveLength(1);
    },
  },
  {
    fault: 'ewgw-no-15443',
    effect: (mesh) => {
      expect(gatewaySvc(mesh).spec.ports.map((p: { port: number }) => p.port)).not.toContain(15443);
      expect(gatewaySvc(mesh).metadata.labels?.['topology.istio.io/network']).toBe('network2');
    },
  },
  {
    fault: 'ewgw-network-label-missing',
    effect: (mesh) => {
      expect(gatewaySvc(mesh).metadata.labels?.['topology.istio.io/network']).toBeUndefined();
      expect(podsOf(c2(mesh), 'istio-system', 'istio-eastwestgateway-')[0].metadata.labels?.['topology.istio.io/network']).toBeUndefined();
    },
  },
  {
    fault: 'cross-network-gateway-missing',
    effect: (mesh) => {
      expect(objectsOf(c2(mesh), 'Gateway')).toHaveLength(0);
    },
  },
  {
    fault: 'cross-network-gateway-istio-mutual',
    effect: (mesh) => {
      expect(getObject(c1(mesh), 'Gateway', 'istio-system', 'cross-network-gateway').spec.servers[0].tls.mode).toBe('ISTIO_MUTUAL');
    },
  },
  {
    fault: 'cross-network-gateway-duplicate',
    effect: (mesh) => {
      const on15443 = objectsOf(c2(mesh), 'Gateway').filter((g) => g.spec.servers.some((s: { port: { number: number } }) => s.port.number === 15443));
      expect(on15443).toHaveLength(2);
    },
  },
  {
    fault: 'istiod-not-exposed',
    scenario: 'primary-remote',
    effect: (mesh) => {
      expect(findObject(c1(mesh), 'Gateway', 'istio-system', 'istiod-gateway')).toBeUndefined();
      expect(findObject(c1(mesh), 'VirtualService', 'istio-system', 'istiod-vs')).toBeUndefined();
    },
  },
  {
    fault: 'networkpolicy-blocks-gateway',
    effect: (mesh) => {
      const [policy] = objectsOf(c2(mesh), 'NetworkPolicy', 'istio-system');
      expect(policy.spec.podSelector.matchLabels).toEqual({ istio: 'eastwestgateway' });
      const allowed = policy.spec.ingress.flatMap((r: { ports: { port: number }[] }) => r.ports.map((p) => p.port));
      expect(allowed).not.toContain(15443);
    },
  },
  noObjectEffect('eastwest-firewall'),
  {
    fault: 'cacerts-missing',
    effect: (mesh) => {
      expect(findObject(c2(mesh), 'Secret', 'istio-system', 'cacerts')).toBeUndefined();
      const selfSigned = secretData(getObject(c2(mesh), 'Secret', 'istio-system', 'istio-ca-secret'));
      const root = new X509Certificate(selfSigned['ca-cert.pem']);
      expect(root.subject).toBe('O=cluster.local');
      expect(getObject(c2(mesh), 'ConfigMap', 'sample', 'istio-ca-root-cert').data['root-cert.pem']).toBe(selfSigned['ca-cert.pem']);
    },
  },
  {
    fault: 'cacerts-incomplete',
    effect: (mesh) => {
      expect(Object.keys(cacerts(mesh, 'cluster2')).sort()).toEqual(['ca-cert.pem', 'cert-chain.pem', 'root-cert.pem']);
    },
  },
  {
    fault: 'root-mismatch',
    effect: (mesh) => {
      const fingerprint = (name: string) => new X509Certificate(cacerts(mesh, name)['root-cert.pem']).fingerprint256;
      expect(fingerprint('cluster2')).not.toBe(fingerprint('cluster1'));
      const ca = new X509Certificate(cacerts(mesh, 'cluster2')['ca-cert.pem']);
      expect(ca.verify(new X509Certificate(cacerts(mesh, 'cluster2')['root-cert.pem']).publicKey)).toBe(true);
      expect(ca.verify(new X509Certificate(cacerts(mesh, 'cluster1')['root-cert.pem']).publicKey)).toBe(false);
      expect(getObject(c2(mesh), 'ConfigMap', 'sample', 'istio-ca-root-cert').data['root-cert.pem']).toBe(cacerts(mesh, 'cluster2')['root-cert.pem']);
    },
  },
  {
    fault: 'ca-key-mismatch',
    effect: (mesh) => {
      const material = cacerts(mesh, 'cluster2');
      const fromKey = createPublicKey(createPrivateKey(material['ca-key.pem'])).export({ type: 'spki', format: 'der' });
      const fromCert = new X509Certificate(material['ca-cert.pem']).publicKey.export({ type: 'spki', format: 'der' });
      expect(Buffer.compare(fromKey, fromCert)).not.toBe(0);
    },
  },
  {
    fault: 'not-a-ca',
    effect: (mesh) => {
      expect(new X509Certificate(cacerts(mesh, 'cluster2')['ca-cert.pem']).ca).toBe(false);
    },
  },
  {
    fault: 'chain-wrong-order',
    effect: (mesh) => {
      const material = cacerts(mesh, 'cluster2');
      expect(material['cert-chain.pem'].startsWith(material['root-cert.pem'])).toBe(true);
    },
  },
  {
    fault: 'intermediate-expired',
    effect: (mesh) => {
      expect(new Date(new X509Certificate(cacerts(mesh, 'cluster2')['ca-cert.pem']).validTo).getTime()).toBeLessThan(mesh.createdAt.getTime());
    },
  },
  {
    fault: 'intermediate-expiring',
    effect: (mesh) => {
      const left = new Date(new X509Certificate(cacerts(mesh, 'cluster2')['ca-cert.pem']).validTo).getTime() - mesh.createdAt.getTime();
      expect(left).toBeGreaterThan(9 * DAY_MS);
      expect(left).toBeLessThan(11 * DAY_MS);
    },
  },
  {
    fault: 'stale-root-configmap',
    effect: (mesh) => {
      const root = cacerts(mesh, 'cluster2')['root-cert.pem'];
      expect(getObject(c2(mesh), 'ConfigMap', 'sample', 'istio-ca-root-cert').data['root-cert.pem']).not.toBe(root);
      expect(getObject(c2(mesh), 'ConfigMap', 'istio-system', 'istio-ca-root-cert').data['root-cert.pem']).toBe(root);
    },
  },
  {
    fault: 'ambient-multi-network-off',
    scenario: 'ambient-multi-network',
    effect: (mesh) => {
      expect(istiodEnv(mesh, 'cluster2', 'AMBIENT_ENABLE_MULTI_NETWORK')).not.toBe('true');
      expect(istiodEnv(mesh, 'cluster1', 'AMBIENT_ENABLE_MULTI_NETWORK')).toBe('true');
      // Nothing owns class istio-east-west: the Gateway stays without status.
      expect(apiGateway(mesh, 'cluster2', 'istio-system', 'istio-eastwestgateway')?.status?.addresses ?? []).toEqual([]);
    },
  },
  {
    fault: 'ztunnel-cluster-id-default',
    scenario: 'ambient-multi-network',
    effect: (mesh) => {
      expect(ztunnelEnv(mesh, 'cluster2', 'ISTIO_META_CLUSTER_ID')).toBe('Kubernetes');
      expect(ztunnelEnv(mesh, 'cluster1', 'ISTIO_META_CLUSTER_ID')).toBe('cluster1');
    },
  },
  {
    fault: 'ambient-ewgw-missing',
    scenario: 'ambient-multi-network',
    effect: (mesh) => {
      expect(apiGateway(mesh, 'cluster2', 'istio-system', 'istio-eastwestgateway')).toBeUndefined();
      expect(apiGateway(mesh, 'cluster1', 'istio-system', 'istio-eastwestgateway')).toBeDefined();
    },
  },
  {
    fault: 'ambient-ewgw-no-address',
    scenario: 'ambient-multi-network',
    effect: (mesh) => {
      const gw = apiGateway(mesh, 'cluster2', 'istio-system', 'istio-eastwestgateway')!;
      expect(gw.status.addresses ?? []).toEqual([]);
      expect((gw.status.conditions as { type: string; status: string }[]).find((c) => c.type === 'Programmed')?.status).toBe('False');
      expect(apiGateway(mesh, 'cluster1', 'istio-system', 'istio-eastwestgateway')!.status.addresses.length).toBeGreaterThan(0);
    },
  },
  {
    fault: 'ambient-global-label-asymmetric',
    scenario: 'ambient-multi-network',
    effect: (mesh) => {
      expect(getObject(c2(mesh), 'Service', 'sample', 'helloworld').metadata.labels?.['istio.io/global']).toBeUndefined();
      expect(getObject(c1(mesh), 'Service', 'sample', 'helloworld').metadata.labels?.['istio.io/global']).toBe('true');
    },
  },
  {
    fault: 'ambient-scope-config-missing',
    scenario: 'ambient-multi-network',
    effect: (mesh) => {
      expect(meshConfig(c2(mesh)).serviceScopeConfigs).toBeUndefined();
      expect(meshConfig(c1(mesh)).serviceScopeConfigs).toHaveLength(1);
    },
  },
  {
    fault: 'ambient-waypoint-not-global',
    scenario: 'ambient-multi-network',
    effect: (mesh) => {
      expect(getObject(c2(mesh), 'Service', 'sample', 'waypoint').metadata.labels?.['istio.io/global']).toBeUndefined();
      expect(getObject(c1(mesh), 'Service', 'sample', 'waypoint').metadata.labels?.['istio.io/global']).toBe('true');
    },
  },
  {
    fault: 'failover-no-outlier-detection',
    effect: (mesh) => {
      const dr = getObject(c1(mesh), 'DestinationRule', 'sample', 'helloworld-failover');
      expect(dr.spec.trafficPolicy.loadBalancer.localityLbSetting.failover).toEqual([{ from: 'region1', to: 'region2' }]);
      expect(dr.spec.trafficPolicy.outlierDetection).toBeUndefined();
      expect(objectsOf(c2(mesh), 'DestinationRule').some((d) => d.metadata.name === 'helloworld-failover')).toBe(false);
    },
  },
  {
    fault: 'external-kubeconfig-missing',
    scenario: 'external-control-plane',
    clusters: 3,
    effect: (mesh) => {
      expect(findObject(c1(mesh), 'Secret', 'external-istiod', 'istio-kubeconfig')).toBeUndefined();
      // istiod's own token on the config cluster stays: only the Secret that hands it to istiod is gone.
      expect(findObject(c2(mesh), 'Secret', 'external-istiod', 'istiod-istio-kubeconfig-token')).toBeDefined();
    },
  },
  {
    fault: 'external-webhook-unreachable',
    scenario: 'external-control-plane',
    clusters: 3,
    effect: (mesh) => {
      const exposed = getObject(c1(mesh), 'Service', 'external-istiod', 'istiod-external').status.loadBalancer.ingress[0].ip;
      const urls = (getObject(clusterOf(mesh, 'cluster3'), 'MutatingWebhookConfiguration', undefined, 'istio-sidecar-injector-external-istiod').webhooks as { clientConfig: { url: string } }[]).map((w) => new URL(w.clientConfig.url).hostname);
      expect(urls.length).toBeGreaterThan(0);
      for (const host of urls) expect(host).not.toBe(exposed);
      // The config cluster's webhook still calls the exposed istiod.
      const configUrls = (getObject(c2(mesh), 'MutatingWebhookConfiguration', undefined, 'istio-sidecar-injector-external-istiod').webhooks as { clientConfig: { url: string } }[]).map((w) => new URL(w.clientConfig.url).hostname);
      expect(new Set(configUrls)).toEqual(new Set([exposed]));
    },
  },
  {
    fault: 'external-istiod-flag-missing',
    scenario: 'external-control-plane',
    clusters: 3,
    effect: (mesh) => {
      const env = getObject(c1(mesh), 'Deployment', 'external-istiod', 'istiod').spec.template.spec.containers[0].env as { name: string; value?: string }[];
      expect(env.find((e) => e.name === 'EXTERNAL_ISTIOD')).toBeUndefined();
      expect(env.find((e) => e.name === 'CLUSTER_ID')?.value).toBe('cluster2');
      // It leads no remote but its config cluster, so only there is istio-ca-root-cert written.
      expect(findObject(clusterOf(mesh, 'cluster3'), 'ConfigMap', 'sample', 'istio-ca-root-cert')).toBeUndefined();
      expect(findObject(c2(mesh), 'ConfigMap', 'sample', 'istio-ca-root-cert')).toBeDefined();
    },
  },
];

describe('lab faults: object-level effects', () => {
  it('covers every fault of the catalog', () => {
    expect(CASES.map((c) => c.fault).sort()).toEqual(LAB_FAULTS.map((f) => f.name).sort());
  });

  it.each(CASES)('$fault', async ({ fault, scenario, clusters, effect }) => {
    const mesh = await buildMeshState({ scenario: scenario ?? 'multi-primary', endpoints: fakeEndpoints(clusters ?? 2), faults: [{ name: fault }] });
    const info = LAB_FAULTS.find((f) => f.name === fault)!;
    expect(mesh.faults).toHaveLength(1);
    expect(mesh.faults[0].cluster).toBe(scenario === 'primary-remote' && info.target === 'primary' ? 'cluster1' : info.defaultCluster);
    await effect(mesh);
  });

  it('combines faults on several clusters', async () => {
    const mesh = await buildMeshState({
      scenario: 'multi-primary',
      endpoints: fakeEndpoints(3),
      faults: [{ name: 'ewgw-lb-pending', cluster: 'cluster3' }, { name: 'root-mismatch', cluster: 'cluster2' }, { name: 'no-remote-secret', cluster: 'cluster2' }],
    });
    expect(getObject(clusterOf(mesh, 'cluster3'), 'Service', 'istio-system', 'istio-eastwestgateway').status.loadBalancer.ingress).toBeUndefined();
    expect(findObject(c2(mesh), 'Secret', 'istio-system', 'istio-remote-secret-cluster3')).toBeUndefined();
    expect(findObject(c2(mesh), 'Secret', 'istio-system', 'istio-remote-secret-cluster1')).toBeDefined();
    expect(new X509Certificate(cacerts(mesh, 'cluster2')['root-cert.pem']).fingerprint256).not.toBe(new X509Certificate(cacerts(mesh, 'cluster3')['root-cert.pem']).fingerprint256);
  });
});
