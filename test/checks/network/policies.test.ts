import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/network/policies.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, openFixture, runCheck, runFor } from '../helpers.ts';
import { edited, readersWithDebug } from './net-helpers.ts';

function policy(name: string, spec: Record<string, unknown>, namespace = 'istio-system'): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

async function withPolicies(cluster: string, ...policies: KubeObject[]) {
  const objects = await edited('multi-primary-healthy', (o) => {
    o.get(cluster)!.networkpolicies = policies;
  });
  return runCheck(check, readersWithDebug(objects));
}

const GATEWAY_PODS = { matchLabels: { istio: 'eastwestgateway' } };

describe('network/policies', () => {
  it('passes without NetworkPolicies, and with policies that do not select the gateway', async () => {
    expect(findingKeys((await runCheck(check, (await openFixture('multi-primary-healthy')).clusters)).runs)).toEqual([]);
    const other = await withPolicies('cluster1', policy('deny-sample', { podSelector: {}, policyTypes: ['Ingress'] }, 'sample'));
    expect(findingKeys(other.runs)).toEqual([]);
  });

  it('policyBlocksGateway: the lab fault\'s policy (only 15021 admitted)', async () => {
    const { runs } = await withPolicies('cluster2', policy('deny-eastwest', { podSelector: GATEWAY_PODS, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 15021, protocol: 'TCP' }] }] }));
    expect(findingKeys(runs)).toEqual(['cluster2:policyBlocksGateway']);
    const finding = runFor(runs, 'cluster2').findings[0];
    expect(finding.data).toMatchObject({ policies: 'deny-eastwest', port: 15443 });
    expect(finding.resource).toMatchObject({ kind: 'Pod', namespace: 'istio-system' });
  });

  it('a default deny (empty podSelector, no ingress, implicit Ingress type) blocks the gateway and istiod', async () => {
    const { runs } = await withPolicies('cluster1', policy('default-deny', { podSelector: {} }));
    expect(findingKeys(runs)).toEqual(['cluster1:policyBlocksGateway', 'cluster1:policyBlocksIstiod', 'cluster1:policyBlocksIstiod']);
    expect(runFor(runs, 'cluster1').findings.filter((f) => f.messageId === 'policyBlocksIstiod').map((f) => f.data?.port)).toEqual([15012, 15017]);
  });

  it('policies are additive: a second policy admitting 15443 (by range) and istiod ports (by number) fixes it', async () => {
    const { runs } = await withPolicies(
      'cluster1',
      policy('default-deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] }),
      policy('allow-eastwest', { podSelector: GATEWAY_PODS, ingress: [{ ports: [{ port: 15440, endPort: 15450 }] }] }),
      policy('allow-istiod', { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['istiod'] }] }, ingress: [{ ports: [{ port: 15012 }, { port: 15017 }], from: [{ namespaceSelector: {} }] }] }),
    );
    expect(findingKeys(runs)).toEqual([]);
  });

  it('an Egress-only policy does not isolate ingress', async () => {
    const { runs } = await withPolicies('cluster1', policy('egress-only', { podSelector: {}, policyTypes: ['Egress'] }));
    expect(findingKeys(runs)).toEqual([]);
  });

  it('a rule that admits 15443 only from pods/namespaces blocks traffic arriving from other clusters', async () => {
    const { runs } = await withPolicies('cluster1', policy('only-mesh', { podSelector: GATEWAY_PODS, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } } }] }] }));
    expect(findingKeys(runs)).toEqual(['cluster1:policyBlocksGateway']);
    expect(String(runFor(runs, 'cluster1').findings[0].data?.reason)).toMatch(/only pods or namespaces/);
  });

  it('policyRestrictsGatewaySources: admitted only from CIDRs (warning); 0.0.0.0/0 is anywhere', async () => {
    const restricted = await withPolicies('cluster1', policy('from-dc', { podSelector: GATEWAY_PODS, ingress: [{ from: [{ ipBlock: { cidr: '172.18.0.0/16' } }], ports: [{ port: 15443 }] }] }));
    expect(findingKeys(restricted.runs)).toEqual(['cluster1:policyRestrictsGatewaySources']);
    expect(runFor(restricted.runs, 'cluster1').findings[0].data).toMatchObject({ cidrs: '172.18.0.0/16' });
    const anywhere = await withPolicies('cluster1', policy('from-all', { podSelector: GATEWAY_PODS, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }));
    expect(findingKeys(anywhere.runs)).toEqual([]);
  });

  it('a named port is resolved against the pod\'s containerPorts', async () => {
    const objects = await edited('multi-primary-healthy', (o) => {
      const pod = o.get('cluster1')!.pods!.find((p) => p.metadata.name.startsWith('istio-eastwestgateway'))!;
      pod.spec.containers[0].ports = [{ name: 'tls', containerPort: 15443, protocol: 'TCP' }];
      o.get('cluster1')!.networkpolicies = [policy('by-name', { podSelector: GATEWAY_PODS, ingress: [{ ports: [{ port: 'tls' }] }] })];
    });
    expect(findingKeys((await runCheck(check, readersWithDebug(objects))).runs)).toEqual([]);
    const unnamed = await withPolicies('cluster1', policy('by-name', { podSelector: GATEWAY_PODS, ingress: [{ ports: [{ port: 'tls' }] }] }));
    expect(findingKeys(unnamed.runs)).toEqual(['cluster1:policyBlocksGateway']);
  });

  it('UDP-only rules do not admit TCP 15443', async () => {
    const { runs } = await withPolicies('cluster1', policy('udp', { podSelector: GATEWAY_PODS, ingress: [{ ports: [{ port: 15443, protocol: 'UDP' }] }] }));
    expect(findingKeys(runs)).toEqual(['cluster1:policyBlocksGateway']);
  });
});
