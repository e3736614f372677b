// Helpers of the network checks' tests: edited fixtures served with istiod debug output.
import type { ClusterReader } from '../../../src/cluster/types.ts';
import { fixtureObjects, memoryReaders, type ClusterObjects } from '../helpers.ts';

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
