import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/proxy-sync.ts';
import { findingKeys, fixtureObjects, memoryReaders, openFixture, runCheck, runFor } from '../helpers.ts';
import { findingRows, withIstiodDebug } from './edit.ts';

const synced = (proxy: string, clusterId: string | undefined, type?: string) => ({
  ...(clusterId ? { cluster_id: clusterId } : {}),
  proxy,
  ...(type ? { proxy_type: type } : {}),
  cluster_sent: 'c1',
  cluster_acked: 'c1',
  listener_sent: 'l1',
  listener_acked: 'l1',
  route_sent: 'r1',
  route_acked: 'r1',
  endpoint_sent: 'e1',
  endpoint_acked: 'e1',
});
const clusterz = JSON.stringify([{ id: 'cluster2', secretName: 'istio-system/istio-remote-secret-cluster2', syncStatus: 'synced' }]);

async function runWith(syncz: unknown[]) {
  const readers = memoryReaders(await fixtureObjects('multi-primary-healthy'));
  readers[0] = withIstiodDebug(readers[0], { syncz: JSON.stringify(syncz), clusterz });
  return runFor((await runCheck(check, readers)).runs, 'cluster1');
}

describe('control-plane/proxy-sync', () => {
  it.each(['cp-multi-primary', 'cp-istio-1.20'])('passes on %s (gateways without RDS are fine)', async (fixture) => {
    const { runs } = await runCheck(check, (await openFixture(fixture)).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('proxiesStale: a warning for a few, an error when most proxies of a cluster are stale', async () => {
    const few = await runWith([{ ...synced('a.ns', 'cluster1'), endpoint_acked: 'e0' }, synced('b.ns', 'cluster1'), synced('c.ns', 'cluster1')]);
    expect(few.findings.map((f) => [f.messageId, f.severity, f.data?.count])).toEqual([['proxiesStale', 'warning', 1]]);
    const most = await runWith([{ ...synced('a.ns', 'cluster1'), endpoint_acked: 'e0' }, { ...synced('b.ns', 'cluster1'), cluster_acked: '' }, synced('c.ns', 'cluster1')]);
    expect(most.findings.map((f) => [f.messageId, f.severity, f.data?.types])).toEqual([['proxiesStale', 'error', 'cluster, endpoint']]);
  });

  it('proxiesNotSent: CDS/LDS for anyone, RDS/EDS only for sidecars', async () => {
    const run = await runWith([
      { ...synced('gw.istio-system', 'cluster1', 'router'), route_sent: '', route_acked: '' },
      { ...synced('app.ns', 'cluster1', 'sidecar'), route_sent: '', route_acked: '' },
      { ...synced('old.ns', 'cluster1'), listener_sent: '', listener_acked: '' },
    ]);
    expect(run.findings.map((f) => [f.messageId, f.data?.count, f.data?.types])).toEqual([['proxiesNotSent', 2, 'listener, route']]);
  });

  it('proxyUnknownCluster: a cluster id neither local nor in clusterz; the local id always counts (no local clusterz entry before 1.22)', async () => {
    const run = await runWith([synced('a.ns', 'cluster1'), synced('b.ns', 'cluster2'), synced('c.ns', 'Kubernetes')]);
    expect(run.findings.map((f) => [f.messageId, f.data?.proxyCluster])).toEqual([['proxyUnknownCluster', 'Kubernetes']]);
  });

  it('1.10 entries without cluster_id are counted for the local cluster', async () => {
    const run = await runWith([synced('a.ns', undefined)]);
    expect(run.findings).toEqual([]);
  });

  it('ztunnels are judged on the workload types only: no CDS/LDS expected (1.24+ resources and older entries)', async () => {
    const ADDRESS = 'type.googleapis.com/istio.workload.Address';
    const AUTHZ = 'type.googleapis.com/istio.security.Authorization';
    const healthy = await runWith([
      synced('sleep-1.sample', 'cluster1', 'sidecar'),
      { cluster_id: 'cluster1', proxy: 'ztunnel-abcde.istio-system', proxy_type: 'ztunnel' },
      { cluster_id: 'cluster1', proxy: 'ztunnel-fghij.istio-system', proxy_type: 'ztunnel', resources: { [ADDRESS]: { sent: 'a', acked: 'a' }, [AUTHZ]: { sent: 'z', acked: 'z' } } },
      // Before proxy_type: the pod name tells a ztunnel.
      { cluster_id: 'cluster1', proxy: 'ztunnel-old.istio-system' },
    ]);
    expect(healthy.findings).toEqual([]);

    const notSent = await runWith([{ cluster_id: 'cluster1', proxy: 'ztunnel-abcde.istio-system', proxy_type: 'ztunnel', resources: { [ADDRESS]: { sent: '', acked: '' }, [AUTHZ]: { sent: 'z', acked: 'z' } } }]);
    expect(findingRows(check, [notSent])).toEqual(['control-plane/proxy-sync cluster1 proxiesNotSent warning']);
    expect(notSent.findings[0].data).toMatchObject({ types: ADDRESS, proxies: 'ztunnel-abcde.istio-system' });
  });

  it('1.24+ resources: a type the proxy does not watch is not NOT SENT, a watched one never sent is', async () => {
    const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
    const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
    // A gateway watching CDS/LDS only, whose flat route/endpoint fields are empty.
    const gateway = { cluster_id: 'cluster1', proxy: 'gw-1.istio-system', proxy_type: 'router', cluster_sent: 'c', cluster_acked: 'c', listener_sent: 'l', listener_acked: 'l', resources: { [CDS]: { sent: 'c', acked: 'c' }, [LDS]: { sent: 'l', acked: 'l' } } };
    expect((await runWith([gateway])).findings).toEqual([]);
    const missing = await runWith([{ ...gateway, resources: { [CDS]: { sent: 'c', acked: 'c' }, [LDS]: { sent: '', acked: '' } } }]);
    expect(findingRows(check, [missing])).toEqual(['control-plane/proxy-sync cluster1 proxiesNotSent warning']);
  });

  it('skips a cluster of unknown role (no istiod found)', () => {
    expect(check.appliesTo!({ name: 'c', role: 'unknown', revisions: [], reachable: true, via: 'snapshot' }, { model: 'unknown', multiNetwork: false })).toMatch(/role unknown/);
  });
});
