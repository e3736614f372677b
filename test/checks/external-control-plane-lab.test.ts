// The external-control-plane lab scenario against every built-in check (issue 18): the healthy mesh
// gives no error and no warning, discovery tells the three roles, and the remotes are judged where
// the external istiod reads them: the namespace named like its own (its SystemNamespace,
// external-istiod), not --istio-namespace (istio/istio 86c9f01 pilot/pkg/serviceregistry/kube/
// controller/controller.go:266-275, network.go:103, multicluster.go:385-413).
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import type { LabMeshState } from '../../src/lab/types.ts';
import { connectClusters } from '../../src/cluster/connect.ts';
import { startLab } from '../../src/lab/index.ts';
import { brokenProbes, errorKeys, runChecksOnLab } from '../helpers/lab-run.ts';

const SCENARIO = 'external-control-plane';

/** A Namespace of a lab cluster, to edit before the simulation starts. */
function namespaceOf(mesh: LabMeshState, cluster: string, name: string): KubeObject {
  const found = mesh.clusters.find((c) => c.name === cluster)!.objects.find((o) => o.kind === 'Namespace' && o.metadata.name === name);
  if (!found) throw new Error(`${cluster}: no Namespace ${name}`);
  return found;
}

/** An istio-system Namespace on a remote that the guide's layout does not have (left over, or made by hand). */
function strayIstioSystem(meta: { labels?: Record<string, string>; annotations?: Record<string, string> }): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system', labels: { 'kubernetes.io/metadata.name': 'istio-system', ...meta.labels }, ...(meta.annotations ? { annotations: meta.annotations } : {}) } };
}

describe('external-control-plane lab', () => {
  it('healthy: no error and no warning from any check; roles, namespaces and networks as istiod takes them', async () => {
    const run = await runChecksOnLab({ scenario: SCENARIO });
    expect(errorKeys(run)).toEqual([]);
    expect(brokenProbes(run)).toEqual([]);
    expect(run.results.flatMap((r) => r.findings.filter((f) => f.severity === 'warning'))).toEqual([]);
    // The guide installs the remotes' Istio in external-istiod too (snips.sh at 005b9da, snip_get_remote_config_cluster_iop,
    // snip_get_second_remote_cluster_iop): discovery finds it there although --istio-namespace is istio-system.
    expect(run.clusters.map((c) => [c.name, c.role, c.clusterId, c.network, c.istiodNamespace, c.istioNamespace, c.controlPlaneCluster])).toEqual([
      ['cluster1', 'external-control-plane', 'cluster2', undefined, 'external-istiod', 'external-istiod', undefined],
      ['cluster2', 'config', 'cluster2', 'network2', undefined, 'external-istiod', 'cluster1'],
      ['cluster3', 'remote', 'cluster3', 'network3', undefined, 'external-istiod', 'cluster1'],
    ]);
    expect(run.mesh).toMatchObject({ model: 'external-control-plane', multiNetwork: true });
    // The external istiod's cluster runs no proxies: data-plane checks skip it with the reason.
    const http = run.results.find((r) => r.checkId === 'connectivity/http' && r.cluster === 'cluster1')!;
    expect(http.outcome).toBe('skip');
    // ... and is no probe source, so no note says it could not be measured.
    expect(run.results.flatMap((r) => r.findings).filter((f) => f.messageId === 'sourceNotMeasured')).toEqual([]);
  });

  it('a controlPlaneClusters annotation on a stray istio-system does not count: annotationMissing on external-istiod of cluster3', async () => {
    const run = await runChecksOnLab(
      {
        scenario: SCENARIO,
        objects: (mesh) => {
          // Move the annotation to a namespace the external istiod never reads (the guide's remotes have no istio-system).
          const own = namespaceOf(mesh, 'cluster3', 'external-istiod');
          const named = own.metadata.annotations!['topology.istio.io/controlPlaneClusters'];
          delete own.metadata.annotations!['topology.istio.io/controlPlaneClusters'];
          return { cluster3: [strayIstioSystem({ annotations: { 'topology.istio.io/controlPlaneClusters': named } })] };
        },
      },
      { only: ['control-plane/primary-remote'] },
    );
    // The remote's Istio is still found in external-istiod (webhook, istiod Service, ConfigMaps outweigh an annotation).
    expect(run.clusters.find((c) => c.name === 'cluster3')).toMatchObject({ role: 'remote', istioNamespace: 'external-istiod' });
    expect(errorKeys(run)).toEqual(['control-plane/primary-remote [cluster3] annotationMissing']);
    expect(run.errors[0].resource).toMatchObject({ kind: 'Namespace', name: 'external-istiod' });
  });

  it('a remote\'s network is the label on the external istiod\'s namespace there, not on a stray istio-system', async () => {
    const run = await runChecksOnLab(
      {
        scenario: SCENARIO,
        objects: (mesh) => {
          namespaceOf(mesh, 'cluster3', 'external-istiod').metadata.labels!['topology.istio.io/network'] = 'network9';
          return { cluster3: [strayIstioSystem({ labels: { 'topology.istio.io/network': 'network8' } })] };
        },
      },
      { only: ['network/topology'] },
    );
    expect(run.clusters.find((c) => c.name === 'cluster3')?.network).toBe('network9');
  });

  it('a default run from the external cluster finds its peers through the istiod beside it: istio-kubeconfig and the remote secret', async () => {
    const lab = await startLab({ scenario: SCENARIO });
    try {
      const { readers, notes } = await connectClusters({ kubeconfigPath: lab.kubeconfigPath, istioNamespace: 'istio-system' });
      expect(readers.map((r) => r.name)).toEqual(['cluster1', 'cluster2', 'cluster3']);
      expect(notes).toEqual([]);
    } finally {
      await lab.stop();
    }
  });

  it('proxies of a remote are judged against the external istiod\'s version (proxyTooOld on cluster3)', async () => {
    const run = await runChecksOnLab(
      {
        scenario: SCENARIO,
        objects: (mesh) => {
          for (const pod of mesh.clusters.find((c) => c.name === 'cluster3')!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'sample')) {
            for (const c of [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])] as { name: string; image: string }[]) {
              if (c.name === 'istio-proxy') c.image = c.image.replace(/:[^:]+$/, ':1.29.0');
            }
          }
          return {};
        },
      },
      { only: ['control-plane/version-skew'] },
    );
    // Before discovery named cluster1 as cluster3's control plane, these proxies had none to be judged against.
    expect(run.results.flatMap((r) => r.findings.map((f) => [f.cluster, f.messageId]))).toEqual([['cluster3', 'proxyTooOld']]);
  });

  it('as `lab serve` is judged (no shared loopback): istio-kubeconfig\'s loopback server is istiod\'s own client, synced under its CLUSTER_ID: info, like the remote secret', async () => {
    const run = await runChecksOnLab({ scenario: SCENARIO }, { only: ['control-plane/remote-secrets'], options: { sharedLoopback: false } });
    const findings = run.results.flatMap((r) => r.findings.map((f) => [f.cluster, f.messageId, f.severity, f.resource?.name]));
    expect(findings).toEqual([
      ['cluster1', 'serverLoopback', 'info', 'istio-kubeconfig'],
      ['cluster1', 'serverLoopback', 'info', 'istio-remote-secret-cluster3'],
    ]);
  });
});
