import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import {
  findEastWestGateways,
  gatewayAddresses,
  inNamespace,
  isOlderThan,
  meshConfigOf,
  parseInjectionPath,
  podNotReadyReason,
  versionFromImage,
} from '../../src/mesh/istio-objects.ts';

const service = (name: string, labels: Record<string, string>, spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'istio-system', labels },
  spec,
  status,
});

describe('istio-objects', () => {
  it.each([
    ['docker.io/istio/pilot:1.29.1', '1.29.1'],
    ['gcr.io/istio-release/pilot:1.22.3-distroless', '1.22.3'],
    ['registry:5000/istio/pilot:1.20.0@sha256:abcd', '1.20.0'],
    ['docker.io/istio/pilot:latest', undefined],
    ['docker.io/istio/pilot', undefined],
    [undefined, undefined],
  ])('versionFromImage(%s) = %s', (image, version) => {
    expect(versionFromImage(image)).toBe(version);
  });

  it('compares versions', () => {
    expect(isOlderThan('1.12.9', 1, 13)).toBe(true);
    expect(isOlderThan('1.13.0', 1, 13)).toBe(false);
    expect(isOlderThan(undefined, 1, 13)).toBe(false);
  });

  it('parses both injection path forms', () => {
    expect(parseInjectionPath('/inject/cluster/c-2/net/network2')).toEqual({ clusterId: 'c-2', network: 'network2' });
    expect(parseInjectionPath('https://x:15017/inject/cluster/c2/net/n2')).toEqual({ clusterId: 'c2', network: 'n2' });
    expect(parseInjectionPath('/inject/:ENV:cluster=c3:ENV:net=n3')).toEqual({ clusterId: 'c3', network: 'n3' });
    expect(parseInjectionPath('/inject')).toEqual({});
  });

  it('recognises gateways as istiod does, and look-alikes istiod ignores', () => {
    const found = findEastWestGateways([
      service('istio-ingressgateway', { istio: 'ingressgateway' }),
      service('istio-eastwestgateway', {}),
      service('cross-net', { 'topology.istio.io/network': 'n1', 'networking.istio.io/gatewayPort': '16443' }),
    ]);
    expect(found.map((g) => [g.service.metadata.name, g.recognisedByIstiod, g.network, g.gatewayPort])).toEqual([
      ['cross-net', true, 'n1', 16443],
      ['istio-eastwestgateway', false, undefined, 15443],
    ]);
  });

  it('collects gateway addresses: LB ip/hostname, externalIPs, NodePort node ExternalIPs', () => {
    const lb = service('gw', {}, { type: 'LoadBalancer', externalIPs: ['198.51.100.1'] }, { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { hostname: 'gw.example.com' }] } });
    expect(gatewayAddresses(lb)).toEqual(['10.0.0.1', '198.51.100.1', 'gw.example.com']);
    const nodePort = service('gw', {}, { type: 'NodePort' });
    nodePort.metadata.annotations = { 'traffic.istio.io/nodeSelector': '{"edge":"true"}' };
    const node = (name: string, labels: Record<string, string>, ip: string): KubeObject => ({
      metadata: { name, labels },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.9' }, { type: 'ExternalIP', address: ip }] },
    });
    expect(gatewayAddresses(nodePort, [node('a', { edge: 'true' }, '203.0.113.1'), node('b', {}, '203.0.113.2')])).toEqual(['203.0.113.1']);
  });

  it('words why a pod is not ready', () => {
    const pod = (statuses: unknown[], phase = 'Running'): KubeObject => ({ metadata: { name: 'p' }, status: { phase, containerStatuses: statuses } });
    expect(podNotReadyReason(pod([{ name: 'discovery', ready: false, state: { waiting: { reason: 'ImagePullBackOff' } } }]))).toBe('container discovery: ImagePullBackOff');
    expect(podNotReadyReason(pod([{ name: 'discovery', ready: false, state: { running: {} } }]))).toMatch(/readiness probe/);
    expect(podNotReadyReason(pod([], 'Pending'))).toBe('Pending');
  });

  it('reads mesh config, defaulting the trust domain, and tolerates garbage', () => {
    const cm = (mesh: string): KubeObject => ({ metadata: { name: 'istio' }, data: { mesh } });
    expect(meshConfigOf(cm('defaultConfig:\n  meshId: m1\ntrustDomainAliases: [old.local]\n'))).toMatchObject({ meshId: 'm1', trustDomain: 'cluster.local', trustDomainAliases: ['old.local'] });
    expect(meshConfigOf(cm('- a list'))).toBeUndefined();
    expect(meshConfigOf(cm('a: [unclosed'))).toBeUndefined();
  });

  it('inNamespace gives what a filter by namespace gives, in list order, and follows a list that grew', () => {
    const obj = (name: string, namespace?: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(namespace ? { namespace } : {}) } });
    const list = [obj('a', 'ns1'), obj('b', 'ns2'), obj('c', 'ns1'), obj('d')];
    expect(inNamespace(list, 'ns1').map((o) => o.metadata.name)).toEqual(['a', 'c']);
    expect(inNamespace(list, 'ns2').map((o) => o.metadata.name)).toEqual(['b']);
    expect(inNamespace(list, undefined).map((o) => o.metadata.name)).toEqual(['d']);
    expect(inNamespace(list, 'ns3')).toEqual([]);
    list.push(obj('e', 'ns1'));
    expect(inNamespace(list, 'ns1').map((o) => o.metadata.name)).toEqual(['a', 'c', 'e']);
  });
});
