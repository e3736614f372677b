// The lab faults CHECKS.md names for the services checks fail the right check on the right cluster;
// healthy labs give no error finding from them. One lab run per fault, all services checks per run.
// Every cluster is given by context (as `meshdoctor --context a --context b` would): a primary
// without a remote secret for its peer (no-remote-secret) would otherwise hide that peer.
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../../src/checks/index.ts';
import { connectClusters } from '../../../src/cluster/connect.ts';
import { runChecks } from '../../../src/engine/run.ts';
import { startLab, type StartLabOptions } from '../../../src/lab/index.ts';
import { discoverTopology } from '../../../src/mesh/discovery.ts';
import { brokenProbes, type LabRun } from '../../helpers/lab-run.ts';

/** Start a lab, run the services checks against all of its contexts, stop it. */
async function runServicesOnLab(lab: StartLabOptions): Promise<LabRun> {
  const running = await startLab(lab);
  try {
    const contexts = running.clusters.map((c) => c.context);
    const { readers } = await connectClusters({ kubeconfigPath: running.kubeconfigPath, contexts, istioNamespace: 'istio-system' });
    const { clusters, mesh } = await discoverTopology(readers, 'istio-system');
    const results = await runChecks({
      checks: BUILTIN_CHECKS.filter((c) => c.category === 'services'),
      readers,
      clusterInfos: clusters,
      mesh,
      options: { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date() },
      timeoutMs: 20_000,
      concurrency: 8,
    });
    return { results, clusters, mesh, errors: results.flatMap((r) => r.findings.filter((f) => f.severity === 'error')) };
  } finally {
    await running.stop();
  }
}

/** `checkId [cluster] messageId severity` of every finding of the services checks. */
function findingKeys(run: LabRun): string[] {
  return run.results.flatMap((r) => r.findings.map((f) => `${f.checkId} [${f.cluster}] ${f.messageId} ${f.severity}`)).sort();
}

describe('services checks on the lab', () => {
  it.each(['multi-primary', 'multi-primary-single-network', 'primary-remote'])('healthy %s: no findings, no broken probe', async (scenario) => {
    const run = await runServicesOnLab({ scenario });
    expect(brokenProbes(run)).toEqual([]);
    expect(findingKeys(run)).toEqual([]);
  });

  // Each fault: the finding it must produce, and every other finding of the services checks (exact list).
  it.each([
    ['no-remote-secret:cluster1', ['services/cross-cluster-discovery [cluster1] noRemoteSecret error']],
    ['remote-sync-timeout:cluster1', ['services/cross-cluster-discovery [cluster1] peerNotSynced error']],
    // Both istiods hold cluster2's endpoints without a network: one finding each, both on cluster2.
    ['network-label-missing:cluster2', ['services/endpoints [cluster2] endpointNoNetwork error', 'services/endpoints [cluster2] endpointNoNetwork error']],
    ['uninjected-remote-endpoint:cluster2', ['services/endpoints [cluster2] uninjectedRemoteEndpoint warning']],
    ['service-port-mismatch:cluster2', ['services/consistency [cluster2] servicePortsMismatch warning']],
    ['service-headless-mixed:cluster2', ['services/consistency [cluster2] serviceHeadlessMixed warning']],
    // Uninjected sample pods are also uninjected endpoints of helloworld and curl seen from cluster1.
    [
      'namespace-not-injected:cluster2',
      [
        'services/endpoints [cluster2] uninjectedRemoteEndpoint warning',
        'services/endpoints [cluster2] uninjectedRemoteEndpoint warning',
        'services/namespace-sameness [cluster2] namespaceNotInjected warning',
      ],
    ],
    ['remote-only-service-no-dns-capture:cluster1', ['services/remote-only-dns [cluster1] remoteOnlyServiceNoDnsCapture warning']],
    ['legacy-global-config:cluster1', ['services/legacy-global [cluster1] globalDestinationRule warning', 'services/legacy-global [cluster1] globalServiceEntry warning']],
    ['failover-no-outlier-detection:cluster1', ['services/locality-failover [cluster1] failoverWithoutOutlierDetection warning']],
  ])('multi-primary with %s', async (fault, expected) => {
    const [name, cluster] = fault.split(':');
    const run = await runServicesOnLab({ scenario: 'multi-primary', faults: [{ name, cluster }] });
    expect(brokenProbes(run)).toEqual([]);
    expect(findingKeys(run)).toEqual(expected);
  });
});
