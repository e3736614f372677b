// An ambient multi-network mesh for the ambient checks' tests: svc-multi-primary (two primaries on
// network1/network2, sample/helloworld in both, one root) turned ambient the way istio.io's
// multi-primary multi-network ambient guide installs it: istiod with PILOT_ENABLE_AMBIENT and
// AMBIENT_ENABLE_MULTI_NETWORK, the ambient profile's serviceScopeConfigs, a ztunnel DaemonSet with
// the cluster's id and network, sample labelled istio.io/dataplane-mode=ambient, helloworld
// istio.io/global=true, and an istio-east-west Gateway per cluster with status. Each ztunnel's
// config_dump is derived from the objects as istiod derives it (split-horizon workloads).
import type { ClusterReader, KubeObject, ZtunnelDumpOutput } from '../../../src/cluster/types.ts';
import { findAmbientEastWestGateways, readAmbientClusterView } from '../../../src/mesh/ambient.ts';
import { secretText } from '../../../src/mesh/certificates.ts';
import { labelsOf } from '../../../src/mesh/istio-objects.ts';
import { fixtureObjects, memoryReader, objectNamed, objectsOf, type ClusterObjects } from '../helpers.ts';

export const SCOPE_RULE = 'serviceScopeConfigs:\n- servicesSelector:\n    matchExpressions:\n    - key: istio.io/global\n      operator: In\n      values: ["true"]\n  scope: GLOBAL\n';

export const GATEWAY_ADDRESS: Record<string, string> = { cluster1: '172.18.1.20', cluster2: '172.18.2.20' };
const NETWORK: Record<string, string> = { cluster1: 'network1', cluster2: 'network2' };

/** The mesh's objects by cluster (edit them, then call readers()). */
export async function ambientObjects(): Promise<Map<string, ClusterObjects>> {
  const objects = await fixtureObjects('svc-multi-primary');
  for (const [cluster, objs] of objects) {
    const istiod = objectNamed(objects, cluster, 'deployments', 'istiod');
    const env = istiod.spec.template.spec.containers.find((c: { name: string }) => c.name === 'discovery').env as { name: string; value: string }[];
    env.push({ name: 'PILOT_ENABLE_AMBIENT', value: 'true' }, { name: 'AMBIENT_ENABLE_MULTI_NETWORK', value: 'true' });
    const mesh = objectNamed(objects, cluster, 'configmaps', 'istio');
    mesh.data.mesh = `${mesh.data.mesh.trimEnd()}\n${SCOPE_RULE}`;
    const sample = objectNamed(objects, cluster, 'namespaces', 'sample');
    delete sample.metadata.labels!['istio-injection'];
    sample.metadata.labels!['istio.io/dataplane-mode'] = 'ambient';
    objectNamed(objects, cluster, 'services', 'helloworld').metadata.labels!['istio.io/global'] = 'true';
    for (const pod of objectsOf(objects, cluster, 'pods').filter((p) => p.metadata.namespace === 'sample')) {
      delete pod.metadata.annotations?.['sidecar.istio.io/status'];
      pod.metadata.annotations = { ...pod.metadata.annotations, 'ambient.istio.io/redirection': 'enabled' };
    }
    objs.daemonsets = [ztunnelDaemonSet(cluster)];
    objs.pods = [...(objs.pods ?? []), ztunnelPod(cluster)];
    objs.gatewayclasses = ['istio', 'istio-remote', 'istio-waypoint', 'istio-east-west'].map((name) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name },
      spec: { controllerName: name === 'istio-east-west' ? 'istio.io/eastwest-controller' : 'istio.io/gateway-controller' },
    }));
    objs.k8sgateways = [eastWestGateway(cluster)];
  }
  return objects;
}

export function ztunnelDaemonSet(cluster: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ztunnel', namespace: 'istio-system', labels: { 'app.kubernetes.io/name': 'ztunnel' } },
    spec: {
      selector: { matchLabels: { app: 'ztunnel' } },
      template: {
        metadata: { labels: { app: 'ztunnel' } },
        spec: {
          containers: [
            {
              name: 'istio-proxy',
              image: 'docker.io/istio/ztunnel:1.31.0-distroless',
              env: [
                { name: 'NETWORK', value: NETWORK[cluster] },
                { name: 'ISTIO_META_CLUSTER_ID', value: cluster },
              ],
            },
          ],
        },
      },
    },
    status: { desiredNumberScheduled: 1, numberReady: 1 },
  };
}

function ztunnelPod(cluster: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `ztunnel-${cluster === 'cluster1' ? 'a1b2c' : 'd3e4f'}`, namespace: 'istio-system', labels: { app: 'ztunnel' } },
    spec: { nodeName: `${cluster}-control-plane`, containers: [{ name: 'istio-proxy', image: 'docker.io/istio/ztunnel:1.31.0-distroless' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'istio-proxy', ready: true, restartCount: 0 }] },
  };
}

export function eastWestGateway(cluster: string): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'istio-eastwestgateway', namespace: 'istio-system', labels: { 'topology.istio.io/network': NETWORK[cluster] } },
    spec: {
      gatewayClassName: 'istio-east-west',
      listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE', tls: { mode: 'Terminate', options: { 'gateway.istio.io/tls-terminate-mode': 'ISTIO_MUTUAL' } } }],
    },
    status: {
      addresses: [{ type: 'IPAddress', value: GATEWAY_ADDRESS[cluster] }],
      conditions: [
        { type: 'Accepted', status: 'True' },
        { type: 'Programmed', status: 'True' },
      ],
    },
  };
}

/**
 * ztunnel's config_dump in each cluster, as istiod builds it: the cluster's own workloads, and for
 * each Service GLOBAL here with ready endpoints in a peer on another network that has a usable
 * istio-east-west Gateway, one split-horizon workload through that gateway
 * (pilot/pkg/serviceregistry/ambient/multicluster.go:318-370), plus the root the cluster trusts.
 */
export async function derivedDumps(objects: Map<string, ClusterObjects>): Promise<Map<string, object>> {
  const plain = [...objects.entries()].map(([name, objs]) => memoryReader(name, objs));
  const views = new Map(await Promise.all(plain.map(async (r) => [r.name, await readAmbientClusterView(r, 'istio-system')] as const)));
  const networkOf = (cluster: string) => labelsOf(objectNamed(objects, cluster, 'namespaces', 'istio-system'))['topology.istio.io/network'] ?? '';
  const dumps = new Map<string, object>();
  for (const [cluster, objs] of objects) {
    const view = views.get(cluster)!;
    const workloads: object[] = [];
    for (const pod of (objs.pods ?? []).filter((p) => p.metadata.namespace === 'sample')) {
      workloads.push({
        uid: `${cluster}//Pod/sample/${pod.metadata.name}`,
        workloadIps: [pod.status?.podIP ?? '10.10.0.21'],
        protocol: 'HBONE',
        name: pod.metadata.name,
        namespace: 'sample',
        network: networkOf(cluster),
        clusterId: cluster,
        status: 'Healthy',
        capacity: 1,
        services: ['sample/helloworld.sample.svc.cluster.local'],
      });
    }
    for (const [key, service] of view.services) {
      if (service.scope !== 'GLOBAL') continue;
      for (const [peer, peerObjs] of objects) {
        const peerNetwork = networkOf(peer);
        if (peer === cluster || !peerNetwork || peerNetwork === networkOf(cluster)) continue;
        const remote = views.get(peer)!.services.get(key);
        if (!remote || remote.ready === 0) continue;
        const gw = findAmbientEastWestGateways(peerObjs.k8sgateways ?? []).find((g) => g.usableByPeers && g.network === peerNetwork);
        if (!gw) continue;
        const [namespace, name] = key.split('/');
        const host = `${namespace}/${name}.${namespace}.svc.cluster.local`;
        const uid = `${peerNetwork}/SplitHorizonWorkload/${gw.namespace}/${gw.name}/${gw.addresses[0]}/${host}`;
        workloads.push({
          uid,
          name: uid,
          namespace,
          network: peerNetwork,
          clusterId: peer,
          protocol: 'HBONE',
          status: 'Healthy',
          capacity: remote.ready,
          networkGateway: { destination: `${peerNetwork}/${gw.addresses[0]}`, hboneMtlsPort: 15008 },
          services: [host],
        });
      }
    }
    const ca = objectNamed(objects, cluster, 'secrets', 'cacerts');
    const root = secretText(ca, 'root-cert.pem') ?? '';
    dumps.set(cluster, {
      workloads,
      services: [...view.services.values()].map((s) => ({ name: s.service.metadata.name, namespace: s.service.metadata.namespace, hostname: `${s.service.metadata.name}.${s.service.metadata.namespace}.svc.cluster.local` })),
      policies: [],
      certificates: [{ identity: 'spiffe://cluster.local/ns/sample/sa/default', state: 'Available', certChain: [], rootCerts: [{ pem: root }] }],
    });
  }
  return dumps;
}

/** Readers over the objects, each serving its cluster's ztunnel dump (derived unless given). */
export async function ambientReaders(objects: Map<string, ClusterObjects>, dumps?: Map<string, object | string>): Promise<ClusterReader[]> {
  const served = dumps ?? (await derivedDumps(objects));
  return [...objects.entries()].map(([name, objs]) => {
    const base = memoryReader(name, objs);
    const pod = (objs.pods ?? []).find((p: KubeObject) => p.metadata.labels?.app === 'ztunnel');
    const dump = served.get(name);
    const outputs: ZtunnelDumpOutput[] = pod && dump !== undefined ? [{ pod: pod.metadata.name, namespace: 'istio-system', body: typeof dump === 'string' ? dump : JSON.stringify(dump) }] : [];
    return { ...base, ztunnelConfigDumps: async () => outputs };
  });
}
