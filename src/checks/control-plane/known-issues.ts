// Encodes the known multicluster defects of istiod by version (issue 16); the table, with the source of each
// row (release notes and fix commits per istio/istio tag), is src/mesh/known-multicluster-issues.ts.
import { listIfReadable } from '../../cluster/absent.ts';
import { defineCheck } from '../../engine/define-check.ts';
import { runsAmbient } from '../../mesh/ambient.ts';
import { findIstiodDeployments, istiodContainer, revisionOf, versionFromImage } from '../../mesh/istio-objects.ts';
import { KNOWN_MULTICLUSTER_ISSUES, knownIssuesFor, knownIssuesTable } from '../../mesh/known-multicluster-issues.ts';
import { istioNamespaceOf } from '../../mesh/roles.ts';

export default defineCheck({
  id: 'control-plane/known-issues',
  category: 'control-plane',
  scope: 'mesh',
  needs: ['deployments'],
  meta: {
    description: 'No istiod of the mesh runs a version with a known multicluster defect fixed in a later release',
    details:
      'Reads the version of every istiod (per cluster and revision, from the pilot image) and matches it against a table of ' +
      'known multicluster defects, each with the versions it affects, what breaks, its issue and the first release that ' +
      'fixes it; rows marked ambient only apply when the mesh runs ztunnel. The version ranges were read from istio/istio\'s ' +
      'tags (release notes and fix commits per tag), so a newer patch the table does not know is not matched. ' +
      `The table (${KNOWN_MULTICLUSTER_ISSUES.length} rows):\n${knownIssuesTable()}`,
    docs: 'https://istio.io/latest/news/releases/',
    messages: {
      knownIssue: {
        template: 'istiod {{revision}} of {{cluster}} runs {{version}}, which has istio#{{issue}}: {{breaks}} (fixed in {{fixedIn}})',
        severity: 'warning',
        hint:
          'Upgrade istiod to a release that has the fix (istioctl upgrade --context=<{{cluster}} context>, or a canary revision), ' +
          'or plan around it until then: {{link}}',
      },
    },
  },
  async run(ctx) {
    const istioNamespace = ctx.options.istioNamespace;
    const istiods: { cluster: string; namespace: string; revision: string; version: string }[] = [];
    // Ambient-only rows apply when discovery saw the ambient data plane (a ztunnel DaemonSet) anywhere in the mesh.
    const ambient = ctx.clusterInfos.some((info) => runsAmbient(info.dataPlane));
    let read = 0;
    for (let i = 0; i < ctx.clusters.length; i++) {
      const info = ctx.clusterInfos[i];
      if (!info.reachable) continue;
      // An external istiod lives in its own namespace (discovery found it there, e.g. external-istiod).
      const namespace = istioNamespaceOf(info, istioNamespace);
      const unread = (err: Error) => ctx.notRead(info.name, err.message);
      const deployments = await listIfReadable(ctx.clusters[i], 'deployments', undefined, unread);
      if (!deployments) continue;
      read += 1;
      for (const istiod of findIstiodDeployments(deployments.filter((d) => d.metadata.namespace === namespace))) {
        const version = versionFromImage(istiodContainer(istiod)?.image);
        if (version) istiods.push({ cluster: info.name, namespace, revision: revisionOf(istiod), version });
      }
    }
    if (read === 0) ctx.skip('no cluster\'s Deployments could be read');
    if (istiods.length === 0) ctx.skip('no istiod Deployment with a versioned pilot image was found');
    for (const istiod of istiods) {
      for (const row of knownIssuesFor(istiod.version, { ambient })) {
        ctx.report({
          messageId: 'knownIssue',
          cluster: istiod.cluster,
          resource: { kind: 'Deployment', namespace: istiod.namespace, name: istiod.revision === 'default' ? 'istiod' : `istiod-${istiod.revision}` },
          data: {
            cluster: istiod.cluster,
            revision: istiod.revision,
            version: istiod.version,
            issue: row.issue,
            breaks: row.breaks,
            fixedIn: row.fixedIn,
            link: `https://github.com/istio/istio/issues/${row.issue}`,
          },
        });
      }
    }
  },
});
