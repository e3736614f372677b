// Writes fixtures/ambient-multi-network (run: npx node test/checks/ambient/gen-fixture.ts): the
// ambient mesh of ambient-mesh.ts captured with meshdoctor's own snapshot writer. cluster1 holds its
// ztunnel's config_dump; cluster2's ztunnel refused the port-forward when captured (the snapshot
// records the skip), so offline its view comes from istiod's /debug/ambientz, written in istiod's
// protobuf JSON with addresses as base64 of their text (pilot/pkg/xds/debug.go:1043-1045).
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeSnapshot } from '../../../src/cluster/snapshot-writer.ts';
import { AccessError, type ClusterReader } from '../../../src/cluster/types.ts';
import { FIXTURES_DIR } from '../helpers.ts';
import { ambientObjects, ambientReaders, derivedDumps } from './ambient-mesh.ts';

type DumpWorkload = { uid: string; name: string; namespace: string; network: string; clusterId: string; services: string[]; networkGateway?: { destination: string; hboneMtlsPort: number } };

function ambientz(dump: { workloads: DumpWorkload[] }): string {
  const workloads = dump.workloads.map((w) => {
    const out: Record<string, unknown> = { uid: w.uid, name: w.name, namespace: w.namespace, network: w.network, clusterId: w.clusterId, services: Object.fromEntries(w.services.map((s) => [s, { ports: [{ servicePort: 5000, targetPort: 5000 }] }])) };
    if (w.networkGateway) {
      const [network, address] = w.networkGateway.destination.split('/');
      out.networkGateway = { address: { network, address: Buffer.from(address).toString('base64') }, hboneMtlsPort: w.networkGateway.hboneMtlsPort };
    }
    return out;
  });
  return `${JSON.stringify({ workloads, services: [], policies: [] }, null, 2)}\n`;
}

const objects = await ambientObjects();
const dumps = (await derivedDumps(objects)) as Map<string, { workloads: DumpWorkload[] }>;
const readers: ClusterReader[] = (await ambientReaders(objects, dumps)).map((reader) => {
  if (reader.name !== 'cluster2') return reader;
  const istiod = objects.get('cluster2')!.pods!.find((p) => p.metadata.labels?.app === 'istiod')!;
  return {
    ...reader,
    ztunnelConfigDumps: async () => {
      throw new AccessError('forbidden', 'cluster2', 'forbidden: cannot create pods/portforward in istio-system');
    },
    istiodDebug: async (endpoint: string) => (endpoint === 'ambientz' ? [{ pod: istiod.metadata.name, namespace: 'istio-system', revision: 'default', body: ambientz(dumps.get('cluster2')!) }] : []),
  };
});
const dir = path.join(FIXTURES_DIR, 'ambient-multi-network');
await rm(dir, { recursive: true, force: true });
const result = await writeSnapshot(dir, { capturedAt: new Date('2026-11-20T10:00:00Z'), istioNamespace: 'istio-system', clusters: readers });
console.log(`${result.files} files, skipped: ${result.skipped.map((s) => `${s.cluster} ${s.what}`).join('; ')}`);
