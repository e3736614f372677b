// `meshdoctor snapshot` of the ambient lab, then `--snapshot`: the capture holds what the ambient
// checks read in the layout CHECKS.md names (ztunnel/<pod>/config_dump.json, istiod/<pod>/ambientz.json),
// and offline analysis reaches the live verdicts, on the healthy mesh and with a fault.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { offlineVerdicts, startCliLab } from './cli-lab.ts';
import type { Report } from '../../src/engine/types.ts';
import { runCliInProcess } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-snap-ambient-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `checkId [cluster] outcome` of the ambient checks. */
function ambientOutcomes(report: Report): string[] {
  return report.results.filter((r) => r.checkId.startsWith('ambient/')).map((r) => `${r.checkId} [${r.cluster}] ${r.outcome}`).sort();
}

describe('snapshot round trip of the ambient lab', () => {
  it.each([
    ['healthy', [] as string[], [] as string[]],
    ['ambient-ewgw-missing', ['ambient-ewgw-missing:cluster2'], ['ambient/eastwest-gateway [cluster2] ewgwMissing error', 'ambient/ztunnel-view [cluster2] noRemoteNetworkWorkload error']],
  ])('%s: the capture holds the ztunnel and ambientz reads and gives the live verdicts', async (name, faults, expected) => {
    const lab = await startCliLab({ scenario: 'ambient-multi-network', faults });
    const out = join(dir, name);
    try {
      const capture = await runCliInProcess(['snapshot', '--kubeconfig', lab.kubeconfigPath, '--out', out]);
      expect(capture.exitCode).toBe(0);
      for (const cluster of ['cluster1', 'cluster2']) {
        const ztunnels = readdirSync(join(out, 'clusters', cluster, 'ztunnel'));
        expect(ztunnels.length).toBeGreaterThan(0);
        for (const pod of ztunnels) expect(JSON.parse(readFileSync(join(out, 'clusters', cluster, 'ztunnel', pod, 'config_dump.json'), 'utf8'))).toHaveProperty('workloads');
        const istiods = readdirSync(join(out, 'clusters', cluster, 'istiod'));
        expect(istiods.some((pod) => existsSync(join(out, 'clusters', cluster, 'istiod', pod, 'ambientz.json')))).toBe(true);
      }
      const live = JSON.parse((await runCliInProcess(['all', '--kubeconfig', lab.kubeconfigPath, '-o', 'json'])).stdout) as Report;
      const offline = JSON.parse((await runCliInProcess(['all', '--snapshot', out, '-o', 'json'])).stdout) as Report;
      expect(offline.clusters.map((c) => [c.name, c.clusterId, c.network, c.dataPlane?.mode])).toEqual(live.clusters.map((c) => [c.name, c.clusterId, c.network, c.dataPlane?.mode]));
      expect(offline.clusters.map((c) => c.dataPlane?.mode)).toEqual(['ambient', 'ambient']);
      expect(offlineVerdicts(offline)).toEqual(offlineVerdicts(live));
      expect(ambientOutcomes(offline)).toEqual(ambientOutcomes(live));
      const errors = offlineVerdicts(offline).filter((v) => / (error|warning)$/.test(v));
      expect(errors).toEqual(expect.arrayContaining(expected));
      if (expected.length === 0) expect(errors).toEqual([]);
    } finally {
      await lab.stop();
    }
  });
});
