import { describe, expect, it } from 'vitest';
import { parseSyncz, xdsState } from '../../../src/mesh/debug/syncz.ts';

const states = (body: unknown) => parseSyncz(JSON.stringify(body)).map((p) => Object.fromEntries(p.types.map((t) => [t.type, t.state])));

describe('parseSyncz', () => {
  it('1.10 format: no cluster_id, nonces with a version prefix, a type never sent', () => {
    const [proxy] = parseSyncz(
      JSON.stringify([
        { proxy: 'istio-egressgateway-5547fcc8fc-5bbtd.istio-system', istio_version: '1.10.3', cluster_sent: 'v1=a', cluster_acked: 'v1=a', listener_sent: 'v1=b', listener_acked: 'v1=b' },
      ]),
    );
    expect(proxy.clusterId).toBeUndefined();
    expect(proxy.istioVersion).toBe('1.10.3');
    expect(Object.fromEntries(proxy.types.map((t) => [t.type, t.state]))).toEqual({ cluster: 'SYNCED', listener: 'SYNCED', route: 'NOT SENT', endpoint: 'NOT SENT' });
  });

  it('1.11+ flat format with cluster_id: sent != acked is STALE', () => {
    expect(states([{ cluster_id: 'Kubernetes', proxy: 'a.ns', cluster_sent: 'x', cluster_acked: 'x', listener_sent: 'y', listener_acked: 'y', route_sent: 'z', route_acked: 'z', endpoint_sent: 'n2', endpoint_acked: 'n1' }])).toEqual([
      { cluster: 'SYNCED', listener: 'SYNCED', route: 'SYNCED', endpoint: 'STALE' },
    ]);
  });

  it('1.24+ resources win over the flat fields and add other types', () => {
    const [proxy] = parseSyncz(
      JSON.stringify([
        {
          cluster_id: 'cluster2',
          proxy: 'sleep-1.sample',
          proxy_type: 'sidecar',
          cluster_sent: 'a',
          cluster_acked: 'a',
          resources: {
            'type.googleapis.com/envoy.config.cluster.v3.Cluster': { sent: 'b', acked: 'a', lastError: 'rejected' },
            'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret': { sent: 's', acked: 's' },
          },
        },
      ]),
    );
    expect(proxy.proxyType).toBe('sidecar');
    expect(proxy.types.find((t) => t.type === 'cluster')).toMatchObject({ state: 'STALE', lastError: 'rejected' });
    expect(proxy.types.find((t) => t.type.endsWith('.Secret'))?.state).toBe('SYNCED');
  });

  it('xdsState follows istioctl proxy-status', () => {
    expect(xdsState('', '')).toBe('NOT SENT');
    expect(xdsState('a', 'a')).toBe('SYNCED');
    expect(xdsState('a', '')).toBe('STALE');
  });

  it('throws with the reason on shapes no Istio serves', () => {
    expect(() => parseSyncz('nope')).toThrow(/not JSON/);
    expect(() => parseSyncz('{}')).toThrow(/expected a JSON array/);
    expect(() => parseSyncz('[{"id": 1}]')).toThrow(/entry 0/);
    expect(parseSyncz('null')).toEqual([]);
  });
});
