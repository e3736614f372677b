import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/network/policies.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, objectNamed, openFixture, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { edited, findingRows, readersWithDebug } from './net-helpers.ts';

function policy(name: string, spec: Record<string, unknown>, namespace = 'istio-system'): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

async function withPolicies(cluster: string, ...policies: KubeObject[]) {
  return withPoliciesOn('multi-primary-healthy', cluster, () => {}, ...policies);
}

async function withPoliciesOn(fixture: string, cluster: string, edit: (o: Map<string, ClusterObjects>) => void, ...policies: KubeObject[]) {
  const objects = await edited(fixture, (o) => {
    edit(o);
    o.get(cluster)!.networkpolicies = policies;
  });
  return runCheck(check, readersWithDebug(objects));
}

/** Put cluster2 on network1: a single-network mesh. */
function singleNetwork(o: Map<string, ClusterObjects>): void {
  objectNamed(o, 'cluster2', 'namespaces', 'istio-system').metadata.labels!['topology.istio.io/network'] = 'network1';
  objectNamed(o, 'cluster2', 'configmaps', 'istio-sidecar-injector').data.values = '{"global":{"network":"network1"}}';
  objectNamed(o, 'cluster2', 'services', 'istio-eastwestgateway').metadata.labels!['topology.istio.io/network'] = 'network1';
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

  const ONLY_STATUS_PORT = { podSelector: GATEWAY_PODS, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 15021, protocol: 'TCP' }] }] };

  it('single-network multi-primary: the gateway\'s 15443 carries no cross-network traffic and is not judged', async () => {
    const { runs } = await withPoliciesOn('multi-primary-healthy', 'cluster2', singleNetwork, policy('deny-eastwest', ONLY_STATUS_PORT));
    expect(findingRows(check, runs)).toEqual([]);
  });

  it('a primary serving remotes: the gateway\'s 15012 and 15017 are judged too (policyBlocksGateway)', async () => {
    const { runs } = await withPoliciesOn('primary-remote-healthy', 'cluster1', () => {}, policy('deny-eastwest', ONLY_STATUS_PORT));
    expect(findingRows(check, runs)).toEqual([
      'network/policies policyBlocksGateway cluster1 error',
      'network/policies policyBlocksGateway cluster1 error',
      'network/policies policyBlocksGateway cluster1 error',
    ]);
    expect(runFor(runs, 'cluster1').findings.map((f) => f.data?.port).sort()).toEqual([15012, 15017, 15443]);
  });

  it('policyPortUnresolved (warning): the gateway Service targets a container port name the pod does not declare', async () => {
    const { runs } = await withPoliciesOn(
      'multi-primary-healthy',
      'cluster1',
      (o) => {
        const tls = objectNamed(o, 'cluster1', 'services', 'istio-eastwestgateway').spec.ports.find((p: { port: number }) => p.port === 15443);
        tls.targetPort = 'tls-typo';
      },
      policy('deny-eastwest', ONLY_STATUS_PORT),
    );
    expect(findingRows(check, runs)).toEqual(['network/policies policyPortUnresolved cluster1 warning']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ portName: 'tls-typo', servicePort: 15443, policies: 'deny-eastwest' });
  });
});
