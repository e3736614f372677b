import { describe, expect, it } from 'vitest';
import type { IstiodDebugOutput } from '../../src/cluster/types.ts';
import { clustersRunningIstiod, readClusterz } from '../../src/mesh/istiod-debug.ts';
import type { ClusterInfo } from '../../src/engine/types.ts';

const output = (pod: string, body: string): IstiodDebugOutput => ({ pod, namespace: 'istio-system', revision: 'default', body });
const readerAnswering = (answer: () => Promise<IstiodDebugOutput[]>) => ({ istiodDebug: answer });
const signal = new AbortController().signal;

describe('reading istiod debug output', () => {
  it('merges the clusterz entries of every istiod pod', async () => {
    const reader = readerAnswering(async () => [
      output('istiod-a', '[{"id":"east","secretName":"","syncStatus":"synced"}]'),
      output('istiod-b', '[{"id":"west","secretName":"istio-system/istio-remote-secret-west","syncStatus":"timeout"}]'),
    ]);
    expect((await readClusterz(reader, signal))?.map((e) => `${e.id}:${e.syncStatus}`)).toEqual(['east:synced', 'west:timeout']);
  });

  it('is undefined when istiod cannot be asked or no pod answers, and throws on an unknown format', async () => {
    expect(await readClusterz(readerAnswering(async () => Promise.reject(new Error('forbidden'))), signal)).toBeUndefined();
    expect(await readClusterz(readerAnswering(async () => []), signal)).toBeUndefined();
    await expect(readClusterz(readerAnswering(async () => [output('istiod-a', '<html>')]), signal)).rejects.toThrow(/not JSON/);
  });

  it('applies to clusters that run an istiod', () => {
    expect(clustersRunningIstiod({ role: 'primary' } as ClusterInfo)).toBeUndefined();
    expect(clustersRunningIstiod({ role: 'remote' } as ClusterInfo)).toMatch(/no istiod/);
    expect(clustersRunningIstiod({ role: 'external-controlled' } as ClusterInfo)).toMatch(/no istiod/);
  });
});
