// Helpers of the network checks' tests: edited fixtures served with istiod debug output.
import type { ClusterReader } from '../../../src/cluster/types.ts';
import type { Check } from '../../../src/engine/types.ts';
import { fixtureObjects, memoryReaders, type CheckRun, type ClusterObjects } from '../helpers.ts';

/** Debug bodies per cluster and endpoint (`{ cluster1: { networkz: '[...]' } }`). */
export type DebugBodies = Record<string, Record<string, string>>;

/** Readers over edited objects whose istiodDebug serves `debug` (one istiod pod per cluster that has a body). */
export function readersWithDebug(objects: Map<string, ClusterObjects>, debug: DebugBodies = {}): ClusterReader[] {
  return memoryReaders(objects).map((reader) => ({
    ...reader,
    istiodDebug: async (endpoint: string) => {
      const body = debug[reader.name]?.[endpoint];
      return body === undefined ? [] : [{ pod: `istiod-${reader.name}`, namespace: 'istio-system', revision: 'default', body }];
    },
  }));
}

/** A fixture's objects after `edit`. */
export async function edited(fixture: string, edit: (objects: Map<string, ClusterObjects>) => void = () => {}): Promise<Map<string, ClusterObjects>> {
  const objects = await fixtureObjects(fixture);
  edit(objects);
  return objects;
}

/** A networkz body listing `[network, cluster, address, port]` gateways, in the current format. */
export function networkz(...gateways: [string, string, string, number][]): string {
  return JSON.stringify(gateways.map(([Network, Cluster, Addr, Port]) => ({ Network, Cluster, Addr, Port, HBONEPort: 0, ServiceAccount: { Namespace: '', Name: '' } })));
}

/** meshNetworks declaring each network's gateway by registryServiceName (no network label needed on the Service). */
export const REGISTRY_SERVICE_MESH_NETWORKS = `networks:
  network1:
    endpoints: [{fromRegistry: cluster1}]
    gateways: [{registryServiceName: istio-eastwestgateway.istio-system.svc.cluster.local, port: 15443}]
  network2:
    endpoints: [{fromRegistry: cluster2}]
    gateways: [{registryServiceName: istio-eastwestgateway.istio-system.svc.cluster.local, port: 15443}]
`;

/** Put `meshNetworks` in the istio ConfigMap of every cluster that has one. */
export function setMeshNetworks(objects: Map<string, ClusterObjects>, text: string): void {
  for (const cluster of objects.values()) {
    const istio = (cluster.configmaps ?? []).find((cm) => cm.metadata.name === 'istio' && cm.metadata.namespace === 'istio-system');
    if (istio) istio.data = { ...istio.data, meshNetworks: text };
  }
}

/** checkId, messageId, cluster and effective severity of every finding, sorted. */
export function findingRows(check: Check, runs: CheckRun[]): string[] {
  return runs
    .flatMap((r) => r.findings.map((f) => `${check.id} ${f.messageId} ${f.cluster} ${f.severity}`))
    .sort();
}
