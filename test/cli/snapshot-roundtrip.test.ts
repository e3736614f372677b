// `meshdoctor snapshot` then `--snapshot`: offline analysis of a capture reaches the same verdicts as
// the live run for every check that does not need a live cluster, and the capture holds no secret.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { offlineVerdicts, startCliLab } from './cli-lab.ts';
import type { Report } from '../../src/engine/types.ts';
import { runCliInProcess } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('snapshot round trip', () => {
  it('captures the demo lab and reaches the live verdicts offline', async () => {
    const lab = await startCliLab({ scenario: 'demo', faults: ['stale-root-configmap:cluster1'] });
    const out = join(dir, 'demo');
    try {
      const capture = await runCliInProcess(['snapshot', '--kubeconfig', lab.kubeconfigPath, '--out', out]);
      expect(capture.exitCode).toBe(0);
      const live = await runCliInProcess(['all', '--kubeconfig', lab.kubeconfigPath, '-o', 'json']);
      const offline = await runCliInProcess(['all', '--snapshot', out, '-o', 'json']);
      const liveReport = JSON.parse(live.stdout) as Report;
      const offlineReport = JSON.parse(offline.stdout) as Report;
      expect(offlineReport.clusters.map((c) => [c.name, c.clusterId, c.network, c.role])).toEqual(liveReport.clusters.map((c) => [c.name, c.clusterId, c.network, c.role]));
      expect(offlineVerdicts(offlineReport)).toEqual(offlineVerdicts(liveReport));
      expect(offlineVerdicts(offlineReport)).toEqual(expect.arrayContaining([
        'certificates/shared-root [cluster2] rootMismatch error',
        'network/cross-network-gateway [cluster1] crossNetworkGatewayIstioMutual error',
        'certificates/root-distribution [cluster1] rootConfigMapStale error',
      ]));
      // Live-only checks say why they did not run offline.
      const connectivity = offlineReport.results.filter((r) => r.checkId.startsWith('connectivity/'));
      expect(connectivity.length).toBeGreaterThan(0);
      for (const r of connectivity) expect([r.outcome, r.skipReason]).toEqual(['skip', 'needs a live cluster: offline snapshot']);
      expect(offline.exitCode).toBe(1);

      // Nothing secret was written: no private key, no bearer token of the lab.
      const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      const tokens = lab.mesh.clusters.flatMap((c) => [...c.users.keys()]);
      for (const file of files) {
        const text = readFileSync(join(file.parentPath, file.name), 'utf8');
        expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
        for (const token of tokens) expect(text.includes(token), `${file.name} holds a token`).toBe(false);
      }
    } finally {
      await lab.stop();
    }
  });

  // The external istiod lives outside --istio-namespace (external-istiod): the capture reads its debug
  // output and log there, so offline the istiod-reading checks judge it as the live run does.
  it('captures the external-control-plane lab with its external istiod, and reaches the live verdicts offline', async () => {
    const lab = await startCliLab({ scenario: 'external-control-plane', faults: ['external-istiod-flag-missing'] });
    const out = join(dir, 'external');
    try {
      const capture = await runCliInProcess(['snapshot', '--kubeconfig', lab.kubeconfigPath, '--out', out]);
      expect(capture.exitCode).toBe(0);
      const istiodFiles = readdirSync(join(out, 'clusters', 'cluster1', 'istiod'), { recursive: true }).map(String);
      expect(istiodFiles.some((f) => f.endsWith('registryz.json'))).toBe(true);
      const live = JSON.parse((await runCliInProcess(['all', '--kubeconfig', lab.kubeconfigPath, '-o', 'json'])).stdout) as Report;
      const offline = JSON.parse((await runCliInProcess(['all', '--snapshot', out, '-o', 'json'])).stdout) as Report;
      // Every cluster's Istio namespace is rediscovered from the captured objects: the guide's remotes live in external-istiod too.
      expect(offline.clusters.map((c) => [c.name, c.role, c.istiodNamespace, c.istioNamespace])).toEqual([
        ['cluster1', 'external-control-plane', 'external-istiod', 'external-istiod'],
        ['cluster2', 'config', undefined, 'external-istiod'],
        ['cluster3', 'remote', undefined, 'external-istiod'],
      ]);
      expect(offline.clusters.map((c) => c.istioNamespace)).toEqual(live.clusters.map((c) => c.istioNamespace));
      // The remotes' east-west gateway proxies, in external-istiod, are captured as a live run would read them.
      expect(readdirSync(join(out, 'clusters', 'cluster2', 'proxies'))).toContain('external-istiod');
      expect(offlineVerdicts(offline)).toEqual(offlineVerdicts(live));
      expect(offlineVerdicts(offline)).toEqual(expect.arrayContaining(['control-plane/primary-remote [cluster1] externalIstiodOff error', 'control-plane/remote-sync [cluster1] peerMissing error']));
    } finally {
      await lab.stop();
    }
  });
});
