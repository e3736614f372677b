// Encodes https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/ and the multicluster "Configure trust" step (https://istio.io/latest/docs/setup/install/multicluster/before-you-begin/#configure-trust).
import { defineCheck } from '../../engine/define-check.ts';
import type { FindingOf } from '../../engine/types.ts';
import { PLUGIN_CA_COMMANDS, fingerprintPrefix, groupByRoot, readClusterRoot, trustsRootOf, type ClusterRoot } from '../../mesh/certificates.ts';
import { istioNamespaceOf } from '../../mesh/roles.ts';

const PLUGIN_CA_HINT = `Plug in certificates from one root for every cluster: ${PLUGIN_CA_COMMANDS}`;

const check = defineCheck({
  id: 'certificates/shared-root',
  category: 'certificates',
  scope: 'mesh',
  needs: ['secrets', 'configmaps'],
  meta: {
    description: 'All clusters chain to a root of trust every other cluster trusts',
    details:
      'Cross-cluster mTLS works only when each side trusts the root the other side\'s certificates chain to. Per cluster, ' +
      'the check reads the root from the plugged-in CA (the cacerts Secret: root-cert.pem, or ca.crt in the tls.crt/tls.key/ca.crt ' +
      'form), else istiod\'s self-signed istio-ca-secret, else the istio-ca-root-cert ConfigMap istiod distributes (always for ' +
      'remote clusters, whose workloads trust what the primary distributes, and when Secrets are forbidden). It compares SHA-256 ' +
      'fingerprints; a root-cert.pem bundle holding both roots (a root migration) counts as trust. When roots differ, the clusters ' +
      'outside the largest group sharing a root are reported, with which clusters use which root.',
    docs: 'https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/',
    messages: {
      rootMismatch: {
        template:
          'Cluster {{cluster}} chains to root {{root}} ({{subject}}, from {{source}}), not trusted by {{peers}} (roots by cluster: {{groups}}); cross-cluster mTLS fails with CERTIFICATE_VERIFY_FAILED',
        severity: 'error',
        // Without a plugged-in CA istiod generates its own self-signed root, which no other cluster trusts.
        explainedBy: [{ check: 'certificates/cacerts', messages: ['cacertsMissing'], when: 'cluster' }],
        hint: PLUGIN_CA_HINT,
      },
      rootMissing: {
        template: 'Cluster {{cluster}} has no readable root certificate: {{detail}}',
        severity: 'error',
        hint:
          'Check the CA material: kubectl -n {{namespace}} get secret cacerts istio-ca-secret; kubectl -n {{namespace}} get configmap istio-ca-root-cert. ' +
          'A cluster without any of them has never had a running istiod (or, for a remote, never been reached by its primary).',
      },
      rootUnparseable: {
        template: 'The root certificate in {{object}} of cluster {{cluster}} cannot be parsed: {{error}}',
        severity: 'error',
        hint: 'Look at it: kubectl -n {{namespace}} get {{object}} -o yaml, decode the value and run openssl x509 -noout -text on it; recreate it from the CA files.',
      },
      rootUnreadable: {
        template: 'The root certificate of cluster {{cluster}} could not be read: {{reason}}',
        severity: 'warning',
        hint: 'Grant read access to Secrets or at least ConfigMaps in {{namespace}} (kubectl auth can-i list configmaps -n {{namespace}}), or run with a context that has it.',
      },
      rootFromConfigMap: {
        template: 'Cluster {{cluster}}: Secrets are forbidden, so its root was read from the istio-ca-root-cert ConfigMap (what istiod distributes) instead of cacerts',
        severity: 'info',
        hint: 'For a check of the CA Secret itself, grant list on secrets in {{namespace}}: kubectl auth can-i list secrets -n {{namespace}}',
      },
    },
  },
  async run(ctx) {
    const istioNamespace = ctx.options.istioNamespace;
    const roots: ClusterRoot[] = [];
    for (const [i, reader] of ctx.clusters.entries()) {
      const info = ctx.clusterInfos[i];
      const namespace = istioNamespaceOf(info, istioNamespace);
      if (info && !info.reachable) continue;
      const result = await readClusterRoot(reader, info, namespace);
      if ('problem' in result) {
        const { problem } = result;
        const where = { cluster: reader.name, resource: problem.resource };
        const data = { cluster: reader.name, namespace };
        // One report per messageId: TypeScript checks each one's data against its template.
        if (problem.messageId === 'rootMissing') ctx.report({ ...where, messageId: problem.messageId, data: { ...data, ...problem.data } });
        else if (problem.messageId === 'rootUnreadable') ctx.report({ ...where, messageId: problem.messageId, data: { ...data, ...problem.data } });
        else ctx.report({ ...where, messageId: problem.messageId, data: { ...data, ...problem.data } });
        continue;
      }
      if (result.secretsForbidden) {
        ctx.report({ messageId: 'rootFromConfigMap', cluster: reader.name, resource: result.root.resource, data: { cluster: reader.name, namespace } });
      }
      roots.push(result.root);
    }

    ctx.attach(
      'roots',
      Object.fromEntries(
        roots.map((r) => [r.cluster, { fingerprint: r.signing.fingerprint, subject: r.signing.subject, notAfter: r.signing.notAfter.toISOString(), source: r.source, bundleSize: r.trusted.length }]),
      ),
    );
    for (const mismatch of findMismatches(roots, istioNamespace)) ctx.report(mismatch);
  },
});

/**
 * Clusters whose root the others do not trust. Clusters are grouped by signing root; the reference
 * is the largest group (ties: a plugged-in CA over a self-signed one, then report order), and each
 * cluster outside it that is not mutually trusted with the reference is reported.
 */
function findMismatches(roots: ClusterRoot[], namespace: string): FindingOf<typeof check>[] {
  const ranked = groupByRoot(roots);
  if (ranked.length < 2) return [];
  const reference = ranked[0];
  const describeGroups = ranked.map((g) => `${g.map((r) => r.cluster).join(', ')}: ${fingerprintPrefix(g[0].signing.fingerprint)}`).join('; ');
  const findings: FindingOf<typeof check>[] = [];
  for (const root of roots) {
    if (reference.includes(root)) continue;
    const distrusting = reference.filter((peer) => !(trustsRootOf(peer, root) && trustsRootOf(root, peer)));
    if (distrusting.length === 0) continue;
    findings.push({
      messageId: 'rootMismatch',
      cluster: root.cluster,
      resource: root.resource,
      data: {
        cluster: root.cluster,
        root: fingerprintPrefix(root.signing.fingerprint),
        subject: root.signing.subject,
        source: root.source,
        peers: distrusting.map((p) => `${p.cluster} (root ${fingerprintPrefix(p.signing.fingerprint)})`).join(', '),
        groups: describeGroups,
        namespace,
      },
    });
  }
  return findings;
}
export default check;
