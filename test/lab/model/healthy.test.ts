import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMeshState } from '../../../src/lab/model/index.ts';
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

describe('multi-primary (3 clusters)', () => {
  let mesh: LabMeshState;
  beforeAll(async () => {
    mesh = await buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(3) });
  });

  it('names clusters and networks as the Istio docs do', () => {
    expect(mesh.clusters.map((c) => c.name)).toEqual(['cluster1', 'cluster2', 'cluster3']);
    for (const [i, cluster] of mesh.clusters.entries()) {
      const ns = getObject(cluster, 'Namespace', undefined, 'istio-system');
      expect(ns.metadata.labels?.['topology.istio.io/network']).toBe(`network${i + 1}`);
      expect(injectorValues(cluster).global).toMatchObject({ network: `network${i + 1}`, meshID: 'mesh1', multiCluster: { clusterName: cluster.name } });
    }
  });

  it('runs a Ready istiod with CLUSTER_ID in every cluster', () => {
    for (const cluster of mesh.clusters) {
      const [pod] = podsOf(cluster, 'istio-system', 'istiod-');
      expect(pod.spec.containers[0]).toMatchObject({ name: 'discovery', image: 'docker.io/istio/pilot:1.31.0' });
      expect(envOf(pod, 'discovery', 'CLUSTER_ID')).toBe(cluster.name);
      expect(envOf(pod, 'discovery', 'EXTERNAL_ISTIOD')).toBeUndefined();
      expect(pod.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
      expect(pod.status.containerStatuses[0].restartCount).toBe(0);
      expect(pod.metadata.labels).toMatchObject({ app: 'istiod', istio: 'pilot' });
      const rs = getObject(cluster, 'ReplicaSet', 'istio-system', pod.metadata.ownerReferences![0].name);
      expect(rs.metadata.ownerReferences![0]).toMatchObject({ kind: 'Deployment', name: 'istiod' });
      expect(getObject(cluster, 'Deployment', 'istio-system', 'istiod').status.availableReplicas).toBe(1);
      expect(meshConfig(cluster)).toMatchObject({ trustDomain: 'cluster.local', defaultConfig: { meshId: 'mesh1' } });
    }
  });

  it('has an east-west gateway as gen-eastwest-gateway.sh makes it, with a distinct TEST-NET address', () => {
    const ips = new Set<string>();
    for (const [i, cluster] of mesh.clusters.entries()) {
      const svc = getObject(cluster, 'Service', 'istio-system', 'istio-eastwestgateway');
      expect(svc.spec.type).toBe('LoadBalancer');
      expect(svc.metadata.labels?.['topology.istio.io/network']).toBe(`network${i + 1}`);
      expect(svc.spec.ports.map((p: { port: number }) => p.port)).toEqual([15021, 15443, 15012, 15017]);
      const ip = svc.status.loadBalancer.ingress[0].ip as string;
      expect(ip).toMatch(/^192\.0\.2\./);
      ips.add(ip);
      const [pod] = podsOf(cluster, 'istio-system', 'istio-eastwestgateway-');
      expect(pod.spec.containers[0].name).toBe('istio-proxy');
      expect(envOf(pod, 'istio-proxy', 'ISTIO_META_REQUESTED_NETWORK_VIEW')).toBe(`network${i + 1}`);
      const eps = getObject(cluster, 'Endpoints', 'istio-system', 'istio-eastwestgateway');
      expect(eps.subsets[0].addresses[0].ip).toBe(pod.status.podIP);
      const gw = getObject(cluster, 'Gateway', 'istio-system', 'cross-network-gateway');
      expect(gw.apiVersion).toBe('networking.istio.io/v1');
      expect(gw.spec).toEqual({
        selector: { istio: 'eastwestgateway' },
        servers: [{ port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] }],
      });
    }
    expect(ips.size).toBe(3);
  });

  it('gives every primary a remote secret per peer whose server, CA and token reach that peer', () => {
    for (const cluster of mesh.clusters) {
      const secrets = objectsOf(cluster, 'Secret', 'istio-system').filter((s) => s.metadata.labels?.['istio/multiCluster'] === 'true');
      const peers = mesh.clusters.filter((c) => c !== cluster);
      expect(secrets.map((s) => s.metadata.name).sort()).toEqual(peers.map((p) => `istio-remote-secret-${p.name}`));
      for (const peer of peers) {
        const secret = getObject(cluster, 'Secret', 'istio-system', `istio-remote-secret-${peer.name}`);
        expect(secret.metadata.annotations?.['networking.istio.io/cluster']).toBe(peer.name);
        const { key, config } = remoteSecretKubeconfig(secret);
        expect(key).toBe(peer.name);
        expect(config.clusters[0].cluster.server).toBe(peer.endpoint.server);
        expect(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(peer.endpoint.caPem);
        const token = config.users[0].user.token as string;
        expect(peer.users.get(token)?.name).toBe('system:serviceaccount:istio-system:istio-reader-service-account');
        const payload = jwtPayload(token);
        expect(payload.sub).toBe('system:serviceaccount:istio-system:istio-reader-service-account');
        expect(payload.exp).toBeUndefined();
        // The token is not accepted by the cluster holding the secret.
        expect(cluster.users.get(token)).toBeUndefined();
      }
      expect(findObject(cluster, 'ServiceAccount', 'istio-system', 'istio-reader-service-account')).toBeDefined();
      expect(cluster.users.get(cluster.adminToken)?.name).toBe('kubernetes-admin');
    }
  });

  it('runs the multicluster verification apps: helloworld v1/v2 alternating, curl with a native sidecar', () => {
    const versions = mesh.clusters.map((c) => podsOf(c, 'sample', 'helloworld-')[0].metadata.labels?.version);
    expect(versions).toEqual(['v1', 'v2', 'v1']);
    for (const [i, cluster] of mesh.clusters.entries()) {
      expect(getObject(cluster, 'Namespace', undefined, 'sample').metadata.labels?.['istio-injection']).toBe('enabled');
      const svc = getObject(cluster, 'Service', 'sample', 'helloworld');
      expect(svc.spec.ports).toEqual([{ name: 'http', port: 5000, protocol: 'TCP', targetPort: 5000 }]);
      const [curl] = podsOf(cluster, 'sample', 'curl-');
      expect(hasSidecar(curl)).toBe(true);
      expect(curl.spec.containers.map((c: { name: string }) => c.name)).toEqual(['curl']);
      expect(curl.spec.containers[0].image).toBe('curlimages/curl');
      const proxy = curl.spec.initContainers.find((c: { name: string }) => c.name === 'istio-proxy');
      expect(proxy.restartPolicy).toBe('Always');
      expect(curl.metadata.labels).toMatchObject({ app: 'curl', version: 'v1', 'security.istio.io/tlsMode': 'istio', 'topology.istio.io/network': `network${i + 1}` });
      expect(envOf(curl, 'istio-proxy', 'ISTIO_META_CLUSTER_ID')).toBe(cluster.name);
      const eps = getObject(cluster, 'Endpoints', 'sample', 'helloworld');
      expect(eps.subsets[0].addresses).toHaveLength(1);
      const slices = objectsOf(cluster, 'EndpointSlice', 'sample').filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'helloworld');
      expect(slices).toHaveLength(1);
      expect(slices[0].endpoints[0].conditions.ready).toBe(true);
    }
  });

  it('puts pods inside distinct per-cluster pod CIDRs and nodes with Internal/External IPs', () => {
    const cidrs = new Set<string>();
    for (const [i, cluster] of mesh.clusters.entries()) {
      const prefix = `10.${(i + 1) * 10}.`;
      for (const pod of objectsOf(cluster, 'Pod')) expect(pod.status.podIP.startsWith(prefix)).toBe(true);
      const nodes = objectsOf(cluster, 'Node');
      expect(nodes.length).toBeGreaterThanOrEqual(2);
      for (const node of nodes) {
        const types = node.status.addresses.map((a: { type: string }) => a.type);
        expect(types).toEqual(expect.arrayContaining(['InternalIP', 'ExternalIP']));
        expect(node.spec.podCIDR.startsWith(prefix)).toBe(true);
        cidrs.add(node.spec.podCIDR);
      }
      const podIPs = objectsOf(cluster, 'Pod').map((p) => p.status.podIP);
      expect(new Set(podIPs).size).toBe(podIPs.length);
    }
    expect(cidrs.size).toBe(mesh.clusters.reduce((n, c) => n + objectsOf(c, 'Node').length, 0));
  });

  it('gives every object a uid, resourceVersion and creationTimestamp, unique uids per cluster', () => {
    for (const cluster of mesh.clusters) {
      const uids = new Set<string>();
      for (const obj of cluster.objects) {
        expect(obj.apiVersion && obj.kind).toBeTruthy();
        expect(obj.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(obj.metadata.resourceVersion).toMatch(/^\d+$/);
        expect(obj.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        uids.add(obj.metadata.uid!);
      }
      expect(uids.size).toBe(cluster.objects.length);
      // Every Service has Endpoints and an EndpointSlice.
      for (const svc of objectsOf(cluster, 'Service')) {
        expect(findObject(cluster, 'Endpoints', svc.metadata.namespace, svc.metadata.name)).toBeDefined();
        expect(objectsOf(cluster, 'EndpointSlice', svc.metadata.namespace).some((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name)).toBe(true);
      }
      const crds = objectsOf(cluster, 'CustomResourceDefinition').map((c) => c.metadata.name);
      expect(crds).toEqual(expect.arrayContaining(['gateways.networking.istio.io', 'virtualservices.networking.istio.io', 'peerauthentications.security.istio.io']));
      expect(getObject(cluster, 'MutatingWebhookConfiguration', undefined, 'istio-sidecar-injector').webhooks[0].clientConfig.service.path).toBe(
        `/inject/cluster/${cluster.name}/net/network${cluster.name.slice(-1)}`,
      );
    }
  });

  it('is deterministic apart from key material', async () => {
    const again = await buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(3), now: mesh.createdAt });
    for (const [i, cluster] of mesh.clusters.entries()) {
      const shape = (objs: typeof cluster.objects) => objs.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}/${o.metadata.uid}/${o.status?.podIP ?? ''}`);
      expect(shape(again.clusters[i].objects)).toEqual(shape(cluster.objects));
    }
  });

  describe('CA material', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'lab-ca-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('plugs in one shared root and an intermediate per cluster that openssl verifies', () => {
      const roots = new Set<string>();
      for (const cluster of mesh.clusters) {
        const cacerts = secretData(getObject(cluster, 'Secret', 'istio-system', 'cacerts'));
        expect(Object.keys(cacerts).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
        const root = new X509Certificate(cacerts['root-cert.pem']);
        const ca = new X509Certificate(cacerts['ca-cert.pem']);
        expect(root.subject).toBe('O=Istio\nCN=Root CA');
        expect(ca.subject).toBe(`O=Istio\nCN=Intermediate CA\nL=${cluster.name}`);
        expect(ca.ca).toBe(true);
        expect(root.publicKey.asymmetricKeyType).toBe('rsa');
        expect(root.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
        expect(cacerts['cert-chain.pem']).toBe(cacerts['ca-cert.pem'] + cacerts['root-cert.pem']);
        roots.add(root.fingerprint256);
        writeFileSync(join(dir, `${cluster.name}-root.pem`), cacerts['root-cert.pem']);
        writeFileSync(join(dir, `${cluster.name}-ca.pem`), cacerts['ca-cert.pem']);
        const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, `${cluster.name}-root.pem`), join(dir, `${cluster.name}-ca.pem`)]).toString();
        expect(out.trim()).toMatch(/: OK$/);
        expect(cluster.ca?.intermediate.certPem).toBe(cacerts['ca-cert.pem']);
        expect(cluster.ca?.root.certPem).toBe(cacerts['root-cert.pem']);
        for (const ns of ['istio-system', 'sample', 'default']) {
          expect(getObject(cluster, 'ConfigMap', ns, 'istio-ca-root-cert').data['root-cert.pem']).toBe(cacerts['root-cert.pem']);
        }
      }
      expect(roots.size).toBe(1);
    });
  });
});

describe('multi-primary-single-network', () => {
  it('puts every cluster on network1 without east-west gateways', async () => {
    const mesh = await buildMeshState({ scenario: 'multi-primary-single-network', endpoints: fakeEndpoints(2) });
    for (const cluster of mesh.clusters) {
      expect(getObject(cluster, 'Namespace', undefined, 'istio-system').metadata.labels?.['topology.istio.io/network']).toBe('network1');
      expect(findObject(cluster, 'Service', 'istio-system', 'istio-eastwestgateway')).toBeUndefined();
      expect(findObject(cluster, 'Gateway', 'istio-system', 'cross-network-gateway')).toBeUndefined();
      expect(objectsOf(cluster, 'Secret', 'istio-system').filter((s) => s.metadata.labels?.['istio/multiCluster'] === 'true')).toHaveLength(1);
    }
  });
});

describe('primary-remote', () => {
  let mesh: LabMeshState;
  beforeAll(async () => {
    mesh = await buildMeshState({ scenario: 'primary-remote', endpoints: fakeEndpoints(3) });
  });

  it('runs istiod on cluster1 only, with EXTERNAL_ISTIOD and istiod exposed through the gateway', () => {
    const primary = clusterOf(mesh, 'cluster1');
    const [pod] = podsOf(primary, 'istio-system', 'istiod-');
    expect(envOf(pod, 'discovery', 'EXTERNAL_ISTIOD')).toBe('true');
    const gw = getObject(primary, 'Gateway', 'istio-system', 'istiod-gateway');
    expect(gw.spec.servers.map((s: { port: { number: number }; tls: { mode: string } }) => [s.port.number, s.tls.mode])).toEqual([
      [15012, 'PASSTHROUGH'],
      [15017, 'PASSTHROUGH'],
    ]);
    const vs = getObject(primary, 'VirtualService', 'istio-system', 'istiod-vs');
    expect(vs.spec.gateways).toEqual(['istiod-gateway']);
    expect(vs.spec.tls[1].route[0].destination).toEqual({ host: 'istiod.istio-system.svc.cluster.local', port: { number: 443 } });
    const secrets = objectsOf(primary, 'Secret', 'istio-system').filter((s) => s.metadata.labels?.['istio/multiCluster'] === 'true');
    expect(secrets.map((s) => s.metadata.name).sort()).toEqual(['istio-remote-secret-cluster2', 'istio-remote-secret-cluster3']);
  });

  it('points each remote at the primary: annotation, selector-less istiod Service, injector URL', () => {
    const gatewayIP = getObject(clusterOf(mesh, 'cluster1'), 'Service', 'istio-system', 'istio-eastwestgateway').status.loadBalancer.ingress[0].ip;
    for (const name of ['cluster2', 'cluster3']) {
      const remote = clusterOf(mesh, name);
      expect(podsOf(remote, 'istio-system', 'istiod-')).toHaveLength(0);
      expect(findObject(remote, 'Deployment', 'istio-system', 'istiod')).toBeUndefined();
      expect(getObject(remote, 'Namespace', undefined, 'istio-system').metadata.annotations?.['topology.istio.io/controlPlaneClusters']).toBe('cluster1');
      const svc = getObject(remote, 'Service', 'istio-system', 'istiod');
      expect(svc.spec.selector).toBeUndefined();
      const eps = getObject(remote, 'Endpoints', 'istio-system', 'istiod');
      expect(eps.subsets[0].addresses).toEqual([{ ip: gatewayIP }]);
      expect(eps.subsets[0].ports.map((p: { port: number }) => p.port)).toEqual([15012, 15017]);
      const slice = objectsOf(remote, 'EndpointSlice', 'istio-system').find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'istiod');
      expect(slice?.endpoints[0].addresses).toEqual([gatewayIP]);
      const hook = getObject(remote, 'MutatingWebhookConfiguration', undefined, 'istio-sidecar-injector');
      expect(hook.webhooks[0].clientConfig.url).toBe(`https://${gatewayIP}:15017/inject/cluster/${name}/net/network${name.slice(-1)}`);
      expect(injectorValues(remote).global.multiCluster.clusterName).toBe(name);
      // A remote has its own east-west gateway, but the cross-network Gateway lives on the primary.
      expect(findObject(remote, 'Service', 'istio-system', 'istio-eastwestgateway')).toBeDefined();
      expect(findObject(remote, 'Gateway', 'istio-system', 'cross-network-gateway')).toBeUndefined();
      expect(objectsOf(remote, 'Secret', 'istio-system').filter((s) => s.metadata.labels?.['istio/multiCluster'] === 'true')).toHaveLength(0);
    }
  });
});

describe('external-control-plane', () => {
  let mesh: LabMeshState;
  beforeAll(async () => {
    mesh = await buildMeshState({ scenario: 'external-control-plane', endpoints: fakeEndpoints(3) });
  });

  it('runs the external istiod on cluster1 in external-istiod with EXTERNAL_ISTIOD and the config cluster\'s id, and no proxies', () => {
    const external = clusterOf(mesh, 'cluster1');
    const [pod] = podsOf(external, 'external-istiod', 'istiod-');
    expect(envOf(pod, 'discovery', 'EXTERNAL_ISTIOD')).toBe('true');
    expect(envOf(pod, 'discovery', 'CLUSTER_ID')).toBe('cluster2');
    expect(envOf(pod, 'discovery', 'LOCAL_CLUSTER_SECRET_WATCHER')).toBe('true');
    const lb = getObject(external, 'Service', 'external-istiod', 'istiod-external');
    expect(lb.spec.type).toBe('LoadBalancer');
    expect(lb.spec.ports.map((p: { port: number }) => p.port)).toEqual([15012, 15017]);
    expect(objectsOf(external, 'Pod').filter(hasSidecar)).toEqual([]);
    expect(findObject(external, 'Namespace', undefined, 'istio-system')).toBeUndefined();
    expect(findObject(external, 'Service', 'istio-system', 'istio-eastwestgateway')).toBeUndefined();
  });

  it('reads the config cluster through istio-kubeconfig (key config) and cluster3 through a remote secret', () => {
    const external = clusterOf(mesh, 'cluster1');
    const kubeconfig = secretData(getObject(external, 'Secret', 'external-istiod', 'istio-kubeconfig')).config;
    expect(kubeconfig).toContain(clusterOf(mesh, 'cluster2').endpoint.server);
    const secrets = objectsOf(external, 'Secret', 'external-istiod').filter((s) => s.metadata.labels?.['istio/multiCluster'] === 'true');
    expect(secrets.map((s) => s.metadata.name)).toEqual(['istio-remote-secret-cluster3']);
  });

  it('installs every remote in the external istiod\'s namespace, as the guide does: its network label, cluster3 naming the config cluster, no istio-system', () => {
    const exposed = getObject(clusterOf(mesh, 'cluster1'), 'Service', 'external-istiod', 'istiod-external').status.loadBalancer.ingress[0].ip;
    for (const [name, annotation] of [['cluster2', undefined], ['cluster3', 'cluster2']] as const) {
      const remote = clusterOf(mesh, name);
      const ns = getObject(remote, 'Namespace', undefined, 'external-istiod');
      expect(ns.metadata.labels?.['topology.istio.io/network']).toBe(`network${name.slice(-1)}`);
      expect(ns.metadata.annotations?.['topology.istio.io/controlPlaneClusters']).toBe(annotation);
      expect(findObject(remote, 'Deployment', 'istio-system', 'istiod')).toBeUndefined();
      // The remote profile in external-istiod (istio.io external-controlplane snips.sh at 005b9da, snip_get_remote_config_cluster_iop,
      // snip_get_second_remote_cluster_iop): its objects there, none in an istio-system the guide never creates.
      expect(findObject(remote, 'Namespace', undefined, 'istio-system')).toBeUndefined();
      expect(remote.objects.filter((o) => o.metadata.namespace === 'istio-system').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
      for (const [kind, objectName] of [['ConfigMap', 'istio-sidecar-injector'], ['ConfigMap', 'istio'], ['Service', 'istiod'], ['ServiceAccount', 'istio-reader-service-account'], ['Service', 'istio-eastwestgateway']]) {
        expect(findObject(remote, kind, 'external-istiod', objectName), `${name} ${kind} ${objectName}`).toBeDefined();
      }
      // The chart names the webhook after a release namespace other than istio-system (mutatingwebhook.yaml:45-49 at istio/istio 86c9f01).
      const hook = getObject(remote, 'MutatingWebhookConfiguration', undefined, 'istio-sidecar-injector-external-istiod');
      expect(hook.webhooks[0].clientConfig.url).toBe(`https://${exposed}:15017/inject/cluster/${name}/net/network${name.slice(-1)}`);
      expect(findObject(remote, 'ConfigMap', 'sample', 'istio-ca-root-cert')).toBeDefined();
    }
    // The mesh config (the cross-network Gateway) lives in the config cluster.
    expect(findObject(clusterOf(mesh, 'cluster2'), 'Gateway', 'external-istiod', 'cross-network-gateway')).toBeDefined();
    expect(objectsOf(clusterOf(mesh, 'cluster3'), 'Gateway')).toEqual([]);
  });
});

describe('demo', () => {
  it('is multi-primary with the seed ISTIO_MUTUAL gateway on cluster1 and a second root on cluster2', async () => {
    const mesh = await buildMeshState({ scenario: 'demo', endpoints: fakeEndpoints(2) });
    expect(mesh.faults).toEqual([
      { name: 'cross-network-gateway-istio-mutual', cluster: 'cluster1' },
      { name: 'root-mismatch', cluster: 'cluster2' },
    ]);
    const gw = getObject(clusterOf(mesh, 'cluster1'), 'Gateway', 'istio-system', 'cross-network-gateway');
    expect(gw.spec.servers[0].tls.mode).toBe('ISTIO_MUTUAL');
    const root = (name: string) => new X509Certificate(secretData(getObject(clusterOf(mesh, name), 'Secret', 'istio-system', 'cacerts'))['root-cert.pem']).fingerprint256;
    expect(root('cluster1')).not.toBe(root('cluster2'));
  });
});
