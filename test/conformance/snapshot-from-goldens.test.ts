// Beyond the lab (issue 14): offline snapshots whose istiod debug output is the real istiod's (the
// goldens) around the objects of the same lab case give the same findings as the lab's own snapshot
// of that case. The lab is captured as `meshdoctor snapshot` captures it; then a copy gets, for
// each primary, the goldens in place of what the lab's istiod served. clusterz comes out of both: the
// fake istiod cannot serve it (it answers 400), so the checks that read it skip or fall back alike.
// Envoy reads are not captured (no sidecar in the goldens): the checks that need them skip in both.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { connectClusters } from '../../src/cluster/connect.ts';
import { openSnapshot } from '../../src/cluster/snapshot.ts';
import { writeSnapshot } from '../../src/cluster/snapshot-writer.ts';
import { runChecks } from '../../src/engine/run.ts';
import { CONFORMANCE_NOW, conformanceCases, GOLDEN_FILES } from '../../src/lab/fidelity.ts';
import { startLab } from '../../src/lab/index.ts';
import { discoverTopology } from '../../src/mesh/discovery.ts';

const GOLDEN_DIR = new URL('../../conformance/golden', import.meta.url).pathname;
const ISTIO_NAMESPACE = 'istio-system';
/** The istiod reads a golden stands in for (eds is what a sidecar gets, not an istiod endpoint). */
const REPLACED = GOLDEN_FILES.filter((file) => file !== 'eds');

/**
 * Cases whose findings differ because the lab's simulation still differs from istiod there: the
 * Open differences of docs/lab-fidelity.md, with the finding each one changes.
 */
const KNOWN_FINDING_DIFFERENCES: Record<string, { lab: string[]; golden: string[] }> = {
  // The lab's istiod still discovers the east-west gateway in a namespace its discoverySelectors leave
  // out; the real one does not, so its networkz has no gateway for the peer network and
  // network/gateway-view reports it, on top of control-plane/mesh-config's discoverySelectorsExclude.
  'multi-primary--discovery-selectors-exclude': { lab: [], golden: ['network/gateway-view [cluster1] gatewayViewMissing'] },
};

const work = mkdtempSync(join(tmpdir(), 'meshdoctor-golden-snapshots-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Capture the lab of one case, as `meshdoctor snapshot` does, without sidecars. */
async function captureLab(scenario: string, faults: string[], dir: string): Promise<void> {
  const lab = await startLab({ scenario, faults, clock: () => CONFORMANCE_NOW });
  try {
    const { readers } = await connectClusters({ kubeconfigPath: lab.kubeconfigPath, istioNamespace: ISTIO_NAMESPACE, contexts: lab.clusters.map((c) => c.context) });
    await writeSnapshot(dir, { capturedAt: CONFORMANCE_NOW, istioNamespace: ISTIO_NAMESPACE, clusters: readers }, { maxProxies: 0 });
  } finally {
    await lab.stop();
  }
}

/** Rewrite the manifest's digests after files changed or went away. */
function updateDigests(dir: string, changed: string[], removed: string[]): void {
  const manifestPath = join(dir, 'meshdoctor-snapshot.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files?: Record<string, string> };
  for (const file of removed) delete manifest.files?.[file];
  for (const file of changed) manifest.files![file] = `sha256:${createHash('sha256').update(readFileSync(join(dir, file))).digest('hex')}`;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
}

/** Each istiod pod directory of a cluster, relative to the snapshot. */
function istiodPods(dir: string, cluster: string): string[] {
  const base = join(dir, 'clusters', cluster, 'istiod');
  return existsSync(base) ? readdirSync(base).map((pod) => `clusters/${cluster}/istiod/${pod}`) : [];
}

/** Drop clusterz (the fake istiod has none) from every istiod of the snapshot. */
function withoutClusterz(dir: string, clusters: string[]): void {
  const removed = clusters.flatMap((cluster) => istiodPods(dir, cluster)).map((pod) => `${pod}/clusterz.json`).filter((file) => existsSync(join(dir, file)));
  for (const file of removed) rmSync(join(dir, file));
  updateDigests(dir, [], removed);
}

/** Put each primary's goldens in place of its istiod's reads. */
function withGoldens(dir: string, caseDir: string, primaries: string[]): void {
  const changed: string[] = [];
  for (const primary of primaries) {
    const pods = istiodPods(dir, primary);
    expect(pods, `${primary} has an istiod in the snapshot`).not.toEqual([]);
    for (const pod of pods) {
      for (const file of REPLACED) {
        const golden = join(caseDir, primary, `${file}.json`);
        if (!existsSync(golden)) continue;
        writeFileSync(join(dir, pod, `${file}.json`), readFileSync(golden));
        changed.push(`${pod}/${file}.json`);
      }
    }
  }
  expect(changed.length, 'goldens put in place').toBeGreaterThan(0);
  updateDigests(dir, changed, []);
}

/** `checkId [cluster] messageId` of every error and warning offline, and the checks that ran. */
async function findingsOffline(dir: string): Promise<{ findings: string[]; ran: Set<string> }> {
  const snapshot = await openSnapshot(dir);
  const { clusters, mesh } = await discoverTopology(snapshot.clusters, ISTIO_NAMESPACE);
  const results = await runChecks({
    checks: BUILTIN_CHECKS,
    readers: snapshot.clusters,
    clusterInfos: clusters,
    mesh,
    options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: CONFORMANCE_NOW, sharedLoopback: true },
    timeoutMs: 30_000,
    concurrency: 8,
  });
  const ran = new Set(results.filter((r) => r.outcome !== 'skip').map((r) => `${r.checkId} [${r.cluster}]`));
  const findings = results.flatMap((r) => r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.checkId} [${f.cluster}] ${f.messageId}`));
  return { findings: [...new Set(findings)].sort(), ran };
}

describe('snapshots assembled from the real istiod\'s goldens', () => {
  it.each(conformanceCases().map((c) => [c.name, c] as const))('%s: the same findings as the lab\'s own snapshot', async (name, c) => {
    const caseDir = join(GOLDEN_DIR, name);
    const { primaries } = JSON.parse(readFileSync(join(caseDir, 'case.json'), 'utf8')) as { primaries: string[] };
    const labDir = join(work, name, 'lab');
    const goldenDir = join(work, name, 'golden');
    await captureLab(c.scenario, c.faults.map((f) => (f.cluster ? `${f.name}:${f.cluster}` : f.name)), labDir);
    const clusters = readdirSync(join(labDir, 'clusters'));
    withoutClusterz(labDir, clusters);
    cpSync(labDir, goldenDir, { recursive: true });
    withGoldens(goldenDir, caseDir, primaries);

    const lab = await findingsOffline(labDir);
    const golden = await findingsOffline(goldenDir);
    // The same checks ran: a golden istiod output that no check could read would pass as "no finding".
    expect([...golden.ran].sort()).toEqual([...lab.ran].sort());
    const known = KNOWN_FINDING_DIFFERENCES[name];
    const onlyLab = lab.findings.filter((f) => !golden.findings.includes(f));
    const onlyGolden = golden.findings.filter((f) => !lab.findings.includes(f));
    expect({ onlyLab, onlyGolden }).toEqual({ onlyLab: known?.lab ?? [], onlyGolden: known?.golden ?? [] });
  }, 60_000);
});
