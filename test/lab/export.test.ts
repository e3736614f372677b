// `lab export`: the per-cluster objects istiod reads, and the primaries' registries and sidecars.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildExportMesh, exportLab, exportManifest } from '../../src/lab/export.ts';
import { CONFORMANCE_NOW } from '../../src/lab/fidelity.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('lab export', () => {
  it('writes each cluster\'s registry objects, Istio config, mesh config and istio-system namespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-export-'));
    dirs.push(dir);
    const manifest = await exportLab(await buildExportMesh({ scenario: 'multi-primary', now: CONFORMANCE_NOW }), dir);
    expect(manifest.primaries.map((p) => p.name)).toEqual(['cluster1', 'cluster2']);
    for (const cluster of ['cluster1', 'cluster2']) {
      const docs = readFileSync(join(dir, cluster, 'objects.yaml'), 'utf8').split('\n---\n').map((d) => JSON.parse(d) as { kind: string });
      expect(new Set(docs.map((d) => d.kind))).toEqual(new Set(['Namespace', 'Node', 'Service', 'EndpointSlice', 'Pod']));
      const istio = readFileSync(join(dir, cluster, 'istio.yaml'), 'utf8').split('\n---\n').map((d) => JSON.parse(d) as { kind: string; metadata: { name: string } });
      expect(istio.map((o) => `${o.kind}/${o.metadata.name}`)).toContain('Gateway/cross-network-gateway');
      expect(readFileSync(join(dir, cluster, 'mesh.yaml'), 'utf8')).toMatch(/trustDomain: cluster.local/);
      const ns = JSON.parse(readFileSync(join(dir, cluster, 'system-namespace.json'), 'utf8')) as { metadata: { labels: Record<string, string> } };
      expect(ns.metadata.labels['topology.istio.io/network']).toBe(cluster === 'cluster1' ? 'network1' : 'network2');
    }
    expect(JSON.parse(readFileSync(join(dir, 'mesh.json'), 'utf8'))).toEqual(manifest);
  });

  it('gives each primary the registries it syncs and one sidecar per cluster, connected where it is the control plane', async () => {
    const healthy = exportManifest(await buildExportMesh({ scenario: 'multi-primary', now: CONFORMANCE_NOW }));
    const c1 = healthy.primaries.find((p) => p.name === 'cluster1')!;
    expect(c1.registries).toEqual([
      { id: 'cluster1', cluster: 'cluster1' },
      { id: 'cluster2', cluster: 'cluster2' },
    ]);
    expect(c1.proxies.map((p) => [p.cluster, p.clusterId, p.network, p.connected])).toEqual([
      ['cluster1', 'cluster1', 'network1', true],
      ['cluster2', 'cluster2', 'network2', false],
    ]);
    const noSecret = exportManifest(await buildExportMesh({ scenario: 'multi-primary', faults: [{ name: 'no-remote-secret', cluster: 'cluster1' }], now: CONFORMANCE_NOW }));
    expect(noSecret.primaries.find((p) => p.name === 'cluster1')!.registries).toEqual([{ id: 'cluster1', cluster: 'cluster1' }]);
    const primaryRemote = exportManifest(await buildExportMesh({ scenario: 'primary-remote', now: CONFORMANCE_NOW }));
    expect(primaryRemote.primaries.map((p) => p.name)).toEqual(['cluster1']);
    expect(primaryRemote.primaries[0].proxies.map((p) => [p.cluster, p.connected])).toEqual([
      ['cluster1', true],
      ['cluster2', true],
    ]);
  });
});
