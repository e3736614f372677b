// Hand-built reports for the reporter tests: a realistic three-cluster, multi-network,
// multi-primary mesh with every outcome, plus variations built from it.
import type { CheckResult, ClusterInfo, Finding, Report, Summary } from '../../src/engine/types.ts';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { withRootCauses } from '../../src/engine/root-causes.ts';

/** Totals as the engine computes them; tests build reports by hand, so they need the same sums. */
export function summarize(results: readonly CheckResult[]): Summary {
  const summary: Summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, errors: 0, warnings: 0 };
  for (const result of results) {
    summary[result.outcome] += 1;
    for (const finding of result.findings) {
      if (finding.severity === 'error') summary.errors += 1;
      if (finding.severity === 'warning') summary.warnings += 1;
    }
  }
  return summary;
}

/** Rebuild summary, root causes and exitCode after changing results or failOn, like the engine would. */
export function withResults(report: Report, results: CheckResult[], failOn: Report['failOn'] = report.failOn): Report {
  const summary = summarize(results);
  const atOrAbove = failOn === 'never' ? 0 : summary.errors + (failOn === 'warning' ? summary.warnings : 0);
  const exitCode = atOrAbove > 0 ? 1 : summary.error > 0 ? 3 : 0;
  const linked = withRootCauses(results, BUILTIN_CHECKS);
  return { ...report, results: linked.results, rootCauses: linked.rootCauses, summary, failOn, exitCode };
}

const clusters: ClusterInfo[] = [
  {
    name: 'east',
    context: 'kind-east',
    clusterId: 'cluster-east',
    network: 'network-east',
    role: 'primary',
    revisions: ['default', '1-24-2'],
    istioVersion: '1.24.2',
    reachable: true,
    via: 'context',
    eastWestGateways: [{ namespace: 'istio-system', name: 'istio-eastwestgateway', network: 'network-east', addresses: ['172.18.0.10'] }],
  },
  {
    name: 'west',
    context: 'kind-west',
    clusterId: 'cluster-west',
    network: 'network-west',
    role: 'primary',
    revisions: ['default'],
    istioVersion: '1.24.1',
    reachable: true,
    via: 'context',
    eastWestGateways: [{ namespace: 'istio-system', name: 'istio-eastwestgateway', network: 'network-west', addresses: [] }],
  },
  {
    name: 'edge',
    clusterId: 'cluster-edge',
    network: 'network-west',
    role: 'remote',
    revisions: [],
    reachable: true,
    via: 'remote-secret',
  },
];

function finding(fields: Omit<Finding, 'severity'> & Partial<Pick<Finding, 'severity'>>): Finding {
  return { severity: 'error', ...fields };
}

const results: CheckResult[] = [
  { checkId: 'control-plane/istiod-ready', category: 'control-plane', cluster: 'east', outcome: 'pass', durationMs: 12, findings: [] },
  {
    checkId: 'control-plane/istiod-ready',
    category: 'control-plane',
    cluster: 'west',
    outcome: 'fail',
    durationMs: 41.7,
    findings: [
      finding({
        checkId: 'control-plane/istiod-ready',
        messageId: 'istiodNotReady',
        cluster: 'west',
        resource: { kind: 'Deployment', namespace: 'istio-system', name: 'istiod' },
        message: 'istiod has 0 of 1 replicas ready',
        hint: 'kubectl --context kind-west -n istio-system describe deployment istiod',
      }),
    ],
  },
  {
    checkId: 'control-plane/istiod-ready',
    category: 'control-plane',
    cluster: 'edge',
    outcome: 'skip',
    durationMs: 0,
    skipReason: 'not a primary cluster (role remote)',
    findings: [],
  },
  {
    checkId: 'control-plane/remote-secrets',
    category: 'control-plane',
    cluster: '*',
    outcome: 'warn',
    durationMs: 230,
    findings: [
      finding({
        checkId: 'control-plane/remote-secrets',
        messageId: 'remoteSecretServerMismatch',
        severity: 'warning',
        cluster: 'east',
        resource: { kind: 'Secret', namespace: 'istio-system', name: 'istio-remote-secret-edge' },
        message: 'remote secret for edge points at https://10.0.0.9:6443, the cluster answers at https://172.18.0.4:6443',
        hint: 'regenerate it: istioctl create-remote-secret --context kind-edge --name edge | kubectl apply -f - --context kind-east',
      }),
    ],
  },
  {
    checkId: 'network/eastwest-gateway',
    category: 'network',
    cluster: 'east',
    outcome: 'pass',
    durationMs: 1530,
    findings: [],
  },
  {
    checkId: 'network/eastwest-gateway',
    category: 'network',
    cluster: 'west',
    outcome: 'fail',
    durationMs: 88,
    findings: [
      finding({
        checkId: 'network/eastwest-gateway',
        messageId: 'gatewayNoAddress',
        cluster: 'west',
        resource: { kind: 'Service', namespace: 'istio-system', name: 'istio-eastwestgateway' },
        message: 'east-west gateway Service has no external address (LoadBalancer pending)',
        hint: 'check the cloud load balancer controller, or set the address with topology.istio.io/network on the gateway',
      }),
      finding({
        checkId: 'network/eastwest-gateway',
        messageId: 'gatewayPortMissing',
        severity: 'warning',
        cluster: 'west',
        resource: { kind: 'Service', namespace: 'istio-system', name: 'istio-eastwestgateway' },
        message: 'port 15443 (tls) is not exposed',
      }),
    ],
  },
  {
    checkId: 'network/eastwest-gateway',
    category: 'network',
    cluster: 'edge',
    outcome: 'pass',
    durationMs: 75_500,
    findings: [],
  },
  {
    checkId: 'certificates/shared-root',
    category: 'certificates',
    cluster: '*',
    outcome: 'fail',
    durationMs: 310,
    findings: [
      finding({
        checkId: 'certificates/shared-root',
        messageId: 'rootMismatch',
        cluster: 'west',
        resource: { kind: 'Secret', namespace: 'istio-system', name: 'cacerts' },
        message: 'root certificate of west (SHA-256 9f:2c) differs from east (SHA-256 41:aa)',
        hint: 'plug the same root into every cluster\'s cacerts Secret, then restart istiod',
      }),
      finding({
        checkId: 'certificates/shared-root',
        messageId: 'rootCount',
        severity: 'info',
        cluster: '*',
        message: '2 distinct roots across 3 clusters',
      }),
    ],
  },
  {
    checkId: 'certificates/workload-cert-expiry',
    category: 'certificates',
    cluster: 'east',
    outcome: 'error',
    durationMs: 20_000,
    error: 'timed out after 20s',
    findings: [],
  },
  {
    checkId: 'connectivity/cross-cluster',
    category: 'connectivity',
    cluster: 'east',
    outcome: 'skip',
    durationMs: 0,
    skipReason: 'dependency control-plane/istiod-ready failed on west',
    findings: [],
  },
];

/** The realistic report: 3 clusters, 4 categories, every outcome, a mesh-scope (`*`) result. */
export function realisticReport(): Report {
  return withResults(
    {
      schemaVersion: 1,
      meshdoctorVersion: '0.1.0',
      startedAt: '2026-05-04T09:30:12.345Z',
      durationMs: 21_437,
      mesh: { model: 'multi-primary', meshId: 'mesh1', trustDomain: 'cluster.local', multiNetwork: true },
      clusters: structuredClone(clusters),
      results: [],
      summary: summarize([]),
      failOn: 'error',
      rootCauses: [],
      exitCode: 0,
    },
    structuredClone(results),
  );
}

/** A report where every check passed on a single cluster. */
export function healthyReport(): Report {
  const report = realisticReport();
  return withResults(
    { ...report, mesh: { model: 'single-cluster', multiNetwork: false }, clusters: [report.clusters[0]] },
    [
      { checkId: 'control-plane/istiod-ready', category: 'control-plane', cluster: 'east', outcome: 'pass', durationMs: 10, findings: [] },
      { checkId: 'network/eastwest-gateway', category: 'network', cluster: 'east', outcome: 'pass', durationMs: 20, findings: [] },
    ],
  );
}

/** Characters that break XML and terminals, as a misbehaving probe could return them. */
export const HOSTILE_TEXT = 'bad <tag> & "quotes" \'apos\' \u0000nul\u0007bell \u001b[31mred\u001b[0m \u001b]8;;http://x\u0007link\u001b]8;;\u0007 tab\there';

/** A PEM private key and tokens, as a careless check could quote them. */
export const SECRET_PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
  '-----END RSA PRIVATE KEY-----',
].join('\n');
export const SECRET_BEARER = 'Bearer s3cr3t-t0ken-value.abcdef';
export const SECRET_JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
