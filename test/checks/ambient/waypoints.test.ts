import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/ambient/waypoints.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { findingKeys, objectNamed, runCheck, runFor, type ClusterObjects } from '../helpers.ts';
import { ambientObjects, ambientReaders } from './ambient-mesh.ts';

/** A waypoint as `istioctl waypoint apply -n sample --name waypoint` makes it, with its Service and a pod; the Service global as the failover guide says. */
function addWaypoint(objects: Map<string, ClusterObjects>, cluster: string, opts: { global?: boolean; ready?: boolean } = {}): void {
  const objs = objects.get(cluster)!;
  const gateway: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'waypoint', namespace: 'sample', labels: { 'istio.io/waypoint-for': 'service' } },
    spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    status: { addresses: [{ type: 'IPAddress', value: '10.96.10.90' }], conditions: [{ type: 'Programmed', status: 'True' }] },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'waypoint', namespace: 'sample', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint', ...(opts.global === false ? {} : { 'istio.io/global': 'true' }) } },
    spec: { clusterIP: '10.96.10.90', ports: [{ name: 'mesh', port: 15008 }], selector: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
  };
  const ready = opts.ready !== false;
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'waypoint-6b7c8d9f5-x2x2x', namespace: 'sample', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
    spec: { containers: [{ name: 'istio-proxy' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], containerStatuses: [{ name: 'istio-proxy', ready, restartCount: 0 }] },
  };
  objs.k8sgateways!.push(gateway);
  objs.services!.push(service);
  objs.pods!.push(pod);
  objectNamed(objects, cluster, 'services', 'helloworld').metadata.labels!['istio.io/use-waypoint'] = 'waypoint';
}

describe('ambient/waypoints', () => {
  it('passes without waypoints and with universal global ones', async () => {
    const none = await runCheck(check, await ambientReaders(await ambientObjects()));
    expect(runFor(none.runs, '*').outcome).toBe('pass');
    const objects = await ambientObjects();
    addWaypoint(objects, 'cluster1');
    addWaypoint(objects, 'cluster2');
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual([]);
    expect(runFor(runs, '*').outcome).toBe('pass');
  });

  it('waypointNotGlobal when the waypoint Service lacks istio.io/global (ambient-waypoint-not-global)', async () => {
    const objects = await ambientObjects();
    addWaypoint(objects, 'cluster1');
    addWaypoint(objects, 'cluster2', { global: false });
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster2:waypointNotGlobal']);
  });

  it('waypointDiffers when only one cluster names a waypoint; waypointMissing; waypointNotReady', async () => {
    const objects = await ambientObjects();
    addWaypoint(objects, 'cluster1', { ready: false });
    const { runs } = await runCheck(check, await ambientReaders(objects));
    expect(findingKeys(runs)).toEqual(['cluster1:waypointNotReady', 'cluster2:waypointDiffers']);

    const missing = await ambientObjects();
    addWaypoint(missing, 'cluster1');
    addWaypoint(missing, 'cluster2');
    missing.get('cluster2')!.k8sgateways = missing.get('cluster2')!.k8sgateways!.filter((g) => g.metadata.name !== 'waypoint');
    const second = await runCheck(check, await ambientReaders(missing));
    expect(findingKeys(second.runs)).toEqual(['cluster2:waypointMissing']);
  });
});
