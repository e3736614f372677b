import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import { evaluateIngress, isIngressPolicy } from '../../src/mesh/kubernetes-network-policy.ts';

const pod: KubeObject = {
  metadata: { name: 'gw-1', namespace: 'istio-system', labels: { istio: 'eastwestgateway', app: 'gw' } },
  spec: { containers: [{ name: 'istio-proxy', ports: [{ name: 'tls', containerPort: 15443 }] }] },
};
const np = (spec: Record<string, unknown>, namespace = 'istio-system'): KubeObject => ({ metadata: { name: `np-${JSON.stringify(spec).length}`, namespace }, spec });

describe('NetworkPolicy semantics', () => {
  it('policyTypes: absent means Ingress; Egress-only does not isolate ingress', () => {
    expect(isIngressPolicy(np({ podSelector: {} }))).toBe(true);
    expect(isIngressPolicy(np({ podSelector: {}, policyTypes: ['Egress'] }))).toBe(false);
  });

  it('not selected: everything allowed; other namespaces ignored', () => {
    expect(evaluateIngress(pod, 15443, [np({ podSelector: {} }, 'sample')])).toEqual({ policies: [], portAdmitted: true, external: { kind: 'anywhere' } });
  });

  it('ports: numbers, endPort ranges, named ports, protocol', () => {
    const admits = (ports: unknown[]) => evaluateIngress(pod, 15443, [np({ podSelector: {}, ingress: [{ ports }] })]).portAdmitted;
    expect(admits([{ port: 15443 }])).toBe(true);
    expect(admits([{ port: 15000, endPort: 15500 }])).toBe(true);
    expect(admits([{ port: 15000, endPort: 15400 }])).toBe(false);
    expect(admits([{ port: 'tls' }])).toBe(true);
    expect(admits([{ port: 'other' }])).toBe(false);
    expect(admits([{ port: 15443, protocol: 'UDP' }])).toBe(false);
    expect(admits([{ protocol: 'TCP' }])).toBe(true);
  });

  it('sources: no from = anywhere; pod/namespace peers = in-cluster only; ipBlocks = cidrs; policies add up to the widest', () => {
    const rule = (from: unknown[]) => np({ podSelector: { matchLabels: { app: 'gw' } }, ingress: [{ from }] });
    expect(evaluateIngress(pod, 15443, [rule([{ podSelector: {} }])]).external).toEqual({ kind: 'in-cluster-only' });
    expect(evaluateIngress(pod, 15443, [rule([{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }])]).external).toEqual({ kind: 'cidrs', cidrs: ['10.0.0.0/8 except 10.1.0.0/16'] });
    expect(evaluateIngress(pod, 15443, [rule([{ podSelector: {} }]), rule([])]).external).toEqual({ kind: 'anywhere' });
    const denyAll = evaluateIngress(pod, 15443, [np({ podSelector: {}, ingress: [] })]);
    expect(denyAll).toMatchObject({ portAdmitted: false, external: undefined });
  });
});
